package collection

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
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
		pts := make([]shard.PointStruct, 100)
		for i := range pts {
			pts[i] = shard.PointStruct{
				ID:      point.NumID(next),
				Vectors: point.Vectors{"": pool[r.IntN(len(pool))]},
				Payload: point.Payload{"i": json.Number(fmt.Sprint(next))},
			}
			next++
		}
		if _, err := c.Update(ctx, &shard.Operation{Kind: shard.OpUpsert, Points: pts}, true); err != nil {
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
		pts := make([]shard.PointStruct, batch)
		for i := range pts {
			id := start + i
			pts[i] = shard.PointStruct{
				ID:      point.NumID(uint64(id)),
				Vectors: point.Vectors{"": benchVector(r, dim)},
				Payload: point.Payload{"group": json.Number(fmt.Sprint(id % 10)), "rare": id%100 == 0},
			}
		}
		// Operations apply in order, so waiting for the last one waits
		// for all of them.
		if _, err := c.Update(ctx, &shard.Operation{Kind: shard.OpUpsert, Points: pts}, start+batch >= n); err != nil {
			b.Fatal(err)
		}
	}
	if got := c.Count(nil); got != n {
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
			req := SearchRequest{Limit: 10, Params: SearchParams{Exact: true}} // exact: the HNSW benchmarks live in internal/index/hnsw and bench/
			if tc.filter != "" {
				req.Filter = mustFilter(b, tc.filter)
			}
			i := 0
			for b.Loop() {
				req.Vector = queries[i%len(queries)]
				i++
				hits, err := c.Search(req)
				if err != nil || len(hits) != 10 {
					b.Fatalf("search: %d hits, %v", len(hits), err)
				}
			}
		})
	}
}
