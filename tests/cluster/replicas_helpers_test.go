package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/testkit"
)

// clusterInfo is GET /collections/{c}/cluster.
type clusterInfo struct {
	PeerID      uint64 `json:"peer_id"`
	ShardCount  int    `json:"shard_count"`
	LocalShards []struct {
		ShardID     uint32          `json:"shard_id"`
		ShardKey    json.RawMessage `json:"shard_key"`
		PointsCount int             `json:"points_count"`
		State       string          `json:"state"`
	} `json:"local_shards"`
	RemoteShards []struct {
		ShardID  uint32          `json:"shard_id"`
		ShardKey json.RawMessage `json:"shard_key"`
		PeerID   uint64          `json:"peer_id"`
		State    string          `json:"state"`
	} `json:"remote_shards"`
	ShardTransfers []json.RawMessage `json:"shard_transfers"`
}

func getClusterInfo(p *clustertest.Peer, coll string) (clusterInfo, error) {
	var ci clusterInfo
	err := p.Do(http.MethodGet, "/collections/"+coll+"/cluster", nil, &ci)
	return ci, err
}

// replicaStates is shard -> peer -> state, as one peer's cluster info
// says.
func (ci clusterInfo) replicaStates() map[uint32]map[uint64]string {
	out := map[uint32]map[uint64]string{}
	add := func(s uint32, p uint64, st string) {
		if out[s] == nil {
			out[s] = map[uint64]string{}
		}
		out[s][p] = st
	}
	for _, l := range ci.LocalShards {
		add(l.ShardID, ci.PeerID, l.State)
	}
	for _, r := range ci.RemoteShards {
		add(r.ShardID, r.PeerID, r.State)
	}
	return out
}

// waitReplicas waits until every running peer sees shards shards of
// replicas replicas each, all in state (e.g. Active), and returns the
// placement as the first peer sees it.
func waitReplicas(t *testing.T, peers []*clustertest.Peer, coll string, shards, replicas int, state string) map[uint32]map[uint64]string {
	t.Helper()
	var placement map[uint32]map[uint64]string
	testkit.Eventually(t, fmt.Sprintf("%d shards x %d %s replicas of %s on every peer", shards, replicas, state, coll), 60*time.Second, func() error {
		var first map[uint32]map[uint64]string
		for _, p := range peers {
			ci, err := getClusterInfo(p, coll)
			if err != nil {
				return fmt.Errorf("peer %d: %v", p.Index, err)
			}
			st := ci.replicaStates()
			if ci.ShardCount != shards || len(st) != shards {
				return fmt.Errorf("peer %d sees %d shards (%v), want %d", p.Index, ci.ShardCount, st, shards)
			}
			for s, r := range st {
				if len(r) != replicas {
					return fmt.Errorf("peer %d: shard %d has replicas %v", p.Index, s, r)
				}
				for peer, x := range r {
					if x != state {
						return fmt.Errorf("peer %d: shard %d replica on %d is %s", p.Index, s, peer, x)
					}
				}
			}
			if first == nil {
				first = st
			}
		}
		placement = first
		return nil
	})
	return placement
}

// peerIDs maps each peer's index to its cluster peer id.
func peerIDs(t *testing.T, peers []*clustertest.Peer) map[int]uint64 {
	t.Helper()
	out := map[int]uint64{}
	for _, p := range peers {
		st, err := p.Cluster()
		if err != nil {
			t.Fatalf("peer %d: %v", p.Index, err)
		}
		out[p.Index] = st.PeerID
	}
	return out
}

// p2pConns reads single replicas over P2P.
type p2pConns = clustertest.ReplicaReader

func newP2PConns(t *testing.T, c *clustertest.Cluster) *p2pConns {
	t.Helper()
	pc, err := clustertest.NewReplicaReader(c.Peers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pc.Close)
	return pc
}

// replicaDump reads one replica of one shard on one peer, over P2P.
func replicaDump(ctx context.Context, pc *p2pConns, peer uint64, coll string, shard uint32) (history.Dump, error) {
	return pc.Dump(ctx, peer, coll, shard)
}

// compareAllReplicas checks that every replica of every shard holds the
// same points, vectors and payloads, and returns the number of points.
func compareAllReplicas(t *testing.T, pc *p2pConns, coll string, placement map[uint32]map[uint64]string) int {
	t.Helper()
	ctx := context.Background()
	total := 0
	for _, s := range slices.Sorted(mapsKeys(placement)) {
		var reps []history.Replica
		for _, peer := range slices.Sorted(mapsKeys(placement[s])) {
			d, err := replicaDump(ctx, pc, peer, coll, s)
			if err != nil {
				t.Fatal(err)
			}
			reps = append(reps, history.Replica{Name: fmt.Sprintf("shard %d on peer %d", s, peer), Points: d})
		}
		if diffs := history.CompareReplicas(reps); len(diffs) > 0 {
			for _, d := range diffs[:min(len(diffs), 10)] {
				t.Errorf("%s", d)
			}
			t.Fatalf("shard %d: %d differences between replicas", s, len(diffs))
		}
		total += len(reps[0].Points)
	}
	return total
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// shardOf is the shard an id routes to in a collection of n auto shards.
func shardOf(n int, id uint64) uint32 {
	ids := make([]collection.ShardID, n)
	for i := range ids {
		ids[i] = collection.ShardID(i)
	}
	r := collection.NewRing(ids, collection.RingScale)
	return r.Shard(pointID(id))
}

// highestPeer is the highest peer id holding a replica of a shard.
func highestPeer(r map[uint64]string) uint64 {
	ps := slices.Sorted(mapsKeys(r))
	return ps[len(ps)-1]
}
