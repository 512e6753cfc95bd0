package rest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
)

const (
	fullKey     = "full-secret"
	readOnlyKey = "read-secret"
)

// keyed sends a request with the given headers through c and returns the
// status and the error text of the envelope ("" when there is none).
func keyed(t *testing.T, c *http.Client, method, url string, headers map[string]string, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Status struct{ Error string } `json:"status"`
	}
	_ = json.Unmarshal(data, &env) // "ok" as status, or no body (HEAD): no error text
	return resp.StatusCode, env.Status.Error
}

// authServer is a server with a full and a read-only key, holding
// collection "c" with one point.
func authServer(t *testing.T) *server {
	t.Helper()
	s := newServer(t, rest.Options{APIKey: fullKey, ReadOnlyAPIKey: readOnlyKey})
	full := map[string]string{"api-key": fullKey}
	if code, msg := keyed(t, s.client, http.MethodPut, s.base+"/collections/c", full, `{"vectors":{"size":2,"distance":"Dot"}}`); code != http.StatusOK {
		t.Fatalf("create: %d %s", code, msg)
	}
	if code, msg := keyed(t, s.client, http.MethodPut, s.base+"/collections/c/points?wait=true", full,
		`{"points":[{"id":1,"vector":[1,0],"payload":{"k":"a"}}]}`); code != http.StatusOK {
		t.Fatalf("upsert: %d %s", code, msg)
	}
	return s
}

// pointCount counts the points of "c" with the full key.
func pointCount(t *testing.T, s *server) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+"/collections/c/points/count", strings.NewReader(`{"exact":true}`))
	req.Header.Set("api-key", fullKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct{ Result struct{ Count int } }
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	return env.Result.Count
}

// TestAuthDecisions covers the access decision for each kind of key, with
// Qdrant's status codes and texts.
func TestAuthDecisions(t *testing.T) {
	s := authServer(t)
	ro := map[string]string{"api-key": readOnlyKey}
	tests := []struct {
		name     string
		method   string
		path     string
		headers  map[string]string
		body     string
		wantCode int    // exact status; 0 means any status but 401 and 403
		wantMsg  string // exact error text, when wantCode is set
		offSpec  bool   // a path the Qdrant spec lacks: skip the contract check
	}{
		{name: "no key", method: "GET", path: "/collections",
			wantCode: 401, wantMsg: "Must provide an API key or an Authorization bearer token"},
		{name: "wrong key", method: "GET", path: "/collections", headers: map[string]string{"api-key": "nope"},
			wantCode: 401, wantMsg: "Invalid API key or JWT"},
		{name: "wrong bearer token", method: "GET", path: "/collections", headers: map[string]string{"Authorization": "Bearer nope"},
			wantCode: 401, wantMsg: "Invalid API key or JWT"},
		{name: "other authorization scheme is no key", method: "GET", path: "/collections", headers: map[string]string{"Authorization": "Basic " + fullKey},
			wantCode: 401, wantMsg: "Must provide an API key or an Authorization bearer token"},
		{name: "api-key header wins over a bearer token, as in Qdrant", method: "GET", path: "/collections",
			headers:  map[string]string{"api-key": "nope", "Authorization": "Bearer " + fullKey},
			wantCode: 401, wantMsg: "Invalid API key or JWT"},
		{name: "full key", method: "GET", path: "/collections", headers: map[string]string{"api-key": fullKey}},
		{name: "bearer token", method: "GET", path: "/collections", headers: map[string]string{"Authorization": "Bearer " + fullKey}},
		{name: "lower-case bearer scheme", method: "PUT", path: "/collections/c/points?wait=true",
			headers: map[string]string{"Authorization": "bearer " + fullKey}, body: `{"points":[{"id":1,"vector":[1,0],"payload":{"k":"a"}}]}`},
		{name: "upper-case bearer scheme, read-only key", method: "GET", path: "/collections/c", headers: map[string]string{"Authorization": "BEARER " + readOnlyKey}},
		{name: "read-only key reads", method: "GET", path: "/collections/c", headers: ro},
		{name: "read-only key counts", method: "POST", path: "/collections/c/points/count", headers: ro, body: `{}`},
		{name: "read-only key facets", method: "POST", path: "/collections/c/facet", headers: ro, body: `{"key":"k"}`},
		{name: "read-only key HEAD", method: "HEAD", path: "/collections", headers: ro},
		{name: "read-only key HEAD on a point", method: "HEAD", path: "/collections/c/points/1", headers: ro},
		{name: "read-only key on metrics", method: "GET", path: "/metrics", headers: ro},
		{name: "read-only key upserts", method: "PUT", path: "/collections/c/points?wait=true", headers: ro,
			body: `{"points":[{"id":2,"vector":[1,0]}]}`, wantCode: 403, wantMsg: "Forbidden: Global manage access is required"},
		{name: "read-only key deletes points", method: "POST", path: "/collections/c/points/delete?wait=true", headers: ro,
			body: `{"points":[1]}`, wantCode: 403, wantMsg: "Forbidden: Global manage access is required"},
		{name: "read-only key deletes the collection", method: "DELETE", path: "/collections/c", headers: ro,
			wantCode: 403, wantMsg: "Forbidden: Global manage access is required"},
		{name: "read-only key creates an index", method: "PUT", path: "/collections/c/index", headers: ro,
			body: `{"field_name":"k","field_schema":"keyword"}`, wantCode: 403, wantMsg: "Forbidden: Global manage access is required"},
		{name: "read-only key creates a dot collection", method: "PUT", path: "/collections/..", headers: ro,
			body: `{"vectors":{"size":2,"distance":"Dot"}}`, wantCode: 403, wantMsg: "Forbidden: Global manage access is required"},
		{name: "unknown route needs a key", method: "GET", path: "/no/such/route", wantCode: 401,
			wantMsg: "Must provide an API key or an Authorization bearer token", offSpec: true},
		{name: "unknown route with the read-only key is not found", method: "GET", path: "/no/such/route", headers: ro,
			wantCode: 404, wantMsg: "Not found: no route for GET /no/such/route", offSpec: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.client
			if tt.offSpec {
				c = http.DefaultClient
			}
			code, msg := keyed(t, c, tt.method, s.base+tt.path, tt.headers, tt.body)
			if tt.wantCode == 0 {
				if code == http.StatusUnauthorized || code == http.StatusForbidden || code >= 500 {
					t.Fatalf("%s %s: %d %q, want it served", tt.method, tt.path, code, msg)
				}
				return
			}
			if code != tt.wantCode || msg != tt.wantMsg {
				t.Fatalf("%s %s: %d %q, want %d %q", tt.method, tt.path, code, msg, tt.wantCode, tt.wantMsg)
			}
		})
	}
	if n := pointCount(t, s); n != 1 {
		t.Errorf("%d points after the refused writes, want 1", n)
	}
}

