package shard

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
)

// seg is one segment of the shard. Appendable segments take new points and
// are searched exactly; sealed ones were built by the optimizer (with HNSW
// graphs once past the indexing threshold) and only lose points: an update
// of a point in a sealed segment moves it to an appendable one (copy on
// write). A frozen segment is being rebuilt by the optimizer and is treated
// as sealed until the rebuilt one replaces it.
type seg struct {
	id         uint64
	store      *segment.Store
	appendable bool
	frozen     bool

	// Persistence, owned by the update worker (and the optimizer's swap
	// under the write lock): the files holding the segment as of the last
	// manifest, and what changed since.
	dataFile    string
	deletesFile string
	vectorFiles map[string]string // on-disk columns: vector name -> file (written once)
	sparseFiles map[string]string // sealed: sparse vector name -> inverted index file (written once)
	dirty       bool              // the data file is stale (appendable writes, index changes)
	delDirty    bool              // deletes since the last deletes file
}

func (g *seg) mutable() bool { return g.appendable && !g.frozen }

// holder is the shard's list of segments; every point lives in exactly one.
// It satisfies target, so apply routes operations through it. Callers hold
// the shard's lock: shared for reads, exclusive for mutation.
type holder struct {
	specs    map[string]segment.VectorSpec
	sparse   map[string]segment.SparseSpec
	segs     []*seg
	nextID   uint64
	nextFile uint64   // numbers the files a flush or an optimization writes
	retired  []string // files of replaced segments, removed after the next manifest
	changed  bool     // the segment list changed since the last manifest
	// schemaEpoch counts the changes of the vectors (schema.go).
	schemaEpoch uint64
	// fresh: a new shard, with no files yet (Open writes its first
	// manifest before it takes an operation).
	fresh bool

	vindex map[string]segment.IndexParams // HNSW settings per vector
	opt    OptimizerParams
	// shadows are the older, visible copies of points whose newest copy
	// is deferred (deferred.go): point -> the segment holding the copy
	// reads show until the newest one is optimized.
	shadows map[point.ID]*seg
	// After a failed optimization: why, how many failed in a row, and
	// when the optimizer may try again. Cleared by a success or by new
	// settings.
	failure  string
	failures int
	retryAt  time.Time
}

// clearFailure forgets failed optimizations: the optimizer may run now.
func (h *holder) clearFailure() {
	h.failure, h.failures, h.retryAt = "", 0, time.Time{}
}

// setIndexParams records the HNSW settings and hands them to the sealed
// segments (their graphs stay; the optimizer rebuilds mismatching ones).
// Appendable segments stay plain.
func (h *holder) setIndexParams(params map[string]segment.IndexParams) {
	if h.vindex == nil {
		h.vindex = map[string]segment.IndexParams{}
	}
	h.clearFailure()
	for name, p := range params {
		h.vindex[name] = p
	}
	for _, g := range h.segs {
		if !g.appendable {
			for name, p := range h.vindex {
				g.store.SetIndexParams(name, p)
			}
		}
	}
}

func (h *holder) newSegment(appendable bool) *seg {
	h.nextID++
	g := &seg{id: h.nextID, store: h.emptyStore(), appendable: appendable, dirty: true}
	if appendable {
		g.store.SetDeferFrom(h.opt.DeferFrom)
	}
	// An empty segment has the same payload indexes as the others.
	if len(h.segs) > 0 {
		for k, raw := range h.segs[0].store.IndexSchemas() {
			_ = g.store.CreateIndex(k, raw) // valid: another segment holds it
		}
	}
	h.segs = append(h.segs, g)
	h.changed = true
	return g
}

// emptyStore is a store with the shard's dense and sparse columns.
func (h *holder) emptyStore() *segment.Store {
	st := segment.NewStore(h.specs)
	for name, sp := range h.sparse {
		st.AddSparseColumn(name, sp)
	}
	return st
}

// owner returns the segment holding the newest copy of id: the one every
// write addresses (a shadow, deferred.go, is an older copy reads show).
func (h *holder) owner(id point.ID) *seg {
	shadow := h.shadows[id]
	for _, g := range h.segs {
		if g != shadow && g.store.Has(id) {
			return g
		}
	}
	return nil
}

// appendTarget is the appendable segment new points go to: the smallest
// one, created when there is none (all were sealed or frozen).
func (h *holder) appendTarget() *seg {
	var best *seg
	for _, g := range h.segs {
		if g.mutable() && (best == nil || g.store.Len() < best.store.Len()) {
			best = g
		}
	}
	if best == nil {
		best = h.newSegment(true)
	}
	return best
}

func (g *seg) deleted() {
	if g.appendable {
		g.dirty = true
	} else {
		g.delDirty = true
	}
}

// modify changes point id in place when its segment is appendable (inPlace),
// else moves it (copy on write): change edits a copy of the full record,
// which is written to an appendable segment, and the copy it came from
// leaves its sealed segment (unless the new copy is deferred: settle). It
// reports whether the point exists.
func (h *holder) modify(id point.ID, version uint64, inPlace func(*segment.Store) bool, change func(*segment.Record)) bool {
	g := h.owner(id)
	switch {
	case g == nil:
		return false
	case g.mutable():
		g.dirty = true
		return inPlace(g.store)
	}
	r, _ := g.store.Get(id, func(string) bool { return true })
	if r.Vectors == nil {
		r.Vectors = point.Vectors{}
	}
	if r.Sparse == nil {
		r.Sparse = point.SparseVectors{}
	}
	change(&r)
	a := h.appendTarget()
	a.store.UpsertPoint(id, version, r.Vectors, r.Sparse, r.Payload)
	a.dirty = true
	h.settle(id)
	return true
}

