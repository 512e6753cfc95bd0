package hnsw

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

type payloadFixture struct {
	g        *Graph
	vecs, qs *flat
	tag, grp []int
	gt       map[string][][]Result // by selectivity, per query
}

var (
	payloadFixtureOnce sync.Once
	payloadFix         *payloadFixture
)

// payloadBenchFixture builds 100k x 64 (manifold, Euclid) once, with
// payload links (payload_m=16) over a 1% tag and a 10% group drawn
// independently of the vectors; Search ignores the links, so the same graph
// measures payload_m=0.
func payloadBenchFixture(b *testing.B) *payloadFixture {
	payloadFixtureOnce.Do(func() {
		const n, dim, nq, k = 100_000, 64, 200, 10
		f := &payloadFixture{vecs: manifold(42, n, dim, vector.Euclid), qs: manifold(43, nq, dim, vector.Euclid)}
		offs := seq(n)
		var blocks []PayloadBlock
		f.tag, f.grp, blocks = tagged(42, offs)
		var err error
		cfg := Config{M: 16, EfConstruct: 100, PayloadM: 16, Distance: vector.Euclid, Dim: dim, Seed: 42}
		if f.g, err = Build(cfg, f.vecs, offs, runtime.GOMAXPROCS(0), nil); err != nil {
			b.Fatal(err)
		}
		if err := f.g.BuildPayloadLinks(context.Background(), blocks, runtime.GOMAXPROCS(0), nil); err != nil {
			b.Fatal(err)
		}
		f.gt = map[string][][]Result{}
		for _, sel := range []string{"1%", "10%"} {
			for i := range nq {
				f.gt[sel] = append(f.gt[sel], bruteForce(vector.Euclid, f.vecs, offs, f.qs.Vector(uint32(i)), k, f.allow(sel, i)))
			}
		}
		payloadFix = f
	})
	if payloadFix == nil {
		b.Fatal("fixture failed")
	}
	return payloadFix
}

// allow is query i's filter: tag i mod 100 (1%) or group i mod 10 (10%).
func (f *payloadFixture) allow(sel string, i int) func(uint32) bool {
	if sel == "1%" {
		v := i % 100
		return func(off uint32) bool { return f.tag[off] == v }
	}
	v := i % 10
	return func(off uint32) bool { return f.grp[off] == v }
}

// BenchmarkPayloadFiltered: filtered search at 1% and 10% selectivity,
// k=10 ef=64, one goroutine; reports qps, recall@10 and distance
// evaluations of the walk (before any exact fallback). Modes:
// payload_m=0 is Search (the walk that expands rejected nodes, with its
// exact fallback); walk is that walk with the fallback off; payload_m=16 is
// SearchPayloadBlock over the payload links; exact is SearchExact.
func BenchmarkPayloadFiltered(b *testing.B) {
	modes := []struct {
		name   string
		search func(g *Graph, q []float32, allow func(uint32) bool) []Result
	}{
		{"payload_m=0", func(g *Graph, q []float32, a func(uint32) bool) []Result { return must(g.Search(bg, q, 10, 64, a)) }},
		{"walk", func(g *Graph, q []float32, a func(uint32) bool) []Result {
			r, _ := g.search(g.prepare(q), 10, 64, a, false)
			return r
		}},
		{"payload_m=16", func(g *Graph, q []float32, a func(uint32) bool) []Result {
			return must(g.SearchPayloadBlock(bg, q, 10, 64, a))
		}},
		{"exact", func(g *Graph, q []float32, a func(uint32) bool) []Result { return must(g.SearchExact(bg, q, 10, a)) }},
	}
	for _, sel := range []string{"1%", "10%"} {
		for _, m := range modes {
			b.Run(fmt.Sprintf("sel=%s/%s", sel, m.name), func(b *testing.B) {
				f := payloadBenchFixture(b)
				nq := f.qs.len()
				allows := make([]func(uint32) bool, nq)
				sum, evals := 0.0, 0
				for i := range nq {
					allows[i] = f.allow(sel, i)
					sum += recallOf(m.search(f.g, f.qs.Vector(uint32(i)), allows[i]), f.gt[sel][i])
					evals += f.g.lastEvals()
				}
				i := 0
				for b.Loop() {
					m.search(f.g, f.qs.Vector(uint32(i%nq)), allows[i%nq])
					i++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
				b.ReportMetric(sum/float64(nq), "recall")
				if m.name != "exact" { // SearchExact counts no evaluations
					b.ReportMetric(float64(evals)/float64(nq), "evals")
				}
			})
		}
	}
}
