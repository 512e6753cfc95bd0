package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// collectionInfo is the part of CollectionInfo the tests look at; config
// stays raw so it can be compared as JSON.
type collectionInfo struct {
	Status              string          `json:"status"`
	OptimizerStatus     json.RawMessage `json:"optimizer_status"`
	IndexedVectorsCount *uint64         `json:"indexed_vectors_count"`
	PointsCount         *uint64         `json:"points_count"`
	SegmentsCount       *uint64         `json:"segments_count"`
	Config              json.RawMessage `json:"config"`
	PayloadSchema       json.RawMessage `json:"payload_schema"`
}

func (s *server) info(name string) (collectionInfo, map[string]any) {
	s.t.Helper()
	var info collectionInfo
	raw := s.ok(http.MethodGet, "/collections/"+name, nil, &info)
	var all map[string]any
	decode(s.t, raw, &all)
	return info, all
}

// configPart returns one section of a collection's config as generic JSON.
func configPart(t *testing.T, info collectionInfo, keys ...string) any {
	t.Helper()
	var v any
	decode(t, info.Config, &v)
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("config: %v is not an object at %q", v, k)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("config has no %q in %v", k, m)
		}
	}
	return v
}

func TestCreateCollectionDistances(t *testing.T) {
	s := newServer(t, rest.Options{})
	for _, dist := range []string{"Cosine", "Dot", "Euclid", "Manhattan"} {
		t.Run(dist, func(t *testing.T) {
			s := s.on(t)
			name := "unnamed_" + strings.ToLower(dist)
			s.createCollection(name, map[string]any{"vectors": map[string]any{"size": 4, "distance": dist}})
			info, all := s.info(name)
			for _, k := range []string{"status", "optimizer_status", "indexed_vectors_count", "points_count", "segments_count", "config", "payload_schema"} {
				if _, ok := all[k]; !ok {
					t.Errorf("CollectionInfo lacks %q: %v", k, all)
				}
			}
			if info.Status != "green" || string(info.OptimizerStatus) != `"ok"` {
				t.Errorf("status %q optimizer_status %s, want green ok", info.Status, info.OptimizerStatus)
			}
			if info.PointsCount == nil || *info.PointsCount != 0 {
				t.Errorf("points_count %v, want 0", info.PointsCount)
			}
			assertJSON(t, "params.vectors", configPart(t, info, "params", "vectors"), map[string]any{"size": 4, "distance": dist})
			assertJSON(t, "payload_schema", info.PayloadSchema, map[string]any{})
			for _, k := range []string{"params", "hnsw_config", "optimizer_config", "wal_config"} {
				configPart(t, info, k)
			}
			assertJSON(t, "hnsw_config", configPart(t, info, "hnsw_config"),
				map[string]any{"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0})
		})
	}

	t.Run("named", func(t *testing.T) {
		vectors := map[string]any{
			"cos":  map[string]any{"size": 4, "distance": "Cosine"},
			"dot":  map[string]any{"size": 3, "distance": "Dot", "on_disk": true},
			"euc":  map[string]any{"size": 2, "distance": "Euclid", "hnsw_config": map[string]any{"m": 8}},
			"manh": map[string]any{"size": 5, "distance": "Manhattan"},
		}
		s := s.on(t)
		s.createCollection("named", map[string]any{"vectors": vectors})
		info, _ := s.info("named")
		assertJSON(t, "params.vectors", configPart(t, info, "params", "vectors"), vectors)
	})
}

func TestCreateCollectionEchoesConfig(t *testing.T) {
	s := newServer(t, rest.Options{})
	quant := map[string]any{"scalar": map[string]any{"type": "int8", "quantile": 0.99, "always_ram": true}}
	s.createCollection("full", map[string]any{
		"vectors":                  map[string]any{"size": 8, "distance": "Cosine"},
		"shard_number":             3,
		"replication_factor":       2,
		"write_consistency_factor": 2,
		"on_disk_payload":          true,
		"hnsw_config":              map[string]any{"m": 32, "ef_construct": 200, "full_scan_threshold": 500, "on_disk": true},
		"optimizers_config":        map[string]any{"deleted_threshold": 0.5, "vacuum_min_vector_number": 500, "default_segment_number": 4, "indexing_threshold": 0, "flush_interval_sec": 7, "max_optimization_threads": 2},
		"wal_config":               map[string]any{"wal_capacity_mb": 16, "wal_segments_ahead": 1},
		"quantization_config":      quant,
	})
	info, _ := s.info("full")
	params := configPart(t, info, "params").(map[string]any)
	for k, want := range map[string]any{"shard_number": 3, "replication_factor": 2, "write_consistency_factor": 2, "on_disk_payload": true} {
		assertJSON(t, "params."+k, params[k], want)
	}
	assertJSON(t, "hnsw_config", configPart(t, info, "hnsw_config"),
		map[string]any{"m": 32, "ef_construct": 200, "full_scan_threshold": 500, "max_indexing_threads": 0, "on_disk": true})
	opt := configPart(t, info, "optimizer_config").(map[string]any)
	for k, want := range map[string]any{"deleted_threshold": 0.5, "vacuum_min_vector_number": 500, "default_segment_number": 4, "indexing_threshold": 0, "flush_interval_sec": 7, "max_optimization_threads": 2} {
		assertJSON(t, "optimizer_config."+k, opt[k], want)
	}
	wal := configPart(t, info, "wal_config").(map[string]any)
	assertJSON(t, "wal_config.wal_capacity_mb", wal["wal_capacity_mb"], 16)
	assertJSON(t, "wal_config.wal_segments_ahead", wal["wal_segments_ahead"], 1)
	assertJSON(t, "quantization_config", configPart(t, info, "quantization_config"), quant)
}

func TestCollectionListExistsDelete(t *testing.T) {
	s := newServer(t, rest.Options{})
	type list struct {
		Collections []struct {
			Name string `json:"name"`
		} `json:"collections"`
	}
	names := func() []string {
		var l list
		s.ok(http.MethodGet, "/collections", nil, &l)
		out := []string{}
		for _, c := range l.Collections {
			out = append(out, c.Name)
		}
		return out
	}
	exists := func(name string) bool {
		var res struct {
			Exists *bool `json:"exists"`
		}
		s.ok(http.MethodGet, "/collections/"+name+"/exists", nil, &res)
		if res.Exists == nil {
			t.Fatalf("exists %s: no exists field", name)
		}
		return *res.Exists
	}
	assertJSON(t, "empty list", names(), []string{})

	vec := map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}}
	s.createCollection("beta", vec)
	s.createCollection("alpha", vec)
	got := names()
	if len(got) != 2 || !contains(got, "alpha") || !contains(got, "beta") {
		t.Errorf("collections %v, want alpha and beta", got)
	}
	if !exists("alpha") || exists("gamma") {
		t.Errorf("exists: alpha %v gamma %v, want true false", exists("alpha"), exists("gamma"))
	}

	s.fail(http.MethodPut, "/collections/alpha", vec, http.StatusConflict, "Wrong input: Collection `alpha` already exists!")

	var deleted bool
	s.ok(http.MethodDelete, "/collections/alpha", nil, &deleted)
	if !deleted {
		t.Error("first delete: result false, want true")
	}
	s.ok(http.MethodDelete, "/collections/alpha", nil, &deleted)
	if deleted {
		t.Error("second delete: result true, want false")
	}
	if exists("alpha") {
		t.Error("alpha still exists after delete")
	}
	assertJSON(t, "list after delete", names(), []string{"beta"})

	// Dot names never exist; ServeMux must not clean them into other routes.
	for _, name := range []string{".", ".."} {
		if exists(name) {
			t.Errorf("exists(%q) true", name)
		}
		s.ok(http.MethodDelete, "/collections/"+name, nil, &deleted)
		if deleted {
			t.Errorf("delete %q: true", name)
		}
		s.fail(http.MethodGet, "/collections/"+name, nil, http.StatusNotFound, "Not found: Collection `"+name+"` doesn't exist!")
		s.fail(http.MethodGet, "/collections/"+name+"/points/1", nil, http.StatusNotFound, "Not found: Collection `"+name+"` doesn't exist!")
	}

	// A deleted name can be created again, empty.
	s.createCollection("alpha", vec)
	if n := s.count("alpha", nil); n != 0 {
		t.Errorf("recreated collection has %d points", n)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestCollectionNotFound(t *testing.T) {
	s := newServer(t, rest.Options{})
	msg := "Not found: Collection `ghost` doesn't exist!"
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/collections/ghost", nil},
		{http.MethodPatch, "/collections/ghost", map[string]any{"optimizers_config": map[string]any{"indexing_threshold": 10}}},
		{http.MethodPut, "/collections/ghost/points?wait=true", map[string]any{"points": []pointIn{{ID: 1, Vector: []float32{1}}}}},
		{http.MethodPost, "/collections/ghost/points", map[string]any{"ids": []int{1}}},
		{http.MethodGet, "/collections/ghost/points/1", nil},
		{http.MethodPost, "/collections/ghost/points/count", map[string]any{}},
		{http.MethodPost, "/collections/ghost/points/scroll", map[string]any{}},
		{http.MethodPost, "/collections/ghost/points/query", map[string]any{"query": []float32{1}}},
		{http.MethodPost, "/collections/ghost/points/search", map[string]any{"vector": []float32{1}, "limit": 1}},
		{http.MethodPost, "/collections/ghost/points/delete", map[string]any{"points": []int{1}}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			s.on(t).fail(tc.method, tc.path, tc.body, http.StatusNotFound, msg)
		})
	}
}

