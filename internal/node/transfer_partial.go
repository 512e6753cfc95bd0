package node

import (
	"context"
	"fmt"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
)

// switchToPartial is Qdrant's recovered_switch_to_partial_confirm_remote,
// the last step of a wal_delta (or snapshot) transfer before its finish:
// the target, which received in Recovery (it takes only the forced
// updates of the source's proxy), is switched to Partial through
// consensus, and the source waits until every peer follows. Then a peer
// that applies the finish before the target does sends the target
// updates it takes (Partial), where a target still in Recovery refused
// them: the peer reported the replica it had just recovered as failed,
// consensus marked it Dead, and a new recovery began. A target already
// Partial (stream_records, or a transfer restarted) is left as it is.
func (cl *clusterMode) switchToPartial(ctx context.Context, name string, t cluster.Transfer) error {
	c, ok := cl.clusterCollection(name)
	if !ok || c.Shards[t.Shard][t.To] != cluster.ReplicaRecovery {
		return nil
	}
	from := cluster.ReplicaRecovery
	op := cluster.SetReplicaState{Collection: name, Shard: t.Shard, Peer: t.To, State: cluster.ReplicaPartial, FromState: &from}
	if err := cl.proposeRetrying(ctx, op); err != nil {
		return fmt.Errorf("switch the target replica from Recovery to Partial: %w", err)
	}
	cl.awaitFollowers(ctx, transferSwitchWait)
	return nil
}

// awaitFollowers waits (at most wait) until every healthy peer reported
// a commit index at least this peer's applied one, and then a moment
// more (switchGrace), for their collections to follow their state.
func (cl *clusterMode) awaitFollowers(ctx context.Context, wait time.Duration) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var applied uint64
	if cl.cons != nil {
		applied = cl.cons.Status().Applied
	}
	for wctx.Err() == nil && cl.health != nil {
		behind := false
		for peer, h := range cl.health() {
			if peer != cl.opts.PeerID && h.Healthy() && h.Commit < applied {
				behind = true
			}
		}
		if !behind {
			break
		}
		sleepCtx(wctx, 50*time.Millisecond)
	}
	sleepCtx(wctx, switchGrace)
}
