package filter

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

// evalCase is one filter checked against one payload.
type evalCase struct {
	name    string
	filter  string // a whole filter, or a condition when it does not start with {"must
	payload string
	want    bool
}

func decodePayload(t testing.TB, s string) point.Payload {
	t.Helper()
	p, err := point.DecodePayload([]byte(s))
	if err != nil {
		t.Fatalf("payload %s: %v", s, err)
	}
	return p
}

func mustParse(t testing.TB, s string) *Filter {
	t.Helper()
	f, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return f
}

// runEval parses each case's condition inside {"must": [...]} and checks it
// against the payload, and the negation through must_not.
func runEval(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := decodePayload(t, c.payload)
			f := mustParse(t, `{"must": [`+c.filter+`]}`)
			if got := f.Matches(point.NumID(1), p); got != c.want {
				t.Fatalf("must %s on %s = %v, want %v", c.filter, c.payload, got, c.want)
			}
			f = mustParse(t, `{"must_not": `+c.filter+`}`)
			if got := f.Matches(point.NumID(1), p); got == c.want {
				t.Fatalf("must_not %s on %s = %v, want %v", c.filter, c.payload, got, !c.want)
			}
		})
	}
}

func TestMatchValue(t *testing.T) {
	kw := `{"key": "c", "match": {"value": "red"}}`
	num := `{"key": "n", "match": {"value": 5}}`
	yes := `{"key": "b", "match": {"value": true}}`
	runEval(t, []evalCase{
		{"keyword", kw, `{"c": "red"}`, true},
		{"keyword other", kw, `{"c": "blue"}`, false},
		{"keyword in array", kw, `{"c": ["blue", "red"]}`, true},
		{"keyword nested array not flattened", kw, `{"c": [["red"]]}`, false},
		{"keyword vs number", `{"key": "c", "match": {"value": "5"}}`, `{"c": 5}`, false},
		{"keyword missing", kw, `{}`, false},
		{"keyword null", kw, `{"c": null}`, false},
		{"keyword empty array", kw, `{"c": []}`, false},
		{"keyword object", kw, `{"c": {"red": 1}}`, false},
		{"integer", num, `{"n": 5}`, true},
		{"integer other", num, `{"n": 6}`, false},
		{"integer vs float literal", num, `{"n": 5.0}`, false},
		{"integer vs exponent literal", num, `{"n": 5e0}`, false},
		{"integer vs string", num, `{"n": "5"}`, false},
		{"integer in array", num, `{"n": [1, 5]}`, true},
		{"negative integer", `{"key": "n", "match": {"value": -7}}`, `{"n": -7}`, true},
		{"bool", yes, `{"b": true}`, true},
		{"bool other", yes, `{"b": false}`, false},
		{"bool vs string", yes, `{"b": "true"}`, false},
		{"bool vs number", yes, `{"b": 1}`, false},
		{"false", `{"key": "b", "match": {"value": false}}`, `{"b": [true, false]}`, true},
		{"nested key", `{"key": "a.b", "match": {"value": "x"}}`, `{"a": {"b": "x"}}`, true},
		{"key does not enter arrays", `{"key": "a.b", "match": {"value": "x"}}`, `{"a": [{"b": "x"}]}`, false},
		{"wildcard", `{"key": "a[].b", "match": {"value": "x"}}`, `{"a": [{"b": "y"}, {"b": "x"}]}`, true},
		{"wildcard over arrays", `{"key": "a[].b", "match": {"value": "x"}}`, `{"a": [{"b": ["y", "x"]}]}`, true},
		{"index", `{"key": "a[0].b", "match": {"value": "x"}}`, `{"a": [{"b": "x"}, {"b": "y"}]}`, true},
		{"other index", `{"key": "a[1].b", "match": {"value": "x"}}`, `{"a": [{"b": "x"}, {"b": "y"}]}`, false},
		{"quoted key", `{"key": "\"a.b\"", "match": {"value": 1}}`, `{"a.b": 1}`, true},
	})
}

