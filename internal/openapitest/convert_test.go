package openapitest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestConvertSchema(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{
			"typed nullable",
			`{"type": "integer", "format": "uint", "minimum": 0, "nullable": true, "example": 3}`,
			`{"type": ["integer", "null"], "format": "uint", "minimum": 0}`,
		},
		{
			"bare nullable",
			`{"nullable": true}`,
			`{"type": "null"}`,
		},
		{
			"bare nullable with annotations",
			`{"description": "none", "default": null, "nullable": true}`,
			`{"description": "none", "default": null, "type": "null"}`,
		},
		{
			"anyOf with bare nullable branch",
			`{"default": null, "anyOf": [{"$ref": "#/components/schemas/Usage"}, {"nullable": true}]}`,
			`{"default": null, "anyOf": [{"$ref": "#/components/schemas/Usage"}, {"type": "null"}]}`,
		},
		{
			"nullable enum",
			`{"type": "string", "enum": ["a", "b"], "nullable": true}`,
			`{"type": ["string", "null"], "enum": ["a", "b", null]}`,
		},
		{
			"nullable enum already holding null",
			`{"type": ["string"], "enum": ["a", null], "nullable": true}`,
			`{"type": ["string", "null"], "enum": ["a", null]}`,
		},
		{
			"untyped constrained nullable",
			`{"description": "d", "anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": true}`,
			`{"description": "d", "anyOf": [{"type": "null"}, {"anyOf": [{"type": "string"}, {"type": "integer"}]}]}`,
		},
		{
			"nullable false",
			`{"type": "string", "nullable": false}`,
			`{"type": "string"}`,
		},
		{
			"nested keywords dropped, property names kept",
			`{"type": "object", "example": {"x": 1}, "discriminator": {"propertyName": "k"}, "xml": {}, "externalDocs": {},
			  "properties": {"example": {"type": "string", "example": "e", "nullable": true},
			                 "list": {"type": "array", "items": {"type": "number", "format": "float", "nullable": true}}},
			  "additionalProperties": {"type": "boolean", "nullable": true}}`,
			`{"type": "object",
			  "properties": {"example": {"type": ["string", "null"]},
			                 "list": {"type": "array", "items": {"type": ["number", "null"], "format": "float"}}},
			  "additionalProperties": {"type": ["boolean", "null"]}}`,
		},
		{
			"boolean exclusive bounds",
			`{"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1, "exclusiveMaximum": false}`,
			`{"type": "number", "exclusiveMinimum": 0, "maximum": 1}`,
		},
		{
			"oneOf and allOf branches",
			`{"oneOf": [{"type": "string", "nullable": true}], "allOf": [{"not": {"type": "integer", "nullable": true}}]}`,
			`{"oneOf": [{"type": ["string", "null"]}], "allOf": [{"not": {"type": ["integer", "null"]}}]}`,
		},
		{"boolean schema", `true`, `true`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := convertSchema(decode(t, tc.in))
			want := decode(t, tc.want)
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("convertSchema(%s)\n got %s\nwant %s", tc.in, g, w)
			}
		})
	}
}

// TestNoOpenAPIKeywordsLeft walks the converted document for schemas that
// still say nullable or example, which would mean a subschema position the
// converter does not know about.
func TestNoOpenAPIKeywordsLeft(t *testing.T) {
	loadOrSkip(t)
	doc := obj(decode(t, string(shared.data)))
	convertDocument(doc)
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["nullable"].(bool); ok {
				t.Errorf("%s still has nullable", path)
			}
			if _, ok := v["example"]; ok && looksLikeSchema(v) {
				t.Errorf("%s still has example", path)
			}
			for k, sub := range v {
				walk(sub, path+"/"+k)
			}
		case []any:
			for i, sub := range v {
				walk(sub, path+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(obj(doc["components"])["schemas"], "#/components/schemas")
	walk(doc["paths"], "#/paths")
}

// looksLikeSchema tells a schema from a properties map that happens to have
// a property called "example": in a schema, type is a string or a list.
func looksLikeSchema(m map[string]any) bool {
	switch m["type"].(type) {
	case string, []any:
		return true
	}
	_, ref := m["$ref"].(string)
	_, anyOf := m["anyOf"].([]any)
	return ref || anyOf
}

func decode(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(s)))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}
