package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// facetHit is one FacetValueHit.
type facetHit struct {
	Value any `json:"value"`
	Count int `json:"count"`
}

func (s *server) facet(coll string, body any) []facetHit {
	s.t.Helper()
	var res struct {
		Hits []facetHit `json:"hits"`
	}
	s.ok(http.MethodPost, collPath(coll, "/facet"), body, &res)
	if res.Hits == nil {
		s.t.Fatalf("facet %s: no hits array", coll)
	}
	return res.Hits
}

func hit(v any, n int) facetHit { return facetHit{Value: v, Count: n} }

const noFacetIndex = "Wrong input: No appropriate index for faceting: `%s`. Please create one to facet on this field. " +
	"Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Match conditions"

// knownFacetOrderBugs marks cases that document a reported deviation from
// Qdrant; see knownFilterBugs.
var knownFacetOrderBugs = map[string]string{}

// skipKnown runs check and handles a known bug: a failing check is
// skipped, a passing one fails so that the marker is removed.
func skipKnown(t *testing.T, bugs map[string]string, name string, problems []string) {
	t.Helper()
	switch bug := bugs[name]; {
	case bug != "" && len(problems) > 0:
		t.Skipf("known bug (%s):\n%s", bug, strings.Join(problems, "\n"))
	case bug != "":
		t.Errorf("passes now: remove the known bug entry %q", bug)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestFacet counts keyword, integer, bool and uuid values: a point counts
// once per distinct value, hits come by count then value, limit and
// filter apply, and a key without a suitable index is an error.
func TestFacet(t *testing.T) {
	s := newServer(t, rest.Options{})
	const coll = "facets"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	type obj = map[string]any
	payloads := []obj{
		1:  {"city": "Berlin", "int": 3, "flag": true, "uid": uuid1, "tier": obj{"name": "gold"}},
		2:  {"city": []any{"Berlin", "London"}, "int": 3, "flag": true, "uid": uuid1, "tier": obj{"name": "gold"}},
		3:  {"city": []any{"Berlin", "Moscow"}, "int": 3, "flag": false, "uid": uuid2},
		4:  {"city": []any{"London", "Moscow"}, "int": 0, "flag": true, "uid": uuid3, "tier": obj{"name": "silver"}},
		5:  {"city": []any{"Berlin", "Berlin"}, "int": []any{1, 1}, "flag": []any{true, false}, "uid": uuid1},
		6:  {"city": "Paris", "int": 2, "flag": false},
		7:  nil,
		8:  {"city": 5, "int": "3", "flag": "true", "uid": "not a uuid"},
		9:  {"city": "Amsterdam", "int": -1, "flag": true},
		10: {"city": "London", "int": 1.5, "flag": true, "float": 1.5, "text": "London"},
	}
	var pts []pointIn
	for id := 1; id < len(payloads); id++ {
		pts = append(pts, pointIn{ID: id, Vector: vec2, Payload: payloads[id]})
	}
	s.upsert(coll, pts...)
	s.createIndex(coll, "city", "keyword")
	s.createIndex(coll, "int", "integer")
	s.createIndex(coll, "flag", "bool")
	s.createIndex(coll, "uid", "uuid")
	s.createIndex(coll, "tier.name", map[string]any{"type": "keyword", "is_tenant": true})
	s.createIndex(coll, "float", "float")
	s.createIndex(coll, "text", "text")
	s.createIndex(coll, "range_int", map[string]any{"type": "integer", "lookup": false})
	s.createIndex(coll, "empty", "keyword")
	s.upsert(coll, pointIn{ID: 11, Vector: vec2, Payload: obj{"range_int": 4}})

	flagTrue := allOf(matchCond("flag", "value", true))
	cases := []struct {
		name string
		body any
		want []facetHit
	}{
		{"keyword", obj{"key": "city"}, []facetHit{hit("Berlin", 4), hit("London", 3), hit("Moscow", 2), hit("Amsterdam", 1), hit("Paris", 1)}},
		{"keyword exact", obj{"key": "city", "exact": true}, []facetHit{hit("Berlin", 4), hit("London", 3), hit("Moscow", 2), hit("Amsterdam", 1), hit("Paris", 1)}},
		{"limit", obj{"key": "city", "limit": 2}, []facetHit{hit("Berlin", 4), hit("London", 3)}},
		{"limit 1", obj{"key": "city", "limit": 1}, []facetHit{hit("Berlin", 4)}},
		{"limit above the values", obj{"key": "city", "limit": 100}, []facetHit{hit("Berlin", 4), hit("London", 3), hit("Moscow", 2), hit("Amsterdam", 1), hit("Paris", 1)}},
		{"filter, ties by value", obj{"key": "city", "filter": flagTrue}, []facetHit{hit("Berlin", 3), hit("London", 3), hit("Amsterdam", 1), hit("Moscow", 1)}},
		{"filter on the same key", obj{"key": "city", "filter": allOf(matchCond("city", "value", "Moscow"))}, []facetHit{hit("Moscow", 2), hit("Berlin", 1), hit("London", 1)}},
		{"filter without index", obj{"key": "city", "filter": allOf(map[string]any{"has_id": []int{1, 4, 6}})}, []facetHit{hit("Berlin", 1), hit("London", 1), hit("Moscow", 1), hit("Paris", 1)}},
		{"filter matching nothing", obj{"key": "city", "filter": allOf(matchCond("city", "value", "Rome"))}, []facetHit{}},
		{"integer", obj{"key": "int"}, []facetHit{hit(3, 3), hit(-1, 1), hit(0, 1), hit(1, 1), hit(2, 1)}},
		{"integer filtered", obj{"key": "int", "filter": flagTrue, "limit": 2}, []facetHit{hit(3, 2), hit(-1, 1)}},
		{"bool", obj{"key": "flag"}, []facetHit{hit(true, 6), hit(false, 3)}},
		{"bool filtered", obj{"key": "flag", "filter": allOf(matchCond("city", "value", "Berlin"))}, []facetHit{hit(true, 3), hit(false, 2)}},
		{"uuid", obj{"key": "uid"}, []facetHit{hit(uuid1, 3), hit(uuid3, 1), hit(uuid2, 1)}},
		{"nested key", obj{"key": "tier.name"}, []facetHit{hit("gold", 2), hit("silver", 1)}},
		{"indexed key without values", obj{"key": "empty"}, []facetHit{}},
		{"integer without lookup", obj{"key": "range_int"}, nil}, // a range index only, as in Qdrant
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := s.on(t)
			var problems []string
			if tc.want == nil {
				key := tc.body.(obj)["key"].(string)
				r := s.do(http.MethodPost, collPath(coll, "/facet"), tc.body)
				if msg := fmt.Sprintf(noFacetIndex, key); r.code != 400 || !strings.Contains(string(r.body), jsonString(msg)) {
					problems = append(problems, fmt.Sprintf("status %d %s, want 400 %q", r.code, r.body, msg))
				}
			} else if got := s.facet(coll, tc.body); !jsonEqual(t, got, tc.want) {
				problems = append(problems, fmt.Sprintf("hits %s, want %s", mustJSON(t, got), mustJSON(t, tc.want)))
			}
			skipKnown(t, knownFacetOrderBugs, tc.name, problems)
		})
	}

	// Keys without a keyword, integer, bool or uuid index.
	for _, key := range []string{"nope", "float", "text", "city.sub"} {
		s.fail(http.MethodPost, collPath(coll, "/facet"), obj{"key": key}, 400, fmt.Sprintf(noFacetIndex, key))
	}
	s.fail(http.MethodPost, collPath(coll, "/facet"), obj{"key": "city", "limit": 0}, 422, "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]")
	s.failPrefix(http.MethodPost, collPath(coll, "/facet"), obj{"limit": 3}, 400, "Format error in JSON body: missing field `key`")
	s.failPrefix(http.MethodPost, "/collections/missing/facet", obj{"key": "city"}, 404, "Not found: Collection `missing` doesn't exist!")

	// Counts follow updates.
	s.write(http.MethodPost, collPath(coll, "/points/delete"), obj{"points": []int{1, 2}})
	s.write(http.MethodPost, collPath(coll, "/points/payload"), obj{"points": []int{6}, "payload": obj{"city": "London"}})
	assertJSON(t, "after updates", s.facet(coll, obj{"key": "city"}), []facetHit{hit("London", 3), hit("Berlin", 2), hit("Moscow", 2), hit("Amsterdam", 1)})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// orderedRecord is a Record of an order_by scroll.
type orderedRecord struct {
	ID         json.RawMessage `json:"id"`
	Payload    json.RawMessage `json:"payload"`
	OrderValue json.RawMessage `json:"order_value"`
}

func (s *server) scrollOrdered(coll string, body map[string]any) []orderedRecord {
	s.t.Helper()
	var res struct {
		Points []orderedRecord  `json:"points"`
		Next   *json.RawMessage `json:"next_page_offset"`
	}
	raw := s.ok(http.MethodPost, collPath(coll, "/points/scroll"), body, &res)
	var all map[string]json.RawMessage
	decode(s.t, raw, &all)
	if next, ok := all["next_page_offset"]; !ok || string(next) != "null" {
		s.t.Errorf("order_by scroll: next_page_offset %s, want null", next)
	}
	return res.Points
}

// ordered is an expected order_by answer: ids with their order values.
type ordered struct {
	id    int
	value any // int64, float64 or a datetime string (turned into micros)
}

// micros is a datetime as Qdrant's order_value: microseconds since the
// Unix epoch.
func micros(t *testing.T, s string) int64 {
	t.Helper()
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if ts, err := time.Parse(layout, s); err == nil {
			return ts.UnixMicro()
		}
	}
	t.Fatalf("bad datetime %q in the test", s)
	return 0
}

