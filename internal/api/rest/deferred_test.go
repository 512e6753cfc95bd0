package rest_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// deferredDim and the 10 KB threshold below make ten points of 1 KB fit
// before the rest are deferred.
const deferredDim = 256

func deferredPoints(r *rand.Rand, from, n int) []pointIn {
	out := make([]pointIn, n)
	for i := range out {
		id := from + i
		out[i] = pointIn{ID: id, Vector: randVector(r, deferredDim), Payload: map[string]any{"keyword": fmt.Sprint("k", id%10)}}
	}
	return out
}

// scrollAll pages through every point a scroll shows.
func (s *server) scrollAll(coll string) []record {
	s.t.Helper()
	var all []record
	var offset any
	for {
		body := map[string]any{"limit": 100, "with_payload": true}
		if offset != nil {
			body["offset"] = offset
		}
		var res struct {
			Points []record `json:"points"`
			Next   any      `json:"next_page_offset"`
		}
		s.ok(http.MethodPost, collPath(coll, "/points/scroll"), body, &res)
		all = append(all, res.Points...)
		if res.Next == nil {
			return all
		}
		offset = res.Next
	}
}

// TestDeferredPointsREST is Qdrant's test_deferred_points
// (tests/openapi/test_deferred_points.py) at a smaller scale: with
// prevent_unoptimized and the optimizer off, points past the indexing
// threshold are hidden from scroll, retrieve, search and points_count and
// counted in update_queue.deferred_points; a payload set on a deferred
// point stays hidden; an update sent with wait and a timeout answers
// wait_timeout; with the optimizer on again an update sent with wait
// answers completed once every point shows, the deferred payload too.
func TestDeferredPointsREST(t *testing.T) {
	s := newServer(t, rest.Options{})
	r := seededRand(t)
	s.createCollection("d", map[string]any{
		"vectors":           map[string]any{"size": deferredDim, "distance": "Cosine"},
		"optimizers_config": map[string]any{"indexing_threshold": 10, "prevent_unoptimized": true, "max_optimization_threads": 0},
	})
	info, all := s.info("d")
	assertJSON(t, "update_queue of an empty collection", all["update_queue"], map[string]any{"length": 0, "deferred_points": 0})
	assertJSON(t, "prevent_unoptimized echoed", configPart(t, info, "optimizer_config", "prevent_unoptimized"), true)

	s.ok(http.MethodPut, "/collections/d/points", map[string]any{"points": deferredPoints(r, 1, 200)}, nil)
	var visible []record
	testkit.WaitFor(t, "the upsert to be applied", 10*time.Second, func() bool {
		_, all := s.info("d")
		q := all["update_queue"].(map[string]any)
		return q["length"] == 0.0 && q["deferred_points"] == 190.0
	})
	visible = s.scrollAll("d")
	if len(visible) != 10 {
		t.Fatalf("scroll shows %d points, want 10", len(visible))
	}
	info, _ = s.info("d")
	if *info.PointsCount != 10 {
		t.Fatalf("points_count %d, want 10", *info.PointsCount)
	}
	shown := map[string]bool{}
	for _, rec := range visible {
		shown[string(rec.ID)] = true
	}
	ids := make([]int, 200)
	for i := range ids {
		ids[i] = i + 1
	}
	var got []record
	s.ok(http.MethodPost, "/collections/d/points", map[string]any{"ids": ids, "with_payload": true}, &got)
	if len(got) != 10 {
		t.Fatalf("retrieve of every id returns %d points, want 10", len(got))
	}
	var hits []record
	s.ok(http.MethodPost, "/collections/d/points/search", map[string]any{"vector": randVector(r, deferredDim), "limit": 200}, &hits)
	for _, h := range hits {
		if !shown[string(h.ID)] {
			t.Fatalf("search returns the deferred point %s", h.ID)
		}
	}
	if s.count("d", nil) != 10 {
		t.Fatalf("count %d, want 10", s.count("d", nil))
	}

	// A payload set on a deferred point is applied and stays hidden.
	deferred := 0
	for id := 1; id <= 200; id++ {
		if !shown[fmt.Sprint(id)] {
			deferred = id
			break
		}
	}
	s.ok(http.MethodPost, "/collections/d/points/payload", map[string]any{"points": []int{deferred}, "payload": map[string]any{"keyword": "deferred_modified"}}, nil)
	var one []record
	s.ok(http.MethodPost, "/collections/d/points", map[string]any{"ids": []int{deferred}}, &one)
	if len(one) != 0 {
		t.Fatalf("the deferred point %d is retrievable after set_payload", deferred)
	}

	// An update sent with wait: applied, but the optimizer is off, so it
	// answers wait_timeout at its timeout.
	var res updateResult
	s.ok(http.MethodPut, "/collections/d/points?wait=true&timeout=1", map[string]any{"points": deferredPoints(r, 201, 1)}, &res)
	if res.Status != "wait_timeout" || res.OperationID == nil {
		t.Fatalf("update with wait and deferred points: %+v, want wait_timeout", res)
	}

	// The optimizer on again: an update sent with wait answers completed
	// once nothing is deferred.
	s.ok(http.MethodPatch, "/collections/d", map[string]any{"optimizers_config": map[string]any{"max_optimization_threads": "auto"}}, nil)
	s.write(http.MethodPut, "/collections/d/points", map[string]any{"points": deferredPoints(r, 202, 1)})
	info, all = s.info("d")
	if *info.PointsCount != 202 {
		t.Fatalf("points_count %d after optimizing, want 202", *info.PointsCount)
	}
	assertJSON(t, "update_queue after optimizing", all["update_queue"], map[string]any{"length": 0, "deferred_points": 0})
	s.ok(http.MethodPost, "/collections/d/points", map[string]any{"ids": []int{deferred}, "with_payload": true}, &one)
	if len(one) != 1 || payloadOf(t, one[0])["keyword"] != "deferred_modified" {
		t.Fatalf("the deferred payload after optimizing: %+v", one)
	}
	if n := len(s.scrollAll("d")); n != 202 {
		t.Fatalf("scroll shows %d points after optimizing, want 202", n)
	}
}

