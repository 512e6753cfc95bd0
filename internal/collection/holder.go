package collection

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// The shard holder: a collection's shards, each a ReplicaSet, and the ring
// that routes point ids to them. The set of shards is fixed when the
// collection opens (resharding is a later issue), so c.shards and c.ring
// are read without a lock.

// shardDir is where shard id keeps its data.
func shardDir(dir string, id ShardID) string {
	return filepath.Join(dir, "shards", strconv.FormatUint(uint64(id), 10))
}

// shardCount is the number of shards cfg asks for: shard_number, at least
// one (a configuration saved before shard_number was honoured has 1).
func shardCount(cfg *Config) int {
	return max(int(cfg.Params.ShardNumber), 1)
}

// set returns the replica set of shard id (nil: no such shard).
func (c *Collection) set(id ShardID) *ReplicaSet {
	if int(id) < len(c.shards) {
		return c.shards[id]
	}
	return nil
}

// route returns the replica set that owns a point id.
func (c *Collection) route(id point.ID) *ReplicaSet {
	return c.shards[c.ring.Shard(id)]
}

// locals returns the local replicas, by shard id.
func (c *Collection) locals() []*shard.Shard {
	out := make([]*shard.Shard, 0, len(c.shards))
	for _, rs := range c.shards {
		if l, _ := rs.Local(); l != nil {
			out = append(out, l)
		}
	}
	return out
}

// viewAll runs fn on a view of every local replica in turn.
func (c *Collection) viewAll(fn func(*shard.Reader)) {
	for _, s := range c.locals() {
		s.View(fn)
	}
}

// Shards returns the collection's replica sets, by shard id.
func (c *Collection) Shards() []*ReplicaSet { return append([]*ReplicaSet(nil), c.shards...) }

// splitOp cuts op into the operations of each shard: the points an
// operation names by id go to the shard that owns them; an operation
// addressed by a filter, or by a field or vector name, goes to every
// shard, as does one that names no point (so that every shard answers it
// as one shard did). The result is indexed by shard id; nil: the shard has
// nothing to do.
func (c *Collection) splitOp(op *ops.Operation) []*ops.Operation {
	out := make([]*ops.Operation, len(c.shards))
	if len(c.shards) == 1 {
		out[0] = op
		return out
	}
	every := func() []*ops.Operation {
		for i := range out {
			out[i] = op
		}
		return out
	}
	part := func(i ShardID) *ops.Operation {
		if out[i] == nil {
			cp := *op
			cp.Points, cp.Vectors, cp.IDs = nil, nil, nil
			out[i] = &cp
		}
		return out[i]
	}
	switch {
	case len(op.Points) > 0:
		for _, p := range op.Points {
			o := part(c.ring.Shard(p.ID))
			o.Points = append(o.Points, p)
		}
	case len(op.Vectors) > 0:
		for _, v := range op.Vectors {
			o := part(c.ring.Shard(v.ID))
			o.Vectors = append(o.Vectors, v)
		}
	case op.Filter == nil && len(op.IDs) > 0:
		for _, id := range op.IDs {
			o := part(c.ring.Shard(id))
			o.IDs = append(o.IDs, id)
		}
	default:
		return every()
	}
	return out
}

// ErrInconsistentShards marks an update that some shards applied and
// others refused (Qdrant's InconsistentShardFailure).
var ErrInconsistentShards = errors.New("inconsistent shard failure")

// combine answers an update that went to several shards as Qdrant does:
// the highest operation id, the status of highest priority (wait_timeout
// over completed over acknowledged); when some shards failed, the first
// error, marked as an inconsistent failure if others succeeded.
func combine(results []UpdateResult, errs []error) (UpdateResult, error) {
	var first error
	failed, total := 0, 0
	var out UpdateResult
	for i, err := range errs {
		if results[i].Status == "" && err == nil {
			continue // the shard took no part
		}
		total++
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
			continue
		}
		out.OperationID = max(out.OperationID, results[i].OperationID)
		if statusPriority(results[i].Status) > statusPriority(out.Status) {
			out.Status = results[i].Status
		}
	}
	switch {
	case failed == 0:
		return out, nil
	case failed < total:
		ie := &inconsistentError{total: total, failed: failed, err: first}
		return UpdateResult{}, &point.Error{Kind: point.KindOf(first), Description: ie.Error(), Err: ie}
	}
	return UpdateResult{}, first
}

func statusPriority(s UpdateStatus) int {
	switch s {
	case Acknowledged:
		return 1
	case Completed:
		return 2
	case WaitTimeout:
		return 3
	}
	return 0
}

// inconsistentError is an update some of its shards applied; combine
// wraps it in a point.Error of the first failure's kind (a bad input stays
// a client error) with Qdrant's text.
type inconsistentError struct {
	total, failed int
	err           error
}

func (e *inconsistentError) Error() string {
	return fmt.Sprintf("%d out of %d shards failed to apply operation. First error captured: %v", e.failed, e.total, e.err)
}

func (e *inconsistentError) Unwrap() []error { return []error{ErrInconsistentShards, e.err} }

// updateShard hands one shard's part of an update to the replicas of rs
// that take updates. In this phase only the local replica applies it;
// remote replicas (ordering, clock tags, write_consistency_factor) come
// with the P2P points service.
func updateShard(ctx context.Context, rs *ReplicaSet, batch []*ops.Operation, wait bool) (uint64, error) {
	local, _ := rs.updatable()
	if local == nil {
		return 0, noReplica(rs.id, "local active")
	}
	if len(batch) == 1 {
		return local.Update(ctx, batch[0], wait)
	}
	return local.UpdateBatch(ctx, batch, wait)
}
