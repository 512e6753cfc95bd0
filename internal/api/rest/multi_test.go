package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// multivecSetup is Qdrant's multivector_collection_setup: a named
// multivector (Dot) of size 4, or the unnamed one, of the datatype given.
func multivecSetup(s *server, name string, named bool, datatype string) {
	s.t.Helper()
	params := map[string]any{"size": 4, "distance": "Dot", "multivector_config": map[string]any{"comparator": "max_sim"}}
	if datatype != "" {
		params["datatype"] = datatype
	}
	var vectors any = params
	if named {
		vectors = map[string]any{"my-multivec": params}
	}
	s.createCollection(name, map[string]any{"vectors": vectors})
}

// mv wraps a vector under the collection's name for it.
func mv(named bool, v any) any {
	if named {
		return map[string]any{"my-multivec": v}
	}
	return v
}

// multiOf is a record's vector under the collection's name for it.
func multiOf(t *testing.T, r record, named bool) string {
	t.Helper()
	if !named {
		return string(r.Vector)
	}
	var m map[string]json.RawMessage
	decode(t, r.Vector, &m)
	return string(m["my-multivec"])
}

var (
	multi1 = [][]float32{{0.05, 0.61, 0.76, 0.74}, {0.05, 0.61, 0.76, 0.74}, {0.05, 0.61, 0.76, 0.74}}
	multi2 = [][]float32{{0.19, 0.81, 0.75, 0.11}, {0.19, 0.81, 0.75, 0.11}, {0.19, 0.81, 0.75, 0.11}}
	multi3 = [][]float32{{0.36, 0.55, 0.47, 0.94}, {0.36, 0.55, 0.47, 0.94}, {0.36, 0.55, 0.47, 0.94}}
)

// TestMultivectorRoundTrip is Qdrant's test_multi_vector_float_persisted,
// test_upsert_legacy_api and test_search_legacy_api, named and unnamed:
// multivectors come back nested from scroll and retrieve, a plain vector
// is stored as one sub-vector, the legacy search takes a plain vector, and
// the collection echoes its multivector_config.
func TestMultivectorRoundTrip(t *testing.T) {
	s := newServer(t, rest.Options{})
	for _, named := range []bool{true, false} {
		t.Run(fmt.Sprintf("named=%v", named), func(t *testing.T) {
			s := s.on(t)
			coll := fmt.Sprintf("mv_%v", named)
			multivecSetup(s, coll, named, "")
			var info struct {
				Config struct {
					Params struct {
						Vectors json.RawMessage `json:"vectors"`
					} `json:"params"`
				} `json:"config"`
			}
			s.ok(http.MethodGet, "/collections/"+coll, nil, &info)
			want := `{"size":4,"distance":"Dot","multivector_config":{"comparator":"max_sim"}}`
			if named {
				want = `{"my-multivec":` + want + `}`
			}
			if got := string(info.Config.Params.Vectors); got != want {
				t.Fatalf("vectors config %s, want %s", got, want)
			}

			// Search on an empty collection; a wrong size is refused.
			search := func(v []float32) any {
				if named {
					return map[string]any{"vector": map[string]any{"name": "my-multivec", "vector": v}, "limit": 3}
				}
				return map[string]any{"vector": v, "limit": 3}
			}
			s.fail(http.MethodPost, collPath(coll, "/points/search"), search([]float32{0.05, 0.61, 0.76}), 400,
				"Wrong input: Vector dimension error: expected dim: 4, got 3")
			var hits []record
			s.ok(http.MethodPost, collPath(coll, "/points/search"), search([]float32{0.05, 0.61, 0.76, 0.74}), &hits)
			if len(hits) != 0 {
				t.Fatalf("%d hits on an empty collection", len(hits))
			}

			s.upsert(coll,
				pointIn{ID: 1, Vector: mv(named, multi1)},
				pointIn{ID: 2, Vector: mv(named, multi2)},
				pointIn{ID: 3, Vector: mv(named, multi3)},
				pointIn{ID: 4, Vector: mv(named, []float32{0.19, 0.81, 0.75, 0.11})}, // legacy: one sub-vector
			)
			var page struct {
				Points []record `json:"points"`
			}
			s.ok(http.MethodPost, collPath(coll, "/points/scroll"), map[string]any{"limit": 10, "with_vector": true}, &page)
			if len(page.Points) != 4 || idText(page.Points[0].ID) != "1" {
				t.Fatalf("scroll: %s", ids(page.Points))
			}
			if got := multiOf(t, page.Points[0], named); got != `[[0.05,0.61,0.76,0.74],[0.05,0.61,0.76,0.74],[0.05,0.61,0.76,0.74]]` {
				t.Fatalf("point 1's multivector %s", got)
			}
			var rec record
			s.ok(http.MethodGet, collPath(coll, "/points/2"), nil, &rec)
			if got := multiOf(t, rec, named); got != `[[0.19,0.81,0.75,0.11],[0.19,0.81,0.75,0.11],[0.19,0.81,0.75,0.11]]` {
				t.Fatalf("point 2's multivector %s", got)
			}
			s.ok(http.MethodGet, collPath(coll, "/points/4"), nil, &rec)
			if got := multiOf(t, rec, named); got != `[[0.19,0.81,0.75,0.11]]` {
				t.Fatalf("point 4's multivector %s", got)
			}
			s.ok(http.MethodPost, collPath(coll, "/points/search"), search([]float32{0.05, 0.61, 0.76, 0.74}), &hits)
			if len(hits) != 3 {
				t.Fatalf("legacy search: %d hits, want 3", len(hits))
			}
			s.write(http.MethodPost, collPath(coll, "/points/delete"), map[string]any{"points": []int{2}})
			s.failPrefix(http.MethodGet, collPath(coll, "/points/2"), nil, 404, "Not found: No point with id 2 found")
		})
	}
}

