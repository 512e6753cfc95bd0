package rest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// Helpers shared by the payload index, filter and facet/order_by tests.

// createIndex creates a payload index and waits for it.
func (s *server) createIndex(coll, field string, schema any) {
	s.t.Helper()
	s.write(http.MethodPut, collPath(coll, "/index"), map[string]any{"field_name": field, "field_schema": schema})
}

// deleteIndex drops a payload index and waits.
func (s *server) deleteIndex(coll, field string) {
	s.t.Helper()
	s.write(http.MethodDelete, collPath(coll, "/index/"+field), nil)
}

// indexInfo is one entry of payload_schema (Qdrant's PayloadIndexInfo).
type indexInfo struct {
	DataType string          `json:"data_type"`
	Params   json.RawMessage `json:"params"`
	Points   *int            `json:"points"`
}

// payloadSchema returns the payload_schema of a collection.
func (s *server) payloadSchema(coll string) map[string]indexInfo {
	s.t.Helper()
	info, _ := s.info(coll)
	var out map[string]indexInfo
	decode(s.t, info.PayloadSchema, &out)
	if out == nil {
		s.t.Fatalf("payload_schema of %s is %s, want an object", coll, info.PayloadSchema)
	}
	return out
}

// indexedPoints returns the points count of the index on field.
func (s *server) indexedPoints(coll, field string) int {
	s.t.Helper()
	ix, ok := s.payloadSchema(coll)[field]
	if !ok || ix.Points == nil {
		s.t.Fatalf("payload_schema of %s has no points for %q", coll, field)
	}
	return *ix.Points
}

// scrollIDs returns the ids of every point matching filter, in scroll
// order, following next_page_offset pages of pageSize.
func (s *server) scrollIDs(coll string, filter any, pageSize int) []string {
	s.t.Helper()
	var out []string
	var offset json.RawMessage
	for pages := 0; ; pages++ {
		body := map[string]any{"limit": pageSize, "with_payload": false}
		if filter != nil {
			body["filter"] = filter
		}
		if offset != nil {
			body["offset"] = offset
		}
		var res struct {
			Points []record        `json:"points"`
			Next   json.RawMessage `json:"next_page_offset"`
		}
		s.ok(http.MethodPost, collPath(coll, "/points/scroll"), body, &res)
		if len(res.Points) > pageSize {
			s.t.Fatalf("scroll page of %d points, limit %d", len(res.Points), pageSize)
		}
		out = append(out, ids(res.Points)...)
		if absent(res.Next) {
			return out
		}
		if pages > 10000 {
			s.t.Fatalf("scroll of %s does not end", coll)
		}
		offset = res.Next
	}
}

// approxCount is POST points/count with exact=false.
func (s *server) approxCount(coll string, filter any) int {
	s.t.Helper()
	body := map[string]any{"exact": false}
	if filter != nil {
		body["filter"] = filter
	}
	var res struct {
		Count *int `json:"count"`
	}
	s.ok(http.MethodPost, collPath(coll, "/points/count"), body, &res)
	if res.Count == nil {
		s.t.Fatalf("count %s: no count in result", coll)
	}
	return *res.Count
}

// idTexts renders integer ids as the JSON texts the server writes.
func idTexts(nums ...int) []string {
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = idText(n)
	}
	return out
}

// allOf wraps conditions into {"must": [...]}.
func allOf(conds ...any) map[string]any { return map[string]any{"must": conds} }

// fieldCond builds a field condition {"key": key, kind: value}.
func fieldCond(key, kind string, value any) map[string]any {
	return map[string]any{"key": key, kind: value}
}

// matchCond builds {"key": key, "match": {kind: value}}.
func matchCond(key, kind string, value any) map[string]any {
	return fieldCond(key, "match", map[string]any{kind: value})
}

var vec2 = []float32{1, 0}

// indexSchemaCase is an index to create over a payload of the right type.
type indexSchemaCase struct {
	name     string
	value    any // the payload value of the indexed points
	schema   any // field_schema as sent
	dataType string
	params   any // expected params; nil: none
}

