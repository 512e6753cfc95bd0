package rest_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// The filter tests run every condition against collections holding the
// same points: one without payload indexes and several with different
// index sets on the same keys. Results must not depend on the indexes
// (full-text conditions aside, see TestFullTextModes).

const (
	uuid1 = "a64a8051-3ee7-4881-8bc6-691d25c70d54"
	uuid2 = "7cb46fb3-e348-4762-93ad-7fb983d2b85e"
	uuid3 = "2b016c50-282c-4d80-b784-cefead291180"
)

func geoPt(lon, lat float64) map[string]any { return map[string]any{"lon": lon, "lat": lat} }

// filterPoints is the fixed data set of TestFilterConditions: ids 1..12.
// Point 6 has no payload; 5 and 10 hold nulls and empty arrays; 12 holds
// values of the wrong type for every indexed key.
func filterPoints() []pointIn {
	type obj = map[string]any
	type arr = []any
	payloads := []obj{
		1: {"color": "red", "n": 1, "price": 1.5, "flag": true, "loc": geoPt(13.40, 52.52), "ts": "2024-01-01T00:00:00Z", "uid": uuid1,
			"meta": obj{"tier": "gold", "score": 10}, "items": arr{obj{"name": "apple", "qty": 1}, obj{"name": "pear", "qty": 5}}, "tags": arr{}, "nul": nil},
		2: {"color": "green", "n": 2, "price": 2.5, "flag": false, "loc": geoPt(-0.13, 51.51), "ts": "2024-01-01T01:00:00+01:00", "uid": uuid2,
			"meta": obj{"tier": "silver", "score": 20}, "items": arr{obj{"name": "apple", "qty": 5}}, "tags": arr{"a"}, "nul": arr{nil}},
		3: {"color": arr{"red", "blue"}, "n": arr{3, 30}, "price": 3.5, "flag": arr{true, false}, "loc": geoPt(2.35, 48.86), "ts": "2024-01-02T00:00:00-05:00", "uid": uuid3,
			"meta": obj{"tier": "gold", "score": 30}, "items": arr{obj{"name": "pear", "qty": 1}}, "tags": arr{"a", "b"}, "nul": arr{nil, "x"}},
		4: {"color": "blue", "n": 4, "price": -1.0, "flag": true, "loc": arr{geoPt(13.0, 52.0), geoPt(-74.0, 40.7)}, "ts": "2024-01-03 12:00:00", "uid": uuid1,
			"meta": obj{"tier": "bronze"}, "items": arr{}, "tags": arr{"a", "b", "c"}, "nul": "x"},
		5: {"color": nil, "ts": "2024-02-01T00:00:00.5Z", "meta": obj{}, "tags": "a"},
		6: nil,
		7: {"color": "Red", "n": 7, "price": 7.25, "flag": false, "loc": geoPt(5, 5), "ts": "2023-12-31T23:59:59+00:00", "uid": uuid2,
			"meta": obj{"tier": "gold", "score": 70}, "items": arr{obj{"name": "apple", "qty": 0}, obj{"name": "kiwi"}}, "tags": arr{"b"}, "nul": ""},
		8: {"color": "", "n": 0, "price": 0.0, "flag": true, "loc": geoPt(10, 10), "ts": "2024-01-01T00:00:00.000001Z",
			"meta": obj{"tier": "silver", "score": 80}, "items": arr{obj{"name": "apple", "qty": 10}}, "tags": arr{"c"}},
		9: {"color": arr{"green"}, "n": -5, "price": 100, "loc": geoPt(15, 15), "ts": "2024-01-01T00:00:00+14:00",
			"items": arr{obj{"name": "apple", "qty": 7}}},
		10: {"color": arr{}, "n": arr{}, "flag": arr{}, "loc": arr{geoPt(25, 5), geoPt(10, 10)}, "ts": arr{"2024-01-05T00:00:00Z", "2023-01-01T00:00:00Z"},
			"meta": obj{"tier": arr{"gold", "silver"}}},
		11: {"color": "blue", "n": 11, "loc": arr{geoPt(10, 10), geoPt(5, 15)}, "ts": "not a date"},
		12: {"color": 123, "n": "3", "price": "1.5", "flag": "true", "loc": "13.4,52.5", "ts": 1704067200, "uid": 7},
	}
	withB := map[int]bool{1: true, 3: true, 5: true, 8: true, 11: true}
	var pts []pointIn
	for id := 1; id < len(payloads); id++ {
		v := map[string]any{"a": []float32{float32(id), 1}}
		if withB[id] {
			v["b"] = []float32{1, float32(id)}
		}
		pts = append(pts, pointIn{ID: id, Vector: v, Payload: payloads[id]})
	}
	return pts
}

