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

// BenchmarkUpdateBatch1000Wait sends points/batch requests of 1,000
// operations (each an upsert of one 16-d point) with wait=true: the cost of
// one request is what a client waits for.
func BenchmarkUpdateBatch1000Wait(b *testing.B) {
	const size, dim = 1000, 16
	b.Logf("seed %d", benchSeed)
	r := rand.New(rand.NewPCG(benchSeed, 3))
	c, _ := openCollection(b, fmt.Sprintf(`{"vectors":{"size":%d,"distance":"Dot"}}`, dim))
	ctx := context.Background()
	next := uint64(0)
	for b.Loop() {
		batch := make([]*ops.Operation, size)
		for i := range batch {
			batch[i] = &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{
				ID:      point.NumID(next),
				Vectors: point.Vectors{"": benchVector(r, dim)},
				Payload: point.Payload{"i": json.Number(fmt.Sprint(next))},
			}}}
			next++
		}
		res, err := c.UpdateBatch(ctx, batch, true)
		if err != nil {
			b.Fatal(err)
		}
		if len(res) != size {
			b.Fatalf("%d results", len(res))
		}
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "ops/s")
}