// TestMultivectorValidation is Qdrant's test_multi_vector_validation,
// named and unnamed, with the texts of its validator, for points, batches
// and update_vectors, and its errors for a multivector on a plain vector
// and a sub-vector of the wrong size.
func TestMultivectorValidation(t *testing.T) {
	s := newServer(t, rest.Options{})
	multivecSetup(s, "named", true, "")
	multivecSetup(s, "bare", false, "")
	s.createCollection("plain", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	points := func(v any) map[string]any {
		return map[string]any{"points": []map[string]any{{"id": 1, "vector": v}}}
	}
	huge := make([][]float32, 1024*1024/4)
	for i := range huge {
		huge[i] = []float32{0, 0, 0, 0}
	}
	for _, c := range []struct {
		name, coll, path string
		body             any
		code             int
		msg              string
	}{
		{"empty multivector", "named", "/points", points(map[string]any{"my-multivec": []any{}}), 400,
			"Wrong input: Vector dimension error: expected dim: 4, got 0"},
		{"empty inner vector", "named", "/points", points(map[string]any{"my-multivec": [][]float32{{}}}), 422,
			"Validation error in JSON body: [points[0].vector.?.data: all vectors must be non-empty]"},
		{"one empty inner vector", "named", "/points", points(map[string]any{"my-multivec": [][]float32{{0.05, 0.61, 0.76, 0.74}, {}}}), 422,
			"Validation error in JSON body: [points[0].vector.?.data: all vectors must be non-empty]"},
		{"inner vectors of two sizes", "named", "/points", points(map[string]any{"my-multivec": [][]float32{{0.05, 0.61, 0.76, 0.74}, {0.05, 0.61, 0.76}}}), 422,
			"Validation error in JSON body: [points[0].vector.?.data: all vectors must have the same dimension, found vector with dimension 3]"},
		{"unnamed empty inner vector", "bare", "/points", points([][]float32{{}}), 422,
			"Validation error in JSON body: [points[0].vector.data: all vectors must be non-empty]"},
		{"unnamed inner vectors of two sizes", "bare", "/points", points([][]float32{{1, 2, 3, 4}, {1, 2}}), 422,
			"Validation error in JSON body: [points[0].vector.data: all vectors must have the same dimension, found vector with dimension 2]"},
		{"unnamed empty", "bare", "/points", points([]any{}), 400, "Wrong input: Vector dimension error: expected dim: 4, got 0"},
		{"sub-vectors of the wrong size", "named", "/points", points(map[string]any{"my-multivec": [][]float32{{1, 2, 3}, {4, 5, 6}}}), 400,
			"Wrong input: Vector dimension error: expected dim: 4, got 3"},
		{"a plain vector of the wrong size", "bare", "/points", points([]float32{1, 2, 3, 4, 5, 6, 7, 8}), 400,
			"Wrong input: Vector dimension error: expected dim: 4, got 8"},
		{"a multivector on a plain vector", "plain", "/points", points([][]float32{{1, 2, 3, 4}}), 400,
			"Wrong input: Conversion between multi and regular vectors failed"},
		{"too large", "bare", "/points", points(huge), 422,
			"Validation error in JSON body: [points[0].vector.data: Total size of all vectors (1048576) must be less than 1048576]"},
		{"batch: inner vectors of two sizes", "bare", "/points", map[string]any{"batch": map[string]any{"ids": []int{1}, "vectors": [][][]float32{{{1, 2, 3, 4}, {1}}}}}, 422,
			"Validation error in JSON body: [batch.vectors.data: all vectors must have the same dimension, found vector with dimension 1]"},
		{"named batch: empty inner vector", "named", "/points", map[string]any{"batch": map[string]any{"ids": []int{1}, "vectors": map[string]any{"my-multivec": [][][]float32{{{}}}}}}, 422,
			"Validation error in JSON body: [batch.vectors.?.data: all vectors must be non-empty]"},
		{"batch on a plain vector", "plain", "/points", map[string]any{"batch": map[string]any{"ids": []int{1}, "vectors": [][][]float32{{{1, 2, 3, 4}}}}}, 400,
			"Wrong input: Conversion between multi and regular vectors failed"},
		{"update_vectors: empty inner vector", "named", "/points/vectors", points(map[string]any{"my-multivec": [][]float32{{1, 2, 3, 4}, {}}}), 422,
			"Validation error in JSON body: [points[0].vector.?.data: all vectors must be non-empty]"},
		{"query: a multivector on a plain vector", "plain", "/points/query", map[string]any{"query": [][]float32{{1, 2, 3, 4}}}, 400,
			"Wrong input: Conversion between multi and regular vectors failed"},
		{"query: sub-vectors of the wrong size", "named", "/points/query", map[string]any{"query": [][]float32{{1, 2, 3}}, "using": "my-multivec"}, 400,
			"Wrong input: Vector dimension error: expected dim: 4, got 3"},
		{"query: inner vectors of two sizes", "bare", "/points/query", map[string]any{"query": [][]float32{{1, 2, 3, 4}, {1}}}, 422,
			"Validation error in JSON body: [internal.query.data: all vectors must have the same dimension, found vector with dimension 1]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodPut
			if strings.HasSuffix(c.path, "/query") {
				method = http.MethodPost
			}
			s.on(t).fail(method, collPath(c.coll, c.path+"?wait=true"), c.body, c.code, c.msg)
		})
	}
	if n := s.count("named", nil) + s.count("bare", nil) + s.count("plain", nil); n != 0 {
		t.Fatalf("%d points were written", n)
	}
}

