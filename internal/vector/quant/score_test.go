package quant

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

var distances = []vector.Distance{vector.Cosine, vector.Dot, vector.Euclid, vector.Manhattan}

// allConfigs covers every kind and option that changes scoring.
var allConfigs = []string{
	`{"scalar":{"type":"int8"}}`,
	`{"scalar":{"type":"int8","quantile":0.95}}`,
	`{"binary":{}}`,
	`{"binary":{"encoding":"two_bits"}}`,
	`{"binary":{"encoding":"one_and_half_bits","query_encoding":"scalar4bits"}}`,
	`{"binary":{"encoding":"two_bits","query_encoding":"scalar8bits"}}`,
	`{"binary":{"query_encoding":"binary"}}`,
	`{"product":{"compression":"x4"}}`,
	`{"product":{"compression":"x8"}}`,
	`{"product":{"compression":"x16"}}`,
	`{"product":{"compression":"x32"}}`,
	`{"product":{"compression":"x64"}}`,
	`{"turbo":{}}`,
	`{"turbo":{"bits":"bits2"}}`,
	`{"turbo":{"bits":"bits1_5"}}`,
	`{"turbo":{"bits":"bits1","always_ram":true}}`,
}

// gaussian returns n vectors of N(0,1) components, as stored for dist.
func gaussian(seed uint64, dist vector.Distance, n, dim int) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		out[i] = dist.Preprocess(v)
	}
	return out
}

func at(vs [][]float32) func(uint32) []float32 { return func(off uint32) []float32 { return vs[off] } }

func near(got, want, tol float32) bool {
	return math.Abs(float64(got-want)) <= float64(tol)*math.Max(1, math.Abs(float64(want)))
}

// TestScalarGridExact stores vectors whose components lie on the
// quantisation grid, so the codes are exact and every score must match
// the float32 one: this pins the correction terms.
func TestScalarGridExact(t *testing.T) {
	const n, dim = 200, 37
	rng := rand.New(rand.NewPCG(7, 7))
	const lo, step = -1.5, 0.0125
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = make([]float32, dim)
		for j := range vecs[i] {
			vecs[i][j] = lo + step*float32(rng.IntN(256))
		}
	}
	vecs[0][0], vecs[1][1] = lo, lo+255*step // the grid's ends are present
	for _, dist := range []vector.Distance{vector.Dot, vector.Euclid, vector.Manhattan} {
		enc, err := Build(mustConfig(t, `{"scalar":{"type":"int8"}}`), dist, dim, n, at(vecs), 1)
		if err != nil {
			t.Fatal(err)
		}
		for qi := range 5 {
			q := vecs[qi*7]
			s := enc.Scorer(q)
			for i, v := range vecs {
				if got, want := s.Score(uint32(i)), dist.Score(q, v); !near(got, want, 1e-4) {
					t.Fatalf("%s: Score(%d) = %v, exact %v", dist, i, got, want)
				}
			}
		}
	}
}

// TestScalarError bounds the error of scalar scores on Gaussian data:
// relative to the distance, or to |q||v| for Cosine and Dot.
func TestScalarError(t *testing.T) {
	const n, dim = 500, 64
	for _, dist := range distances {
		vecs := gaussian(3, dist, n, dim)
		enc, err := Build(mustConfig(t, `{"scalar":{"type":"int8","quantile":0.99}}`), dist, dim, n, at(vecs), 1)
		if err != nil {
			t.Fatal(err)
		}
		var worst float64
		for qi := range 10 {
			q := vecs[qi]
			s := enc.Scorer(q)
			for i, v := range vecs {
				want := dist.Score(q, v)
				// Relative to the distance, or for a dot product to |q||v|.
				scale := math.Abs(float64(want))
				if dist.HigherIsBetter() {
					scale = math.Sqrt(float64(vector.DotProduct(q, q) * vector.DotProduct(v, v)))
				}
				e := math.Abs(float64(s.Score(uint32(i))-want)) / math.Max(scale, 1e-3)
				worst = math.Max(worst, e)
			}
		}
		t.Logf("%s: worst relative error %.4f", dist, worst)
		if worst > 0.02 {
			t.Errorf("%s: worst relative error %.4f, want <= 0.02", dist, worst)
		}
	}
}