func TestMatchAny(t *testing.T) {
	var many []string
	for i := range 20 {
		many = append(many, `"k`+string(rune('a'+i))+`"`)
	}
	manyKw := `{"key": "c", "match": {"any": [` + strings.Join(many, ",") + `]}}`
	runEval(t, []evalCase{
		{"keyword", `{"key": "c", "match": {"any": ["red", "blue"]}}`, `{"c": "blue"}`, true},
		{"keyword miss", `{"key": "c", "match": {"any": ["red", "blue"]}}`, `{"c": "green"}`, false},
		{"keyword array", `{"key": "c", "match": {"any": ["red"]}}`, `{"c": ["green", "red"]}`, true},
		{"empty list", `{"key": "c", "match": {"any": []}}`, `{"c": "red"}`, false},
		{"integers", `{"key": "n", "match": {"any": [1, 3]}}`, `{"n": 3}`, true},
		{"integers vs float", `{"key": "n", "match": {"any": [3]}}`, `{"n": 3.0}`, false},
		{"integers vs string", `{"key": "n", "match": {"any": [3]}}`, `{"n": "3"}`, false},
		{"strings vs integer", `{"key": "n", "match": {"any": ["3"]}}`, `{"n": 3}`, false},
		{"missing", `{"key": "n", "match": {"any": [1]}}`, `{}`, false},
		{"large set hit", manyKw, `{"c": "ks"}`, true},
		{"large set miss", manyKw, `{"c": "kz"}`, false},
		{"duplicates", `{"key": "n", "match": {"any": [2, 2, 2]}}`, `{"n": 2}`, true},
	})
}

func TestMatchExcept(t *testing.T) {
	kw := `{"key": "c", "match": {"except": ["red"]}}`
	ints := `{"key": "n", "match": {"except": [5]}}`
	runEval(t, []evalCase{
		{"in list", kw, `{"c": "red"}`, false},
		{"not in list", kw, `{"c": "blue"}`, true},
		{"missing", kw, `{}`, false},
		{"null", kw, `{"c": null}`, false},
		{"empty array", kw, `{"c": []}`, false},
		{"array with other", kw, `{"c": ["red", "blue"]}`, true},
		{"array all listed", kw, `{"c": ["red", "red"]}`, false},
		{"array null and listed", kw, `{"c": [null, "red"]}`, false},
		{"array null and other", kw, `{"c": [null, "blue"]}`, true},
		{"number vs keywords", kw, `{"c": 5}`, true},
		{"bool", kw, `{"c": true}`, true},
		{"object", kw, `{"c": {"a": 1}}`, true},
		{"nested array", kw, `{"c": [["red"]]}`, true},
		{"integer in list", ints, `{"n": 5}`, false},
		{"integer not in list", ints, `{"n": 6}`, true},
		{"float vs integers", ints, `{"n": 5.0}`, true},
		{"string vs integers", ints, `{"n": "5"}`, true},
		{"empty list", `{"key": "c", "match": {"except": []}}`, `{"c": "red"}`, true},
		{"empty list number", `{"key": "c", "match": {"except": []}}`, `{"c": 1}`, true},
		{"empty list null", `{"key": "c", "match": {"except": []}}`, `{"c": null}`, false},
	})
}

func TestMatchPrefix(t *testing.T) {
	c := `{"key": "c", "match": {"prefix": "he"}}`
	runEval(t, []evalCase{
		{"prefix", c, `{"c": "hello"}`, true},
		{"equal", c, `{"c": "he"}`, true},
		{"case sensitive", c, `{"c": "Hello"}`, false},
		{"array", c, `{"c": ["x", "hey"]}`, true},
		{"number", c, `{"c": 5}`, false},
		{"empty prefix", `{"key": "c", "match": {"prefix": ""}}`, `{"c": ""}`, true},
	})
}

