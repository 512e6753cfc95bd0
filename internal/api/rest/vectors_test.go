package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// vectorsOf decodes a record's vector object (name -> dense values).
func vectorsOf(t *testing.T, r record) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if !absent(r.Vector) {
		decode(t, r.Vector, &m)
	}
	return m
}

func dims(t *testing.T, raw json.RawMessage) int {
	t.Helper()
	var v []float32
	decode(t, raw, &v)
	return len(v)
}

type scrollPage struct {
	Points []record `json:"points"`
}

// scrollVectors reads up to 1000 points with their vectors.
func (s *server) scrollVectors(coll string) []record {
	s.t.Helper()
	var page scrollPage
	s.ok(http.MethodPost, collPath(coll, "/points/scroll"), map[string]any{"limit": 1000, "with_vector": true}, &page)
	return page.Points
}

// vectorName sends PUT (body set) or DELETE to the vectors route and
// checks Qdrant's UpdateResult.
func (s *server) vectorName(coll, vec string, body any) {
	s.t.Helper()
	method := http.MethodDelete
	if body != nil {
		method = http.MethodPut
	}
	var res struct {
		OperationID *uint64 `json:"operation_id"`
		Status      string  `json:"status"`
	}
	raw := s.ok(method, collPath(coll, "/vectors/"+vec+"?wait=true"), body, &res)
	if res.Status != "completed" || !strings.Contains(string(raw), `"operation_id":null`) {
		s.t.Fatalf("%s vector %s: result %s", method, vec, raw)
	}
}

// TestNamedVectorCRUD is Qdrant's test_named_vector_crud: a named vector
// dropped and added again in another space (on sealed, indexed segments
// or not), then scrolled, upserted and searched; the collection's
// configuration follows.
func TestNamedVectorCRUD(t *testing.T) {
	s := newServer(t, rest.Options{})
	for _, indexed := range []bool{false, true} {
		t.Run(fmt.Sprintf("indexed %v", indexed), func(t *testing.T) {
			s := s.on(t)
			coll := fmt.Sprintf("crud_%v", indexed)
			threshold := 10000
			if indexed {
				threshold = 10
			}
			const dimA, dimB, dimNew, n = 128, 64, 96, 200
			s.createCollection(coll, map[string]any{
				"vectors": map[string]any{
					"vec_a": map[string]any{"size": dimA, "distance": "Cosine"},
					"vec_b": map[string]any{"size": dimB, "distance": "Cosine"},
				},
				"optimizers_config": map[string]any{"indexing_threshold": threshold},
			})
			vec := func(i, dim, mod int) []float32 {
				v := make([]float32, dim)
				for x := range v {
					v[x] = float32((i*x)%mod) / 100
				}
				return v
			}
			var pts []pointIn
			for i := range n {
				pts = append(pts, pointIn{ID: i, Vector: map[string]any{"vec_a": vec(i, dimA, 97), "vec_b": vec(i, dimB, 53)}})
			}
			s.upsert(coll, pts...)
			if indexed {
				testkit.WaitFor(t, "the collection green and indexed", 30*time.Second, func() bool {
					info, _ := s.info(coll)
					return info.Status == "green" && info.IndexedVectorsCount != nil && *info.IndexedVectorsCount > 0
				})
			}
			s.vectorName(coll, "vec_a", nil)
			s.vectorName(coll, "vec_a", map[string]any{"dense": map[string]any{"size": dimNew, "distance": "Dot"}})
			info, _ := s.info(coll)
			assertJSON(t, "vectors", configPart(t, info, "params", "vectors"), map[string]any{
				"vec_a": map[string]any{"size": dimNew, "distance": "Dot"},
				"vec_b": map[string]any{"size": dimB, "distance": "Cosine"},
			})
			var page scrollPage
			s.ok(http.MethodPost, collPath(coll, "/points/scroll"), map[string]any{"limit": 10, "with_vector": true}, &page)
			if len(page.Points) != 10 {
				t.Fatalf("scroll: %d points", len(page.Points))
			}
			for _, p := range page.Points {
				v := vectorsOf(t, p)
				if _, ok := v["vec_a"]; ok || dims(t, v["vec_b"]) != dimB {
					t.Fatalf("point %s after the re-add: %s", p.ID, p.Vector)
				}
			}
			pts = pts[:0]
			for i := range 50 {
				pts = append(pts, pointIn{ID: i, Vector: map[string]any{"vec_a": vec(i, dimNew, 41), "vec_b": vec(i, dimB, 53)}})
			}
			s.upsert(coll, pts...)
			all := s.scrollVectors(coll)
			if len(all) != n {
				t.Fatalf("scroll: %d points, want %d", len(all), n)
			}
			for _, p := range all {
				var id int
				decode(t, p.ID, &id)
				v := vectorsOf(t, p)
				_, hasA := v["vec_a"]
				if dims(t, v["vec_b"]) != dimB || hasA != (id < 50) || hasA && dims(t, v["vec_a"]) != dimNew {
					t.Fatalf("point %d: %s", id, p.Vector)
				}
			}
			// A search on the new vector finds only the points that have it.
			hits := s.query(coll, map[string]any{"query": vec(3, dimNew, 7), "using": "vec_a", "limit": n})
			if len(hits) != 50 {
				t.Fatalf("query on vec_a: %d hits, want 50", len(hits))
			}
			s.fail(http.MethodPost, collPath(coll, "/points/query"), map[string]any{"query": vec(3, dimA, 7), "using": "vec_a"},
				400, fmt.Sprintf("Wrong input: Vector dimension error: expected dim: %d, got %d", dimNew, dimA))
		})
	}
}

