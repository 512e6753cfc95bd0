package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// sv is a sparse vector as a client sends it.
func sv(indices []int, values []float64) map[string]any {
	return map[string]any{"indices": indices, "values": values}
}

// basicSparse is Qdrant's basic_collection_setup: an unnamed dense vector
// and a sparse one, points with one or the other.
func basicSparse(s *server, name string) {
	s.t.Helper()
	s.createCollection(name, map[string]any{
		"vectors":        map[string]any{"size": 4, "distance": "Dot"},
		"sparse_vectors": map[string]any{"sparse-text": map[string]any{}},
	})
	s.upsert(name,
		pointIn{ID: 1, Vector: []float32{0.05, 0.61, 0.76, 0.74}, Payload: map[string]any{"city": "Berlin"}},
		pointIn{ID: 9, Vector: map[string]any{"sparse-text": sv([]int{66, 12}, []float64{0.5, 0.5})}},
		pointIn{ID: 10, Vector: map[string]any{"sparse-text": sv([]int{1, 2, 3}, []float64{0.1, 0.2, 0.3})}, Payload: map[string]any{"city": "London"}},
		pointIn{ID: 11, Vector: map[string]any{"": []float32{1, 0, 0, 0}, "sparse-text": sv([]int{3, 1}, []float64{1, 2})}},
	)
}

// TestSparseCollectionInfo: sparse_vectors are echoed by GET as given, a
// collection of sparse vectors only has "vectors": {}, and Qdrant's rules
// on names and enums answer with its texts.
func TestSparseCollectionInfo(t *testing.T) {
	s := newServer(t, rest.Options{})
	basicSparse(s, "basic")
	s.createCollection("only", map[string]any{"sparse_vectors": map[string]any{
		"text": map[string]any{"modifier": "idf", "index": map[string]any{"full_scan_threshold": 100, "on_disk": true, "datatype": "uint8"}}}})
	var info struct {
		Config struct {
			Params map[string]any `json:"params"`
		} `json:"config"`
	}
	s.ok(http.MethodGet, "/collections/basic", nil, &info)
	assertJSON(t, "basic sparse_vectors", info.Config.Params["sparse_vectors"], map[string]any{"sparse-text": map[string]any{}})
	assertJSON(t, "basic vectors", info.Config.Params["vectors"], map[string]any{"size": 4, "distance": "Dot"})
	s.ok(http.MethodGet, "/collections/only", nil, &info)
	assertJSON(t, "only vectors", info.Config.Params["vectors"], map[string]any{})
	assertJSON(t, "only sparse_vectors", info.Config.Params["sparse_vectors"], map[string]any{"text": map[string]any{
		"modifier": "idf", "index": map[string]any{"full_scan_threshold": 100, "on_disk": true, "datatype": "uint8"}}})
	// PATCH merges, as test_sparse_idf's modifier switch does.
	s.ok(http.MethodPatch, "/collections/only", map[string]any{"sparse_vectors": map[string]any{"text": map[string]any{"modifier": "none"}}}, nil)
	s.ok(http.MethodGet, "/collections/only", nil, &info)
	assertJSON(t, "patched sparse_vectors", info.Config.Params["sparse_vectors"], map[string]any{"text": map[string]any{
		"modifier": "none", "index": map[string]any{"full_scan_threshold": 100, "on_disk": true, "datatype": "uint8"}}})

	for _, c := range []struct {
		name   string
		method string
		path   string
		body   any
		code   int
		prefix string
	}{
		{"duplicate name", http.MethodPut, "/collections/dup", `{"vectors":{"a":{"size":2,"distance":"Dot"}},"sparse_vectors":{"a":{}}}`,
			400, "Wrong input: Dense and sparse vector names must be unique - duplicate found with 'a'"},
		{"empty name", http.MethodPut, "/collections/empty", `{"sparse_vectors":{"":{}}}`, 400, "Wrong input: Sparse vector name cannot be empty"},
		{"bad modifier", http.MethodPut, "/collections/bad", `{"sparse_vectors":{"a":{"modifier":"tf"}}}`, 400, "Format error in JSON body: "},
		{"bad datatype", http.MethodPut, "/collections/bad", `{"sparse_vectors":{"a":{"index":{"datatype":"int8"}}}}`, 400, "Format error in JSON body: "},
		{"patch unknown", http.MethodPatch, "/collections/only", `{"sparse_vectors":{"nope":{}}}`, 400, "Wrong input: Not existing vector name error: nope"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.on(t).failPrefix(c.method, c.path, c.body, c.code, c.prefix)
		})
	}
}

