package issues

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/filter"
)

func parse(t *testing.T, js string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse([]byte(js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return f
}

// TestUnindexedFields holds the extractor to Qdrant's inference
// (lib/collection/src/problems/unindexed_field.rs): which fields a filter
// tests without a fitting index, and the index types offered.
func TestUnindexedFields(t *testing.T) {
	indexed := map[string]string{"kw": "keyword", "n": "integer", "arr[].x": "integer"}
	for _, tc := range []struct {
		name string
		js   string
		want map[string][]string // field -> offered schema types
	}{
		{"keyword value", `{"must":[{"key":"city","match":{"value":"London"}}]}`, map[string][]string{"city": {"keyword"}}},
		{"uuid value offers keyword only", `{"must":[{"key":"u","match":{"value":"550e8400-e29b-41d4-a716-446655440000"}}]}`, map[string][]string{"u": {"keyword"}}},
		{"integer value", `{"must":[{"key":"age","match":{"value":3}}]}`, map[string][]string{"age": {"integer"}}},
		{"bool value", `{"must":[{"key":"ok","match":{"value":true}}]}`, map[string][]string{"ok": {"bool"}}},
		{"any of keywords", `{"should":[{"key":"city","match":{"any":["London","Moscow"]}}]}`, map[string][]string{"city": {"keyword"}}},
		{"except integers", `{"must_not":[{"key":"age","match":{"except":[1,2]}}]}`, map[string][]string{"age": {"integer"}}},
		{"text", `{"must":[{"key":"body","match":{"text":"fox"}}]}`, map[string][]string{"body": {"text"}}},
		{"numeric range", `{"must":[{"key":"price","range":{"gt":1}}]}`, map[string][]string{"price": {"integer", "float"}}},
		{"datetime range", `{"must":[{"key":"ts","range":{"gt":"2023-02-08T10:49"}}]}`, map[string][]string{"ts": {"datetime"}}},
		{"geo", `{"must":[{"key":"loc","geo_radius":{"center":{"lon":1,"lat":2},"radius":5}}]}`, map[string][]string{"loc": {"geo"}}},
		{"is_empty: any index", `{"must":[{"is_empty":{"key":"tags"}}]}`,
			map[string][]string{"tags": {"keyword", "integer", "float", "geo", "text", "bool", "datetime"}}},
		{"indexed fitting", `{"must":[{"key":"kw","match":{"value":"a"}},{"key":"n","range":{"lt":3}}]}`, nil},
		{"indexed with another type", `{"must":[{"key":"kw","match":{"value":1}}]}`, map[string][]string{"kw": {"integer"}}},
		{"has_id needs none", `{"must":[{"has_id":[1]},{"has_vector":"v"}]}`, nil},
		{"nested filters", `{"must":[{"must_not":[{"key":"a","match":{"value":"x"}}]},{"min_should":{"min_count":1,"conditions":[{"key":"b","match":{"value":1}}]}}]}`,
			map[string][]string{"a": {"keyword"}, "b": {"integer"}}},
		{"nested condition keys", `{"must":[{"nested":{"key":"arr","filter":{"must":[{"key":"y","match":{"value":"v"}},{"key":"x","match":{"value":1}}]}}}]}`,
			map[string][]string{"arr[].y": {"keyword"}}},
		{"one field, two conditions", `{"must":[{"key":"f","match":{"value":"a"}},{"key":"f","range":{"gt":1}}]}`,
			map[string][]string{"f": {"keyword", "integer", "float"}}},
	} {
		got := map[string][]string{}
		for _, is := range UnindexedFields("c", parse(t, tc.js), indexed) {
			var fields []string
			sols := is.Solution.ImmediateChoice
			if is.Solution.Immediate != nil {
				sols = []ImmediateSolution{*is.Solution.Immediate}
			}
			field := ""
			for _, s := range sols {
				b := s.Action.Body.(map[string]any)
				field = b["field_name"].(string)
				fields = append(fields, b["field_schema"].(string))
			}
			if is.ID != UnindexedFieldID("c", field) {
				t.Errorf("%s: id %q for field %q", tc.name, is.ID, field)
			}
			got[field] = fields
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			continue
		}
		for k, want := range tc.want {
			if fmt.Sprint(sortedLike(got[k])) != fmt.Sprint(sortedLike(want)) {
				t.Errorf("%s: %s offers %v, want %v", tc.name, k, got[k], want)
			}
		}
	}
}

// sortedLike orders schema types as Qdrant's declaration does.
func sortedLike(kinds []string) []string {
	var out []string
	for _, k := range schemaKinds {
		for _, x := range kinds {
			if x == k {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// TestUnindexedFieldJSON: the issue as GET /issues shows it, the shape
// Qdrant's test_issues_api.py reads (id, solution.immediate.action).
func TestUnindexedFieldJSON(t *testing.T) {
	iss := UnindexedFields("test_collection", parse(t, `{"must":[{"key":"city","match":{"any":["London","Moscow"]}}]}`), nil)
	if len(iss) != 1 {
		t.Fatalf("%d issues", len(iss))
	}
	d := NewDashboard()
	d.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	d.Submit(iss[0])
	b, err := json.Marshal(d.All()[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"UNINDEXED_FIELD/test_collection/city",` +
		`"description":"Unindexed field 'city' might be slowing queries down in collection 'test_collection'",` +
		`"solution":{"immediate":{"message":"Create an index on field 'city' of schema \"keyword\" in collection 'test_collection'. Check the documentation for more details: https://qdrant.tech/documentation/concepts/indexing/#payload-index",` +
		`"action":{"method":"PUT","uri":"/collections/test_collection/index","headers":{"content-type":"application/json"},"body":{"field_name":"city","field_schema":"keyword"}}}},` +
		`"timestamp":"2026-01-02T03:04:05Z","related_collection":"test_collection"}`
	if string(b) != want {
		t.Errorf("\n got %s\nwant %s", b, want)
	}
	choice := UnindexedFields("c", parse(t, `{"must":[{"key":"p","range":{"gt":1}}]}`), nil)[0]
	b, _ = json.Marshal(choice.Solution)
	var sol map[string][]ImmediateSolution
	if err := json.Unmarshal(b, &sol); err != nil || len(sol["immediate_choice"]) != 2 {
		t.Errorf("range: solution %s, want an immediate_choice of two", b)
	}
	b, _ = json.Marshal(TooManyCollectionsIssue().Solution)
	if string(b) != `{"refactor":"Restructure your usage of Qdrant into a fixed number of collections"}` {
		t.Errorf("refactor solution %s", b)
	}
	b, _ = json.Marshal(Solution{})
	if string(b) != `"none"` {
		t.Errorf("no solution %s", b)
	}
}

// TestDashboard: an issue is stamped when first submitted and keeps its
// stamp until solved; solving by collection leaves the others.
func TestDashboard(t *testing.T) {
	d := NewDashboard()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return clock }
	a := UnindexedFields("a", parse(t, `{"must":[{"key":"x","match":{"value":1}}]}`), nil)[0]
	b := UnindexedFields("b", parse(t, `{"must":[{"key":"x","match":{"value":1}}]}`), nil)[0]
	if !d.Submit(a) || !d.Submit(b) {
		t.Fatal("first submissions refused")
	}
	clock = clock.Add(time.Hour)
	if d.Submit(a) {
		t.Error("a second submission of an active issue was added")
	}
	if got := d.All(); len(got) != 2 || !got[0].Timestamp.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("issues %+v", got)
	}
	d.Submit(TooManyCollectionsIssue())
	d.SolveCollection("a")
	if got := d.All(); len(got) != 2 || got[0].ID != b.ID || got[1].ID != TooManyCollectionsID {
		t.Errorf("after solving collection a: %+v", got)
	}
	if !d.Solve(b.ID) || d.Solve(b.ID) {
		t.Error("Solve does not report what was active")
	}
	d.Clear()
	if len(d.All()) != 0 {
		t.Error("Clear left issues")
	}
}

// TestTooManyCollections holds Qdrant's rule: more than 30 collections
// whose average size over their number is under 10000/30.
func TestTooManyCollections(t *testing.T) {
	sizes := func(n, each int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = each
		}
		return out
	}
	for _, tc := range []struct {
		sizes []int
		want  bool
	}{
		{sizes(30, 0), false},
		{sizes(31, 100), true},    // 100/31 = 3.2 < 333
		{sizes(34, 11305), true},  // 11305/34 = 332.5
		{sizes(34, 11339), false}, // 333.5
		{sizes(1000, 1), true},
		{nil, false},
	} {
		if got := TooManyCollections(tc.sizes); got != tc.want {
			t.Errorf("%d collections of %v: %v, want %v", len(tc.sizes), tc.sizes[:min(1, len(tc.sizes))], got, tc.want)
		}
	}
	d := NewDashboard()
	d.CheckCollections(sizes(31, 0))
	if len(d.All()) != 1 {
		t.Fatal("no TOO_MANY_COLLECTIONS issue")
	}
	d.CheckCollections(sizes(29, 0))
	if len(d.All()) != 0 {
		t.Fatal("TOO_MANY_COLLECTIONS not solved")
	}
}
