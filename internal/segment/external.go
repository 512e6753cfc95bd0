package segment

import (
	"encoding/binary"
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
// datatype, dim per slot, every slot; turbo4 rows, one per slot); the
// segment's checkpoint then keeps
// only which slots have a vector. Sealed segments never write vectors (an
// update moves the point to an appendable segment), so the map is never
// written to.
//
// A multivector column's file starts with the number of sub-vectors of
// every slot (u32 each, 0 for none), then holds those sub-vectors packed
// in slot order (no room left unused). The file says where its rows lie:
// a sealed segment's data file may be written again later (a payload
// index added), after deletes that the vector file, written once, does
// not know of.

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

// writePacked writes a multivector column's file: the sub-vector count of
// every slot, then the rows of the slots with a vector one after the
// other, in slot order.
func (c *column) writePacked(w io.Writer) error {
	head := make([]byte, 4*c.slots())
	for off, h := range c.has {
		if h {
			binary.LittleEndian.PutUint32(head[4*off:], c.rows.count[off])
		}
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	raw := c.raw()
	for off, h := range c.has {
		if !h {
			continue
		}
		i, n := c.span(uint32(off))
		if _, err := w.Write(raw[c.elemsBytes(i):c.elemsBytes(i+n)]); err != nil {
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
	if c.rows != nil {
		return c.attachMulti(name, m)
	}
	elems := c.slots() * c.spec.Dim
	want := c.elemsBytes(elems)
	if len(m.b) != want {
		return errkind.Corruptf("corrupt checkpoint: vector file of %q holds %d bytes, want %d", name, len(m.b), want)
	}
	c.attach(m, 0, elems)
	return nil
}

// attachMulti serves a multivector column from its file (see writePacked):
// the rows are placed as the file's counts say, for every slot (a point
// deleted since the file was written keeps its row, as it would in
// memory). A slot with a vector must have sub-vectors in the file, as many
// as the checkpoint said when it said.
func (c *column) attachMulti(name string, m *mapping) error {
	head := 4 * c.slots()
	if len(m.b) < head {
		return errkind.Corruptf("corrupt checkpoint: vector file of %q holds %d bytes, too few for %d slots", name, len(m.b), c.slots())
	}
	counts := make([]uint32, c.slots())
	total := 0
	for off := range counts {
		k := binary.LittleEndian.Uint32(m.b[4*off:])
		if c.has[off] && (k == 0 || c.rows.count[off] != 0 && c.rows.count[off] != k) {
			return errkind.Corruptf("corrupt checkpoint: vector file of %q gives slot %d %d sub-vectors, the checkpoint %d", name, off, k, c.rows.count[off])
		}
		counts[off] = k
		// Every sub-vector takes a byte at least: a total past the
		// file's size is garbage (and could overflow below).
		if total += int(k); total > len(m.b) {
			return errkind.Corruptf("corrupt checkpoint: vector file of %q counts more sub-vectors than it holds", name)
		}
	}
	elems := total * c.spec.Dim
	if want := head + c.elemsBytes(elems); len(m.b) != want {
		return errkind.Corruptf("corrupt checkpoint: vector file of %q holds %d bytes, want %d", name, len(m.b), want)
	}
	start := 0
	for off, k := range counts {
		c.rows.start[off], c.rows.count[off], c.rows.room[off] = start, k, k
		start += int(k)
	}
	c.rows.used = total
	c.attach(m, head, elems)
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
	case len(c.tq) > 0:
		return c.tq
	}
	return nil
}

// attach serves the column's n elements from a mapping, from byte at on
// (a multiple of 4). Element types are little-endian in the file and in
// memory (every platform Go targets for this engine is little endian).
func (c *column) attach(m *mapping, at, n int) {
	c.ext = m
	c.data, c.f16, c.u8, c.tq = nil, nil, nil, nil
	if n == 0 {
		return
	}
	p := unsafe.Pointer(&m.b[at])
	switch c.spec.Datatype.orDefault() {
	case Turbo4:
		c.tq = m.b[at : at+c.elemsBytes(n) : at+c.elemsBytes(n)]
	case Float16:
		c.f16 = unsafe.Slice((*uint16)(p), n)
	case Uint8:
		c.u8 = unsafe.Slice((*uint8)(p), n)
	default:
		c.data = unsafe.Slice((*float32)(p), n)
	}
}
