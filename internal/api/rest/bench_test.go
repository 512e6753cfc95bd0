package rest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
)

// benchServer serves a fresh node over loopback HTTP, as a client sees it.
func benchServer(b *testing.B) (*httptest.Server, func(method, path string, body any) []byte) {
	b.Helper()
	n, err := node.Open(node.Options{StoragePath: b.TempDir(), Defaults: collection.QdrantDefaults()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(rest.New(n, rest.Options{MaxRequestSizeMB: 64}))
	b.Cleanup(func() { srv.Close(); n.Close() })
	do := func(method, path string, body any) []byte {
		data, err := json.Marshal(body)
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return out
	}
	return srv, do
}

type benchPoint struct {
	ID      uint64         `json:"id"`
	Vector  []float32      `json:"vector"`
	Payload map[string]any `json:"payload"`
}

func randomPoints(r *rand.Rand, start, n, dim int) []benchPoint {
	pts := make([]benchPoint, n)
	for i := range pts {
		v := make([]float32, dim)
		for j := range v {
			v[j] = r.Float32()*2 - 1
		}
		pts[i] = benchPoint{ID: uint64(start + i), Vector: v, Payload: map[string]any{"bucket": (start + i) % 100}}
	}
	return pts
}

// BenchmarkHTTPUpsertBatch100Wait measures upserts of 100 128-d points per
// request with wait=true (each answer waits for an fsync), over HTTP.
func BenchmarkHTTPUpsertBatch100Wait(b *testing.B) {
	_, do := benchServer(b)
	do("PUT", "/collections/bench", map[string]any{"vectors": map[string]any{"size": 128, "distance": "Cosine"}})
	r := rand.New(rand.NewPCG(1, 2))
	batches := make([][]byte, 64)
	for i := range batches {
		batches[i], _ = json.Marshal(map[string]any{"points": randomPoints(r, i*100, 100, 128)})
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		do("PUT", "/collections/bench/points?wait=true", json.RawMessage(batches[i%len(batches)]))
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkHTTPExactSearch100k measures one exact top-10 query over 100k
// 128-d points, over HTTP.
func BenchmarkHTTPExactSearch100k(b *testing.B) {
	_, do := benchServer(b)
	do("PUT", "/collections/bench", map[string]any{"vectors": map[string]any{"size": 128, "distance": "Cosine"}})
	r := rand.New(rand.NewPCG(3, 4))
	const total, batch = 100_000, 1000
	for i := 0; i < total; i += batch {
		do("PUT", "/collections/bench/points?wait=true", map[string]any{"points": randomPoints(r, i, batch, 128)})
	}
	queries := make([][]float32, 32)
	for i := range queries {
		queries[i] = randomPoints(r, 0, 1, 128)[0].Vector
	}
	for _, filtered := range []bool{false, true} {
		b.Run(fmt.Sprintf("filtered=%v", filtered), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				req := map[string]any{"query": queries[i%len(queries)], "limit": 10, "params": map[string]any{"exact": true}}
				if filtered {
					req["filter"] = map[string]any{"must": []any{map[string]any{"key": "bucket", "range": map[string]any{"lt": 10}}}}
				}
				do("POST", "/collections/bench/points/query", req)
			}
		})
	}
}
