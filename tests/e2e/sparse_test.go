//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// sparseVec is a sparse vector on the wire.
type sparseVec struct {
	Indices []uint32  `json:"indices"`
	Values  []float32 `json:"values"`
}

func randSparse(r *rand.Rand, dims, nnz int) sparseVec {
	v := sparseVec{Indices: []uint32{}, Values: []float32{}}
	for _, d := range r.Perm(dims)[:nnz] {
		v.Indices = append(v.Indices, uint32(d))
		v.Values = append(v.Values, float32(r.IntN(200))/50)
	}
	return v
}

// sorted is v as the server stores it: ordered by index.
func (v sparseVec) sorted() sparseVec {
	type e struct {
		i uint32
		v float32
	}
	es := make([]e, len(v.Indices))
	for k := range es {
		es[k] = e{v.Indices[k], v.Values[k]}
	}
	slices.SortFunc(es, func(a, b e) int { return int(a.i) - int(b.i) })
	out := sparseVec{Indices: []uint32{}, Values: []float32{}}
	for _, x := range es {
		out.Indices = append(out.Indices, x.i)
		out.Values = append(out.Values, x.v)
	}
	return out
}

// sparseConfig has a dense vector and two sparse ones: s with the idf
// modifier, m with an index kept on disk in float16. The optimizer seals
// segments with inverted indexes at 16 KB of sparse entries.
var sparseConfig = map[string]any{
	"vectors": map[string]any{"d": map[string]any{"size": 4, "distance": "Dot"}},
	"sparse_vectors": map[string]any{
		"s": map[string]any{"modifier": "idf"},
		"m": map[string]any{"index": map[string]any{"on_disk": true, "datatype": "float16"}},
	},
	"optimizers_config": map[string]any{"indexing_threshold": 16, "default_segment_number": 1},
}

// sparseQueries are queries on both sparse vectors, with and without a
// filter, that a restart must answer alike.
func sparseQueries(r *rand.Rand, dims int) []map[string]any {
	var out []map[string]any
	for i := range 12 {
		q := map[string]any{"query": randSparse(r, dims, 1+r.IntN(8)), "using": []string{"s", "m"}[i%2], "limit": 10, "with_payload": true}
		if i%3 == 0 {
			q["filter"] = map[string]any{"must": []any{map[string]any{"key": "k", "range": map[string]any{"lt": 3}}}}
		}
		if i%4 == 1 {
			q["query"] = map[string]any{"nearest": q["query"]}
		}
		out = append(out, q)
	}
	return out
}

func queryAll(t *testing.T, s *server, coll string, qs []map[string]any) []string {
	t.Helper()
	out := make([]string, len(qs))
	for i, q := range qs {
		var res json.RawMessage
		s.must("POST", "/collections/"+coll+"/points/query", q, &res)
		out[i] = string(res)
	}
	return out
}