func TestRange(t *testing.T) {
	runEval(t, []evalCase{
		{"gt", `{"key": "p", "range": {"gt": 4}}`, `{"p": 5}`, true},
		{"gt equal", `{"key": "p", "range": {"gt": 5}}`, `{"p": 5}`, false},
		{"gte equal", `{"key": "p", "range": {"gte": 5}}`, `{"p": 5}`, true},
		{"lt equal", `{"key": "p", "range": {"lt": 5}}`, `{"p": 5}`, false},
		{"lte equal", `{"key": "p", "range": {"lte": 5}}`, `{"p": 5}`, true},
		{"float between", `{"key": "p", "range": {"gt": 5, "lt": 6}}`, `{"p": 5.5}`, true},
		{"float bounds on int", `{"key": "p", "range": {"gte": 4.5, "lte": 5.5}}`, `{"p": 5}`, true},
		{"outside", `{"key": "p", "range": {"gte": 1, "lte": 2}}`, `{"p": 3}`, false},
		{"string", `{"key": "p", "range": {"gt": 1}}`, `{"p": "5"}`, false},
		{"bool", `{"key": "p", "range": {"gt": 0}}`, `{"p": true}`, false},
		{"null", `{"key": "p", "range": {"gt": 0}}`, `{"p": null}`, false},
		{"missing", `{"key": "p", "range": {"gt": 0}}`, `{}`, false},
		{"array any", `{"key": "p", "range": {"gt": 5}}`, `{"p": [1, 10]}`, true},
		{"array none", `{"key": "p", "range": {"gt": 5}}`, `{"p": [1, 2]}`, false},
		{"no bounds number", `{"key": "p", "range": {}}`, `{"p": -1}`, true},
		{"no bounds string", `{"key": "p", "range": {}}`, `{"p": "x"}`, false},
		{"null bounds", `{"key": "p", "range": {"gt": null, "lt": 3}}`, `{"p": 2}`, true},
		{"huge unsigned", `{"key": "p", "range": {"gt": 1e19}}`, `{"p": 18446744073709551615}`, true},
		{"nested path", `{"key": "a[].p", "range": {"lt": 0}}`, `{"a": [{"p": 1}, {"p": -1}]}`, true},
	})
}

func TestFieldConditionMatchOrRange(t *testing.T) {
	c := `{"key": "p", "match": {"value": 1}, "range": {"gt": 5}}`
	runEval(t, []evalCase{
		{"match side", c, `{"p": 1}`, true},
		{"range side", c, `{"p": 7}`, true},
		{"neither", c, `{"p": 3}`, false},
		{"is_empty wins", `{"key": "p", "is_empty": true, "match": {"value": 1}}`, `{"p": 1}`, false},
	})
}

func TestIsEmptyAndIsNull(t *testing.T) {
	empty := `{"is_empty": {"key": "f"}}`
	null := `{"is_null": {"key": "f"}}`
	nestedEmpty := `{"is_empty": {"key": "a[].b"}}`
	nestedNull := `{"is_null": {"key": "a[].b"}}`
	runEval(t, []evalCase{
		{"empty missing", empty, `{}`, true},
		{"empty null", empty, `{"f": null}`, true},
		{"empty []", empty, `{"f": []}`, true},
		{"empty [null]", empty, `{"f": [null]}`, false},
		{"empty string", empty, `{"f": ""}`, false},
		{"empty object", empty, `{"f": {}}`, false},
		{"empty zero", empty, `{"f": 0}`, false},
		{"empty nested all", nestedEmpty, `{"a": [{"b": null}, {"b": []}, {"c": 1}]}`, true},
		{"empty nested one value", nestedEmpty, `{"a": [{"b": null}, {"b": 1}]}`, false},
		{"empty nested no values", nestedEmpty, `{"a": [{"c": 1}]}`, true},
		{"null null", null, `{"f": null}`, true},
		{"null missing", null, `{}`, false},
		{"null []", null, `{"f": []}`, false},
		{"null [null]", null, `{"f": [null]}`, true}, // Qdrant issue 10096: an array holding null is null
		{"null zero", null, `{"f": 0}`, false},
		{"null nested one", nestedNull, `{"a": [{"b": 1}, {"b": null}]}`, true},
		{"null nested none", nestedNull, `{"a": [{"b": 1}, {"b": 2}]}`, false},
	})
}

