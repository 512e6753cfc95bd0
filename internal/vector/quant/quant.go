package quant

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"

	"github.com/shoaldb/shoal/internal/vector"
)

// Encoded is the quantized form of a segment's vectors, addressed by the
// same offsets as the originals. It is immutable and safe for concurrent
// use.
type Encoded interface {
	// Len is the number of encoded offsets.
	Len() int
	// Scorer prepares query (as stored: normalised for Cosine, of the
	// encoded dimension; it panics otherwise) for scoring stored vectors.
	Scorer(query []float32) Scorer
	// MemoryBytes is the size of the codes and the trained parameters.
	MemoryBytes() int
	// Encode writes the codes and parameters in the format Decode reads.
	Encode(w io.Writer) error
}

// Scorer scores one prepared query against stored vectors. Score does not
// allocate and may be called from several goroutines at once.
type Scorer interface {
	// Score approximates vector.Distance.Score of the query and the stored
	// vector at off (off < Len): a similarity for Cosine and Dot, a
	// distance for Euclid and Manhattan. An offset whose vector was absent
	// at Build time scores as the zero vector; callers skip such offsets.
	Score(off uint32) float32
}

// Rows is implemented by the Scorers of every kind here: the codes they
// read lie in one flat array, rowBytes per offset from offset 0, so a
// caller may prefetch the rows it is about to score.
type Rows interface {
	Rows() (codes []byte, rowBytes int)
}

// sampleSize bounds the vectors Build draws for training: quantile bounds,
// binary statistics and PQ codebooks all come from at most this many.
const sampleSize = 20_000

// maxDim bounds the dimension, as the collection config does.
const maxDim = 65536

// Quantizer holds what training learnt from a sample: the scalar range,
// the per-dimension statistics of binary quantization or the PQ codebooks.
// It encodes vectors but holds none. It is immutable after Train.
type Quantizer struct {
	kind Kind
	dist vector.Distance
	dim  int

	scalar *scalarParams
	binary *binaryParams
	pq     *pqParams
	turbo  *turboParams
}

// Train learns the parameters of cfg from sample, a set of vectors as
// stored (Preprocess'd), each of length dim, that it may copy but does not
// keep. It reads every vector sample yields; the scalar quantile looks at
// the first 5000, PQ's k-means at the first 20000 and turbo's shift and
// scale at the first 10000. seed makes the PQ
// codebooks reproducible. An empty sample is
// allowed: the parameters are then neutral (scalar maps [0,0], PQ has zero
// codebooks).
func Train(cfg *Config, dist vector.Distance, dim int, sample iter.Seq[[]float32], seed uint64) (*Quantizer, error) {
	if cfg == nil {
		return nil, errors.New("quant: no quantization config")
	}
	if _, err := vector.ParseDistance(string(dist)); err != nil {
		return nil, fmt.Errorf("quant: %w", err)
	}
	if dim < 1 || dim > maxDim {
		return nil, fmt.Errorf("quant: dimension %d out of range [1, %d]", dim, maxDim)
	}
	if sample == nil {
		sample = func(func([]float32) bool) {}
	}
	q := &Quantizer{kind: cfg.Kind, dist: dist, dim: dim}
	var err error
	switch cfg.Kind {
	case Scalar:
		q.scalar, err = trainScalar(cfg, dist, dim, sample)
	case Binary:
		q.binary, err = trainBinary(cfg, dim, sample)
	case Product:
		q.pq, err = trainPQ(cfg, dim, sample, seed)
	case Turbo:
		q.turbo, err = trainTurbo(cfg, dim, sample)
	default:
		return nil, fmt.Errorf("quant: unknown kind %q", cfg.Kind)
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

// Encode encodes offsets [0, n): vec returns the stored vector of an
// offset (length dim) or nil when absent. vec is called once per offset,
// in order, from the calling goroutine, and its result is copied, so it may
// reuse one buffer. Work is spread over GOMAXPROCS goroutines (PQ only).
func (q *Quantizer) Encode(n int, vec func(off uint32) []float32) (Encoded, error) {
	if n < 0 || int64(n) > 1<<32 {
		return nil, fmt.Errorf("quant: %d vectors out of range", n)
	}
	switch {
	case q.scalar != nil:
		return q.scalar.encode(q.dim, n, vec)
	case q.binary != nil:
		return q.binary.encode(q.dist, q.dim, n, vec)
	case q.pq != nil:
		return q.pq.encode(q.dist, q.dim, n, vec)
	case q.turbo != nil:
		return q.turbo.encode(q.dist, n, vec)
	}
	return nil, errors.New("quant: untrained quantizer")
}

// Build trains cfg on a seeded random sample of at most 20k present
// vectors among offsets [0, n), then encodes them all (see
// Quantizer.Encode).
func Build(cfg *Config, dist vector.Distance, dim int, n int, vec func(off uint32) []float32, seed uint64) (Encoded, error) {
	if n < 0 || int64(n) > 1<<32 {
		return nil, fmt.Errorf("quant: %d vectors out of range", n)
	}
	q, err := Train(cfg, dist, dim, Sample(n, vec, sampleSize, seed), seed)
	if err != nil {
		return nil, err
	}
	return q.Encode(n, vec)
}

// Sample yields up to k present vectors of offsets [0, n) in a random order
// fixed by seed, without repeats: a lazy Fisher-Yates shuffle whose swaps
// live in a map, so it costs O(vectors visited), not O(n).
func Sample(n int, vec func(off uint32) []float32, k int, seed uint64) iter.Seq[[]float32] {
	return func(yield func([]float32) bool) {
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		swapped := map[int]int{}
		at := func(i int) int {
			if v, ok := swapped[i]; ok {
				return v
			}
			return i
		}
		for i, got := 0, 0; i < n && got < k; i++ {
			j := i + rng.IntN(n-i)
			pick := at(j)
			swapped[j] = at(i)
			delete(swapped, i)
			v := vec(uint32(pick))
			if v == nil {
				continue
			}
			got++
			if !yield(v) {
				return
			}
		}
	}
}

// checkLen reports a stored vector of the wrong length.
func checkLen(off uint32, v []float32, dim int) error {
	if len(v) != dim {
		return fmt.Errorf("quant: vector at offset %d has %d dimensions, want %d", off, len(v), dim)
	}
	return nil
}

// mustQuery panics on a query of the wrong length: a caller bug, like the
// length checks of the vector kernels.
func mustQuery(q []float32, dim int) {
	if len(q) != dim {
		panic(fmt.Sprintf("quant: query has %d dimensions, want %d", len(q), dim))
	}
}
