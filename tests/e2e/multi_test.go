//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// randMulti draws k sub-vectors of dim values: small integers (exact in
// uint8 and float32) over a few levels so that queries have clear winners.
func randMulti(r *rand.Rand, k, dim int) [][]float32 {
	out := make([][]float32, k)
	for i := range out {
		out[i] = make([]float32, dim)
		for j := range out[i] {
			out[i][j] = float32(r.IntN(16))
		}
	}
	return out
}

// multiConfig has two multivectors: mv (Cosine, scalar quantization) and
// mu (uint8, Dot, kept on disk), and a plain vector; the optimizer seals
// one segment and indexes the multivectors at 64 KB of sub-vectors (d,
// of 8 bytes a point, stays below it).
var multiConfig = map[string]any{
	"vectors": map[string]any{
		"mv": map[string]any{"size": 16, "distance": "Cosine", "multivector_config": map[string]any{"comparator": "max_sim"},
			"quantization_config": map[string]any{"scalar": map[string]any{"type": "int8", "always_ram": true}}},
		"mu": map[string]any{"size": 8, "distance": "Dot", "datatype": "uint8", "on_disk": true,
			"multivector_config": map[string]any{"comparator": "max_sim"}},
		"d": map[string]any{"size": 2, "distance": "Dot"},
	},
	"hnsw_config":       map[string]any{"m": 8, "ef_construct": 64},
	"optimizers_config": map[string]any{"indexing_threshold": 64, "default_segment_number": 1},
}

// multiQueries are queries by multivectors, plain vectors and filters on
// both multivectors that a restart must answer alike.
func multiQueries(r *rand.Rand) []map[string]any {
	var out []map[string]any
	for i := range 12 {
		using, dim := "mv", 16
		if i%2 == 1 {
			using, dim = "mu", 8
		}
		var q any = randMulti(r, 1+r.IntN(4), dim)
		if i%4 == 2 {
			q = randMulti(r, 1, dim)[0] // a plain vector: one sub-vector
		}
		body := map[string]any{"query": q, "using": using, "limit": 10, "with_payload": true, "params": map[string]any{"hnsw_ef": 64}}
		if i%3 == 0 {
			body["filter"] = map[string]any{"must": []any{map[string]any{"key": "k", "range": map[string]any{"lt": 5}}}}
		}
		out = append(out, body)
	}
	return out
}