func TestCreateCollectionErrors(t *testing.T) {
	s := newServer(t, rest.Options{})
	vec := map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}}
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		code   int
		msg    string // exact
		prefix string // or prefix
	}{
		{name: "slash", path: "/collections/a%2Fb", body: vec, code: 422,
			msg: `Validation error in path parameters: [name: collection name cannot contain "/" char]`},
		{name: "star", path: "/collections/bad*name", body: vec, code: 422,
			msg: `Validation error in path parameters: [name: collection name cannot contain "*" char]`},
		{name: "dotdot", path: "/collections/..", body: vec, code: 422,
			prefix: "Validation error in path parameters: [name: "},
		{name: "dot", path: "/collections/.", body: vec, code: 422,
			prefix: "Validation error in path parameters: [name: "},
		{name: "escaped dotdot", path: "/collections/%2E%2E", body: vec, code: 422,
			prefix: "Validation error in path parameters: [name: "},
		{name: "size zero", path: "/collections/zero", body: map[string]any{"vectors": map[string]any{"size": 0, "distance": "Dot"}}, code: 422,
			msg: "Validation error in JSON body: [vectors.size: value 0 invalid, must be 1 or larger]"},
		{name: "named size zero", path: "/collections/zero", body: map[string]any{"vectors": map[string]any{"v": map[string]any{"size": 0, "distance": "Dot"}}}, code: 422,
			msg: "Validation error in JSON body: [vectors.v.size: value 0 invalid, must be 1 or larger]"},
		{name: "bad distance", path: "/collections/dist", body: map[string]any{"vectors": map[string]any{"size": 4, "distance": "Hamming"}}, code: 400,
			prefix: "Format error in JSON body: "},
		{name: "malformed json", path: "/collections/broken", body: `{"vectors": {"size": 4,`, code: 400,
			prefix: "Format error in JSON body: "},
		{name: "not json", path: "/collections/broken", body: `vectors`, code: 400,
			prefix: "Format error in JSON body: "},
		{name: "trailing garbage", path: "/collections/broken", body: `{"vectors": {"size": 4, "distance": "Dot"}} x`, code: 400,
			prefix: "Format error in JSON body: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prefix != "" {
				s.on(t).failPrefix(http.MethodPut, tc.path, tc.body, tc.code, tc.prefix)
			} else {
				s.on(t).fail(http.MethodPut, tc.path, tc.body, tc.code, tc.msg)
			}
		})
	}
	var l struct {
		Collections []any `json:"collections"`
	}
	s.ok(http.MethodGet, "/collections", nil, &l)
	if len(l.Collections) != 0 {
		t.Errorf("failed creates left collections behind: %v", l.Collections)
	}
}

