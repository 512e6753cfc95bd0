package rest_test

import (
	"net/http"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// multivecSetup is Qdrant's multivec_collection_setup (distance Dot): two
// dense and two sparse named vectors, points 1-6 with the dense ones, 7-8
// with the sparse ones only.
func optionalSetup(s *server, name string) {
	s.t.Helper()
	s.createCollection(name, map[string]any{
		"vectors": map[string]any{
			"image": map[string]any{"size": 4, "distance": "Dot"},
			"text":  map[string]any{"size": 8, "distance": "Dot"},
		},
		"sparse_vectors": map[string]any{"sparse-image": map[string]any{}, "sparse-text": map[string]any{}},
	})
	dense := func(id int, v ...float32) pointIn {
		return pointIn{ID: id, Vector: map[string]any{"image": v, "text": append(append([]float32{}, v...), v...)}}
	}
	s.upsert(name,
		dense(1, 0.05, 0.61, 0.76, 0.74), dense(2, 0.19, 0.81, 0.75, 0.11), dense(3, 0.36, 0.55, 0.47, 0.94),
		dense(4, 0.18, 0.01, 0.85, 0.80), dense(5, 0.24, 0.18, 0.22, 0.44), dense(6, 0.35, 0.08, 0.11, 0.44),
		pointIn{ID: 7, Vector: map[string]any{"sparse-image": sv([]int{1, 2, 4, 8}, []float64{1.5, 1.5, 1.5, 1.5}), "sparse-text": sv([]int{66, 12}, []float64{0.5, 0.5})}},
		pointIn{ID: 8, Vector: map[string]any{"sparse-image": sv([]int{2, 8}, []float64{2.5, 2.5}), "sparse-text": sv([]int{1, 2, 3}, []float64{0.1, 0.2, 0.3})}},
	)
}

// names returns the vector names of a record, sorted.
func names(t *testing.T, r record) []string {
	t.Helper()
	var out []string
	for n := range vectorsOf(t, r) {
		out = append(out, n)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestOptionalVectors is Qdrant's test_optional_vectors: points without
// some named vectors (upserted so, given one later by update_vectors,
// losing one by delete_vectors): retrieve and get leave the absent ones
// out, searches on a name skip points without it, and Qdrant's errors
// for an update naming no vector and for an unknown vector name.
func TestOptionalVectors(t *testing.T) {
	s := newServer(t, rest.Options{})
	optionalSetup(s, "o")
	path := func(p string) string { return collPath("o", p) }

	// delete_vectors, then a search on the other vector returns the
	// requested vector only where the point still has it.
	s.write(http.MethodPost, path("/points/vectors/delete"), map[string]any{"points": []int{2, 3}, "vector": []string{"text"}})
	var hits []record
	s.ok(http.MethodPost, path("/points/search"), map[string]any{"vector": map[string]any{"name": "image", "vector": []float32{0, 0, 1, 1}},
		"limit": 10, "with_payload": true, "with_vector": []string{"text"}}, &hits)
	if len(hits) != 6 {
		t.Fatalf("search on image: %d hits, want the 6 points with it", len(hits))
	}
	for _, h := range hits {
		var id int
		decode(t, h.ID, &id)
		_, hasText := vectorsOf(t, h)["text"]
		if hasText == (id == 2 || id == 3) {
			t.Fatalf("hit %d: vector %s", id, h.Vector)
		}
	}
	// A search on text skips the points without it (2, 3, 7, 8).
	s.ok(http.MethodPost, path("/points/search"), map[string]any{"vector": map[string]any{"name": "text", "vector": []float32{1, 1, 1, 1, 1, 1, 1, 1}}, "limit": 10}, &hits)
	if got := ids(hits); len(got) != 4 {
		t.Fatalf("search on text: %v", got)
	}
	for _, c := range []struct {
		q    map[string]any
		want int
	}{
		{map[string]any{"query": []float32{1, 1, 1, 1, 1, 1, 1, 1}, "using": "text", "limit": 10}, 4},
		{map[string]any{"query": sv([]int{2}, []float64{1}), "using": "sparse-image", "limit": 10}, 2},
	} {
		if got := ids(s.query("o", c.q)); len(got) != c.want {
			t.Fatalf("query %v: %v, want %d points", c.q["using"], got, c.want)
		}
	}

	// retrieve with both names: the absent one is left out.
	recs := s.retrieve("o", map[string]any{"ids": []int{1, 2, 3, 4}, "with_vectors": []string{"text", "image"}, "with_payload": true})
	want := map[string][]string{"1": {"image", "text"}, "2": {"image"}, "3": {"image"}, "4": {"image", "text"}}
	for _, r := range recs {
		if got := names(t, r); !equalStrings(got, want[string(r.ID)]) {
			t.Fatalf("retrieve %s: vectors %v, want %v", r.ID, got, want[string(r.ID)])
		}
	}

	// Upserts with some vectors, or none.
	s.upsert("o",
		pointIn{ID: 101, Vector: map[string]any{"text": []float32{0.05, 0.61, 0.76, 0.74, 0.05, 0.61, 0.76, 0.74}}, Payload: map[string]any{"city": "Berlin"}},
		pointIn{ID: 102, Vector: map[string]any{"image": []float32{0.19, 0.81, 0.75, 0.11}}},
		pointIn{ID: 103, Vector: map[string]any{}},
	)
	for id, want := range map[int][]string{101: {"text"}, 102: {"image"}, 103: nil} {
		if got := names(t, s.get("o", id)); !equalStrings(got, want) {
			t.Fatalf("point %d: vectors %v, want %v", id, got, want)
		}
	}
	// A vector given later by update_vectors, the others kept.
	s.write(http.MethodPut, path("/points/vectors"), map[string]any{"points": []any{map[string]any{"id": 103, "vector": map[string]any{"text": []float32{1, 2, 3, 4, 5, 6, 7, 8}}}}})
	s.write(http.MethodPut, path("/points/vectors"), map[string]any{"points": []any{map[string]any{"id": 103, "vector": map[string]any{"image": []float32{1, 2, 3, 4}}}}})
	assertJSON(t, "point 103", s.get("o", 103).Vector, map[string]any{"text": []float32{1, 2, 3, 4, 5, 6, 7, 8}, "image": []float32{1, 2, 3, 4}})
	// Every vector deleted, then given back one by one.
	s.write(http.MethodPost, path("/points/vectors/delete"), map[string]any{"points": []int{1}, "vector": []string{"image", "text"}})
	if got := names(t, s.get("o", 1)); len(got) != 0 {
		t.Fatalf("point 1 after deleting its vectors: %v", got)
	}
	s.write(http.MethodPut, path("/points/vectors"), map[string]any{"points": []any{map[string]any{"id": 1, "vector": map[string]any{"text": []float32{8, 7, 6, 5, 4, 3, 2, 1}}}}})
	if got := names(t, s.get("o", 1)); !equalStrings(got, []string{"text"}) {
		t.Fatalf("point 1 after update_vectors: %v", got)
	}
	// Deleting vectors twice is fine; by filter too.
	for range 2 {
		s.write(http.MethodPost, path("/points/vectors/delete"), map[string]any{"points": []int{4, 5}, "vector": []string{"image"}})
	}
	s.write(http.MethodPost, path("/points/vectors/delete"), map[string]any{"filter": map[string]any{}, "vector": []string{"sparse-text"}})
	if got := names(t, s.get("o", 7)); !equalStrings(got, []string{"sparse-image"}) {
		t.Fatalf("point 7 after delete by filter: %v", got)
	}

	// Qdrant's errors.
	s.fail(http.MethodPut, path("/points/vectors?wait=true"), map[string]any{"points": []any{map[string]any{"id": 1, "vector": map[string]any{}}}},
		422, "Validation error in JSON body: [points[0].vector: must specify vectors to update for point]")
	s.fail(http.MethodPost, path("/points/batch?wait=true"), map[string]any{"operations": []any{map[string]any{"update_vectors": map[string]any{
		"points": []any{map[string]any{"id": 1, "vector": map[string]any{"text": []float32{1, 1, 1, 1, 1, 1, 1, 1}}}, map[string]any{"id": 2, "vector": map[string]any{}}}}}}},
		422, "Validation error in JSON body: [points[1].vector: must specify vectors to update for point]")
	s.fail(http.MethodPost, path("/points/vectors/delete?wait=true"), map[string]any{"points": []int{1, 2}, "vector": []string{"a"}},
		400, "Wrong input: Not existing vector name error: a")
	s.fail(http.MethodPut, path("/points/vectors?wait=true"), map[string]any{"points": []any{
		map[string]any{"id": 1, "vector": map[string]any{"text": []float32{0.05, 0.61, 0.76, 0.74, 0.05, 0.61, 0.76, 0.74}}},
		map[string]any{"id": 424242424242424242, "vector": map[string]any{"image": []float32{0.19, 0.81, 0.75, 0.11}}}}},
		404, "Not found: No point with id 424242424242424242 found")
	s.fail(http.MethodPut, path("/points?wait=true"), map[string]any{"points": []any{map[string]any{"id": 9, "vector": map[string]any{"image": []float32{}}}}},
		400, "Wrong input: Vector dimension error: expected dim: 4, got 0")
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
