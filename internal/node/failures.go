package node

import (
	"context"
	"sync"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
)

// failReports are the replica failures being proposed to consensus, so
// that a replica failing many updates at once is reported once at a time.
type failReports struct {
	mu       sync.Mutex
	inFlight map[replicaKey]bool
}

// start reports whether k is not being reported yet, and marks it.
func (f *failReports) start(k replicaKey) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inFlight[k] {
		return false
	}
	if f.inFlight == nil {
		f.inFlight = map[replicaKey]bool{}
	}
	f.inFlight[k] = true
	return true
}

func (f *failReports) end(k replicaKey) {
	f.mu.Lock()
	delete(f.inFlight, k)
	f.mu.Unlock()
}

var _ collection.FailureReporter = (*clusterMode)(nil)

// ReplicaFailed proposes, in the background, that a replica which failed
// an update others applied is Dead, from the state it had (Qdrant's
// notify_peer_failure): the compare-and-set makes a stale report a no-op,
// and the state machine refuses to deactivate a shard's last Active
// replica. While one report of a replica is in flight, others are
// dropped; a failed proposal is logged (the next failure reports again).
func (cl *clusterMode) ReplicaFailed(coll string, shard collection.ShardID, peer uint64, from collection.ReplicaState, cause error) {
	k := replicaKey{collection: coll, shard: cluster.ShardID(shard), peer: cluster.PeerID(peer)}
	if !cl.reports.start(k) {
		return
	}
	cl.n.log.Warn("a replica failed an update; proposing it Dead", "collection", coll, "shard", shard, "peer", peer, "state", from, "err", cause)
	fromState := cluster.ReplicaState(from)
	op := cluster.SetReplicaState{Collection: coll, Shard: k.shard, Peer: k.peer, State: cluster.ReplicaDead, FromState: &fromState}
	started := cl.bg.do(func(ctx context.Context) {
		defer cl.reports.end(k)
		if _, err := cl.propose(ctx, op); err != nil && ctx.Err() == nil {
			cl.n.log.Warn("reporting a failed replica to consensus failed", "collection", coll, "shard", shard, "peer", peer, "err", err)
		}
	})
	if !started {
		cl.reports.end(k)
	}
}
