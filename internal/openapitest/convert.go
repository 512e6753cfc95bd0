package openapitest

// OpenAPI 3.0 schema objects are almost, but not quite, JSON Schema. The
// functions here rewrite them in place into JSON Schema 2020-12 so one
// compiler can take the whole document as a single resource and every $ref
// keeps pointing where it did.

// openAPIOnly lists schema keywords that mean nothing to JSON Schema 2020-12
// and are dropped. `example` is the one that matters: 2020-12 knows only
// `examples`, and its metaschema would not mind, but an unknown keyword holding
// arbitrary JSON is noise in every error message.
var openAPIOnly = []string{"example", "discriminator", "xml", "externalDocs"}

// annotationOnly lists keywords that never reject an instance.
var annotationOnly = map[string]bool{
	"description": true, "title": true, "default": true, "deprecated": true,
	"readOnly": true, "writeOnly": true, "$comment": true, "examples": true,
}

// convertDocument rewrites every schema the document holds: the component
// schemas, and the inline schemas of parameters, request bodies and
// responses of each operation.
func convertDocument(doc map[string]any) {
	schemas := obj(obj(doc["components"])["schemas"])
	for name, s := range schemas {
		schemas[name] = convertSchema(s)
	}
	for _, item := range obj(doc["paths"]) {
		for _, op := range obj(item) {
			opm := obj(op)
			if opm == nil {
				continue // path-level "parameters" is a list
			}
			if params, ok := opm["parameters"].([]any); ok {
				for _, p := range params {
					convertIn(obj(p))
				}
			}
			convertContent(obj(obj(opm["requestBody"])["content"]))
			for _, resp := range obj(opm["responses"]) {
				convertContent(obj(obj(resp)["content"]))
			}
		}
	}
}

func convertContent(content map[string]any) {
	for _, media := range content {
		convertIn(obj(media))
	}
}

// convertIn converts the "schema" member of a parameter or media type.
func convertIn(m map[string]any) {
	if s, ok := m["schema"]; ok {
		m["schema"] = convertSchema(s)
	}
}

// convertSchema converts one schema and everything below it. It returns the
// replacement, which is the same map unless nullable forced a wrapper.
func convertSchema(v any) any {
	m := obj(v)
	if m == nil {
		return v // boolean schema, or something the compiler will complain about
	}
	for _, k := range openAPIOnly {
		delete(m, k)
	}
	for _, k := range []string{"properties", "patternProperties"} {
		props := obj(m[k])
		for name, s := range props {
			props[name] = convertSchema(s)
		}
	}
	for _, k := range []string{"additionalProperties", "items", "not"} {
		if s, ok := m[k]; ok {
			m[k] = convertSchema(s)
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if arr, ok := m[k].([]any); ok {
			for i := range arr {
				arr[i] = convertSchema(arr[i])
			}
		}
	}
	convertExclusive(m, "exclusiveMinimum", "minimum")
	convertExclusive(m, "exclusiveMaximum", "maximum")

	nullable, _ := m["nullable"].(bool)
	delete(m, "nullable")
	if !nullable {
		return m
	}
	return makeNullable(m)
}

// convertExclusive turns OpenAPI's boolean `exclusiveMinimum: true` next to
// `minimum: n` into 2020-12's `exclusiveMinimum: n`.
func convertExclusive(m map[string]any, exclusive, bound string) {
	b, ok := m[exclusive].(bool)
	if !ok {
		return
	}
	delete(m, exclusive)
	if n, has := m[bound]; b && has {
		m[exclusive] = n
		delete(m, bound)
	}
}

// makeNullable lets null through a schema that said `nullable: true`.
//
//   - {type: X}              -> {type: [X, "null"]}, and null joins any enum;
//   - {} (annotations only)   -> {type: "null"}: schemars writes Option<T> as
//     anyOf [{$ref: T}, {nullable: true}], so the bare branch means "or null";
//   - anything else untyped  -> {anyOf: [{type: "null"}, <it>]}.
func makeNullable(m map[string]any) any {
	switch t := m["type"].(type) {
	case string:
		m["type"] = []any{t, "null"}
		addNullToEnum(m)
		return m
	case []any:
		if !containsNull(t) {
			m["type"] = append(t, "null")
		}
		addNullToEnum(m)
		return m
	}
	constrained := false
	for k := range m {
		if !annotationOnly[k] {
			constrained = true
			break
		}
	}
	if !constrained {
		m["type"] = "null"
		return m
	}
	wrapper := map[string]any{}
	for k, v := range m {
		if annotationOnly[k] {
			wrapper[k] = v
			delete(m, k)
		}
	}
	wrapper["anyOf"] = []any{map[string]any{"type": "null"}, m}
	return wrapper
}

func addNullToEnum(m map[string]any) {
	if enum, ok := m["enum"].([]any); ok && !containsNil(enum) {
		m["enum"] = append(enum, nil)
	}
}

func containsNull(types []any) bool {
	for _, t := range types {
		if t == "null" {
			return true
		}
	}
	return false
}

func containsNil(values []any) bool {
	for _, v := range values {
		if v == nil {
			return true
		}
	}
	return false
}

// obj returns v as a JSON object, or nil (which ranges and indexes fine).
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
