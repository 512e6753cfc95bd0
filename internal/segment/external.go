package segment

import (
	"fmt"
	"io"
	"unsafe"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vfs"
)

// On-disk vectors (Qdrant's `on_disk: true`): a sealed segment's column can
// live in a file of its own, mapped read-only into memory, so that the OS
// pages vectors in and out instead of the Go heap holding them. The file is
// the column's storage as it is in memory (little-endian elements of the
// datatype, dim per slot, every slot); the segment's checkpoint then keeps
// only which slots have a vector. Sealed segments never write vectors (an
// update moves the point to an appendable segment), so the map is never
// written to.
//
// A multivector column's file holds the sub-vectors of its points packed in
// offset order (no room left unused); the checkpoint keeps each point's
// number of sub-vectors, from which MapColumn places the rows again.

// External reports whether column name is served from a mapped file.
func (s *Store) External(name string) bool {
	c, ok := s.columns[name]
	return ok && c.ext != nil
}

// WriteColumn writes the raw storage of column name (see MapColumn).
func (s *Store) WriteColumn(name string, w io.Writer) error {
	c, ok := s.columns[name]
	if !ok {
		return fmt.Errorf("no vector %q", name)
	}
	if c.rows != nil {
		return c.writePacked(w)
	}
	_, err := w.Write(c.raw())
	return err
}

// writePacked writes the rows of a multivector column's offsets with a
// vector one after the other, in offset order.
func (c *column) writePacked(w io.Writer) error {
	raw, eb := c.raw(), c.spec.Datatype.elemBytes()
	for off, h := range c.has {
		if !h {
			continue
		}
		i, n := c.span(uint32(off))
		if _, err := w.Write(raw[i*eb : (i+n)*eb]); err != nil {
			return err
		}
	}
	return nil
}

// MapColumn replaces the storage of column name by the file at path on
// fsys, as written by WriteColumn for the same slots (vfs.Map: mapped on
// the operating system's FS, read onto the heap on others). The store must
// not be shared yet (a segment being built or loaded).
func (s *Store) MapColumn(fsys vfs.FS, name, path string) error {
	c, ok := s.columns[name]
	if !ok {
		return fmt.Errorf("no vector %q", name)
	}
	m, err := mapFile(fsys, path)
	if err != nil {
		return fmt.Errorf("map vectors of %q: %w", name, err)
	}
	elems := c.slots() * c.spec.Dim
	if c.rows != nil {
		// The rows as the file holds them: packed, in offset order.
		elems = c.subVectors(c.has) * c.spec.Dim
	}
	want := elems * c.spec.Datatype.elemBytes()
	if len(m.b) != want {
		return errkind.Corruptf("corrupt checkpoint: vector file of %q holds %d bytes, want %d", name, len(m.b), want)
	}
	if c.rows != nil {
		c.rows.pack(c.has)
	}
	c.attach(m, elems)
	return nil
}

// raw is the column's element storage as bytes.
func (c *column) raw() []byte {
	switch {
	case len(c.data) > 0:
		return unsafe.Slice((*byte)(unsafe.Pointer(&c.data[0])), 4*len(c.data))
	case len(c.f16) > 0:
		return unsafe.Slice((*byte)(unsafe.Pointer(&c.f16[0])), 2*len(c.f16))
	case len(c.u8) > 0:
		return c.u8
	}
	return nil
}

// attach serves the column's n elements from a mapping. Element types are
// little-endian in the file and in memory (every platform Go targets for
// this engine is little endian).
func (c *column) attach(m *mapping, n int) {
	c.ext = m
	c.data, c.f16, c.u8 = nil, nil, nil
	if n == 0 {
		return
	}
	p := unsafe.Pointer(&m.b[0])
	switch c.spec.Datatype.orDefault() {
	case Float16:
		c.f16 = unsafe.Slice((*uint16)(p), n)
	case Uint8:
		c.u8 = unsafe.Slice((*uint8)(p), n)
	default:
		c.data = unsafe.Slice((*float32)(p), n)
	}
}
