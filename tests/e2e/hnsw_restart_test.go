package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestHNSWSurvivesKill: once the optimizer has sealed and indexed the
// points and reported the collection green, a SIGKILL and restart load
// the graphs instead of rebuilding them: indexed_vectors_count is complete
// as soon as the server answers, no optimization runs, and searches
// return the same results.
func TestHNSWSurvivesKill(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0x45e1))
	s := newServer(t)
	s.env["QDRANT__LOG_LEVEL"] = "debug" // checkpoints are logged at debug
	s.start()
	const coll, n, dim = "graphs", 3000, 16
	// 64 KB of 16-dimensional vectors: 1024 points per segment to index.
	s.must("PUT", "/collections/"+coll, map[string]any{
		"vectors":           map[string]any{"size": dim, "distance": "Cosine"},
		"hnsw_config":       map[string]any{"m": 8, "ef_construct": 64},
		"optimizers_config": map[string]any{"indexing_threshold": 64, "default_segment_number": 1},
	}, nil)
	for b := 0; b < n; b += 500 {
		pts := make([]map[string]any, 500)
		for i := range pts {
			v := make([]float32, dim)
			for j := range v {
				v[j] = float32(r.NormFloat64())
			}
			pts[i] = map[string]any{"id": b + i, "vector": v}
		}
		s.must("PUT", "/collections/"+coll+"/points?wait=true", map[string]any{"points": pts}, nil)
	}
	type info struct {
		Status        string `json:"status"`
		Indexed       int    `json:"indexed_vectors_count"`
		Points        int    `json:"points_count"`
		SegmentsCount int    `json:"segments_count"`
	}
	var before info
	deadline := time.Now().Add(60 * time.Second)
	for {
		s.must("GET", "/collections/"+coll, nil, &before)
		if before.Status == "green" && before.Indexed == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never indexed: %+v", before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The optimizer asks for a flush right after swapping its result in.
	deadline = time.Now().Add(20 * time.Second)
	for {
		text := s.lastStartLog()
		done := strings.LastIndex(text, `msg="optimization done"`)
		if done >= 0 && strings.Contains(text[done:], `msg="checkpoint written"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint after the last optimization")
		}
		time.Sleep(20 * time.Millisecond)
	}
	query := map[string]any{"query": make([]float32, dim), "limit": 10, "params": map[string]any{"hnsw_ef": 64}}
	for j := range dim {
		query["query"].([]float32)[j] = float32(j%3) - 1
	}
	var hitsBefore, hitsAfter struct {
		Points []struct {
			ID    any     `json:"id"`
			Score float64 `json:"score"`
		} `json:"points"`
	}
	s.must("POST", "/collections/"+coll+"/points/query", query, &hitsBefore)

	s.kill()
	s.start()
	var after info
	s.must("GET", "/collections/"+coll, nil, &after)
	if after.Indexed != n || after.Points != n || after.Status != "green" {
		t.Fatalf("right after restart: %+v, want %d points all indexed and green", after, n)
	}
	if lines := s.logLines("HNSW graphs loaded"); len(lines) != 1 {
		t.Fatalf("%d \"HNSW graphs loaded\" lines in the last start", len(lines))
	}
	if lines := s.logLines(`msg="optimization started"`); len(lines) != 0 {
		t.Fatalf("the restart rebuilt segments:\n%s", strings.Join(lines, "\n"))
	}
	s.must("POST", "/collections/"+coll+"/points/query", query, &hitsAfter)
	if fmt.Sprint(hitsBefore) != fmt.Sprint(hitsAfter) {
		t.Fatalf("search changed across the restart:\n%v\n%v", hitsBefore, hitsAfter)
	}
}
