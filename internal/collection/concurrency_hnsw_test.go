package collection

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// TestWritesDuringIndexing: writers upsert and delete while readers search
// and the optimizer builds and extends the graphs. Nothing acknowledged is
// lost, no deleted point is returned, and afterwards every point outside
// the last appendable segment (below the indexing threshold) is linked, and
// every point is found. Run with -race.
func TestWritesDuringIndexing(t *testing.T) {
	seed := uint64(20261125)
	t.Logf("seed %d", seed)
	c, _ := openCollection(t, `{"vectors":{"size":8,"distance":"Dot"},"optimizers_config":{"indexing_threshold":2},"hnsw_config":{"m":8,"ef_construct":32}}`)
	const writers, perWriter = 4, 600
	ctx := context.Background()
	final := make([]map[uint64][]float32, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			state := map[uint64][]float32{}
			for i := range perWriter {
				id := uint64(w*perWriter + r.IntN(perWriter/2))
				if i%7 == 3 {
					if _, err := c.Update(ctx, &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(id)}}, true); err != nil {
						t.Error(err)
						return
					}
					delete(state, id)
					continue
				}
				v := make([]float32, 8)
				for j := range v {
					v[j] = r.Float32()
				}
				op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(id), Vectors: point.Vectors{"": v}}}}
				if _, err := c.Update(ctx, op, true); err != nil {
					t.Error(err)
					return
				}
				state[id] = v
			}
			final[w] = state
		}()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			r := rand.New(rand.NewPCG(seed, 99))
			for {
				select {
				case <-stop:
					return
				default:
				}
				q := []float32{r.Float32(), r.Float32(), r.Float32(), r.Float32(), r.Float32(), r.Float32(), r.Float32(), r.Float32()}
				if _, err := c.Search(bg, ops.SearchRequest{Vector: q, Limit: 5, Params: ops.SearchParams{HnswEf: 16}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()

	want := map[point.ID][]float32{}
	for _, st := range final {
		for id, v := range st {
			want[point.NumID(id)] = v
		}
	}
	if n := must(c.Count(bg, ops.CountRequest{Exact: true})); n != len(want) {
		t.Fatalf("count %d, want %d", n, len(want))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := c.Info()
		if err != nil {
			t.Fatal(err)
		}
		// 2 KB of 8-dimensional vectors: 64 points.
		if info.IndexedVectorsCount+64 > uint64(len(want)) && info.Status == "green" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexed %d of %d", info.IndexedVectorsCount, len(want))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Every point is its own best match through the graph, and the stored
	// vector is the last acknowledged one.
	for id, v := range want {
		hits, err := c.Search(bg, ops.SearchRequest{Vector: v, Limit: 1, Params: ops.SearchParams{HnswEf: 64}, WithVector: ops.VectorSelector{Enable: true}})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 {
			t.Fatalf("point %s: no hit", id)
		}
		if _, ok := want[hits[0].ID]; !ok {
			t.Fatalf("deleted point %s returned", hits[0].ID)
		}
		recs, err := c.Retrieve(bg, []point.ID{id}, ops.PayloadSelector{}, ops.VectorSelector{Enable: true})
		if err != nil || len(recs) != 1 {
			t.Fatalf("point %s: %v %v", id, recs, err)
		}
		for j := range v {
			if recs[0].Vectors[""][j] != v[j] {
				t.Fatalf("point %s: stored vector differs from the last acknowledged one", id)
			}
		}
	}
}