// checkOrdered compares an order_by answer with want: the same order
// values in the same order, and in each run of equal values the same ids
// (in any order, since Qdrant does not define the order of ties).
func checkOrdered(t *testing.T, got []orderedRecord, want []ordered) []string {
	t.Helper()
	var problems []string
	norm := func(v any) string {
		if s, ok := v.(string); ok {
			v = micros(t, s)
		}
		return string(mustJSON(t, v))
	}
	if len(got) != len(want) {
		return []string{fmt.Sprintf("%d points, want %d: %v", len(got), len(want), got)}
	}
	gotRuns, wantRuns := map[string][]string{}, map[string][]string{}
	for i := range got {
		gv, wv := string(got[i].OrderValue), norm(want[i].value)
		if !jsonEqual(t, json.RawMessage(gv), json.RawMessage(wv)) {
			problems = append(problems, fmt.Sprintf("rank %d: order_value %s, want %s (id %s)", i, gv, wv, got[i].ID))
		}
		gotRuns[wv] = append(gotRuns[wv], string(got[i].ID))
		wantRuns[wv] = append(wantRuns[wv], idText(want[i].id))
	}
	for v, ids := range wantRuns {
		if g := sortedCopy(gotRuns[v]); !slices.Equal(g, sortedCopy(ids)) {
			problems = append(problems, fmt.Sprintf("order_value %s: ids %v, want %v", v, g, ids))
		}
	}
	return problems
}

