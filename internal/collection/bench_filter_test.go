package collection

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// BenchmarkFilterSelectivity measures filtered Count and filtered exact
// Search (limit 10) over 100 000 random 128-d cosine points, for keyword
// matches selecting 1%, 10% and 50% of the points, without and then with
// a keyword index on the field. The points are loaded once; the index is
// created between the two halves.
//
//	go test -run '^$' -bench Filter -benchtime 2s ./internal/collection/
func BenchmarkFilterSelectivity(b *testing.B) {
	const n, dim, batch = 100_000, 128, 1000
	b.Logf("seed %d", benchSeed)
	r := rand.New(rand.NewPCG(benchSeed, 3))
	c, _ := openCollection(b, `{"vectors":{"size":128,"distance":"Cosine"},"wal_config":{"wal_capacity_mb":1024}}`)
	ctx := context.Background()
	for start := 0; start < n; start += batch {
		pts := make([]ops.PointStruct, batch)
		for i := range pts {
			id := start + i
			// One keyword field; a point holds "s1" for 1% of the ids,
			// "s10" for 10% and "s50" for 50%.
			var sel []any
			if id%100 == 0 {
				sel = append(sel, "s1")
			}
			if id%10 == 0 {
				sel = append(sel, "s10")
			}
			if id%2 == 0 {
				sel = append(sel, "s50")
			}
			pl := point.Payload{"i": json.Number(fmt.Sprint(id))}
			if sel != nil {
				pl["sel"] = sel
			}
			pts[i] = ops.PointStruct{ID: point.NumID(uint64(id)), Vectors: point.Vectors{"": benchVector(r, dim)}, Payload: pl}
		}
		if _, err := c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: pts}, start+batch >= n); err != nil {
			b.Fatal(err)
		}
	}
	queries := make([][]float32, 64)
	for i := range queries {
		queries[i] = benchVector(r, dim)
	}
	sels := []struct {
		name  string
		value string
		want  int
	}{
		{"1pct", "s1", n / 100},
		{"10pct", "s10", n / 10},
		{"50pct", "s50", n / 2},
	}
	for _, mode := range []string{"noindex", "keyword_index"} {
		if mode == "keyword_index" {
			op := &ops.Operation{Kind: ops.CreateIndex, Key: "sel", Schema: &ops.FieldSchema{Type: ops.KeywordField}}
			if _, err := c.Update(ctx, op, true); err != nil {
				b.Fatal(err)
			}
		}
		for _, sel := range sels {
			f := mustFilter(b, `{"must":[{"key":"sel","match":{"value":"`+sel.value+`"}}]}`)
			if got := must(c.Count(bg, ops.CountRequest{Filter: f, Exact: true})); got != sel.want {
				b.Fatalf("%s %s: count %d, want %d", mode, sel.name, got, sel.want)
			}
			b.Run(fmt.Sprintf("%s/%s/count", mode, sel.name), func(b *testing.B) {
				for b.Loop() {
					if got := must(c.Count(bg, ops.CountRequest{Filter: f, Exact: true})); got != sel.want {
						b.Fatalf("count %d, want %d", got, sel.want)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/%s/search", mode, sel.name), func(b *testing.B) {
				req := ops.SearchRequest{Limit: 10, Filter: f, Params: ops.SearchParams{Exact: true}}
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
}
