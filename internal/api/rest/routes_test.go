package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// TestUnknownRoutes: a path no route serves, and a known path with a method
// it does not serve, answer 404 (as Qdrant's actix router does for both) in
// the JSON error envelope, not net/http's plain-text 404 or 405.
func TestUnknownRoutes(t *testing.T) {
	s := newServer(t, rest.Options{}).unchecked()
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/nope"},
		{http.MethodPost, "/nope/deeper?x=1"},
		{http.MethodGet, "/collections/c/nothing"},
		{http.MethodPatch, "/telemetry"},
		{http.MethodDelete, "/collections"},
		{http.MethodPost, "/collections/c"},
		{http.MethodPut, "/metrics"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			s := s.on(t)
			s.client = &http.Client{}
			r := s.do(tc.method, tc.path, nil)
			if r.code != http.StatusNotFound {
				t.Fatalf("status %d, want 404: %s", r.code, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q, want JSON", ct)
			}
			path, _, _ := strings.Cut(tc.path, "?")
			if got, want := s.errorText(tc.method, tc.path, r), "Not found: no route for "+tc.method+" "+path; got != want {
				t.Errorf("error %q, want %q", got, want)
			}
		})
	}
}

// TestStandaloneClusterRoutes: without cluster mode the cluster operations
// answer Qdrant's 405 "standalone mode" (tests/openapi/test_cluster.py),
// and GET /cluster says the cluster is disabled.
func TestStandaloneClusterRoutes(t *testing.T) {
	s := newServer(t, rest.Options{})
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/cluster/recover", nil},
		{http.MethodDelete, "/cluster/peer/1", nil},
		{http.MethodDelete, "/cluster/peer/1?force=true", nil},
	} {
		s.fail(tc.method, tc.path, tc.body, http.StatusMethodNotAllowed, "Qdrant is running in standalone mode")
	}
	// The metadata routes are not in Qdrant's document.
	u := s.unchecked()
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/cluster/metadata/keys", nil},
		{http.MethodGet, "/cluster/metadata/keys/k", nil},
		{http.MethodPut, "/cluster/metadata/keys/k", map[string]any{"a": 1}},
		{http.MethodDelete, "/cluster/metadata/keys/k", nil},
	} {
		u.fail(tc.method, tc.path, tc.body, http.StatusMethodNotAllowed, "Qdrant is running in standalone mode")
	}
	res := s.ok(http.MethodGet, "/cluster", nil, nil)
	assertJSON(t, "GET /cluster", res, map[string]any{"status": "disabled"})
}
