package segment

import (
	"fmt"
	"math"
	"sort"

	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// Multivectors (Qdrant's multivector_config with comparator max_sim): a
// point holds a variable number of sub-vectors of the column's dimension
// under one name. They come in and go out flattened (k*dim floats, the
// form point.Vectors carries them in), and are stored one after the other
// in the column's element slice of its datatype. rows says where each
// offset's sub-vectors lie. As Qdrant's appendable multi-dense storage
// does, a multivector written again reuses its room when it fits and takes
// new room at the end otherwise; the old room stays unused until the
// optimizer copies the points into a new segment, whose rows are packed.
//
// The score of a query multivector Q against a stored one V is max_sim:
// the sum over Q's sub-vectors of their best similarity among V's
// sub-vectors (score_max_similarity in Qdrant), where the similarity is
// Qdrant's internal one: the dot product for Cosine (sub-vectors
// normalised) and Dot, minus the squared distance for Euclid, minus the L1
// distance for Manhattan. The user-facing score is then postprocessed as
// Qdrant's Nearest queries are: Euclid's is the square root of the summed
// squared distances' absolute value, Manhattan's the absolute value. The
// graph's internal distance (lower is better) is the negated sum, so that
// hnsw converts it to the same score (sqrt for Euclid, as for one vector).

// multiRows places the sub-vectors of a multivector column's offsets, in
// units of sub-vectors (dim elements).
type multiRows struct {
	start []int    // first sub-vector of the offset's row
	count []uint32 // sub-vectors of the row (0: none)
	room  []uint32 // sub-vectors the row may hold in place
	used  int      // sub-vectors allocated in the element slice
}

func newMultiRows(slots int) *multiRows {
	return &multiRows{start: make([]int, slots), count: make([]uint32, slots), room: make([]uint32, slots)}
}

func (r *multiRows) grow() {
	r.start = append(r.start, 0)
	r.count = append(r.count, 0)
	r.room = append(r.room, 0)
}

func (r *multiRows) clone() *multiRows {
	if r == nil {
		return nil
	}
	return &multiRows{
		start: append([]int(nil), r.start...),
		count: append([]uint32(nil), r.count...),
		room:  append([]uint32(nil), r.room...),
		used:  r.used,
	}
}

// place makes room for n sub-vectors at off and returns the first one's
// index: in place when they fit, else at the end of the element slice
// (which grows by n sub-vectors).
func (c *column) place(off uint32, n int) int {
	r := c.rows
	if uint32(n) > r.room[off] {
		r.start[off], r.room[off] = r.used, uint32(n)
		r.used += n
		c.extend(n * c.spec.Dim)
	}
	r.count[off] = uint32(n)
	return r.start[off]
}

// extend appends n zero elements to the element slice (for turbo4, a
// zero row per dim of them).
func (c *column) extend(n int) {
	switch c.spec.Datatype {
	case Float16:
		c.f16 = append(c.f16, make([]uint16, n)...)
	case Uint8:
		c.u8 = append(c.u8, make([]uint8, n)...)
	case Turbo4:
		c.tq = append(c.tq, make([]byte, n/c.spec.Dim*c.t4.RowBytes())...)
	default:
		c.data = append(c.data, make([]float32, n)...)
	}
}

// subVectors is the number of sub-vectors of the live offsets with a vector
// (the vectors themselves for a column that is not a multivector).
func (c *column) subVectors(live []bool) int {
	n := 0
	for off, l := range live {
		if !l || !c.has[off] {
			continue
		}
		if c.rows == nil {
			n++
		} else {
			n += int(c.rows.count[off])
		}
	}
	return n
}

// multiDist is the graph's internal distance of the stored multivector at
// off to the query multivector: the sum over the query's sub-vectors of
// their least internal distance to a stored sub-vector (-dot for Cosine
// and Dot, the squared distance for Euclid, L1 for Manhattan), which is
// minus max_sim. An offset with no sub-vectors is +Inf.
func (s *colScorer) multiDist(off uint32) float32 {
	c := s.c
	d := c.spec.Dim
	e, n := c.span(off)
	if n == 0 {
		return float32(math.Inf(1))
	}
	var sum float32
	for qi := range s.nq {
		q := qi * d
		best := float32(math.Inf(1))
		switch {
		case s.t4qs != nil:
			for j := e / d; j < (e+n)/d; j++ {
				if x := s.t4qs[qi].Dist(c.tqRow(j)); x < best {
					best = x
				}
			}
		case s.qh != nil:
			qs := s.qh[q : q+d]
			for j := e; j < e+n; j += d {
				if x := pairF16(s.dist, qs, c.f16[j:j+d]); x < best {
					best = x
				}
			}
		case s.qb != nil:
			qs := s.qb[q : q+d]
			var qn float64
			if s.dist == vector.Cosine {
				qn = float64(vector.DotU8(qs, qs))
			}
			for j := e; j < e+n; j += d {
				if x := pairU8(s.dist, qs, c.u8[j:j+d], qn); x < best {
					best = x
				}
			}
		default:
			best = bestF32(s.dist, s.q[q:q+d], c.data[e:e+n], d)
		}
		sum += best
	}
	return sum
}

// bestF32 is the least internal distance of q to the sub-vectors of rows
// (dim floats each), the loop of a max_sim distance: one kernel, chosen
// once, per sub-vector.
func bestF32(dist vector.Distance, q, rows []float32, dim int) float32 {
	switch dist {
	case vector.Euclid, vector.Manhattan:
		kernel := vector.SquaredL2
		if dist == vector.Manhattan {
			kernel = vector.L1
		}
		best := float32(math.Inf(1))
		for j := 0; j+dim <= len(rows); j += dim {
			if x := kernel(q, rows[j:j+dim:j+dim]); x < best {
				best = x
			}
		}
		return best
	}
	best := float32(math.Inf(-1))
	for j := 0; j+dim <= len(rows); j += dim {
		if x := vector.DotProduct(q, rows[j:j+dim:j+dim]); x > best {
			best = x
		}
	}
	return -best
}

// multiScore converts a summed internal distance to the user-facing score.
func multiScore(dist vector.Distance, sum float32) float32 {
	switch dist {
	case vector.Euclid:
		return float32(math.Sqrt(math.Abs(float64(sum))))
	case vector.Manhattan:
		return float32(math.Abs(float64(sum)))
	}
	return -sum
}

// pairF16 and pairU8 are the internal distance of two sub-vectors (lower
// is better).
func pairF16(dist vector.Distance, a, b []uint16) float32 {
	switch dist {
	case vector.Euclid:
		return vector.L2F16(a, b)
	case vector.Manhattan:
		return vector.L1F16(a, b)
	}
	return -vector.DotF16(a, b)
}

// pairU8 takes a's squared norm for Cosine, which Qdrant computes on uint8
// vectors without normalising them.
func pairU8(dist vector.Distance, a, b []uint8, an float64) float32 {
	switch dist {
	case vector.Euclid:
		return float32(vector.L2U8(a, b))
	case vector.Manhattan:
		return float32(vector.L1U8(a, b))
	case vector.Cosine:
		bn := float64(vector.DotU8(b, b))
		if bn == 0 || an == 0 {
			return 0
		}
		return -float32(float64(vector.DotU8(a, b)) / math.Sqrt(an*bn))
	}
	return -float32(vector.DotU8(a, b))
}

// buildMultiCodes quantizes every sub-vector of a multivector column, one
// code each, packed in offset order.
func buildMultiCodes(c *column, cfg *quant.Config, seed uint64) (*quantized, error) {
	d := c.spec.Dim
	sub := make([]int, c.slots()+1)
	for off := range c.slots() {
		sub[off+1] = sub[off]
		if c.has[off] {
			sub[off+1] += int(c.rows.count[off])
		}
	}
	buf := make([]float32, 0, d)
	vec := func(i uint32) []float32 {
		// The offset whose codes hold sub-vector i: the last one that
		// starts at or before it (sampling asks in any order).
		off := sort.Search(len(sub)-1, func(k int) bool { return sub[k+1] > int(i) })
		e, _ := c.span(uint32(off))
		buf = c.appendElems(buf[:0], e+(int(i)-sub[off])*d, d)
		return quantInput(c, cfg, buf)
	}
	enc, err := quant.Build(cfg, c.spec.Distance, d, sub[len(sub)-1], vec, seed)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	return newQuantized(cfg, enc, sub)
}

// multiScorer prepares a query multivector: one scorer of the codes per
// sub-vector.
func (qz *quantized) multiScorer(c *column, q []float32) *quantScorer {
	d := c.spec.Dim
	s := &quantScorer{q: qz, exact: c.scorer(q), dist: c.spec.Distance}
	for i := 0; i+d <= len(q); i += d {
		in := append([]float32(nil), q[i:i+d]...)
		if c.spec.Datatype == Uint8 {
			b := make([]uint8, d)
			toU8(b, in)
			for j, x := range b {
				in[j] = float32(x)
			}
			in = quantInput(c, qz.cfg, in)
		}
		s.multi = append(s.multi, qz.enc.Scorer(in))
	}
	return s
}

// multiDist is max_sim over the codes, as colScorer.multiDist is over the
// stored vectors.
func (s *quantScorer) multiDist(off uint32) float32 {
	a, b := s.q.sub[off], s.q.sub[off+1]
	if a == b {
		return float32(math.Inf(1))
	}
	var sum float32
	for _, qs := range s.multi {
		best := float32(math.Inf(1))
		for j := a; j < b; j++ {
			if x := internalDist(s.dist, qs.Score(uint32(j))); x < best {
				best = x
			}
		}
		sum += best
	}
	return sum
}