// TestNamedVectorErrors: Qdrant's answers to the vector name routes: the
// size bounds (422), bodies matching neither variant (400), a name in
// the other kind or another space (400), a missing collection (404), a
// bad vector name (422); adding what exists and dropping what does not
// are no-ops.
func TestNamedVectorErrors(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{
		"vectors":        map[string]any{"a": map[string]any{"size": 4, "distance": "Cosine", "datatype": "float16"}},
		"sparse_vectors": map[string]any{"s": map[string]any{"modifier": "idf"}},
	})
	path := func(v string) string { return collPath("c", "/vectors/"+v) }
	dense := func(size int, dist string) map[string]any {
		return map[string]any{"dense": map[string]any{"size": size, "distance": dist}}
	}
	for _, c := range []struct {
		name   string
		method string
		path   string
		body   any
		code   int
		msg    string
	}{
		{"size 0", "PUT", path("z"), dense(0, "Cosine"), 422, "Validation error in JSON body: [dense.size: value 0 invalid, must be 1 or larger]"},
		{"size above 65536", "PUT", path("z"), dense(65537, "Cosine"), 422, "Validation error in JSON body: [dense.size: value 65537 invalid, must be 65536 or smaller]"},
		{"no body", "PUT", path("z"), nil, 400, "Format error in JSON body: data did not match any variant of untagged enum VectorNameConfig"},
		{"neither variant", "PUT", path("z"), `{"size":4,"distance":"Dot"}`, 400, "Format error in JSON body: data did not match any variant of untagged enum VectorNameConfig"},
		{"bad distance", "PUT", path("z"), dense(4, "Dott"), 400, "Format error in JSON body: data did not match any variant of untagged enum VectorNameConfig"},
		{"no distance", "PUT", path("z"), `{"dense":{"size":4}}`, 400, "Format error in JSON body: data did not match any variant of untagged enum VectorNameConfig"},
		{"bad modifier", "PUT", path("z"), `{"sparse":{"modifier":"tf"}}`, 400, "Format error in JSON body: data did not match any variant of untagged enum VectorNameConfig"},
		{"other space", "PUT", path("a"), dense(4, "Dot"), 400, "Wrong input: Vector `a` already exists with a different configuration"},
		{"datatype left out", "PUT", path("a"), dense(4, "Cosine"), 400, "Wrong input: Vector `a` already exists with a different configuration"},
		{"dense over sparse", "PUT", path("s"), dense(4, "Dot"), 400, "Wrong input: Vector `s` already exists as a sparse vector"},
		{"sparse over dense", "PUT", path("a"), `{"sparse":{}}`, 400, "Wrong input: Vector `a` already exists as a dense vector"},
		{"sparse of another modifier", "PUT", path("s"), `{"sparse":{}}`, 400, "Wrong input: Sparse vector `s` already exists with a different configuration"},
		{"missing collection", "PUT", collPath("nope", "/vectors/z"), dense(4, "Dot"), 404, "Not found: Collection `nope` doesn't exist!"},
		{"missing collection, delete", "DELETE", collPath("nope", "/vectors/z"), nil, 404, "Not found: Collection `nope` doesn't exist!"},
		{"bad vector name", "PUT", path("a*b"), dense(4, "Dot"), 422, `Validation error in path parameters: [vector_name: vector name cannot contain "*" char]`},
		{"long vector name", "DELETE", path(strings.Repeat("v", 201)), nil, 422, "Validation error in path parameters: [vector_name: vector name must be at most 200 bytes long]"},
		{"bad wait", "DELETE", path("a") + "?wait=maybe", nil, 400, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := s.on(t)
			if c.msg == "" {
				if r := s.do(c.method, c.path, c.body); r.code != c.code {
					t.Fatalf("status %d, want %d: %s", r.code, c.code, r.body)
				}
				return
			}
			s.fail(c.method, c.path, c.body, c.code, c.msg)
		})
	}
	// What the collection has already: no change, no error.
	s.vectorName("c", "a", map[string]any{"dense": map[string]any{"size": 4, "distance": "Cosine", "datatype": "float16"}})
	s.vectorName("c", "s", map[string]any{"sparse": map[string]any{"modifier": "idf"}})
	s.vectorName("c", "nope", nil)
	info, _ := s.info("c")
	assertJSON(t, "vectors", configPart(t, info, "params", "vectors"), map[string]any{"a": map[string]any{"size": 4, "distance": "Cosine", "datatype": "float16"}})
	assertJSON(t, "sparse vectors", configPart(t, info, "params", "sparse_vectors"), map[string]any{"s": map[string]any{"modifier": "idf"}})
	// Without wait the answer is acknowledged, the change made.
	var res map[string]any
	s.ok(http.MethodPut, path("w"), dense(2, "Dot"), &res)
	assertJSON(t, "acknowledged", res, map[string]any{"operation_id": nil, "status": "acknowledged"})
	s.write(http.MethodPut, collPath("c", "/points"), map[string]any{"points": []any{map[string]any{"id": 1, "vector": map[string]any{"w": []float32{1, 2}}}}})
}

