package openapitest

import "strings"

// legacyKey is where the legacy response schemas are kept inside the
// converted document, so their $refs resolve within the same resource.
const legacyKey = "x-shoal-legacy"

// legacyRoutes lists endpoints Qdrant still routes although the 1.19
// document dropped them in favour of /points/query. Each is a POST whose
// successful body is the usual envelope around result.
var legacyRoutes = []struct {
	template string
	result   any
}{
	{"/collections/{collection_name}/points/search", arrayOf(componentRef("ScoredPoint"))},
	{"/collections/{collection_name}/points/search/batch", arrayOf(arrayOf(componentRef("ScoredPoint")))},
	{"/collections/{collection_name}/points/search/groups", componentRef("GroupsResult")},
	{"/collections/{collection_name}/points/recommend", arrayOf(componentRef("ScoredPoint"))},
	{"/collections/{collection_name}/points/recommend/batch", arrayOf(arrayOf(componentRef("ScoredPoint")))},
	{"/collections/{collection_name}/points/recommend/groups", componentRef("GroupsResult")},
	{"/collections/{collection_name}/points/discover", arrayOf(componentRef("ScoredPoint"))},
	{"/collections/{collection_name}/points/discover/batch", arrayOf(arrayOf(componentRef("ScoredPoint")))},
}

// addLegacyRoutes stores the legacy schemas in doc and adds their routes,
// skipping any template the document itself declares for POST (a newer spec
// wins) and any whose component schemas are missing.
func addLegacyRoutes(doc map[string]any, routes []*route) []*route {
	store := map[string]any{}
	doc[legacyKey] = store
	schemas := obj(obj(doc["components"])["schemas"])
	if schemas["ErrorResponse"] == nil {
		return routes
	}
	declared := map[string]bool{}
	for _, r := range routes {
		if r.ops["POST"] != nil {
			declared[r.template] = true
		}
	}
	for _, l := range legacyRoutes {
		if declared[l.template] || !refsExist(l.result, schemas) {
			continue
		}
		name := strings.ReplaceAll(strings.TrimPrefix(l.template, "/collections/{collection_name}/points/"), "/", "_")
		store[name] = envelope(l.result, schemas["Usage"] != nil)
		errPtr := "/components/schemas/ErrorResponse"
		r := newRoute(l.template)
		r.ops["POST"] = &operation{
			method:   "POST",
			template: l.template,
			legacy:   true,
			responses: map[string]response{
				"200":     {key: "200", schema: "/" + legacyKey + "/" + name, media: []string{"application/json"}},
				"4XX":     {key: "4XX", schema: errPtr, media: []string{"application/json"}},
				"default": {key: "default", schema: errPtr, media: []string{"application/json"}},
			},
		}
		routes = append(routes, r)
	}
	return routes
}

// envelope mirrors the inline 200 schemas of the document: nothing is
// required, result holds the payload.
func envelope(result any, withUsage bool) map[string]any {
	props := map[string]any{
		"time":   map[string]any{"type": "number"},
		"status": map[string]any{"type": "string"},
		"result": result,
	}
	if withUsage {
		props["usage"] = map[string]any{"anyOf": []any{componentRef("Usage"), map[string]any{"type": "null"}}}
	}
	return map[string]any{"type": "object", "properties": props}
}

func componentRef(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func arrayOf(items any) map[string]any {
	return map[string]any{"type": "array", "items": items}
}

// refsExist reports whether every component a legacy schema points at is in
// the document.
func refsExist(v any, schemas map[string]any) bool {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			name, found := strings.CutPrefix(ref, "#/components/schemas/")
			if !found || schemas[name] == nil {
				return false
			}
		}
		for _, sub := range v {
			if !refsExist(sub, schemas) {
				return false
			}
		}
	case []any:
		for _, sub := range v {
			if !refsExist(sub, schemas) {
				return false
			}
		}
	}
	return true
}
