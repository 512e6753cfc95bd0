package quant

import (
	"encoding/binary"
	"fmt"
	"io"
	"iter"
	"math"
	"math/bits"

	"github.com/shoaldb/shoal/internal/vector"
)

// Binary quantization keeps bits per dimension and scores by Hamming
// distance h (popcount of XOR), as Qdrant does:
//
//   - one_bit: bit i is x_i > 0. Read as a ±1 vector, the dot product of
//     two codes is dim - 2h, which is the score for Cosine and Dot; the L2
//     distance of ±1 vectors is 2·√h (Euclid) and the L1 distance 2h
//     (Manhattan). These only rank: rescore with the original vectors.
//   - two_bits: each x_i becomes 00, 10 or 11 as its z-score (per-dimension
//     mean and standard deviation of the training sample) is at most -2/3,
//     within ±2/3, or at least 2/3; the first bits of all dimensions come
//     first, then the second bits, and h runs over both.
//   - one_and_half_bits: as two_bits, but dimensions 2j and 2j+1 share
//     one second bit (their OR): 1.5 bits per dimension.
//
// With query_encoding scalar4bits/scalar8bits the query keeps k bits per
// dimension, quantised over [-max|q|, max|q|], stored as k bit planes; the
// weighted popcounts Σ_b popcount(v ^ plane_b)·2^b / (2^k-1) replace h, so
// dim - 2h becomes Σ sign_i·q_i / max|q| (asymmetric search).

// twoBitSigmas is the half-width, in standard deviations, of the "zero"
// band of the two-bit encodings.
const twoBitSigmas = 2.0 / 3.0

// float32Epsilon is the machine epsilon of float32.
const float32Epsilon = 0x1p-23

type binaryParams struct {
	enc       BinaryEncoding
	queryBits int
	// mean and std per dimension, two_bits and one_and_half_bits only;
	// nil without a training sample (then x > 0 sets both bits).
	mean, std []float32
}

