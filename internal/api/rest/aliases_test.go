package rest_test

import (
	"net/http"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// TestAliases follows Qdrant's alias behaviour: create, list, use in
// place of the collection, delete; an alias may not take a collection's
// name (409) nor a collection an alias's (400); a batch applies all or
// nothing; deleting the collection drops its aliases.
func TestAliases(t *testing.T) {
	s := newServer(t, rest.Options{})
	vec := map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}}
	s.createCollection("books", vec)
	s.createCollection("films", vec)
	s.upsert("books", pointIn{ID: 1, Vector: []float32{1, 0}}, pointIn{ID: 2, Vector: []float32{0, 1}})
	act := func(actions ...map[string]any) map[string]any { return map[string]any{"actions": actions} }
	create := func(alias, coll string) map[string]any {
		return map[string]any{"create_alias": map[string]any{"alias_name": alias, "collection_name": coll}}
	}

	s.ok(http.MethodPost, "/collections/aliases", act(create("prod", "books")), nil)
	var list struct {
		Aliases []struct {
			Alias string `json:"alias_name"`
			Coll  string `json:"collection_name"`
		} `json:"aliases"`
	}
	s.ok(http.MethodGet, "/aliases", nil, &list)
	if len(list.Aliases) != 1 || list.Aliases[0].Alias != "prod" || list.Aliases[0].Coll != "books" {
		t.Fatalf("aliases %+v", list)
	}
	s.ok(http.MethodGet, "/collections/films/aliases", nil, &list)
	if len(list.Aliases) != 0 {
		t.Fatalf("films aliases %+v", list)
	}
	// The alias serves reads and writes of its collection.
	var hits []map[string]any
	s.ok(http.MethodPost, "/collections/prod/points/search", map[string]any{"vector": []float32{1, 0}, "limit": 3}, &hits)
	if len(hits) != 2 {
		t.Fatalf("search through the alias: %v", hits)
	}
	s.upsert("prod", pointIn{ID: 3, Vector: []float32{1, 1}})
	if n := s.count("books", nil); n != 3 {
		t.Fatalf("books holds %d points after an upsert through its alias", n)
	}

	s.fail(http.MethodPost, "/collections/aliases", act(create("films", "books")), http.StatusConflict, "Wrong input: Collection `films` already exists!")
	s.fail(http.MethodPost, "/collections/aliases", act(create("x", "nope")), http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
	if r := s.do(http.MethodPut, "/collections/prod", vec); r.code != http.StatusBadRequest {
		t.Fatalf("creating a collection named like an alias: %d %s", r.code, r.body)
	}
	// All or nothing: the second action fails, the first is not kept.
	r := s.do(http.MethodPost, "/collections/aliases", act(create("tmp", "films"), map[string]any{"delete_alias": map[string]any{"alias_name": "missing"}}))
	if r.code != http.StatusNotFound {
		t.Fatalf("failing batch: %d %s", r.code, r.body)
	}
	s.ok(http.MethodGet, "/aliases", nil, &list)
	if len(list.Aliases) != 1 {
		t.Fatalf("a failed batch left %+v", list)
	}
	s.ok(http.MethodPost, "/collections/aliases", act(map[string]any{"rename_alias": map[string]any{"old_alias_name": "prod", "new_alias_name": "live"}}), nil)
	s.ok(http.MethodPost, "/collections/live/points/count", map[string]any{}, nil)
	s.ok(http.MethodPost, "/collections/aliases", act(map[string]any{"delete_alias": map[string]any{"alias_name": "live"}}), nil)
	if r := s.do(http.MethodPost, "/collections/live/points/search", map[string]any{"vector": []float32{1, 0}, "limit": 3}); r.code != http.StatusNotFound {
		t.Fatalf("search through a deleted alias: %d", r.code)
	}
	// Deleting a collection drops its aliases.
	s.ok(http.MethodPost, "/collections/aliases", act(create("f", "films")), nil)
	s.ok(http.MethodDelete, "/collections/films", nil, nil)
	s.ok(http.MethodGet, "/aliases", nil, &list)
	if len(list.Aliases) != 0 {
		t.Fatalf("aliases of a deleted collection: %+v", list)
	}
}
