package e2e

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestTurboSurvivesKill: a collection with a turbo4 vector and a vector
// under turbo quantization is sealed, indexed and quantized by the
// optimizer; after a SIGKILL the restart loads the turbo4 rows, the
// graphs and the quantized codes instead of rebuilding them (no
// optimization runs, nothing is reported unreadable), vectors read back
// bit for bit and quantized searches (which differ from exact ones, so
// the codes are in use) answer as before. Points written after the last
// checkpoint come back from the WAL with the same rows too.
func TestTurboSurvivesKill(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0x7b0))
	s := newServer(t)
	s.env["QDRANT__LOG_LEVEL"] = "debug" // checkpoints are logged at debug
	s.start()
	const coll, n, dim = "turbo", 2000, 16
	s.must("PUT", "/collections/"+coll, map[string]any{
		"vectors": map[string]any{
			"t4": map[string]any{"size": dim, "distance": "Cosine", "datatype": "turbo4"},
			"q":  map[string]any{"size": dim, "distance": "Euclid", "quantization_config": map[string]any{"turbo": map[string]any{"bits": "bits4"}}},
		},
		"hnsw_config": map[string]any{"m": 8, "ef_construct": 64},
		// 1 KB: 16 vectors of 16 float32s (thresholds count 4 bytes a
		// dimension whatever the datatype).
		"optimizers_config": map[string]any{"indexing_threshold": 1, "default_segment_number": 1},
	}, nil)
	vec := func() []float32 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		return v
	}
	for b := 0; b < n; b += 500 {
		pts := make([]map[string]any, 500)
		for i := range pts {
			pts[i] = map[string]any{"id": b + i, "vector": map[string]any{"t4": vec(), "q": vec()}}
		}
		s.must("PUT", "/collections/"+coll+"/points?wait=true", map[string]any{"points": pts}, nil)
	}
	type info struct {
		Status  string `json:"status"`
		Indexed int    `json:"indexed_vectors_count"`
		Points  int    `json:"points_count"`
	}
	var before info
	deadline := time.Now().Add(90 * time.Second)
	for {
		s.must("GET", "/collections/"+coll, nil, &before)
		if before.Status == "green" && before.Indexed == 2*n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never indexed: %+v", before)
		}
		time.Sleep(50 * time.Millisecond)
	}
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

	type hits struct {
		Points []struct {
			ID    any     `json:"id"`
			Score float64 `json:"score"`
		} `json:"points"`
	}
	q := vec()
	search := func(using string, params map[string]any) hits {
		var h hits
		s.must("POST", "/collections/"+coll+"/points/query", map[string]any{"query": q, "using": using, "limit": 10, "params": params}, &h)
		return h
	}
	approx := map[string]any{"hnsw_ef": 64, "quantization": map[string]any{"rescore": false}}
	quantBefore, t4Before := search("q", approx), search("t4", map[string]any{"hnsw_ef": 64})
	if exact := search("q", map[string]any{"exact": true}); reflect.DeepEqual(exact, quantBefore) {
		t.Fatalf("quantized search equals the exact one: the codes are not in use\n%v", exact)
	}
	read := func(ids ...int) map[string]any {
		var recs []map[string]any
		s.must("POST", "/collections/"+coll+"/points", map[string]any{"ids": ids, "with_vector": true}, &recs)
		return map[string]any{"records": recs}
	}
	vecsBefore := read(1, 500, 1999)

	s.kill()
	s.start()
	var after info
	s.must("GET", "/collections/"+coll, nil, &after)
	if after.Indexed != 2*n || after.Points != n || after.Status != "green" {
		t.Fatalf("right after restart: %+v, want %d points, %d vectors indexed, green", after, n, 2*n)
	}
	if lines := s.logLines(`msg="optimization started"`); len(lines) != 0 {
		t.Fatalf("the restart rebuilt segments:\n%s", strings.Join(lines, "\n"))
	}
	if lines := s.logLines("unreadable"); len(lines) != 0 {
		t.Fatalf("the restart rebuilt indexes or codes:\n%s", strings.Join(lines, "\n"))
	}
	if got := read(1, 500, 1999); !reflect.DeepEqual(got, vecsBefore) {
		t.Fatalf("vectors changed across the restart:\n%v\n%v", got, vecsBefore)
	}
	if got := search("q", approx); !reflect.DeepEqual(got, quantBefore) {
		t.Fatalf("quantized search changed across the restart:\n%v\n%v", got, quantBefore)
	}
	if got := search("t4", map[string]any{"hnsw_ef": 64}); !reflect.DeepEqual(got, t4Before) {
		t.Fatalf("turbo4 search changed across the restart:\n%v\n%v", got, t4Before)
	}

	// Points only in the WAL: quantized again on replay, to the same rows.
	pts := make([]map[string]any, 10)
	for i := range pts {
		pts[i] = map[string]any{"id": n + i, "vector": map[string]any{"t4": vec(), "q": vec()}}
	}
	s.must("PUT", "/collections/"+coll+"/points?wait=true", map[string]any{"points": pts}, nil)
	walBefore := read(n, n+5, n+9)
	s.kill()
	s.start()
	if got := read(n, n+5, n+9); fmt.Sprint(got) != fmt.Sprint(walBefore) {
		t.Fatalf("replayed turbo4 vectors differ:\n%v\n%v", got, walBefore)
	}
}
