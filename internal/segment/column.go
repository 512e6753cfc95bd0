package segment

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/shoaldb/shoal/internal/index/hnsw"
	"github.com/shoaldb/shoal/internal/vector"
)

// Datatype is the element type a vector column stores, Qdrant's
// VectorParams.datatype. Vectors come in and go out as float32 whatever
// the datatype; float16 halves the column and uint8 quarters it; turbo4
// keeps 4-bit TurboQuant codes and 8 bytes per vector (turbo4.go), and
// reads give back the decoded approximation.
type Datatype string

// The storage datatypes. The zero value means Float32.
const (
	Float32 Datatype = "float32"
	Float16 Datatype = "float16"
	Uint8   Datatype = "uint8"
	Turbo4  Datatype = "turbo4"
)

// ParseDatatype validates a wire name; "" is Float32.
func ParseDatatype(s string) (Datatype, error) {
	switch d := Datatype(s); d {
	case "", Float32:
		return Float32, nil
	case Float16, Uint8, Turbo4:
		return d, nil
	}
	return "", fmt.Errorf("unknown variant `%s`, expected one of `float32`, `uint8`, `float16`, `turbo4`", s)
}

// orDefault maps the zero value to Float32.
func (d Datatype) orDefault() Datatype {
	if d == "" {
		return Float32
	}
	return d
}

// elemBytes is the size of one stored element.
func (d Datatype) elemBytes() int {
	switch d.orDefault() {
	case Float16:
		return 2
	case Uint8:
		return 1
	}
	return 4
}

// column is one named vector's storage: dim elements per offset in the
// slice of its datatype (only one of data, f16, u8 is used), or for
// turbo4 one row of codes per vector in tq (turbo4.go). A multivector
// column (spec.Multi) holds a variable number of dim-element sub-vectors
// per offset instead, placed by rows (multi.go); a row is then all of an
// offset's sub-vectors, one after the other.
type column struct {
	spec VectorSpec
	data []float32
	f16  []uint16 // IEEE binary16 bits
	u8   []uint8
	tq   []byte         // turbo4 rows, one per (sub-)vector (turbo4.go)
	t4   *vector.Turbo4 // turbo4: the codec
	has  []bool
	ext  *mapping   // the file the elements live in, when on disk (read-only)
	rows *multiRows // multivector columns only: where each offset's sub-vectors lie
}

func newColumn(spec VectorSpec, slots int) *column {
	spec.Datatype = spec.Datatype.orDefault()
	c := &column{spec: spec, has: make([]bool, slots)}
	if spec.Datatype == Turbo4 {
		c.t4 = vector.NewTurbo4(spec.Dim, spec.Distance)
	}
	if spec.Multi {
		c.rows = newMultiRows(slots)
		return c
	}
	n := slots * spec.Dim
	switch spec.Datatype {
	case Float16:
		c.f16 = make([]uint16, n)
	case Uint8:
		c.u8 = make([]uint8, n)
	case Turbo4:
		c.tq = make([]byte, slots*c.t4.RowBytes())
	default:
		c.data = make([]float32, n)
	}
	return c
}

// grow appends one empty slot.
func (c *column) grow() {
	c.has = append(c.has, false)
	if c.rows != nil {
		c.rows.grow() // a multivector takes room when it is set
		return
	}
	c.extend(c.spec.Dim)
}

// slots is the number of offsets the column has room for.
func (c *column) slots() int { return len(c.has) }

// set stores v (already validated and preprocessed) at off, converted to
// the column's datatype: float16 rounds to nearest even; uint8 truncates
// toward zero and saturates at 0 and 255, as Rust's `as u8` does in Qdrant.
// For a multivector column v is its sub-vectors flattened (a positive
// multiple of dim floats).
func (c *column) set(off uint32, v []float32) {
	d := c.spec.Dim
	i := int(off) * d
	if c.rows != nil {
		d = len(v) / c.spec.Dim * c.spec.Dim
		i = c.place(off, len(v)/c.spec.Dim) * c.spec.Dim
	}
	switch c.spec.Datatype {
	case Float16:
		vector.EncodeF16To(c.f16[i:i+d], v[:d])
	case Uint8:
		toU8(c.u8[i:i+d], v[:d])
	case Turbo4:
		dim := c.spec.Dim
		for j := 0; j < d; j += dim {
			c.t4.Encode(c.tqRow((i+j)/dim), v[j:j+dim])
		}
	default:
		copy(c.data[i:i+d], v[:d])
	}
}

// toU8 converts as Rust's saturating float-to-int cast: NaN is 0.
func toU8(dst []uint8, src []float32) {
	for j, x := range src {
		switch {
		case !(x > 0): // also NaN
			dst[j] = 0
		case x >= 255:
			dst[j] = 255
		default:
			dst[j] = uint8(x)
		}
	}
}