func trainBinary(cfg *Config, dim int, sample iter.Seq[[]float32]) (*binaryParams, error) {
	p := &binaryParams{enc: cfg.binaryEncoding(), queryBits: cfg.queryBits()}
	if p.enc == OneBit {
		for v := range sample { // validate like the other kinds
			if err := checkLen(0, v, dim); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	// Welford's running mean and variance, per dimension.
	mean, m2 := make([]float64, dim), make([]float64, dim)
	n := 0
	for v := range sample {
		if err := checkLen(0, v, dim); err != nil {
			return nil, err
		}
		n++
		for i, x := range v {
			d := float64(x) - mean[i]
			mean[i] += d / float64(n)
			m2[i] += d * (float64(x) - mean[i])
		}
	}
	if n == 0 {
		return p, nil
	}
	p.mean, p.std = make([]float32, dim), make([]float32, dim)
	for i := range mean {
		p.mean[i] = float32(mean[i])
		p.std[i] = float32(math.Sqrt(m2[i] / float64(n)))
	}
	return p, nil
}

// storedBits is the number of code bits per vector.
func storedBits(enc BinaryEncoding, dim int) int {
	switch enc {
	case TwoBits:
		return 2 * dim
	case OneAndHalfBits:
		return dim + (dim+1)/2
	}
	return dim
}

// twoBits encodes x of dimension i as (first, second) bit.
func (p *binaryParams) twoBits(i int, x float32) (bool, bool) {
	if p.mean == nil {
		return x > 0, x > 0
	}
	sd := p.std[i]
	if !(sd >= float32Epsilon) { // also NaN: no spread, plain sign
		return x > 0, false
	}
	z := (x - p.mean[i]) / sd
	switch {
	case z <= -twoBitSigmas:
		return false, false
	case z < twoBitSigmas:
		return true, false
	}
	return true, true
}

// encodeBits sets the code bits of v through set(bit).
func (p *binaryParams) encodeBits(v []float32, set func(int)) {
	dim := len(v)
	for i, x := range v {
		if p.enc == OneBit {
			if x > 0 {
				set(i)
			}
			continue
		}
		b1, b2 := p.twoBits(i, x)
		if b1 {
			set(i)
		}
		if b2 {
			if p.enc == TwoBits {
				set(dim + i)
			} else {
				set(dim + i/2)
			}
		}
	}
}

func (p *binaryParams) encode(dist vector.Distance, dim, n int, vec func(uint32) []float32) (Encoded, error) {
	words := (storedBits(p.enc, dim) + 63) / 64
	e := &binaryEncoded{p: *p, dist: dist, dim: dim, n: n, words: words, codes: make([]byte, n*words*8)}
	for off := 0; off < n; off++ {
		v := vec(uint32(off))
		if v == nil {
			continue // all bits clear
		}
		if err := checkLen(uint32(off), v, dim); err != nil {
			return nil, err
		}
		dst := e.codes[off*words*8 : (off+1)*words*8]
		p.encodeBits(v, func(b int) { dst[b>>3] |= 1 << (b & 7) })
	}
	return e, nil
}

type binaryEncoded struct {
	p     binaryParams
	dist  vector.Distance
	dim   int
	n     int
	words int    // uint64 words per vector
	codes []byte // n*words*8, bit b of a vector at byte b/8, bit b%8
}

func (e *binaryEncoded) Len() int { return e.n }

func (e *binaryEncoded) MemoryBytes() int { return len(e.codes) + 4*(len(e.p.mean)+len(e.p.std)) + 16 }

func (e *binaryEncoded) Scorer(query []float32) Scorer {
	mustQuery(query, e.dim)
	s := &binaryScorer{e: e, k: e.p.queryBits}
	if s.k == 0 {
		s.q = make([]uint64, e.words)
		e.p.encodeBits(query, func(b int) { s.q[b>>6] |= 1 << (b & 63) })
		return s
	}
	s.q = scalarPlanes(e.extendQuery(query), e.words, s.k)
	return s
}

// extendQuery lines the query up with the stored bits: for two_bits the
// query again for the second bits, for one_and_half_bits the larger of
// each pair.
func (e *binaryEncoded) extendQuery(q []float32) []float32 {
	switch e.p.enc {
	case TwoBits:
		return append(append(make([]float32, 0, 2*len(q)), q...), q...)
	case OneAndHalfBits:
		out := append(make([]float32, 0, storedBits(OneAndHalfBits, len(q))), q...)
		for j := 0; j < len(q); j += 2 {
			m := q[j]
			if j+1 < len(q) && q[j+1] > m {
				m = q[j+1]
			}
			out = append(out, m)
		}
		return out
	}
	return q
}

// scalarPlanes quantises x to k bits over [-max|x|, max|x|] and returns k
// bit planes of words each: plane b holds bit b of every value.
func scalarPlanes(x []float32, words, k int) []uint64 {
	var m float32
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > m {
			m = a
		}
	}
	levels := float64(int(1)<<k - 1)
	planes := make([]uint64, k*words)
	if !(m > 0) || math.IsInf(float64(m), 0) {
		return planes // every value at code 0
	}
	delta := 2 * float64(m) / levels
	for i, v := range x {
		c := math.Round((float64(v) + float64(m)) / delta)
		if !(c > 0) {
			c = 0
		}
		code := uint(min(c, levels))
		for b := range k {
			if code>>b&1 != 0 {
				planes[b*words+i>>6] |= 1 << (i & 63)
			}
		}
	}
	return planes
}

type binaryScorer struct {
	e *binaryEncoded
	k int      // query bits: 0 for a binary query
	q []uint64 // words, or k planes of words
}

func (s *binaryScorer) Rows() ([]byte, int) { return s.e.codes, s.e.words * 8 }

func (s *binaryScorer) Score(off uint32) float32 {
	e := s.e
	w := e.words
	v := e.codes[int(off)*w*8 : (int(off)+1)*w*8]
	var h float64
	if s.k == 0 {
		q := s.q[:w]
		c := 0
		for i := range q {
			c += bits.OnesCount64(binary.LittleEndian.Uint64(v[8*i:]) ^ q[i])
		}
		h = float64(c)
	} else {
		c := 0
		for b := range s.k {
			q := s.q[b*w : (b+1)*w]
			pc := 0
			for i := range q {
				pc += bits.OnesCount64(binary.LittleEndian.Uint64(v[8*i:]) ^ q[i])
			}
			c += pc << b
		}
		h = float64(c) / float64(int(1)<<s.k-1)
	}
	switch e.dist {
	case vector.Euclid:
		return float32(2 * math.Sqrt(h))
	case vector.Manhattan:
		return float32(2 * h)
	}
	return float32(float64(e.dim) - 2*h)
}

var binaryEncodings = []BinaryEncoding{OneBit, TwoBits, OneAndHalfBits}

func (e *binaryEncoded) Encode(w io.Writer) error {
	enc := newEncoder(w, kindBinary, e.dist, e.dim, e.n)
	var ec uint8
	for i, b := range binaryEncodings {
		if b == e.p.enc {
			ec = uint8(i)
		}
	}
	enc.u8(ec)
	enc.f32s(e.p.mean)
	enc.f32s(e.p.std)
	enc.bytes(e.codes)
	return enc.finish()
}

func decodeBinary(d *decoder, cfg *Config) (Encoded, error) {
	ec := d.u8()
	if d.err == nil && int(ec) >= len(binaryEncodings) {
		return nil, corruptf("unknown binary encoding %d", ec)
	}
	e := &binaryEncoded{p: binaryParams{enc: binaryEncodings[ec], queryBits: cfg.queryBits()}, dist: d.dist, dim: d.dim, n: d.n}
	if e.p.enc != cfg.binaryEncoding() {
		return nil, fmt.Errorf("%w: stream encoding %s, config %s", ErrConfigMismatch, e.p.enc, cfg.binaryEncoding())
	}
	statsLen := 0
	if e.p.enc != OneBit {
		// Peek: statistics are either absent or one per dimension.
		if len(d.b) >= 8 && binary.LittleEndian.Uint64(d.b) != 0 {
			statsLen = d.dim
		}
	}
	e.p.mean = d.f32s(statsLen)
	e.p.std = d.f32s(statsLen)
	if statsLen == 0 {
		e.p.mean, e.p.std = nil, nil
	}
	e.words = (storedBits(e.p.enc, e.dim) + 63) / 64
	e.codes = d.bytes(e.n * e.words * 8)
	if err := d.end(); err != nil {
		return nil, err
	}
	return e, nil
}
