package vector

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// TurboQuant (Zandieh et al., "TurboQuant: Online Vector Quantization with
// Near-optimal Distortion Rate", 2025), as Qdrant 1.19 implements it
// (lib/quantization/src/turboquant): a vector is rotated (Rotation), its
// coordinates are rescaled so that the rotated vector has length
// sqrt(dim) — they then look like N(0,1) draws — and each is replaced by
// the index of the nearest centroid of a Lloyd-Max codebook for N(0,1).
// Two numbers per vector undo the scale: its length n and s = n/‖c‖, ‖c‖
// the length of its centroid vector, so that s·c is a rotated vector of
// exactly the original length. An inner product with a query q is then
// estimated from the rotated query without decoding: ⟨q, x⟩ ≈ s·⟨Rq, c⟩
// (Qdrant's "renormalised" estimator, which corrects the codebook's
// shrinkage); the Euclidean distance follows from ‖q‖² + n² − 2⟨q, x⟩.
// Manhattan distances are not kept by rotations: they decode the vector.
//
// Turbo4 is the turbo4 storage datatype: 4 bits per dimension, rotation
// over the vector's own dimension (Qdrant's TQDT: Bits4, Normal mode,
// Unpadded rotation). Quantization with more options (1, 1.5 and 2 bits,
// per-coordinate error correction) is package quant's, on the same
// codebooks and rotation.

// The Lloyd-Max codebooks for N(0,1) (Qdrant's lloyd_max.rs): the
// centroids of 2, 4 and 16 levels, each the mean of N(0,1) between the
// midpoints to its neighbours.
var (
	tqCentroids1 = [2]float32{-0.7978846, 0.7978846}
	tqCentroids2 = [4]float32{-1.510, -0.4528, 0.4528, 1.510}
	tqCentroids4 = [16]float32{
		-2.733, -2.069, -1.618, -1.256, -0.9424, -0.6568, -0.3881, -0.1284,
		0.1284, 0.3881, 0.6568, 0.9424, 1.256, 1.618, 2.069, 2.733,
	}
	tqBounds1, tqBounds2, tqBounds4 = tqBoundaries(tqCentroids1[:]), tqBoundaries(tqCentroids2[:]), tqBoundaries(tqCentroids4[:])
)

// tqBoundaries are the midpoints of consecutive centroids, in float32 as
// Qdrant computes them.
func tqBoundaries(c []float32) []float32 {
	b := make([]float32, len(c)-1)
	for i := range b {
		b[i] = (c[i] + c[i+1]) / 2
	}
	return b
}

// TQCodebook returns the Lloyd-Max centroids for N(0,1) at 1, 2 or 4 bits
// (shared; do not modify).
func TQCodebook(bits int) []float32 {
	switch bits {
	case 1:
		return tqCentroids1[:]
	case 2:
		return tqCentroids2[:]
	case 4:
		return tqCentroids4[:]
	}
	panic(fmt.Sprintf("vector: no %d-bit TurboQuant codebook", bits))
}

// TQCodebook4 is the 4-bit codebook as DotLUT4's table (shared; do not
// modify).
func TQCodebook4() *[16]float32 { return &tqCentroids4 }

