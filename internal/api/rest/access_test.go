package rest

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/node"
)

// qdrantAccess is the access of each REST route in Qdrant 1.19, written
// down from its own access test (tests/consensus_tests/auth_tests/
// test_jwt_access.py: what the read-only key may call) independently of
// routeTable, so that a route added or reclassified there without thought
// fails TestRouteTableAccess.
var qdrantAccess = map[string]access{
	"GET /{$}":     accessOpen,
	"GET /healthz": accessOpen,
	"GET /livez":   accessOpen,
	"GET /readyz":  accessOpen,

	"GET /telemetry":                           accessRead,
	"GET /metrics":                             accessRead,
	"GET /issues":                              accessRead,
	"DELETE /issues":                           accessWrite,
	"GET /quotas":                              accessRead,
	"PUT /quotas":                              accessWrite,
	"GET /cluster":                             accessRead,
	"DELETE /cluster/peer/{peer_id}":           accessWrite,
	"POST /cluster/recover":                    accessWrite,
	"GET /cluster/metadata/keys":               accessRead,
	"GET /cluster/metadata/keys/{key}":         accessRead,
	"PUT /cluster/metadata/keys/{key}":         accessWrite,
	"DELETE /cluster/metadata/keys/{key}":      accessWrite,
	"POST /snapshots":                          accessWrite,
	"GET /snapshots":                           accessRead,
	"GET /snapshots/{snapshot}":                accessRead,
	"DELETE /snapshots/{snapshot}":             accessWrite,
	"GET /collections":                         accessRead,
	"POST /collections/aliases":                accessWrite,
	"GET /aliases":                             accessRead,
	"GET /collections/{name}/aliases":          accessRead,
	"GET /collections/{name}":                  accessRead,
	"PUT /collections/{name}":                  accessWrite,
	"PATCH /collections/{name}":                accessWrite,
	"DELETE /collections/{name}":               accessWrite,
	"GET /collections/{name}/exists":           accessRead,
	"GET /collections/{name}/optimizations":    accessRead,
	"PUT /collections/{name}/index":            accessWrite,
	"DELETE /collections/{name}/index/{field}": accessWrite,
	"POST /collections/{name}/facet":           accessRead,
	"GET /collections/{name}/cluster":          accessRead,
	"POST /collections/{name}/cluster":         accessWrite,
	"GET /collections/{name}/shards":           accessRead,
	"PUT /collections/{name}/shards":           accessWrite,
	"POST /collections/{name}/shards/delete":   accessWrite,

	"POST /collections/{name}/snapshots":              accessWrite,
	"GET /collections/{name}/snapshots":               accessRead,
	"PUT /collections/{name}/snapshots/recover":       accessWrite,
	"POST /collections/{name}/snapshots/upload":       accessWrite,
	"GET /collections/{name}/snapshots/{snapshot}":    accessRead,
	"DELETE /collections/{name}/snapshots/{snapshot}": accessWrite,

	"POST /collections/{name}/shards/{shard}/snapshots":              accessWrite,
	"GET /collections/{name}/shards/{shard}/snapshots":               accessRead,
	"PUT /collections/{name}/shards/{shard}/snapshots/recover":       accessWrite,
	"POST /collections/{name}/shards/{shard}/snapshots/upload":       accessWrite,
	"GET /collections/{name}/shards/{shard}/snapshots/{snapshot}":    accessRead,
	"DELETE /collections/{name}/shards/{shard}/snapshots/{snapshot}": accessWrite,
	"GET /collections/{name}/shards/{shard}/snapshot":                accessRead,

	"PUT /collections/{name}/vectors/{vector}":    accessWrite,
	"DELETE /collections/{name}/vectors/{vector}": accessWrite,

	"PUT /collections/{name}/points":                 accessWrite,
	"POST /collections/{name}/points":                accessRead,
	"GET /collections/{name}/points/{id}":            accessRead,
	"POST /collections/{name}/points/delete":         accessWrite,
	"PUT /collections/{name}/points/vectors":         accessWrite,
	"POST /collections/{name}/points/vectors/delete": accessWrite,
	"POST /collections/{name}/points/payload":        accessWrite,
	"PUT /collections/{name}/points/payload":         accessWrite,
	"POST /collections/{name}/points/payload/delete": accessWrite,
	"POST /collections/{name}/points/payload/clear":  accessWrite,
	"POST /collections/{name}/points/batch":          accessWrite,
	"POST /collections/{name}/points/count":          accessRead,
	"POST /collections/{name}/points/scroll":         accessRead,
	"POST /collections/{name}/points/query":          accessRead,
	"POST /collections/{name}/points/query/batch":    accessRead,
	"POST /collections/{name}/points/search":         accessRead,
	"POST /collections/{name}/points/search/batch":   accessRead,
}

