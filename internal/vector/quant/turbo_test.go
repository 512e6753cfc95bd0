package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

func norm64(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// TestTurboScores holds Qdrant's score_approximates_true_similarity bound
// for 4 bits (|estimate − ⟨a,b⟩| < 0.05·|a||b|) over its dimensions, for
// Dot and Cosine; Euclid's squared distance within 10% of |a|²+|b|²; and
// Manhattan as the L1 distance to the decoded vector. The error shrinks
// with the bits: at 2 bits the same pairs stay within 0.15·|a||b|.
func TestTurboScores(t *testing.T) {
	const seed = 42
	t.Logf("seed %d", seed)
	for _, bc := range []struct {
		cfg string
		tol float64
	}{{`{"turbo":{}}`, 0.05}, {`{"turbo":{"bits":"bits2"}}`, 0.15}} {
		for _, dim := range []int{127, 128, 300, 513, 1024} {
			for _, dist := range []vector.Distance{vector.Dot, vector.Cosine, vector.Euclid} {
				r := rand.New(rand.NewPCG(seed, uint64(dim)))
				const n = 64
				vecs := make([][]float32, n)
				for i := range vecs {
					vecs[i] = make([]float32, dim)
					for j := range vecs[i] {
						vecs[i][j] = float32(r.Float64()*2 - 1)
					}
				}
				// Pairs of chosen similarity: query i against vector i.
				queries := make([][]float32, n)
				for i := range queries {
					sim := float32(i%3+1) * 0.3
					queries[i] = make([]float32, dim)
					for j := range queries[i] {
						queries[i][j] = sim*vecs[i][j] + (1-sim)*float32(r.Float64()*2-1)
					}
					queries[i] = dist.Preprocess(queries[i])
					vecs[i] = dist.Preprocess(vecs[i])
				}
				enc, err := Build(mustConfig(t, bc.cfg), dist, dim, n, at(vecs), 1)
				if err != nil {
					t.Fatal(err)
				}
				for i, q := range queries {
					got := float64(enc.Scorer(q).Score(uint32(i)))
					want, tol := float64(vector.DotProduct(q, vecs[i])), bc.tol*norm64(q)*norm64(vecs[i])
					if dist == vector.Euclid {
						got, want = got*got, float64(vector.SquaredL2(q, vecs[i]))
						tol = 2 * bc.tol * (norm64(q)*norm64(q) + norm64(vecs[i])*norm64(vecs[i]))
					}
					if math.Abs(got-want) > tol {
						t.Fatalf("%s dim %d %s pair %d: %v, want %v ± %v", bc.cfg, dim, dist, i, got, want, tol)
					}
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(seed, 3))
	vecs := gaussian(r.Uint64(), vector.Manhattan, 20, 33)
	enc, err := Build(mustConfig(t, `{"turbo":{"bits":"bits1_5"}}`), vector.Manhattan, 33, 20, at(vecs), 1)
	if err != nil {
		t.Fatal(err)
	}
	te := enc.(*turboEncoded)
	s := enc.Scorer(vecs[0])
	for i := range 20 {
		dec := te.decode(uint32(i), newTurboScratch(te.p.pd))
		if got, want := s.Score(uint32(i)), vector.L1(vecs[0], dec); got != want {
			t.Fatalf("Manhattan %d: %v, want %v", i, got, want)
		}
	}
}

// TestTurboTraining checks the error correction against an oracle: per
// rotated, rescaled coordinate of the sample, the shift is minus the
// median and the scale one over the standard deviation (a coordinate
// without spread keeps 0 and 1); with no sample, 0 and 1 everywhere.
func TestTurboTraining(t *testing.T) {
	const seed, n, dim = 9, 301, 21
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = make([]float32, dim)
		for j := range vecs[i] {
			vecs[i][j] = float32(r.NormFloat64() + 2) // off centre: shifts matter
		}
	}
	vecs = append(vecs, make([]float32, dim)) // a zero vector does not count
	for _, bits := range []string{"bits1", "bits1_5", "bits2", "bits4"} {
		cfg := mustConfig(t, `{"turbo":{"bits":"`+bits+`"}}`)
		p, err := trainTurbo(cfg, dim, slices.Values(vecs))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"bits1": 24, "bits1_5": 32, "bits2": 24, "bits4": 22}[bits]; p.pd != want {
			t.Fatalf("%s: rotated dimension %d, want %d", bits, p.pd, want)
		}
		cols := make([][]float64, p.pd)
		for _, v := range vecs[:n] {
			x := make([]float64, p.pd)
			for i, f := range v {
				x[i] = float64(f)
			}
			vector.RotationFor(p.pd).Apply(x, make([]float64, p.pd))
			k := math.Sqrt(float64(p.pd)) / norm64(v)
			for i := range x {
				cols[i] = append(cols[i], float64(float32(x[i]*k)))
			}
		}
		for i, col := range cols {
			slices.Sort(col)
			median := (col[n/2-1] + col[n/2]) / 2
			if n%2 == 1 {
				median = col[n/2]
			}
			var mean, vr float64
			for _, f := range col {
				mean += f / n
			}
			for _, f := range col {
				vr += (f - mean) * (f - mean) / n
			}
			if math.Abs(float64(p.shift[i])+median) > 1e-4 || math.Abs(float64(p.scale[i])-1/math.Sqrt(vr)) > 1e-3*float64(p.scale[i]) {
				t.Fatalf("%s coordinate %d: shift %v scale %v, want %v %v", bits, i, p.shift[i], p.scale[i], -median, 1/math.Sqrt(vr))
			}
		}
		empty, err := trainTurbo(cfg, dim, slices.Values([][]float32{}))
		if err != nil {
			t.Fatal(err)
		}
		for i := range empty.shift {
			if empty.shift[i] != 0 || empty.scale[i] != 1 {
				t.Fatalf("%s: no sample gives shift %v scale %v", bits, empty.shift[i], empty.scale[i])
			}
		}
	}
}

// TestTurboLowBitsBeatBinary holds Qdrant's low-bit comparison (hnsw_
// turbo_quantization_*_bits1*_test): rescoring the top candidates of 1 and
// 1.5 bit turbo codes loses no more of the exact top-k score sum than
// binary quantization of the same width does (10% slack).
func TestTurboLowBitsBeatBinary(t *testing.T) {
	const seed, n, nq, dim, k = 20240611, 2000, 25, 128, 20
	t.Logf("seed %d", seed)
	for _, dist := range []vector.Distance{vector.Cosine, vector.Dot, vector.Euclid} {
		r := rand.New(rand.NewPCG(seed, 2))
		draw := func() []float32 {
			v := make([]float32, dim)
			for i := range v {
				v[i] = float32(r.NormFloat64())
			}
			return dist.Preprocess(v)
		}
		var vecs, queries [][]float32
		for range n {
			vecs = append(vecs, draw())
		}
		for range nq {
			queries = append(queries, draw())
		}
		loss := func(cfg string) float64 {
			enc, err := Build(mustConfig(t, cfg), dist, dim, n, at(vecs), seed)
			if err != nil {
				t.Fatal(err)
			}
			var total float64
			for _, q := range queries {
				exact := make([]float32, n)
				approx := make([]float32, n)
				s := enc.Scorer(q)
				for i, v := range vecs {
					exact[i], approx[i] = dist.Score(q, v), s.Score(uint32(i))
				}
				var best, got float64
				for _, i := range topK(dist, exact, k) {
					best += float64(exact[i])
				}
				cand := topK(dist, approx, 4*k)
				rs := make([]float32, len(cand))
				for i, c := range cand {
					rs[i] = exact[c]
				}
				for _, i := range topK(dist, rs, k) {
					got += float64(rs[i])
				}
				if dist.HigherIsBetter() {
					total += best - got
				} else {
					total += got - best
				}
			}
			return total / nq
		}
		for tq, bq := range map[string]string{
			`{"turbo":{"bits":"bits1"}}`:   `{"binary":{}}`,
			`{"turbo":{"bits":"bits1_5"}}`: `{"binary":{"encoding":"one_and_half_bits"}}`,
		} {
			tl, bl := loss(tq), loss(bq)
			t.Logf("%s %s: loss %.4f, binary %.4f", dist, tq, tl, bl)
			if tl < -1e-6 || tl > bl+0.1*math.Abs(bl)+1e-3 {
				t.Errorf("%s %s: loss %v, binary %v", dist, tq, tl, bl)
			}
		}
	}
}

func BenchmarkTurboScore(b *testing.B) {
	const n, dim = 10_000, 128
	vecs := gaussian(37, vector.Cosine, n, dim)
	q := vecs[0]
	for _, bits := range []string{"bits1", "bits1_5", "bits2", "bits4"} {
		enc, err := Build(mustConfig(b, `{"turbo":{"bits":"`+bits+`"}}`), vector.Cosine, dim, n, at(vecs), 1)
		if err != nil {
			b.Fatal(err)
		}
		s := enc.Scorer(q)
		b.Run(fmt.Sprintf("%s/%d", bits, dim), func(b *testing.B) {
			var sink float32
			for i := range b.N {
				sink += s.Score(uint32(i % n))
			}
			_ = sink
		})
	}
}