// TestPayloadIndexSchemas creates an index of every type and parameter set
// over points that hold a value of that type, and checks payload_schema,
// then deletes it.
func TestPayloadIndexSchemas(t *testing.T) {
	s := newServer(t, rest.Options{})
	const coll = "schemas"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})

	cases := []indexSchemaCase{
		{name: "keyword", value: "red", schema: "keyword", dataType: "keyword"},
		{name: "integer", value: 7, schema: "integer", dataType: "integer"},
		{name: "float", value: 1.5, schema: "float", dataType: "float"},
		{name: "bool", value: true, schema: "bool", dataType: "bool"},
		{name: "geo", value: map[string]any{"lon": 13.4, "lat": 52.5}, schema: "geo", dataType: "geo"},
		{name: "datetime", value: "2024-01-01T00:00:00Z", schema: "datetime", dataType: "datetime"},
		{name: "uuid", value: "a64a8051-3ee7-4881-8bc6-691d25c70d54", schema: "uuid", dataType: "uuid"},
		{name: "text", value: "hello world", schema: "text", dataType: "text"},
		{
			name: "keyword tenant", value: "t1", dataType: "keyword",
			schema: map[string]any{"type": "keyword", "is_tenant": true, "on_disk": true},
			params: map[string]any{"type": "keyword", "is_tenant": true, "on_disk": true},
		},
		{
			name: "keyword no params", value: "t1", dataType: "keyword",
			schema: map[string]any{"type": "keyword"},
			params: map[string]any{"type": "keyword"},
		},
		{
			name: "integer lookup only", value: 3, dataType: "integer",
			schema: map[string]any{"type": "integer", "lookup": true, "range": false},
			params: map[string]any{"type": "integer", "lookup": true, "range": false, "is_principal": nil},
		},
		{
			name: "integer range only principal", value: 3, dataType: "integer",
			schema: map[string]any{"type": "integer", "lookup": false, "range": true, "is_principal": true},
			params: map[string]any{"type": "integer", "lookup": false, "range": true, "is_principal": true},
		},
		{
			name: "integer defaults", value: 3, dataType: "integer",
			schema: map[string]any{"type": "integer"},
			params: map[string]any{"type": "integer", "lookup": nil, "range": nil, "is_principal": nil},
		},
		{
			name: "float principal", value: 2.5, dataType: "float",
			schema: map[string]any{"type": "float", "is_principal": true},
			params: map[string]any{"type": "float", "is_principal": true},
		},
		{
			name: "datetime principal", value: "2024-01-01", dataType: "datetime",
			schema: map[string]any{"type": "datetime", "is_principal": true, "on_disk": false},
			params: map[string]any{"type": "datetime", "is_principal": true, "on_disk": false},
		},
		{
			name: "uuid tenant", value: "7cb46fb3-e348-4762-93ad-7fb983d2b85e", dataType: "uuid",
			schema: map[string]any{"type": "uuid", "is_tenant": true},
			params: map[string]any{"type": "uuid", "is_tenant": true},
		},
		{
			name: "bool params", value: false, dataType: "bool",
			schema: map[string]any{"type": "bool"},
			params: map[string]any{"type": "bool"},
		},
		{
			name: "geo params", value: map[string]any{"lon": 0, "lat": 0}, dataType: "geo",
			schema: map[string]any{"type": "geo", "on_disk": true},
			params: map[string]any{"type": "geo", "on_disk": true},
		},
		{
			name: "text word lowercase lengths stopwords", value: "The quick brown fox", dataType: "text",
			schema: map[string]any{"type": "text", "tokenizer": "word", "lowercase": true, "min_token_len": 2, "max_token_len": 10, "stopwords": "english"},
			params: map[string]any{"type": "text", "tokenizer": "word", "lowercase": true, "min_token_len": 2, "max_token_len": 10, "stopwords": "english"},
		},
		{
			name: "text whitespace case sensitive", value: "Hello World", dataType: "text",
			schema: map[string]any{"type": "text", "tokenizer": "whitespace", "lowercase": false},
			params: map[string]any{"type": "text", "tokenizer": "whitespace", "lowercase": false},
		},
		{
			name: "text prefix", value: "prefixes", dataType: "text",
			schema: map[string]any{"type": "text", "tokenizer": "prefix", "min_token_len": 1, "max_token_len": 5},
			params: map[string]any{"type": "text", "tokenizer": "prefix", "min_token_len": 1, "max_token_len": 5},
		},
		{
			name: "text multilingual stopword sets", value: "le chat et the dog", dataType: "text",
			schema: map[string]any{"type": "text", "tokenizer": "multilingual", "stopwords": map[string]any{"languages": []string{"french", "english"}, "custom": []string{"dog"}}},
			params: map[string]any{"type": "text", "tokenizer": "multilingual", "stopwords": map[string]any{"languages": []string{"english", "french"}, "custom": []string{"dog"}}},
		},
		{
			name: "text defaults", value: "x", dataType: "text",
			schema: map[string]any{"type": "text"},
			params: map[string]any{"type": "text", "tokenizer": "word"},
		},
		{
			name: "text phrase matching", value: "a b c", dataType: "text",
			schema: map[string]any{"type": "text", "phrase_matching": true, "ascii_folding": true},
			params: map[string]any{"type": "text", "tokenizer": "word", "phrase_matching": true, "ascii_folding": true},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := s.on(t)
			key := "f" + strconv.Itoa(i)
			// Three points hold the value, one holds nothing at key, one an
			// empty array: only the first three are indexed.
			base := 10 * (i + 1)
			s.upsert(coll,
				pointIn{ID: base + 1, Vector: vec2, Payload: map[string]any{key: tc.value}},
				pointIn{ID: base + 2, Vector: vec2, Payload: map[string]any{key: tc.value, "other": 1}},
				pointIn{ID: base + 3, Vector: vec2, Payload: map[string]any{key: []any{tc.value}}},
				pointIn{ID: base + 4, Vector: vec2, Payload: map[string]any{"other": 1}},
				pointIn{ID: base + 5, Vector: vec2, Payload: map[string]any{key: []any{}}},
			)
			s.createIndex(coll, key, tc.schema)
			got, ok := s.payloadSchema(coll)[key]
			if !ok {
				t.Fatalf("payload_schema has no %q after creating the index", key)
			}
			if got.DataType != tc.dataType {
				t.Errorf("data_type %q, want %q", got.DataType, tc.dataType)
			}
			if tc.params == nil {
				if !absent(got.Params) {
					t.Errorf("params %s for a bare type name, want none", got.Params)
				}
			} else {
				assertJSON(t, "params", got.Params, tc.params)
			}
			if got.Points == nil || *got.Points != 3 {
				t.Errorf("points %v, want 3", got.Points)
			}
			s.deleteIndex(coll, key)
			if _, ok := s.payloadSchema(coll)[key]; ok {
				t.Errorf("payload_schema still has %q after deleting the index", key)
			}
		})
	}
	// Deleting an index that does not exist succeeds, as in Qdrant.
	s.deleteIndex(coll, "never_indexed")
	s.deleteIndex(coll, "f0")
	if got := s.payloadSchema(coll); len(got) != 0 {
		t.Errorf("payload_schema %v, want {}", got)
	}
}

