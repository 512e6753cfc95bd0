package quant

import (
	"encoding/binary"
	"iter"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/shoaldb/shoal/internal/vector"
)

// Turbo quantization is TurboQuant as Qdrant 1.19 builds it for
// quantization_config.turbo (lib/quantization/src/turboquant, mode "TQ+"):
//
//   - a vector is padded with zeros to pd dimensions (bits4: dim rounded up
//     to 2, bits2: to 4, bits1: to 8; bits1_5: 1.5·dim rounded up to 8,
//     which spreads it over half as many coordinates again, one bit each),
//     rotated (vector.Rotation over pd) and rescaled to length sqrt(pd),
//     so that its coordinates look like N(0,1) draws;
//   - training fits, per rotated coordinate, a shift (minus the median) and
//     a scale (one over the standard deviation) on at most 10,000 sample
//     vectors, pulling each coordinate onto the codebook's N(0,1) grid
//     (Qdrant's error correction; a coordinate without spread keeps 0, 1);
//   - each corrected coordinate is replaced by its nearest Lloyd-Max
//     centroid for N(0,1) (vector.TQCodebook) at 1, 2 or 4 bits;
//   - a vector keeps its length n and s = n/‖r‖, r the reconstruction
//     (centroid/scale − shift) of its rescaled coordinates.
//
// A query is rotated once and divided by the scales (q'), which with
// corr = −Σ q·shift gives ⟨q, r⟩ = ⟨q', c⟩ + corr from the centroids c
// alone, and ⟨q, x⟩ ≈ s·⟨q, r⟩: the score for Cosine and Dot; Euclid
// follows from ‖q‖² + n² − 2⟨q, x⟩. Manhattan is not kept by rotations:
// it decodes the vector (slow, as in Qdrant). 4-bit codes are scored with
// vector.DotLUT4; 1- and 2-bit codes are stored as bit planes (a 2-bit
// centroid is α(2h−1)+β(2l−1) of its two bits) and the query is quantized
// to 8 bits per dimension, so ⟨q', c⟩ comes from popcounts, as Qdrant's
// 1-bit kernels do. Searches rescore by default at 1, 1.5 and 2 bits, not
// at 4 (Config.DefaultRescore).

// turboStatsVectors bounds the vectors whose rotated coordinates train the
// shift and scale (Qdrant's MAX_STATS_VECTORS); turboStatsFloats bounds
// the floats they hold.
const (
	turboStatsVectors = 10_000
	turboStatsFloats  = 1 << 24
)

// turboBits is the stored width: 1, 15 (1.5), 2 or 4.
type turboBits uint8

var turboBitNames = map[string]turboBits{"bits1": 1, "bits1_5": 15, "bits2": 2, "bits4": 4}

// turboBitsOf is the configured width, bits4 when unset.
func (c *Config) turboBitsOf() turboBits {
	if c.TurboBits == nil {
		return 4
	}
	return turboBitNames[*c.TurboBits]
}

// paddedDim is the rotated dimension (Qdrant's TurboQuantizer::padded_dim).
func (b turboBits) paddedDim(dim int) int {
	switch b {
	case 1:
		return roundUp(dim, 8)
	case 15:
		return roundUp(dim*3/2, 8)
	case 2:
		return roundUp(dim, 4)
	}
	return roundUp(dim, 2)
}

