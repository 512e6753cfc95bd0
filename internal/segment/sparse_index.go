package segment

import (
	"fmt"
	"io"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/index/sparse"
	"github.com/shoaldb/shoal/internal/vfs"
)

// The inverted indexes of a sealed segment's sparse columns. The optimizer
// builds them once the segment's points are copied (BuildSparseIndexes),
// writes each to a file of its own (WriteSparseIndex) and, for a column
// kept on disk, serves it from that file mapped (OpenSparseIndex); a
// restart opens the files again. Sealed segments never change a vector in
// place (an update moves the point to an appendable segment), so an index
// stays exact for every live point; deleted points stay in its lists and
// are skipped by searches.

// SetSparseSpec sets how column name's index is built and opened (the
// collection's current settings); an index already built keeps its own.
func (s *Store) SetSparseSpec(name string, spec SparseSpec) {
	if c, ok := s.sparse[name]; ok {
		c.spec = spec
	}
}

// BuildSparseIndexes builds the inverted index of every sparse column in
// memory, in the column's datatype. The store must not be shared yet (a
// segment being built or loaded).
func (s *Store) BuildSparseIndexes() {
	for _, c := range s.sparse {
		c.ix, c.ext = sparse.Build(c, c.spec.Datatype), nil
	}
}

// BuildSparseIndex builds the inverted index of one column in memory (an
// index whose file could not be read).
func (s *Store) BuildSparseIndex(name string) {
	if c, ok := s.sparse[name]; ok {
		c.ix, c.ext = sparse.Build(c, c.spec.Datatype), nil
	}
}

// SparseIndexed lists the sparse columns that have an inverted index.
func (s *Store) SparseIndexed() []string {
	var out []string
	for _, n := range s.sparseNames() {
		if s.sparse[n].ix != nil {
			out = append(out, n)
		}
	}
	return out
}

// SparseIndexMatches reports whether column name has an index and whether
// it was built and opened as its spec now asks (datatype, on disk).
func (s *Store) SparseIndexMatches(name string) (built, matches bool) {
	c, ok := s.sparse[name]
	if !ok || c.ix == nil {
		return false, false
	}
	return true, c.ix.Datatype() == c.spec.Datatype && (c.ext != nil) == c.spec.OnDisk
}

// WriteSparseIndex writes the index of column name in its file format.
func (s *Store) WriteSparseIndex(name string, w io.Writer) error {
	c, ok := s.sparse[name]
	if !ok || c.ix == nil {
		return fmt.Errorf("no sparse index of %q", name)
	}
	return c.ix.Encode(w)
}

// OpenSparseIndex loads the index of column name from the file at path on
// fsys, as WriteSparseIndex wrote it for the same slots: mapped and read in
// place when the column's spec keeps it on disk (vfs.Map: mapped on the
// operating system's FS, read onto the heap on others), else read and
// copied onto the heap. A damaged file gives an error matching
// errkind.ErrCorrupt (the caller may rebuild the index from the vectors).
// The store must not be shared yet.
func (s *Store) OpenSparseIndex(fsys vfs.FS, name, path string) error {
	c, ok := s.sparse[name]
	if !ok {
		return fmt.Errorf("no sparse vector %q", name)
	}
	var ix *sparse.Index
	var m *mapping
	var err error
	if c.spec.OnDisk {
		if m, err = mapFile(fsys, path); err != nil {
			return fmt.Errorf("map sparse index of %q: %w", name, err)
		}
		ix, err = sparse.Decode(m.b, true)
	} else {
		var b []byte
		if b, err = vfs.ReadFile(fsys, path); err != nil {
			return fmt.Errorf("read sparse index of %q: %w", name, err)
		}
		ix, err = sparse.Decode(b, false)
	}
	if err != nil {
		return fmt.Errorf("sparse index of %q: %w", name, err)
	}
	if ix.Postings() > 0 && int(ix.MaxOffset()) >= c.Slots() || ix.Vectors() > c.Slots() {
		return errkind.Corruptf("corrupt sparse index of %q: it addresses %d slots of %d", name, ix.MaxOffset()+1, c.Slots())
	}
	c.ix, c.ext = ix, m
	return nil
}

// MapSparseIndex serves the index of column name from its file at path
// when the column's spec keeps it on disk (OpenSparseIndex); otherwise the
// index built in memory stays.
func (s *Store) MapSparseIndex(fsys vfs.FS, name, path string) error {
	if c, ok := s.sparse[name]; !ok || !c.spec.OnDisk {
		return nil
	}
	return s.OpenSparseIndex(fsys, name, path)
}

// SparseIndexBytes is the size of the sparse indexes, and of those mapped
// from their files.
func (s *Store) SparseIndexBytes() (heap, mapped int64) {
	for _, c := range s.sparse {
		if c.ix == nil {
			continue
		}
		if c.ext != nil {
			mapped += c.ix.Bytes()
		} else {
			heap += c.ix.Bytes()
		}
	}
	return heap, mapped
}