// TestBinaryExactOnSigns stores ±1 vectors, whose one-bit codes are exact:
// dim-2h is their dot product, 2√h their L2 and 2h their L1 distance.
func TestBinaryExactOnSigns(t *testing.T) {
	const n, dim = 100, 70
	rng := rand.New(rand.NewPCG(5, 5))
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = make([]float32, dim)
		for j := range vecs[i] {
			vecs[i][j] = float32(2*rng.IntN(2) - 1)
		}
	}
	for _, dist := range []vector.Distance{vector.Dot, vector.Euclid, vector.Manhattan} {
		enc, err := Build(mustConfig(t, `{"binary":{}}`), dist, dim, n, at(vecs), 1)
		if err != nil {
			t.Fatal(err)
		}
		s := enc.Scorer(vecs[3])
		for i, v := range vecs {
			if got, want := s.Score(uint32(i)), dist.Score(vecs[3], v); !near(got, want, 1e-5) {
				t.Fatalf("%s: Score(%d) = %v, exact %v", dist, i, got, want)
			}
		}
	}
	// An asymmetric k-bit query gives Σ sign(v)·q / max|q|, up to the
	// query's rounding: at most dim/(2^k-1).
	for _, k := range []int{4, 8} {
		cfg := mustConfig(t, `{"binary":{"query_encoding":"scalar`+string(rune('0'+k))+`bits"}}`)
		enc, err := Build(cfg, vector.Dot, dim, n, at(vecs), 1)
		if err != nil {
			t.Fatal(err)
		}
		q := gaussian(9, vector.Dot, 1, dim)[0]
		var m float32
		for _, x := range q {
			m = max(m, float32(math.Abs(float64(x))))
		}
		s := enc.Scorer(q)
		for i, v := range vecs {
			want := vector.DotProduct(q, v) / m
			if got := s.Score(uint32(i)); math.Abs(float64(got-want)) > float64(dim)/float64(int(1)<<k-1)+1e-3 {
				t.Fatalf("scalar%dbits: Score(%d) = %v, want %v ± %v", k, i, got, want, float64(dim)/float64(int(1)<<k-1))
			}
		}
	}
}

// TestPQExactOnTinySample: with no more vectors than centroids every
// vector is its own centroid, so the lookup-table sums are exact.
func TestPQExactOnTinySample(t *testing.T) {
	const n, dim = 200, 37 // 37: the last chunk is short
	for _, comp := range []string{"x4", "x8", "x16", "x32", "x64"} {
		for _, dist := range distances {
			vecs := gaussian(11, dist, n, dim)
			enc, err := Build(mustConfig(t, `{"product":{"compression":"`+comp+`"}}`), dist, dim, n, at(vecs), 1)
			if err != nil {
				t.Fatal(err)
			}
			s := enc.Scorer(vecs[5])
			for i, v := range vecs {
				if got, want := s.Score(uint32(i)), dist.Score(vecs[5], v); !near(got, want, 1e-4) {
					t.Fatalf("%s %s: Score(%d) = %v, exact %v", comp, dist, i, got, want)
				}
			}
		}
	}
}

// TestScoreNoAllocConcurrent checks the Scorer contract: Score does not
// allocate, and one Scorer serves several goroutines (run with -race).
func TestScoreNoAllocConcurrent(t *testing.T) {
	const n, dim = 300, 48
	for _, c := range allConfigs {
		for _, dist := range distances {
			vecs := gaussian(13, dist, n, dim)
			enc, err := Build(mustConfig(t, c), dist, dim, n, at(vecs), 1)
			if err != nil {
				t.Fatal(err)
			}
			s := enc.Scorer(vecs[0])
			if a := testing.AllocsPerRun(50, func() { s.Score(uint32(n - 1)) }); a != 0 {
				t.Errorf("%s %s: Score allocates %v times", c, dist, a)
			}
			want := make([]float32, n)
			for i := range want {
				want[i] = s.Score(uint32(i))
			}
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() {
					for i := range n {
						if got := s.Score(uint32(i)); got != want[i] {
							t.Errorf("%s %s: concurrent Score(%d) = %v, want %v", c, dist, i, got, want[i])
							return
						}
					}
				})
			}
			wg.Wait()
		}
	}
}

