//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestNamedVectorsSurviveRestart: named vectors added to and dropped from
// a collection whose points sit in a sealed, indexed, flushed segment
// (dense b and sparse s added, written to; dense a dropped) are as they
// were after a kill -9 (the changes replayed from the WAL) and after a
// clean restart; a dropped vector added again in another space starts
// empty, across a restart too.
func TestNamedVectorsSurviveRestart(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0x7ec))
	s := newServer(t)
	s.env["QDRANT__LOG_LEVEL"] = "debug" // checkpoints are logged at debug
	s.start()
	const coll, n = "named", 600
	s.must("PUT", "/collections/"+coll, map[string]any{
		"vectors":           map[string]any{"a": map[string]any{"size": 4, "distance": "Dot", "on_disk": true}},
		"optimizers_config": map[string]any{"indexing_threshold": 1, "default_segment_number": 1},
	}, nil)
	pts := make([]map[string]any, n)
	for i := range pts {
		pts[i] = map[string]any{"id": i, "vector": map[string]any{"a": []float32{r.Float32(), r.Float32(), r.Float32(), r.Float32()}},
			"payload": map[string]any{"k": i % 7}}
	}
	s.must("PUT", "/collections/"+coll+"/points?wait=true", map[string]any{"points": pts}, nil)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var info struct {
			Status  string `json:"status"`
			Indexed int    `json:"indexed_vectors_count"`
		}
		s.must("GET", "/collections/"+coll, nil, &info)
		text := s.lastStartLog()
		done := strings.LastIndex(text, `msg="optimization done"`)
		if info.Status == "green" && info.Indexed > 0 && done >= 0 && strings.Contains(text[done:], `msg="checkpoint written"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never sealed and flushed: status %s", info.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	s.must("PUT", "/collections/"+coll+"/vectors/b?wait=true", map[string]any{"dense": map[string]any{"size": 3, "distance": "Cosine"}}, nil)
	s.must("PUT", "/collections/"+coll+"/vectors/s?wait=true", map[string]any{"sparse": map[string]any{"modifier": "idf"}}, nil)
	var upd []map[string]any
	for i := 0; i < n; i += 3 {
		upd = append(upd, map[string]any{"id": i, "vector": map[string]any{"b": []float32{1, float32(i), 2},
			"s": map[string]any{"indices": []int{i % 11, 20}, "values": []float32{1, 2}}}})
	}
	s.must("PUT", "/collections/"+coll+"/points/vectors?wait=true", map[string]any{"points": upd}, nil)
	s.must("DELETE", "/collections/"+coll+"/vectors/a?wait=true", nil, nil)

	vectors := func() string {
		var info struct {
			Config struct {
				Params struct {
					Vectors json.RawMessage `json:"vectors"`
					Sparse  json.RawMessage `json:"sparse_vectors"`
				} `json:"params"`
			} `json:"config"`
		}
		s.must("GET", "/collections/"+coll, nil, &info)
		return string(info.Config.Params.Vectors) + " " + string(info.Config.Params.Sparse)
	}
	queries := []map[string]any{
		{"query": []float32{1, 2, 3}, "using": "b", "limit": 10},
		{"query": map[string]any{"indices": []int{3, 20}, "values": []float32{1, 1}}, "using": "s", "limit": 10, "with_payload": true},
		{"query": []float32{1, 0, 1}, "using": "b", "limit": 5, "filter": map[string]any{"must": []any{map[string]any{"key": "k", "match": map[string]any{"value": 3}}}}},
	}
	wantVectors := vectors()
	if !strings.Contains(wantVectors, `"b":{"size":3,"distance":"Cosine"}`) || strings.Contains(wantVectors, `"a"`) || !strings.Contains(wantVectors, `"s":{"modifier":"idf"}`) {
		t.Fatalf("vectors after the changes: %s", wantVectors)
	}
	before := queryAll(t, s, coll, queries)
	points := scrollRaw(t, s, coll)
	check := func(when string) {
		t.Helper()
		if got := vectors(); got != wantVectors {
			t.Fatalf("%s: vectors %s, want %s", when, got, wantVectors)
		}
		after := queryAll(t, s, coll, queries)
		for i := range queries {
			if before[i] != after[i] {
				t.Fatalf("%s: query %d changed:\n%s\n%s", when, i, before[i], after[i])
			}
		}
		again := scrollRaw(t, s, coll)
		if len(again) != n {
			t.Fatalf("%s: %d points, want %d", when, len(again), n)
		}
		for id, p := range points {
			if p != again[id] {
				t.Fatalf("%s: point %s changed:\n%s\n%s", when, id, p, again[id])
			}
		}
		var apiErr *apiError
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := s.call(ctx, "POST", "/collections/"+coll+"/points/query", map[string]any{"query": []float32{1, 2, 3, 4}, "using": "a"}, nil)
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(apiErr.Body, "Not existing vector name error: a") {
			t.Fatalf("%s: a query on the dropped vector: %v", when, err)
		}
	}
	for _, p := range points {
		if strings.Contains(p, `"a":`) {
			t.Fatalf("a point kept the dropped vector: %s", p)
		}
	}

	s.kill()
	s.start()
	check("after kill -9")
	s.stop()
	s.start()
	check("after a clean restart")

	// a, added again in another space, is empty, across a restart too.
	s.must("PUT", "/collections/"+coll+"/vectors/a?wait=true", map[string]any{"dense": map[string]any{"size": 2, "distance": "Euclid"}}, nil)
	s.must("PUT", "/collections/"+coll+"/points/vectors?wait=true", map[string]any{"points": []any{map[string]any{"id": 5, "vector": map[string]any{"a": []float32{1, 1}}}}}, nil)
	s.kill()
	s.start()
	got := scrollRaw(t, s, coll)
	for id, p := range got {
		if strings.Contains(p, `"a":`) != (id == "5") {
			t.Fatalf("point %s after a was added again: %s", id, p)
		}
	}
	if !strings.Contains(got["5"], `"a":[1,1]`) {
		t.Fatalf("point 5: %s", got["5"])
	}
}
