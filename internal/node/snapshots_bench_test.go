package node

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// BenchmarkSnapshot measures snapshot creation and recovery of a
// collection of 50k points of 128 dimensions with a small payload
// (MB/s of archive; points/s). Run:
//
//	go test -run=NONE -bench=Snapshot -benchtime=3x ./internal/node/
func BenchmarkSnapshot(b *testing.B) {
	const points, dim = 50_000, 128
	dir := b.TempDir()
	n, err := Open(testOptions(dir))
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	ctx := context.Background()
	var req = `{"vectors":{"size":128,"distance":"Cosine"}}`
	if err := n.CreateCollection(ctx, "bench", createReqB(b, req)); err != nil {
		b.Fatal(err)
	}
	c, _ := n.Collection("bench")
	r := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < points; start += 1000 {
		pts := make([]ops.PointStruct, 0, 1000)
		for i := start; i < start+1000; i++ {
			v := make([]float32, dim)
			for j := range v {
				v[j] = r.Float32()
			}
			pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": v}, Payload: point.Payload{"i": i, "g": i % 10}})
		}
		if _, err := c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: pts}, true); err != nil {
			b.Fatal(err)
		}
	}
	var last *SnapshotDescription
	b.Run("create", func(b *testing.B) {
		for range b.N {
			d, err := n.CreateSnapshot(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			last = d
			b.SetBytes(d.Size)
		}
		b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	})
	path := filepath.Join(dir, "snapshots", "bench", last.Name)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("recover", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for range b.N {
			if err := n.recoverFromFile("restored", path, ""); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	})
}

func createReqB(b *testing.B, body string) *collection.CreateRequest {
	b.Helper()
	var req collection.CreateRequest
	if err := point.DecodeJSON([]byte(body), &req); err != nil {
		b.Fatal(err)
	}
	return &req
}
