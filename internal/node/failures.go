package node

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
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
// dropped; a failed proposal is logged (the next update led with the
// replica disabled reports again), and one the state machine refused
// ends the local disabling (the replica keeps its state).
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
		err := cl.proposeRetrying(ctx, op)
		if err == nil || ctx.Err() != nil {
			return
		}
		cl.n.log.Warn("reporting a failed replica to consensus failed", "collection", coll, "shard", shard, "peer", peer, "err", err)
		if refused(err) {
			if c, lerr := cl.n.localCollection(coll); lerr == nil {
				c.ReportRefused(shard, peer, from)
			}
		}
	})
	if !started {
		cl.reports.end(k)
	}
}

// readBarrier returns once this peer applied every consensus decision
// made before the call (collection.Topology's ReadBarrier).
func (cl *clusterMode) readBarrier(ctx context.Context) error {
	if cl.cons == nil {
		return errors.New("consensus is not running")
	}
	return cl.cons.Barrier(ctx)
}

// Report retries: a proposal sent to a leader that just died is lost
// without an answer, so each attempt is short and a lost one is sent again
// (to the leader elected meanwhile) until it commits, the state machine
// refuses it, or reportGiveUp passes. A coordinator waits 10 s for the
// failed replica to leave Active: the first attempts must fit in that.
var (
	reportAttempt = 2 * time.Second
	reportGiveUp  = time.Minute
)

// refused reports whether a proposal's error is the state machine's
// refusal rather than a timeout or no leader.
func refused(err error) bool {
	k := point.KindOf(err)
	return k != point.KindTimeout && k != point.KindInternal
}

// proposeRetrying proposes op until it is applied or refused: a timeout
// or a dropped proposal (no leader yet) is tried again after a short wait.
func (cl *clusterMode) proposeRetrying(ctx context.Context, op cluster.Op) error {
	deadline := time.Now().Add(reportGiveUp)
	wait := 50 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, reportAttempt)
		_, err := cl.propose(actx, op)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case refused(err), time.Now().After(deadline):
			return err // refused by the state machine, or given up
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}