// TQCode returns the index of the codebook entry nearest y, bits 1, 2 or
// 4: the number of boundaries y, read as a float32, is above. NaN gives 0.
func TQCode(bits int, y float64) uint8 {
	var b []float32
	switch bits {
	case 1:
		b = tqBounds1
	case 2:
		b = tqBounds2
	default:
		b = tqBounds4
	}
	f := float32(y)
	lo, hi := 0, len(b)
	for lo < hi {
		m := (lo + hi) / 2
		if f > b[m] {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return uint8(lo)
}

// turbo4Extras is the size of a row's trailer: s and n as float32.
const turbo4Extras = 8

// Turbo4 encodes and scores the rows of a turbo4 column of one dimension
// and distance. A row is the 4-bit codes of the rotated vector packed in
// LUT4 blocks (padding dimensions have code 0 and count for nothing),
// then s and n as little-endian float32. Vectors are given as stored
// (normalised for Cosine). A Turbo4 is immutable and safe for concurrent
// use; encoding is deterministic, so a vector always gets the same row.
type Turbo4 struct {
	dim   int
	dist  Distance
	rot   *Rotation
	codes int // bytes of codes, LUT4Bytes(dim)
}

// NewTurbo4 returns the codec of dim (>= 1) dimensions under dist.
func NewTurbo4(dim int, dist Distance) *Turbo4 {
	if dim < 1 {
		panic("vector: turbo4 dimension < 1")
	}
	return &Turbo4{dim: dim, dist: dist, rot: RotationFor(dim), codes: LUT4Bytes(dim)}
}

// RowBytes is the size of one encoded vector.
func (t *Turbo4) RowBytes() int { return t.codes + turbo4Extras }

// Dim is the dimension of the vectors.
func (t *Turbo4) Dim() int { return t.dim }

// tqScratch holds the buffers of a rotation and of a decoded vector.
type tqScratch struct {
	x, tmp []float64
	out    []float32
}

var tqScratchPool sync.Pool

func newScratch(dim int) *tqScratch {
	return &tqScratch{x: make([]float64, dim), tmp: make([]float64, dim), out: make([]float32, dim)}
}

// getScratch takes scratch for dim dimensions from the pool; put it back
// with tqScratchPool.Put.
func getScratch(dim int) *tqScratch {
	sc, _ := tqScratchPool.Get().(*tqScratch)
	if sc == nil || cap(sc.x) < dim {
		return newScratch(dim)
	}
	sc.x, sc.tmp, sc.out = sc.x[:dim], sc.tmp[:dim], sc.out[:dim]
	return sc
}

// Encode writes the row of v (Dim values, as stored) into dst (RowBytes).
// A zero vector, or one whose length is not finite, gets s = n = 0 and
// decodes to zeros.
func (t *Turbo4) Encode(dst []byte, v []float32) {
	dst = dst[:t.RowBytes()]
	sc := getScratch(t.dim)
	defer tqScratchPool.Put(sc)
	x := sc.x
	for i, f := range v[:t.dim] {
		x[i] = float64(f)
	}
	t.rot.Apply(x, sc.tmp)
	var n2 float64
	for _, f := range x {
		n2 += f * f
	}
	n := math.Sqrt(n2)
	clear(dst[:t.codes])
	var s float32
	if n > 0 && !math.IsInf(n, 0) {
		k := math.Sqrt(float64(t.dim)) / n
		var c2 float64
		for i, f := range x {
			c := TQCode(4, f*k)
			c2 += float64(tqCentroids4[c]) * float64(tqCentroids4[c])
			blk, r := i/LUT4Block, i%LUT4Block
			if r < LUT4Block/2 {
				dst[blk*16+r] |= c
			} else {
				dst[blk*16+r-16] |= c << 4
			}
		}
		s = float32(n / math.Sqrt(c2))
	} else {
		n = 0
	}
	binary.LittleEndian.PutUint32(dst[t.codes:], math.Float32bits(s))
	binary.LittleEndian.PutUint32(dst[t.codes+4:], math.Float32bits(float32(n)))
}

// extras reads s and n of a row.
func (t *Turbo4) extras(row []byte) (s, n float32) {
	return math.Float32frombits(binary.LittleEndian.Uint32(row[t.codes:])),
		math.Float32frombits(binary.LittleEndian.Uint32(row[t.codes+4:]))
}

// CheckRow reports a row Encode cannot have written: of the wrong size,
// or with a negative, NaN or infinite s or n.
func (t *Turbo4) CheckRow(row []byte) error {
	if len(row) != t.RowBytes() {
		return fmt.Errorf("turbo4 row of %d bytes, want %d", len(row), t.RowBytes())
	}
	s, n := t.extras(row)
	for _, f := range []float32{s, n} {
		if !(f >= 0) || math.IsInf(float64(f), 0) {
			return fmt.Errorf("turbo4 row with scale %v, length %v", s, n)
		}
	}
	return nil
}

// Decode appends the vector of row to dst: the centroids times s, rotated
// back. The result has the stored length n (up to rounding); a zero row
// gives exact zeros.
func (t *Turbo4) Decode(dst []float32, row []byte) []float32 {
	sc := getScratch(t.dim)
	defer tqScratchPool.Put(sc)
	return append(dst, t.decodeInto(sc, row)...)
}

// decodeInto decodes row into sc.out and returns it (valid until sc is
// used again).
func (t *Turbo4) decodeInto(sc *tqScratch, row []byte) []float32 {
	out := sc.out[:t.dim]
	s, _ := t.extras(row)
	if s == 0 {
		clear(out)
		return out
	}
	x := sc.x[:t.dim]
	for i := range x {
		x[i] = float64(tqCentroids4[LUT4Code(row, i)]) * float64(s)
	}
	t.rot.Inverse(x, sc.tmp)
	for i, f := range x {
		out[i] = float32(f)
	}
	return out
}

// T4Query is one query prepared against turbo4 rows: rotated once, then
// scored against any row. It keeps scratch for Manhattan, so one T4Query
// serves one goroutine at a time.
type T4Query struct {
	t    *Turbo4
	q    []float32 // the rotated query, padded with zeros to whole blocks
	qn2  float64   // ‖q‖²
	orig []float32 // Manhattan: the query as given
	sc   *tqScratch
}

// Query prepares q (Dim values, as stored: normalised for Cosine).
func (t *Turbo4) Query(q []float32) *T4Query {
	p := &T4Query{t: t, q: make([]float32, 2*t.codes)}
	sc := getScratch(t.dim)
	defer tqScratchPool.Put(sc)
	for i, f := range q[:t.dim] {
		sc.x[i] = float64(f)
		p.qn2 += float64(f) * float64(f)
	}
	t.rot.Apply(sc.x, sc.tmp)
	for i, f := range sc.x {
		p.q[i] = float32(f)
	}
	if t.dist == Manhattan {
		p.orig = append([]float32(nil), q[:t.dim]...)
		p.sc = newScratch(t.dim)
	}
	return p
}

// StoredQuery prepares the vector of row as a query (linking a stored
// vector): its rotated form is s times its centroids, so nothing is
// rotated (except for Manhattan, which decodes it).
func (t *Turbo4) StoredQuery(row []byte) *T4Query {
	p := &T4Query{t: t, q: make([]float32, 2*t.codes)}
	s, n := t.extras(row)
	for i := range t.dim {
		p.q[i] = tqCentroids4[LUT4Code(row, i)] * s
	}
	p.qn2 = float64(n) * float64(n)
	if t.dist == Manhattan {
		p.sc = newScratch(t.dim)
		p.orig = append([]float32(nil), t.decodeInto(p.sc, row)...)
	}
	return p
}

// dot estimates ⟨q, x⟩ of the row's vector x.
func (p *T4Query) dot(row []byte) float64 {
	s, _ := p.t.extras(row)
	return float64(DotLUT4(p.q, row, &tqCentroids4)) * float64(s)
}

// Score approximates Distance.Score of the query and the row's vector.
func (p *T4Query) Score(row []byte) float32 {
	switch p.t.dist {
	case Euclid:
		return float32(math.Sqrt(p.sqDist(row)))
	case Manhattan:
		return L1(p.orig, p.t.decodeInto(p.sc, row))
	}
	return float32(p.dot(row))
}

// Dist is the graph's internal distance (see package hnsw): the negated
// similarity, the squared Euclidean distance, or the Manhattan distance.
func (p *T4Query) Dist(row []byte) float32 {
	switch p.t.dist {
	case Euclid:
		return float32(p.sqDist(row))
	case Manhattan:
		return p.Score(row)
	}
	return float32(-p.dot(row))
}

// sqDist is ‖q‖² + n² − 2⟨q, x⟩, at least 0.
func (p *T4Query) sqDist(row []byte) float64 {
	_, n := p.t.extras(row)
	d := p.qn2 + float64(n)*float64(n) - 2*p.dot(row)
	return max(d, 0)
}

// tqProducts4[a<<4|b] is centroid a times centroid b.
var tqProducts4 = func() (p [256]float32) {
	for a, x := range tqCentroids4 {
		for b, y := range tqCentroids4 {
			p[a<<4|b] = x * y
		}
	}
	return p
}()

// Pair is the graph's internal distance between two rows, estimated from
// the codes alone (Qdrant's symmetric score) except for Manhattan, which
// decodes both.
func (t *Turbo4) Pair(a, b []byte) float32 {
	if t.dist == Manhattan {
		sa, sb := getScratch(t.dim), getScratch(t.dim)
		defer tqScratchPool.Put(sa)
		defer tqScratchPool.Put(sb)
		return L1(t.decodeInto(sa, a), t.decodeInto(sb, b))
	}
	sa, na := t.extras(a)
	sb, nb := t.extras(b)
	dot := float64(t.codeDot(a, b)) * float64(sa) * float64(sb)
	if t.dist == Euclid {
		return float32(max(float64(na)*float64(na)+float64(nb)*float64(nb)-2*dot, 0))
	}
	return float32(-dot)
}

// codeDot is Σ centroid(a_i)·centroid(b_i) over the real dimensions.
func (t *Turbo4) codeDot(a, b []byte) float32 {
	var s0, s1 float32
	full := t.dim / LUT4Block
	for i := range full * 16 {
		x, y := a[i], b[i]
		s0 += tqProducts4[(x&15)<<4|y&15]
		s1 += tqProducts4[(x>>4)<<4|y>>4]
	}
	for i := full * LUT4Block; i < t.dim; i++ {
		s0 += tqProducts4[LUT4Code(a, i)<<4|LUT4Code(b, i)]
	}
	return s0 + s1
}