// TestMultivectorQuery: query by a multivector (nested), by a plain vector
// (one sub-vector) and by a point id, with Qdrant's scores: Euclid's case
// of test_multi_with_euclidean (0 and 4.358899), Dot's max_sim; batch
// writes of multivectors and update_vectors are read back nested by
// with_vector.
func TestMultivectorQuery(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("euclid", map[string]any{"vectors": map[string]any{"my-multivec": map[string]any{
		"size": 3, "distance": "Euclid", "multivector_config": map[string]any{"comparator": "max_sim"}}}})
	s.upsert("euclid",
		pointIn{ID: 1, Vector: map[string]any{"my-multivec": [][]float32{{1, 2, 3}, {3, 3, 3}, {4, 5, 6}}}},
		pointIn{ID: 2, Vector: map[string]any{"my-multivec": [][]float32{{3, 3, 3}, {4, 2, 1}}}},
	)
	var res struct {
		Points []record `json:"points"`
	}
	s.ok(http.MethodPost, collPath("euclid", "/points/query"), map[string]any{
		"query": [][]float32{{1, 2, 3}, {3, 3, 3}, {4, 5, 6}}, "using": "my-multivec", "limit": 10}, &res)
	if len(res.Points) != 2 || idText(res.Points[0].ID) != "1" || *res.Points[0].Score != 0 ||
		idText(res.Points[1].ID) != "2" || float32(*res.Points[1].Score) != 4.358899 {
		t.Fatalf("euclid query: %s", mustJSON(t, res.Points))
	}

	multivecSetup(s, "dot", false, "")
	s.write(http.MethodPut, collPath("dot", "/points"), map[string]any{"batch": map[string]any{
		"ids":     []int{1, 2, 3},
		"vectors": [][][]float32{multi1, multi2, {{1, 0, 0, 0}}},
	}})
	s.write(http.MethodPut, collPath("dot", "/points/vectors"), map[string]any{"points": []map[string]any{
		{"id": 3, "vector": [][]float32{{1, 0, 0, 0}, {0, 0, 0, 2}}}}})
	// max_sim of [[0,0,0,1],[1,0,0,0]]: point 3 scores 2+1, point 1
	// 0.74+0.05, point 2 0.11+0.19.
	q := [][]float32{{0, 0, 0, 1}, {1, 0, 0, 0}}
	s.ok(http.MethodPost, collPath("dot", "/points/query"), map[string]any{"query": q, "with_vector": true}, &res)
	if got := ids(res.Points); strings.Join(got, ",") != "3,1,2" {
		t.Fatalf("dot query ranks %v", got)
	}
	if got := string(res.Points[0].Vector); got != `[[1,0,0,0],[0,0,0,2]]` {
		t.Fatalf("point 3's vector %s", got)
	}
	for i, want := range []float64{3, 0.79, 0.30} {
		if d := *res.Points[i].Score - want; d > 1e-5 || d < -1e-5 {
			t.Fatalf("hit %d scores %v, want %v", i, *res.Points[i].Score, want)
		}
	}
	// nearest, a plain vector, and a point's id.
	s.ok(http.MethodPost, collPath("dot", "/points/query"), map[string]any{"query": map[string]any{"nearest": []float32{0, 0, 0, 1}}}, &res)
	if got := ids(res.Points); strings.Join(got, ",") != "3,1,2" || *res.Points[0].Score != 2 {
		t.Fatalf("plain query: %s", mustJSON(t, res.Points))
	}
	s.ok(http.MethodPost, collPath("dot", "/points/query"), map[string]any{"query": 3, "limit": 1}, &res)
	if got := ids(res.Points); strings.Join(got, ",") != "1" {
		t.Fatalf("query by id 3: %v", got)
	}
	var batch [][]record
	s.ok(http.MethodPost, collPath("dot", "/points/search/batch"), map[string]any{"searches": []map[string]any{
		{"vector": []float32{0, 0, 0, 1}, "limit": 1}, {"vector": []float32{1, 0, 0, 0}, "limit": 1}}}, &batch)
	if len(batch) != 2 || idText(batch[0][0].ID) != "3" || idText(batch[1][0].ID) != "3" {
		t.Fatalf("search batch: %s", mustJSON(t, batch))
	}
}

