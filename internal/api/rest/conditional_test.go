package rest_test

import (
	"net/http"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// getPoint reads one point with its payload and vector.
func (s *server) getPoint(coll string, id any) record {
	s.t.Helper()
	var rec record
	s.ok(http.MethodGet, collPath(coll, "/points/"+idText(id)), nil, &rec)
	return rec
}

// TestConditionalUpdate is Qdrant's test_conditional_update
// (tests/openapi/test_conditional_update.py): an upsert or vector update
// with an update_filter leaves an existing point that does not match it as
// it is, and updates one that does.
func TestConditionalUpdate(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	s.upsert("c", pointIn{ID: 6, Vector: []float32{1, 1, 1, 1}, Payload: map[string]any{"city": "Berlin"}})
	s.write(http.MethodPost, "/collections/c/points/payload", map[string]any{"points": []int{6}, "payload": map[string]any{"version": 5}})

	lt := func(n int) map[string]any {
		return map[string]any{"must": map[string]any{"key": "version", "range": map[string]any{"lt": n}}}
	}
	s.write(http.MethodPut, "/collections/c/points", map[string]any{
		"points":        []pointIn{{ID: 6, Vector: []float32{1.1, 1.2, 1.3, 1.4}, Payload: map[string]any{"version": 4, "test": "test_value"}}},
		"update_filter": lt(4),
	})
	if v := payloadOf(t, s.getPoint("c", 6))["version"]; v != 5.0 {
		t.Fatalf("a point that does not match the update filter was updated: version %v", v)
	}
	s.write(http.MethodPut, "/collections/c/points", map[string]any{
		"points":        []pointIn{{ID: 6, Vector: []float32{1.1, 1.2, 1.3, 1.4}, Payload: map[string]any{"version": 6, "test": "test_value"}}},
		"update_filter": lt(6),
	})
	if v := payloadOf(t, s.getPoint("c", 6))["version"]; v != 6.0 {
		t.Fatalf("a point matching the update filter was not updated: version %v", v)
	}
	s.write(http.MethodPut, "/collections/c/points/vectors", map[string]any{
		"points":        []map[string]any{{"id": 6, "vector": []float32{2.1, 2.2, 2.3, 2.4}}},
		"update_filter": lt(4),
	})
	var vec []float64
	decode(t, s.getPoint("c", 6).Vector, &vec)
	if vec[0] >= 2 {
		t.Fatalf("update_vectors ignored its update filter: %v", vec)
	}
	s.write(http.MethodPut, "/collections/c/points/vectors", map[string]any{
		"points":        []map[string]any{{"id": 6, "vector": []float32{2.1, 2.2, 2.3, 2.4}}},
		"update_filter": lt(7),
	})
	decode(t, s.getPoint("c", 6).Vector, &vec)
	if vec[0] < 2 {
		t.Fatalf("update_vectors did not update a matching point: %v", vec)
	}
	// New points are inserted whatever the filter says.
	s.write(http.MethodPut, "/collections/c/points", map[string]any{
		"points":        []pointIn{{ID: 7, Vector: []float32{1, 0, 0, 0}, Payload: map[string]any{"version": 100}}},
		"update_filter": lt(1),
	})
	if v := payloadOf(t, s.getPoint("c", 7))["version"]; v != 100.0 {
		t.Fatalf("a new point was not inserted under an update filter: %v", v)
	}
}

// TestUpdateModes: update_mode on both upsert forms (points and batch) and
// inside points/batch, with and without an update filter, and the errors
// of a bad mode or filter.
func TestUpdateModes(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("m", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("m",
		pointIn{ID: 1, Vector: []float32{1, 0}, Payload: map[string]any{"rev": 1, "tenant": "a"}},
		pointIn{ID: 2, Vector: []float32{0, 1}, Payload: map[string]any{"rev": 1, "tenant": "b"}})
	rev := func(id int) any {
		t.Helper()
		var recs []record
		s.ok(http.MethodPost, "/collections/m/points", map[string]any{"ids": []int{id}, "with_payload": true}, &recs)
		if len(recs) == 0 {
			return nil
		}
		return payloadOf(t, recs[0])["rev"]
	}
	tenant := func(v string) map[string]any {
		return map[string]any{"must": []any{map[string]any{"key": "tenant", "match": map[string]any{"value": v}}}}
	}
	point := func(id, r int, tn string) pointIn {
		return pointIn{ID: id, Vector: []float32{float32(r), 1}, Payload: map[string]any{"rev": r, "tenant": tn}}
	}
	steps := []struct {
		name string
		path string
		body map[string]any
		want map[int]any // id -> rev afterwards (nil: absent)
	}{
		{"insert_only skips existing, inserts new", "/collections/m/points",
			map[string]any{"points": []pointIn{point(1, 2, "a"), point(3, 1, "a")}, "update_mode": "insert_only"},
			map[int]any{1: 1.0, 3: 1.0}},
		{"insert_only ignores the update filter", "/collections/m/points",
			map[string]any{"points": []pointIn{point(1, 3, "a")}, "update_mode": "insert_only", "update_filter": tenant("a")},
			map[int]any{1: 1.0}},
		{"update_only skips new, updates existing", "/collections/m/points",
			map[string]any{"points": []pointIn{point(2, 2, "b"), point(4, 1, "b")}, "update_mode": "update_only"},
			map[int]any{2: 2.0, 4: nil}},
		{"update_only with a filter in the batch form", "/collections/m/points",
			map[string]any{"batch": map[string]any{"ids": []int{1, 2, 5}, "vectors": [][]float32{{1, 1}, {1, 1}, {1, 1}},
				"payloads": []map[string]any{{"rev": 9, "tenant": "a"}, {"rev": 9, "tenant": "b"}, {"rev": 9}}},
				"update_mode": "update_only", "update_filter": tenant("b")},
			map[int]any{1: 1.0, 2: 9.0, 5: nil}},
		{"upsert (explicit) with a filter inserts new, updates matching", "/collections/m/points",
			map[string]any{"points": []pointIn{point(1, 4, "a"), point(2, 4, "b"), point(6, 1, "c")}, "update_mode": "upsert", "update_filter": tenant("a")},
			map[int]any{1: 4.0, 2: 9.0, 6: 1.0}},
		{"null mode and filter are a plain upsert", "/collections/m/points",
			map[string]any{"points": []pointIn{point(2, 5, "b")}, "update_mode": nil, "update_filter": nil},
			map[int]any{2: 5.0}},
		{"points/batch carries mode and filter", "/collections/m/points/batch",
			map[string]any{"operations": []any{
				map[string]any{"upsert": map[string]any{"points": []pointIn{point(1, 7, "a"), point(7, 1, "a")}, "update_mode": "update_only"}},
				map[string]any{"upsert": map[string]any{"points": []pointIn{point(2, 7, "b")}, "update_filter": tenant("a")}},
				map[string]any{"update_vectors": map[string]any{"points": []map[string]any{{"id": 1, "vector": []float32{0, 0}}}, "update_filter": tenant("b")}},
			}},
			map[int]any{1: 7.0, 2: 5.0, 7: nil}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s := s.on(t)
			method := http.MethodPut
			if st.path == "/collections/m/points/batch" {
				method = http.MethodPost
				var res []updateResult
				s.ok(method, st.path+"?wait=true", st.body, &res)
				if len(res) != 3 || res[2].Status != "completed" {
					t.Fatalf("batch results %+v", res)
				}
			} else {
				s.write(method, st.path, st.body)
			}
			for id, want := range st.want {
				if got := rev(id); got != want {
					t.Errorf("point %d: rev %v, want %v", id, got, want)
				}
			}
		})
	}

	s.fail(http.MethodPut, "/collections/m/points", map[string]any{"points": []pointIn{point(1, 1, "a")}, "update_mode": "replace"},
		http.StatusBadRequest, "Format error in JSON body: update_mode: unknown variant `replace`, expected one of `upsert`, `insert_only`, `update_only`")
	s.failPrefix(http.MethodPut, "/collections/m/points", map[string]any{"points": []pointIn{point(1, 1, "a")}, "update_filter": map[string]any{"must": []any{map[string]any{"nope": 1}}}},
		http.StatusBadRequest, "Format error in JSON body: update_filter: ")
	s.failPrefix(http.MethodPut, "/collections/m/points/vectors", map[string]any{"points": []map[string]any{{"id": 1, "vector": []float32{1, 1}}}, "update_filter": "x"},
		http.StatusBadRequest, "Format error in JSON body: update_filter: ")
	// A vector update of a missing point fails, filter or not.
	s.fail(http.MethodPut, "/collections/m/points/vectors?wait=true", map[string]any{"points": []map[string]any{{"id": 99, "vector": []float32{1, 1}}}, "update_filter": tenant("a")},
		http.StatusNotFound, "Not found: No point with id 99 found")
}