// TestFieldIsEmptyIsNull mirrors Qdrant's test_value_checker_for_null_or_empty
// for the {"key": k, "is_empty"/"is_null": bool} forms, plus a missing key.
func TestFieldIsEmptyIsNull(t *testing.T) {
	values := []string{`[]`, `[null]`, `[true]`, `[true, null]`, `{}`, `"string"`, `1`, `true`, `null`, `MISSING`}
	want := map[string][]bool{ // per value, in order
		`"is_empty": true`:  {true, false, false, false, false, false, false, false, true, true},
		`"is_empty": false`: {false, true, true, true, true, true, true, true, false, false},
		`"is_null": true`:   {false, true, false, true, false, false, false, false, true, false},
		`"is_null": false`:  {true, false, true, false, true, true, true, true, false, true},
	}
	var cases []evalCase
	for cond, results := range want {
		for i, v := range values {
			payload := `{"f": ` + v + `}`
			if v == "MISSING" {
				payload = `{}`
			}
			cases = append(cases, evalCase{cond + " on " + v, `{"key": "f", ` + cond + `}`, payload, results[i]})
		}
	}
	runEval(t, cases)
}

func TestHasID(t *testing.T) {
	const u = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
	uid, _ := point.ParseUUID(u)
	cases := []struct {
		filter string
		id     point.ID
		want   bool
	}{
		{`{"must": {"has_id": [1, 2, 3]}}`, point.NumID(2), true},
		{`{"must": {"has_id": [1, 2, 3]}}`, point.NumID(10), false},
		{`{"must_not": {"has_id": [1, 2, 3]}}`, point.NumID(2), false},
		{`{"must": {"has_id": ["` + u + `", 7]}}`, uid, true},
		{`{"must": {"has_id": ["` + strings.ToUpper(strings.ReplaceAll(u, "-", "")) + `"]}}`, uid, true},
		{`{"must": {"has_id": [7]}}`, uid, false},
		{`{"must": {"has_id": []}}`, point.NumID(0), false},
	}
	for _, c := range cases {
		if got := mustParse(t, c.filter).Matches(c.id, nil); got != c.want {
			t.Errorf("%s on %v = %v, want %v", c.filter, c.id, got, c.want)
		}
	}
}

func TestClauses(t *testing.T) {
	red := `{"key": "color", "match": {"value": "red"}}`
	blue := `{"key": "color", "match": {"value": "blue"}}`
	berlin := `{"key": "city", "match": {"value": "Berlin"}}`
	payload := `{"color": "red", "city": "Berlin", "n": 3}`
	cases := []struct {
		name, filter string
		want         bool
	}{
		{"empty object", `{}`, true},
		{"null clauses", `{"must": null, "should": null, "must_not": null, "min_should": null}`, true},
		{"empty must", `{"must": []}`, true},
		{"empty must_not", `{"must_not": []}`, true},
		{"empty should matches nothing", `{"should": []}`, false},
		{"must single object", `{"must": ` + red + `}`, true},
		{"must all", `{"must": [` + red + `, ` + berlin + `]}`, true},
		{"must one fails", `{"must": [` + red + `, ` + blue + `]}`, false},
		{"should one", `{"should": [` + blue + `, ` + red + `]}`, true},
		{"should none", `{"should": [` + blue + `]}`, false},
		{"must_not", `{"must_not": [` + blue + `]}`, true},
		{"must_not hit", `{"must_not": [` + blue + `, ` + red + `]}`, false},
		{"all clauses", `{"must": ` + berlin + `, "should": [` + blue + `, ` + red + `], "must_not": ` + blue + `}`, true},
		{"min_should 2 of 3", `{"min_should": {"conditions": [` + red + `, ` + blue + `, ` + berlin + `], "min_count": 2}}`, true},
		{"min_should 3 of 3", `{"min_should": {"conditions": [` + red + `, ` + blue + `, ` + berlin + `], "min_count": 3}}`, false},
		{"min_should more than given", `{"min_should": {"conditions": [` + red + `], "min_count": 2}}`, false},
		{"nested filter in should", `{"should": [{"must": [` + blue + `]}, {"must": [` + red + `, ` + berlin + `]}]}`, true},
		{"nested filter fails", `{"should": [{"must": [` + blue + `]}, {"must": [` + red + `], "must_not": ` + berlin + `}]}`, false},
		{"nested empty filter", `{"must": [{}]}`, true},
		{"nested empty should", `{"must_not": [{"should": []}]}`, true},
		{"deep", `{"must": {"must": {"must_not": {"should": [` + blue + `]}}}}`, true},
		{"min_should of filters", `{"min_should": {"conditions": [{"must": [` + red + `]}, {"must_not": [` + berlin + `]}], "min_count": 1}}`, true},
	}
	p := decodePayload(t, payload)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mustParse(t, c.filter).Matches(point.NumID(1), p); got != c.want {
				t.Fatalf("%s = %v, want %v", c.filter, got, c.want)
			}
		})
	}
}

