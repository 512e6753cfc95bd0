package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
)

// appliedWaiter is a peer that answers once it has applied the consensus
// log up to an index (p2p.RemotePeer).
type appliedWaiter interface {
	WaitApplied(ctx context.Context, commit, term uint64, timeout time.Duration) (bool, error)
}

// switchToPartial is Qdrant's recovered_switch_to_partial_confirm_remote,
// the last step of a wal_delta (or snapshot) transfer before its finish:
// the target, which received in Recovery (it takes only the forced
// updates of the source's proxy), is switched to Partial through
// consensus, and the source waits until the target has applied the
// switch. Every peer then applies the finish after the target is Partial:
// a peer that sees the target Active sends it updates it takes. Without
// this, a peer that applied the finish before the target sent it updates
// it refused (still Recovery by its own view): the peer reported the
// replica it had just recovered as failed, consensus marked it Dead, and
// a new recovery began, for ever while clients wrote. A target already
// Partial (stream_records, or a transfer restarted) is left as it is.
func (cl *clusterMode) switchToPartial(ctx context.Context, name string, t cluster.Transfer, to any) error {
	c, ok := cl.clusterCollection(name)
	if !ok || c.Shards[t.Shard][t.To] != cluster.ReplicaRecovery {
		return nil
	}
	from := cluster.ReplicaRecovery
	op := cluster.SetReplicaState{Collection: name, Shard: t.Shard, Peer: t.To, State: cluster.ReplicaPartial, FromState: &from}
	if err := cl.proposeRetrying(ctx, op); err != nil {
		return fmt.Errorf("switch the target replica from Recovery to Partial: %w", err)
	}
	w, ok := to.(appliedWaiter)
	if !ok || cl.cons == nil {
		return nil
	}
	st := cl.cons.Status()
	applied, err := w.WaitApplied(ctx, st.Applied, st.Term, transferSwitchWait)
	if err == nil && !applied {
		err = errors.New("it did not apply it in time")
	}
	if err != nil {
		return fmt.Errorf("the target peer %d did not confirm its replica is Partial: %w", t.To, err)
	}
	cl.n.log.Info("shard transfer target switched from Recovery to Partial", "collection", name, "shard", t.Shard, "from", t.From, "to", t.To, "index", st.Applied)
	return nil
}
