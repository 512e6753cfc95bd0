package quant

import (
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"

	"github.com/shoaldb/shoal/internal/vector"
)

// Product quantization cuts a vector into chunks of cs consecutive
// dimensions (cs = 1, 2, 4, 8, 16 for x4 ... x64: one code byte per cs
// float32s), learns 256 centroids per chunk by k-means on a sample, and
// stores for each chunk the index of the nearest centroid (squared L2,
// whatever the distance, as Qdrant does). A query becomes a lookup table
// of its distance (dot, squared L2 or L1) to every centroid of every
// chunk, and a score is the sum of one table entry per chunk: Euclid takes
// the square root of the sum.

// pqCentroids is the number of centroids per chunk, one code byte.
const pqCentroids = 256

type pqParams struct {
	cs int // dimensions per chunk; the last chunk may be shorter
	k  int // centroids per chunk, <= 256 (fewer on a tiny sample)
	// cent holds k centroids per chunk, chunk j at k*j*cs, centroid c of
	// chunk j at k*j*cs + c*len(chunk j): k*dim values in all.
	cent []float32
}

func chunks(dim, cs int) int { return (dim + cs - 1) / cs }

// chunkRange returns the dimensions [lo, hi) of chunk j.
func chunkRange(j, cs, dim int) (int, int) { return j * cs, min((j+1)*cs, dim) }

func trainPQ(cfg *Config, dim int, sample iter.Seq[[]float32], seed uint64) (*pqParams, error) {
	cs := min(cfg.chunkDims(), dim)
	var data []float32
	ns := 0
	for v := range sample {
		if err := checkLen(0, v, dim); err != nil {
			return nil, err
		}
		if ns < sampleSize {
			data = append(data, v...)
			ns++
		}
	}
	p := &pqParams{cs: cs, k: max(1, min(pqCentroids, ns))}
	p.cent = make([]float32, p.k*dim)
	if ns == 0 {
		return p, nil
	}
	m := chunks(dim, cs)
	parallel(m, func(j int) {
		lo, hi := chunkRange(j, cs, dim)
		l := hi - lo
		sub := make([]float32, ns*l)
		for i := range ns {
			copy(sub[i*l:(i+1)*l], data[i*dim+lo:i*dim+hi])
		}
		rng := rand.New(rand.NewPCG(seed, uint64(j)))
		copy(p.cent[p.k*lo:p.k*hi], kmeans(sub, ns, l, p.k, rng))
	})
	return p, nil
}

// chunkCentroids returns the centroids of chunk j, k rows of its length.
func (p *pqParams) chunkCentroids(j, dim int) ([]float32, int) {
	lo, hi := chunkRange(j, p.cs, dim)
	return p.cent[p.k*lo : p.k*hi], hi - lo
}

func (p *pqParams) encodeInto(dst []byte, v []float32) {
	for j := range dst {
		cent, l := p.chunkCentroids(j, len(v))
		lo := j * p.cs
		c, _, _ := nearest2(v[lo:lo+l], cent, l, p.k)
		dst[j] = byte(c)
	}
}

// pqBatch is how many vectors are read (sequentially, from the caller's
// goroutine) before being encoded in parallel.
const pqBatch = 1024

func (p *pqParams) encode(dist vector.Distance, dim, n int, vec func(uint32) []float32) (Encoded, error) {
	m := chunks(dim, p.cs)
	e := &pqEncoded{p: *p, dist: dist, dim: dim, n: n, m: m, codes: make([]byte, n*m)}
	buf := make([]float32, pqBatch*dim)
	for start := 0; start < n; start += pqBatch {
		end := min(start+pqBatch, n)
		for off := start; off < end; off++ {
			row := buf[(off-start)*dim : (off-start+1)*dim]
			v := vec(uint32(off))
			if v == nil {
				clear(row)
				continue
			}
			if err := checkLen(uint32(off), v, dim); err != nil {
				return nil, err
			}
			copy(row, v)
		}
		const per = 64
		parallel((end-start+per-1)/per, func(b int) {
			for off := start + b*per; off < min(start+(b+1)*per, end); off++ {
				p.encodeInto(e.codes[off*m:(off+1)*m], buf[(off-start)*dim:(off-start+1)*dim])
			}
		})
	}
	return e, nil
}