// get returns a float32 copy of the vector at off (a multivector
// flattened).
func (c *column) get(off uint32) []float32 {
	i, n := c.span(off)
	return c.appendElems(make([]float32, 0, n), i, n)
}

// appendTo appends the vector at off as float32 to dst.
func (c *column) appendTo(dst []float32, off uint32) []float32 {
	i, n := c.span(off)
	return c.appendElems(dst, i, n)
}

// span is where the row of off lies: its first element and its number of
// elements (dim, or dim per sub-vector of a multivector).
func (c *column) span(off uint32) (int, int) {
	d := c.spec.Dim
	if c.rows != nil {
		return c.rows.start[off] * d, int(c.rows.count[off]) * d
	}
	return int(off) * d, d
}

// appendElems appends elements [i, i+d) as float32 to dst.
func (c *column) appendElems(dst []float32, i, d int) []float32 {
	switch c.spec.Datatype {
	case Float16:
		for _, h := range c.f16[i : i+d] {
			dst = append(dst, vector.Float16ToFloat32(h))
		}
	case Uint8:
		for _, b := range c.u8[i : i+d] {
			dst = append(dst, float32(b))
		}
	case Turbo4:
		dim := c.spec.Dim
		for j := i; j < i+d; j += dim {
			dst = c.t4.Decode(dst, c.tqRow(j/dim))
		}
	default:
		dst = append(dst, c.data[i:i+d]...)
	}
	return dst
}

// clone copies the column (a build snapshot).
func (c *column) clone() *column {
	return &column{
		spec: c.spec,
		data: append([]float32(nil), c.data...),
		f16:  append([]uint16(nil), c.f16...),
		u8:   append([]uint8(nil), c.u8...),
		tq:   append([]byte(nil), c.tq...),
		t4:   c.t4,
		has:  append([]bool(nil), c.has...),
		rows: c.rows.clone(),
	}
}

// bytes is the memory of the stored elements.
func (c *column) bytes() int64 {
	return int64(4*len(c.data) + 2*len(c.f16) + len(c.u8) + len(c.tq))
}

// colScorer scores stored vectors against one query exactly, in the
// column's datatype: the query is converted once (to float16, or to uint8
// like the stored vectors), then each candidate costs one kernel call
// (two for uint8 Cosine, which Qdrant computes unnormalised).
//
// For a multivector column the query is a multivector too (nq sub-vectors
// flattened) and every score is max_sim (multi.go).
type colScorer struct {
	c     *column
	dist  vector.Distance
	q     []float32
	qh    []uint16
	qb    []uint8
	qnorm float64 // uint8 Cosine: the query's squared norm
	nq    int     // multivector columns: the query's sub-vectors (0 otherwise)
	// turbo4: the rotated query, or one per sub-vector of a multivector.
	t4q  *vector.T4Query
	t4qs []*vector.T4Query
}

// scorer prepares q, preprocessed as the column's vectors are.
func (c *column) scorer(q []float32) *colScorer {
	s := &colScorer{c: c, dist: c.spec.Distance, q: q}
	if c.rows != nil {
		s.nq = len(q) / c.spec.Dim
	}
	switch c.spec.Datatype {
	case Float16:
		s.qh = vector.EncodeF16(q)
	case Uint8:
		s.qb = make([]uint8, len(q))
		toU8(s.qb, q)
		if s.nq == 0 {
			s.qnorm = float64(vector.DotU8(s.qb, s.qb))
		}
	case Turbo4:
		if s.nq == 0 {
			s.t4q = c.t4.Query(q)
		}
		for k := range s.nq {
			d := c.spec.Dim
			s.t4qs = append(s.t4qs, c.t4.Query(q[k*d:(k+1)*d]))
		}
	}
	return s
}

// storedScorer prepares the stored vector at off as a query (linking). It
// returns a value so that Pair does not allocate.
func (c *column) storedScorer(off uint32) colScorer {
	i, d := c.span(off)
	s := colScorer{c: c, dist: c.spec.Distance}
	if c.rows != nil {
		s.nq = d / c.spec.Dim
	}
	switch c.spec.Datatype {
	case Float16:
		s.qh = c.f16[i : i+d]
	case Uint8:
		s.qb = c.u8[i : i+d]
		if s.nq == 0 {
			s.qnorm = float64(vector.DotU8(s.qb, s.qb))
		}
	case Turbo4:
		if s.nq == 0 {
			s.t4q = c.t4.StoredQuery(c.rowTQ(off))
		}
		for k := range s.nq {
			s.t4qs = append(s.t4qs, c.t4.StoredQuery(c.tqRow(i/c.spec.Dim+k)))
		}
	default:
		s.q = c.data[i : i+d]
	}
	return s
}

