package segment

import (
	"context"
	"slices"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// VectorSpec describes one named dense vector column.
type VectorSpec struct {
	Dim      int
	Distance vector.Distance
	// Datatype is the stored element type; "" means Float32.
	Datatype Datatype
	// OnDisk asks sealed segments to keep the vectors in a mapped file
	// (Qdrant's on_disk); appendable segments keep them in memory.
	OnDisk bool
	// Multi makes the column hold multivectors compared by max_sim
	// (Qdrant's multivector_config; multi.go): each point has one or more
	// sub-vectors of Dim elements, given and returned flattened.
	Multi bool
}

// Store holds points addressed by internal offsets.
type Store struct {
	columns  map[string]*column
	sparse   map[string]*sparseColumn // sparse.go
	ids      []point.ID
	live     []bool
	versions []uint64
	payloads []point.Payload
	offsets  map[point.ID]uint32
	free     []uint32

	sorted      []uint32 // live offsets in id order; rebuilt lazily
	sortedDirty bool

	// deferFrom, when not 0, hides from reads the points at offsets from
	// it on (Qdrant's deferred points, deferred.go).
	deferFrom uint32

	indexes map[string]*fieldIndex  // payload indexes by key text
	vindex  map[string]*vectorIndex // HNSW graphs by vector name
	rebuilt []string                // indexes rebuilt while loading a checkpoint
}

// NewStore returns an empty store with the given vector columns.
func NewStore(specs map[string]VectorSpec) *Store {
	s := &Store{columns: map[string]*column{}, offsets: map[point.ID]uint32{}}
	for name, sp := range specs {
		s.columns[name] = newColumn(sp, 0)
	}
	return s
}

// AddColumn adds a vector column (points get no vector for it).
func (s *Store) AddColumn(name string, spec VectorSpec) {
	if _, ok := s.columns[name]; ok {
		return
	}
	s.columns[name] = newColumn(spec, len(s.ids))
}

// Len returns the number of live points.
func (s *Store) Len() int { return len(s.offsets) }

// Has reports whether id is stored.
func (s *Store) Has(id point.ID) bool { _, ok := s.offsets[id]; return ok }

// Upsert stores the point with dense vectors only (UpsertPoint).
func (s *Store) Upsert(id point.ID, version uint64, vecs point.Vectors, payload point.Payload) {
	s.UpsertPoint(id, version, vecs, nil, payload)
}

// UpsertPoint stores the point, replacing any previous vectors and payload.
// Vectors must already be validated and preprocessed (sparse ones valid and
// finite; they are sorted here).
func (s *Store) UpsertPoint(id point.ID, version uint64, vecs point.Vectors, sparse point.SparseVectors, payload point.Payload) {
	off, ok := s.offsets[id]
	if !ok {
		off = s.alloc(id)
	}
	s.versions[off] = version
	s.payloads[off] = payload
	s.setVectors(off, vecs, true)
	s.setSparse(off, sparse, true)
	s.reindex(off)
}

func (s *Store) alloc(id point.ID) uint32 {
	var off uint32
	if n := len(s.free); n > 0 && s.deferFrom == 0 {
		off = s.free[n-1]
		s.free = s.free[:n-1]
		s.ids[off] = id
		s.live[off] = true
		s.offsets[id] = off
		s.sortedDirty = true
		return off
	}
	return s.appendSlot(id)
}

// appendSlot adds a live slot for id at the end.
func (s *Store) appendSlot(id point.ID) uint32 {
	off := s.grow()
	s.ids[off] = id
	s.live[off] = true
	s.offsets[id] = off
	s.sortedDirty = true
	return off
}

// grow appends an empty, dead slot and returns its offset.
func (s *Store) grow() uint32 {
	off := uint32(len(s.ids))
	s.ids = append(s.ids, point.ID{})
	s.live = append(s.live, false)
	s.versions = append(s.versions, 0)
	s.payloads = append(s.payloads, nil)
	for _, c := range s.columns {
		c.grow()
	}
	for _, c := range s.sparse {
		c.grow()
	}
	return off
}

// allocFree appends an empty slot to the free list (checkpoint loading).
func (s *Store) allocFree() { s.free = append(s.free, s.grow()) }

// setVectors writes vecs; with replace, columns absent from vecs are cleared.
func (s *Store) setVectors(off uint32, vecs point.Vectors, replace bool) {
	for name, c := range s.columns {
		v, ok := vecs[name]
		if !ok {
			if replace && c.has[off] {
				c.has[off] = false
				s.vectorRemoved(name, off)
			}
			continue
		}
		c.set(off, v)
		c.has[off] = true
		s.vectorChanged(name, off)
	}
}

// Delete removes id and reports whether it was present.
func (s *Store) Delete(id point.ID) bool {
	off, ok := s.offsets[id]
	if !ok {
		return false
	}
	delete(s.offsets, id)
	s.live[off] = false
	s.payloads[off] = nil
	for name, c := range s.columns {
		if c.has[off] {
			c.has[off] = false
			s.vectorRemoved(name, off)
		}
	}
	for _, c := range s.sparse {
		c.clear(off)
	}
	s.free = append(s.free, off)
	s.sortedDirty = true
	s.reindex(off)
	return true
}

// Payload returns the stored payload of id (shared, do not mutate).
func (s *Store) Payload(id point.ID) (point.Payload, bool) {
	off, ok := s.offsets[id]
	if !ok {
		return nil, false
	}
	return s.payloads[off], true
}

// SetPayload replaces the payload of an existing id.
func (s *Store) SetPayload(id point.ID, version uint64, p point.Payload) bool {
	off, ok := s.offsets[id]
	if !ok {
		return false
	}
	s.payloads[off] = p
	s.versions[off] = version
	s.reindex(off)
	return true
}

// UpdateVectors sets the given dense vectors of an existing id, keeping
// others (UpdatePointVectors).
func (s *Store) UpdateVectors(id point.ID, version uint64, vecs point.Vectors) bool {
	return s.UpdatePointVectors(id, version, vecs, nil)
}

// UpdatePointVectors sets the given dense and sparse vectors of an existing
// id, keeping the others.
func (s *Store) UpdatePointVectors(id point.ID, version uint64, vecs point.Vectors, sparse point.SparseVectors) bool {
	off, ok := s.offsets[id]
	if !ok {
		return false
	}
	s.setVectors(off, vecs, false)
	s.setSparse(off, sparse, false)
	s.versions[off] = version
	return true
}

// DeleteVectors removes the named vectors (dense or sparse) of an existing
// id.
func (s *Store) DeleteVectors(id point.ID, version uint64, names []string) bool {
	off, ok := s.offsets[id]
	if !ok {
		return false
	}
	for _, n := range names {
		if c, ok := s.columns[n]; ok && c.has[off] {
			c.has[off] = false
			s.vectorRemoved(n, off)
		}
		if c, ok := s.sparse[n]; ok {
			c.clear(off)
		}
	}
	s.versions[off] = version
	return true
}

// Record is a point as read back.
type Record struct {
	ID      point.ID
	Version uint64
	Payload point.Payload       // shared with the store: callers must not mutate
	Vectors point.Vectors       // copies, only when requested
	Sparse  point.SparseVectors // copies, only when requested and the point has some
}

// VectorSelection names the vectors a read should return; nil returns none.
type VectorSelection func(name string) bool

// Get returns the record of id.
func (s *Store) Get(id point.ID, sel VectorSelection) (Record, bool) {
	off, ok := s.offsets[id]
	if !ok {
		return Record{}, false
	}
	return s.record(off, sel), true
}

// Vector returns a copy of the named vector of id.
func (s *Store) Vector(id point.ID, name string) ([]float32, bool) {
	off, ok := s.offsets[id]
	if !ok {
		return nil, false
	}
	c, ok := s.columns[name]
	if !ok || !c.has[off] {
		return nil, false
	}
	return c.get(off), true
}

func (s *Store) record(off uint32, sel VectorSelection) Record {
	r := Record{ID: s.ids[off], Version: s.versions[off], Payload: s.payloads[off]}
	if sel != nil {
		r.Vectors = point.Vectors{}
		for name, c := range s.columns {
			if c.has[off] && sel(name) {
				r.Vectors[name] = c.get(off)
			}
		}
		for name, c := range s.sparse {
			if c.has[off] && sel(name) {
				if r.Sparse == nil {
					r.Sparse = point.SparseVectors{}
				}
				r.Sparse[name] = c.vecs[off].Clone()
			}
		}
	}
	return r
}

func (s *Store) sortedOffsets() []uint32 {
	if s.sortedDirty || s.sorted == nil {
		s.sorted = s.sorted[:0]
		for off, l := range s.live {
			if l {
				s.sorted = append(s.sorted, uint32(off))
			}
		}
		slices.SortFunc(s.sorted, func(a, b uint32) int { return s.ids[a].Compare(s.ids[b]) })
		s.sortedDirty = false
	}
	return s.sorted
}

// PrepareRead makes the lazily built id order current. Callers holding only
// a read lock must have called it under the write lock after each mutation
// batch, so that reads never build it concurrently.
func (s *Store) PrepareRead() { s.sortedOffsets() }

// Scroll returns up to limit records with id >= from (all when from is nil)
// in id order that match f, and the id of the next matching record if any.
// Once ctx is done it stops within checkEvery points and returns ctx's
// error.
func (s *Store) Scroll(ctx context.Context, f *filter.Filter, from *point.ID, limit int, sel VectorSelection) ([]Record, *point.ID, error) {
	m := s.newMatcher(f)
	order := s.sorted
	if m.selective(len(s.offsets)) {
		order = m.sortedCandidates(s)
	}
	start := 0
	if from != nil {
		start, _ = slices.BinarySearchFunc(order, *from, func(off uint32, id point.ID) int { return s.ids[off].Compare(id) })
	}
	var out []Record
	p := newPoll(ctx)
	for _, off := range order[start:] {
		if p.tick() {
			return nil, nil, p.err
		}
		if !m.match(off) {
			continue
		}
		if len(out) == limit {
			next := s.ids[off]
			return out, &next, nil
		}
		out = append(out, s.record(off, sel))
	}
	return out, nil, nil
}

// MatchingIDs returns the ids of all points matching f, in id order. It
// is called while applying updates, under the write lock, so it may bring
// the id order up to date first.
func (s *Store) MatchingIDs(f *filter.Filter) []point.ID {
	s.PrepareRead()
	recs, _, err := s.Scroll(context.Background(), f, nil, len(s.offsets)+1, nil)
	if err != nil || len(recs) == 0 { // err is nil: Background is never done
		return nil
	}
	out := make([]point.ID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// Count returns the number of points matching f. Once ctx is done it stops
// within checkEvery points and returns ctx's error.
func (s *Store) Count(ctx context.Context, f *filter.Filter) (int, error) {
	m := s.newMatcher(f)
	switch {
	case m.deferFrom != 0 && s.DeferredCount() > 0:
		// Deferred points are not counted: decide each point.
	case m.p == nil:
		return len(s.offsets), nil
	case m.exact && m.cand == nil:
		return len(s.offsets), nil
	case m.exact:
		return m.cand.count(), nil
	}
	n := 0
	err := m.each(ctx, s, func(off uint32) {
		if m.match(off) {
			n++
		}
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// EstimateCount is Qdrant's approximate count of the points matching f:
// the expected cardinality of EstimateCardinality.
func (s *Store) EstimateCount(f *filter.Filter) int {
	return s.EstimateCardinality(f).Exp
}