// filterIndexSets are the index variants of TestFilterConditions, each on
// its own collection; "none" has no index.
var filterIndexSets = []struct {
	name    string
	indexes [][2]any // field name, schema
}{
	{"none", nil},
	{"typed", [][2]any{
		{"color", "keyword"}, {"n", "integer"}, {"price", "float"}, {"flag", "bool"}, {"loc", "geo"},
		{"ts", "datetime"}, {"uid", "uuid"}, {"meta.tier", "keyword"}, {"meta.score", "integer"},
		{"items[].name", "keyword"}, {"items[].qty", "integer"}, {"tags", "keyword"}, {"nul", "keyword"},
	}},
	{"params", [][2]any{
		{"color", map[string]any{"type": "keyword", "is_tenant": true}},
		{"n", map[string]any{"type": "integer", "lookup": false, "range": true}},
		{"price", map[string]any{"type": "float", "is_principal": true}},
		{"flag", map[string]any{"type": "bool"}},
		{"loc", map[string]any{"type": "geo"}},
		{"ts", map[string]any{"type": "datetime", "is_principal": true}},
		{"uid", "keyword"},
		{"meta.score", map[string]any{"type": "integer", "lookup": true, "range": false}},
		{"items[].qty", "float"},
		{"nul", "bool"},
	}},
	{"alternate", [][2]any{
		{"n", map[string]any{"type": "integer", "lookup": true, "range": false}},
		{"meta.score", "float"},
		{"meta.tier", map[string]any{"type": "keyword", "is_tenant": true}},
		{"items[].name", "keyword"},
		{"tags", "integer"},
		{"color", "text"}, // a text index does not answer match value
	}},
}

// filterCollections creates one collection per index set, all holding
// filterPoints, and returns their names.
func filterCollections(t *testing.T, s *server) []string {
	t.Helper()
	var names []string
	pts := filterPoints()
	cfg := map[string]any{"vectors": map[string]any{
		"a": map[string]any{"size": 2, "distance": "Dot"},
		"b": map[string]any{"size": 2, "distance": "Dot"},
	}}
	for i, set := range filterIndexSets {
		name := "filters_" + set.name
		s.createCollection(name, cfg)
		// Half the variants index before writing, half after.
		if i%2 == 1 {
			s.upsert(name, pts...)
		}
		for _, ix := range set.indexes {
			s.createIndex(name, ix[0].(string), ix[1])
		}
		if i%2 == 0 {
			s.upsert(name, pts...)
		}
		names = append(names, name)
	}
	return names
}

// filterCase is one filter and the ids it matches in filterPoints.
type filterCase struct {
	name   string
	filter any
	want   []int
}

// knownFilterBugs marks cases that document a reported deviation from
// Qdrant: such a case is skipped while it fails, and fails once the bug is
// fixed, so that the marker goes away.
var knownFilterBugs = map[string]string{}

func nested(key string, f any) map[string]any {
	return map[string]any{"nested": map[string]any{"key": key, "filter": f}}
}