// TestPayloadIndexPointCounts follows the points count of an index through
// upserts, deletes and every payload operation, for an index created
// before and after the points were written.
func TestPayloadIndexPointCounts(t *testing.T) {
	s := newServer(t, rest.Options{})
	const coll = "counts"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.createIndex(coll, "early", "keyword")

	var pts []pointIn
	for i := 1; i <= 10; i++ {
		p := map[string]any{}
		switch {
		case i <= 6:
			p["early"], p["late"] = "v", "v"
		case i == 7:
			p["early"], p["late"] = []any{"a", "b"}, []any{"a", "b"}
		case i == 8:
			p["early"], p["late"] = nil, nil // null is no value
		case i == 9:
			p["early"], p["late"] = 5, 5 // not a keyword
		}
		pts = append(pts, pointIn{ID: i, Vector: vec2, Payload: p})
	}
	s.upsert(coll, pts...)
	s.createIndex(coll, "late", "keyword")

	check := func(step string, want int) {
		t.Helper()
		for _, key := range []string{"early", "late"} {
			if got := s.indexedPoints(coll, key); got != want {
				t.Errorf("%s: index %q has %d points, want %d", step, key, got, want)
			}
			// The index answers match conditions with the same points.
			f := allOf(map[string]any{"should": []any{matchCond(key, "value", "v"), matchCond(key, "any", []string{"a", "b", "w", "z"})}})
			if got := s.count(coll, f); got != want {
				t.Errorf("%s: %d points match a value at %q, want %d", step, got, key, want)
			}
		}
	}
	check("after upsert", 7)

	both := func(v any) map[string]any { return map[string]any{"early": v, "late": v} }
	steps := []struct {
		name   string
		method string
		path   string
		body   any
		want   int
	}{
		{"delete point 1", http.MethodPost, "/points/delete", map[string]any{"points": []int{1}}, 6},
		{"delete a missing point", http.MethodPost, "/points/delete", map[string]any{"points": []int{1, 99}}, 6},
		{"set_payload on an unindexed point", http.MethodPost, "/points/payload", map[string]any{"points": []int{10}, "payload": both("w")}, 7},
		{"set_payload on an indexed point", http.MethodPost, "/points/payload", map[string]any{"points": []int{2}, "payload": both("z")}, 7},
		{"set_payload an empty array", http.MethodPost, "/points/payload", map[string]any{"points": []int{3}, "payload": both([]any{})}, 6},
		{"overwrite_payload without the key", http.MethodPut, "/points/payload", map[string]any{"points": []int{4}, "payload": map[string]any{"x": 1}}, 5},
		{"delete_payload the key", http.MethodPost, "/points/payload/delete", map[string]any{"points": []int{5}, "keys": []string{"early", "late"}}, 4},
		{"clear_payload", http.MethodPost, "/points/payload/clear", map[string]any{"points": []int{6}}, 3},
		{"upsert replaces the payload", http.MethodPut, "/points", map[string]any{"points": []pointIn{{ID: 8, Vector: vec2, Payload: both("v")}}}, 4},
		{"upsert a new point", http.MethodPut, "/points", map[string]any{"points": []pointIn{{ID: 11, Vector: vec2, Payload: both([]any{"v", "v"})}}}, 5},
		{"set_payload by filter on the indexed key", http.MethodPost, "/points/payload", map[string]any{"filter": allOf(matchCond("early", "value", "v")), "payload": both(nil)}, 3},
		{"delete by filter on the indexed key", http.MethodPost, "/points/delete", map[string]any{"filter": allOf(matchCond("late", "any", []string{"a", "z"}))}, 1},
		{"batch", http.MethodPost, "/points/batch", map[string]any{"operations": []any{
			map[string]any{"upsert": map[string]any{"points": []pointIn{{ID: 20, Vector: vec2, Payload: both("v")}, {ID: 21, Vector: vec2, Payload: both("v")}}}},
			map[string]any{"delete": map[string]any{"points": []int{20}}},
			map[string]any{"set_payload": map[string]any{"points": []int{9}, "payload": both("w")}},
		}}, 3},
	}
	for _, st := range steps {
		if st.path == "/points/batch" {
			var res []updateResult
			s.ok(st.method, collPath(coll, st.path+"?wait=true"), st.body, &res)
			for _, r := range res {
				if r.Status != "completed" {
					t.Fatalf("%s: %+v, want completed", st.name, res)
				}
			}
		} else {
			s.write(st.method, collPath(coll, st.path), st.body)
		}
		check(st.name, st.want)
	}
}