// codeBits is the bits per stored coordinate.
func (b turboBits) codeBits() int {
	if b == 15 {
		return 1
	}
	return int(b)
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

type turboParams struct {
	bits         turboBits
	dim, pd      int
	shift, scale []float32 // per rotated coordinate
}

// The 2-bit centroids as α(2h−1)+β(2l−1) of the code's bits (h, l).
var (
	turboAlpha2 = float64(vector.TQCodebook(2)[3]+vector.TQCodebook(2)[2]) / 2
	turboBeta2  = float64(vector.TQCodebook(2)[3]-vector.TQCodebook(2)[2]) / 2
)

// rotate pads v into x (pd values), rotates it and returns its length.
func (p *turboParams) rotate(v []float32, x, tmp []float64) float64 {
	for i := range x {
		x[i] = 0
		if i < len(v) {
			x[i] = float64(v[i])
		}
	}
	vector.RotationFor(p.pd).Apply(x, tmp)
	var n2 float64
	for _, f := range x {
		n2 += f * f
	}
	return math.Sqrt(n2)
}

func trainTurbo(cfg *Config, dim int, sample iter.Seq[[]float32]) (*turboParams, error) {
	b := cfg.turboBitsOf()
	p := &turboParams{bits: b, dim: dim, pd: b.paddedDim(dim)}
	p.shift, p.scale = make([]float32, p.pd), make([]float32, p.pd)
	for i := range p.scale {
		p.scale[i] = 1
	}
	limit := min(turboStatsVectors, turboStatsFloats/p.pd)
	cols := make([][]float32, p.pd) // per coordinate, the rescaled values
	x, tmp := make([]float64, p.pd), make([]float64, p.pd)
	count := 0
	for v := range sample {
		if err := checkLen(0, v, dim); err != nil {
			return nil, err
		}
		if count == limit {
			continue // keep validating, as the other kinds do
		}
		n := p.rotate(v, x, tmp)
		if !(n > 0) || math.IsInf(n, 0) {
			continue
		}
		k := math.Sqrt(float64(p.pd)) / n
		for i, f := range x {
			cols[i] = append(cols[i], float32(f*k))
		}
		count++
	}
	for i, col := range cols {
		if len(col) == 0 {
			continue
		}
		var mean float64
		for _, f := range col {
			mean += float64(f)
		}
		mean /= float64(len(col))
		var vr float64
		for _, f := range col {
			vr += (float64(f) - mean) * (float64(f) - mean)
		}
		sigma := math.Sqrt(vr / float64(len(col)))
		if !(sigma > float32Epsilon) {
			continue
		}
		slices.Sort(col)
		m := len(col) / 2
		median := col[m]
		if len(col)%2 == 0 {
			median = (col[m-1] + col[m]) / 2
		}
		p.shift[i], p.scale[i] = -median, float32(1/sigma)
	}
	return p, nil
}

type turboEncoded struct {
	p        turboParams
	dist     vector.Distance
	n        int
	rowBytes int
	codes    []byte    // n rows
	s, norm  []float32 // per offset: s = n/‖r‖ and the length n
	words    int       // bit planes: uint64 words per plane
}

// layout is the code size of a vector: LUT4 blocks for 4 bits, else
// one (1 bit) or two (2 bits: high bits, then low bits) planes of words.
func (p *turboParams) layout() (rowBytes, words int) {
	if p.bits == 4 {
		return vector.LUT4Bytes(p.pd), 0
	}
	words = (p.pd + 63) / 64
	return words * 8 * p.bits.codeBits(), words
}

// encodeRow writes the codes of v into row and returns s and n.
func (p *turboParams) encodeRow(v []float32, row []byte, words int, sc *turboScratch) (float32, float32) {
	clear(row)
	n := p.rotate(v, sc.x, sc.tmp)
	if !(n > 0) || math.IsInf(n, 0) {
		return 0, 0
	}
	k := math.Sqrt(float64(p.pd)) / n
	cb := vector.TQCodebook(p.bits.codeBits())
	var r2 float64
	for i, f := range sc.x {
		c := vector.TQCode(p.bits.codeBits(), (f*k+float64(p.shift[i]))*float64(p.scale[i]))
		r := float64(cb[c])/float64(p.scale[i]) - float64(p.shift[i])
		r2 += r * r
		switch {
		case p.bits == 4:
			sc.codes[i] = c
		case p.bits == 2:
			if c&2 != 0 {
				row[i>>3] |= 1 << (i & 7)
			}
			if c&1 != 0 {
				row[words*8+i>>3] |= 1 << (i & 7)
			}
		default:
			if c != 0 {
				row[i>>3] |= 1 << (i & 7)
			}
		}
	}
	if p.bits == 4 {
		vector.PackLUT4(row, sc.codes[:p.pd])
	}
	if !(r2 > 0) {
		return 0, 0
	}
	return float32(n / math.Sqrt(r2)), float32(n)
}

// turboScratch is the per-goroutine scratch of encoding and decoding.
type turboScratch struct {
	x, tmp []float64
	codes  []uint8
	out    []float32
}

func newTurboScratch(pd int) *turboScratch {
	return &turboScratch{x: make([]float64, pd), tmp: make([]float64, pd), codes: make([]uint8, pd), out: make([]float32, pd)}
}

// turboEncodeBatch is how many vectors Encode copies before spreading
// their encoding over the CPUs.
const turboEncodeBatch = 1024

func (p *turboParams) encode(dist vector.Distance, n int, vec func(uint32) []float32) (Encoded, error) {
	rb, words := p.layout()
	e := &turboEncoded{p: *p, dist: dist, n: n, rowBytes: rb, words: words,
		codes: make([]byte, n*rb), s: make([]float32, n), norm: make([]float32, n)}
	workers := runtime.GOMAXPROCS(0)
	batch := make([][]float32, 0, turboEncodeBatch)
	offs := make([]int, 0, turboEncodeBatch)
	flush := func() {
		var wg sync.WaitGroup
		per := (len(batch) + workers - 1) / workers
		for w := 0; w*per < len(batch); w++ {
			lo, hi := w*per, min((w+1)*per, len(batch))
			wg.Add(1)
			go func() {
				defer wg.Done()
				sc := newTurboScratch(p.pd)
				for j := lo; j < hi; j++ {
					off := offs[j]
					e.s[off], e.norm[off] = p.encodeRow(batch[j], e.codes[off*rb:(off+1)*rb], words, sc)
				}
			}()
		}
		wg.Wait()
		batch, offs = batch[:0], offs[:0]
	}
	for off := range n {
		v := vec(uint32(off))
		if v == nil {
			continue // zero codes, s = 0: scores 0
		}
		if err := checkLen(uint32(off), v, p.dim); err != nil {
			return nil, err
		}
		batch = append(batch, slices.Clone(v))
		offs = append(offs, off)
		if len(batch) == turboEncodeBatch {
			flush()
		}
	}
	flush()
	return e, nil
}

func (e *turboEncoded) Len() int { return e.n }

func (e *turboEncoded) MemoryBytes() int {
	return len(e.codes) + 4*(len(e.s)+len(e.norm)+len(e.p.shift)+len(e.p.scale)) + 16
}

// turboScorer is one query prepared against the codes.
type turboScorer struct {
	e    *turboEncoded
	q    []float32 // q' (4 bits: padded to whole LUT4 blocks)
	corr float64   // −Σ q·shift
	qn2  float64   // ‖q‖²
	orig []float32 // Manhattan: the query as given
	// Manhattan: decoding scratch, one per concurrent Score at most,
	// allocated when first needed and then reused (a channel, not a
	// sync.Pool, which may drop what it holds).
	scratch chan *turboScratch
	// Bit planes: q' ≈ lo + delta·u, u of 8 bits; planes[8i+b] is bit b of
	// the u of dimensions 64i to 64i+63 (a word's 8 planes side by side).
	lo, delta, sum float64
	planes         []uint64
}

func (e *turboEncoded) Scorer(query []float32) Scorer {
	mustQuery(query, e.p.dim)
	p := &e.p
	s := &turboScorer{e: e}
	sc := newTurboScratch(p.pd)
	p.rotate(query, sc.x, sc.tmp)
	for _, f := range query {
		s.qn2 += float64(f) * float64(f)
	}
	qp := make([]float64, p.pd)
	for i, f := range sc.x {
		qp[i] = f / float64(p.scale[i])
		s.corr -= f * float64(p.shift[i])
	}
	if e.dist == vector.Manhattan {
		s.orig = slices.Clone(query)
		s.scratch = make(chan *turboScratch, runtime.GOMAXPROCS(0))
	}
	if p.bits == 4 {
		s.q = make([]float32, 2*e.rowBytes)
		for i, f := range qp {
			s.q[i] = float32(f)
		}
		return s
	}
	s.quantizeQuery(qp)
	return s
}

// quantizeQuery spreads q' over 256 levels between its extremes and keeps
// the levels as 8 bit planes.
func (s *turboScorer) quantizeQuery(qp []float64) {
	w := s.e.words
	s.planes = make([]uint64, 8*w)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, f := range qp {
		s.sum += f
		lo, hi = min(lo, f), max(hi, f)
	}
	s.lo = lo
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return // every level 0: q' is the constant lo
	}
	s.delta = (hi - lo) / 255
	for i, f := range qp {
		u := uint(math.Round((f - lo) / s.delta))
		for b := range 8 {
			if u>>b&1 != 0 {
				s.planes[i>>6*8+b] |= 1 << (i & 63)
			}
		}
	}
}

