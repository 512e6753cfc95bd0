package openapitest

import (
	"errors"
	"testing"
)

func TestLookup(t *testing.T) {
	s := loadOrSkip(t)
	cases := []struct {
		method, path string
		template     string // "" when the lookup must fail
		legacy       bool
	}{
		{"POST", "/collections/aliases", "/collections/aliases", false},
		// The literal route has no GET, so the parameter route serves it,
		// as Qdrant's router would.
		{"GET", "/collections/aliases", "/collections/{collection_name}", false},
		{"GET", "/collections/x/aliases", "/collections/{collection_name}/aliases", false},
		{"GET", "/aliases", "/aliases", false},
		{"POST", "/collections/x/points/scroll", "/collections/{collection_name}/points/scroll", false},
		{"POST", "/collections/x/points/scroll?timeout=3", "/collections/{collection_name}/points/scroll", false},
		{"GET", "/collections/x/points/7", "/collections/{collection_name}/points/{id}", false},
		{"GET", "/collections/x/points/550e8400-e29b-41d4-a716-446655440000", "/collections/{collection_name}/points/{id}", false},
		{"GET", "/collections/x/points/scroll", "/collections/{collection_name}/points/{id}", false},
		{"POST", "/collections/x/points", "/collections/{collection_name}/points", false},
		{"PUT", "/collections/x/points/payload", "/collections/{collection_name}/points/payload", false},
		{"POST", "/collections/x/points/payload/delete", "/collections/{collection_name}/points/payload/delete", false},
		{"POST", "/collections/x/points/query/batch", "/collections/{collection_name}/points/query/batch", false},
		{"POST", "/collections/x/points/search/matrix/pairs", "/collections/{collection_name}/points/search/matrix/pairs", false},
		{"POST", "/collections/x/points/search", "/collections/{collection_name}/points/search", true},
		{"POST", "/collections/x/points/search/batch", "/collections/{collection_name}/points/search/batch", true},
		{"POST", "/collections/x/points/recommend/groups", "/collections/{collection_name}/points/recommend/groups", true},
		{"post", "/collections/x/points/discover/batch", "/collections/{collection_name}/points/discover/batch", true},
		{"DELETE", "/collections/x/index/a.b", "/collections/{collection_name}/index/{field_name}", false},
		{"DELETE", "/collections/{collection_name}/index/{field_name}", "/collections/{collection_name}/index/{field_name}", false},
		{"GET", "/collections/my%2Fcoll/exists", "/collections/{collection_name}/exists", false},
		{"GET", "/collections/", "/collections", false},
		{"GET", "http://localhost:6333/collections/x/cluster?x=1", "/collections/{collection_name}/cluster", false},
		{"GET", "/", "/", false},
		{"GET", "", "/", false},
		{"GET", "/collections/x/shards/0/snapshots", "/collections/{collection_name}/shards/{shard_id}/snapshots", false},
		{"PUT", "/collections/x/shards", "/collections/{collection_name}/shards", false},
		{"POST", "/collections/x/shards/delete", "/collections/{collection_name}/shards/delete", false},
		{"GET", "/nope", "", false},
		{"POST", "/collections/x", "", false},
		{"GET", "/collections/x/points/search", "/collections/{collection_name}/points/{id}", false},
		{"GET", "/collections/x/points/7/extra", "", false},
	}
	for _, tc := range cases {
		op, err := s.lookup(tc.method, tc.path)
		if tc.template == "" {
			if !errors.Is(err, ErrUnknownRoute) {
				t.Errorf("lookup(%s %s) = %v, %v; want ErrUnknownRoute", tc.method, tc.path, op, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("lookup(%s %s): %v", tc.method, tc.path, err)
			continue
		}
		if op.template != tc.template || op.legacy != tc.legacy {
			t.Errorf("lookup(%s %s) = %s (legacy %v), want %s (legacy %v)",
				tc.method, tc.path, op.template, op.legacy, tc.template, tc.legacy)
		}
	}
}

func TestResponseSelection(t *testing.T) {
	s := loadOrSkip(t)
	cases := []struct {
		method, path string
		status       int
		key          string // "" when the status is undeclared
		json         bool
	}{
		{"GET", "/collections/x", 200, "200", true},
		{"GET", "/collections/x", 404, "4XX", true},
		{"GET", "/collections/x", 429, "4XX", true},
		{"GET", "/collections/x", 500, "default", true},
		{"GET", "/collections/x", 201, "default", true},
		{"POST", "/snapshots", 202, "202", true},
		{"GET", "/readyz", 503, "503", false},
		{"GET", "/readyz", 200, "200", false},
		{"GET", "/metrics", 401, "4XX", false},
		{"GET", "/", 200, "200", true},
		{"GET", "/", 500, "", false},
		{"GET", "/snapshots/s.snapshot", 200, "200", false},
		{"GET", "/snapshots/s.snapshot", 404, "4XX", true},
	}
	for _, tc := range cases {
		op, err := s.lookup(tc.method, tc.path)
		if err != nil {
			t.Fatalf("lookup(%s %s): %v", tc.method, tc.path, err)
		}
		r, err := op.response(tc.status)
		if tc.key == "" {
			if !errors.Is(err, ErrUndeclaredStatus) {
				t.Errorf("%s %s %d: got %q, %v; want ErrUndeclaredStatus", tc.method, tc.path, tc.status, r.key, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s %d: %v", tc.method, tc.path, tc.status, err)
			continue
		}
		if r.key != tc.key || (r.schema != "") != tc.json {
			t.Errorf("%s %s %d: response %q json=%v, want %q json=%v",
				tc.method, tc.path, tc.status, r.key, r.schema != "", tc.key, tc.json)
		}
	}
}
