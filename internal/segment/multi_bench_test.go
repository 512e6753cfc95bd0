package segment

import (
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// The multivector search benchmark: points of 8 to 32 sub-vectors of 128
// dimensions (ColBERT-like: sub-vectors drawn around 256 "token" centres,
// normalised, Cosine), queried by multivectors of 16 sub-vectors drawn the
// same way, top 10. "exact" scores every point (an appendable segment);
// "hnsw" walks the sealed segment's graph over the points (max_sim as the
// distance, ef 64 and 128), after building it with m 16, ef_construct 64
// on 2 threads. Recall of hnsw against exact is logged.
//
//	go test -run XXX -bench BenchmarkMultivectorSearch ./internal/segment/
//
// SHOAL_BENCH_MULTI_POINTS sets the number of points (default 3000). The
// graph build takes most of the time: each distance is max_sim over two
// multivectors (about 400 dot products here), and linking a point takes
// thousands of them, so 3000 points take about 30 s to index on 2 threads
// (20000 a few minutes); the exact benchmark alone builds no graph:
//
//	SHOAL_BENCH_MULTI_POINTS=20000 go test -run XXX -bench 'BenchmarkMultivectorSearch/exact' ./internal/segment/
var multiBench struct {
	once, graphOnce sync.Once
	appendable, idx *Store
	vecs            [][]float32
	queries         [][]float32
}

const (
	multiBenchDim   = 128
	multiBenchQSubs = 16
)

func multiBenchPoints() int {
	if n, err := strconv.Atoi(os.Getenv("SHOAL_BENCH_MULTI_POINTS")); err == nil && n > 0 {
		return n
	}
	return 3000
}

// multiBenchStores builds the appendable store and the queries.
func multiBenchStores(b *testing.B) (*Store, [][]float32) {
	multiBench.once.Do(func() {
		start := time.Now()
		n := multiBenchPoints()
		r := rand.New(rand.NewPCG(7, 8))
		centres := make([][]float32, 256)
		for i := range centres {
			centres[i] = randUnit(r, multiBenchDim)
		}
		token := func() []float32 {
			c := centres[r.IntN(len(centres))]
			v := make([]float32, multiBenchDim)
			for j := range v {
				v[j] = c[j] + 0.3*float32(r.NormFloat64())/11
			}
			vector.Normalize(v)
			return v
		}
		multi := func(k int) []float32 {
			out := make([]float32, 0, k*multiBenchDim)
			for range k {
				out = append(out, token()...)
			}
			return out
		}
		a := NewStore(multiBenchSpec)
		subs := 0
		for i := range n {
			k := 8 + r.IntN(25)
			subs += k
			v := multi(k)
			multiBench.vecs = append(multiBench.vecs, v)
			a.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"m": v}, nil)
		}
		a.PrepareRead()
		for range 64 {
			multiBench.queries = append(multiBench.queries, multi(multiBenchQSubs))
		}
		multiBench.appendable = a
		b.Logf("%d points, %d sub-vectors of %d dimensions, in %v", n, subs, multiBenchDim, time.Since(start).Round(time.Millisecond))
	})
	return multiBench.appendable, multiBench.queries
}

var multiBenchSpec = map[string]VectorSpec{"m": {Dim: multiBenchDim, Distance: vector.Cosine, Multi: true}}

// multiBenchGraph builds the sealed store with its graph and logs the
// recall of its searches against exact ones.
func multiBenchGraph(b *testing.B) *Store {
	a, qs := multiBenchStores(b)
	multiBench.graphOnce.Do(func() {
		start := time.Now()
		sealed := NewStore(multiBenchSpec)
		for i, v := range multiBench.vecs {
			sealed.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"m": v}, nil)
		}
		sealed.SetIndexParams("m", IndexParams{M: 16, EfConstruct: 64, IndexingThreshold: 1, Seed: 1})
		bld := sealed.PrepareGraphBuild()
		g, err := bld.Run(b.Context(), 2, nil)
		if err != nil {
			b.Fatal(err)
		}
		sealed.InstallGraph(bld, g)
		sealed.PrepareRead()
		for _, ef := range []int{64, 128} {
			found := 0
			for _, q := range qs[:16] {
				want := map[uint32]bool{}
				for _, h := range must(a.Search(bg, SearchParams{Vector: "m", Query: q, Limit: 10, Exact: true})) {
					want[h.Offset] = true
				}
				for _, h := range must(sealed.Search(bg, SearchParams{Vector: "m", Query: q, Limit: 10, HnswEf: ef})) {
					if want[h.Offset] {
						found++
					}
				}
			}
			b.Logf("graph built in %v; recall@10 at ef %d: %.3f", time.Since(start).Round(time.Millisecond), ef, float64(found)/160)
		}
		multiBench.idx = sealed
	})
	return multiBench.idx
}

func BenchmarkMultivectorSearch(b *testing.B) {
	for _, c := range []struct {
		name string
		p    SearchParams
	}{
		{"exact", SearchParams{Exact: true}},
		{"hnsw_ef64", SearchParams{HnswEf: 64}},
		{"hnsw_ef128", SearchParams{HnswEf: 128}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, qs := multiBenchStores(b)
			if !c.p.Exact {
				s = multiBenchGraph(b)
			}
			i := 0
			for b.Loop() {
				p := c.p
				p.Vector, p.Query, p.Limit = "m", qs[i%len(qs)], 10
				if hits := must(s.Search(bg, p)); len(hits) != 10 {
					b.Fatalf("%d hits", len(hits))
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "QPS")
		})
	}
}
