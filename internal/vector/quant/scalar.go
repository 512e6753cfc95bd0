package quant

import (
	"io"
	"iter"
	"math"

	"github.com/shoaldb/shoal/internal/vector"
)

// Scalar (int8) quantization maps every component x of every vector onto
// one byte c with a single affine map for the whole collection:
//
//	x ≈ alpha*c + offset,  c = clamp(round((x-offset)/alpha), 0, 255)
//
// where [offset, offset+255*alpha] is the range of the components with
// outliers cut by the quantile (see trainScalar), or their whole range.
// The query is encoded the same way, and the uint8 kernels give exact
// integer sums, from which:
//
//	dot(q, v) ≈ alpha²·Σcq·cv + alpha·offset·Σcq + alpha·offset·Σcv + dim·offset²
//	|q - v|²  ≈ alpha²·Σ(cq-cv)²
//	|q - v|₁  ≈ alpha·Σ|cq-cv|
//
// The Σcv term is a per-vector constant stored next to the codes (Qdrant's
// vector offset), the Σcq and dim·offset² terms are computed once per
// query. Qdrant keeps codes in [0, 127] for its signed SIMD multiply; the
// uint8 kernels here take the full [0, 255], halving the rounding error.

// scalarLevels is the largest code.
const scalarLevels = 255

// quantileVectors is how many vectors of the sample the quantile is taken
// over, as in Qdrant.
const quantileVectors = 5000

// maxQuantileValues bounds the components kept to find the quantile
// (16 MiB of float32), so wide vectors use fewer vectors.
const maxQuantileValues = 1 << 22

type scalarParams struct {
	dist   vector.Distance
	alpha  float32
	offset float32
}

// trainScalar finds the range [offset, offset+255*alpha]: the whole range
// of the sample's components, or with a quantile q < 1 the range left after
// cutting the floor(vectors*(1-q)/2) smallest and largest components of up
// to 5000 sampled vectors. As in Qdrant the cut counts vectors, not
// components, so it clips a share (1-q)/dim of the components: only
// outliers, which is what keeps 8 bits precise where the data is.
func trainScalar(cfg *Config, dist vector.Distance, dim int, sample iter.Seq[[]float32]) (*scalarParams, error) {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	var values []float32
	nvec := 0
	useQuantile := cfg.Quantile != nil && *cfg.Quantile < 1
	for v := range sample {
		if err := checkLen(0, v, dim); err != nil {
			return nil, err
		}
		for _, x := range v {
			if x < lo {
				lo = x
			}
			if x > hi {
				hi = x
			}
		}
		if useQuantile && nvec < quantileVectors && len(values)+dim <= maxQuantileValues {
			values = append(values, v...)
			nvec++
		}
	}
	p := &scalarParams{dist: dist}
	if lo > hi { // no sample, or only NaNs
		return p, nil
	}
	// Like Qdrant, fewer than 127 vectors keep the whole range.
	if useQuantile && nvec >= 127 && len(values) >= 4 {
		cut := int(float64(nvec) * (1 - float64(*cfg.Quantile)) / 2)
		cut = max(1, min(cut, (len(values)-1)/2))
		lo = selectNth(values, cut)
		hi = selectNth(values, len(values)-1-cut)
	}
	p.offset = lo
	p.alpha = (hi - lo) / scalarLevels
	if !(p.alpha > 0) || math.IsInf(float64(p.alpha), 0) {
		p.alpha = 0
	}
	return p, nil
}