// TestNamedVectorKinds: a sparse vector added to a collection takes
// sparse vectors, is echoed as Qdrant's sparse_config_to_params makes it
// (its datatype under index) and is searched; a dense vector added to a
// collection of one unnamed vector makes its vectors named ("" kept);
// dropping every sparse vector leaves the config without sparse_vectors.
func TestNamedVectorKinds(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("u", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("u", pointIn{ID: 1, Vector: []float32{1, 2}})
	s.vectorName("u", "bm25", map[string]any{"sparse": map[string]any{"modifier": "idf", "datatype": "float16"}})
	s.vectorName("u", "img", map[string]any{"dense": map[string]any{"size": 3, "distance": "Euclid", "datatype": "uint8"}})
	info, _ := s.info("u")
	assertJSON(t, "vectors", configPart(t, info, "params", "vectors"), map[string]any{
		"":    map[string]any{"size": 2, "distance": "Dot"},
		"img": map[string]any{"size": 3, "distance": "Euclid", "datatype": "uint8"},
	})
	assertJSON(t, "sparse", configPart(t, info, "params", "sparse_vectors"), map[string]any{"bm25": map[string]any{"modifier": "idf", "index": map[string]any{"datatype": "float16"}}})
	s.upsert("u", pointIn{ID: 2, Vector: map[string]any{"": []float32{3, 4}, "img": []float32{1, 1, 1}, "bm25": sv([]int{5, 1}, []float64{1, 2})}})
	got := s.get("u", 2)
	assertJSON(t, "point 2", got.Vector, map[string]any{"": []float32{3, 4}, "img": []float32{1, 1, 1}, "bm25": sv([]int{1, 5}, []float64{2, 1})})
	assertJSON(t, "point 1", s.get("u", 1).Vector, map[string]any{"": []float32{1, 2}})
	hits := s.query("u", map[string]any{"query": sv([]int{1}, []float64{1}), "using": "bm25"})
	if len(hits) != 1 || string(hits[0].ID) != "2" {
		t.Fatalf("sparse query: %+v", hits)
	}
	s.vectorName("u", "bm25", nil)
	_, all := s.info("u")
	params := all["config"].(map[string]any)["params"].(map[string]any)
	if _, ok := params["sparse_vectors"]; ok {
		t.Fatalf("sparse_vectors left after dropping the last one: %v", params)
	}
	assertJSON(t, "point 2 after the drop", s.get("u", 2).Vector, map[string]any{"": []float32{3, 4}, "img": []float32{1, 1, 1}})
	s.fail(http.MethodPost, collPath("u", "/points/query"), map[string]any{"query": sv([]int{1}, []float64{1}), "using": "bm25"},
		400, "Wrong input: Not existing vector name error: bm25")
}
