package node

import (
	"reflect"
	"testing"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
)

// TestReplicaCheckClocks: a replica counts as behind only for a tick
// another replica had a round before and it still lacks; a replica filled
// by records counts its cutoff as seen.
func TestReplicaCheckClocks(t *testing.T) {
	a, b := ops.ClockKey{PeerID: 1, ClockID: 0}, ops.ClockKey{PeerID: 2, ClockID: 3}
	eff := ops.RecoveryPoint{a: 5}.Held(ops.RecoveryPoint{a: 3, b: 9})
	if eff[a] != 5 || eff[b] != 9 || len(eff) != 2 {
		t.Fatalf("effective clocks %v", eff)
	}
	if got := ops.RecoveryPoint(nil).Held(nil); got == nil || len(got) != 0 {
		t.Fatalf("empty: %v", got)
	}
	before := ops.RecoveryPoint{a: 7, b: 4}
	// Caught up on a (an update in flight a round ago), not on b.
	still := stillMissing(before, ops.RecoveryPoint{a: 8, b: 3})
	if len(still) != 1 || still[b] != 4 {
		t.Fatalf("still missing %v, want only clock b at 4", still)
	}
	if got := stillMissing(nil, ops.RecoveryPoint{}); len(got) != 0 {
		t.Fatalf("nothing missing before: %v", got)
	}
	// A busy clock: others are always a tick ahead, yet the replica has
	// what they had a round ago.
	if got := stillMissing(ops.RecoveryPoint{a: 100}, ops.RecoveryPoint{a: 100}); len(got) != 0 {
		t.Fatalf("busy clock flagged: %v", got)
	}
}

// TestReplicaCheckTargets: the check looks at every local Active replica
// with another Active replica on a healthy peer, a transfer's source
// included (a source behind the others must be found, or every target it
// fills inherits its gap); not at a replica receiving a transfer, nor
// one whose other replicas are all down.
func TestReplicaCheckTargets(t *testing.T) {
	s := cluster.New()
	active := cluster.ReplicaActive
	log := []cluster.Op{
		cluster.AddPeer{ID: 1, URI: "http://p1:6335"}, cluster.AddPeer{ID: 2, URI: "http://p2:6335"}, cluster.AddPeer{ID: 3, URI: "http://p3:6335"},
		cluster.CreateCollection{Name: "c", Config: []byte(`{}`), ShardNumber: 3, ReplicationFactor: 3, WriteConsistencyFactor: 1,
			Placement: map[cluster.ShardID][]cluster.PeerID{0: {1, 2, 3}, 1: {1, 2, 3}, 2: {1, 2}}},
	}
	for sh, peers := range map[cluster.ShardID][]cluster.PeerID{0: {1, 2, 3}, 1: {1, 2, 3}, 2: {1, 2}} {
		for _, p := range peers {
			log = append(log, cluster.SetReplicaState{Collection: "c", Shard: sh, Peer: p, State: active})
		}
	}
	log = append(log,
		cluster.SetReplicaState{Collection: "c", Shard: 0, Peer: 3, State: cluster.ReplicaDead},
		cluster.StartTransfer{Collection: "c", Transfer: cluster.Transfer{Shard: 0, From: 1, To: 3, Sync: true, Method: cluster.TransferWALDelta}},
		cluster.SetReplicaState{Collection: "c", Shard: 1, Peer: 1, State: cluster.ReplicaDead},
		cluster.StartTransfer{Collection: "c", Transfer: cluster.Transfer{Shard: 1, From: 2, To: 1, Sync: true, Method: cluster.TransferWALDelta}},
	)
	for _, op := range log {
		if _, err := s.Apply(op); err != nil {
			t.Fatalf("%T: %v", op, err)
		}
	}
	healthy := func(p uint64) bool { return p != 3 }
	got := map[cluster.ShardID][]uint64{}
	for _, tg := range checkTargets(s, 1, healthy) {
		got[tg.key.shard] = tg.others
	}
	want := map[cluster.ShardID][]uint64{0: {2}, 2: {2}} // shard 0: the source of a transfer; shard 1: receiving
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("targets %v, want %v", got, want)
	}
	if got := checkTargets(s, 1, func(uint64) bool { return false }); len(got) != 0 {
		t.Fatalf("targets with every other peer down: %v", got)
	}
}

// TestReceivingAgain: a finished transfer's switch-over ends early once
// consensus records a new transfer of the shard to the same target (its
// replica marked Dead again): not for another shard or target.
func TestReceivingAgain(t *testing.T) {
	s := cluster.New()
	log := []cluster.Op{
		cluster.AddPeer{ID: 1, URI: "http://p1:6335"}, cluster.AddPeer{ID: 2, URI: "http://p2:6335"}, cluster.AddPeer{ID: 3, URI: "http://p3:6335"},
		cluster.CreateCollection{Name: "c", Config: []byte(`{}`), ShardNumber: 2, ReplicationFactor: 3, WriteConsistencyFactor: 1,
			Placement: map[cluster.ShardID][]cluster.PeerID{0: {1, 2, 3}, 1: {1, 2, 3}}},
	}
	for sh := range cluster.ShardID(2) {
		for p := range cluster.PeerID(3) {
			log = append(log, cluster.SetReplicaState{Collection: "c", Shard: sh, Peer: p + 1, State: cluster.ReplicaActive})
		}
	}
	for _, op := range log {
		if _, err := s.Apply(op); err != nil {
			t.Fatalf("%T: %v", op, err)
		}
	}
	cl := &clusterMode{state: s}
	if cl.receivingAgain("c", 0, 2) {
		t.Fatal("no transfer, yet receiving")
	}
	for _, op := range []cluster.Op{
		cluster.SetReplicaState{Collection: "c", Shard: 0, Peer: 2, State: cluster.ReplicaDead},
		cluster.StartTransfer{Collection: "c", Transfer: cluster.Transfer{Shard: 0, From: 1, To: 2, Sync: true, Method: cluster.TransferWALDelta}},
	} {
		if _, err := s.Apply(op); err != nil {
			t.Fatalf("%T: %v", op, err)
		}
	}
	for _, tc := range []struct {
		shard uint32
		peer  uint64
		want  bool
	}{{0, 2, true}, {1, 2, false}, {0, 3, false}, {0, 1, false}} {
		if got := cl.receivingAgain("c", collection.ShardID(tc.shard), tc.peer); got != tc.want {
			t.Errorf("shard %d to peer %d: %v, want %v", tc.shard, tc.peer, got, tc.want)
		}
	}
	if cl.receivingAgain("nope", 0, 2) {
		t.Fatal("an unknown collection is receiving")
	}
}