// Score is the user-facing score (vector.Distance.Score's convention) of
// the stored vector at off, which must be in range.
func (s *colScorer) Score(off uint32) float32 {
	if s.c.rows != nil {
		return multiScore(s.dist, s.multiDist(off))
	}
	d := s.dist
	switch {
	case s.t4q != nil:
		return s.t4q.Score(s.c.rowTQ(off))
	case s.qh != nil:
		v := s.c.rowF16(off)
		switch d {
		case vector.Euclid:
			return float32(math.Sqrt(float64(vector.L2F16(s.qh, v))))
		case vector.Manhattan:
			return vector.L1F16(s.qh, v)
		}
		return vector.DotF16(s.qh, v)
	case s.qb != nil:
		v := s.c.rowU8(off)
		switch d {
		case vector.Euclid:
			return float32(math.Sqrt(float64(vector.L2U8(s.qb, v))))
		case vector.Manhattan:
			return float32(vector.L1U8(s.qb, v))
		case vector.Cosine:
			vn := float64(vector.DotU8(v, v))
			if vn == 0 || s.qnorm == 0 {
				return 0
			}
			return float32(float64(vector.DotU8(s.qb, v)) / math.Sqrt(s.qnorm*vn))
		}
		return float32(vector.DotU8(s.qb, v))
	}
	return d.Score(s.q, s.c.rowF32(off))
}

// Rows hands the graph the column's rows to prefetch (hnsw.RowScorer);
// none for a multivector column, whose rows are not of one size.
func (s *colScorer) Rows() ([]byte, int) {
	c, d := s.c, s.c.spec.Dim
	switch {
	case c.rows != nil:
		return nil, 0
	case s.t4q != nil:
		return c.tq, c.t4.RowBytes()
	case s.qh != nil:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(c.f16))), 2*len(c.f16)), 2 * d
	case s.qb != nil:
		return c.u8, d
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(c.data))), 4*len(c.data)), 4 * d
}

// Dist is the graph's internal distance (hnsw.Scorer): lower is better,
// squared for Euclid; +Inf past the column's end.
func (s *colScorer) Dist(off uint32) float32 {
	if int(off) >= s.c.slots() {
		return float32(math.Inf(1))
	}
	if s.c.rows != nil {
		return s.multiDist(off)
	}
	if s.t4q != nil {
		return s.t4q.Dist(s.c.rowTQ(off))
	}
	switch s.dist {
	case vector.Euclid:
		switch {
		case s.qh != nil:
			return vector.L2F16(s.qh, s.c.rowF16(off))
		case s.qb != nil:
			return float32(vector.L2U8(s.qb, s.c.rowU8(off)))
		}
		return vector.SquaredL2(s.q, s.c.rowF32(off))
	case vector.Manhattan:
		return s.Score(off)
	}
	return -s.Score(off)
}

// rowF32, rowF16 and rowU8 are the stored elements of off: dim of them,
// or every sub-vector of a multivector.
func (c *column) rowF32(off uint32) []float32 {
	i, n := c.span(off)
	return c.data[i : i+n]
}

func (c *column) rowF16(off uint32) []uint16 {
	i, n := c.span(off)
	return c.f16[i : i+n]
}

func (c *column) rowU8(off uint32) []uint8 {
	i, n := c.span(off)
	return c.u8[i : i+n]
}

// vectorsOf serves a column to a graph: float32 rows directly, other
// datatypes (turbo4 included) and multivectors (whose distance is max_sim)
// through hnsw.Space.
func vectorsOf(c *column) hnsw.Vectors {
	if c.spec.Datatype == Float32 && c.rows == nil {
		return columnVectors{c}
	}
	return columnSpace{c: c, probe: make([]float32, c.spec.Dim)}
}

// columnVectors serves a float32 column.
type columnVectors struct{ c *column }

func (v columnVectors) Vector(off uint32) []float32 {
	if int(off) >= v.c.slots() {
		return nil
	}
	return v.c.rowF32(off)
}

// Flat lets the graph read rows straight from the column (and prefetch
// them): the rows of every slot, in order.
func (v columnVectors) Flat() []float32 {
	if n := v.c.slots() * v.c.spec.Dim; n <= len(v.c.data) {
		return v.c.data[:n:n]
	}
	return nil
}

// columnSpace serves a float16, uint8 or turbo4 column: the graph reads Vector
// only for its length, so it gets a shared scratch of Dim floats.
type columnSpace struct {
	c     *column
	probe []float32
}

func (v columnSpace) Vector(off uint32) []float32 {
	if int(off) >= v.c.slots() {
		return nil
	}
	return v.probe
}

func (v columnSpace) Query(q []float32) hnsw.Scorer { return v.c.scorer(q) }
func (v columnSpace) Stored(off uint32) hnsw.Scorer {
	s := v.c.storedScorer(off)
	return &s
}

func (v columnSpace) Pair(a, b uint32) float32 {
	if v.c.t4 != nil {
		return v.c.pairT4(a, b)
	}
	s := v.c.storedScorer(a)
	return s.Dist(b)
}