func rng(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

var (
	polyExterior = []any{geoPt(0, 0), geoPt(20, 0), geoPt(20, 20), geoPt(0, 20), geoPt(0, 0)}
	polyHole     = []any{geoPt(8, 8), geoPt(12, 8), geoPt(12, 12), geoPt(8, 12), geoPt(8, 8)}
)

var filterCases = []filterCase{
	// match value / any / except / prefix on keywords
	{"keyword value", allOf(matchCond("color", "value", "red")), []int{1, 3}},
	{"keyword value is case sensitive", allOf(matchCond("color", "value", "Red")), []int{7}},
	{"keyword empty string", allOf(matchCond("color", "value", "")), []int{8}},
	{"keyword any", allOf(matchCond("color", "any", []string{"red", "green"})), []int{1, 2, 3, 9}},
	{"keyword any none", allOf(matchCond("color", "any", []string{"purple"})), nil},
	{"keyword except", allOf(matchCond("color", "except", []string{"red", "blue"})), []int{2, 7, 8, 9, 12}},
	{"keyword prefix", allOf(matchCond("color", "prefix", "re")), []int{1, 3}},
	{"integer value on a keyword key", allOf(matchCond("color", "value", 123)), []int{12}},
	// integers
	{"integer value", allOf(matchCond("n", "value", 3)), []int{3}},
	{"integer zero", allOf(matchCond("n", "value", 0)), []int{8}},
	{"integer any", allOf(matchCond("n", "any", []int{1, 2, 30})), []int{1, 2, 3}},
	{"integer except", allOf(matchCond("n", "except", []int{1, 2, 3})), []int{3, 4, 7, 8, 9, 11, 12}},
	{"integer range closed", allOf(fieldCond("n", "range", rng("gte", 2, "lte", 4))), []int{2, 3, 4}},
	{"integer range gt", allOf(fieldCond("n", "range", rng("gt", 10))), []int{3, 11}},
	{"integer range negative", allOf(fieldCond("n", "range", rng("lt", 0))), []int{9}},
	{"integer range float bounds", allOf(fieldCond("n", "range", rng("gte", -0.5, "lt", 0.5))), []int{8}},
	{"integer range empty", allOf(fieldCond("n", "range", rng("gt", 4, "lt", 5))), nil},
	// floats
	{"float range", allOf(fieldCond("price", "range", rng("gte", 0, "lt", 3))), []int{1, 2, 8}},
	{"float range negative", allOf(fieldCond("price", "range", rng("lt", 0))), []int{4}},
	{"float range gt", allOf(fieldCond("price", "range", rng("gt", 7.25))), []int{9}},
	{"float range gte", allOf(fieldCond("price", "range", rng("gte", 7.25))), []int{7, 9}},
	// bools
	{"bool true", allOf(matchCond("flag", "value", true)), []int{1, 3, 4, 8}},
	{"bool false", allOf(matchCond("flag", "value", false)), []int{2, 3, 7}},
	// uuids
	{"uuid value", allOf(matchCond("uid", "value", uuid1)), []int{1, 4}},
	{"uuid any", allOf(matchCond("uid", "any", []string{uuid2, uuid3})), []int{2, 3, 7}},
	{"uuid except", allOf(matchCond("uid", "except", []string{uuid1})), []int{2, 3, 7, 12}},
	// keys inside objects and arrays
	{"nested key", allOf(matchCond("meta.tier", "value", "gold")), []int{1, 3, 7, 10}},
	{"nested key range", allOf(fieldCond("meta.score", "range", rng("gte", 20, "lt", 80))), []int{2, 3, 7}},
	{"nested key integer", allOf(matchCond("meta.score", "value", 70)), []int{7}},
	{"array key", allOf(matchCond("items[].name", "value", "kiwi")), []int{7}},
	{"array keys are not one element", allOf(matchCond("items[].name", "value", "apple"), fieldCond("items[].qty", "range", rng("gte", 5))), []int{1, 2, 8, 9}},
	// datetimes, with offsets and mixed formats
	{"datetime instant", allOf(fieldCond("ts", "range", rng("gte", "2024-01-01T00:00:00Z", "lte", "2024-01-01T00:00:00Z"))), []int{1, 2}},
	{"datetime offset bounds", allOf(fieldCond("ts", "range", rng("gte", "2024-01-01T01:00:00+01:00", "lte", "2024-01-01 00:00"))), []int{1, 2}},
	{"datetime microsecond", allOf(fieldCond("ts", "range", rng("gt", "2024-01-01T00:00:00Z", "lt", "2024-01-02T05:00:00Z"))), []int{8}},
	{"datetime negative offset bound", allOf(fieldCond("ts", "range", rng("gt", "2024-01-01", "lte", "2024-01-02T00:00:00-05:00"))), []int{3, 8}},
	{"datetime before", allOf(fieldCond("ts", "range", rng("lt", "2024-01-01"))), []int{7, 9, 10}},
	{"datetime after", allOf(fieldCond("ts", "range", rng("gte", "2024-01-03T13:00:00+01:00"))), []int{4, 5, 10}},
	{"datetime fraction", allOf(fieldCond("ts", "range", rng("gte", "2024-02-01T00:00:00.4Z"))), []int{5}},
	{"datetime fraction exclusive", allOf(fieldCond("ts", "range", rng("gt", "2024-02-01T00:00:00.5Z"))), nil},
	{"datetime offset without colon", allOf(fieldCond("ts", "range", rng("gte", "2024-01-01T05:30:00+0530", "lte", "2024-01-01T00:00:00+0000"))), []int{1, 2}},
	{"datetime bounds without seconds", allOf(fieldCond("ts", "range", rng("gte", "2024-01-01T00:00", "lte", "2024-01-01t00:00"))), []int{1, 2}},
	{"datetime plus fourteen", allOf(fieldCond("ts", "range", rng("gte", "2023-12-31T10:00:00Z", "lte", "2023-12-31T10:00:00Z"))), []int{9}},
	// geo
	{"geo radius small", allOf(fieldCond("loc", "geo_radius", map[string]any{"center": geoPt(13.405, 52.52), "radius": 10000})), []int{1}},
	{"geo radius", allOf(fieldCond("loc", "geo_radius", map[string]any{"center": geoPt(13.405, 52.52), "radius": 100000})), []int{1, 4}},
	{"geo bounding box europe", allOf(fieldCond("loc", "geo_bounding_box", map[string]any{"top_left": geoPt(-1, 53), "bottom_right": geoPt(14, 48)})), []int{1, 2, 3, 4}},
	{"geo bounding box", allOf(fieldCond("loc", "geo_bounding_box", map[string]any{"top_left": geoPt(4, 16), "bottom_right": geoPt(16, 4)})), []int{7, 8, 9, 10, 11}},
	{"geo polygon", allOf(fieldCond("loc", "geo_polygon", map[string]any{"exterior": map[string]any{"points": polyExterior}})), []int{7, 8, 9, 10, 11}},
	{"geo polygon with a hole", allOf(fieldCond("loc", "geo_polygon", map[string]any{
		"exterior": map[string]any{"points": polyExterior}, "interiors": []any{map[string]any{"points": polyHole}}})), []int{7, 9, 11}},
	{"geo polygon outside", allOf(fieldCond("loc", "geo_polygon", map[string]any{"exterior": map[string]any{"points": []any{geoPt(100, 0), geoPt(110, 0), geoPt(110, 10), geoPt(100, 0)}}})), nil},
	// values_count
	{"values_count gte", allOf(fieldCond("tags", "values_count", rng("gte", 2))), []int{3, 4}},
	{"values_count missing is zero", allOf(fieldCond("tags", "values_count", rng("lt", 1))), []int{1, 6, 9, 10, 11, 12}},
	{"values_count one", allOf(fieldCond("tags", "values_count", rng("gt", 0, "lte", 1))), []int{2, 5, 7, 8}},
	{"values_count on objects", allOf(fieldCond("items", "values_count", rng("gte", 2))), []int{1, 7}},
	// is_empty / is_null, both syntaxes
	{"is_empty", allOf(map[string]any{"is_empty": map[string]any{"key": "color"}}), []int{5, 6, 10}},
	{"is_empty field form", allOf(fieldCond("color", "is_empty", true)), []int{5, 6, 10}},
	{"must_not is_empty", map[string]any{"must_not": []any{map[string]any{"is_empty": map[string]any{"key": "color"}}}}, []int{1, 2, 3, 4, 7, 8, 9, 11, 12}},
	{"is_null", allOf(map[string]any{"is_null": map[string]any{"key": "color"}}), []int{5}},
	{"is_null matches arrays holding null", allOf(map[string]any{"is_null": map[string]any{"key": "nul"}}), []int{1, 2, 3}},
	{"is_null field form", allOf(fieldCond("nul", "is_null", true)), []int{1, 2, 3}},
	{"is_null missing key", allOf(map[string]any{"is_null": map[string]any{"key": "nothing"}}), nil},
	// has_id / has_vector
	{"has_id", allOf(map[string]any{"has_id": []any{1, 3, 99}}), []int{1, 3}},
	{"must_not has_id", map[string]any{"must_not": []any{map[string]any{"has_id": []any{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}}}, []int{11, 12}},
	{"has_vector named", allOf(map[string]any{"has_vector": "b"}), []int{1, 3, 5, 8, 11}},
	{"has_vector all", allOf(map[string]any{"has_vector": "a"}), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
	{"must_not has_vector", map[string]any{"must_not": []any{map[string]any{"has_vector": "b"}}}, []int{2, 4, 6, 7, 9, 10, 12}},
	// nested
	{"nested", allOf(nested("items", allOf(matchCond("name", "value", "apple"), fieldCond("qty", "range", rng("gte", 5))))), []int{2, 8, 9}},
	{"nested must_not", allOf(nested("items", map[string]any{"must_not": []any{matchCond("name", "value", "apple")}})), []int{1, 3, 7}},
	{"nested is_empty", allOf(nested("items", allOf(map[string]any{"is_empty": map[string]any{"key": "qty"}}))), []int{7}},
	{"nested should", allOf(nested("items", map[string]any{"should": []any{matchCond("name", "value", "kiwi"), fieldCond("qty", "range", rng("gt", 8))}})), []int{7, 8}},
	{"must_not nested", map[string]any{"must_not": []any{nested("items", allOf(matchCond("name", "value", "apple")))}}, []int{3, 4, 5, 6, 10, 11, 12}},
	// min_should and boolean structure
	{"min_should 2", map[string]any{"min_should": map[string]any{"min_count": 2, "conditions": []any{
		matchCond("color", "value", "red"), matchCond("flag", "value", true), fieldCond("n", "range", rng("gte", 4))}}}, []int{1, 3, 4}},
	{"min_should 3", map[string]any{"min_should": map[string]any{"min_count": 3, "conditions": []any{
		matchCond("color", "value", "red"), matchCond("flag", "value", true), fieldCond("n", "range", rng("gte", 4))}}}, []int{3}},
	{"min_should more than conditions", map[string]any{"min_should": map[string]any{"min_count": 3, "conditions": []any{
		matchCond("color", "value", "red"), matchCond("flag", "value", true)}}}, nil},
	{"min_should with must", map[string]any{"must": []any{matchCond("meta.tier", "value", "gold")}, "min_should": map[string]any{"min_count": 2, "conditions": []any{
		matchCond("color", "value", "red"), matchCond("flag", "value", true), fieldCond("n", "range", rng("gte", 4))}}}, []int{1, 3}},
	{"should", map[string]any{"should": []any{matchCond("color", "value", "green"), fieldCond("n", "range", rng("gte", 7))}}, []int{2, 3, 7, 9, 11}},
	{"must_not", map[string]any{"must_not": []any{matchCond("color", "value", "red")}}, []int{2, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
	{"filters in filters", allOf(
		map[string]any{"should": []any{matchCond("flag", "value", true), fieldCond("price", "range", rng("gt", 5))}},
		map[string]any{"must_not": []any{matchCond("color", "value", "blue")}},
	), []int{1, 7, 8, 9}},
	{"index and payload conditions", allOf(matchCond("color", "any", []string{"red", "blue"}), map[string]any{"has_vector": "b"}, fieldCond("tags", "values_count", rng("gte", 1))), []int{3}},
	{"contradiction", allOf(matchCond("color", "value", "red"), map[string]any{"must_not": []any{matchCond("color", "value", "red")}}), nil},
	{"empty filter", map[string]any{}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
}

// TestFilterConditions runs each case through count, scroll (in pages)
// and query on every index variant: all must return exactly the expected
// points.
func TestFilterConditions(t *testing.T) {
	s := newServer(t, rest.Options{})
	colls := filterCollections(t, s)
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) {
			s := s.on(t)
			want := idTexts(tc.want...)
			var problems []string
			for _, coll := range colls {
				if got := s.count(coll, tc.filter); got != len(tc.want) {
					problems = append(problems, fmt.Sprintf("%s: count %d, want %d", coll, got, len(tc.want)))
				}
				if got := s.scrollIDs(coll, tc.filter, 4); !slices.Equal(got, want) {
					problems = append(problems, fmt.Sprintf("%s: scroll %v, want %v", coll, got, want))
				}
				hits := s.query(coll, map[string]any{"query": []float32{1, 0}, "using": "a", "filter": tc.filter, "limit": 20})
				if got := sortedCopy(ids(hits)); !slices.Equal(got, want) {
					problems = append(problems, fmt.Sprintf("%s: query %v, want %v", coll, got, want))
				}
			}
			switch bug := knownFilterBugs[tc.name]; {
			case bug != "" && len(problems) > 0:
				t.Skipf("known bug (%s):\n%s", bug, strings.Join(problems, "\n"))
			case bug != "":
				t.Errorf("passes now: remove the knownFilterBugs entry %q", bug)
			}
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}

// TestFullTextModes checks full-text matching: without a text index it is
// a case-sensitive substring test, with one it matches tokens, as in
// Qdrant.
func TestFullTextModes(t *testing.T) {
	s := newServer(t, rest.Options{})
	pts := []pointIn{
		{ID: 1, Vector: vec2, Payload: map[string]any{"d": "Good apples are good"}},
		{ID: 2, Vector: vec2, Payload: map[string]any{"d": "goodness gracious"}},
		{ID: 3, Vector: vec2, Payload: map[string]any{"d": "The apple pie"}},
		{ID: 4, Vector: vec2, Payload: map[string]any{"d": []any{"first apple", "second pear"}}},
		{ID: 5, Vector: vec2, Payload: map[string]any{"d": "APPLE"}},
		{ID: 6, Vector: vec2, Payload: map[string]any{"d": "pineapple"}},
		{ID: 7, Vector: vec2, Payload: map[string]any{"d": 42}},
		{ID: 8, Vector: vec2, Payload: map[string]any{"other": "apple"}},
	}
	colls := []struct {
		name   string
		schema any
		cases  []filterCase
	}{
		{"text_none", nil, []filterCase{
			{"text substring", allOf(matchCond("d", "text", "good")), []int{1, 2}},
			{"text inside words", allOf(matchCond("d", "text", "apple")), []int{1, 3, 4, 6}},
			{"text case sensitive", allOf(matchCond("d", "text", "APPLE")), []int{5}},
			{"text two words", allOf(matchCond("d", "text", "apple pie")), []int{3}},
			{"text_any", allOf(matchCond("d", "text_any", "pear pie")), []int{3, 4}},
			{"phrase", allOf(matchCond("d", "phrase", "first apple")), []int{4}},
			{"phrase order", allOf(matchCond("d", "phrase", "apple first")), nil},
		}},
		{"text_word", map[string]any{"type": "text", "tokenizer": "word", "phrase_matching": true}, []filterCase{
			{"text token", allOf(matchCond("d", "text", "good")), []int{1}},
			{"text whole tokens", allOf(matchCond("d", "text", "apple")), []int{3, 4, 5}},
			{"text lowercased", allOf(matchCond("d", "text", "APPLE")), []int{3, 4, 5}},
			{"text all tokens anywhere", allOf(matchCond("d", "text", "pie the")), []int{3}},
			{"text tokens across values", allOf(matchCond("d", "text", "first pear")), []int{4}},
			{"text unknown token", allOf(matchCond("d", "text", "apple banana")), nil},
			{"text_any", allOf(matchCond("d", "text_any", "pear pie banana")), []int{3, 4}},
			{"phrase", allOf(matchCond("d", "phrase", "first apple")), []int{4}},
			{"phrase order", allOf(matchCond("d", "phrase", "apple first")), nil},
			{"phrase not adjacent", allOf(matchCond("d", "phrase", "the pie")), nil},
		}},
		{"text_prefix", map[string]any{"type": "text", "tokenizer": "prefix", "max_token_len": 10}, []filterCase{
			{"prefix of a word", allOf(matchCond("d", "text", "app")), []int{1, 3, 4, 5}},
			{"prefix and word", allOf(matchCond("d", "text", "gra good")), []int{2}},
			{"not a prefix", allOf(matchCond("d", "text", "pple")), nil},
		}},
		{"text_stopwords", map[string]any{"type": "text", "tokenizer": "whitespace", "lowercase": false, "stopwords": map[string]any{"custom": []string{"pie"}}, "min_token_len": 4}, []filterCase{
			{"whitespace tokens keep case", allOf(matchCond("d", "text", "Good")), []int{1}},
			{"lowercase off", allOf(matchCond("d", "text", "APPLE")), []int{5}},
			{"short tokens dropped", allOf(matchCond("d", "text_any", "The apple")), []int{3, 4}},
		}},
	}
	for _, c := range colls {
		t.Run(c.name, func(t *testing.T) {
			s := s.on(t)
			s.createCollection(c.name, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
			s.upsert(c.name, pts...)
			if c.schema != nil {
				s.createIndex(c.name, "d", c.schema)
			}
			for _, tc := range c.cases {
				want := idTexts(tc.want...)
				if want == nil {
					want = []string{}
				}
				got := s.scrollIDs(c.name, tc.filter, 3)
				if got == nil {
					got = []string{}
				}
				assertJSON(t, tc.name+": scroll", got, want)
				if n := s.count(c.name, tc.filter); n != len(tc.want) {
					t.Errorf("%s: count %d, want %d", tc.name, n, len(tc.want))
				}
			}
		})
	}
}

// randomPayload draws a payload over small domains so that random filters
// select something; keys are sometimes missing, null, arrays or of another
// type.
func randomPayload(r *rand.Rand) map[string]any {
	p := map[string]any{}
	pick := func(vals ...any) any { return vals[r.IntN(len(vals))] }
	maybeArray := func(gen func() any) any {
		switch r.IntN(8) {
		case 0:
			return nil
		case 1:
			return []any{}
		case 2, 3:
			n := 1 + r.IntN(3)
			a := make([]any, n)
			for i := range a {
				a[i] = gen()
			}
			return a
		}
		return gen()
	}
	set := func(key string, gen func() any) {
		if r.IntN(6) != 0 {
			p[key] = maybeArray(gen)
		}
	}
	set("color", func() any { return pick("red", "green", "blue", "black", "white") })
	set("n", func() any { return r.IntN(26) - 5 })
	set("price", func() any { return float64(r.IntN(10000)) / 100 })
	set("flag", func() any { return r.IntN(2) == 0 })
	set("ts", func() any {
		return fmt.Sprintf("2024-01-%02dT%02d:%02d:00%s", 1+r.IntN(28), r.IntN(24), r.IntN(60), pick("Z", "+01:00", "-05:00", "+0530", ""))
	})
	set("loc", func() any { return geoPt(float64(r.IntN(2000))/100, float64(r.IntN(2000))/100) })
	set("uid", func() any { return pick(uuid1, uuid2, uuid3) })
	set("tags", func() any { return pick("a", "b", "c", "d") })
	if r.IntN(4) != 0 {
		p["meta"] = map[string]any{"tier": pick("gold", "silver"), "score": r.IntN(101)}
	}
	if r.IntN(10) == 0 {
		p["color"] = r.IntN(3) // wrong type now and then
	}
	return p
}

// randomCondition draws one condition over the keys of randomPayload;
// depth bounds nesting of sub-filters.
func randomCondition(r *rand.Rand, depth int) any {
	pick := func(vals ...any) any { return vals[r.IntN(len(vals))] }
	colors := func() []string {
		all := []string{"red", "green", "blue", "black", "white", "purple"}
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		return all[:1+r.IntN(3)]
	}
	ints := func() []int {
		out := make([]int, 1+r.IntN(4))
		for i := range out {
			out[i] = r.IntN(26) - 5
		}
		return out
	}
	n := 20
	if depth > 0 {
		n = 23
	}
	switch r.IntN(n) {
	case 0:
		return matchCond("color", "value", pick("red", "green", "blue", "black", "white"))
	case 1:
		return matchCond("color", "any", colors())
	case 2:
		return matchCond("color", "except", colors())
	case 3:
		return matchCond("n", "value", r.IntN(26)-5)
	case 4:
		return matchCond("n", "any", ints())
	case 5:
		return matchCond("n", "except", ints())
	case 6:
		lo := r.IntN(26) - 5
		return fieldCond("n", "range", rng(pick("gt", "gte").(string), lo, pick("lt", "lte").(string), lo+r.IntN(10)))
	case 7:
		lo := float64(r.IntN(100))
		return fieldCond("price", "range", rng("gte", lo, "lt", lo+float64(r.IntN(50))))
	case 8:
		return matchCond("flag", "value", r.IntN(2) == 0)
	case 9:
		d := 1 + r.IntN(27)
		return fieldCond("ts", "range", rng("gte", fmt.Sprintf("2024-01-%02dT12:00:00+02:00", d), "lt", fmt.Sprintf("2024-01-%02d", d+1)))
	case 10:
		return fieldCond("loc", "geo_radius", map[string]any{"center": geoPt(float64(r.IntN(20)), float64(r.IntN(20))), "radius": float64(50000 + r.IntN(500000))})
	case 11:
		x, y := float64(r.IntN(15)), float64(r.IntN(15))
		return fieldCond("loc", "geo_bounding_box", map[string]any{"top_left": geoPt(x, y+5), "bottom_right": geoPt(x+5, y)})
	case 12:
		return fieldCond("loc", "geo_polygon", map[string]any{"exterior": map[string]any{"points": polyExterior}, "interiors": []any{map[string]any{"points": polyHole}}})
	case 13:
		return matchCond("uid", "value", pick(uuid1, uuid2, uuid3))
	case 14:
		return fieldCond("tags", "values_count", rng(pick("gte", "lt").(string), r.IntN(4)))
	case 15:
		return map[string]any{"is_empty": map[string]any{"key": pick("color", "tags", "n")}}
	case 16:
		return map[string]any{"is_null": map[string]any{"key": pick("color", "tags", "flag")}}
	case 17:
		ids := make([]int, 1+r.IntN(20))
		for i := range ids {
			ids[i] = 1 + r.IntN(220)
		}
		return map[string]any{"has_id": ids}
	case 18:
		return matchCond("meta.tier", "value", pick("gold", "silver"))
	case 19:
		return fieldCond("meta.score", "range", rng("lt", r.IntN(101)))
	case 20:
		return map[string]any{"should": randomConditions(r, depth-1, 1+r.IntN(3))}
	case 21:
		return map[string]any{"must_not": randomConditions(r, depth-1, 1+r.IntN(2))}
	default:
		return randomFilter(r, depth-1)
	}
}

func randomConditions(r *rand.Rand, depth, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = randomCondition(r, depth)
	}
	return out
}

func randomFilter(r *rand.Rand, depth int) map[string]any {
	f := map[string]any{}
	if k := r.IntN(3); k > 0 {
		f["must"] = randomConditions(r, depth, k)
	}
	if r.IntN(3) == 0 {
		f["should"] = randomConditions(r, depth, 1+r.IntN(3))
	}
	if r.IntN(3) == 0 {
		f["must_not"] = randomConditions(r, depth, 1+r.IntN(2))
	}
	if r.IntN(5) == 0 {
		k := 2 + r.IntN(2)
		f["min_should"] = map[string]any{"min_count": 1 + r.IntN(k), "conditions": randomConditions(r, depth, k)}
	}
	return f
}

// TestRandomFiltersCountMatchesScroll draws random payloads and ~50 random
// filters: the filtered count equals the number of points a filtered
// scroll returns, with every index present, and both equal the answers of
// a collection without indexes. The approximate count stays in [0, total].
func TestRandomFiltersCountMatchesScroll(t *testing.T) {
	r := seededRand(t)
	s := newServer(t, rest.Options{})
	const total = 220
	var pts []pointIn
	for i := 1; i <= total; i++ {
		pts = append(pts, pointIn{ID: i, Vector: randVector(r, 2), Payload: randomPayload(r)})
	}
	const plain, indexed = "random_plain", "random_indexed"
	for _, c := range []string{plain, indexed} {
		s.createCollection(c, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	}
	// Indexes first on half of the points, then the rest, then updates, so
	// that both the build and the incremental paths are used.
	for _, ix := range filterIndexSets[1].indexes {
		if ix[0] == "nul" || ix[0] == "items[].name" || ix[0] == "items[].qty" {
			continue
		}
		s.createIndex(indexed, ix[0].(string), ix[1])
	}
	for _, c := range []string{plain, indexed} {
		s.upsert(c, pts[:total/2]...)
	}
	s.createIndex(indexed, "meta.tier", map[string]any{"type": "keyword", "is_tenant": true})
	for _, c := range []string{plain, indexed} {
		s.upsert(c, pts[total/2:]...)
		s.write(http.MethodPost, collPath(c, "/points/payload"), map[string]any{"points": []int{3, 4, 5}, "payload": map[string]any{"color": "red", "n": 7}})
		s.write(http.MethodPost, collPath(c, "/points/delete"), map[string]any{"points": []int{10, 11, 12}})
	}
	live := total - 3

	const nFilters = 50
	nonTrivial := 0
	for i := range nFilters {
		f := randomFilter(r, 2)
		name := fmt.Sprintf("filter %d %s", i, mustJSON(t, f))
		n := s.count(indexed, f)
		got := s.scrollIDs(indexed, f, 37)
		if n != len(got) {
			t.Errorf("%s: count %d, scroll returned %d points", name, n, len(got))
		}
		if u := slices.Compact(sortedCopy(got)); len(u) != len(got) {
			t.Errorf("%s: scroll returned a point twice: %v", name, got)
		}
		want := s.scrollIDs(plain, f, 1000)
		assertJSON(t, name+": indexed vs plain", got, want)
		if pn := s.count(plain, f); pn != n {
			t.Errorf("%s: count %d without indexes, %d with", name, pn, n)
		}
		for _, c := range []string{plain, indexed} {
			if est := s.approxCount(c, f); est < 0 || est > live {
				t.Errorf("%s: %s approximate count %d not in [0, %d]", name, c, est, live)
			}
		}
		if n > 0 && n < live {
			nonTrivial++
		}
	}
	t.Logf("%d of %d filters selected some but not all points", nonTrivial, nFilters)
	if nonTrivial < nFilters/4 {
		t.Errorf("only %d of %d random filters were selective: the generator needs work", nonTrivial, nFilters)
	}
}

// TestApproximateCount checks count with exact=false: a number between 0
// and the total, equal to the exact count where an index answers exactly
// (match any is a should over the counts of its values, as in Qdrant).
func TestApproximateCount(t *testing.T) {
	s := newServer(t, rest.Options{})
	const coll = "approx"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	var pts []pointIn
	for i := 1; i <= 100; i++ {
		pts = append(pts, pointIn{ID: i, Vector: vec2, Payload: map[string]any{"k": []string{"a", "b", "c", "d"}[i%4], "n": i, "free": i % 3}})
	}
	s.upsert(coll, pts...)
	s.createIndex(coll, "k", "keyword")
	s.createIndex(coll, "n", "integer")
	s.write(http.MethodPost, collPath(coll, "/points/delete"), map[string]any{"points": []int{4, 8}})

	cases := []struct {
		name   string
		filter any
		exact  bool // the estimate must be exact
	}{
		{"no filter", nil, true},
		{"indexed keyword", allOf(matchCond("k", "value", "a")), true},
		{"indexed keyword any", allOf(matchCond("k", "any", []string{"a", "b"})), false},
		{"indexed range", allOf(fieldCond("n", "range", rng("gt", 50))), true},
		{"unindexed", allOf(matchCond("free", "value", 1)), false},
		{"mixed", allOf(matchCond("k", "value", "b"), matchCond("free", "value", 1)), false},
		{"should", map[string]any{"should": []any{matchCond("k", "value", "a"), matchCond("free", "value", 2)}}, false},
		{"must_not", map[string]any{"must_not": []any{matchCond("free", "value", 0)}}, false},
		{"nothing", allOf(matchCond("k", "value", "zzz")), true},
	}
	for _, tc := range cases {
		exact := s.count(coll, tc.filter)
		est := s.approxCount(coll, tc.filter)
		if est < 0 || est > 98 {
			t.Errorf("%s: approximate count %d not in [0, 98]", tc.name, est)
		}
		if tc.exact && est != exact {
			t.Errorf("%s: approximate count %d, exact %d", tc.name, est, exact)
		}
		t.Logf("%s: exact %d, approximate %d", tc.name, exact, est)
	}
}

// TestApproximateCountQdrant is Qdrant's test_approx_count_search
// (tests/openapi/test_count.py): on its ten-point collection, a should of
// two unindexed matches estimates 1 - (1/2)^2 of the points, 7.5 rounded to
// 8, which must be under 10 and over 0; the exact count is 4.
func TestApproximateCountQdrant(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("q", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	cities := []string{"Berlin", "London", "Moscow", "Berlin", "London", "Tokyo", "Paris", "Rome", "Oslo", "Madrid"}
	var pts []pointIn
	for i, c := range cities {
		pts = append(pts, pointIn{ID: i + 1, Vector: vec2, Payload: map[string]any{"city": c}})
	}
	s.upsert("q", pts...)
	f := map[string]any{"should": []any{matchCond("city", "value", "London"), matchCond("city", "value", "Berlin")}}
	if got := s.count("q", f); got != 4 {
		t.Errorf("exact count %d, want 4", got)
	}
	if got := s.approxCount("q", f); got != 8 {
		t.Errorf("approximate count %d, want 8", got)
	}
}

// TestDatetimeFormatsWithAndWithoutIndex stores datetimes in every format
// Qdrant accepts (and a few it does not) and checks that a datetime index
// reads each value as the filter does without an index.
func TestDatetimeFormatsWithAndWithoutIndex(t *testing.T) {
	s := newServer(t, rest.Options{})
	formats := []string{
		"2024-01-05T10:00:00Z",
		"2024-01-05t10:00:00z",
		"2024-01-05 10:00:00",
		"2024-01-05T10:00:00",
		"2024-01-05T10:00:00.123456Z",
		"2024-01-05T10:00:00.123456789+05:30",
		"2024-01-05T10:00:00+0530",
		"2024-01-05T10:00:00-03",
		"2024-01-05 10:00:00 +01:00",
		"2024-01-05 10:00",
		"2024-01-05T10:00",
		"2024-01-05",
		"2024-01-05T10:00:60Z",
		"2024-02-29T00:00:00Z",
		"2024-1-5T10:00:00Z",
		"2024-01-05T10:00Z",
		"2023-02-29T00:00:00Z",
		"2024-01-05T25:00:00Z",
		"05/01/2024",
		"",
	}
	// Formats the filter reads but the index does not (reported).
	knownBug := map[string]bool{"2024-1-5T10:00:00Z": true}
	var pts []pointIn
	for i, f := range formats {
		pts = append(pts, pointIn{ID: i + 1, Vector: vec2, Payload: map[string]any{"ts": f}})
	}
	for _, c := range []string{"dt_plain", "dt_indexed"} {
		s.createCollection(c, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
		s.upsert(c, pts...)
	}
	s.createIndex("dt_indexed", "ts", "datetime")
	ranges := []map[string]any{
		rng("gte", "2000-01-01"),
		rng("gte", "2024-01-05T10:00:00Z", "lte", "2024-01-05T10:00:00Z"),
		rng("gt", "2024-01-05T04:30:00Z", "lt", "2024-01-05T10:00:01Z"),
		rng("lt", "2024-01-05T10:00:00.123457Z", "gt", "2024-01-05T10:00:00.123455Z"),
	}
	for _, rg := range ranges {
		f := allOf(fieldCond("ts", "range", rg))
		plain := s.scrollIDs("dt_plain", f, 100)
		indexed := s.scrollIDs("dt_indexed", f, 100)
		in := func(list []string, id string) bool { return slices.Contains(list, id) }
		for i, format := range formats {
			id := idText(i + 1)
			if in(plain, id) == in(indexed, id) {
				continue
			}
			if knownBug[format] {
				t.Logf("known bug: %q matches %s without an index: %v, with one: %v (internal/index/payload/datetime_parse.go reads fewer forms than internal/filter/datetime.go)",
					format, mustJSON(t, rg), in(plain, id), in(indexed, id))
				continue
			}
			t.Errorf("%q under %s: matches without an index: %v, with a datetime index: %v", format, mustJSON(t, rg), in(plain, id), in(indexed, id))
		}
	}
	if n := s.indexedPoints("dt_indexed", "ts"); n < 10 {
		t.Errorf("datetime index holds %d points, want the 10+ valid ones", n)
	}
}