// testServer is a Server on a fresh node with every kind of key.
func testServer(t *testing.T) *Server {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.Open(node.Options{StoragePath: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	return New(n, Options{APIKey: "full", AltAPIKey: "alt", ReadOnlyAPIKey: "ro", Logger: quiet})
}

// concrete fills a pattern's wildcards: "POST /collections/{name}/facet" ->
// "POST", "/collections/c/facet".
func concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	r := strings.NewReplacer("{$}", "", "{name}", "c", "{id}", "1", "{peer_id}", "7", "{key}", "k", "{field}", "f", "{vector}", "v")
	return method, r.Replace(path)
}

// call serves one request in process and returns the status and the error
// text of the envelope.
func call(s *Server, method, path string, headers map[string]string) (int, string) {
	var body io.Reader
	if method != http.MethodGet && method != http.MethodHead && method != http.MethodDelete {
		body = strings.NewReader("{}")
	}
	req := httptest.NewRequest(method, path, body)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var env struct {
		Status struct{ Error string } `json:"status"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &env)
	return rec.Code, env.Status.Error
}

// TestRouteTableAccess holds the route table to Qdrant's classification and
// walks every registered route with every kind of key.
func TestRouteTableAccess(t *testing.T) {
	s := testServer(t)
	table := s.routeTable()
	var registered []string
	for _, rt := range table {
		registered = append(registered, rt.pattern)
		want, ok := qdrantAccess[rt.pattern]
		if !ok {
			t.Errorf("route %q has no expected access in qdrantAccess: classify it there", rt.pattern)
			continue
		}
		if rt.access != want {
			t.Errorf("route %q is %v in routeTable, Qdrant has it %v", rt.pattern, rt.access, want)
		}
	}
	for pattern := range qdrantAccess {
		if !slices.Contains(registered, pattern) {
			t.Errorf("route %q is expected but not registered", pattern)
		}
	}

	// Refused callers first, on every route, while "c" does not exist:
	// none of them may create it.
	for _, rt := range table {
		method, path := concrete(rt.pattern)
		methods := []string{method}
		if method == http.MethodGet {
			methods = append(methods, http.MethodHead) // ServeMux serves HEAD with GET
		}
		for _, m := range methods {
			for _, tc := range []struct {
				who     string
				headers map[string]string
				code    int
				msg     string
			}{
				{"no key", nil, http.StatusUnauthorized, msgNoKey},
				{"wrong key", map[string]string{"api-key": "wrong"}, http.StatusUnauthorized, msgInvalidKey},
				{"read-only key", map[string]string{"api-key": "ro"}, http.StatusForbidden, msgReadOnly},
			} {
				code, msg := call(s, m, path, tc.headers)
				refused := rt.access == accessWrite || (rt.access == accessRead && tc.code == http.StatusUnauthorized)
				switch {
				case rt.access == accessOpen || !refused:
					if code == http.StatusUnauthorized || code == http.StatusForbidden {
						t.Errorf("%s %s (%v), %s: %d %q, want it served", m, path, rt.access, tc.who, code, msg)
					}
				case m == http.MethodHead:
					if code != tc.code {
						t.Errorf("%s %s (%v), %s: %d, want %d", m, path, rt.access, tc.who, code, tc.code)
					}
				case code != tc.code || msg != tc.msg:
					t.Errorf("%s %s (%v), %s: %d %q, want %d %q", m, path, rt.access, tc.who, code, msg, tc.code, tc.msg)
				}
			}
		}
	}
	if names := s.node.Collections(); len(names) != 0 {
		t.Errorf("refused requests created collections %q", names)
	}

	// Full-access keys pass everywhere.
	for _, rt := range table {
		method, path := concrete(rt.pattern)
		for _, key := range []string{"full", "alt"} {
			if code, msg := call(s, method, path, map[string]string{"Authorization": "Bearer " + key}); code == http.StatusUnauthorized || code == http.StatusForbidden {
				t.Errorf("%s %s with key %q: %d %q, want it served", method, path, key, code, msg)
			}
		}
	}
}

// TestAccessOfDotCollections checks that "." and "..", which dotCollection
// serves outside ServeMux, get the access of the route they stand for.
func TestAccessOfDotCollections(t *testing.T) {
	s := testServer(t)
	for _, tc := range []struct {
		method, path string
		want         access
	}{
		{"PUT", "/collections/.", accessWrite},
		{"DELETE", "/collections/..", accessWrite},
		{"GET", "/collections/..", accessRead},
		{"GET", "/collections/./exists", accessRead},
		{"POST", "/collections/./points/search", accessRead},
		{"POST", "/collections/../points/delete", accessWrite},
		{"PUT", "/collections/../points", accessWrite},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		if got := s.accessOf(req); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestPresentedKey covers where a key is read from.
func TestPresentedKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		key     string
		ok      bool
	}{
		{"none", nil, "", false},
		{"api-key", map[string]string{"api-key": "k"}, "k", true},
		{"empty api-key is a key that matches nothing", map[string]string{"api-key": ""}, "", true},
		{"bearer", map[string]string{"Authorization": "Bearer k"}, "k", true},
		{"bearer in lower case", map[string]string{"Authorization": "bearer k"}, "k", true},
		{"bearer in mixed case", map[string]string{"Authorization": "bEaReR k"}, "k", true},
		{"bearer without a token", map[string]string{"Authorization": "Bearer "}, "", true},
		{"bearer without a space", map[string]string{"Authorization": "Bearerk"}, "", false},
		{"basic", map[string]string{"Authorization": "Basic k"}, "", false},
		{"api-key wins", map[string]string{"api-key": "a", "Authorization": "Bearer b"}, "a", true},
	} {
		h := http.Header{}
		for k, v := range tc.headers {
			h.Set(k, v)
		}
		key, ok := presentedKey(h)
		if key != tc.key || ok != tc.ok {
			t.Errorf("%s: (%q, %v), want (%q, %v)", tc.name, key, ok, tc.key, tc.ok)
		}
	}
}

// TestGrantOf covers which key grants what, with an empty key disabled.
func TestGrantOf(t *testing.T) {
	k := newKeys("full", "", "ro")
	for _, tc := range []struct {
		key  string
		want grant
	}{
		{"full", grantFull},
		{"ro", grantRead},
		{"", grantInvalid},
		{"ful", grantInvalid},
		{"fullx", grantInvalid},
		{"RO", grantInvalid},
	} {
		h := http.Header{"Api-Key": {tc.key}}
		if got := k.grantOf(h); got != tc.want {
			t.Errorf("key %q: %v, want %v", tc.key, got, tc.want)
		}
	}
	if newKeys("", "", "").enabled() {
		t.Error("no keys, but enabled")
	}
	if g := newKeys("", "alt", "").grantOf(http.Header{"Api-Key": {"alt"}}); g != grantFull {
		t.Errorf("alt_api_key alone: %v, want full", g)
	}
}
