package cluster

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
)

func TestSuggestPlacementBalance(t *testing.T) {
	for _, tc := range []struct {
		shards, rf uint32
		peers      int
	}{
		{1, 1, 1}, {6, 1, 4}, {6, 2, 3}, {3, 3, 3}, {2, 5, 3}, {7, 2, 5}, {12, 3, 4}, {1, 2, 4},
	} {
		t.Run(fmt.Sprintf("shards=%d,rf=%d,peers=%d", tc.shards, tc.rf, tc.peers), func(t *testing.T) {
			var peers []PeerID
			for i := 1; i <= tc.peers; i++ {
				peers = append(peers, PeerID(i*10))
			}
			got := SuggestPlacement(tc.shards, tc.rf, peers, nil, "col")
			if len(got) != int(tc.shards) {
				t.Fatalf("%d shards placed, want %d", len(got), tc.shards)
			}
			load := map[PeerID]int{}
			wantReplicas := min(int(tc.rf), tc.peers)
			for s, ps := range got {
				if len(ps) != wantReplicas {
					t.Errorf("shard %d has %d replicas, want %d", s, len(ps), wantReplicas)
				}
				if !slices.IsSorted(ps) || len(slices.Compact(slices.Clone(ps))) != len(ps) {
					t.Errorf("shard %d peers %v not sorted and distinct", s, ps)
				}
				for _, p := range ps {
					load[p]++
				}
			}
			lo, hi := int(^uint(0)>>1), 0
			for _, p := range peers {
				lo, hi = min(lo, load[p]), max(hi, load[p])
			}
			if hi-lo > 1 {
				t.Errorf("unbalanced load %v", load)
			}
		})
	}
}

func TestSuggestPlacementDeterministic(t *testing.T) {
	peers := []PeerID{5, 1, 9, 3}
	load := map[PeerID]int{1: 2, 3: 0, 5: 1, 9: 0}
	a := SuggestPlacement(4, 2, peers, load, "name")
	b := SuggestPlacement(4, 2, []PeerID{3, 9, 1, 5}, maps.Clone(load), "name")
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("placement depends on peer order: %v vs %v", a, b)
	}
	// Existing load steers new replicas to the emptier peers first.
	if got := SuggestPlacement(1, 2, peers, load, "name")[0]; !reflect.DeepEqual(got, []PeerID{3, 9}) {
		t.Errorf("first shard on %v, want the unloaded peers [3 9]", got)
	}
}

// Qdrant breaks ties at random so that many one-shard collections do not
// all land on the same peer; the hash tie break must spread them too.
func TestSuggestPlacementSpreadsSmallCollections(t *testing.T) {
	peers := []PeerID{1, 2, 3, 4}
	used := map[PeerID]bool{}
	for i := range 32 {
		for _, ps := range SuggestPlacement(1, 1, peers, nil, fmt.Sprintf("c%d", i)) {
			for _, p := range ps {
				used[p] = true
			}
		}
	}
	if len(used) != len(peers) {
		t.Fatalf("32 one-shard collections used only peers %v", slices.Sorted(maps.Keys(used)))
	}
}

func TestSuggestPlacementNoPeers(t *testing.T) {
	got := SuggestPlacement(2, 1, nil, nil, "x")
	for s, ps := range got {
		if len(ps) != 0 {
			t.Errorf("shard %d placed on %v without peers", s, ps)
		}
	}
}