// Has reports whether some segment holds id.
func (h *holder) Has(id point.ID) bool { return h.owner(id) != nil }

// UpsertPoint writes the point in place when its segment is appendable,
// else writes it to an appendable segment and removes it where it was
// (copy on write: settle).
func (h *holder) UpsertPoint(id point.ID, version uint64, vecs point.Vectors, sparse point.SparseVectors, payload point.Payload) {
	g := h.owner(id)
	moved := g != nil && !g.mutable()
	if g == nil || moved {
		g = h.appendTarget()
	}
	g.store.UpsertPoint(id, version, vecs, sparse, payload)
	g.dirty = true
	if moved {
		h.settle(id)
	}
}

// Delete removes every copy of id.
func (h *holder) Delete(id point.ID) bool {
	found := h.owner(id) != nil
	for _, g := range h.segs {
		if g.store.Delete(id) {
			g.deleted()
		}
	}
	delete(h.shadows, id)
	return found
}

// Payload returns the payload of id.
func (h *holder) Payload(id point.ID) (point.Payload, bool) {
	if g := h.owner(id); g != nil {
		return g.store.Payload(id)
	}
	return nil, false
}

// SetPayload replaces the payload of id, moving it out of a sealed segment.
func (h *holder) SetPayload(id point.ID, version uint64, p point.Payload) bool {
	return h.modify(id, version,
		func(st *segment.Store) bool { return st.SetPayload(id, version, p) },
		func(r *segment.Record) { r.Payload = p })
}

// UpdatePointVectors sets some vectors of id, moving it out of a sealed
// segment.
func (h *holder) UpdatePointVectors(id point.ID, version uint64, vecs point.Vectors, sparse point.SparseVectors) bool {
	return h.modify(id, version,
		func(st *segment.Store) bool { return st.UpdatePointVectors(id, version, vecs, sparse) },
		func(r *segment.Record) {
			for n, v := range vecs {
				r.Vectors[n] = v
			}
			for n, v := range sparse {
				r.Sparse[n] = v
			}
		})
}

// DeleteVectors removes named vectors of id, moving it out of a sealed
// segment.
func (h *holder) DeleteVectors(id point.ID, version uint64, names []string) bool {
	return h.modify(id, version,
		func(st *segment.Store) bool { return st.DeleteVectors(id, version, names) },
		func(r *segment.Record) {
			for _, n := range names {
				delete(r.Vectors, n)
				delete(r.Sparse, n)
			}
		})
}

// CreateIndex builds the payload index in every segment.
func (h *holder) CreateIndex(key string, raw json.RawMessage) error {
	var errs []error
	for _, g := range h.segs {
		errs = append(errs, g.store.CreateIndex(key, raw))
		g.dirty = true
	}
	return errors.Join(errs...)
}

// DeleteIndex drops the payload index from every segment.
func (h *holder) DeleteIndex(key string) bool {
	found := false
	for _, g := range h.segs {
		if g.store.DeleteIndex(key) {
			found = true
			g.dirty = true
		}
	}
	return found
}

// MatchingIDs returns the ids of every point matching f, in id order: the
// points a filtered update addresses, decided on each point's newest copy
// (deferred or not; a shadow is not asked).
func (h *holder) MatchingIDs(f *filter.Filter) []point.ID {
	var out []point.ID
	for _, g := range h.segs {
		for _, id := range g.store.MatchingAll(f) {
			if h.shadows[id] != g {
				out = append(out, id)
			}
		}
	}
	slices.SortFunc(out, point.ID.Compare)
	return out
}

// Matching returns those of ids that exist and match f, each decided on
// the segment holding it (one compiled filter per segment).
func (h *holder) Matching(f *filter.Filter, ids []point.ID) []point.ID {
	bySeg := map[*seg][]point.ID{}
	for _, id := range ids {
		if g := h.owner(id); g != nil {
			bySeg[g] = append(bySeg[g], id)
		}
	}
	var out []point.ID
	for _, g := range h.segs {
		if list := bySeg[g]; len(list) > 0 {
			out = append(out, g.store.Matching(f, list)...)
		}
	}
	return out
}

// prepareRead brings every segment's lazily built order up to date (under
// the write lock, after a batch of mutations).
func (h *holder) prepareRead() {
	for _, g := range h.segs {
		g.store.PrepareRead()
	}
}

// VectorDim returns the dimension of a configured vector.
func (h *holder) VectorDim(name string) (int, bool) {
	sp, ok := h.specs[name]
	return sp.Dim, ok
}

// IsMulti reports whether the vector configured under name is a
// multivector.
func (h *holder) IsMulti(name string) bool { return h.specs[name].Multi }

// HasSparse reports whether a sparse vector is configured under name.
func (h *holder) HasSparse(name string) bool {
	_, ok := h.sparse[name]
	return ok
}

// setSparse records the settings of the sparse vectors the shard has and
// hands them to every segment: indexes built otherwise stay until the
// optimizer rebuilds their segment (config mismatch). Vectors are added
// by create_vector_name (schema.go), not here: settings of a sparse
// vector the shard does not have are ignored.
func (h *holder) setSparse(specs map[string]segment.SparseSpec) {
	h.clearFailure()
	for name, sp := range specs {
		if _, ok := h.sparse[name]; ok {
			h.sparse[name] = sp
		}
	}
	for _, g := range h.segs {
		for name, sp := range h.sparse {
			g.store.SetSparseSpec(name, sp)
		}
	}
}

// Len is the number of points (a point with a shadow counts once).
func (h *holder) Len() int {
	n := 0
	for _, g := range h.segs {
		n += g.store.Len()
	}
	return n - len(h.shadows)
}
