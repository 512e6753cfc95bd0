package rest_test

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/api/rest"
)

func vectorOf(t *testing.T, r record) []float32 {
	t.Helper()
	var v []float32
	decode(t, r.Vector, &v)
	return v
}

// TestVectorDatatypes: float16 and uint8 collections store their type,
// echo it in the config, return vectors as floats (float16-rounded; uint8
// truncated and saturated as Qdrant's cast) and search in their type.
func TestVectorDatatypes(t *testing.T) {
	s := newServer(t, rest.Options{})

	s.createCollection("half", map[string]any{"vectors": map[string]any{"size": 3, "distance": "Dot", "datatype": "float16"}})
	info, _ := s.info("half")
	if dt := configPart(t, info, "params", "vectors", "datatype"); dt != "float16" {
		t.Fatalf("datatype echoed as %v", dt)
	}
	s.upsert("half", pointIn{ID: 1, Vector: []float32{0.1, 1, -2.5}}, pointIn{ID: 2, Vector: []float32{1, 1, 1}})
	got := vectorOf(t, s.get("half", 1))
	if got[0] != 0.0999755859375 || got[1] != 1 || got[2] != -2.5 {
		t.Fatalf("float16 vector read back as %v", got)
	}
	hits := s.query("half", map[string]any{"query": []float32{0, 0, -1}, "limit": 2})
	if len(hits) != 2 || idText(1) != string(hits[0].ID) || *hits[0].Score != 2.5 {
		t.Fatalf("float16 query: %+v", hits)
	}

	s.createCollection("bytes", map[string]any{"vectors": map[string]any{"v": map[string]any{"size": 4, "distance": "Euclid", "datatype": "uint8"}}})
	s.upsert("bytes",
		pointIn{ID: 1, Vector: map[string]any{"v": []float32{3.9, 300, -2, 7}}},
		pointIn{ID: 2, Vector: map[string]any{"v": []float32{100, 100, 100, 100}}})
	var recs []record
	s.ok(http.MethodPost, collPath("bytes", "/points"), map[string]any{"ids": []int{1}, "with_vector": true}, &recs)
	var named map[string][]float32
	decode(t, recs[0].Vector, &named)
	if v := named["v"]; len(v) != 4 || v[0] != 3 || v[1] != 255 || v[2] != 0 || v[3] != 7 {
		t.Fatalf("uint8 vector read back as %v", named)
	}
	hits = s.query("bytes", map[string]any{"query": []float32{1.7, 255, 0, 7}, "using": "v", "limit": 1})
	if len(hits) != 1 || string(hits[0].ID) != "1" || *hits[0].Score != 2 {
		t.Fatalf("uint8 query (the query is cast to uint8 too): %+v", hits)
	}

	// uint8 Cosine compares the integers unnormalised, as Qdrant does.
	s.createCollection("cos", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Cosine", "datatype": "uint8"}})
	s.upsert("cos", pointIn{ID: 1, Vector: []float32{3, 4}})
	if v := vectorOf(t, s.get("cos", 1)); v[0] != 3 || v[1] != 4 {
		t.Fatalf("uint8 cosine vector was normalised: %v", v)
	}
	hits = s.query("cos", map[string]any{"query": []float32{6, 8}})
	if len(hits) != 1 || math.Abs(*hits[0].Score-1) > 1e-6 {
		t.Fatalf("uint8 cosine: %+v", hits)
	}

	s.fail(http.MethodPut, "/collections/bad", map[string]any{"vectors": map[string]any{"size": 3, "distance": "Dot", "datatype": "float64"}},
		http.StatusUnprocessableEntity, "Validation error in JSON body: [vectors.datatype: unknown variant `float64`, expected one of `float32`, `uint8`, `float16`, `turbo4`]")
}

// TestQuantizationConfigValidation: quantization_config at collection and
// vector level, and search params quantization, are validated with
// Qdrant's statuses; PATCH sets or disables it.
func TestQuantizationConfigValidation(t *testing.T) {
	s := newServer(t, rest.Options{})
	vec := map[string]any{"size": 4, "distance": "Cosine"}
	s.fail(http.MethodPut, "/collections/q", map[string]any{"vectors": vec, "quantization_config": map[string]any{"scalar": map[string]any{"type": "int4"}}},
		http.StatusBadRequest, "Format error in JSON body: quantization_config: data did not match any variant of untagged enum QuantizationConfig")
	s.fail(http.MethodPut, "/collections/q", map[string]any{"vectors": vec, "quantization_config": map[string]any{"scalar": map[string]any{"type": "int8", "quantile": 1.5}}},
		http.StatusUnprocessableEntity, "Validation error in JSON body: [quantization_config.scalar.quantile: value 1.5 invalid, must be 1.0 or smaller]")
	s.fail(http.MethodPut, "/collections/q", map[string]any{"vectors": map[string]any{"a": map[string]any{"size": 4, "distance": "Dot", "quantization_config": map[string]any{"product": map[string]any{}}}}},
		http.StatusBadRequest, "Format error in JSON body: vectors.a.quantization_config: data did not match any variant of untagged enum QuantizationConfig")
	s.fail(http.MethodPut, "/collections/q", map[string]any{"vectors": vec, "quantization_config": map[string]any{"turbo": map[string]any{"bits": "bits3"}}},
		http.StatusBadRequest, "Format error in JSON body: quantization_config: data did not match any variant of untagged enum QuantizationConfig")

	s.createCollection("q", map[string]any{
		"vectors":             map[string]any{"a": vec, "b": map[string]any{"size": 4, "distance": "Dot", "quantization_config": map[string]any{"binary": map[string]any{}}}},
		"quantization_config": map[string]any{"scalar": map[string]any{"type": "int8", "quantile": 0.99, "always_ram": true}},
	})
	info, _ := s.info("q")
	assertJSON(t, "quantization_config", configPart(t, info, "quantization_config"), map[string]any{"scalar": map[string]any{"type": "int8", "quantile": 0.99, "always_ram": true}})
	assertJSON(t, "vector b", configPart(t, info, "params", "vectors", "b", "quantization_config"), map[string]any{"binary": map[string]any{}})

	s.fail(http.MethodPatch, "/collections/q", map[string]any{"quantization_config": map[string]any{"scalar": map[string]any{"type": "int8", "quantile": 0.2}}},
		http.StatusUnprocessableEntity, "Validation error in JSON body: [quantization_config.scalar.quantile: value 0.2 invalid, must be 0.5 or larger]")
	s.fail(http.MethodPatch, "/collections/q", map[string]any{"quantization_config": "Enabled"},
		http.StatusBadRequest, "Format error in JSON body: quantization_config: data did not match any variant of untagged enum QuantizationConfig")
	var ok bool
	s.ok(http.MethodPatch, "/collections/q", map[string]any{"vectors": map[string]any{"b": map[string]any{"quantization_config": "Disabled"}}, "quantization_config": map[string]any{"product": map[string]any{"compression": "x16"}}}, &ok)
	info, all := s.info("q")
	assertJSON(t, "patched quantization_config", configPart(t, info, "quantization_config"), map[string]any{"product": map[string]any{"compression": "x16"}})
	if b := all["config"].(map[string]any)["params"].(map[string]any)["vectors"].(map[string]any)["b"].(map[string]any); b["quantization_config"] != nil {
		t.Fatalf("vector b after Disabled: %v", b)
	}
	s.ok(http.MethodPatch, "/collections/q", map[string]any{"quantization_config": "Disabled"}, &ok)
	info, all = s.info("q")
	if q := all["config"].(map[string]any)["quantization_config"]; q != nil {
		t.Fatalf("quantization_config after Disabled: %v", q)
	}

	s.upsert("q", pointIn{ID: 1, Vector: map[string]any{"a": []float32{1, 0, 0, 0}}})
	query := func(params any) map[string]any {
		return map[string]any{"query": []float32{1, 0, 0, 0}, "using": "a", "params": params}
	}
	s.fail(http.MethodPost, collPath("q", "/points/query"), query(map[string]any{"quantization": map[string]any{"oversampling": 0.5}}),
		http.StatusUnprocessableEntity, "Validation error in JSON body: [params.quantization.oversampling: value 0.5 invalid, must be 1.0 or larger]")
	s.failPrefix(http.MethodPost, collPath("q", "/points/query"), query(map[string]any{"quantization": map[string]any{"rescore": "yes"}}),
		http.StatusBadRequest, "Format error in JSON body: params.quantization.rescore: invalid type")
	hits := s.query("q", query(map[string]any{"quantization": map[string]any{"ignore": false, "rescore": true, "oversampling": 2.5}}))
	if len(hits) != 1 {
		t.Fatalf("query with quantization params: %+v", hits)
	}
}

// TestQuantizedCollectionSearch: once the optimizer has indexed a
// quantized collection, searches score with the codes (approximate
// scores without rescoring), rescoring gives exact scores, ignore and
// exact bypass the codes; the codes survive a restart.
func TestQuantizedCollectionSearch(t *testing.T) {
	rng := seededRand(t)
	dir := t.TempDir()
	s := openServer(t, dir, rest.Options{})
	const n, dim = 300, 16
	s.createCollection("sq", map[string]any{
		"vectors":             map[string]any{"size": dim, "distance": "Euclid", "datatype": "float16"},
		"quantization_config": map[string]any{"scalar": map[string]any{"type": "int8"}},
		"optimizers_config":   map[string]any{"indexing_threshold": 1},
	})
	var pts []pointIn
	vecs := map[string][]float32{}
	for i := range n {
		v := randVector(rng, dim)
		pts = append(pts, pointIn{ID: i, Vector: v})
		vecs[idText(i)] = v
	}
	s.upsert("sq", pts...)
	q := randVector(rng, dim)
	approx := func() []record {
		return s.query("sq", map[string]any{"query": q, "limit": 5, "params": map[string]any{"hnsw_ef": 64, "quantization": map[string]any{"rescore": false}}})
	}
	exact := s.query("sq", map[string]any{"query": q, "limit": 5, "params": map[string]any{"exact": true}})
	testkit.WaitFor(t, "searches use the quantized codes", 10*time.Second, func() bool {
		info, _ := s.info("sq")
		if info.IndexedVectorsCount == nil || *info.IndexedVectorsCount != n {
			return false
		}
		for i, h := range approx() {
			if *h.Score != *exact[i].Score {
				return true
			}
		}
		return false
	})
	before := approx()
	for _, params := range []map[string]any{
		{"quantization": map[string]any{"rescore": true, "oversampling": 3}},
		{"quantization": map[string]any{"ignore": true}},
		{"exact": true, "quantization": map[string]any{"rescore": false}},
	} {
		got := s.query("sq", map[string]any{"query": q, "limit": 5, "params": params})
		for i, h := range got {
			if string(h.ID) != string(exact[i].ID) || *h.Score != *exact[i].Score {
				t.Fatalf("params %v: hit %d %s %v, exact %s %v", params, i, h.ID, *h.Score, exact[i].ID, *exact[i].Score)
			}
		}
	}
	for i, h := range before {
		if math.Abs(*h.Score-*exact[i].Score) > 0.1**exact[i].Score {
			t.Fatalf("quantized score %v far from exact %v", *h.Score, *exact[i].Score)
		}
	}

	s.stop()
	s = openServer(t, dir, rest.Options{})
	after := s.query("sq", map[string]any{"query": q, "limit": 5, "params": map[string]any{"hnsw_ef": 64, "quantization": map[string]any{"rescore": false}}})
	for i := range before {
		if string(after[i].ID) != string(before[i].ID) || *after[i].Score != *before[i].Score {
			t.Fatalf("after restart hit %d %s %v, before %s %v", i, after[i].ID, *after[i].Score, before[i].ID, *before[i].Score)
		}
	}
}