// TestMultivectorUint8 is Qdrant's test_multi_vector_uint8: sub-vectors
// stored as uint8 read back truncated, and saturated past 255.
func TestMultivectorUint8(t *testing.T) {
	s := newServer(t, rest.Options{})
	multivecSetup(s, "u8", true, "uint8")
	s.upsert("u8",
		pointIn{ID: 1, Vector: map[string]any{"my-multivec": [][]float32{{1.05, 1.61, 1.76, 1.74}, {2.05, 2.61, 2.76, 2.74}, {3.05, 3.61, 3.76, 3.74}}}},
		pointIn{ID: 2, Vector: map[string]any{"my-multivec": [][]float32{{256.19, 1.81, 2.75, 3.11}}}},
	)
	var rec record
	s.ok(http.MethodGet, collPath("u8", "/points/1"), nil, &rec)
	if got := multiOf(t, rec, true); got != `[[1,1,1,1],[2,2,2,2],[3,3,3,3]]` {
		t.Fatalf("point 1: %s", got)
	}
	s.ok(http.MethodGet, collPath("u8", "/points/2"), nil, &rec)
	if got := multiOf(t, rec, true); got != `[[255,1,2,3]]` {
		t.Fatalf("point 2: %s", got)
	}
}

// TestMultivectorNamedVectorAdded: a multivector added to an existing
// collection with PUT /collections/{c}/vectors/{name} takes nested
// vectors, returns them nested and is searched by max_sim.
func TestMultivectorNamedVectorAdded(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"a": map[string]any{"size": 2, "distance": "Dot"}}})
	s.vectorName("c", "m", map[string]any{"dense": map[string]any{"size": 4, "distance": "Dot", "multivector_config": map[string]any{"comparator": "max_sim"}}})
	s.ok(http.MethodPut, "/collections/c/points?wait=true", map[string]any{"points": []any{
		map[string]any{"id": 1, "vector": map[string]any{"a": []float32{1, 0}, "m": multi1}},
		map[string]any{"id": 2, "vector": map[string]any{"a": []float32{0, 1}, "m": multi2}},
	}}, nil)
	var recs []record
	s.ok(http.MethodPost, "/collections/c/points", map[string]any{"ids": []int{1}, "with_vector": []string{"m"}}, &recs)
	if len(recs) != 1 {
		t.Fatalf("retrieve: %d records", len(recs))
	}
	var got map[string][][]float32
	decode(t, recs[0].Vector, &got)
	if fmt.Sprint(got["m"]) != fmt.Sprint(multi1) {
		t.Fatalf("multivector read back %v, want %v", got["m"], multi1)
	}
	var res struct {
		Points []struct {
			ID    int     `json:"id"`
			Score float64 `json:"score"`
		} `json:"points"`
	}
	s.ok(http.MethodPost, "/collections/c/points/query", map[string]any{"query": multi2, "using": "m", "limit": 2}, &res)
	if len(res.Points) != 2 || res.Points[0].ID != 2 {
		t.Fatalf("max_sim query: %+v, want point 2 first", res.Points)
	}
}