// TestSparsePointsRoundTrip: sparse vectors written by points, batch and
// update_vectors come back sorted by retrieve, scroll and query; a point
// with only the unnamed dense vector is a bare list, any other an object
// by name (the unnamed vector under ""), as Qdrant writes them.
func TestSparsePointsRoundTrip(t *testing.T) {
	s := newServer(t, rest.Options{})
	basicSparse(s, "c")
	s.write(http.MethodPut, "/collections/c/points", map[string]any{"batch": map[string]any{
		"ids":     []int{20, 21},
		"vectors": map[string]any{"sparse-text": []any{sv([]int{9, 4}, []float64{1, 2}), sv([]int{}, []float64{})}},
	}})
	s.write(http.MethodPut, "/collections/c/points/vectors", map[string]any{"points": []any{
		map[string]any{"id": 1, "vector": map[string]any{"sparse-text": sv([]int{7}, []float64{0.25})}},
	}})
	var recs []record
	s.ok(http.MethodPost, "/collections/c/points", map[string]any{"ids": []int{1, 9, 11, 20, 21}, "with_vector": true}, &recs)
	want := []any{
		map[string]any{"": []float32{0.05, 0.61, 0.76, 0.74}, "sparse-text": sv([]int{7}, []float64{0.25})},
		map[string]any{"sparse-text": sv([]int{12, 66}, []float64{0.5, 0.5})},
		map[string]any{"": []float32{1, 0, 0, 0}, "sparse-text": sv([]int{1, 3}, []float64{2, 1})},
		map[string]any{"sparse-text": sv([]int{4, 9}, []float64{2, 1})},
		map[string]any{"sparse-text": sv([]int{}, []float64{})},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		assertJSON(t, "vector of "+string(r.ID), r.Vector, want[i])
	}
	s.ok(http.MethodPost, "/collections/c/points", map[string]any{"ids": []int{11}, "with_vector": []string{"sparse-text"}}, &recs)
	assertJSON(t, "with_vector [sparse-text]", recs[0].Vector, map[string]any{"sparse-text": sv([]int{1, 3}, []float64{2, 1})})
	s.ok(http.MethodPost, "/collections/c/points", map[string]any{"ids": []int{11}, "with_vector": []string{""}}, &recs)
	assertJSON(t, "with_vector [\"\"]", recs[0].Vector, []float32{1, 0, 0, 0})
	// delete_vectors by sparse name.
	s.write(http.MethodPost, "/collections/c/points/vectors/delete", map[string]any{"points": []int{11}, "vector": []string{"sparse-text"}})
	s.ok(http.MethodPost, "/collections/c/points", map[string]any{"ids": []int{11}, "with_vector": true}, &recs)
	assertJSON(t, "after delete_vectors", recs[0].Vector, []float32{1, 0, 0, 0})
	// has_vector on a sparse name.
	if n := s.count("c", map[string]any{"must": []any{map[string]any{"has_vector": "sparse-text"}}}); n != 5 {
		t.Fatalf("has_vector sparse-text: %d points", n)
	}
}