// TestCollectionInfoWritesShapes: update_queue without prevent_unoptimized
// has no deferred_points; warnings appear for settings without effect
// and are absent otherwise; the quantization and optimizer_config aliases
// of create and update; a duplicate of a key and its alias is refused.
func TestCollectionInfoWritesShapes(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("w", map[string]any{
		"vectors":          map[string]any{"a": map[string]any{"size": 4, "distance": "Dot"}, "b": map[string]any{"size": 4, "distance": "Dot", "quantization": map[string]any{"binary": map[string]any{}}}},
		"hnsw_config":      map[string]any{"inline_storage": true},
		"optimizer_config": map[string]any{"indexing_threshold": 500},
	})
	info, all := s.info("w")
	assertJSON(t, "update_queue", all["update_queue"], map[string]any{"length": 0})
	assertJSON(t, "warnings", all["warnings"], []any{map[string]any{"message": "The `hnsw_config.inline_storage` option for vector 'a' requires quantization to be enabled. This option will be ignored."}})
	assertJSON(t, "the alias of a vector's quantization_config", configPart(t, info, "params", "vectors", "b", "quantization_config"), map[string]any{"binary": map[string]any{}})
	assertJSON(t, "the alias of optimizers_config", configPart(t, info, "optimizer_config", "indexing_threshold"), 500)
	assertJSON(t, "inline_storage echoed", configPart(t, info, "hnsw_config", "inline_storage"), true)

	s.ok(http.MethodPatch, "/collections/w", map[string]any{"quantization": map[string]any{"scalar": map[string]any{"type": "int8"}}, "optimizer_config": map[string]any{"prevent_unoptimized": true}}, nil)
	info, all = s.info("w")
	if _, ok := all["warnings"]; ok {
		t.Fatalf("warnings with quantization on: %v", all["warnings"])
	}
	assertJSON(t, "quantization alias on update", configPart(t, info, "quantization_config"), map[string]any{"scalar": map[string]any{"type": "int8"}})
	assertJSON(t, "update_queue with prevent_unoptimized", all["update_queue"], map[string]any{"length": 0, "deferred_points": 0})

	s.fail(http.MethodPut, "/collections/x", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}, "quantization": nil, "quantization_config": nil},
		http.StatusBadRequest, "Format error in JSON body: duplicate field `quantization_config`")
	s.fail(http.MethodPatch, "/collections/w", map[string]any{"optimizer_config": map[string]any{}, "optimizers_config": map[string]any{}},
		http.StatusBadRequest, "Format error in JSON body: duplicate field `optimizers_config`")
	s.fail(http.MethodPut, "/collections/x", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot", "quantization": nil, "quantization_config": nil}},
		http.StatusBadRequest, "Format error in JSON body: vectors: duplicate field `quantization_config`")
}