// TestMultivectorSurvivesKill: once the optimizer has sealed the points
// into a segment with an HNSW graph per multivector (with scalar codes for
// one, the vectors of the other in a file of their own) and flushed it, a
// SIGKILL and restart load the graphs and codes instead of rebuilding
// them: every vector is indexed as soon as the server answers, no
// optimization runs, no index is rebuilt, every point reads back the same
// and searches answer as before.
func TestMultivectorSurvivesKill(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0x3a11))
	s := newServer(t)
	s.env["QDRANT__LOG_LEVEL"] = "debug" // checkpoints are logged at debug
	s.start()
	const coll, n = "multi", 1500
	s.must("PUT", "/collections/"+coll, multiConfig, nil)
	for b := 0; b < n; b += 250 {
		pts := make([]map[string]any, 250)
		for i := range pts {
			vec := map[string]any{"mv": randMulti(r, 1+r.IntN(6), 16), "d": []float32{1, 2}}
			if i%4 != 0 {
				vec["mu"] = randMulti(r, 1+r.IntN(8), 8)
			}
			pts[i] = map[string]any{"id": b + i, "vector": vec, "payload": map[string]any{"k": r.IntN(10)}}
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
		text := s.lastStartLog()
		done := strings.LastIndex(text, `msg="optimization done"`)
		if before.Status == "green" && before.Indexed > n && done >= 0 && strings.Contains(text[done:], `msg="checkpoint written"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never indexed and flushed: %+v", before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	qs := multiQueries(r)
	hitsBefore := queryAll(t, s, coll, qs)
	points := scrollRaw(t, s, coll)

	s.kill()
	s.start()
	var after info
	s.must("GET", "/collections/"+coll, nil, &after)
	if after.Indexed != before.Indexed || after.Points != n || after.Status != "green" {
		t.Fatalf("right after restart: %+v, want %+v", after, before)
	}
	if lines := s.logLines("HNSW graphs loaded"); len(lines) != 1 || !strings.Contains(lines[0], "graphs=2") {
		t.Fatalf("graph lines in the last start: %q", lines)
	}
	for _, msg := range []string{`msg="optimization started"`, "index data unreadable"} {
		if lines := s.logLines(msg); len(lines) != 0 {
			t.Fatalf("the restart rebuilt:\n%s", strings.Join(lines, "\n"))
		}
	}
	hitsAfter := queryAll(t, s, coll, qs)
	for i := range qs {
		if hitsBefore[i] != hitsAfter[i] {
			t.Fatalf("query %d changed across the restart:\n%s\n%s", i, hitsBefore[i], hitsAfter[i])
		}
	}
	again := scrollRaw(t, s, coll)
	if len(again) != n || len(points) != n {
		t.Fatalf("%d points after the restart, %d before, want %d", len(again), len(points), n)
	}
	for id, p := range points {
		if p != again[id] {
			t.Fatalf("point %s changed across the restart:\n%s\n%s", id, p, again[id])
		}
	}
}

// TestMultivectorKill9KeepsAcknowledgedWrites kills the server while a
// client writes multivectors (upserts, update_vectors to more and fewer
// sub-vectors, delete_vectors) and the optimizer seals and indexes them,
// restarts it on the same storage, and checks that every acknowledged
// write reads back, the one in flight applied or not, and that searches
// through the graphs (rescored over every candidate) agree with exact
// ones.
func TestMultivectorKill9KeepsAcknowledgedWrites(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0x3a12))
	s := newServer(t)
	s.start()
	const coll, ids = "multikill", 300
	cfg := map[string]any{
		"vectors": map[string]any{
			"mv": map[string]any{"size": 4, "distance": "Euclid", "multivector_config": map[string]any{"comparator": "max_sim"}},
			"mu": map[string]any{"size": 3, "distance": "Dot", "datatype": "uint8", "on_disk": true, "multivector_config": map[string]any{"comparator": "max_sim"}},
		},
		"optimizers_config": map[string]any{"indexing_threshold": 2, "default_segment_number": 2},
		"wal_config":        map[string]any{"wal_capacity_mb": 1},
	}
	s.must("PUT", "/collections/"+coll, cfg, nil)
	model := map[uint64]string{} // acknowledged vectors, as JSON
	text := func(v map[string][][]float32) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	for cycle := 1; cycle <= 2; cycle++ {
		killAfter := 250 + r.IntN(400)
		var acked atomic.Int64
		type op struct {
			id    uint64
			apply func(map[string][][]float32) map[string][][]float32
		}
		var inflight *op
		state := map[uint64]map[string][][]float32{}
		for id, js := range model {
			var v map[string][][]float32
			json.Unmarshal([]byte(js), &v)
			state[id] = v
		}
		done := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			defer close(done)
			for ctx.Err() == nil {
				id := uint64(r.IntN(ids))
				var o op
				var method, path string
				var body any
				switch cur, ok := state[id]; {
				case ok && r.IntN(3) == 0:
					v := randMulti(r, 1+r.IntN(7), 4)
					method, path = "PUT", "/points/vectors"
					body = map[string]any{"points": []any{map[string]any{"id": id, "vector": map[string]any{"mv": v}}}}
					o = op{id, func(m map[string][][]float32) map[string][][]float32 {
						out := map[string][][]float32{"mv": v}
						if x, ok := m["mu"]; ok {
							out["mu"] = x
						}
						return out
					}}
				case ok && r.IntN(4) == 0 && len(cur) > 0:
					method, path = "POST", "/points/vectors/delete"
					body = map[string]any{"points": []uint64{id}, "vector": []string{"mu"}}
					o = op{id, func(m map[string][][]float32) map[string][][]float32 {
						out := map[string][][]float32{}
						if x, ok := m["mv"]; ok {
							out["mv"] = x
						}
						return out
					}}
				default:
					vec := map[string][][]float32{"mv": randMulti(r, 1+r.IntN(5), 4)}
					if r.IntN(3) != 0 {
						vec["mu"] = randMulti(r, 1+r.IntN(5), 3)
					}
					method, path = "PUT", "/points"
					body = map[string]any{"points": []any{map[string]any{"id": id, "vector": vec}}}
					o = op{id, func(map[string][][]float32) map[string][][]float32 { return vec }}
				}
				inflight = &o
				if err := s.call(ctx, method, "/collections/"+coll+path+"?wait=true", body, nil); err != nil {
					return
				}
				state[id] = o.apply(state[id])
				inflight = nil
				if acked.Add(1) == int64(killAfter) {
					return
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("only %d operations acknowledged in 2 minutes", acked.Load())
		}
		pending := map[string]any{"points": []any{map[string]any{"id": 0, "vector": map[string]any{"mv": randMulti(r, 2, 4)}}}}
		go s.call(ctx, "PUT", "/collections/"+coll+"/points?wait=true", pending, nil)
		s.kill()
		cancel()
		s.start()
		got := scrollMulti(t, s, coll)
		for id, want := range state {
			g, ok := got[id]
			if !ok {
				t.Fatalf("cycle %d: acknowledged point %d is gone", cycle, id)
			}
			if g != text(want) && id != 0 && (inflight == nil || inflight.id != id) {
				t.Fatalf("cycle %d: point %d is %s, want %s", cycle, id, g, text(want))
			}
		}
		for id := range got {
			if _, ok := state[id]; !ok && id != 0 && (inflight == nil || inflight.id != id) {
				t.Fatalf("cycle %d: point %d exists but was never acknowledged", cycle, id)
			}
		}
		model = got
		// The graphs that survived answer as the vectors do.
		for i := range 10 {
			using, dim := "mv", 4
			if i%2 == 1 {
				using, dim = "mu", 3
			}
			q := map[string]any{"query": randMulti(r, 1+r.IntN(3), dim), "using": using, "limit": 20, "params": map[string]any{"hnsw_ef": 1000}}
			var idx, exact json.RawMessage
			s.must("POST", "/collections/"+coll+"/points/query", q, &idx)
			q["params"] = map[string]any{"exact": true}
			s.must("POST", "/collections/"+coll+"/points/query", q, &exact)
			if !sameRanking(idx, exact) {
				t.Fatalf("cycle %d: graph search %s, exact %s", cycle, idx, exact)
			}
		}
		t.Logf("cycle %d: %d acknowledged operations, %d points", cycle, acked.Load(), len(got))
	}
}

// scrollMulti returns every point's vectors as JSON text.
func scrollMulti(t *testing.T, s *server, coll string) map[uint64]string {
	t.Helper()
	out := map[uint64]string{}
	var offset any
	for {
		req := map[string]any{"limit": 100, "with_vector": true}
		if offset != nil {
			req["offset"] = offset
		}
		var res struct {
			Points []struct {
				ID     uint64                 `json:"id"`
				Vector map[string][][]float32 `json:"vector"`
			} `json:"points"`
			Next any `json:"next_page_offset"`
		}
		s.must("POST", "/collections/"+coll+"/points/scroll", req, &res)
		for _, p := range res.Points {
			if p.Vector == nil {
				p.Vector = map[string][][]float32{}
			}
			b, err := json.Marshal(p.Vector)
			if err != nil {
				t.Fatal(err)
			}
			out[p.ID] = string(b)
		}
		if res.Next == nil {
			return out
		}
		offset = res.Next
	}
}

// sameRanking reports whether two query answers hold the same scores in
// the same order and the same points, but for those tied with the last
// score: at the cut, a graph may keep any of the points tied there.
func sameRanking(a, b json.RawMessage) bool {
	type hits struct {
		Points []struct {
			ID    uint64  `json:"id"`
			Score float32 `json:"score"`
		} `json:"points"`
	}
	var x, y hits
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil || len(x.Points) != len(y.Points) {
		return false
	}
	n := len(x.Points)
	for i := range n {
		if x.Points[i].Score != y.Points[i].Score {
			return false
		}
		if x.Points[i].Score != x.Points[n-1].Score && x.Points[i].ID != y.Points[i].ID {
			return false
		}
	}
	return true
}