// TestOrderBy scrolls by integer, float and datetime keys in both
// directions, with start_from and filters. A point with several values is
// returned once, by its smallest (ascending) or largest (descending) value
// from start_from on.
func TestOrderBy(t *testing.T) {
	s := newServer(t, rest.Options{})
	const coll = "ordered"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	type obj = map[string]any
	payloads := []obj{
		1:  {"n": 5, "price": 1.5, "ts": "2024-01-01T00:00:00Z", "city": "Berlin"},
		2:  {"n": 3, "price": -0.5, "ts": "2024-01-01T02:00:00+03:00", "city": "London"},
		3:  {"n": []any{7, 1}, "price": []any{2.5, 9.75}, "ts": []any{"2024-03-01", "2023-06-01T00:00:00Z"}, "city": "Berlin"},
		4:  {"n": 3, "price": 1.5, "ts": "2024-01-01T00:00:00.25Z", "city": "Berlin"},
		5:  {"n": 10, "price": 100, "ts": "2025-01-01T00:00:00-01:00", "city": "London"},
		6:  {"city": "Berlin"},
		7:  {"n": -2, "price": 3, "ts": "not a date", "city": "Paris"},
		8:  {"n": "9", "price": "9", "ts": 20240101},
		9:  {"n": 3.5},
		10: {"n": 0, "price": 0.25, "ts": "2024-01-01 00:00", "city": "Paris"},
	}
	var pts []pointIn
	for id := 1; id < len(payloads); id++ {
		pts = append(pts, pointIn{ID: id, Vector: vec2, Payload: payloads[id]})
	}
	// Indexes on n and price first, ts after the points.
	s.createIndex(coll, "n", "integer")
	s.createIndex(coll, "price", map[string]any{"type": "float", "is_principal": true})
	s.upsert(coll, pts...)
	s.createIndex(coll, "ts", "datetime")
	s.createIndex(coll, "city", "keyword")
	s.createIndex(coll, "lookup_only", map[string]any{"type": "integer", "range": false})

	ts := func(s string) any { return s }
	cases := []struct {
		name string
		body obj
		want []ordered
	}{
		{"integer key as a string", obj{"order_by": "n", "limit": 100},
			[]ordered{{7, -2}, {10, 0}, {3, 1}, {2, 3}, {4, 3}, {1, 5}, {3, 7}, {5, 10}}},
		{"integer asc", obj{"order_by": obj{"key": "n", "direction": "asc"}, "limit": 3},
			[]ordered{{7, -2}, {10, 0}, {3, 1}}},
		{"integer desc", obj{"order_by": obj{"key": "n", "direction": "desc"}},
			[]ordered{{5, 10}, {3, 7}, {1, 5}, {2, 3}, {4, 3}, {3, 1}, {10, 0}, {7, -2}}},
		{"integer start_from", obj{"order_by": obj{"key": "n", "start_from": 3}},
			[]ordered{{2, 3}, {4, 3}, {1, 5}, {3, 7}, {5, 10}}},
		{"integer start_from desc", obj{"order_by": obj{"key": "n", "direction": "desc", "start_from": 4}},
			[]ordered{{2, 3}, {4, 3}, {3, 1}, {10, 0}, {7, -2}}},
		{"integer start_from float", obj{"order_by": obj{"key": "n", "start_from": 2.5}, "limit": 2},
			[]ordered{{2, 3}, {4, 3}}},
		{"integer start_from beyond", obj{"order_by": obj{"key": "n", "start_from": 11}}, []ordered{}},
		{"integer filtered", obj{"order_by": obj{"key": "n", "direction": "desc"}, "filter": allOf(matchCond("city", "value", "Berlin"))},
			[]ordered{{3, 7}, {1, 5}, {4, 3}, {3, 1}}},
		{"integer filtered without index", obj{"order_by": "n", "filter": map[string]any{"must_not": []any{map[string]any{"has_id": []int{7, 10}}}}},
			[]ordered{{3, 1}, {2, 3}, {4, 3}, {1, 5}, {3, 7}, {5, 10}}},
		{"float asc", obj{"order_by": "price"},
			[]ordered{{2, -0.5}, {10, 0.25}, {1, 1.5}, {4, 1.5}, {3, 2.5}, {7, 3.0}, {3, 9.75}, {5, 100.0}}},
		{"float desc", obj{"order_by": obj{"key": "price", "direction": "desc"}, "limit": 2},
			[]ordered{{5, 100.0}, {3, 9.75}}},
		{"float desc start_from", obj{"order_by": obj{"key": "price", "direction": "desc", "start_from": 2.5}},
			[]ordered{{3, 2.5}, {1, 1.5}, {4, 1.5}, {10, 0.25}, {2, -0.5}}},
		{"datetime asc", obj{"order_by": "ts"},
			[]ordered{{3, ts("2023-06-01T00:00:00Z")}, {2, ts("2023-12-31T23:00:00Z")}, {1, ts("2024-01-01T00:00:00Z")}, {10, ts("2024-01-01T00:00:00Z")},
				{4, ts("2024-01-01T00:00:00.25Z")}, {3, ts("2024-03-01")}, {5, ts("2025-01-01T01:00:00Z")}}},
		{"datetime start_from string", obj{"order_by": obj{"key": "ts", "start_from": "2024-01-01T01:00:00+01:00"}},
			[]ordered{{1, ts("2024-01-01T00:00:00Z")}, {10, ts("2024-01-01T00:00:00Z")}, {4, ts("2024-01-01T00:00:00.25Z")},
				{3, ts("2024-03-01")}, {5, ts("2025-01-01T01:00:00Z")}}},
		{"datetime desc start_from date", obj{"order_by": obj{"key": "ts", "direction": "desc", "start_from": "2024-01-01"}},
			[]ordered{{1, ts("2024-01-01T00:00:00Z")}, {10, ts("2024-01-01T00:00:00Z")}, {2, ts("2023-12-31T23:00:00Z")}, {3, ts("2023-06-01T00:00:00Z")}}},
		{"datetime start_from number", obj{"order_by": obj{"key": "ts", "direction": "desc", "start_from": micros(t, "2024-01-01T00:00:00.25Z") - 1}},
			[]ordered{{1, ts("2024-01-01T00:00:00Z")}, {10, ts("2024-01-01T00:00:00Z")}, {2, ts("2023-12-31T23:00:00Z")}, {3, ts("2023-06-01T00:00:00Z")}}},
		{"without payload", obj{"order_by": obj{"key": "n", "direction": "desc"}, "limit": 1, "with_payload": false},
			[]ordered{{5, 10}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := s.on(t)
			got := s.scrollOrdered(coll, tc.body)
			problems := checkOrdered(t, got, tc.want)
			for _, r := range got {
				wantPayload := tc.body["with_payload"] != false
				if wantPayload == absent(r.Payload) {
					problems = append(problems, fmt.Sprintf("id %s: payload %s, want one: %v", r.ID, r.Payload, wantPayload))
				}
			}
			skipKnown(t, knownFacetOrderBugs, tc.name, problems)
		})
	}

	// Errors: no range index on the key, offset with order_by, bad input.
	noRange := func(key string) string {
		return "Bad request: No range index for `order_by` key: " + key + ". Please create one to use `order_by`. " +
			"Integer, float, and datetime payloads can have range indexes, see https://qdrant.tech/documentation/concepts/indexing/#payload-index."
	}
	scroll := collPath(coll, "/points/scroll")
	for _, key := range []string{"nope", "city", "lookup_only"} {
		s.fail(http.MethodPost, scroll, obj{"order_by": key}, 400, noRange(key))
	}
	s.fail(http.MethodPost, scroll, obj{"order_by": "n", "offset": 3}, 400, "Wrong input: Cannot use an `offset` when using `order_by`. "+
		"The alternative for paging is to use `order_by.start_from` and a filter to exclude the IDs that you've already seen for the `order_by.start_from` value")
	s.failPrefix(http.MethodPost, scroll, obj{"order_by": obj{"key": "n", "direction": "up"}}, 400, "Format error in JSON body")
	s.failPrefix(http.MethodPost, scroll, obj{"order_by": obj{"direction": "asc"}}, 400, "Format error in JSON body")
	s.failPrefix(http.MethodPost, scroll, obj{"order_by": obj{"key": "ts", "start_from": "yesterday"}}, 400, "")
}