// TestSparseValidation: Qdrant's validation texts for broken sparse
// vectors wherever they appear (422), its format errors (400) and its
// conversion and name errors; nothing is written.
func TestSparseValidation(t *testing.T) {
	s := newServer(t, rest.Options{})
	basicSparse(s, "c")
	const (
		length = "values: Validation error: must be the same length as indices [{}]"
		unique = "indices: Validation error: must be unique [{}]"
	)
	pts := func(v any) map[string]any {
		return map[string]any{"points": []any{map[string]any{"id": 1, "vector": map[string]any{"sparse-text": v}}}}
	}
	cases := []struct {
		name, method, path string
		body               any
		code               int
		msg                string // exact, or a prefix when it ends with "*"
	}{
		{"length", http.MethodPut, "/points", pts(sv([]int{100, 500}, []float64{0.9, 0.8, 0.5})),
			422, "Validation error in JSON body: [points[0].vector.?." + length + "]"},
		{"duplicates", http.MethodPut, "/points", pts(sv([]int{100, 500, 500}, []float64{0.9, 0.8, 0.5})),
			422, "Validation error in JSON body: [points[0].vector.?." + unique + "]"},
		{"both", http.MethodPut, "/points", pts(sv([]int{1, 1}, []float64{1})),
			422, "Validation error in JSON body: [points[0].vector.?." + length + ", points[0].vector.?." + unique + "]"},
		{"second point", http.MethodPut, "/points", map[string]any{"points": []any{
			map[string]any{"id": 1, "vector": map[string]any{"sparse-text": sv([]int{1}, []float64{1})}},
			map[string]any{"id": 2, "vector": map[string]any{"sparse-text": sv([]int{2, 2}, []float64{1, 1})}}}},
			422, "Validation error in JSON body: [points[1].vector.?." + unique + "]"},
		{"batch", http.MethodPut, "/points", map[string]any{"batch": map[string]any{"ids": []int{1, 2},
			"vectors": map[string]any{"sparse-text": []any{sv([]int{1}, []float64{1}), sv([]int{3}, []float64{})}}}},
			422, "Validation error in JSON body: [batch.vectors.?[1]." + length + "]"},
		{"update_vectors", http.MethodPut, "/points/vectors", pts(sv([]int{5, 5}, []float64{1, 2})),
			422, "Validation error in JSON body: [points[0].vector.?." + unique + "]"},
		{"query", http.MethodPost, "/points/query", map[string]any{"query": sv([]int{1, 1}, []float64{1, 1}), "using": "sparse-text"},
			422, "Validation error in JSON body: [internal.query." + unique + "]"},
		{"query nearest", http.MethodPost, "/points/query", map[string]any{"query": map[string]any{"nearest": sv([]int{1}, []float64{})}, "using": "sparse-text"},
			422, "Validation error in JSON body: [internal.query.nearest." + length + "]"},
		{"search", http.MethodPost, "/points/search", map[string]any{"vector": map[string]any{"name": "sparse-text", "vector": sv([]int{1, 1}, []float64{1, 1})}, "limit": 1},
			422, "Validation error in JSON body: [vector.vector." + unique + "]"},
		{"missing values", http.MethodPut, "/points", pts(map[string]any{"indices": []int{1}}), 400, "Format error in JSON body: *"},
		{"negative index", http.MethodPut, "/points", pts(sv([]int{-1}, []float64{1})), 400, "Format error in JSON body: *"},
		{"index past u32", http.MethodPut, "/points", `{"points":[{"id":1,"vector":{"sparse-text":{"indices":[4294967296],"values":[1]}}}]}`, 400, "Format error in JSON body: *"},
		{"string value", http.MethodPut, "/points", `{"points":[{"id":1,"vector":{"sparse-text":{"indices":[1],"values":["a"]}}}]}`, 400, "Format error in JSON body: *"},
		{"inference object", http.MethodPut, "/points", pts(map[string]any{"text": "hello", "model": "bm25"}), 400, "Format error in JSON body: *"},
		{"sparse for the dense vector", http.MethodPut, "/points", map[string]any{"points": []any{map[string]any{"id": 1, "vector": map[string]any{"": sv([]int{1}, []float64{1})}}}},
			400, "Wrong input: Conversion between sparse and regular vectors failed"},
		{"dense for the sparse vector", http.MethodPut, "/points", map[string]any{"points": []any{map[string]any{"id": 1, "vector": map[string]any{"sparse-text": []float32{1, 2}}}}},
			400, "Wrong input: Conversion between sparse and regular vectors failed"},
		{"unknown sparse name", http.MethodPut, "/points", map[string]any{"points": []any{map[string]any{"id": 1, "vector": map[string]any{"nope": sv([]int{1}, []float64{1})}}}},
			400, "Wrong input: Not existing vector name error: nope"},
		{"dense query on the sparse vector", http.MethodPost, "/points/query", map[string]any{"query": []float32{1, 2, 3, 4}, "using": "sparse-text"},
			400, "Wrong input: Conversion between sparse and regular vectors failed"},
		{"sparse query on the dense vector", http.MethodPost, "/points/query", map[string]any{"query": sv([]int{1}, []float64{1})},
			400, "Wrong input: Conversion between sparse and regular vectors failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := s.on(t)
			before := s.count("c", nil)
			path := collPath("c", c.path)
			if c.method == http.MethodPut {
				path += "?wait=true"
			}
			if prefix, ok := strings.CutSuffix(c.msg, "*"); ok {
				s.failPrefix(c.method, path, c.body, c.code, prefix)
			} else {
				s.fail(c.method, path, c.body, c.code, c.msg)
			}
			if after := s.count("c", nil); after != before {
				t.Errorf("%d points after a refused request, %d before", after, before)
			}
		})
	}
	// Unsorted indices are fine: Qdrant sorts them.
	var hits struct{ Points []record }
	s.ok(http.MethodPost, "/collections/c/points/query", map[string]any{"query": map[string]any{"nearest": sv([]int{3, 1, 2}, []float64{0.3, 0.1, 0.2})}, "using": "sparse-text"}, &hits)
	if len(hits.Points) != 2 {
		t.Fatalf("unsorted query: %v", ids(hits.Points))
	}
}

