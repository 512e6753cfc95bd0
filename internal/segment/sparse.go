package segment

import (
	"github.com/shoaldb/shoal/internal/index/sparse"
	"github.com/shoaldb/shoal/internal/point"
)

// Sparse vectors (Qdrant's sparse_vectors): each named sparse vector of a
// store is a sparseColumn holding the vector of every slot that has one,
// sorted by index, and the number of live vectors per dimension (the
// document frequencies of the idf modifier). A sealed segment built by the
// optimizer also gets an inverted index per sparse vector (package
// index/sparse, sparse_index.go), written to a file of its own; appendable
// segments are searched by scoring every vector.

// SparseSpec describes one named sparse vector of a store: how a sealed
// segment's inverted index keeps its weights, and whether it is served from
// its mapped file (Qdrant's index.on_disk, or memory cold or cached) rather
// than read onto the heap.
type SparseSpec struct {
	Datatype sparse.Datatype
	OnDisk   bool
}

type sparseColumn struct {
	spec  SparseSpec
	vecs  []point.SparseVector // per slot, sorted; meaningful where has
	has   []bool
	count int              // slots with a vector (all live: a delete clears has)
	df    map[uint32]int32 // vectors per dimension
	nnz   int              // entries over all vectors

	ix  *sparse.Index // the inverted index of a sealed segment; nil: scan
	ext *mapping      // the index's file, when mapped
}

func newSparseColumn(spec SparseSpec, slots int) *sparseColumn {
	return &sparseColumn{spec: spec, vecs: make([]point.SparseVector, slots), has: make([]bool, slots), df: map[uint32]int32{}}
}

func (c *sparseColumn) grow() {
	c.vecs = append(c.vecs, point.SparseVector{})
	c.has = append(c.has, false)
}

// set stores v (valid and finite; sorted here if it is not) at off.
func (c *sparseColumn) set(off uint32, v point.SparseVector) {
	c.clear(off)
	v = v.Sorted()
	c.vecs[off] = v.Clone()
	c.has[off] = true
	c.count++
	c.nnz += len(v.Indices)
	for _, d := range v.Indices {
		c.df[d]++
	}
}

// clear removes the vector at off, if any.
func (c *sparseColumn) clear(off uint32) {
	if !c.has[off] {
		return
	}
	for _, d := range c.vecs[off].Indices {
		if c.df[d]--; c.df[d] <= 0 {
			delete(c.df, d)
		}
	}
	c.nnz -= len(c.vecs[off].Indices)
	c.count--
	c.has[off] = false
	c.vecs[off] = point.SparseVector{}
}

// Slots and At serve the column to sparse.Build.
func (c *sparseColumn) Slots() int { return len(c.has) }

func (c *sparseColumn) At(off uint32) (point.SparseVector, bool) {
	if int(off) >= len(c.has) || !c.has[off] {
		return point.SparseVector{}, false
	}
	return c.vecs[off], true
}

// AddSparseColumn adds a sparse vector to the store (points get none).
func (s *Store) AddSparseColumn(name string, spec SparseSpec) {
	if s.sparse == nil {
		s.sparse = map[string]*sparseColumn{}
	}
	if _, ok := s.sparse[name]; ok {
		return
	}
	s.sparse[name] = newSparseColumn(spec, len(s.ids))
}

// HasSparse reports whether the store has a sparse vector called name.
func (s *Store) HasSparse(name string) bool {
	_, ok := s.sparse[name]
	return ok
}

// setSparse writes the sparse vectors of off; with replace, sparse columns
// absent from vecs are cleared.
func (s *Store) setSparse(off uint32, vecs point.SparseVectors, replace bool) {
	for name, c := range s.sparse {
		v, ok := vecs[name]
		switch {
		case ok:
			c.set(off, v)
		case replace:
			c.clear(off)
		}
	}
}

// SparseVector returns a copy of the named sparse vector of id.
func (s *Store) SparseVector(id point.ID, name string) (point.SparseVector, bool) {
	off, ok := s.offsets[id]
	if !ok {
		return point.SparseVector{}, false
	}
	c, ok := s.sparse[name]
	if !ok || !c.has[off] {
		return point.SparseVector{}, false
	}
	return c.vecs[off].Clone(), true
}

// SparseCount is the number of live points with a vector in sparse
// column name.
func (s *Store) SparseCount(name string) int {
	if c, ok := s.sparse[name]; ok {
		return c.count
	}
	return 0
}

// SparseEntries is the number of (dimension, value) entries over the
// sparse vectors of every column: the unit of their size.
func (s *Store) SparseEntries() int {
	n := 0
	for _, c := range s.sparse {
		n += c.nnz
	}
	return n
}

// SparseStats adds to df[i] the number of live vectors of sparse column
// name that have dimension dims[i], and returns the number of live vectors:
// the statistics of Qdrant's idf modifier over this store.
func (s *Store) SparseStats(name string, dims []uint32, df []int) int {
	c, ok := s.sparse[name]
	if !ok {
		return 0
	}
	for i, d := range dims {
		df[i] += int(c.df[d])
	}
	return c.count
}
