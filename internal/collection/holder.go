package collection

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// The shard holder: a collection's shards, each a ReplicaSet, and the
// rings that route point ids to them. The set of shards changes at run
// time (SetTopology, custom shard keys), so it lives in an immutable
// layout swapped atomically: a request loads the layout once and keeps it
// to the end, whatever changes meanwhile; changes are serialised by
// c.topoMu.

// layout is one immutable view of the collection's shards.
type layout struct {
	sets []*ReplicaSet          // by shard id, ascending
	pos  map[ShardID]int        // shard id -> index in sets
	ring *Ring                  // auto sharding: over every shard
	keys map[ShardKey][]ShardID // custom sharding: the shards of each key
	// rings of custom sharding, one per key over that key's shards.
	rings  map[ShardKey]*Ring
	custom bool
	// topo: a topology was set (cluster mode): updates are coordinated
	// over the replicas with clock tags; before it the collection is
	// standalone and its shards local.
	topo bool
	// pending: reopened from a layout a topology placed, before the next
	// SetTopology (updates are refused until it comes).
	pending  bool
	self     uint64
	wcf      int
	reporter FailureReporter
	barrier  func(ctx context.Context) error
}

// newLayout builds the layout of sets (any order) with the keys of custom
// sharding (keyOf: the key of a shard id, "" none).
func newLayout(sets []*ReplicaSet, custom bool, keyOf map[ShardID]ShardKey) *layout {
	l := &layout{custom: custom, pos: map[ShardID]int{}}
	l.sets = append([]*ReplicaSet(nil), sets...)
	slices.SortFunc(l.sets, func(a, b *ReplicaSet) int { return cmp.Compare(a.id, b.id) })
	var auto []ShardID
	for i, rs := range l.sets {
		l.pos[rs.id] = i
		if k := keyOf[rs.id]; k != "" {
			if l.keys == nil {
				l.keys = map[ShardKey][]ShardID{}
			}
			l.keys[k] = append(l.keys[k], rs.id)
		} else {
			auto = append(auto, rs.id)
		}
	}
	l.ring = NewRing(auto, RingScale)
	if len(l.keys) > 0 {
		l.rings = map[ShardKey]*Ring{}
		for k, ids := range l.keys {
			l.rings[k] = NewRing(ids, RingScale)
		}
	}
	return l
}

// keyOf returns the shard key of shard id ("" none).
func (l *layout) keyOf(id ShardID) ShardKey {
	for k, ids := range l.keys {
		if slices.Contains(ids, id) {
			return k
		}
	}
	return ""
}

// layout returns the collection's current layout.
func (c *Collection) layout() *layout { return c.lay.Load() }

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
func (l *layout) set(id ShardID) *ReplicaSet {
	if i, ok := l.pos[id]; ok {
		return l.sets[i]
	}
	return nil
}

// route returns the replica set that owns a point id among the auto
// shards (nil: none).
func (l *layout) route(id point.ID) *ReplicaSet {
	return l.set(l.ring.Shard(id))
}

// locals returns the local replicas, by shard id.
func (l *layout) locals() []*shard.Shard {
	out := make([]*shard.Shard, 0, len(l.sets))
	for _, rs := range l.sets {
		if sh, _ := rs.Local(); sh != nil {
			out = append(out, sh)
		}
	}
	return out
}

// locals returns the local replicas of the current layout, by shard id.
func (c *Collection) locals() []*shard.Shard { return c.layout().locals() }

// viewAll runs fn on a view of every local replica in turn.
func (c *Collection) viewAll(fn func(*shard.Reader)) {
	for _, s := range c.locals() {
		s.View(fn)
	}
}

// Shards returns the collection's replica sets, by shard id.
func (c *Collection) Shards() []*ReplicaSet { return append([]*ReplicaSet(nil), c.layout().sets...) }

// errKeyNotFound is Qdrant's error of a shard key the collection lacks.
func errKeyNotFound(k ShardKey) error {
	return point.Errorf(point.KindBadInput, "Shard key %s not found", k)
}

// writeTargets returns, for an update routed by r, the rings to split it
// over, each with the shards an operation addressed to every shard goes
// to, as Qdrant's split_by_shard: auto sharding takes no key ("Shard key
// k not found" otherwise); custom sharding needs one ("Shard key not
// specified"), and an update to several keys goes to each of them.
func (l *layout) writeTargets(r Routing) ([]target, error) {
	if !l.custom {
		if len(r.ShardKeys) > 0 {
			return nil, errKeyNotFound(r.ShardKeys[0])
		}
		ids := make([]ShardID, len(l.sets))
		for i, rs := range l.sets {
			ids[i] = rs.id
		}
		return []target{{ring: l.ring, all: ids}}, nil
	}
	keys := r.ShardKeys
	if len(keys) == 0 {
		return nil, point.Errorf(point.KindBadInput, "Shard key not specified")
	}
	if r.Fallback != "" {
		if _, ok := l.keys[keys[0]]; !ok {
			keys = []ShardKey{r.Fallback}
		} else {
			keys = keys[:1]
		}
	}
	var out []target
	for _, k := range keys {
		ids, ok := l.keys[k]
		if !ok {
			return nil, errKeyNotFound(k)
		}
		if len(ids) == 0 {
			return nil, point.Errorf(point.KindBadInput, "No shards found for shard key")
		}
		out = append(out, target{ring: l.rings[k], all: ids})
	}
	return out, nil
}