// TestPayloadIndexNestedKeys indexes keys inside objects and arrays.
func TestPayloadIndexNestedKeys(t *testing.T) {
	s := newServer(t, rest.Options{})
	const coll = "nestedkeys"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert(coll,
		pointIn{ID: 1, Vector: vec2, Payload: map[string]any{"meta": map[string]any{"color": "red"}, "items": []any{map[string]any{"sku": 1}, map[string]any{"sku": 2}}}},
		pointIn{ID: 2, Vector: vec2, Payload: map[string]any{"meta": map[string]any{"color": []any{"red", "blue"}}, "items": []any{map[string]any{"sku": 3}}}},
		pointIn{ID: 3, Vector: vec2, Payload: map[string]any{"meta": "flat", "items": map[string]any{"sku": 1}}},
		pointIn{ID: 4, Vector: vec2, Payload: map[string]any{"meta.color": "dotted key, not a path"}},
	)
	s.createIndex(coll, "meta.color", "keyword")
	s.createIndex(coll, "items[].sku", "integer")
	schema := s.payloadSchema(coll)
	if got := schema["meta.color"]; got.DataType != "keyword" || got.Points == nil || *got.Points != 2 {
		t.Errorf("meta.color: %+v, want a keyword index of 2 points", got)
	}
	if got := schema["items[].sku"]; got.DataType != "integer" || got.Points == nil || *got.Points != 2 {
		t.Errorf("items[].sku: %+v, want an integer index of 2 points", got)
	}
	cases := []struct {
		filter any
		want   []int
	}{
		{allOf(matchCond("meta.color", "value", "red")), []int{1, 2}},
		{allOf(matchCond("meta.color", "value", "blue")), []int{2}},
		{allOf(matchCond("items[].sku", "value", 1)), []int{1}},
		{allOf(matchCond("items[].sku", "any", []int{2, 3})), []int{1, 2}},
		{allOf(fieldCond("items[].sku", "range", map[string]any{"gte": 2})), []int{1, 2}},
		{allOf(matchCond("items.sku", "value", 1)), []int{3}},
	}
	for _, tc := range cases {
		assertJSON(t, "scroll "+string(mustJSON(t, tc.filter)), s.scrollIDs(coll, tc.filter, 10), idTexts(tc.want...))
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPayloadIndexReplace re-creates an index with another type: the new
// one replaces the old, as in Qdrant.
func TestPayloadIndexReplace(t *testing.T) {
	s := newServer(t, rest.Options{})
	const coll = "replace"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert(coll,
		pointIn{ID: 1, Vector: vec2, Payload: map[string]any{"v": 1}},
		pointIn{ID: 2, Vector: vec2, Payload: map[string]any{"v": "one"}},
		pointIn{ID: 3, Vector: vec2, Payload: map[string]any{"v": []any{2, "two"}}},
	)
	s.createIndex(coll, "v", "keyword")
	if got := s.payloadSchema(coll)["v"]; got.DataType != "keyword" || *got.Points != 2 {
		t.Fatalf("keyword index: %+v, want 2 points", got)
	}
	s.createIndex(coll, "v", map[string]any{"type": "integer", "range": false})
	got := s.payloadSchema(coll)
	if len(got) != 1 || got["v"].DataType != "integer" || *got["v"].Points != 2 {
		t.Fatalf("after re-creating as integer: %+v, want one integer index of 2 points", got)
	}
	assertJSON(t, "integer match", s.scrollIDs(coll, allOf(matchCond("v", "value", 2)), 10), idTexts(3))
	assertJSON(t, "keyword match", s.scrollIDs(coll, allOf(matchCond("v", "value", "one")), 10), idTexts(2))
}

// TestPayloadIndexWaitFalse creates and deletes an index without waiting;
// the change becomes visible.
func TestPayloadIndexWaitFalse(t *testing.T) {
	s := newServer(t, rest.Options{})
	const coll = "nowait"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert(coll, pointIn{ID: 1, Vector: vec2, Payload: map[string]any{"k": "a"}})

	for _, path := range []string{"/index", "/index?wait=false"} {
		var res updateResult
		s.ok(http.MethodPut, collPath(coll, path), map[string]any{"field_name": "k", "field_schema": "keyword"}, &res)
		if res.OperationID == nil || (res.Status != "acknowledged" && res.Status != "completed") {
			t.Errorf("PUT %s: %+v, want an acknowledged update with an operation_id", path, res)
		}
		testkit.WaitFor(t, "index k appears", 10*time.Second, func() bool {
			ix, ok := s.payloadSchema(coll)["k"]
			return ok && ix.Points != nil && *ix.Points == 1
		})
		s.ok(http.MethodDelete, collPath(coll, "/index/k?wait=false"), nil, &res)
		if res.OperationID == nil {
			t.Errorf("DELETE without wait: %+v, want an operation_id", res)
		}
		testkit.WaitFor(t, "index k disappears", 10*time.Second, func() bool {
			_, ok := s.payloadSchema(coll)["k"]
			return !ok
		})
	}
}

// TestPayloadIndexErrors sends malformed index requests: each fails with a
// 4xx and creates nothing.
func TestPayloadIndexErrors(t *testing.T) {
	s := newServer(t, rest.Options{})
	const coll = "badindex"
	s.createCollection(coll, map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert(coll, pointIn{ID: 1, Vector: vec2, Payload: map[string]any{"k": "a"}})

	path := collPath(coll, "/index?wait=true")
	const variant = "data did not match any variant of untagged enum PayloadFieldSchema"
	cases := []struct {
		name string
		body any
		code int
		text string // the error contains it
	}{
		{"unknown type name", map[string]any{"field_name": "k", "field_schema": "vector"}, 400, variant},
		{"number schema", map[string]any{"field_name": "k", "field_schema": 5}, 400, variant},
		{"params without type", map[string]any{"field_name": "k", "field_schema": map[string]any{"is_tenant": true}}, 400, variant},
		{"params with unknown type", map[string]any{"field_name": "k", "field_schema": map[string]any{"type": "keywords"}}, 400, variant},
		{"unknown tokenizer", map[string]any{"field_name": "k", "field_schema": map[string]any{"type": "text", "tokenizer": "letters"}}, 400, variant},
		{"unknown stopword language", map[string]any{"field_name": "k", "field_schema": map[string]any{"type": "text", "stopwords": "klingon"}}, 400, variant},
		{"negative min_token_len", map[string]any{"field_name": "k", "field_schema": map[string]any{"type": "text", "min_token_len": -1}}, 400, variant},
		{"string is_tenant", map[string]any{"field_name": "k", "field_schema": map[string]any{"type": "keyword", "is_tenant": "yes"}}, 400, variant},
		{"integer without lookup and range", map[string]any{"field_name": "k", "field_schema": map[string]any{"type": "integer", "lookup": false, "range": false}}, 422,
			"the 'lookup' and 'range' capabilities can't be both disabled"},
		{"missing field_name", map[string]any{"field_schema": "keyword"}, 400, "Format error in JSON body: missing field `field_name`"},
		{"missing field_schema", map[string]any{"field_name": "k"}, 400, "field_schema"},
		{"bad field name", map[string]any{"field_name": "k[", "field_schema": "keyword"}, 400, "k["},
		{"not json", "{", 400, "Format error in JSON body"},
		{"field_schema and its alias", map[string]any{"field_name": "k", "field_schema": "keyword", "field_type": "keyword"}, 400,
			"Format error in JSON body: duplicate field `field_schema`"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := s.on(t).failPrefix(http.MethodPut, path, tc.body, tc.code, "")
			if !strings.Contains(msg, tc.text) {
				t.Errorf("error %q does not contain %q", msg, tc.text)
			}
		})
	}
	if got := s.payloadSchema(coll); len(got) != 0 {
		t.Errorf("payload_schema %v after failed requests, want {}", got)
	}

	// field_type is Qdrant's alias of field_schema.
	s.write(http.MethodPut, collPath(coll, "/index"), map[string]any{"field_name": "k", "field_type": "keyword"})
	if got := s.payloadSchema(coll)["k"]; got.DataType != "keyword" {
		t.Errorf("index created with field_type: %+v, want keyword", got)
	}
	s.fail(http.MethodPut, "/collections/missing/index?wait=true", map[string]any{"field_name": "k", "field_schema": "keyword"}, 404, "Not found: Collection `missing` doesn't exist!")
	s.fail(http.MethodDelete, "/collections/missing/index/k?wait=true", nil, 404, "Not found: Collection `missing` doesn't exist!")
}

// sortedCopy returns ids sorted as the server orders them: the JSON texts
// of non-negative integer ids by length, then by text (that is, by value).
func sortedCopy(ids []string) []string {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return out
}