// planeSum is Σ q' over the set bits of plane (words uint64s, from row).
func (s *turboScorer) planeSum(plane []byte) float64 {
	w := s.e.words
	plane, qp := plane[:8*w], s.planes[:8*w]
	var cnt, weighted int
	for i := range w {
		v := binary.LittleEndian.Uint64(plane[8*i:])
		q := qp[8*i : 8*i+8 : 8*i+8]
		cnt += bits.OnesCount64(v)
		weighted += bits.OnesCount64(v&q[0]) + bits.OnesCount64(v&q[1])<<1 +
			bits.OnesCount64(v&q[2])<<2 + bits.OnesCount64(v&q[3])<<3 +
			bits.OnesCount64(v&q[4])<<4 + bits.OnesCount64(v&q[5])<<5 +
			bits.OnesCount64(v&q[6])<<6 + bits.OnesCount64(v&q[7])<<7
	}
	return s.lo*float64(cnt) + s.delta*float64(weighted)
}

// raw is ⟨q, r⟩ of the vector at off.
func (s *turboScorer) raw(off uint32) float64 {
	e := s.e
	row := e.codes[int(off)*e.rowBytes : int(off+1)*e.rowBytes]
	var qc float64
	switch e.p.bits {
	case 4:
		qc = float64(vector.DotLUT4(s.q, row, vector.TQCodebook4()))
	case 2:
		hi, lo := row[:e.words*8], row[e.words*8:]
		qc = turboAlpha2*(2*s.planeSum(hi)-s.sum) + turboBeta2*(2*s.planeSum(lo)-s.sum)
	default:
		qc = float64(vector.TQCodebook(1)[1]) * (2*s.planeSum(row) - s.sum)
	}
	return qc + s.corr
}