// TestOrderByPaging pages through a whole collection with order_by,
// start_from and a must_not has_id of the ids already seen at the last
// value, the way Qdrant documents it, and gets every point once.
func TestOrderByPaging(t *testing.T) {
	r := seededRand(t)
	s := newServer(t, rest.Options{})
	const coll = "paging"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.createIndex(coll, "v", "integer")
	s.createIndex(coll, "half", "bool")
	const n = 120
	var pts []pointIn
	for i := 1; i <= n; i++ {
		pts = append(pts, pointIn{ID: i, Vector: vec2, Payload: map[string]any{"v": r.IntN(15), "half": i%2 == 0}})
	}
	s.upsert(coll, pts...)
	for _, dir := range []string{"asc", "desc"} {
		for _, filter := range []any{nil, allOf(matchCond("half", "value", true))} {
			want := s.count(coll, filter)
			seen := map[string]bool{}
			var start any
			atStart := []int{}
			for pages := 0; ; pages++ {
				if pages > n {
					t.Fatalf("%s: paging does not end", dir)
				}
				f := map[string]any{"must_not": []any{map[string]any{"has_id": atStart}}}
				if filter != nil {
					f["must"] = filter.(map[string]any)["must"]
				}
				ob := map[string]any{"key": "v", "direction": dir}
				if start != nil {
					ob["start_from"] = start
				}
				page := s.scrollOrdered(coll, map[string]any{"order_by": ob, "filter": f, "limit": 7})
				for _, p := range page {
					if seen[string(p.ID)] {
						t.Fatalf("%s: point %s returned twice", dir, p.ID)
					}
					seen[string(p.ID)] = true
				}
				if len(page) < 7 {
					break
				}
				last := page[len(page)-1].OrderValue
				var lastV int
				decode(t, last, &lastV)
				if start == nil || start.(int) != lastV {
					atStart = []int{}
				}
				start = lastV
				for _, p := range page {
					if string(p.OrderValue) == string(last) {
						var id int
						decode(t, p.ID, &id)
						atStart = append(atStart, id)
					}
				}
			}
			if len(seen) != want {
				t.Errorf("%s filter %v: paged through %d points, want %d", dir, filter != nil, len(seen), want)
			}
		}
	}
}
