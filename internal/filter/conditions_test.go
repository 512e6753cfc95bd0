package filter

import (
	"fmt"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

func TestMatchText(t *testing.T) {
	runEval(t, []evalCase{
		{"text substring", `{"key": "t", "match": {"text": "ell"}}`, `{"t": "hello world"}`, true},
		{"text across words", `{"key": "t", "match": {"text": "lo wo"}}`, `{"t": "hello world"}`, true},
		{"text words out of order", `{"key": "t", "match": {"text": "world hello"}}`, `{"t": "hello world"}`, false},
		{"text case sensitive", `{"key": "t", "match": {"text": "Hello"}}`, `{"t": "hello"}`, false},
		{"text number", `{"key": "t", "match": {"text": "5"}}`, `{"t": 5}`, false},
		{"text array", `{"key": "t", "match": {"text": "b"}}`, `{"t": ["a", "abc"]}`, true},
		{"text empty query", `{"key": "t", "match": {"text": ""}}`, `{"t": ""}`, true},
		{"text empty query number", `{"key": "t", "match": {"text": ""}}`, `{"t": 1}`, false},
		{"text missing", `{"key": "t", "match": {"text": "a"}}`, `{}`, false},
		{"text unicode", `{"key": "t", "match": {"text": "ünch"}}`, `{"t": "München"}`, true},
		{"phrase", `{"key": "t", "match": {"phrase": "quick brown"}}`, `{"t": "the quick brown fox"}`, true},
		{"phrase gap", `{"key": "t", "match": {"phrase": "quick fox"}}`, `{"t": "the quick brown fox"}`, false},
		{"text_any one word", `{"key": "t", "match": {"text_any": "foo ell"}}`, `{"t": "hello"}`, true},
		{"text_any none", `{"key": "t", "match": {"text_any": "foo bar"}}`, `{"t": "hello"}`, false},
		{"text_any substring of word", `{"key": "t", "match": {"text_any": "good cheap"}}`, `{"t": "goodness only"}`, true},
		{"text_any empty", `{"key": "t", "match": {"text_any": ""}}`, `{"t": "hello"}`, false},
		{"text_any blanks", `{"key": "t", "match": {"text_any": " \t\n"}}`, `{"t": "hello"}`, false},
		{"text_any tabs", `{"key": "t", "match": {"text_any": "\tell\n"}}`, `{"t": "hello"}`, true},
		{"text_any nbsp separates", `{"key": "t", "match": {"text_any": "xyz\u00a0ell"}}`, `{"t": "hello"}`, true},
		{"text_any bool", `{"key": "t", "match": {"text_any": "true"}}`, `{"t": true}`, false},
	})
}

func TestEachWord(t *testing.T) {
	var got []string
	EachWord("  a bb\u3000ccc\u2028d ", func(w string) bool { got = append(got, w); return true })
	if fmt.Sprint(got) != "[a bb ccc d]" {
		t.Fatalf("words %q", got)
	}
	n := 0
	EachWord("a b c", func(string) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("stopped after %d words", n)
	}
}

func TestValuesCount(t *testing.T) {
	runEval(t, []evalCase{
		{"array gt", `{"key": "tags", "values_count": {"gt": 1}}`, `{"tags": ["a", "b"]}`, true},
		{"array gt fail", `{"key": "tags", "values_count": {"gt": 1}}`, `{"tags": ["a"]}`, false},
		{"scalar is one", `{"key": "tags", "values_count": {"gte": 1, "lte": 1}}`, `{"tags": "a"}`, true},
		{"object is one", `{"key": "tags", "values_count": {"lt": 2}}`, `{"tags": {"a": 1, "b": 2}}`, true},
		{"null is zero", `{"key": "tags", "values_count": {"lt": 1}}`, `{"tags": null}`, true},
		{"empty array is zero", `{"key": "tags", "values_count": {"lte": 0}}`, `{"tags": []}`, true},
		{"array of null counts", `{"key": "tags", "values_count": {"gt": 0}}`, `{"tags": [null]}`, true},
		{"missing is zero", `{"key": "tags", "values_count": {"lt": 1}}`, `{"title": "no tags"}`, true},
		{"missing gte 0", `{"key": "tags", "values_count": {"gte": 0}}`, `{}`, true},
		{"missing gt 0", `{"key": "tags", "values_count": {"gt": 0}}`, `{}`, false},
		{"no bounds", `{"key": "tags", "values_count": {}}`, `{}`, true},
		{"nested arrays count one level", `{"key": "tags", "values_count": {"gt": 2}}`, `{"tags": [[1, 2, 3]]}`, false},
		{"per value not summed", `{"key": "a[].tags", "values_count": {"gt": 2}}`, `{"a": [{"tags": [1, 2]}, {"tags": [3, 4]}]}`, false},
		{"per value any", `{"key": "a[].tags", "values_count": {"gte": 2}}`, `{"a": [{"tags": [1, 2]}, {"tags": [3]}]}`, true},
		{"wins over match", `{"key": "tags", "values_count": {"gt": 5}, "match": {"value": "a"}}`, `{"tags": ["a"]}`, false},
		{"wins over is_empty", `{"key": "tags", "values_count": {"gt": 0}, "is_empty": true}`, `{}`, false},
	})
}

func TestHasVector(t *testing.T) {
	named := func(names ...string) func(string) bool {
		return func(n string) bool {
			for _, x := range names {
				if x == n {
					return true
				}
			}
			return false
		}
	}
	cases := []struct {
		filter  string
		vectors func(string) bool
		want    bool
	}{
		{`{"must": {"has_vector": "text"}}`, named("text", "image"), true},
		{`{"must": {"has_vector": "text"}}`, named("image"), false},
		{`{"must": {"has_vector": ""}}`, named(""), true},
		{`{"must": {"has_vector": ""}}`, named("text"), false},
		{`{"must_not": {"has_vector": "text"}}`, named("image"), true},
		{`{"must": {"has_vector": "text"}}`, nil, false},
		{`{"should": [{"has_vector": "a"}, {"has_vector": "b"}]}`, named("b"), true},
	}
	for _, c := range cases {
		f := mustParse(t, c.filter)
		if got := f.MatchesPoint(point.NumID(1), nil, c.vectors); got != c.want {
			t.Errorf("%s = %v, want %v", c.filter, got, c.want)
		}
	}
	// Matches knows no vectors.
	if mustParse(t, `{"must": {"has_vector": ""}}`).Matches(point.NumID(1), nil) {
		t.Fatal("Matches answered has_vector")
	}
	if !mustParse(t, `{"must_not": {"has_vector": ""}}`).Matches(point.NumID(1), nil) {
		t.Fatal("Matches must_not has_vector")
	}
}

const countries = `{"country": {"name": "Japan", "cities": [
	{"name": "Tokyo", "population": 13.5, "sightseeing": ["Tower", "Skytree", "Disneyland"], "location": {"lon": 139.69171, "lat": 35.6895}},
	{"name": "Osaka", "population": 2.7, "sightseeing": ["Castle", "Universal"]},
	{"name": null, "population": 1.5, "sightseeing": []}
]}}`

func TestNested(t *testing.T) {
	nested := func(key, filter string) string {
		return `{"nested": {"key": "` + key + `", "filter": ` + filter + `}}`
	}
	big := `{"key": "population", "range": {"gt": 8}}`
	runEval(t, []evalCase{
		{"some element", nested("country.cities", `{"must": `+big+`}`), countries, true},
		{"explicit []", nested("country.cities[]", `{"must": `+big+`}`), countries, true},
		{"none", nested("country.cities", `{"must": {"key": "population", "range": {"gt": 20}}}`), countries, false},
		{"same element", nested("country.cities", `{"must": [`+big+`, {"key": "sightseeing", "values_count": {"gt": 2}}]}`), countries, true},
		{"not the same element", nested("country.cities", `{"must": [{"key": "population", "range": {"lt": 3}}, {"key": "sightseeing", "values_count": {"gt": 2}}]}`), countries, false},
		{"must_not inside", nested("country.cities", `{"must_not": [{"key": "population", "range": {"lt": 8}}]}`), countries, true},
		{"must_not inside excludes all", nested("country.cities", `{"must_not": [{"key": "population", "range": {"lt": 20}}]}`), countries, false},
		{"must and must_not", nested("country.cities", `{"must": {"key": "population", "range": {"lt": 3}}, "must_not": {"key": "name", "match": {"value": "Osaka"}}}`), countries, true},
		{"is_null inside", nested("country.cities", `{"must": {"is_null": {"key": "name"}}}`), countries, true},
		{"is_empty inside", nested("country.cities", `{"must": [{"is_empty": {"key": "sightseeing"}}, {"key": "population", "range": {"gt": 2}}]}`), countries, false},
		{"geo inside", nested("country.cities", `{"must": {"key": "location", "geo_radius": {"center": {"lon": 139.7, "lat": 35.69}, "radius": 5000}}}`), countries, true},
		{"should inside", nested("country.cities", `{"should": [{"key": "name", "match": {"value": "Kyoto"}}, {"key": "name", "match": {"value": "Osaka"}}]}`), countries, true},
		{"empty inner filter", nested("country.cities", `{}`), countries, true},
		{"empty inner filter no elements", nested("country.cities", `{}`), `{"country": {"cities": []}}`, false},
		{"single object is not an array", nested("country", `{"must": {"key": "name", "match": {"value": "Japan"}}}`), countries, false},
		{"non-objects skipped", nested("c", `{"must": {"key": "p", "range": {"gt": 8}}}`), `{"c": [1, "x", null, [{"p": 9}], {"p": 10}]}`, true},
		{"nested array elements not objects", nested("c", `{}`), `{"c": [[{"p": 9}]]}`, false},
		{"missing key", nested("nope", `{}`), countries, false},
		{"key through array", nested("a[].b", `{"must": {"key": "c", "match": {"value": 1}}}`), `{"a": [{"b": [{"c": 2}]}, {"b": [{"c": 1}]}]}`, true},
		{"nested in nested", nested("a", `{"must": `+nested("b", `{"must": {"key": "c", "match": {"value": 1}}}`)+`}`), `{"a": [{"b": [{"c": 2}]}, {"b": [{"c": 1}]}]}`, true},
		{"nested in nested none", nested("a", `{"must": `+nested("b", `{"must": {"key": "c", "match": {"value": 3}}}`)+`}`), `{"a": [{"b": [{"c": 2}]}, {"b": [{"c": 1}]}]}`, false},
		{"relative keys only", nested("country.cities", `{"must": {"key": "country.name", "match": {"value": "Japan"}}}`), countries, false},
		{"has_id inside never holds", nested("country.cities", `{"must": {"has_id": [1]}}`), countries, false},
		{"has_id in must_not inside", nested("country.cities", `{"must_not": {"has_id": [1]}}`), countries, true},
		{"slice inside never holds", nested("country.cities", `{"must": {"slice": {"total": 1, "index": 0}}}`), countries, false},
	})
	// has_vector inside a nested filter does not see the point's vectors.
	f := mustParse(t, `{"must": `+nested("country.cities", `{"must": {"has_vector": ""}}`)+`}`)
	if f.MatchesPoint(point.NumID(1), decodePayload(t, countries), func(string) bool { return true }) {
		t.Fatal("has_vector held inside nested")
	}
	// has_id next to the nested condition works as usual.
	f = mustParse(t, `{"must": [{"has_id": [1]}, `+nested("country.cities", `{"must": `+big+`}`)+`]}`)
	if !f.Matches(point.NumID(1), decodePayload(t, countries)) || f.Matches(point.NumID(2), decodePayload(t, countries)) {
		t.Fatal("has_id beside nested")
	}
	if got := (&NestedCondition{Key: point.MustParsePath("a.b")}).ArrayKey().String(); got != "a.b[]" {
		t.Fatalf("ArrayKey = %s", got)
	}
}

func TestSipHash(t *testing.T) {
	// Reference vectors of the SipHash paper (key 00..0f, message 00..n-1).
	var key [16]byte
	var msg [64]byte
	for i := range key {
		key[i] = byte(i)
	}
	for i := range msg {
		msg[i] = byte(i)
	}
	k0 := uint64(0x0706050403020100)
	k1 := uint64(0x0f0e0d0c0b0a0908)
	for n, want := range map[int]uint64{0: 0x726fdb47dd0e0e31, 1: 0x74f839c593dc67fd, 8: 0x93f5f5799a932462, 15: 0xa129ca6149be45e5, 63: 0x958a324ceb064572} {
		if got := sipHash24Key(k0, k1, msg[:n]); got != want {
			t.Errorf("len %d: %#x, want %#x", n, got, want)
		}
	}
}

func TestSlice(t *testing.T) {
	var ids []point.ID
	for i := range uint64(100) {
		ids = append(ids, point.NumID(i))
		ids = append(ids, point.UUIDID([16]byte{byte(i), 0x12, 0x34, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, byte(i * 7)}))
	}
	const total = 4
	seen := make([]int, total)
	for _, id := range ids {
		in := 0
		for index := range uint32(total) {
			f := mustParse(t, fmt.Sprintf(`{"must": {"slice": {"total": %d, "index": %d}}}`, total, index))
			if f.Matches(id, nil) {
				in++
				seen[index]++
				not := mustParse(t, fmt.Sprintf(`{"must_not": {"slice": {"total": %d, "index": %d}}}`, total, index))
				if not.Matches(id, nil) {
					t.Fatalf("%v in slice %d and in its negation", id, index)
				}
			}
		}
		if in != 1 {
			t.Fatalf("%v is in %d slices", id, in)
		}
	}
	for i, n := range seen {
		if n == 0 {
			t.Errorf("slice %d is empty", i)
		}
	}
	// A slice of total 2 contains the slice of total 4 with the same index.
	for _, id := range ids {
		if (&SliceCondition{Total: 4, Index: 1}).Contains(id) && !(&SliceCondition{Total: 2, Index: 1}).Contains(id) {
			t.Fatalf("%v: slices of different totals are not nested", id)
		}
	}
	if (&SliceCondition{}).Contains(point.NumID(0)) {
		t.Fatal("zero total")
	}
	if !(&SliceCondition{Total: 1}).Contains(point.NumID(12345)) {
		t.Fatal("total 1 holds everything")
	}
}

func TestKind(t *testing.T) {
	cases := map[string]FieldKind{
		`{"key": "a", "match": {"value": 1}}`:                                                                        KindMatch,
		`{"key": "a", "match": {"text": "x"}}`:                                                                       KindMatch,
		`{"key": "a", "range": {"gt": 1}}`:                                                                           KindRange,
		`{"key": "a", "range": {"gt": "2020-01-01"}}`:                                                                KindDatetimeRange,
		`{"key": "a", "geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": 1}}`:                                  KindGeoRadius,
		`{"key": "a", "values_count": {"gt": 1}, "match": {"value": 1}}`:                                             KindValuesCount,
		`{"key": "a", "is_empty": true, "match": {"value": 1}}`:                                                      KindIsEmpty,
		`{"key": "a", "is_null": false}`:                                                                             KindIsNull,
		`{"key": "a", "match": {"value": 1}, "range": {"gt": 1}}`:                                                    KindAny,
		`{"key": "a", "geo_bounding_box": {"top_left": {"lon": 0, "lat": 1}, "bottom_right": {"lon": 1, "lat": 0}}}`: KindGeoBoundingBox,
	}
	for cond, want := range cases {
		c := mustParse(t, `{"must": [`+cond+`]}`).Must[0].(*FieldCondition)
		if got := c.Kind(); got != want {
			t.Errorf("%s: kind %v, want %v", cond, got, want)
		}
	}
	if (&FieldCondition{}).Kind() != KindNone || KindGeoPolygon.String() != "geo_polygon" || FieldKind(99).String() != "unknown" {
		t.Fatal("kind names")
	}
}

// TestKeywordUUID: without a uuid index a UUID is an ordinary keyword, so
// matching is exact and case-sensitive, as in Qdrant's checker.
func TestKeywordUUID(t *testing.T) {
	const u = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
	runEval(t, []evalCase{
		{"same", `{"key": "u", "match": {"value": "` + u + `"}}`, `{"u": "` + u + `"}`, true},
		{"any", `{"key": "u", "match": {"any": ["x", "` + u + `"]}}`, `{"u": ["` + u + `"]}`, true},
		{"other case", `{"key": "u", "match": {"value": "5C56C793-69F3-4FBF-87E6-C4BF54C28C26"}}`, `{"u": "` + u + `"}`, false},
		{"except", `{"key": "u", "match": {"except": ["` + u + `"]}}`, `{"u": "` + u + `"}`, false},
	})
}
