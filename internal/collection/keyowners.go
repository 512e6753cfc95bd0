package collection

import (
	"context"
	"slices"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// splitUpdate is layout.splitOp, except for an update of existing points
// by id (set or delete payload, update or delete vectors, delete) sent to
// several shard keys of a custom collection: each id goes only to the
// keys whose shards hold it (found by a lookup first), an id no key holds
// to the first key, so that a payload set on points spread over the keys
// reaches each where it lives and succeeds, as Qdrant's
// test_set_payload_with_multiple_shard_keys_and_point_ids expects.
func (c *Collection) splitUpdate(ctx context.Context, l *layout, op *ops.Operation) ([]*ops.Operation, error) {
	r := RoutingOf(ctx)
	ids := byIDs(op)
	if !l.custom || len(r.ShardKeys) < 2 || r.Fallback != "" || op.Kind == ops.Upsert || ids == nil {
		return l.splitOp(op, r)
	}
	for _, k := range r.ShardKeys {
		if _, ok := l.keys[k]; !ok {
			return nil, errKeyNotFound(k)
		}
	}
	owners := map[point.ID][]ShardKey{}
	for _, k := range r.ShardKeys {
		held, err := c.heldIDs(ctx, l, k, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range held {
			owners[id] = append(owners[id], k)
		}
	}
	out := make([]*ops.Operation, len(l.sets))
	for i, k := range r.ShardKeys {
		sub := restrictIDs(op, func(id point.ID) bool {
			ks := owners[id]
			return slices.Contains(ks, k) || len(ks) == 0 && i == 0
		})
		if sub == nil {
			continue
		}
		parts, err := l.splitOp(sub, Routing{Ordering: r.Ordering, ShardKeys: []ShardKey{k}})
		if err != nil {
			return nil, err
		}
		for j, p := range parts {
			if p != nil {
				out[j] = p
			}
		}
	}
	return out, nil
}

// byIDs returns the point ids an update addresses by id, nil for one
// addressed otherwise.
func byIDs(op *ops.Operation) []point.ID {
	switch {
	case len(op.Vectors) > 0:
		ids := make([]point.ID, len(op.Vectors))
		for i, v := range op.Vectors {
			ids[i] = v.ID
		}
		return ids
	case op.Filter == nil && len(op.IDs) > 0 && len(op.Points) == 0:
		return op.IDs
	}
	return nil
}

// restrictIDs returns a copy of op that addresses only the ids keep
// accepts, nil when none is left.
func restrictIDs(op *ops.Operation, keep func(point.ID) bool) *ops.Operation {
	cp := *op
	if len(op.Vectors) > 0 {
		cp.Vectors = nil
		for _, v := range op.Vectors {
			if keep(v.ID) {
				cp.Vectors = append(cp.Vectors, v)
			}
		}
		if len(cp.Vectors) == 0 {
			return nil
		}
		return &cp
	}
	cp.IDs = nil
	for _, id := range op.IDs {
		if keep(id) {
			cp.IDs = append(cp.IDs, id)
		}
	}
	if len(cp.IDs) == 0 {
		return nil
	}
	return &cp
}

// heldIDs returns which of ids the shards of key k hold, read from one
// replica of each shard as any read is.
func (c *Collection) heldIDs(ctx context.Context, l *layout, k ShardKey, ids []point.ID) ([]point.ID, error) {
	parts, err := l.retrieveParts(Routing{ShardKeys: []ShardKey{k}}, ids)
	if err != nil {
		return nil, err
	}
	var out []point.ID
	none, noVec := ops.PayloadSelector{}, ops.VectorSelector{}
	for _, p := range parts {
		rs, part := p.rs, p.ids
		recs, err := readSet(ctx, c, rs, RoutingOf(ctx).Consistency,
			func(sh *shard.Shard) ([]Record, error) { return retrieveLocal(ctx, sh, part, none, noVec) },
			func(r Remote) ([]Record, error) { return r.Retrieve(ctx, c.name, rs.id, part, none, noVec) },
			resolveRecords)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			out = append(out, rec.ID)
		}
	}
	return out, nil
}
