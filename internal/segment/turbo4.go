package segment

import (
	"math"

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

// tqRow is turbo4 row i: the vector at offset i, or sub-vector i of a
// multivector column (multiRows counts in sub-vectors).
func (c *column) tqRow(i int) []byte {
	rb := c.t4.RowBytes()
	return c.tq[i*rb : (i+1)*rb]
}

// rowTQ is the turbo4 row of off in a column that is not a multivector.
func (c *column) rowTQ(off uint32) []byte { return c.tqRow(int(off)) }

// elemsBytes is the storage of n elements (a whole number of vectors):
// n/dim rows of a turbo4 column, n elements of the datatype otherwise.
func (c *column) elemsBytes(n int) int {
	if c.t4 != nil {
		return n / c.spec.Dim * c.t4.RowBytes()
	}
	return n * c.spec.Datatype.elemBytes()
}

// pairT4 is the graph's internal distance between the vectors at a and b
// of a turbo4 column, from their rows (vector.Turbo4.Pair); for
// multivectors max_sim's: the sum over a's sub-vectors of the least
// distance to one of b's.
func (c *column) pairT4(a, b uint32) float32 {
	if int(a) >= c.slots() || int(b) >= c.slots() {
		return float32(math.Inf(1))
	}
	if c.rows == nil {
		return c.t4.Pair(c.rowTQ(a), c.rowTQ(b))
	}
	d := c.spec.Dim
	ea, na := c.span(a)
	eb, nb := c.span(b)
	if na == 0 || nb == 0 {
		return float32(math.Inf(1))
	}
	var sum float32
	for i := ea / d; i < (ea+na)/d; i++ {
		best := float32(math.Inf(1))
		for j := eb / d; j < (eb+nb)/d; j++ {
			best = min(best, c.t4.Pair(c.tqRow(i), c.tqRow(j)))
		}
		sum += best
	}
	return sum
}

// sizeBytes is one (sub-)vector's size as Qdrant counts vectors_size_bytes
// (strict mode's max_collection_vector_size_bytes): dim elements of the
// datatype; for turbo4 Qdrant's quantized size, 4 bits a dimension padded
// to a byte plus its float32 scale, and the length too for Euclid (Shoal's
// rows pad the codes to 32 dimensions and always keep both floats).
func (c *column) sizeBytes() int {
	if c.t4 == nil {
		return c.spec.Dim * c.spec.Datatype.elemBytes()
	}
	n := (c.spec.Dim+1)/2 + 4
	if c.spec.Distance == vector.Euclid {
		n += 4
	}
	return n
}

// setRows stores turbo4 rows read back (a checkpoint) at off: one row,
// or a multivector's sub-vectors one after the other, each checked to be
// one Encode can have written.
func (s *Store) setRows(name string, off uint32, rows []byte) error {
	c := s.columns[name]
	rb := c.t4.RowBytes()
	k := len(rows) / rb
	if k == 0 || len(rows)%rb != 0 || c.rows == nil && k != 1 {
		return errkind.Corruptf("corrupt checkpoint: vector %q: %d bytes of turbo4 rows of %d", name, len(rows), rb)
	}
	for j := range k {
		if err := c.t4.CheckRow(rows[j*rb : (j+1)*rb]); err != nil {
			return errkind.Corruptf("corrupt checkpoint: vector %q: %v", name, err)
		}
	}
	c.putRows(off, rows)
	s.vectorChanged(name, off)
	return nil
}

// putRows stores the rows of off (a whole number of rows: one, or the
// sub-vectors of a multivector) as they are.
func (c *column) putRows(off uint32, rows []byte) {
	first := int(off)
	if c.rows != nil {
		first = c.place(off, len(rows)/c.t4.RowBytes())
	}
	copy(c.tq[first*c.t4.RowBytes():], rows)
	c.has[off] = true
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
		if dc.t4 != nil && dc.spec.Dim == c.spec.Dim && dc.spec.Distance == c.spec.Distance && (dc.rows == nil) == (c.rows == nil) {
			e, n := c.span(src)
			dc.putRows(off, c.tq[c.elemsBytes(e):c.elemsBytes(e+n)])
			dst.vectorChanged(name, off)
			continue
		}
		dst.setVectors(off, point.Vectors{name: c.get(src)}, false)
	}
}
