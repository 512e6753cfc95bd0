package segment

import (
	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// Turbo4 columns (Qdrant's `datatype: turbo4`) keep each vector as its
// TurboQuant codes (vector.Turbo4): 4 bits per dimension, then two
// float32s. A vector is quantized once, when it is written; after that its
// row moves as bytes: copied into the segments the optimizer builds
// (CopyLive), written to and read from checkpoints and column files,
// never decoded and encoded again, which would move it a little each time.
// Reads return the decoded vector; searches score the rotated query
// against the codes (colScorer), and graphs link rows through the codec's
// symmetric estimate (columnSpace.Pair).

// rowTQ is the turbo4 row at off.
func (c *column) rowTQ(off uint32) []byte {
	rb := c.t4.RowBytes()
	return c.tq[int(off)*rb : int(off+1)*rb]
}

// rowBytes is the storage of one offset: the row of a turbo4 column, dim
// elements of the datatype otherwise.
func (c *column) rowBytes() int {
	if c.t4 != nil {
		return c.t4.RowBytes()
	}
	return c.spec.Dim * c.spec.Datatype.elemBytes()
}

// sizeBytes is one vector's size as Qdrant counts vectors_size_bytes
// (strict mode's max_collection_vector_size_bytes): dim elements of the
// datatype; for turbo4 Qdrant's quantized size, 4 bits a dimension padded
// to a byte plus its float32 scale, and the length too for Euclid (Shoal's
// rows pad the codes to 32 dimensions and always keep both floats).
func (c *column) sizeBytes() int {
	if c.t4 == nil {
		return c.rowBytes()
	}
	n := (c.spec.Dim+1)/2 + 4
	if c.spec.Distance == vector.Euclid {
		n += 4
	}
	return n
}

// setRow stores a turbo4 row read back (a checkpoint) at off, after
// checking it is one Encode can have written.
func (s *Store) setRow(name string, off uint32, row []byte) error {
	c := s.columns[name]
	if err := c.t4.CheckRow(row); err != nil {
		return errkind.Corruptf("corrupt checkpoint: vector %q: %v", name, err)
	}
	copy(c.rowTQ(off), row)
	c.has[off] = true
	s.vectorChanged(name, off)
	return nil
}

// turboNames lists the turbo4 columns whose rows CopyLive copies as they
// are; nil when there are none.
func (s *Store) turboNames() map[string]bool {
	var out map[string]bool
	for name, c := range s.columns {
		if c.t4 != nil {
			if out == nil {
				out = map[string]bool{}
			}
			out[name] = true
		}
	}
	return out
}

// copyRows copies the turbo4 rows of the point at src in s to the same
// point in dst (just upserted without them), where dst has a turbo4
// column of the same shape; other columns get the decoded vector.
func (s *Store) copyRows(dst *Store, src uint32, id point.ID, names map[string]bool) {
	off := dst.offsets[id]
	for name := range names {
		c, dc := s.columns[name], dst.columns[name]
		if !c.has[src] || dc == nil {
			continue
		}
		if dc.t4 != nil && dc.spec.Dim == c.spec.Dim && dc.spec.Distance == c.spec.Distance {
			copy(dc.rowTQ(off), c.rowTQ(src))
			dc.has[off] = true
			dst.vectorChanged(name, off)
			continue
		}
		dst.setVectors(off, point.Vectors{name: c.get(src)}, false)
	}
}