func TestAbsentAndEdgeCases(t *testing.T) {
	const n, dim = 90, 20
	vecs := gaussian(17, vector.Cosine, n, dim)
	sparse := func(off uint32) []float32 {
		if off%3 == 0 {
			return nil
		}
		return vecs[off]
	}
	for _, c := range allConfigs {
		cfg := mustConfig(t, c)
		enc, err := Build(cfg, vector.Cosine, dim, n, sparse, 1)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if enc.Len() != n || enc.MemoryBytes() <= 0 {
			t.Fatalf("%s: Len %d, MemoryBytes %d", c, enc.Len(), enc.MemoryBytes())
		}
		s := enc.Scorer(vecs[1])
		for i := range n {
			if f := s.Score(uint32(i)); math.IsNaN(float64(f)) {
				t.Fatalf("%s: Score(%d) is NaN", c, i)
			}
		}
		// No vectors at all, and nothing to train on.
		empty, err := Build(cfg, vector.Euclid, dim, 0, sparse, 1)
		if err != nil || empty.Len() != 0 {
			t.Fatalf("%s: empty Build = %v, %v", c, empty, err)
		}
		empty.Scorer(vecs[1])
		all, err := Build(cfg, vector.Dot, dim, 5, func(uint32) []float32 { return nil }, 1)
		if err != nil || all.Len() != 5 {
			t.Fatalf("%s: all absent Build = %v, %v", c, all, err)
		}
		all.Scorer(vecs[1]).Score(4)
		// A vector of the wrong length is an error, not a panic.
		if _, err := Build(cfg, vector.Dot, dim+1, n, at(vecs), 1); err == nil {
			t.Fatalf("%s: wrong dimension accepted", c)
		}
	}
	if _, err := Build(nil, vector.Dot, dim, n, at(vecs), 1); err == nil {
		t.Fatal("nil config accepted")
	}
	if _, err := Build(mustConfig(t, allConfigs[0]), "Hamming", dim, n, at(vecs), 1); err == nil {
		t.Fatal("unknown distance accepted")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a query of the wrong length did not panic")
		}
	}()
	enc, _ := Build(mustConfig(t, allConfigs[0]), vector.Dot, dim, n, at(vecs), 1)
	enc.Scorer(make([]float32, dim-1))
}

func TestSampleIsAPermutationPrefix(t *testing.T) {
	vec := func(off uint32) []float32 { return []float32{float32(off)} }
	for _, tc := range []struct{ n, k int }{{0, 5}, {10, 3}, {10, 10}, {10, 50}, {1000, 999}} {
		seen := map[float32]bool{}
		for v := range Sample(tc.n, vec, tc.k, 42) {
			if seen[v[0]] || v[0] < 0 || int(v[0]) >= tc.n {
				t.Fatalf("n=%d k=%d: repeated or out of range %v", tc.n, tc.k, v[0])
			}
			seen[v[0]] = true
		}
		if len(seen) != min(tc.n, tc.k) {
			t.Fatalf("n=%d k=%d: %d yielded", tc.n, tc.k, len(seen))
		}
	}
}

// TestKmeans: on separated blobs the clustering error drops well below
// that of k random points, and degenerate input (all points
// equal, so clusters empty out) still gives finite centroids.
func TestKmeans(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 47))
	const n, l, k = 2000, 4, 16
	data := make([]float32, n*l)
	for i := range n {
		blob := float32(i % k)
		for j := range l {
			data[i*l+j] = 10*blob*float32(j%2) + float32(rng.NormFloat64())
		}
	}
	sse := func(cent []float32) (s float64) {
		for i := range n {
			_, d, _ := nearest2(data[i*l:(i+1)*l], cent, l, k)
			s += float64(d)
		}
		return s
	}
	start := make([]float32, k*l) // k random points
	perm := rand.New(rand.NewPCG(1, 1)).Perm(n)
	for c := range k {
		copy(start[c*l:], data[perm[c]*l:(perm[c]+1)*l])
	}
	got := sse(kmeans(data, n, l, k, rand.New(rand.NewPCG(1, 1))))
	t.Logf("SSE %.0f; %.0f from random points, %d from the noise alone", got, sse(start), n*l)
	// k-means++ and Lloyd may still leave a pair of blobs merged, so only
	// the gain over the random start is held.
	if got > 0.15*sse(start) {
		t.Errorf("SSE %.0f, random start %.0f", got, sse(start))
	}
	same := make([]float32, 300*3)
	for i := range same {
		same[i] = 1.5
	}
	for _, x := range kmeans(same, 300, 3, 256, rand.New(rand.NewPCG(2, 2))) {
		if x != 1.5 {
			t.Fatalf("centroid component %v on constant data", x)
		}
	}
}