// readTargets returns the replica sets a read routed by r asks: the
// shards of the keys it names (a key the collection lacks is Qdrant's
// error), else every shard.
func (l *layout) readTargets(r Routing) ([]*ReplicaSet, error) {
	if len(r.ShardKeys) == 0 {
		return l.sets, nil
	}
	if !l.custom {
		return nil, errKeyNotFound(r.ShardKeys[0])
	}
	keys := r.ShardKeys
	if r.Fallback != "" {
		if _, ok := l.keys[keys[0]]; !ok {
			keys = []ShardKey{r.Fallback}
		} else {
			keys = keys[:1]
		}
	}
	seen := map[ShardID]bool{}
	var out []*ReplicaSet
	for _, k := range keys {
		ids, ok := l.keys[k]
		if !ok {
			return nil, errKeyNotFound(k)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, l.set(id))
			}
		}
	}
	slices.SortFunc(out, func(a, b *ReplicaSet) int { return cmp.Compare(a.id, b.id) })
	return out, nil
}

// target is one ring an update is split over and the shards an operation
// for every shard goes to.
type target struct {
	ring *Ring
	all  []ShardID
}

// splitOp cuts op into the operations of each shard, as routed by r: the
// points an operation names by id go to the shard that owns them; an
// operation addressed by a filter, or by a field or vector name, goes to
// every shard of its targets, as does one that names no point (so that
// every shard answers it as one shard did). The result is indexed as
// l.sets; nil: the shard has nothing to do.
func (l *layout) splitOp(op *ops.Operation, r Routing) ([]*ops.Operation, error) {
	var targets []target
	if !collectionWide(op.Kind) {
		var err error
		if targets, err = l.writeTargets(r); err != nil {
			return nil, err
		}
	}
	if len(l.sets) == 0 {
		return nil, point.Errorf(point.KindUnavailable, "The collection has no shard: the update was not applied")
	}
	out := make([]*ops.Operation, len(l.sets))
	if collectionWide(op.Kind) {
		// The payload schema and the vector names are the collection's:
		// every shard takes them, whatever shard keys the request names
		// (Qdrant applies them to all shards).
		for i := range out {
			out[i] = op
		}
		return out, nil
	}
	if len(l.sets) == 1 && len(targets) == 1 && len(targets[0].all) == 1 {
		out[0] = op
		return out, nil
	}
	for _, t := range targets {
		l.splitInto(out, op, t)
	}
	return out, nil
}

// collectionWide reports whether an operation of kind k changes the
// collection rather than points: its payload indexes or vector names.
func collectionWide(k ops.Kind) bool {
	switch k {
	case ops.CreateIndex, ops.DeleteIndex, ops.CreateVectorName, ops.DeleteVectorName:
		return true
	}
	return false
}

func (l *layout) splitInto(out []*ops.Operation, op *ops.Operation, t target) {
	part := func(id ShardID) *ops.Operation {
		i := l.pos[id]
		if out[i] == nil || out[i] == op {
			cp := *op
			cp.Points, cp.Vectors, cp.IDs = nil, nil, nil
			out[i] = &cp
		}
		return out[i]
	}
	switch {
	case len(op.Points) > 0:
		for _, p := range op.Points {
			o := part(t.ring.Shard(p.ID))
			o.Points = append(o.Points, p)
		}
	case len(op.Vectors) > 0:
		for _, v := range op.Vectors {
			o := part(t.ring.Shard(v.ID))
			o.Vectors = append(o.Vectors, v)
		}
	case op.Filter == nil && len(op.IDs) > 0:
		for _, id := range op.IDs {
			o := part(t.ring.Shard(id))
			o.IDs = append(o.IDs, id)
		}
	default:
		for _, id := range t.all {
			out[l.pos[id]] = op
		}
	}
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

// idsPart is the ids of a request that one shard owns.
type idsPart struct {
	rs  *ReplicaSet
	ids []point.ID
}

// retrieveParts splits ids by the shard that owns them, over the rings the
// routing targets: auto sharding's ring, or each shard key's (every key
// of a custom collection without one), in shard id order.
func (l *layout) retrieveParts(r Routing, ids []point.ID) ([]idsPart, error) {
	var rings []*Ring
	switch {
	case !l.custom:
		if len(r.ShardKeys) > 0 {
			return nil, errKeyNotFound(r.ShardKeys[0])
		}
		rings = []*Ring{l.ring}
	case len(r.ShardKeys) == 0:
		keys := make([]ShardKey, 0, len(l.rings))
		for k := range l.rings {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			rings = append(rings, l.rings[k])
		}
	default:
		targets, err := l.writeTargets(r)
		if err != nil {
			return nil, err
		}
		for _, t := range targets {
			rings = append(rings, t.ring)
		}
	}
	byShard := map[ShardID][]point.ID{}
	for _, ring := range rings {
		for _, id := range ids {
			s := ring.Shard(id)
			byShard[s] = append(byShard[s], id)
		}
	}
	out := make([]idsPart, 0, len(byShard))
	for s, part := range byShard {
		if rs := l.set(s); rs != nil {
			out = append(out, idsPart{rs: rs, ids: part})
		}
	}
	slices.SortFunc(out, func(a, b idsPart) int { return cmp.Compare(a.rs.id, b.rs.id) })
	return out, nil
}