// TestSparseQuery: query (bare, nearest, by id) and the legacy search by
// NamedSparseVector score by the dot product over shared indices, only
// points sharing one; filters, score_threshold and offset apply; an empty
// query finds nothing.
func TestSparseQuery(t *testing.T) {
	s := newServer(t, rest.Options{})
	basicSparse(s, "c")
	type hit struct {
		ID    int     `json:"id"`
		Score float64 `json:"score"`
	}
	query := func(body map[string]any) []hit {
		t.Helper()
		var out struct {
			Points []hit `json:"points"`
		}
		s.ok(http.MethodPost, "/collections/c/points/query", body, &out)
		return out.Points
	}
	q := sv([]int{1, 3, 66}, []float64{1, 1, 2})
	assertJSON(t, "bare", query(map[string]any{"query": q, "using": "sparse-text"}),
		[]hit{{11, 3}, {9, 1}, {10, 0.4}})
	assertJSON(t, "nearest with threshold and offset", query(map[string]any{"query": map[string]any{"nearest": q}, "using": "sparse-text", "score_threshold": 0.5, "offset": 1}),
		[]hit{{9, 1}})
	assertJSON(t, "filtered", query(map[string]any{"query": q, "using": "sparse-text", "filter": map[string]any{"must": []any{map[string]any{"key": "city", "match": map[string]any{"value": "London"}}}}}),
		[]hit{{10, 0.4}})
	assertJSON(t, "by id", query(map[string]any{"query": 10, "using": "sparse-text"}), []hit{{11, 0.5}})
	assertJSON(t, "empty", query(map[string]any{"query": sv([]int{}, []float64{}), "using": "sparse-text"}), []hit{})
	var legacy []hit
	s.ok(http.MethodPost, "/collections/c/points/search", map[string]any{"vector": map[string]any{"name": "sparse-text", "vector": q}, "limit": 2}, &legacy)
	assertJSON(t, "legacy search", legacy, []hit{{11, 3}, {9, 1}})
	var recs struct{ Points []record }
	s.ok(http.MethodPost, "/collections/c/points/query", map[string]any{"query": q, "using": "sparse-text", "limit": 1, "with_vector": true}, &recs)
	assertJSON(t, "with_vector", recs.Points[0].Vector, map[string]any{"": []float32{1, 0, 0, 0}, "sparse-text": sv([]int{1, 3}, []float64{2, 1})})
}

// TestSparseIDF is Qdrant's test_sparse_idf: with the idf modifier, a
// query of common and rare words ranks first the text with the rare ones;
// switched back to none by PATCH, it does not.
func TestSparseIDF(t *testing.T) {
	s := newServer(t, rest.Options{})
	texts := []string{
		"I must not fear. Fear is the mind-killer.",
		"All animals are equal, but some animals are more equal than others.",
		"It was a pleasure to burn.",
		"The sky above the port was the color of television, tuned to a dead channel.",
		"In the beginning, the universe was created. This has made a lot of people very angry and been widely regarded as a bad move.",
		"It's a truth universally acknowledged that a zombie in possession of brains must be in want of more brains.",
		"War is peace. Freedom is slavery. Ignorance is strength.",
		"We're not in Infinity; we're in the suburbs.",
		"I was a thousand times more evil than thou!",
		"History is merely a list of surprises... It can only prepare us to be surprised yet again.",
		"The a an and or but", "A an the", "I am you are he she it we they", "Is are was were", "Do does did",
		"Have has had", "Can could", "I am is not the you are", "I is not the you are",
	}
	vocab := map[string]int{}
	vec := func(text string) map[string]any {
		seen := map[int]bool{}
		var idx []int
		var val []float64
		for _, w := range strings.Fields(strings.NewReplacer(".", "", ",", "", "!", "", ";", "").Replace(strings.ToLower(text))) {
			if _, ok := vocab[w]; !ok {
				vocab[w] = len(vocab)
			}
			if d := vocab[w]; !seen[d] {
				seen[d] = true
				idx = append(idx, d)
				val = append(val, 1)
			}
		}
		return sv(idx, val)
	}
	s.createCollection("idf", map[string]any{"sparse_vectors": map[string]any{"text": map[string]any{"modifier": "idf"}}})
	var pts []pointIn
	for i, text := range texts {
		pts = append(pts, pointIn{ID: i, Vector: map[string]any{"text": vec(text)}})
	}
	s.upsert("idf", pts...)
	search := func() []record {
		var hits []record
		s.ok(http.MethodPost, "/collections/idf/points/search", map[string]any{"vector": map[string]any{"name": "text", "vector": vec("i is not television channel")}, "limit": 2}, &hits)
		if len(hits) != 2 {
			t.Fatalf("%d hits", len(hits))
		}
		return hits
	}
	if first := string(search()[0].ID); first != "3" {
		t.Fatalf("with idf the first hit is %s, want 3", first)
	}
	s.ok(http.MethodPatch, "/collections/idf", map[string]any{"sparse_vectors": map[string]any{"text": map[string]any{"modifier": "none"}}}, nil)
	if first := string(search()[0].ID); first == "3" {
		t.Fatal("without idf the first hit is still 3")
	}
}