// TestSparseSurvivesKill: once the optimizer has sealed the points into a
// segment with an inverted index per sparse vector (one mapped from its
// file) and flushed it, a SIGKILL and restart open the index files instead
// of rebuilding them: no optimization runs, every point keeps its sparse
// vectors, and searches (idf included) answer as before.
func TestSparseSurvivesKill(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0x5a7e))
	s := newServer(t)
	s.env["QDRANT__LOG_LEVEL"] = "debug" // checkpoints are logged at debug
	s.start()
	const coll, n, dims = "sparse", 3000, 2000
	s.must("PUT", "/collections/"+coll, sparseConfig, nil)
	for b := 0; b < n; b += 500 {
		pts := make([]map[string]any, 500)
		for i := range pts {
			vec := map[string]any{"d": []float32{1, 2, 3, 4}, "s": randSparse(r, dims, 5+r.IntN(30))}
			if i%3 != 0 {
				vec["m"] = randSparse(r, dims/10, 1+r.IntN(5))
			}
			pts[i] = map[string]any{"id": b + i, "vector": vec, "payload": map[string]any{"k": r.IntN(10)}}
		}
		s.must("PUT", "/collections/"+coll+"/points?wait=true", map[string]any{"points": pts}, nil)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var info struct {
			Status string `json:"status"`
		}
		s.must("GET", "/collections/"+coll, nil, &info)
		text := s.lastStartLog()
		done := strings.LastIndex(text, `msg="optimization done"`)
		if info.Status == "green" && done >= 0 && strings.Contains(text[done:], `msg="checkpoint written"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never sealed and flushed: status %s", info.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	qs := sparseQueries(r, dims)
	before := queryAll(t, s, coll, qs)
	points := scrollRaw(t, s, coll)

	s.kill()
	s.start()
	if lines := s.logLines("sparse indexes loaded"); len(lines) != 1 || !strings.Contains(lines[0], "indexes=2") {
		t.Fatalf("sparse index lines in the last start: %q", lines)
	}
	if lines := s.logLines("sparse index unreadable"); len(lines) != 0 {
		t.Fatalf("the restart rebuilt sparse indexes:\n%s", strings.Join(lines, "\n"))
	}
	if lines := s.logLines(`msg="optimization started"`); len(lines) != 0 {
		t.Fatalf("the restart rebuilt segments:\n%s", strings.Join(lines, "\n"))
	}
	after := queryAll(t, s, coll, qs)
	for i := range qs {
		if before[i] != after[i] {
			t.Fatalf("query %d changed across the restart:\n%s\n%s", i, before[i], after[i])
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

// TestSparseKill9KeepsAcknowledgedWrites kills the server while a client
// writes sparse vectors (upserts, update_vectors, delete_vectors) and the
// optimizer seals and indexes them, restarts it on the same storage, and
// checks that every acknowledged write is there, the one in flight applied
// or not, and that searches through the indexes agree with exact ones.
func TestSparseKill9KeepsAcknowledgedWrites(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0x5a7f))
	s := newServer(t)
	s.start()
	const coll, ids, dims = "sparsekill", 400, 300
	cfg := map[string]any{
		"sparse_vectors":    map[string]any{"s": map[string]any{}, "m": map[string]any{"index": map[string]any{"on_disk": true}}},
		"optimizers_config": map[string]any{"indexing_threshold": 4, "default_segment_number": 2},
		"wal_config":        map[string]any{"wal_capacity_mb": 1},
	}
	s.must("PUT", "/collections/"+coll, cfg, nil)
	model := map[uint64]map[string]sparseVec{} // acknowledged vectors
	for cycle := 1; cycle <= 2; cycle++ {
		killAfter := 300 + r.IntN(500)
		var acked atomic.Int64
		type op struct {
			id    uint64
			apply func(map[string]sparseVec) map[string]sparseVec
		}
		var inflight *op
		done := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			defer close(done)
			for ctx.Err() == nil {
				id := uint64(r.IntN(ids))
				var o op
				var method, path string
				var body any
				switch cur, ok := model[id]; {
				case ok && r.IntN(4) == 0:
					v := randSparse(r, dims, 1+r.IntN(10))
					method, path = "PUT", "/points/vectors"
					body = map[string]any{"points": []any{map[string]any{"id": id, "vector": map[string]any{"m": v}}}}
					o = op{id, func(m map[string]sparseVec) map[string]sparseVec {
						out := map[string]sparseVec{"m": v.sorted()}
						if x, ok := m["s"]; ok {
							out["s"] = x
						}
						return out
					}}
				case ok && r.IntN(4) == 0 && len(cur) > 0:
					method, path = "POST", "/points/vectors/delete"
					body = map[string]any{"points": []uint64{id}, "vector": []string{"s"}}
					o = op{id, func(m map[string]sparseVec) map[string]sparseVec {
						out := map[string]sparseVec{}
						if x, ok := m["m"]; ok {
							out["m"] = x
						}
						return out
					}}
				default:
					vec := map[string]any{}
					stored := map[string]sparseVec{}
					for _, name := range []string{"s", "m"} {
						if r.IntN(3) != 0 {
							v := randSparse(r, dims, r.IntN(12))
							vec[name], stored[name] = v, v.sorted()
						}
					}
					method, path = "PUT", "/points"
					body = map[string]any{"points": []any{map[string]any{"id": id, "vector": vec}}}
					o = op{id, func(map[string]sparseVec) map[string]sparseVec { return stored }}
				}
				inflight = &o
				if err := s.call(ctx, method, "/collections/"+coll+path+"?wait=true", body, nil); err != nil {
					return
				}
				model[id] = o.apply(model[id])
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
		// Kill with a write in flight: start one more and kill under it.
		pending := map[string]any{"points": []any{map[string]any{"id": 0, "vector": map[string]any{"s": randSparse(r, dims, 3)}}}}
		go s.call(ctx, "PUT", "/collections/"+coll+"/points?wait=true", pending, nil)
		s.kill()
		cancel()
		s.start()
		got := scrollSparse(t, s, coll)
		for id, want := range model {
			g, ok := got[id]
			if !ok {
				t.Fatalf("cycle %d: acknowledged point %d is gone", cycle, id)
			}
			if fmt.Sprint(g) != fmt.Sprint(want) && id != 0 && (inflight == nil || inflight.id != id) {
				t.Fatalf("cycle %d: point %d is %v, want %v", cycle, id, g, want)
			}
			model[id] = g // the in-flight write may have landed
		}
		for id, g := range got {
			if _, ok := model[id]; !ok {
				if id != 0 && (inflight == nil || inflight.id != id) {
					t.Fatalf("cycle %d: point %d exists but was never acknowledged", cycle, id)
				}
				model[id] = g
			}
		}
		// The indexes that survived answer as the vectors do.
		for i := range 10 {
			q := map[string]any{"query": randSparse(r, dims, 1+r.IntN(6)), "using": []string{"s", "m"}[i%2], "limit": 20}
			var idx, exact json.RawMessage
			s.must("POST", "/collections/"+coll+"/points/query", q, &idx)
			q["params"] = map[string]any{"exact": true}
			s.must("POST", "/collections/"+coll+"/points/query", q, &exact)
			if string(idx) != string(exact) {
				t.Fatalf("cycle %d: indexed search %s, exact %s", cycle, idx, exact)
			}
		}
		t.Logf("cycle %d: %d acknowledged operations, %d points", cycle, acked.Load(), len(got))
	}
}

// scrollSparse returns every point's sparse vectors.
func scrollSparse(t *testing.T, s *server, coll string) map[uint64]map[string]sparseVec {
	t.Helper()
	out := map[uint64]map[string]sparseVec{}
	var offset any
	for {
		req := map[string]any{"limit": 100, "with_vector": true}
		if offset != nil {
			req["offset"] = offset
		}
		var res struct {
			Points []struct {
				ID     uint64               `json:"id"`
				Vector map[string]sparseVec `json:"vector"`
			} `json:"points"`
			Next any `json:"next_page_offset"`
		}
		s.must("POST", "/collections/"+coll+"/points/scroll", req, &res)
		for _, p := range res.Points {
			if p.Vector == nil {
				p.Vector = map[string]sparseVec{}
			}
			out[p.ID] = p.Vector
		}
		if res.Next == nil {
			return out
		}
		offset = res.Next
	}
}

// scrollRaw returns every point (vectors and payload) as its JSON text,
// keyed by id.
func scrollRaw(t *testing.T, s *server, coll string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var offset any
	for {
		req := map[string]any{"limit": 250, "with_vector": true, "with_payload": true}
		if offset != nil {
			req["offset"] = offset
		}
		var res struct {
			Points []json.RawMessage `json:"points"`
			Next   any               `json:"next_page_offset"`
		}
		s.must("POST", "/collections/"+coll+"/points/scroll", req, &res)
		for _, p := range res.Points {
			var id struct {
				ID json.Number `json:"id"`
			}
			if err := json.Unmarshal(p, &id); err != nil {
				t.Fatal(err)
			}
			out[id.ID.String()] = string(p)
		}
		if res.Next == nil {
			return out
		}
		offset = res.Next
	}
}
