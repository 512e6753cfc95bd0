package filter

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

func TestParseErrors(t *testing.T) {
	f := func(cond string) string { return `{"must": [` + cond + `]}` }
	field := func(rest string) string { return f(`{"key": "a", ` + rest + `}`) }
	cases := []struct {
		name, in string
		kind     error
		want     string // substring of the message
	}{
		{"empty input", ``, ErrFormat, "empty filter"},
		{"bad json", `{"must": [}`, ErrFormat, "invalid character"},
		{"trailing value", `{} {}`, ErrFormat, "trailing data"},
		{"trailing brace", `{}}`, ErrFormat, "trailing data"},
		{"not an object", `[]`, ErrFormat, "expected a filter object"},
		{"unknown filter field", `{"must": [], "foo": 1}`, ErrFormat, "unknown field `foo`, expected one of `should`, `min_should`, `must`, `must_not`"},
		{"clause not a condition", `{"must": 5}`, ErrFormat, "must: invalid type: 5, expected some form of condition"},
		{"condition not an object", f(`"a"`), ErrFormat, `must[0]: invalid type: "a"`},
		{"unknown condition", f(`{"foo": 1}`), ErrFormat, "must[0]: unknown field `foo`"},
		{"deep location", `{"should": [{}, {"must_not": [{"key": "a", "match": {"value": 1.5}}]}]}`, ErrFormat, "should[1].must_not[0].match.value: invalid value 1.5"},
		{"just key", f(`{"key": "a"}`), ErrValidation, "must[0]: At least one field condition must be specified"},
		{"all null", field(`"match": null, "range": null, "is_empty": null`), ErrValidation, "At least one field condition"},
		{"empty key", f(`{"key": "", "match": {"value": 1}}`), ErrFormat, "must[0].key: Invalid json path: ''"},
		{"bad key", f(`{"key": "a..b", "match": {"value": 1}}`), ErrFormat, "Invalid json path: 'a..b'"},
		{"key not a string", f(`{"key": 1, "match": {"value": 1}}`), ErrFormat, "must[0].key: invalid type: 1, expected a string"},
		{"unknown field in field condition", field(`"match": {"value": 1}, "mach": 1`), ErrFormat, "unknown field `mach`"},
		{"float value", field(`"match": {"value": 1.0}`), ErrFormat, "invalid value 1.0"},
		{"null value", field(`"match": {"value": null}`), ErrFormat, "expected exactly one of"},
		{"array value", field(`"match": {"value": [1]}`), ErrFormat, "invalid value an array"},
		{"int64 overflow", field(`"match": {"value": 9223372036854775808}`), ErrFormat, "invalid value 9223372036854775808"},
		{"empty match", field(`"match": {}`), ErrFormat, "expected exactly one of"},
		{"two matches", field(`"match": {"value": 1, "any": [1]}`), ErrFormat, "expected exactly one of"},
		{"unknown match", field(`"match": {"values": 1}`), ErrFormat, "unknown field `values`"},
		{"match not object", field(`"match": "x"`), ErrFormat, "must[0].match: invalid type"},
		{"mixed any", field(`"match": {"any": ["a", 1]}`), ErrFormat, "match.any[1]: invalid value 1"},
		{"float any", field(`"match": {"any": [1, 1.5]}`), ErrFormat, "match.any[1]"},
		{"bool except", field(`"match": {"except": [true]}`), ErrFormat, "match.except[0]"},
		{"null value beside another", field(`"match": {"value": null, "any": "a"}`), ErrFormat, "match.any: invalid type"},
		{"any not array", field(`"match": {"any": "a"}`), ErrFormat, "match.any: invalid type"},
		{"prefix not string", field(`"match": {"prefix": 1}`), ErrFormat, "match.prefix: invalid type"},
		{"text not string", field(`"match": {"text": 1}`), ErrFormat, "match.text: invalid type: 1, expected a string"},
		{"text_any null only", field(`"match": {"text_any": null}`), ErrFormat, "expected exactly one of"},
		{"range bool", field(`"range": {"gt": true}`), ErrFormat, "range.gt: invalid value true"},
		{"range unknown", field(`"range": {"gt": 1, "ge": 2}`), ErrFormat, "unknown field `ge`"},
		{"range huge", field(`"range": {"gt": 1e400}`), ErrFormat, "range.gt"},
		{"datetime unparseable", field(`"range": {"gte": "yesterday"}`), ErrFormat,
			"must[0].range.gte: 'yesterday' is not in a supported date/time format, please use RFC 3339"},
		{"datetime bad day", field(`"range": {"lt": "2023-02-29"}`), ErrFormat, "range.lt: '2023-02-29' is not in a supported"},
		{"datetime bad offset", field(`"range": {"lt": "2023-02-08T10:49:00+24:00"}`), ErrFormat, "range.lt"},
		{"datetime minutes with offset", field(`"range": {"lt": "2023-02-08T10:49+01:00"}`), ErrFormat, "range.lt"},
		{"datetime mixed with number", field(`"range": {"gte": "2023-02-08", "lt": 5}`), ErrFormat,
			"range.lt: invalid value 5, expected a date/time string"},
		{"datetime bool", field(`"range": {"gte": "2023-02-08", "lt": true}`), ErrFormat, "range.lt: invalid value true"},
		{"geo lat out of range", field(`"geo_radius": {"center": {"lat": 91, "lon": 2}, "radius": 3}`), ErrFormat,
			"must[0].geo_radius.center: Wrong format of GeoPoint payload: expected `lat` = 91 within [-90;90] and `lon` = 2 within [-180;180]"},
		{"geo lon out of range", field(`"geo_bounding_box": {"top_left": {"lat": 1, "lon": 2}, "bottom_right": {"lat": 0, "lon": -180.5}}`), ErrFormat,
			"geo_bounding_box.bottom_right: Wrong format of GeoPoint payload: expected `lat` = 0 within [-90;90] and `lon` = -180.5 within [-180;180]"},
		{"geo point missing lat", field(`"geo_radius": {"center": {"lon": 2}, "radius": 3}`), ErrFormat, "geo_radius.center.lat: missing field `lat`"},
		{"geo point string", field(`"geo_radius": {"center": {"lon": 2, "lat": "1"}, "radius": 3}`), ErrFormat, "center.lat: invalid value \"1\""},
		{"geo point extra", field(`"geo_radius": {"center": {"lon": 2, "lat": 1, "alt": 0}, "radius": 3}`), ErrFormat, "unknown field `alt`"},
		{"geo radius missing", field(`"geo_radius": {"center": {"lat": 1, "lon": 2}}`), ErrFormat, "geo_radius.radius: missing field `radius`"},
		{"geo radius string", field(`"geo_radius": {"center": {"lat": 1, "lon": 2}, "radius": "3"}`), ErrFormat, "geo_radius.radius: invalid value"},
		{"geo radius huge", field(`"geo_radius": {"center": {"lat": 1, "lon": 2}, "radius": 1e400}`), ErrFormat, "geo_radius.radius"},
		{"geo center missing", field(`"geo_radius": {"radius": 3}`), ErrFormat, "geo_radius.center: missing field `center`"},
		{"geo box not object", field(`"geo_bounding_box": [1, 2]`), ErrFormat, "geo_bounding_box: invalid type: an array"},
		{"polygon short", field(`"geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 0, "lat": 0}]}}`), ErrFormat,
			"must[0].geo_polygon.exterior: polygon invalid, the size must be at least 4, got 3"},
		{"polygon open", field(`"geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 1}]}}`), ErrFormat,
			"geo_polygon.exterior: polygon invalid, the first and the last points should be the same to form a closed line"},
		{"polygon short hole", field(`"geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 0}]}, "interiors": [{"points": []}]}`), ErrFormat,
			"geo_polygon.interiors[0]: polygon invalid, the size must be at least 4, got 0"},
		{"polygon point range", field(`"geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 100}]}}`), ErrFormat,
			"geo_polygon.exterior.points[1]: Wrong format of GeoPoint payload"},
		{"polygon no exterior", field(`"geo_polygon": {"interiors": []}`), ErrFormat, "geo_polygon.exterior: missing field `exterior`"},
		{"polygon no points", field(`"geo_polygon": {"exterior": {}}`), ErrFormat, "geo_polygon.exterior.points: missing field `points`"},
		{"polygon interiors object", field(`"geo_polygon": {"exterior": {"points": []}, "interiors": {}}`), ErrFormat, "geo_polygon.interiors: invalid type"},
		{"values_count negative", field(`"values_count": {"gt": -1}`), ErrFormat, "values_count.gt: invalid value -1, expected an unsigned integer"},
		{"values_count float", field(`"values_count": {"lt": 1.5}`), ErrFormat, "values_count.lt: invalid value 1.5"},
		{"values_count unknown", field(`"values_count": {"eq": 1}`), ErrFormat, "unknown field `eq`"},
		{"is_empty flag not bool", field(`"is_empty": "yes"`), ErrFormat, "must[0].is_empty: invalid type"},
		{"nested no filter", f(`{"nested": {"key": "a"}}`), ErrFormat, "must[0].nested.filter: missing field `filter`"},
		{"nested null filter", f(`{"nested": {"key": "a", "filter": null}}`), ErrFormat, "must[0].nested.filter: invalid type: null"},
		{"nested no key", f(`{"nested": {"filter": {}}}`), ErrFormat, "must[0].nested.key: missing field `key`"},
		{"nested bad key", f(`{"nested": {"key": "a[", "filter": {}}}`), ErrFormat, "must[0].nested.key: Invalid json path"},
		{"nested not object", f(`{"nested": "a"}`), ErrFormat, "must[0].nested: invalid type"},
		{"nested unknown", f(`{"nested": {"key": "a", "filter": {}, "x": 1}}`), ErrFormat, "must[0].nested: unknown field `x`"},
		{"nested inner format", f(`{"nested": {"key": "a", "filter": {"must": {"key": "b", "match": {"value": 1.5}}}}}`), ErrFormat,
			"must[0].nested.filter.must.match.value: invalid value 1.5"},
		{"nested inner validation", f(`{"nested": {"key": "a", "filter": {"should": [{"key": "b"}]}}}`), ErrValidation,
			"must[0].nested.filter.should[0]: At least one field condition"},
		{"has_vector not string", f(`{"has_vector": 1}`), ErrFormat, "must[0].has_vector: invalid type: 1, expected a vector name"},
		{"has_vector extra", f(`{"has_vector": "v", "key2": 1}`), ErrFormat, "unknown field `key2`"},
		{"slice zero total", f(`{"slice": {"index": 0, "total": 0}}`), ErrFormat, "must[0].slice.total: invalid value 0"},
		{"slice index out of range", f(`{"slice": {"index": 4, "total": 4}}`), ErrValidation, "must[0].slice.index: index 4 out of range"},
		{"slice no total", f(`{"slice": {"index": 0}}`), ErrFormat, "slice.total: missing field `total`"},
		{"slice huge total", f(`{"slice": {"index": 0, "total": 4294967296}}`), ErrFormat, "slice.total: invalid value"},
		{"slice negative index", f(`{"slice": {"index": -1, "total": 2}}`), ErrFormat, "slice.index: invalid value -1"},
		{"is_empty string", f(`{"is_empty": "a"}`), ErrFormat, `must[0].is_empty: invalid type: "a"`},
		{"is_empty extra", f(`{"is_empty": {"key": "a", "x": 1}}`), ErrFormat, "must[0].is_empty: unknown field `x`"},
		{"is_empty no key", f(`{"is_empty": {}}`), ErrFormat, "must[0].is_empty.key: missing field `key`"},
		{"is_null bad key", f(`{"is_null": {"key": "a["}}`), ErrFormat, "Invalid json path"},
		{"condition extra field", f(`{"is_null": {"key": "a"}, "must": []}`), ErrFormat, "unknown field `must`"},
		{"has_id negative", f(`{"has_id": [1, -1]}`), ErrFormat, "has_id[1]: value -1 is not a valid point ID"},
		{"has_id float", f(`{"has_id": [1.5]}`), ErrFormat, "not a valid point ID"},
		{"has_id bad uuid", f(`{"has_id": ["abc"]}`), ErrFormat, `value "abc" is not a valid point ID`},
		{"has_id numeric string", f(`{"has_id": ["12"]}`), ErrFormat, "not a valid point ID"},
		{"has_id scalar", f(`{"has_id": 1}`), ErrFormat, "expected an array of point ids"},
		{"min_should zero", `{"min_should": {"conditions": [], "min_count": 0}}`, ErrValidation, "min_should.min_count: value 0 invalid"},
		{"min_should negative", `{"min_should": {"conditions": [], "min_count": -1}}`, ErrFormat, "min_should.min_count: invalid value -1"},
		{"min_should no count", `{"min_should": {"conditions": []}}`, ErrFormat, "missing field `min_count`"},
		{"min_should no conditions", `{"min_should": {"min_count": 1}}`, ErrFormat, "missing field `conditions`"},
		{"min_should single condition", `{"min_should": {"conditions": {"has_id": [1]}, "min_count": 1}}`, ErrFormat, "expected an array of conditions"},
		{"min_should bad condition", `{"min_should": {"conditions": [{"key": "a"}], "min_count": 1}}`, ErrValidation, "min_should.conditions[0]"},
		{"min_should unknown", `{"min_should": {"conditions": [], "min_count": 1, "x": 0}}`, ErrFormat, "unknown field `x`"},
	}
	deep := func(n int) string { return strings.Repeat(`{"must":`, n) + "{}" + strings.Repeat("}", n) }
	cases = append(cases, struct {
		name, in string
		kind     error
		want     string
	}{"too deep", deep(128), ErrFormat, "recursion limit exceeded"})
	if _, err := Parse([]byte(deep(127))); err != nil {
		t.Fatalf("127 levels: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse([]byte(c.in))
			if err == nil {
				t.Fatalf("parsed %s to %s, want an error", c.in, f)
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("error %q is not %v", err, c.kind)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Errorf("error %q is not an *Error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestParseCanonical(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{}`, `{}`},
		{`{"should": []}`, `{"should":[]}`},
		{`{"must": {"key": "a", "match": {"value": "x"}}}`, `{"must":[{"key":"a","match":{"value":"x"}}]}`},
		{`{"must": [{"key": "a[007]", "match": {"value": -3}, "range": {"lte": 2.5, "gt": null}}]}`,
			`{"must":[{"key":"a[7]","match":{"value":-3},"range":{"lte":2.5}}]}`},
		{`{"must_not": [{"key": "\"a.b\"", "match": {"any": ["x", "y", "x"]}}, {"key": "b", "match": {"except": [3, 1, 3]}}]}`,
			`{"must_not":[{"key":"\"a.b\"","match":{"any":["x","y"]}},{"key":"b","match":{"except":[3,1]}}]}`},
		{`{"must": [{"key": "a", "match": {"any": []}}, {"key": "b", "match": {"value": true}}, {"key": "c", "match": {"prefix": "p"}}]}`,
			`{"must":[{"key":"a","match":{"any":[]}},{"key":"b","match":{"value":true}},{"key":"c","match":{"prefix":"p"}}]}`},
		{`{"should": [{"is_empty": {"key": "a"}}, {"is_null": {"key": "b[]"}}, {"key": "c", "is_null": false, "is_empty": true}]}`,
			`{"should":[{"is_empty":{"key":"a"}},{"is_null":{"key":"b[]"}},{"is_empty":true,"is_null":false,"key":"c"}]}`},
		{`{"must": {"has_id": [3, "5C56C793-69F3-4FBF-87E6-C4BF54C28C26", 3]}}`,
			`{"must":[{"has_id":[3,"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]}]}`},
		{`{"min_should": {"conditions": [{"must": []}, {}], "min_count": 2}}`,
			`{"min_should":{"conditions":[{"must":[]},{}],"min_count":2}}`},
		{`{"must": [{"key": "t", "match": {"text": "a b"}}, {"key": "t", "match": {"phrase": "c"}}, {"key": "t", "match": {"text_any": " d  e "}}]}`,
			`{"must":[{"key":"t","match":{"text":"a b"}},{"key":"t","match":{"phrase":"c"}},{"key":"t","match":{"text_any":" d  e "}}]}`},
		{`{"must": {"key": "d", "range": {"gte": "2023-02-08 10:49:00+01:00", "lt": "2023-02-08", "gt": null, "lte": "2023-02-08T10:49:00.123456789123Z"}}}`,
			`{"must":[{"key":"d","range":{"gte":"2023-02-08T09:49:00Z","lt":"2023-02-08T00:00:00Z","lte":"2023-02-08T10:49:00.123456789Z"}}]}`},
		{`{"must": {"key": "d", "range": {}}}`, `{"must":[{"key":"d","range":{}}]}`},
		{`{"must": {"key": "loc", "geo_radius": {"center": {"lon": 13.4, "lat": 52.5}, "radius": 1000}, "geo_bounding_box": null}}`,
			`{"must":[{"geo_radius":{"center":{"lat":52.5,"lon":13.4},"radius":1000},"key":"loc"}]}`},
		{`{"must": {"key": "loc", "geo_bounding_box": {"top_left": {"lon": 170, "lat": 10}, "bottom_right": {"lon": -170, "lat": -10}}}}`,
			`{"must":[{"geo_bounding_box":{"bottom_right":{"lat":-10,"lon":-170},"top_left":{"lat":10,"lon":170}},"key":"loc"}]}`},
		{`{"must": {"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 0}]}, "interiors": []}}}`,
			`{"must":[{"geo_polygon":{"exterior":{"points":[{"lat":0,"lon":0},{"lat":0,"lon":1},{"lat":1,"lon":1},{"lat":0,"lon":0}]}},"key":"loc"}]}`},
		{`{"must": {"key": "a", "values_count": {"gt": 1, "lte": 3, "lt": null}}}`, `{"must":[{"key":"a","values_count":{"gt":1,"lte":3}}]}`},
		{`{"should": [{"has_vector": ""}, {"slice": {"total": 4, "index": 1}}, {"nested": {"key": "a[]", "filter": {"must": {"key": "b", "match": {"value": 1}}}}}]}`,
			`{"should":[{"has_vector":""},{"slice":{"index":1,"total":4}},{"nested":{"filter":{"must":[{"key":"b","match":{"value":1}}]},"key":"a[]"}}]}`},
	}
	for _, c := range cases {
		f := mustParse(t, c.in)
		if got := f.String(); got != c.want {
			t.Errorf("%s\n got  %s\n want %s", c.in, got, c.want)
		}
		if again := mustParse(t, f.String()).String(); again != c.want {
			t.Errorf("%s: reparse gives %s", c.in, again)
		}
	}
}

func TestParseValueFromGo(t *testing.T) {
	f, err := ParseValue(map[string]any{
		"must": []any{
			map[string]any{"key": "n", "match": map[string]any{"value": 5}},
			point.Payload{"key": "m", "match": map[string]any{"any": []any{int64(1), 2.0}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Matches(point.NumID(1), point.Payload{"n": 5, "m": 2}) {
		t.Fatal("Go-built filter does not match")
	}
	if _, err := ParseValue(map[string]any{"must": map[string]any{"key": "n", "match": map[string]any{"value": 5.5}}}); !errors.Is(err, ErrFormat) {
		t.Fatalf("float value: %v", err)
	}
}

func TestValidateHandBuilt(t *testing.T) {
	yes := true
	nan := math.NaN()
	key := point.MustParsePath("a")
	square := GeoLineString{Points: []GeoPoint{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}
	cases := []struct {
		name string
		f    *Filter
		ok   bool
	}{
		{"zero", &Filter{}, true},
		{"good", &Filter{Must: []Condition{&FieldCondition{Key: key, IsEmpty: &yes}, NewHasID(point.NumID(1))}}, true},
		{"nil condition", &Filter{Should: []Condition{nil}}, false},
		{"no condition", &Filter{Must: []Condition{&FieldCondition{Key: key}}}, false},
		{"no key", &Filter{Must: []Condition{&FieldCondition{Range: &Range{}}}}, false},
		{"no key is_empty", &Filter{Must: []Condition{&IsEmptyCondition{}}}, false},
		{"kindless value", &Filter{Must: []Condition{&FieldCondition{Key: key, Match: &MatchValue{}}}}, false},
		{"min_count 0", &Filter{MinShould: &MinShould{}}, false},
		{"nested bad", &Filter{MustNot: []Condition{&Filter{Must: []Condition{&IsNullCondition{}}}}}, false},
		{"has_id without NewHasID", &Filter{Must: []Condition{&HasIDCondition{ids: []point.ID{point.NumID(1)}}}}, false},
		{"geo radius", &Filter{Must: []Condition{&FieldCondition{Key: key, GeoRadius: &GeoRadius{Center: GeoPoint{Lon: 1, Lat: 2}, Radius: 5}}}}, true},
		{"geo radius lat", &Filter{Must: []Condition{&FieldCondition{Key: key, GeoRadius: &GeoRadius{Center: GeoPoint{Lat: 91}}}}}, false},
		{"geo radius NaN", &Filter{Must: []Condition{&FieldCondition{Key: key, GeoRadius: &GeoRadius{Radius: math.NaN()}}}}, false},
		{"geo box lon", &Filter{Must: []Condition{&FieldCondition{Key: key, GeoBoundingBox: &GeoBoundingBox{BottomRight: GeoPoint{Lon: 181}}}}}, false},
		{"polygon short", &Filter{Must: []Condition{&FieldCondition{Key: key, GeoPolygon: &GeoPolygon{}}}}, false},
		{"polygon hole open", &Filter{Must: []Condition{&FieldCondition{Key: key, GeoPolygon: &GeoPolygon{Exterior: square,
			Interiors: []GeoLineString{{Points: []GeoPoint{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}}}}}}, false},
		{"polygon", &Filter{Must: []Condition{&FieldCondition{Key: key, GeoPolygon: &GeoPolygon{Exterior: square}}}}, true},
		{"range NaN", &Filter{Must: []Condition{&FieldCondition{Key: key, Range: &Range{GT: &nan}}}}, false},
		{"both ranges", &Filter{Must: []Condition{&FieldCondition{Key: key, Range: &Range{}, DatetimeRange: &DatetimeRange{}}}}, false},
		{"datetime range", &Filter{Must: []Condition{&FieldCondition{Key: key, DatetimeRange: &DatetimeRange{}}}}, true},
		{"values_count", &Filter{Must: []Condition{&FieldCondition{Key: key, ValuesCount: &ValuesCount{}}}}, true},
		{"typed nil match", &Filter{Must: []Condition{&FieldCondition{Key: key, Match: (*MatchText)(nil)}}}, false},
		{"text", &Filter{Must: []Condition{&FieldCondition{Key: key, Match: &MatchTextAny{TextAny: "a b"}}}}, true},
		{"has_vector", &Filter{Must: []Condition{&HasVectorCondition{}}}, true},
		{"nested", &Filter{Must: []Condition{&NestedCondition{Key: key, Filter: &Filter{}}}}, true},
		{"nested nil filter", &Filter{Must: []Condition{&NestedCondition{Key: key}}}, false},
		{"nested no key", &Filter{Must: []Condition{&NestedCondition{Filter: &Filter{}}}}, false},
		{"nested bad inner", &Filter{Must: []Condition{&NestedCondition{Key: key, Filter: &Filter{Must: []Condition{&FieldCondition{Key: key}}}}}}, false},
		{"slice", &Filter{Must: []Condition{&SliceCondition{Total: 2, Index: 1}}}, true},
		{"slice zero", &Filter{Must: []Condition{&SliceCondition{}}}, false},
		{"slice index", &Filter{Must: []Condition{&SliceCondition{Total: 2, Index: 2}}}, false},
	}
	for _, c := range cases {
		err := c.f.Validate()
		if (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrValidation) {
			t.Errorf("%s: %v is not ErrValidation", c.name, err)
		}
	}
}

func TestValueList(t *testing.T) {
	l := IntegerList(3, 1, 3)
	if !l.IsIntegers() || l.Len() != 2 || !l.HasInteger(1) || l.HasInteger(2) || l.HasKeyword("3") {
		t.Fatalf("integer list %v", l.Integers())
	}
	k := KeywordList()
	if k.IsIntegers() || k.Len() != 0 || k.HasKeyword("") {
		t.Fatal("empty keyword list")
	}
	if b, _ := (ValueList{}).MarshalJSON(); string(b) != "[]" {
		t.Fatalf("zero list JSON %s", b)
	}
}