func (s *turboScorer) Score(off uint32) float32 {
	e := s.e
	if e.dist == vector.Manhattan {
		var sc *turboScratch
		select {
		case sc = <-s.scratch:
		default:
			sc = newTurboScratch(e.p.pd)
		}
		d := vector.L1(s.orig, e.decode(off, sc))
		select {
		case s.scratch <- sc:
		default:
		}
		return d
	}
	dot := float64(e.s[off]) * s.raw(off)
	if e.dist == vector.Euclid {
		n := float64(e.norm[off])
		return float32(math.Sqrt(max(s.qn2+n*n-2*dot, 0)))
	}
	return float32(dot)
}

func (s *turboScorer) Rows() ([]byte, int) { return s.e.codes, s.e.rowBytes }

// code returns the centroid index of rotated coordinate i at off.
func (e *turboEncoded) code(row []byte, i int) uint8 {
	switch e.p.bits {
	case 4:
		return vector.LUT4Code(row, i)
	case 2:
		h := row[i>>3] >> (i & 7) & 1
		l := row[e.words*8+i>>3] >> (i & 7) & 1
		return h<<1 | l
	}
	return row[i>>3] >> (i & 7) & 1
}

// decode reconstructs the vector at off (its first dim coordinates, in
// sc.out): s·r rotated back.
func (e *turboEncoded) decode(off uint32, sc *turboScratch) []float32 {
	p := &e.p
	out := sc.out[:p.dim]
	s := float64(e.s[off])
	if s == 0 {
		clear(out)
		return out
	}
	row := e.codes[int(off)*e.rowBytes : int(off+1)*e.rowBytes]
	cb := vector.TQCodebook(p.bits.codeBits())
	for i := range sc.x {
		sc.x[i] = (float64(cb[e.code(row, i)])/float64(p.scale[i]) - float64(p.shift[i])) * s
	}
	vector.RotationFor(p.pd).Inverse(sc.x, sc.tmp)
	for i := range out {
		out[i] = float32(sc.x[i])
	}
	return out
}
