package hnsw

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

// bg is the context of the searches that are never cancelled.
var bg = context.Background()

// must is the results of a search under bg, which cannot fail.
func must(res []Result, err error) []Result {
	if err != nil {
		panic(err)
	}
	return res
}

// flat is test storage: dim floats per offset, like a segment's column.
type flat struct {
	dim  int
	data []float32
}

func (f *flat) Vector(off uint32) []float32 {
	i := int(off) * f.dim
	return f.data[i : i+f.dim : i+f.dim]
}

func (f *flat) Flat() []float32 { return f.data }

func (f *flat) len() int { return len(f.data) / f.dim }

// clustered draws n points around `clusters` Gaussian centres, spread
// along a shared 16-dimensional random subspace plus a little isotropic
// noise: a low intrinsic dimension, as real embeddings have (isotropic
// 64-d noise is much harder for any graph index, hnswlib included).
// Normalised for Cosine. Queries come from the same law with another seed.
func clustered(seed uint64, n, dim, clusters int, d vector.Distance) *flat {
	const latent, noise = 16, 0.1
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float32, clusters*dim)
	for i := range centres {
		centres[i] = float32(r.NormFloat64())
	}
	basis := make([]float32, dim*latent)
	for i := range basis {
		basis[i] = float32(r.NormFloat64() / 4) // 1/sqrt(latent)
	}
	z := make([]float32, latent)
	f := &flat{dim: dim, data: make([]float32, n*dim)}
	for i := range n {
		c := r.IntN(clusters)
		v := f.data[i*dim : (i+1)*dim]
		for j := range z {
			z[j] = float32(r.NormFloat64())
		}
		for j := range v {
			s := centres[c*dim+j] + noise*float32(r.NormFloat64())
			for t, zt := range z {
				s += basis[j*latent+t] * zt
			}
			v[j] = s
		}
		if d == vector.Cosine {
			vector.Normalize(v)
		}
	}
	return f
}

func seq(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i)
	}
	return out
}

// bruteForce ranks offs by vector.Distance alone, independent of the graph.
func bruteForce(d vector.Distance, vecs Vectors, offs []uint32, q []float32, k int, allow func(uint32) bool) []Result {
	var all []Result
	for _, off := range offs {
		if allow != nil && !allow(off) {
			continue
		}
		all = append(all, Result{off, d.Score(q, vecs.Vector(off))})
	}
	slices.SortFunc(all, func(a, b Result) int {
		switch {
		case d.Better(a.Score, b.Score):
			return -1
		case d.Better(b.Score, a.Score):
			return 1
		}
		return int(a.Off) - int(b.Off)
	})
	return all[:min(k, len(all))]
}

// recallOf is |got ∩ want| / |want|.
func recallOf(got, want []Result) float64 {
	if len(want) == 0 {
		return 1
	}
	set := make(map[uint32]bool, len(want))
	for _, w := range want {
		set[w.Off] = true
	}
	hit := 0
	for _, g := range got {
		if set[g.Off] {
			hit++
		}
	}
	return float64(hit) / float64(len(want))
}

// meanRecall searches every query and averages recall@k against brute force.
func meanRecall(t testing.TB, g *Graph, vecs *flat, offs []uint32, qs *flat, k, ef int, allow func(uint32) bool) float64 {
	t.Helper()
	d := g.Config().Distance
	sum := 0.0
	for i := range qs.len() {
		q := qs.Vector(uint32(i))
		got := must(g.Search(bg, q, k, ef, allow))
		want := bruteForce(d, vecs, offs, q, k, allow)
		checkOrder(t, d, got)
		sum += recallOf(got, want)
	}
	return sum / float64(qs.len())
}

func checkOrder(t testing.TB, d vector.Distance, got []Result) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if d.Better(got[i].Score, got[i-1].Score) {
			t.Fatalf("results out of order at %d: %v", i, got)
		}
	}
}

func mustBuild(t testing.TB, cfg Config, vecs Vectors, offs []uint32, threads int) *Graph {
	t.Helper()
	g, err := Build(cfg, vecs, offs, threads, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// manifold draws n points from a smooth 10-dimensional manifold in dim
// dimensions (random Fourier features of a 50-cluster Gaussian mixture):
// hnswlib reaches recall@10 ≈ 0.98 at ef=64 on 100k x 128, the regime real
// embeddings live in. The manifold is fixed; seed picks the points.
// Normalised for Cosine.
func manifold(seed uint64, n, dim int, d vector.Distance) *flat {
	const latent, clusters = 10, 50
	r := rand.New(rand.NewPCG(seed, 1))
	rm := rand.New(rand.NewPCG(7, 7))
	w := make([]float64, dim*latent)
	for i := range w {
		w[i] = rm.NormFloat64()
	}
	b := make([]float64, dim)
	for i := range b {
		b[i] = rm.Float64() * 2 * math.Pi
	}
	cent := make([]float64, clusters*latent)
	for i := range cent {
		cent[i] = rm.NormFloat64()
	}
	z := make([]float64, latent)
	f := &flat{dim: dim, data: make([]float32, n*dim)}
	for i := range n {
		c := r.IntN(clusters)
		for t := range z {
			z[t] = cent[c*latent+t] + 0.5*r.NormFloat64()
		}
		v := f.data[i*dim : (i+1)*dim]
		for j := range v {
			s := b[j]
			for t := range z {
				s += w[j*latent+t] * z[t]
			}
			v[j] = float32(math.Cos(s))
		}
		if d == vector.Cosine {
			vector.Normalize(v)
		}
	}
	return f
}
