package rest_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/node"
)

type issueOut struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Solution    struct {
		Immediate *struct {
			Message string `json:"message"`
			Action  struct {
				Method  string            `json:"method"`
				URI     string            `json:"uri"`
				Headers map[string]string `json:"headers"`
				Body    json.RawMessage   `json:"body"`
			} `json:"action"`
		} `json:"immediate"`
		Refactor string `json:"refactor"`
	} `json:"solution"`
	Timestamp         string  `json:"timestamp"`
	RelatedCollection *string `json:"related_collection"`
}

func (s *server) issues() map[string]issueOut {
	s.t.Helper()
	var res struct {
		Issues []issueOut `json:"issues"`
	}
	s.ok(http.MethodGet, "/issues", nil, &res)
	out := map[string]issueOut{}
	for _, is := range res.Issues {
		out[is.ID] = is
	}
	return out
}

// TestIssuesUnindexedField is Qdrant's test_issues_api.py: a slow search
// (every one, with the threshold at 1ns, as Qdrant's test sets
// QDRANT__SERVICE__SLOW_QUERY_SECS) filtering on an unindexed field raises
// UNINDEXED_FIELD with the request that creates the index; searching again
// keeps its timestamp; applying the solution solves it and it does not come
// back; deleting the collection solves the collection's issues.
func TestIssuesUnindexedField(t *testing.T) {
	s := newServerNode(t, func(o *node.Options) { o.SlowQuery = time.Nanosecond }, rest.Options{})
	const id = "UNINDEXED_FIELD/test_collection/city"
	s.createCollection("test_collection", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	cities := []string{"Berlin", "London", "Moscow", "Tokyo"}
	var pts []pointIn
	for i := range 40 {
		pts = append(pts, pointIn{ID: i + 1, Vector: []float32{0.1, 0.2, 0.3, float32(i)}, Payload: map[string]any{"city": cities[i%4], "n": i}})
	}
	s.upsert("test_collection", pts...)
	if _, ok := s.issues()[id]; ok {
		t.Fatal("issue before any search")
	}
	search := func() {
		s.ok(http.MethodPost, "/collections/test_collection/points/search", map[string]any{
			"vector": []float32{0.2, 0.1, 0.9, 0.7}, "limit": 3,
			"filter": map[string]any{"must": []any{matchCond("city", "any", []string{"London", "Moscow"})}},
		}, nil)
	}
	search()
	is, ok := s.issues()[id]
	if !ok {
		t.Fatalf("no %s after a slow search: %v", id, s.issues())
	}
	if is.Description != "Unindexed field 'city' might be slowing queries down in collection 'test_collection'" ||
		is.RelatedCollection == nil || *is.RelatedCollection != "test_collection" || is.Solution.Immediate == nil {
		t.Fatalf("issue %+v", is)
	}
	a := is.Solution.Immediate.Action
	assertJSON(t, "solution action", a, map[string]any{
		"method": "PUT", "uri": "/collections/test_collection/index",
		"body":    map[string]any{"field_name": "city", "field_schema": "keyword"},
		"headers": map[string]any{"content-type": "application/json"},
	})
	search()
	if again := s.issues()[id]; again.Timestamp != is.Timestamp {
		t.Errorf("timestamp moved from %s to %s on a second search", is.Timestamp, again.Timestamp)
	}
	// The solution, applied as given, solves the issue.
	var body any
	if err := json.Unmarshal(a.Body, &body); err != nil {
		t.Fatal(err)
	}
	s.ok(a.Method, a.URI+"?wait=true", body, nil)
	if _, ok := s.issues()[id]; ok {
		t.Fatal("issue still active after its solution")
	}
	search()
	if _, ok := s.issues()[id]; ok {
		t.Fatal("issue back after the index was created")
	}
	// Another field, then the collection goes and takes it along.
	s.ok(http.MethodPost, "/collections/test_collection/points/count", map[string]any{
		"filter": map[string]any{"must": []any{fieldCond("n", "range", rng("gt", 3))}}, "exact": true}, nil)
	if _, ok := s.issues()["UNINDEXED_FIELD/test_collection/n"]; !ok {
		t.Fatal("no issue for a slow count on n")
	}
	s.ok(http.MethodDelete, "/collections/test_collection", nil, nil)
	if got := s.issues(); len(got) != 0 {
		t.Fatalf("issues left after deleting the collection: %v", got)
	}
}

// TestIssuesThreshold: a read faster than the threshold reports nothing,
// and DELETE /issues clears what was reported.
func TestIssuesThreshold(t *testing.T) {
	s := newServerNode(t, func(o *node.Options) { o.SlowQuery = time.Hour }, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("c", pointIn{ID: 1, Vector: vec2, Payload: map[string]any{"k": "v"}})
	s.ok(http.MethodPost, "/collections/c/points/query", map[string]any{"filter": allOf(matchCond("k", "value", "v"))}, nil)
	if got := s.issues(); len(got) != 0 {
		t.Fatalf("a fast read reported %v", got)
	}
	slow := newServerNode(t, func(o *node.Options) { o.SlowQuery = time.Nanosecond }, rest.Options{})
	slow.createCollection("c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	slow.upsert("c", pointIn{ID: 1, Vector: vec2, Payload: map[string]any{"k": "v"}})
	slow.ok(http.MethodPost, "/collections/c/points/query", map[string]any{"filter": allOf(matchCond("k", "value", "v"))}, nil)
	if len(slow.issues()) != 1 {
		t.Fatalf("a slow query reported %v", slow.issues())
	}
	var cleared bool
	slow.ok(http.MethodDelete, "/issues", nil, &cleared)
	if !cleared || len(slow.issues()) != 0 {
		t.Fatalf("DELETE /issues: %v, left %v", cleared, slow.issues())
	}
}

// TestIssuesTooManyCollections is Qdrant's test_too_many_collections: more
// than 30 small collections raise TOO_MANY_COLLECTIONS/, and dropping
// below solves it.
func TestIssuesTooManyCollections(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 34 collections")
	}
	s := newServer(t, rest.Options{})
	for i := range 34 {
		s.createCollection("c"+strconv.Itoa(i), map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	}
	is, ok := s.issues()["TOO_MANY_COLLECTIONS/"]
	if !ok || is.Solution.Refactor != "Restructure your usage of Qdrant into a fixed number of collections" || is.RelatedCollection != nil {
		t.Fatalf("TOO_MANY_COLLECTIONS: %+v (present %v)", is, ok)
	}
	for i := 27; i < 34; i++ {
		s.ok(http.MethodDelete, "/collections/c"+strconv.Itoa(i), nil, nil)
	}
	if _, ok := s.issues()["TOO_MANY_COLLECTIONS/"]; ok {
		t.Fatal("still too many collections with 27")
	}
}
