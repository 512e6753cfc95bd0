package collection

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

const benchSeed = 42

func benchVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// BenchmarkUpsertBatch100Wait upserts batches of 100 random 128-d points
// with wait=true, so every operation includes a WAL fsync.
func BenchmarkUpsertBatch100Wait(b *testing.B) {
	b.Logf("seed %d", benchSeed)
	r := rand.New(rand.NewPCG(benchSeed, 1))
	c, _ := openCollection(b, `{"vectors":{"size":128,"distance":"Cosine"}}`)
	// A pool of vectors, so that drawing random numbers is not measured.
	pool := make([][]float32, 1000)
	for i := range pool {
		pool[i] = benchVector(r, 128)
	}
	ctx := context.Background()
	next := uint64(0)
	for b.Loop() {
		pts := make([]ops.PointStruct, 100)
		for i := range pts {
			pts[i] = ops.PointStruct{
				ID:      point.NumID(next),
				Vectors: point.Vectors{"": pool[r.IntN(len(pool))]},
				Payload: point.Payload{"i": json.Number(fmt.Sprint(next))},
			}
			next++
		}
		if _, err := c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: pts}, true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkExactSearch100k measures one exact top-10 search over 100 000
// random 128-d cosine points, without and with a payload filter.
func BenchmarkExactSearch100k(b *testing.B) {
	const n, dim, batch = 100_000, 128, 1000
	b.Logf("seed %d", benchSeed)
	r := rand.New(rand.NewPCG(benchSeed, 2))
	// A WAL large enough that loading does not checkpoint on the way.
	c, _ := openCollection(b, `{"vectors":{"size":128,"distance":"Cosine"},"wal_config":{"wal_capacity_mb":1024}}`)
	ctx := context.Background()
	for start := 0; start < n; start += batch {
		pts := make([]ops.PointStruct, batch)
		for i := range pts {
			id := start + i
			pts[i] = ops.PointStruct{
				ID:      point.NumID(uint64(id)),
				Vectors: point.Vectors{"": benchVector(r, dim)},
				Payload: point.Payload{"group": json.Number(fmt.Sprint(id % 10)), "rare": id%100 == 0},
			}
		}
		// Operations apply in order, so waiting for the last one waits
		// for all of them.
		if _, err := c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: pts}, start+batch >= n); err != nil {
			b.Fatal(err)
		}
	}
	if got := must(c.Count(bg, ops.CountRequest{Exact: true})); got != n {
		b.Fatalf("loaded %d points, want %d", got, n)
	}
	queries := make([][]float32, 64)
	for i := range queries {
		queries[i] = benchVector(r, dim)
	}

	cases := []struct {
		name   string
		filter string
	}{
		{"unfiltered", ""},
		{"filter_10pct", `{"must":[{"key":"group","match":{"value":3}}]}`},
		{"filter_1pct", `{"must":[{"key":"rare","match":{"value":true}}]}`},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			req := ops.SearchRequest{Limit: 10, Params: ops.SearchParams{Exact: true}} // exact: the HNSW benchmarks live in internal/index/hnsw and bench/
			if tc.filter != "" {
				req.Filter = mustFilter(b, tc.filter)
			}
			i := 0
			for b.Loop() {
				req.Vector = queries[i%len(queries)]
				i++
				hits, err := c.Search(bg, req)
				if err != nil || len(hits) != 10 {
					b.Fatalf("search: %d hits, %v", len(hits), err)
				}
			}
		})
	}
}

// BenchmarkHNSWSearch100k measures top-10 searches through the whole engine
// (segments, graph walk, merge, records) over 100 000 random 128-d cosine
// points once the optimizer has indexed them, with one segment and with
// the automatic segment number; it reports recall@10 against exact search.
func BenchmarkHNSWSearch100k(b *testing.B) {
	const n, dim, batch = 100_000, 128, 1000
	for _, segs := range []int{1, 0} {
		b.Run(fmt.Sprintf("default_segment_number=%d", segs), func(b *testing.B) {
			r := rand.New(rand.NewPCG(benchSeed, 3))
			c, _ := openCollection(b, fmt.Sprintf(`{"vectors":{"size":128,"distance":"Cosine"},"wal_config":{"wal_capacity_mb":1024},
				"hnsw_config":{"m":16,"ef_construct":100},"optimizers_config":{"default_segment_number":%d,"indexing_threshold":1000}}`, segs))
			ctx := context.Background()
			for start := 0; start < n; start += batch {
				pts := make([]ops.PointStruct, batch)
				for i := range pts {
					pts[i] = ops.PointStruct{ID: point.NumID(uint64(start + i)), Vectors: point.Vectors{"": benchVector(r, dim)}}
				}
				if _, err := c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: pts}, start+batch >= n); err != nil {
					b.Fatal(err)
				}
			}
			for {
				info, err := c.Info()
				if err != nil {
					b.Fatal(err)
				}
				if info.Status == "green" {
					b.Logf("segments %d, indexed %d of %d", info.SegmentsCount, info.IndexedVectorsCount, n)
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			queries := make([][]float32, 200)
			truth := make([]map[point.ID]bool, len(queries))
			for i := range queries {
				queries[i] = benchVector(r, dim)
				hits, err := c.Search(bg, ops.SearchRequest{Vector: queries[i], Limit: 10, Params: ops.SearchParams{Exact: true}})
				if err != nil {
					b.Fatal(err)
				}
				truth[i] = map[point.ID]bool{}
				for _, h := range hits {
					truth[i][h.ID] = true
				}
			}
			found, i := 0, 0
			for b.Loop() {
				q := i % len(queries)
				i++
				hits, err := c.Search(bg, ops.SearchRequest{Vector: queries[q], Limit: 10, Params: ops.SearchParams{HnswEf: 64}})
				if err != nil {
					b.Fatal(err)
				}
				for _, h := range hits {
					if truth[q][h.ID] {
						found++
					}
				}
			}
			b.ReportMetric(float64(found)/float64(10*i), "recall@10")
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "queries/s")
		})
	}
}