func TestRequestTooLarge(t *testing.T) {
	s := newServer(t, rest.Options{MaxRequestSizeMB: 1})
	s.createCollection("big", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	// A 2 MB payload in an otherwise valid upsert.
	body := `{"points":[{"id":1,"vector":[1,2,3,4],"payload":{"blob":"` + strings.Repeat("x", 2<<20) + `"}}]}`
	s.failPrefix(http.MethodPut, "/collections/big/points?wait=true", body, http.StatusRequestEntityTooLarge, "Format error in JSON body: ")
	if n := s.count("big", nil); n != 0 {
		t.Errorf("count %d after a rejected oversized upsert, want 0", n)
	}
}

func TestUpdateCollection(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("upd", map[string]any{"vectors": map[string]any{
		"a": map[string]any{"size": 4, "distance": "Cosine"},
		"b": map[string]any{"size": 2, "distance": "Dot"},
	}})
	var ok bool
	s.ok(http.MethodPatch, "/collections/upd", map[string]any{
		"optimizers_config": map[string]any{"indexing_threshold": 5000, "deleted_threshold": 0.3},
		"params":            map[string]any{"replication_factor": 3},
		"hnsw_config":       map[string]any{"m": 24, "ef_construct": 123},
		"vectors":           map[string]any{"a": map[string]any{"on_disk": true}},
	}, &ok)
	if !ok {
		t.Fatal("PATCH result false")
	}
	info, _ := s.info("upd")
	assertJSON(t, "optimizer_config.indexing_threshold", configPart(t, info, "optimizer_config", "indexing_threshold"), 5000)
	assertJSON(t, "optimizer_config.deleted_threshold", configPart(t, info, "optimizer_config", "deleted_threshold"), 0.3)
	assertJSON(t, "optimizer_config.vacuum_min_vector_number (untouched)", configPart(t, info, "optimizer_config", "vacuum_min_vector_number"), 1000)
	assertJSON(t, "params.replication_factor", configPart(t, info, "params", "replication_factor"), 3)
	assertJSON(t, "hnsw_config.m", configPart(t, info, "hnsw_config", "m"), 24)
	assertJSON(t, "hnsw_config.ef_construct", configPart(t, info, "hnsw_config", "ef_construct"), 123)
	assertJSON(t, "params.vectors", configPart(t, info, "params", "vectors"), map[string]any{
		"a": map[string]any{"size": 4, "distance": "Cosine", "on_disk": true},
		"b": map[string]any{"size": 2, "distance": "Dot"},
	})

	// An unnamed vector is patched under the empty name.
	s.createCollection("upd1", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	s.ok(http.MethodPatch, "/collections/upd1", map[string]any{"vectors": map[string]any{"": map[string]any{"on_disk": true}}}, nil)
	info, _ = s.info("upd1")
	assertJSON(t, "unnamed vector after PATCH", configPart(t, info, "params", "vectors"), map[string]any{"size": 4, "distance": "Dot", "on_disk": true})

	s.fail(http.MethodPatch, "/collections/upd", map[string]any{"vectors": map[string]any{"zzz": map[string]any{"on_disk": true}}},
		http.StatusBadRequest, "Wrong input: Not existing vector name error: zzz")
	s.fail(http.MethodPatch, "/collections/upd", map[string]any{"params": map[string]any{"replication_factor": 0}},
		http.StatusUnprocessableEntity, "Validation error in JSON body: [params.replication_factor: value 0 invalid, must be 1 or larger]")
	s.failPrefix(http.MethodPatch, "/collections/upd", `{"params": `, http.StatusBadRequest, "Format error in JSON body: ")
}

func TestCollectionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := openServer(t, dir, rest.Options{})
	s.createCollection("durable", map[string]any{
		"vectors":     map[string]any{"v": map[string]any{"size": 3, "distance": "Euclid"}},
		"hnsw_config": map[string]any{"m": 20},
	})
	s.ok(http.MethodPatch, "/collections/durable", map[string]any{"optimizers_config": map[string]any{"indexing_threshold": 777}}, nil)
	s.write(http.MethodPut, "/collections/durable/points", map[string]any{"points": []pointIn{
		{ID: 1, Vector: map[string]any{"v": []float32{1, 2, 3}}, Payload: map[string]any{"k": "one"}},
		{ID: "550e8400-e29b-41d4-a716-446655440000", Vector: map[string]any{"v": []float32{4, 5, 6}}},
	}})
	// An unacknowledged write must be durable too once the node closes.
	var res updateResult
	s.ok(http.MethodPut, "/collections/durable/points?wait=false", map[string]any{"points": []pointIn{
		{ID: 2, Vector: map[string]any{"v": []float32{7, 8, 9}}},
	}}, &res)
	before, _ := s.info("durable")
	s.stop()

	s = openServer(t, dir, rest.Options{})
	after, _ := s.info("durable")
	assertJSON(t, "config after restart", after.Config, before.Config)
	if n := s.count("durable", nil); n != 3 {
		t.Errorf("count after restart %d, want 3", n)
	}
	var p record
	s.ok(http.MethodGet, "/collections/durable/points/1", nil, &p)
	assertJSON(t, "payload after restart", p.Payload, map[string]any{"k": "one"})
	assertJSON(t, "vector after restart", p.Vector, map[string]any{"v": []float32{1, 2, 3}})
}
