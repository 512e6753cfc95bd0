//go:build linux

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// keyedCall sends one request with the given headers and returns the status
// and the error text of Qdrant's envelope ("" when there is none).
func keyedCall(t *testing.T, s *server, method, path string, headers map[string]string, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.baseURL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Status struct{ Error string } `json:"status"`
	}
	_ = json.Unmarshal(data, &env) // a success or an empty HEAD answer has no error text
	return resp.StatusCode, env.Status.Error
}

// TestAPIKeysFromEnvironment runs the binary with the three keys of Qdrant
// set as environment variables and checks what each may do.
func TestAPIKeysFromEnvironment(t *testing.T) {
	s := newServer(t)
	s.env["QDRANT__SERVICE__API_KEY"] = "main-key"
	s.env["QDRANT__SERVICE__ALT_API_KEY"] = "next-key"
	s.env["QDRANT__SERVICE__READ_ONLY_API_KEY"] = "reader-key"
	s.start()

	alt := map[string]string{"api-key": "next-key"}
	ro := map[string]string{"api-key": "reader-key"}
	steps := []struct {
		name     string
		method   string
		path     string
		headers  map[string]string
		body     string
		wantCode int
		wantMsg  string
	}{
		{"alt_api_key creates", "PUT", "/collections/k", alt, `{"vectors":{"size":2,"distance":"Dot"}}`, 200, ""},
		{"alt_api_key as a lower-case bearer token writes", "PUT", "/collections/k/points?wait=true",
			map[string]string{"Authorization": "bearer next-key"}, `{"points":[{"id":1,"vector":[1,0],"payload":{"color":"red"}}]}`, 200, ""},
		{"api_key reads", "GET", "/collections/k", map[string]string{"api-key": "main-key"}, "", 200, ""},
		{"read-only key facets", "POST", "/collections/k/facet", ro, `{"key":"color"}`, 0, ""},
		{"read-only key HEAD", "HEAD", "/collections/k", ro, "", 200, ""},
		{"read-only key counts", "POST", "/collections/k/points/count", ro, `{}`, 200, ""},
		{"read-only key writes", "PUT", "/collections/k/points?wait=true", ro,
			`{"points":[{"id":2,"vector":[0,1]}]}`, 403, "Forbidden: Global manage access is required"},
		{"wrong key", "GET", "/collections", map[string]string{"api-key": "old-key"}, "", 401, "Invalid API key or JWT"},
		{"no key", "GET", "/collections", nil, "", 401, "Must provide an API key or an Authorization bearer token"},
		{"health stays open", "GET", "/readyz", nil, "", 200, ""},
	}
	for _, st := range steps {
		code, msg := keyedCall(t, s, st.method, st.path, st.headers, st.body)
		switch {
		case st.wantCode == 0:
			if code == http.StatusUnauthorized || code == http.StatusForbidden || code >= 500 {
				t.Errorf("%s: %s %s: %d %q, want it served", st.name, st.method, st.path, code, msg)
			}
		case code != st.wantCode || msg != st.wantMsg:
			t.Errorf("%s: %s %s: %d %q, want %d %q", st.name, st.method, st.path, code, msg, st.wantCode, st.wantMsg)
		}
	}
	if len(s.logLines("alt_api_key")) == 0 {
		t.Errorf("the start-up log does not say which keys guard the API:\n%s", s.lastStartLog())
	}
}
