package rest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// post sends a JSON body and decodes the result; it is safe to call from
// any goroutine (it reports with an error instead of failing the test).
func (s *server) post(method, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, raw)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: %v", method, path, err)
	}
	if string(env.Status) != `"ok"` || env.Time == nil {
		return fmt.Errorf("%s %s: bad envelope %s", method, path, raw)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(env.Result, out)
}

func TestConcurrentUpsertsAndSearches(t *testing.T) {
	rng := seededRand(t)
	s := newServer(t, rest.Options{})
	const dim, writers, batches, perBatch, readers = 8, 8, 15, 10, 4
	s.createCollection("conc", map[string]any{"vectors": map[string]any{"size": dim, "distance": "Cosine"}})

	// Vectors are drawn up front: the generator is not safe for concurrent use.
	vectors := make([][]float32, writers*batches*perBatch)
	for i := range vectors {
		vectors[i] = randVector(rng, dim)
	}
	queries := make([][]float32, readers)
	for i := range queries {
		queries[i] = randVector(rng, dim)
	}

	var wg, rg sync.WaitGroup
	var done atomic.Bool
	var searches atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				pts := make([]pointIn, perBatch)
				for k := range pts {
					id := (w*batches+b)*perBatch + k // disjoint per writer
					pts[k] = pointIn{ID: id, Vector: vectors[id], Payload: map[string]any{"writer": w}}
				}
				var res updateResult
				if err := s.post(http.MethodPut, "/collections/conc/points?wait=true", map[string]any{"points": pts}, &res); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				if res.Status != "completed" {
					t.Errorf("writer %d: status %q", w, res.Status)
				}
			}
		}()
	}
	for r := range readers {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for !done.Load() {
				var res queryResult
				if err := s.post(http.MethodPost, "/collections/conc/points/query", map[string]any{"query": queries[r], "limit": 5, "with_payload": true}, &res); err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
				for i := 1; i < len(res.Points); i++ {
					if *res.Points[i].Score > *res.Points[i-1].Score {
						t.Errorf("reader %d: scores out of order: %v then %v", r, *res.Points[i-1].Score, *res.Points[i].Score)
					}
				}
				var c struct{ Count int }
				if err := s.post(http.MethodPost, "/collections/conc/points/count", map[string]any{}, &c); err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
				searches.Add(1)
			}
		}()
	}
	wg.Wait()
	done.Store(true)
	rg.Wait()
	t.Logf("%d searches ran alongside the writers", searches.Load())

	want := writers * batches * perBatch
	if n := s.count("conc", nil); n != want {
		t.Fatalf("count %d, want %d", n, want)
	}
	for w := range writers {
		f := map[string]any{"must": []any{map[string]any{"key": "writer", "match": map[string]any{"value": w}}}}
		if n := s.count("conc", f); n != batches*perBatch {
			t.Errorf("writer %d: %d points, want %d", w, n, batches*perBatch)
		}
	}
	// Every point is stored with its own vector.
	recs := s.retrieve("conc", map[string]any{"ids": []int{0, want / 2, want - 1}, "with_vector": true})
	for _, r := range recs {
		var id int
		decode(t, r.ID, &id)
		var got []float64
		decode(t, r.Vector, &got)
		wantVec := normalize64(vectors[id])
		for i := range wantVec {
			if !near(got[i], wantVec[i]) {
				t.Errorf("point %d: vector %v, want %v", id, got, wantVec)
				break
			}
		}
	}
}