// TestAuthOpenRoutes checks what stays reachable without a key.
func TestAuthOpenRoutes(t *testing.T) {
	s := newServer(t, rest.Options{APIKey: fullKey, EnableCORS: true})
	for _, p := range []string{"/", "/healthz", "/livez", "/readyz"} {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			if code, msg := keyed(t, s.client, m, s.base+p, nil, ""); code != http.StatusOK {
				t.Errorf("%s %s without a key: %d %q, want 200", m, p, code, msg)
			}
		}
	}
	// CORS preflights carry no credentials and are answered before the key
	// check.
	req, _ := http.NewRequest(http.MethodOptions, s.base+"/collections/c/points", nil)
	req.Header.Set("Origin", "https://example.com")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: %d %v, want 204 with CORS headers", resp.StatusCode, resp.Header)
	}
}

// TestAuthPathTricks sends writes whose decoded path ends like a read, with
// escaped slashes and dot segments: the decision follows the route ServeMux
// matches, so the read-only key never writes.
func TestAuthPathTricks(t *testing.T) {
	s := authServer(t)
	plain := &http.Client{
		Timeout: 30 * time.Second,
		// A redirect is an answer in itself: a client that follows it
		// sends a new request, judged on its own.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ro := map[string]string{"api-key": readOnlyKey}
	del := `{"points":[1]}`
	for _, tc := range []struct {
		method, path string
	}{
		{"POST", "/collections/c/points/delete%2F..%2Fpoints%2Fsearch?wait=true"},
		{"POST", "/collections/c/points/delete%2F..%2F..%2Fpoints%2Fsearch?wait=true"},
		{"POST", "/collections/c/points/delete/../../points/search?wait=true"},
		{"POST", "/collections/c/points/search/../delete?wait=true"},
		{"POST", "/collections/c/points/search/..%2Fdelete?wait=true"},
		{"POST", "/collections/c%2Fpoints%2Fsearch/points/delete?wait=true"},
		{"POST", "//collections/c/points/delete?wait=true"},
		{"POST", "/collections/c/points/delete/?wait=true"},
		{"POST", "/collections/./points/delete?wait=true"},
		{"DELETE", "/collections/c%2Fpoints%2Fsearch"},
		{"DELETE", "/collections/c/points/search/../../../c"},
	} {
		code, msg := keyed(t, plain, tc.method, s.base+tc.path, ro, del)
		if code/100 == 2 {
			t.Errorf("read-only key, %s %s: %d %q, want it refused or not found", tc.method, tc.path, code, msg)
		}
	}
	if n := pointCount(t, s); n != 1 {
		t.Errorf("%d points after the tricks, want 1", n)
	}
	if code, msg := keyed(t, plain, "GET", s.base+"/collections/c", ro, ""); code != http.StatusOK {
		t.Errorf("collection c after the tricks: %d %q", code, msg)
	}
}
