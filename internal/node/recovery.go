package node

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
)

// Automatic recovery (Qdrant's sync_local_state): a Dead replica on this
// peer, which is up since it runs this, gets a transfer from an Active
// replica on a healthy peer, proposed by this peer: wal_delta, which
// falls back to stream_records when the source's WAL does not cover the
// gap. The replica goes Dead -> Recovery (or Partial) -> Active. At most
// storage.performance.incoming_shard_transfers_limit transfers run to a
// peer and outgoing_shard_transfers_limit from it
// (Qdrant's storage.performance.incoming_shard_transfers_limit and
// outgoing_shard_transfers_limit, 1 by default); a transfer an operator
// asked for is not limited. A transfer to this peer whose source stays
// unhealthy for sourceDeadAfter is aborted here.

// transferLimits bound the transfers recovery runs per peer (0:
// unlimited).
type transferLimits struct{ in, out int }

// limitOf reads a configured limit: nil is 1 (Qdrant's default), a
// negative one unlimited (0).
func limitOf(v *int) int {
	switch {
	case v == nil:
		return 1
	case *v < 0:
		return 0
	}
	return *v
}

// under reports whether n transfers leave room for one more under limit.
func under(n, limit int) bool { return limit <= 0 || n < limit }

const (
	sourceDeadAfter = 10 * time.Second
	// recoveryPropose bounds one proposal of a recovery transfer.
	recoveryPropose = 5 * time.Second
)

// healthy reports whether peer answered its latest health check.
func (cl *clusterMode) healthy(peer uint64) bool {
	if cl.health == nil {
		return false
	}
	h, ok := cl.health()[peer]
	return ok && h.Healthy()
}

// recover proposes recovery transfers for this peer's Dead replicas and
// aborts the transfers to it whose source died.
func (cl *clusterMode) recover(ctx context.Context) {
	self := cluster.PeerID(cl.opts.PeerID)
	var starts []cluster.StartTransfer
	var aborts []cluster.AbortTransfer
	now := time.Now()
	cl.mu.Lock()
	in, out := map[cluster.PeerID]int{}, map[cluster.PeerID]int{}
	names := cl.state.CollectionNames()
	for _, name := range names {
		c, _ := cl.state.Collection(name)
		for _, t := range c.Transfers {
			in[t.To]++
			out[t.From]++
		}
	}
	seen := map[transferID]bool{}
	for _, name := range names {
		c, _ := cl.state.Collection(name)
		busy := map[cluster.ShardID]bool{}
		for _, t := range c.Transfers {
			busy[t.Shard] = true
			if t.To != self {
				continue
			}
			id := transferID{collection: name, key: t.Key()}
			seen[id] = true
			if cl.healthy(uint64(t.From)) {
				delete(cl.xfers.deadSinceMap(), id)
				continue
			}
			since, ok := cl.xfers.deadSinceMap()[id]
			if !ok {
				cl.xfers.deadSinceMap()[id] = now
			} else if now.Sub(since) >= sourceDeadAfter {
				aborts = append(aborts, cluster.AbortTransfer{Collection: name, Key: t.Key()})
			}
		}
		for _, id := range slices.Sorted(maps.Keys(c.Shards)) {
			r := c.Shards[id]
			if r[self] != cluster.ReplicaDead || busy[id] || !under(in[self], cl.limits.in) {
				continue
			}
			for _, p := range r.Peers() {
				if p == self || r[p] != cluster.ReplicaActive || !under(out[p], cl.limits.out) || !cl.healthy(uint64(p)) {
					continue
				}
				starts = append(starts, cluster.StartTransfer{Collection: name, Transfer: cluster.Transfer{Shard: id, From: p, To: self, Sync: true, Method: cluster.TransferWALDelta}})
				in[self]++
				out[p]++
				break
			}
		}
	}
	for id := range cl.xfers.deadSinceMap() {
		if !seen[id] {
			delete(cl.xfers.deadSinceMap(), id)
		}
	}
	cl.mu.Unlock()
	for _, op := range aborts {
		cl.n.log.Warn("the source of a shard transfer to this peer is down; aborting the transfer", "collection", op.Collection, "shard", op.Key.Shard, "from", op.Key.From)
		pctx, cancel := context.WithTimeout(ctx, recoveryPropose)
		if _, err := cl.propose(pctx, op); err != nil && ctx.Err() == nil {
			cl.n.log.Warn("aborting the shard transfer failed", "collection", op.Collection, "shard", op.Key.Shard, "err", err)
		}
		cancel()
	}
	for _, op := range starts {
		cl.n.log.Info("recovering a dead replica of this peer", "collection", op.Collection, "shard", op.Transfer.Shard, "from", op.Transfer.From, "method", op.Transfer.Method)
		pctx, cancel := context.WithTimeout(ctx, recoveryPropose)
		if _, err := cl.propose(pctx, op); err != nil && ctx.Err() == nil {
			cl.n.log.Warn("proposing the recovery of a dead replica failed; it is tried again", "collection", op.Collection, "shard", op.Transfer.Shard, "err", err)
		}
		cancel()
	}
}

// deadSinceMap is x.deadSince, made on first use. The caller holds cl.mu
// (recover is its only user, on one goroutine).
func (x *transferRuns) deadSinceMap() map[transferID]time.Time {
	if x.deadSince == nil {
		x.deadSince = map[transferID]time.Time{}
	}
	return x.deadSince
}