type pqEncoded struct {
	p     pqParams
	dist  vector.Distance
	dim   int
	n     int
	m     int    // chunks, code bytes per vector
	codes []byte // n*m
}

func (e *pqEncoded) Len() int { return e.n }

func (e *pqEncoded) MemoryBytes() int { return len(e.codes) + 4*len(e.p.cent) + 16 }

func (e *pqEncoded) Scorer(query []float32) Scorer {
	mustQuery(query, e.dim)
	// Rows of 256 whatever k, so a corrupt code byte still indexes inside
	// the table (at a zero).
	lut := make([]float32, e.m*pqCentroids)
	for j := range e.m {
		cent, l := e.p.chunkCentroids(j, e.dim)
		lo := j * e.p.cs
		q := query[lo : lo+l]
		lutRow(lut[j*pqCentroids:(j+1)*pqCentroids], e.dist, q, cent, e.p.k)
	}
	return &pqScorer{e: e, lut: lut, sqrt: e.dist == vector.Euclid}
}

// lutRow fills row[c] with the distance of q to centroid c of one chunk
// (k rows of len(q) in cent). Chunks are at most 16 long, too short for
// the SIMD kernels' call to pay off, so these are plain loops.
func lutRow(row []float32, dist vector.Distance, q, cent []float32, k int) {
	l := len(q)
	row = row[:k]
	switch dist {
	case vector.Euclid:
		for c := range row {
			y := cent[c*l : (c+1)*l : (c+1)*l]
			var d float32
			for i, x := range y {
				t := q[i] - x
				d += t * t
			}
			row[c] = d
		}
	case vector.Manhattan:
		for c := range row {
			y := cent[c*l : (c+1)*l : (c+1)*l]
			var d float32
			for i, x := range y {
				d += abs32(q[i] - x)
			}
			row[c] = d
		}
	default:
		for c := range row {
			y := cent[c*l : (c+1)*l : (c+1)*l]
			var d float32
			for i, x := range y {
				d += q[i] * x
			}
			row[c] = d
		}
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

type pqScorer struct {
	e    *pqEncoded
	lut  []float32 // m rows of 256
	sqrt bool
}

func (s *pqScorer) Rows() ([]byte, int) { return s.e.codes, s.e.m }

func (s *pqScorer) Score(off uint32) float32 {
	m := s.e.m
	codes := s.e.codes[int(off)*m : (int(off)+1)*m]
	lut := s.lut[:m*pqCentroids]
	var s0, s1, s2, s3 float32
	j := 0
	for ; j+4 <= len(codes); j += 4 {
		s0 += lut[j<<8|int(codes[j])]
		s1 += lut[(j+1)<<8|int(codes[j+1])]
		s2 += lut[(j+2)<<8|int(codes[j+2])]
		s3 += lut[(j+3)<<8|int(codes[j+3])]
	}
	for ; j < len(codes); j++ {
		s0 += lut[j<<8|int(codes[j])]
	}
	sum := (s0 + s1) + (s2 + s3)
	if s.sqrt {
		return float32(math.Sqrt(float64(max(sum, 0))))
	}
	return sum
}

func (e *pqEncoded) Encode(w io.Writer) error {
	enc := newEncoder(w, kindProduct, e.dist, e.dim, e.n)
	enc.u32(uint32(e.p.cs))
	enc.u32(uint32(e.p.k))
	enc.f32s(e.p.cent)
	enc.bytes(e.codes)
	return enc.finish()
}

func decodePQ(d *decoder, cfg *Config) (Encoded, error) {
	cs, k := d.u32(), d.u32()
	if d.err != nil {
		return nil, d.err
	}
	if want := uint32(min(cfg.chunkDims(), d.dim)); cs != want {
		return nil, fmt.Errorf("%w: stream chunk of %d dimensions, config %s wants %d", ErrConfigMismatch, cs, cfg.Compression, want)
	}
	if k < 1 || k > pqCentroids {
		return nil, corruptf("%d centroids per chunk", k)
	}
	e := &pqEncoded{p: pqParams{cs: int(cs), k: int(k)}, dist: d.dist, dim: d.dim, n: d.n}
	e.m = chunks(e.dim, e.p.cs)
	e.p.cent = d.f32s(e.p.k * e.dim)
	e.codes = d.bytes(e.n * e.m)
	if err := d.end(); err != nil {
		return nil, err
	}
	return e, nil
}
