package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// TestMemoryPlacement is Qdrant 1.19's test_memory_placement: memory set on
// vectors, HNSW, quantization, a sparse index, the payload storage and a
// payload index is echoed as given; a collection made without it shows
// none (no payload either); pinned is refused for dense vectors and the
// payload storage, on create and on update; the placements of vectors and
// payload storage can change.
func TestMemoryPlacement(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("m", map[string]any{
		"vectors": map[string]any{
			"size": 4, "distance": "Dot", "memory": "cached",
			"hnsw_config":         map[string]any{"memory": "cold"},
			"quantization_config": map[string]any{"scalar": map[string]any{"type": "int8", "memory": "pinned"}},
		},
		"hnsw_config":    map[string]any{"memory": "pinned"},
		"sparse_vectors": map[string]any{"sparse": map[string]any{"index": map[string]any{"memory": "cold"}}},
		"payload":        map[string]any{"memory": "cached"},
	})
	info, _ := s.info("m")
	params := configPart(t, info, "params").(map[string]any)
	vectors := params["vectors"].(map[string]any)
	for _, c := range []struct {
		what string
		got  any
		want string
	}{
		{"vectors.memory", vectors["memory"], "cached"},
		{"vectors.hnsw_config.memory", vectors["hnsw_config"].(map[string]any)["memory"], "cold"},
		{"vectors.quantization_config.scalar.memory", vectors["quantization_config"].(map[string]any)["scalar"].(map[string]any)["memory"], "pinned"},
		{"sparse_vectors.sparse.index.memory", params["sparse_vectors"].(map[string]any)["sparse"].(map[string]any)["index"].(map[string]any)["memory"], "cold"},
		{"payload.memory", params["payload"].(map[string]any)["memory"], "cached"},
		{"hnsw_config.memory", configPart(t, info, "hnsw_config", "memory"), "pinned"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %s", c.what, c.got, c.want)
		}
	}
	s.write(http.MethodPut, collPath("m", "/index"), map[string]any{"field_name": "keyword_field", "field_schema": map[string]any{"type": "keyword", "memory": "cold"}})
	var ixParams map[string]any
	decode(t, s.payloadSchema("m")["keyword_field"].Params, &ixParams)
	if got := ixParams["memory"]; got != "cold" {
		t.Errorf("payload index memory %v", got)
	}

	// Without memory: nothing new in the answer.
	s.createCollection("plain", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot", "on_disk": true}})
	_, all := s.info("plain")
	params = all["config"].(map[string]any)["params"].(map[string]any)
	if _, ok := params["payload"]; ok {
		t.Errorf("payload in %v", params)
	}
	if _, ok := params["vectors"].(map[string]any)["memory"]; ok {
		t.Errorf("memory in %v", params["vectors"])
	}
	if _, ok := all["config"].(map[string]any)["hnsw_config"].(map[string]any)["memory"]; ok {
		t.Errorf("memory in hnsw_config")
	}

	// pinned: refused where Qdrant refuses it.
	for _, c := range []struct {
		name, method, path string
		body               any
		msg                string
	}{
		{"dense vectors", "PUT", "/collections/p", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot", "memory": "pinned"}},
			"vectors.memory: `pinned` memory placement is not supported for dense vector storage"},
		{"named dense vectors", "PUT", "/collections/p", map[string]any{"vectors": map[string]any{"a": map[string]any{"size": 4, "distance": "Dot", "memory": "pinned"}}},
			"vectors.a.memory: `pinned` memory placement is not supported for dense vector storage"},
		{"payload storage", "PUT", "/collections/p", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}, "payload": map[string]any{"memory": "pinned"}},
			"payload.memory: `pinned` memory placement is not supported for payload storage"},
		{"update of dense vectors", "PATCH", "/collections/plain", map[string]any{"vectors": map[string]any{"": map[string]any{"memory": "pinned"}}},
			"vectors..memory: `pinned` memory placement is not supported for dense vector storage"},
		{"update of the payload storage", "PATCH", "/collections/plain", map[string]any{"params": map[string]any{"payload": map[string]any{"memory": "pinned"}}},
			"params.payload.memory: `pinned` memory placement is not supported for payload storage"},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := s.on(t).failPrefix(c.method, c.path, c.body, http.StatusUnprocessableEntity, "Validation error in JSON body: [")
			if !strings.Contains(msg, c.msg) {
				t.Errorf("error %q does not say %q", msg, c.msg)
			}
		})
	}
	s.fail(http.MethodPut, "/collections/p", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot", "memory": "hot"}},
		http.StatusBadRequest, "Format error in JSON body: vectors: unknown variant `hot`, expected one of `cold`, `cached`, `pinned`")

	// The placements of vectors and payload storage change.
	s.ok(http.MethodPatch, "/collections/plain", map[string]any{
		"vectors": map[string]any{"": map[string]any{"memory": "cold"}},
		"params":  map[string]any{"payload": map[string]any{"memory": "cached"}},
	}, nil)
	info, _ = s.info("plain")
	if got := configPart(t, info, "params", "vectors", "memory"); got != "cold" {
		t.Errorf("vectors.memory after the update: %v", got)
	}
	if got := configPart(t, info, "params", "payload", "memory"); got != "cached" {
		t.Errorf("payload.memory after the update: %v", got)
	}
	s.ok(http.MethodPatch, "/collections/plain", map[string]any{"hnsw_config": map[string]any{"memory": "cold"}}, nil)
	info, _ = s.info("plain")
	if got := configPart(t, info, "hnsw_config", "memory"); got != "cold" {
		t.Errorf("hnsw_config.memory after the update: %v", got)
	}
}
