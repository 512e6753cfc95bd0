package collection

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// TestOptimizerBuildsHNSW: past indexing_threshold the background optimizer
// links every vector, the info tells the truth, and searches through the
// graph agree with exact search.
func TestOptimizerBuildsHNSW(t *testing.T) {
	seed := uint64(20261125)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 9))
	// 1 KB of 8-d float32 vectors: indexing starts at 32 points.
	c, dir := openCollection(t, `{"vectors":{"size":8,"distance":"Euclid"},"optimizers_config":{"indexing_threshold":1},"hnsw_config":{"m":8,"ef_construct":32}}`)
	const n = 1500
	pts := make([]ops.PointStruct, 0, 100)
	for i := range n {
		v := make([]float32, 8)
		for j := range v {
			v[j] = r.Float32()
		}
		pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": v}, Payload: point.Payload{"even": i%2 == 0}})
		if len(pts) == cap(pts) {
			upsert(t, c, pts...)
			pts = pts[:0]
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := c.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.IndexedVectorsCount == n && info.Status == "green" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexed %d of %d, status %s", info.IndexedVectorsCount, n, info.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	hits, total := 0, 0
	for range 30 {
		q := make([]float32, 8)
		for j := range q {
			q[j] = r.Float32()
		}
		req := ops.SearchRequest{Vector: q, Limit: 10, Params: ops.SearchParams{HnswEf: 64}}
		approx, err := c.Search(bg, req)
		if err != nil {
			t.Fatal(err)
		}
		req.Params.Exact = true
		exact, err := c.Search(bg, req)
		if err != nil {
			t.Fatal(err)
		}
		want := map[point.ID]bool{}
		for _, h := range exact {
			want[h.ID] = true
		}
		for _, h := range approx {
			if want[h.ID] {
				hits++
			}
		}
		total += len(exact)
	}
	if recall := float64(hits) / float64(total); recall < 0.9 {
		t.Fatalf("recall %.3f through the graph", recall)
	}
	c = reopenIndexed(t, c, dir, n)
	if res, err := c.Search(bg, ops.SearchRequest{Vector: make([]float32, 8), Limit: 3}); err != nil || len(res) != 3 {
		t.Fatalf("search after reopen: %v %v", res, err)
	}
}

// reopenIndexed closes c and opens it again on dir: the graph comes back
// with the checkpoint, so every vector is indexed at once, before the
// optimizer could have linked anything.
func reopenIndexed(t *testing.T, c *Collection, dir string, n int) *Collection {
	t.Helper()
	cfg, err := c.Config()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, err := Open(nil, dir, "c", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Close() })
	info, err := c2.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.IndexedVectorsCount != uint64(n) {
		t.Fatalf("indexed %d right after reopening, want %d: the graph was not loaded", info.IndexedVectorsCount, n)
	}
	return c2
}