// selectNth returns the k-th smallest value of a, reordering it
// (quickselect, middle pivot; NaNs sort last).
func selectNth(a []float32, k int) float32 {
	less := func(x, y float32) bool { return x < y || (y != y && x == x) }
	lo, hi := 0, len(a)-1
	for lo < hi {
		p := a[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for less(a[i], p) {
				i++
			}
			for less(p, a[j]) {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

func (p *scalarParams) code(x float32) byte {
	if p.alpha == 0 {
		return 0
	}
	c := math.Round(float64((x - p.offset) / p.alpha))
	if !(c > 0) { // also NaN
		return 0
	}
	if c > scalarLevels {
		return scalarLevels
	}
	return byte(c)
}

func (p *scalarParams) encodeInto(dst []byte, v []float32) (sum uint64) {
	for i, x := range v {
		c := p.code(x)
		dst[i] = c
		sum += uint64(c)
	}
	return sum
}

// usesCorrection reports whether the per-vector Σcv term is stored.
func (p *scalarParams) usesCorrection() bool { return p.dist == vector.Cosine || p.dist == vector.Dot }

func (p *scalarParams) encode(dim, n int, vec func(uint32) []float32) (Encoded, error) {
	e := &scalarEncoded{p: *p, dim: dim, n: n, codes: make([]byte, n*dim)}
	if p.usesCorrection() {
		e.corr = make([]float32, n)
	}
	zero := make([]float32, dim)
	for off := 0; off < n; off++ {
		v := vec(uint32(off))
		if v == nil {
			v = zero
		} else if err := checkLen(uint32(off), v, dim); err != nil {
			return nil, err
		}
		sum := p.encodeInto(e.codes[off*dim:(off+1)*dim], v)
		if e.corr != nil {
			e.corr[off] = p.alpha * p.offset * float32(sum)
		}
	}
	return e, nil
}

type scalarEncoded struct {
	p     scalarParams
	dim   int
	n     int
	codes []byte    // n*dim
	corr  []float32 // n, Cosine and Dot only: alpha*offset*Σcv
}

func (e *scalarEncoded) Len() int { return e.n }

func (e *scalarEncoded) MemoryBytes() int { return len(e.codes) + 4*len(e.corr) + 16 }

func (e *scalarEncoded) Scorer(query []float32) Scorer {
	mustQuery(query, e.dim)
	q := make([]byte, e.dim)
	sum := e.p.encodeInto(q, query)
	a := float64(e.p.alpha)
	switch e.p.dist {
	case vector.Euclid:
		return &scalarL2{e: e, q: q, scale: a * a}
	case vector.Manhattan:
		return &scalarL1{e: e, q: q, scale: a}
	}
	m := float64(e.p.offset)
	return &scalarDot{e: e, q: q, scale: a * a, shift: a*m*float64(sum) + float64(e.dim)*m*m}
}

func (e *scalarEncoded) vec(off uint32) []byte {
	i := int(off) * e.dim
	return e.codes[i : i+e.dim : i+e.dim]
}

func (s *scalarDot) Rows() ([]byte, int) { return s.e.codes, s.e.dim }
func (s *scalarL2) Rows() ([]byte, int)  { return s.e.codes, s.e.dim }
func (s *scalarL1) Rows() ([]byte, int)  { return s.e.codes, s.e.dim }

type scalarDot struct {
	e            *scalarEncoded
	q            []byte
	scale, shift float64
}

func (s *scalarDot) Score(off uint32) float32 {
	d := vector.DotU8(s.q, s.e.vec(off))
	return float32(s.scale*float64(d) + s.shift + float64(s.e.corr[off]))
}

type scalarL2 struct {
	e     *scalarEncoded
	q     []byte
	scale float64
}

func (s *scalarL2) Score(off uint32) float32 {
	return float32(math.Sqrt(s.scale * float64(vector.L2U8(s.q, s.e.vec(off)))))
}

type scalarL1 struct {
	e     *scalarEncoded
	q     []byte
	scale float64
}

func (s *scalarL1) Score(off uint32) float32 {
	return float32(s.scale * float64(vector.L1U8(s.q, s.e.vec(off))))
}

func (e *scalarEncoded) Encode(w io.Writer) error {
	enc := newEncoder(w, kindScalar, e.p.dist, e.dim, e.n)
	enc.f32(e.p.alpha)
	enc.f32(e.p.offset)
	enc.bytes(e.codes)
	enc.f32s(e.corr)
	return enc.finish()
}

func decodeScalar(d *decoder) (Encoded, error) {
	e := &scalarEncoded{p: scalarParams{dist: d.dist}, dim: d.dim, n: d.n}
	e.p.alpha = d.f32()
	e.p.offset = d.f32()
	e.codes = d.bytes(e.n * e.dim)
	if e.p.usesCorrection() {
		e.corr = d.f32s(e.n)
	} else {
		d.f32s(0)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	if !(e.p.alpha >= 0) || math.IsInf(float64(e.p.alpha), 0) || math.IsNaN(float64(e.p.offset)) {
		return nil, corruptf("scalar range alpha=%v offset=%v", e.p.alpha, e.p.offset)
	}
	return e, nil
}
