//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestStrictModeEnforced runs the binary with a collection created in
// strict mode: the query of issue 12 (max_query_limit 1, limit 3) is
// refused with Qdrant's 403, a write past write_rate_limit answers 429
// with a Retry-After, the configuration survives a restart (the rate
// limits start full again, as Qdrant's do), and a PATCH turning strict
// mode off applies at once.
func TestStrictModeEnforced(t *testing.T) {
	s := newServer(t)
	s.start()
	s.must("PUT", "/collections/c", map[string]any{
		"vectors":            map[string]any{"size": 4, "distance": "Dot"},
		"strict_mode_config": map[string]any{"enabled": true, "max_query_limit": 1, "write_rate_limit": 1},
	}, nil)
	upsert := func(id int) (int, string, http.Header) {
		body := `{"points":[{"id":` + strconv.Itoa(id) + `,"vector":[1,2,3,4]}]}`
		return raw(t, s, "PUT", "/collections/c/points?wait=true", body)
	}
	if code, body, _ := upsert(1); code != 200 {
		t.Fatalf("first write: %d %s", code, body)
	}
	code, body, h := upsert(2)
	if code != 429 || !strings.HasPrefix(errorOf(body), "Rate limiting exceeded: Write rate limit exceeded: Operation requires 1 tokens but only ") {
		t.Fatalf("second write within the minute: %d %s", code, body)
	}
	if secs, err := strconv.Atoi(h.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q", h.Get("Retry-After"))
	}

	query := `{"query":[1,2,3,4],"limit":3}`
	const refusal = `Forbidden: Limit exceeded 3 > 1 for "limit". Help: Reduce the "limit" parameter to or below 1.`
	if code, body, _ := raw(t, s, "POST", "/collections/c/points/query", query); code != 403 || errorOf(body) != refusal {
		t.Fatalf("query over max_query_limit: %d %s", code, body)
	}
	if code, body, _ := raw(t, s, "POST", "/collections/c/points/query", `{"query":[1,2,3,4],"limit":1}`); code != 200 {
		t.Fatalf("query at max_query_limit: %d %s", code, body)
	}

	s.stop()
	s.start()
	if code, body, _ := raw(t, s, "POST", "/collections/c/points/query", query); code != 403 || errorOf(body) != refusal {
		t.Fatalf("after a restart, query over max_query_limit: %d %s", code, body)
	}
	if code, body, _ := upsert(2); code != 200 {
		t.Fatalf("after a restart, the first write: %d %s", code, body)
	}

	s.must("PATCH", "/collections/c", map[string]any{"strict_mode_config": map[string]any{"enabled": false}}, nil)
	var res struct {
		Points []json.RawMessage `json:"points"`
	}
	s.must("POST", "/collections/c/points/query", map[string]any{"query": []float32{1, 2, 3, 4}, "limit": 3}, &res)
	if len(res.Points) != 2 {
		t.Fatalf("strict mode off: %d points, want 2", len(res.Points))
	}
	if code, body, _ := upsert(3); code != 200 {
		t.Fatalf("strict mode off, a write: %d %s", code, body)
	}
}

// errorOf is the error text of Qdrant's error envelope, "" for none.
func errorOf(body string) string {
	var env struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	if json.Unmarshal([]byte(body), &env) != nil {
		return ""
	}
	return env.Status.Error
}

// raw sends a request and returns the status, body and headers as they
// are.
func raw(t *testing.T, s *server, method, path, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, s.baseURL()+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data), resp.Header
}
