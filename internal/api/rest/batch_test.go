package rest_test

import (
	"net/http"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// TestPointsBatch runs every update operation type through points/batch and
// checks the results and the final state.
func TestPointsBatch(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("b", map[string]any{"vectors": map[string]any{
		"a": map[string]any{"size": 2, "distance": "Dot"},
		"b": map[string]any{"size": 2, "distance": "Dot"},
	}})
	ops := []any{
		map[string]any{"upsert": map[string]any{"points": []any{
			map[string]any{"id": 1, "vector": map[string]any{"a": []float32{1, 0}, "b": []float32{0, 1}}, "payload": map[string]any{"k": "x", "n": 1}},
			map[string]any{"id": 2, "vector": map[string]any{"a": []float32{0, 1}}, "payload": map[string]any{"k": "y"}},
		}}},
		map[string]any{"upsert": map[string]any{"batch": map[string]any{"ids": []int{3, 4}, "vectors": map[string]any{"a": [][]float32{{1, 1}, {2, 2}}}}}},
		map[string]any{"set_payload": map[string]any{"payload": map[string]any{"m": 5}, "points": []int{1, 3}}},
		map[string]any{"set_payload": map[string]any{"payload": map[string]any{"deep": 1}, "points": []int{2}, "key": "o.p"}},
		map[string]any{"overwrite_payload": map[string]any{"payload": map[string]any{"only": true}, "points": []int{4}}},
		map[string]any{"delete_payload": map[string]any{"keys": []string{"n"}, "points": []int{1}}},
		map[string]any{"clear_payload": map[string]any{"filter": map[string]any{"must": []any{map[string]any{"has_id": []int{3}}}}}},
		map[string]any{"update_vectors": map[string]any{"points": []any{map[string]any{"id": 2, "vector": map[string]any{"b": []float32{5, 5}}}}}},
		map[string]any{"delete_vectors": map[string]any{"points": []int{1}, "vector": []string{"b"}}},
		map[string]any{"delete": map[string]any{"points": []int{4}}},
	}
	var results []updateResult
	s.ok(http.MethodPost, "/collections/b/points/batch?wait=true", map[string]any{"operations": ops}, &results)
	if len(results) != len(ops) {
		t.Fatalf("%d results for %d operations", len(results), len(ops))
	}
	for i, r := range results {
		if r.Status != "completed" || r.OperationID == nil || (i > 0 && *r.OperationID <= *results[i-1].OperationID) {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	var recs []record
	s.ok(http.MethodPost, "/collections/b/points", map[string]any{"ids": []int{1, 2, 3, 4}, "with_vector": true}, &recs)
	if len(recs) != 3 {
		t.Fatalf("want points 1, 2, 3 after the batch, got %d", len(recs))
	}
	assertJSON(t, "point 1 payload", recs[0].Payload, map[string]any{"k": "x", "m": 5})
	assertJSON(t, "point 1 vectors", recs[0].Vector, map[string]any{"a": []float32{1, 0}})
	assertJSON(t, "point 2 payload", recs[1].Payload, map[string]any{"k": "y", "o": map[string]any{"p": map[string]any{"deep": 1}}})
	assertJSON(t, "point 2 vectors", recs[1].Vector, map[string]any{"a": []float32{0, 1}, "b": []float32{5, 5}})
	assertJSON(t, "point 3 payload", recs[2].Payload, map[string]any{})
}

func TestPointsBatchErrors(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("b", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("b", pointIn{ID: 1, Vector: []float32{1, 2}})
	cases := []struct {
		name   string
		body   any
		code   int
		prefix string
	}{
		{"missing operations", map[string]any{}, 400, "Format error in JSON body: missing field `operations`"},
		{"unknown operation", map[string]any{"operations": []any{map[string]any{"explode": map[string]any{}}}}, 400, "Format error in JSON body: operations[0]: unknown variant `explode`"},
		{"two operations in one object", map[string]any{"operations": []any{map[string]any{"delete": map[string]any{"points": []int{1}}, "clear_payload": map[string]any{"points": []int{1}}}}}, 400, "Format error in JSON body:"},
		{"bad vector in second op", map[string]any{"operations": []any{
			map[string]any{"delete": map[string]any{"points": []int{1}}},
			map[string]any{"upsert": map[string]any{"points": []any{map[string]any{"id": 2, "vector": []float32{1, 2, 3}}}}},
		}}, 400, "Wrong input: Vector dimension error: expected dim: 2, got 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.on(t).failPrefix(http.MethodPost, "/collections/b/points/batch?wait=true", c.body, c.code, c.prefix)
		})
	}
	if n := s.count("b", nil); n != 1 {
		t.Fatalf("a rejected batch changed the collection: count %d", n)
	}
	s.failPrefix(http.MethodPost, "/collections/nope/points/batch", map[string]any{"operations": []any{}}, 404, "Not found: Collection `nope` doesn't exist!")
}
