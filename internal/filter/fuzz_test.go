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
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	payloads := make([]point.Payload, len(fuzzPayloads))
	for i, s := range fuzzPayloads {
		payloads[i] = decodePayload(f, s)
	}
	ids := []point.ID{point.NumID(1), point.NumID(3), point.UUIDID([16]byte{0x5c, 0x56, 0xc7, 0x93, 0x69, 0xf3, 0x4f, 0xbf, 0x87, 0xe6, 0xc4, 0xbf, 0x54, 0xc2, 0x8c, 0x26})}

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
				if flt.Matches(id, p) != again.Matches(id, p) {
					t.Fatalf("%s and its canonical form disagree on %v", raw, p)
				}
			}
		}
	})
}