func TestNilFilter(t *testing.T) {
	f, err := Parse([]byte(" null "))
	if err != nil || f != nil {
		t.Fatalf("null: %v %v", f, err)
	}
	if !f.Matches(point.NumID(1), nil) || f.String() != "null" || f.Validate() != nil {
		t.Fatal("nil filter must match all")
	}
	var req struct {
		Filter *Filter `json:"filter"`
	}
	if err := json.Unmarshal([]byte(`{"filter": null}`), &req); err != nil || req.Filter != nil {
		t.Fatalf("null field: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"filter": {"must": {"has_id": [4]}}}`), &req); err != nil {
		t.Fatal(err)
	}
	if !req.Filter.Matches(point.NumID(4), nil) || req.Filter.Matches(point.NumID(5), nil) {
		t.Fatal("embedded filter")
	}
	if err := json.Unmarshal([]byte(`{"filter": {"must": 1}}`), &req); err == nil {
		t.Fatal("embedded bad filter parsed")
	}
}

// TestGoValues checks payloads built by Go callers, with native numbers.
func TestGoValues(t *testing.T) {
	cases := []struct {
		filter  string
		payload point.Payload
		want    bool
	}{
		{`{"key": "n", "match": {"value": 5}}`, point.Payload{"n": 5}, true},
		{`{"key": "n", "match": {"value": 5}}`, point.Payload{"n": int64(5)}, true},
		{`{"key": "n", "match": {"value": 5}}`, point.Payload{"n": uint8(5)}, true},
		{`{"key": "n", "match": {"value": 5}}`, point.Payload{"n": 5.0}, true},
		{`{"key": "n", "match": {"value": 5}}`, point.Payload{"n": float32(5)}, true},
		{`{"key": "n", "match": {"value": 5}}`, point.Payload{"n": 5.5}, false},
		{`{"key": "n", "match": {"any": [-1]}}`, point.Payload{"n": uint64(math.MaxUint64)}, false},
		{`{"key": "n", "match": {"except": [1]}}`, point.Payload{"n": uint64(math.MaxUint64)}, true},
		{`{"key": "n", "match": {"except": [1]}}`, point.Payload{"n": 1.0}, false},
		{`{"key": "n", "range": {"gt": 1e19}}`, point.Payload{"n": uint64(math.MaxUint64)}, true},
		{`{"key": "n", "range": {"lt": 0}}`, point.Payload{"n": int8(-3)}, true},
		{`{"key": "n", "range": {"lt": 0}}`, point.Payload{"n": []any{1, float32(-0.5)}}, true},
		{`{"key": "a.b", "match": {"value": "x"}}`, point.Payload{"a": point.Payload{"b": "x"}}, true},
		{`{"key": "a.b", "match": {"value": "x"}}`, point.Payload{"a": map[string]any(nil)}, false},
		{`{"key": "n", "match": {"value": 5}}`, nil, false},
		{`{"is_empty": {"key": "n"}}`, nil, true},
	}
	for _, c := range cases {
		if got := mustParse(t, `{"must": `+c.filter+`}`).Matches(point.NumID(1), c.payload); got != c.want {
			t.Errorf("%s on %#v = %v, want %v", c.filter, c.payload, got, c.want)
		}
	}
}

func TestMatchesDoesNotAllocate(t *testing.T) {
	f := mustParse(t, `{
		"must": [{"key": "a[].b", "match": {"any": ["x", "y"]}}, {"key": "n", "range": {"gte": 1}}],
		"should": [{"is_empty": {"key": "z"}}, {"is_null": {"key": "n"}}],
		"must_not": [{"has_id": [9]}, {"key": "c", "match": {"except": [1, 2]}}],
		"min_should": {"conditions": [{"key": "n", "is_null": false}, {"key": "a[].b", "match": {"prefix": "x"}}], "min_count": 2}
	}`)
	p := decodePayload(t, `{"a": [{"b": "q"}, {"b": ["x"]}], "n": 4, "c": 1}`)
	if !f.Matches(point.NumID(1), p) {
		t.Fatal("filter should match")
	}
	if allocs := testing.AllocsPerRun(200, func() { f.Matches(point.NumID(1), p) }); allocs != 0 {
		t.Fatalf("Matches allocates %v times per call", allocs)
	}
}

func TestMatchesPointDoesNotAllocate(t *testing.T) {
	f := mustParse(t, `{
		"must": [
			{"key": "city", "match": {"any": ["Berlin", "London"]}},
			{"key": "when", "range": {"gte": "2023-01-01T00:00:00Z", "lt": "2024-01-01"}},
			{"key": "loc", "geo_radius": {"center": {"lon": 13.4, "lat": 52.5}, "radius": 50000}},
			{"key": "desc", "match": {"text_any": "cheap good"}},
			{"has_vector": "image"},
			{"nested": {"key": "rooms", "filter": {"must": [{"key": "beds", "range": {"gte": 2}}], "must_not": {"key": "view", "match": {"phrase": "parking lot"}}}}}
		],
		"should": [
			{"key": "loc", "geo_bounding_box": {"top_left": {"lon": 13, "lat": 53}, "bottom_right": {"lon": 14, "lat": 52}}},
			{"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": 13, "lat": 52}, {"lon": 14, "lat": 52}, {"lon": 14, "lat": 53}, {"lon": 13, "lat": 52}]}}}
		],
		"must_not": [{"key": "tags", "values_count": {"gt": 3}}, {"slice": {"total": 4, "index": 3}}, {"key": "desc", "match": {"text": "sold"}}]
	}`)
	p := decodePayload(t, `{"city": "Berlin", "when": ["2022-05-01", "2023-06-01 12:00:00+02:00"], "loc": {"lon": 13.41, "lat": 52.52},
		"desc": "good value", "tags": ["a", "b"],
		"rooms": [{"beds": 1}, {"beds": 2, "view": "a parking lot"}, {"beds": 3, "view": "garden"}]}`)
	id := point.NumID(1)
	for (&SliceCondition{Total: 4, Index: 3}).Contains(id) {
		id = point.NumID(id.Num() + 1)
	}
	hasVector := func(name string) bool { return name == "image" }
	if !f.MatchesPoint(id, p, hasVector) {
		t.Fatal("filter should match")
	}
	if allocs := testing.AllocsPerRun(200, func() { f.MatchesPoint(id, p, hasVector) }); allocs != 0 {
		t.Fatalf("MatchesPoint allocates %v times per call", allocs)
	}
}

func BenchmarkMatches(b *testing.B) {
	f := mustParse(b, `{"must": [{"key": "city", "match": {"any": ["Berlin", "London"]}}, {"key": "price", "range": {"gte": 10, "lt": 100}}], "must_not": {"key": "tags[]", "match": {"value": "sold"}}}`)
	p := decodePayload(b, `{"city": "London", "price": 42.5, "tags": ["new", "promo"], "other": {"x": [1, 2, 3]}}`)
	b.ReportAllocs()
	for b.Loop() {
		if !f.Matches(point.NumID(1), p) {
			b.Fatal("no match")
		}
	}
}
