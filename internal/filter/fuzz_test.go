package filter

import (
	"errors"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

var fuzzPayloads = []string{
	`{}`,
	`{"a": 1, "b": "x", "c": [1, "x", null, [2], {"d": true}], "e": null, "f": []}`,
	`{"a": {"b": [{"c": 1.5}, {"c": [3, -4]}], "d": "he"}, "g": [{"h": null}, {"h": []}, 7]}`,
	`{"n": 18446744073709551615, "m": -9223372036854775808, "x": 1e300, "y": 0.0}`,
	`{"": {"": [""]}, "a.b": {"c": false}, "日本": ["語"]}`,
	`{"loc": [{"lon": 13.4, "lat": 52.5}, {"lon": 0, "lat": 0, "x": 1}], "d": ["2023-02-08T10:49:00Z", "2023-02-08 10:49", "2023-02-08"],
	  "t": "hello world", "a": [{"b": 1, "loc": {"lon": 1, "lat": 1}, "c": [{"d": "x"}]}, {"b": [2, 3], "c": []}, null, 4]}`,
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		`null`, `{}`, `{"should": []}`,
		`{"must": [{"key": "a", "match": {"value": 1}}, {"key": "b", "match": {"value": "x"}}]}`,
		`{"must": {"key": "c[]", "match": {"any": [1, 2]}}, "must_not": {"key": "b", "match": {"except": ["x"]}}}`,
		`{"should": [{"key": "a.b[].c", "range": {"gt": 1, "lte": 3.5}}, {"is_empty": {"key": "f"}}, {"is_null": {"key": "e"}}]}`,
		`{"min_should": {"conditions": [{"has_id": [1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]}, {"must": []}], "min_count": 1}}`,
		`{"must": [{"key": "g[].h", "is_empty": true}, {"key": "\"a.b\".c", "is_null": false}, {"key": "a.d", "match": {"prefix": "h"}}]}`,
		`{"must": [{"key": "a", "match": {"text": "x"}}]}`,
		`{"must": [{"nested": {"key": "a", "filter": {}}}]}`,
		`{"must": [{"key": "a"}]}`, `{"must": [1]}`, `[`, `{"must": {"must": {"must": {"should": {}}}}}`,
		`{"must": [{"key": "t", "match": {"text_any": "wor x"}}, {"key": "t", "match": {"phrase": "o w"}}]}`,
		`{"should": [{"key": "d", "range": {"gte": "2023-02-08T10:00:00+01:00", "lt": "2023-02-09"}}, {"key": "d", "range": {"gt": 1}}]}`,
		`{"must": {"key": "loc", "geo_radius": {"center": {"lon": 13.4, "lat": 52.5}, "radius": 1000.5}}}`,
		`{"must": {"key": "d", "range": {"lt": "9999-12-31T23:59:59.999999999+00:00", "gt": "0000-01-01T01:00:00+01"}}}`,
		`{"must": {"key": "a[].loc", "geo_bounding_box": {"top_left": {"lon": 170, "lat": 10}, "bottom_right": {"lon": -170, "lat": -10}}}}`,
		`{"must": {"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 20, "lat": 0}, {"lon": 20, "lat": 60}, {"lon": 0, "lat": 0}]},
			"interiors": [{"points": [{"lon": 1, "lat": 1}, {"lon": 2, "lat": 1}, {"lon": 2, "lat": 2}, {"lon": 1, "lat": 1}]}]}}}`,
		`{"must_not": [{"key": "a[].b", "values_count": {"gt": 1, "lte": 5}}, {"has_vector": "v"}, {"slice": {"total": 3, "index": 1}}]}`,
		`{"must": {"nested": {"key": "a", "filter": {"must": {"key": "b", "range": {"gte": 1}}, "must_not": {"nested": {"key": "c", "filter": {"should": {"is_empty": {"key": "d"}}}}}}}}}`,
		`{"must": {"nested": {"key": "a[]", "filter": {"must": [{"has_id": [1]}, {"has_vector": ""}]}}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	payloads := make([]point.Payload, len(fuzzPayloads))
	for i, s := range fuzzPayloads {
		payloads[i] = decodePayload(f, s)
	}
	ids := []point.ID{point.NumID(1), point.NumID(3), point.UUIDID([16]byte{0x5c, 0x56, 0xc7, 0x93, 0x69, 0xf3, 0x4f, 0xbf, 0x87, 0xe6, 0xc4, 0xbf, 0x54, 0xc2, 0x8c, 0x26})}

	hasV := func(name string) bool { return name == "" || name == "v" }

	f.Fuzz(func(t *testing.T, raw []byte) {
		flt, err := Parse(raw)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || !(errors.Is(err, ErrFormat) || errors.Is(err, ErrValidation) || errors.Is(err, ErrUnsupported)) {
				t.Fatalf("error %q has no kind", err)
			}
			return
		}
		if err := flt.Validate(); err != nil {
			t.Fatalf("parsed filter does not validate: %v", err)
		}
		text := flt.String()
		again, err := Parse([]byte(text))
		if err != nil {
			t.Fatalf("canonical form %s does not parse: %v", text, err)
		}
		if again.String() != text {
			t.Fatalf("canonical form is not stable:\n%s\n%s", text, again.String())
		}
		for _, p := range payloads {
			for _, id := range ids {
				if flt.Matches(id, p) != again.Matches(id, p) ||
					flt.MatchesPoint(id, p, hasV) != again.MatchesPoint(id, p, hasV) {
					t.Fatalf("%s and its canonical form disagree on %v", raw, p)
				}
			}
		}
	})
}
