package hnsw

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

// Compare with hnswlib on the same data: the manifold generator is
// deterministic, so a C++ harness fed the same points (M=16, efC=100,
// single-threaded searchKnn) measures the same recall/QPS curve.

type searchFixture struct {
	g    *Graph
	vecs *flat
	qs   *flat
	gt   [][]Result
}

var (
	fixtureMu sync.Mutex
	fixtures  = map[vector.Distance]*searchFixture{}
)

// benchFixture builds 100k x 128 once per distance per process.
func benchFixture(b *testing.B, d vector.Distance) *searchFixture {
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if f := fixtures[d]; f != nil {
		return f
	}
	const n, dim, nq, k = 100_000, 128, 1000, 10
	f := &searchFixture{vecs: manifold(42, n, dim, d), qs: manifold(43, nq, dim, d)}
	offs := seq(n)
	var err error
	cfg := Config{M: 16, EfConstruct: 100, Distance: d, Dim: dim, Seed: 42}
	f.g, err = Build(cfg, f.vecs, offs, runtime.GOMAXPROCS(0), nil)
	if err != nil {
		b.Fatal(err)
	}
	f.gt = make([][]Result, nq)
	for i := range nq {
		f.gt[i] = bruteForce(d, f.vecs, offs, f.qs.Vector(uint32(i)), k, nil)
	}
	fixtures[d] = f
	return f
}

// BenchmarkSearch: 100k x 128, k=10, one goroutine; reports qps and recall.
// The machine's other load shows in qps: compare runs taken close together
// (or use -count and benchstat).
func BenchmarkSearch(b *testing.B) {
	for _, d := range []vector.Distance{vector.Euclid, vector.Cosine} {
		for _, ef := range []int{32, 64, 128, 512} {
			b.Run(fmt.Sprintf("%s/ef=%d", d, ef), func(b *testing.B) {
				f := benchFixture(b, d)
				nq := f.qs.len()
				sum := 0.0
				for i := range nq {
					sum += recallOf(must(f.g.Search(bg, f.qs.Vector(uint32(i)), 10, ef, nil)), f.gt[i])
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					must(f.g.Search(bg, f.qs.Vector(uint32(i%nq)), 10, ef, nil))
					i++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
				b.ReportMetric(sum/float64(nq), "recall")
			})
		}
	}
}

// BenchmarkSearchFiltered: 10% of points allowed, the hnswlib-style walk.
func BenchmarkSearchFiltered(b *testing.B) {
	f := benchFixture(b, vector.Euclid)
	allow := func(off uint32) bool { return off%10 == 3 }
	nq := f.qs.len()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		must(f.g.Search(bg, f.qs.Vector(uint32(i%nq)), 10, 64, allow))
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
}

// BenchmarkBuild: 10k x 128, M=16, efC=100.
func BenchmarkBuild(b *testing.B) {
	vecs := manifold(42, 10_000, 128, vector.Euclid)
	offs := seq(10_000)
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			for b.Loop() {
				if _, err := Build(Config{M: 16, EfConstruct: 100, Distance: vector.Euclid, Dim: 128, Seed: 1}, vecs, offs, threads, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(offs))/b.Elapsed().Seconds(), "points/s")
		})
	}
}
