//go:build linux

package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestShapesE2E: the shoal binary, configured as Qdrant's own issue tests
// configure Qdrant (QDRANT__SERVICE__SLOW_QUERY_SECS), reports a filter on
// an unindexed field as an issue; an unknown route answers 404 in the JSON
// envelope; GET / carries a commit member (null: tests build with
// -buildvcs=false).
func TestShapesE2E(t *testing.T) {
	s := newServer(t)
	s.env["QDRANT__SERVICE__SLOW_QUERY_SECS"] = "0.000001"
	s.start()

	resp, err := s.client.Get(s.baseURL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	err = json.NewDecoder(resp.Body).Decode(&root)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := root["commit"]; !ok {
		t.Errorf("GET / has no commit: %v", root)
	} else if c != nil {
		t.Logf("built from commit %v", c)
	}

	s.must(http.MethodPut, "/collections/c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}}, nil)
	s.must(http.MethodPut, "/collections/c/points?wait=true", map[string]any{"points": []any{
		map[string]any{"id": 1, "vector": []float32{1, 0}, "payload": map[string]any{"city": "Berlin"}},
	}}, nil)
	s.must(http.MethodPost, "/collections/c/points/query", map[string]any{
		"query": []float32{1, 0}, "filter": map[string]any{"must": []any{map[string]any{"key": "city", "match": map[string]any{"value": "Berlin"}}}},
	}, nil)
	var res struct {
		Issues []struct {
			ID string `json:"id"`
		} `json:"issues"`
	}
	s.must(http.MethodGet, "/issues", nil, &res)
	if len(res.Issues) != 1 || res.Issues[0].ID != "UNINDEXED_FIELD/c/city" {
		t.Errorf("issues %+v", res.Issues)
	}

	err = s.call(t.Context(), http.MethodGet, "/no/such/route", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "Not found: no route for GET /no/such/route") {
		t.Errorf("unknown route: %v", err)
	}
}
