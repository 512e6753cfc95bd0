package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/api/rest"
)

// retrieve posts to /points and returns the records.
func (s *server) retrieve(coll string, body any) []record {
	s.t.Helper()
	var recs []record
	s.ok(http.MethodPost, collPath(coll, "/points"), body, &recs)
	return recs
}

// get fetches one point with GET /points/{id}.
func (s *server) get(coll string, id any) record {
	s.t.Helper()
	var rec record
	s.ok(http.MethodGet, collPath(coll, fmt.Sprintf("/points/%v", id)), nil, &rec)
	return rec
}

func (s *server) payload(coll string, id any) map[string]any {
	s.t.Helper()
	return payloadOf(s.t, s.get(coll, id))
}

func absent(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func TestUpsertForms(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("plain", map[string]any{"vectors": map[string]any{"size": 3, "distance": "Dot"}})
	s.createCollection("multi", map[string]any{"vectors": map[string]any{
		"image": map[string]any{"size": 2, "distance": "Dot"},
		"text":  map[string]any{"size": 3, "distance": "Euclid"},
	}})

	cases := []struct {
		name, coll string
		body       any
		want       map[string]any // id text -> vector output
		payloads   map[string]any // id text -> payload
	}{
		{
			name: "list unnamed", coll: "plain",
			body: map[string]any{"points": []pointIn{
				{ID: 1, Vector: []float32{1, 2, 3}, Payload: map[string]any{"n": 1}},
				{ID: 2, Vector: []float32{4, 5, 6}},
			}},
			want:     map[string]any{"1": []float32{1, 2, 3}, "2": []float32{4, 5, 6}},
			payloads: map[string]any{"1": map[string]any{"n": 1}, "2": map[string]any{}},
		},
		{
			name: "batch unnamed", coll: "plain",
			body: map[string]any{"batch": map[string]any{
				"ids":      []any{10, "550e8400-e29b-41d4-a716-446655440000"},
				"vectors":  [][]float32{{0.5, 0, 1}, {1, 1, 1}},
				"payloads": []any{map[string]any{"b": "x"}, map[string]any{"b": "y"}},
			}},
			want:     map[string]any{"10": []float32{0.5, 0, 1}, `"550e8400-e29b-41d4-a716-446655440000"`: []float32{1, 1, 1}},
			payloads: map[string]any{"10": map[string]any{"b": "x"}, `"550e8400-e29b-41d4-a716-446655440000"`: map[string]any{"b": "y"}},
		},
		{
			name: "list named", coll: "multi",
			body: map[string]any{"points": []pointIn{
				{ID: 1, Vector: map[string]any{"image": []float32{1, 2}, "text": []float32{3, 4, 5}}},
				{ID: 2, Vector: map[string]any{"image": []float32{6, 7}}},
			}},
			want: map[string]any{
				"1": map[string]any{"image": []float32{1, 2}, "text": []float32{3, 4, 5}},
				"2": map[string]any{"image": []float32{6, 7}},
			},
		},
		{
			name: "batch named", coll: "multi",
			body: map[string]any{"batch": map[string]any{
				"ids":     []int{3, 4},
				"vectors": map[string]any{"image": [][]float32{{1, 0}, {0, 1}}, "text": [][]float32{{1, 1, 0}, {0, 1, 1}}},
			}},
			want: map[string]any{
				"3": map[string]any{"image": []float32{1, 0}, "text": []float32{1, 1, 0}},
				"4": map[string]any{"image": []float32{0, 1}, "text": []float32{0, 1, 1}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := s.on(t)
			s.write(http.MethodPut, collPath(tc.coll, "/points"), tc.body)
			var idList []json.RawMessage
			for id := range tc.want {
				idList = append(idList, json.RawMessage(id))
			}
			recs := s.retrieve(tc.coll, map[string]any{"ids": idList, "with_vector": true, "with_payload": true})
			if len(recs) != len(tc.want) {
				t.Fatalf("retrieved %d records, want %d", len(recs), len(tc.want))
			}
			for _, r := range recs {
				assertJSON(t, "vector of "+string(r.ID), r.Vector, tc.want[string(r.ID)])
				if tc.payloads != nil {
					assertJSON(t, "payload of "+string(r.ID), r.Payload, tc.payloads[string(r.ID)])
				}
			}
		})
	}
}

func TestPointIDs(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("ids", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	forms := []struct{ sent, canonical string }{
		{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{"{6BA7B811-9DAD-11D1-80B4-00C04FD430C8}", "6ba7b811-9dad-11d1-80b4-00c04fd430c8"},
		{"6BA7B812-9DAD-11D1-80B4-00C04FD430C8", "6ba7b812-9dad-11d1-80b4-00c04fd430c8"},
		{"6ba7b8139dad11d180b400c04fd430c8", "6ba7b813-9dad-11d1-80b4-00c04fd430c8"},
		{"urn:uuid:6ba7b814-9dad-11d1-80b4-00c04fd430c8", "6ba7b814-9dad-11d1-80b4-00c04fd430c8"},
	}
	var points []pointIn
	for i, f := range forms {
		points = append(points, pointIn{ID: f.sent, Vector: []float32{float32(i), 1}})
	}
	points = append(points, pointIn{ID: 0, Vector: []float32{0, 0}}, pointIn{ID: uint64(1) << 63, Vector: []float32{1, 0}})
	s.upsert("ids", points...)

	for _, f := range forms {
		// Every textual form finds the point, in the path and in bodies,
		// and the id comes back canonical.
		for _, asked := range []string{f.sent, f.canonical, strings.ToUpper(f.canonical)} {
			rec := s.get("ids", urlPathEscape(asked))
			assertJSON(t, "GET id "+asked, rec.ID, f.canonical)
		}
		recs := s.retrieve("ids", map[string]any{"ids": []string{f.sent}})
		if len(recs) != 1 {
			t.Fatalf("retrieve %s: %d records", f.sent, len(recs))
		}
		assertJSON(t, "retrieved id "+f.sent, recs[0].ID, f.canonical)
	}
	for _, id := range []uint64{0, 1 << 63} {
		if rec := s.get("ids", id); string(rec.ID) != fmt.Sprint(id) {
			t.Errorf("int id %d came back as %s", id, rec.ID)
		}
	}
	if n := s.count("ids", nil); n != len(forms)+2 {
		t.Errorf("count %d, want %d", n, len(forms)+2)
	}
	// Re-upserting a UUID in another form replaces the same point.
	s.upsert("ids", pointIn{ID: strings.ToUpper(forms[0].canonical), Vector: []float32{9, 9}})
	if n := s.count("ids", nil); n != len(forms)+2 {
		t.Errorf("count after re-upsert %d, want %d", n, len(forms)+2)
	}
	assertJSON(t, "replaced vector", s.get("ids", forms[0].canonical).Vector, []float32{9, 9})

	s.fail(http.MethodGet, "/collections/ids/points/42", nil, http.StatusNotFound, "Not found: No point with id 42 found")
	s.fail(http.MethodGet, "/collections/ids/points/00000000-0000-0000-0000-00000000002a", nil, http.StatusNotFound,
		"Not found: No point with id 00000000-0000-0000-0000-00000000002a found")
	s.failPrefix(http.MethodGet, "/collections/ids/points/not-an-id", nil, http.StatusBadRequest, "")
	for _, bad := range []any{-1, 1.5, "not-a-uuid", true} {
		s.failPrefix(http.MethodPut, "/collections/ids/points?wait=true", map[string]any{"points": []pointIn{{ID: bad, Vector: []float32{1, 1}}}},
			http.StatusBadRequest, "Format error in JSON body: ")
	}
}

func urlPathEscape(s string) string {
	r := strings.NewReplacer("{", "%7B", "}", "%7D")
	return r.Replace(s)
}

func TestRetrieveSelectors(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("sel", map[string]any{"vectors": map[string]any{
		"a": map[string]any{"size": 2, "distance": "Dot"},
		"b": map[string]any{"size": 2, "distance": "Euclid"},
	}})
	full := map[string]any{"city": "Berlin", "n": 7, "nested": map[string]any{"x": 1, "y": 2}}
	s.upsert("sel", pointIn{ID: 1, Vector: map[string]any{"a": []float32{1, 2}, "b": []float32{3, 4}}, Payload: full})

	cases := []struct {
		name        string
		withPayload any // nil: not sent
		withVector  any
		wantPayload any // nil: absent
		wantVector  any
	}{
		{name: "defaults", wantPayload: full},
		{name: "payload false", withPayload: false},
		{name: "payload true vector true", withPayload: true, withVector: true, wantPayload: full,
			wantVector: map[string]any{"a": []float32{1, 2}, "b": []float32{3, 4}}},
		{name: "payload keys", withPayload: []string{"city", "nested.x"},
			wantPayload: map[string]any{"city": "Berlin", "nested": map[string]any{"x": 1}}},
		{name: "payload include", withPayload: map[string]any{"include": []string{"n"}}, wantPayload: map[string]any{"n": 7}},
		{name: "payload exclude", withPayload: map[string]any{"exclude": []string{"city", "nested.y"}},
			wantPayload: map[string]any{"n": 7, "nested": map[string]any{"x": 1}}},
		{name: "payload unknown key", withPayload: []string{"nope"}, wantPayload: map[string]any{}},
		{name: "vector false", withPayload: false, withVector: false},
		{name: "vector names", withPayload: false, withVector: []string{"b"}, wantVector: map[string]any{"b": []float32{3, 4}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := s.on(t)
			body := map[string]any{"ids": []int{1}}
			if tc.withPayload != nil {
				body["with_payload"] = tc.withPayload
			}
			if tc.withVector != nil {
				body["with_vector"] = tc.withVector
			}
			recs := s.retrieve("sel", body)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			check := func(what string, got json.RawMessage, want any) {
				if want == nil {
					if !absent(got) {
						t.Errorf("%s: got %s, want it absent", what, got)
					}
					return
				}
				assertJSON(t, what, got, want)
			}
			check("payload", recs[0].Payload, tc.wantPayload)
			check("vector", recs[0].Vector, tc.wantVector)
		})
	}

	// Order of the answer follows the request; missing ids are skipped.
	s.upsert("sel", pointIn{ID: 2, Vector: map[string]any{"a": []float32{0, 1}}}, pointIn{ID: 3, Vector: map[string]any{"b": []float32{0, 1}}})
	got := ids(s.retrieve("sel", map[string]any{"ids": []int{3, 99, 1, 2}, "with_payload": false}))
	if !slices.Equal(got, []string{"3", "1", "2"}) {
		t.Errorf("retrieve order %v, want [3 1 2]", got)
	}
	// A point without one of its vectors shows only the ones it has.
	assertJSON(t, "partial vectors", s.get("sel", 3).Vector, map[string]any{"b": []float32{0, 1}})

	s.fail(http.MethodPost, "/collections/sel/points", map[string]any{"ids": []int{1}, "with_vector": []string{"xyz"}},
		http.StatusBadRequest, "Wrong input: Not existing vector name error: xyz")
	s.failPrefix(http.MethodPost, "/collections/sel/points", map[string]any{}, http.StatusBadRequest, "Format error in JSON body: ")
}

func TestWithVectorsAlias(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("al", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	s.upsert("al", pointIn{ID: 1, Vector: []float32{1, 2}})
	want := []float32{1, 2}

	recs := s.retrieve("al", map[string]any{"ids": []int{1}, "with_vectors": true})
	assertJSON(t, "retrieve with_vectors", recs[0].Vector, want)

	var page struct{ Points []record }
	s.ok(http.MethodPost, "/collections/al/points/scroll", map[string]any{"with_vectors": true}, &page)
	assertJSON(t, "scroll with_vectors", page.Points[0].Vector, want)

	got := s.query("al", map[string]any{"query": []float32{1, 1}, "with_vectors": true})
	assertJSON(t, "query with_vectors", got[0].Vector, want)

	var hits []record
	s.ok(http.MethodPost, "/collections/al/points/search", map[string]any{"vector": []float32{1, 1}, "limit": 1, "with_vectors": true}, &hits)
	assertJSON(t, "search with_vectors", hits[0].Vector, want)
}

func TestWaitAndOperationIDs(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("w", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	var last *uint64
	for i := range 5 {
		res := s.upsert("w", pointIn{ID: i, Vector: []float32{1, float32(i)}})
		if last != nil && *res.OperationID <= *last {
			t.Errorf("operation_id %d after %d, want increasing", *res.OperationID, *last)
		}
		last = res.OperationID
	}

	var res updateResult
	s.ok(http.MethodPut, "/collections/w/points?wait=false", map[string]any{"points": []pointIn{{ID: 100, Vector: []float32{5, 5}}}}, &res)
	if res.Status != "acknowledged" || res.OperationID == nil || *res.OperationID <= *last {
		t.Errorf("wait=false result %+v, want acknowledged with operation_id > %d", res, *last)
	}
	// Without ?wait at all the write is not awaited either.
	s.ok(http.MethodPost, "/collections/w/points/payload", map[string]any{"points": []int{100}, "payload": map[string]any{"k": "v"}}, &res)
	if res.Status != "acknowledged" {
		t.Errorf("default wait: status %q, want acknowledged", res.Status)
	}
	testkit.WaitFor(t, "unacknowledged writes become visible", 10*time.Second, func() bool {
		recs := s.retrieve("w", map[string]any{"ids": []int{100}})
		return len(recs) == 1 && jsonEqual(t, recs[0].Payload, map[string]any{"k": "v"})
	})
	s.failPrefix(http.MethodPut, "/collections/w/points?wait=maybe", map[string]any{"points": []pointIn{{ID: 1, Vector: []float32{1, 1}}}},
		http.StatusBadRequest, "Query deserialize error: ")
}

func TestUpsertRejectsBadVectors(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("v", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Cosine"}})
	s.createCollection("vn", map[string]any{"vectors": map[string]any{"img": map[string]any{"size": 2, "distance": "Dot"}}})
	s.upsert("v", pointIn{ID: 1, Vector: []float32{1, 0, 0, 0}})
	s.upsert("vn", pointIn{ID: 1, Vector: map[string]any{"img": []float32{1, 0}}})

	cases := []struct {
		name, coll, path string
		body             any
		code             int
		msg, prefix      string
	}{
		{name: "wrong dim", coll: "v", path: "/points",
			body: map[string]any{"points": []pointIn{{ID: 2, Vector: []float32{1, 2, 3}}}},
			code: 400, msg: "Wrong input: Vector dimension error: expected dim: 4, got 3"},
		{name: "wrong dim batch", coll: "v", path: "/points",
			body: map[string]any{"batch": map[string]any{"ids": []int{2}, "vectors": [][]float32{{1, 2, 3, 4, 5}}}},
			code: 400, msg: "Wrong input: Vector dimension error: expected dim: 4, got 5"},
		{name: "unknown vector name", coll: "vn", path: "/points",
			body: map[string]any{"points": []pointIn{{ID: 2, Vector: map[string]any{"xyz": []float32{1, 2}}}}},
			code: 400, msg: "Wrong input: Not existing vector name error: xyz"},
		{name: "float32 overflow", coll: "v", path: "/points",
			body: `{"points":[{"id":2,"vector":[1e39,0,0,0]}]}`, code: 400, prefix: "Format error in JSON body: "},
		{name: "float32 overflow batch", coll: "v", path: "/points",
			body: `{"batch":{"ids":[2],"vectors":[[0,0,-1e39,0]]}}`, code: 400, prefix: "Format error in JSON body: "},
		{name: "overflow in a later point", coll: "v", path: "/points",
			body: `{"points":[{"id":2,"vector":[1,1,1,1]},{"id":3,"vector":[0,0,0,3.5e38]}]}`, code: 400, prefix: "Format error in JSON body: "},
		{name: "string component", coll: "v", path: "/points",
			body: `{"points":[{"id":2,"vector":[1,"2",3,4]}]}`, code: 400, prefix: "Format error in JSON body: "},
		{name: "missing vector", coll: "v", path: "/points",
			body: `{"points":[{"id":2}]}`, code: 400, prefix: "Format error in JSON body: "},
		{name: "neither points nor batch", coll: "v", path: "/points",
			body: `{}`, code: 400, prefix: "Format error in JSON body: "},
		{name: "update_vectors wrong dim", coll: "vn", path: "/points/vectors",
			body: map[string]any{"points": []any{map[string]any{"id": 1, "vector": map[string]any{"img": []float32{1}}}}},
			code: 400, msg: "Wrong input: Vector dimension error: expected dim: 2, got 1"},
		{name: "update_vectors unknown name", coll: "vn", path: "/points/vectors",
			body: map[string]any{"points": []any{map[string]any{"id": 1, "vector": map[string]any{"xyz": []float32{1, 2}}}}},
			code: 400, msg: "Wrong input: Not existing vector name error: xyz"},
		{name: "delete_vectors unknown name", coll: "vn", path: "/points/vectors/delete",
			body: map[string]any{"points": []int{1}, "vector": []string{"xyz"}},
			code: 400, msg: "Wrong input: Not existing vector name error: xyz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := s.on(t)
			before := s.count(tc.coll, nil)
			method := http.MethodPut
			if strings.HasSuffix(tc.path, "/delete") {
				method = http.MethodPost
			}
			path := collPath(tc.coll, tc.path+"?wait=true")
			if tc.prefix != "" {
				s.failPrefix(method, path, tc.body, tc.code, tc.prefix)
			} else {
				s.fail(method, path, tc.body, tc.code, tc.msg)
			}
			if after := s.count(tc.coll, nil); after != before {
				t.Errorf("count %d after a rejected write, want %d", after, before)
			}
		})
	}
	// Nothing of the rejected writes leaked into the stored points.
	assertJSON(t, "v point 1", s.get("v", 1).Vector, []float32{1, 0, 0, 0})
	assertJSON(t, "vn point 1", s.get("vn", 1).Vector, map[string]any{"img": []float32{1, 0}})
}

// colorFilter matches points whose color is c.
func colorFilter(c string) map[string]any {
	return map[string]any{"must": []any{map[string]any{"key": "color", "match": map[string]any{"value": c}}}}
}

func TestDeletePoints(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("d", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	var pts []pointIn
	for i := range 10 {
		color := "red"
		if i%2 == 1 {
			color = "blue"
		}
		pts = append(pts, pointIn{ID: i, Vector: []float32{1, float32(i)}, Payload: map[string]any{"color": color}})
	}
	s.upsert("d", pts...)

	s.write(http.MethodPost, "/collections/d/points/delete", map[string]any{"points": []int{0, 1, 999}})
	if n := s.count("d", nil); n != 8 {
		t.Errorf("count after deleting 2 of 10 by id: %d, want 8", n)
	}
	s.write(http.MethodPost, "/collections/d/points/delete", map[string]any{"filter": colorFilter("blue")})
	if n := s.count("d", nil); n != 4 {
		t.Errorf("count after deleting blue: %d, want 4", n)
	}
	if n := s.count("d", colorFilter("blue")); n != 0 {
		t.Errorf("blue points left: %d", n)
	}
	got := ids(s.retrieve("d", map[string]any{"ids": []int{0, 1, 2, 3, 4}, "with_payload": false}))
	if !slices.Equal(got, []string{"2", "4"}) {
		t.Errorf("remaining among 0..4: %v, want [2 4]", got)
	}
	s.fail(http.MethodGet, "/collections/d/points/1", nil, http.StatusNotFound, "Not found: No point with id 1 found")

	s.failPrefix(http.MethodPost, "/collections/d/points/delete?wait=true", map[string]any{}, http.StatusBadRequest, "")
	s.failPrefix(http.MethodPost, "/collections/d/points/delete?wait=true",
		map[string]any{"filter": map[string]any{"must": []any{map[string]any{"key": "color", "match": map[string]any{"valu": "red"}}}}},
		http.StatusBadRequest, "Format error in JSON body: ")
	if n := s.count("d", nil); n != 4 {
		t.Errorf("count after rejected deletes: %d, want 4", n)
	}
}

func TestPayloadOperations(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("p", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	reset := func() {
		s.upsert("p",
			pointIn{ID: 1, Vector: []float32{1, 0}, Payload: map[string]any{"color": "red", "a": 1, "nested": map[string]any{"x": 1, "y": map[string]any{"z": 2}}}},
			pointIn{ID: 2, Vector: []float32{0, 1}, Payload: map[string]any{"color": "red", "a": 2}},
			pointIn{ID: 3, Vector: []float32{1, 1}, Payload: map[string]any{"color": "blue", "a": 3}},
		)
	}
	type want map[string]any // id -> payload
	cases := []struct {
		name   string
		method string
		path   string
		body   map[string]any
		want   want
	}{
		{name: "set merges", method: http.MethodPost, path: "/points/payload",
			body: map[string]any{"points": []int{1, 2}, "payload": map[string]any{"a": 10, "b": "new"}},
			want: want{
				"1": map[string]any{"color": "red", "a": 10, "b": "new", "nested": map[string]any{"x": 1, "y": map[string]any{"z": 2}}},
				"2": map[string]any{"color": "red", "a": 10, "b": "new"},
				"3": map[string]any{"color": "blue", "a": 3},
			}},
		{name: "set by filter", method: http.MethodPost, path: "/points/payload",
			body: map[string]any{"filter": colorFilter("red"), "payload": map[string]any{"hot": true}},
			want: want{
				"1": map[string]any{"color": "red", "a": 1, "hot": true, "nested": map[string]any{"x": 1, "y": map[string]any{"z": 2}}},
				"2": map[string]any{"color": "red", "a": 2, "hot": true},
				"3": map[string]any{"color": "blue", "a": 3},
			}},
		{name: "set with nested key", method: http.MethodPost, path: "/points/payload",
			body: map[string]any{"points": []int{1}, "key": "nested.y", "payload": map[string]any{"w": 5}},
			want: want{"1": map[string]any{"color": "red", "a": 1, "nested": map[string]any{"x": 1, "y": map[string]any{"z": 2, "w": 5}}}}},
		{name: "set with key creating objects", method: http.MethodPost, path: "/points/payload",
			body: map[string]any{"points": []int{2}, "key": "deep.er", "payload": map[string]any{"v": "x"}},
			want: want{"2": map[string]any{"color": "red", "a": 2, "deep": map[string]any{"er": map[string]any{"v": "x"}}}}},
		{name: "set with null key merges at top", method: http.MethodPost, path: "/points/payload",
			body: map[string]any{"points": []int{3}, "key": nil, "payload": map[string]any{"k": 1}},
			want: want{"3": map[string]any{"color": "blue", "a": 3, "k": 1}}},
		{name: "overwrite", method: http.MethodPut, path: "/points/payload",
			body: map[string]any{"points": []int{1, 3}, "payload": map[string]any{"only": "this"}},
			want: want{"1": map[string]any{"only": "this"}, "2": map[string]any{"color": "red", "a": 2}, "3": map[string]any{"only": "this"}}},
		{name: "overwrite by filter", method: http.MethodPut, path: "/points/payload",
			body: map[string]any{"filter": colorFilter("blue"), "payload": map[string]any{}},
			want: want{"3": map[string]any{}, "2": map[string]any{"color": "red", "a": 2}}},
		{name: "delete keys", method: http.MethodPost, path: "/points/payload/delete",
			body: map[string]any{"points": []int{1, 2}, "keys": []string{"a", "nested.y.z", "missing"}},
			want: want{"1": map[string]any{"color": "red", "nested": map[string]any{"x": 1, "y": map[string]any{}}}, "2": map[string]any{"color": "red"}}},
		{name: "delete keys by filter", method: http.MethodPost, path: "/points/payload/delete",
			body: map[string]any{"filter": colorFilter("red"), "keys": []string{"nested"}},
			want: want{"1": map[string]any{"color": "red", "a": 1}, "2": map[string]any{"color": "red", "a": 2}, "3": map[string]any{"color": "blue", "a": 3}}},
		{name: "clear", method: http.MethodPost, path: "/points/payload/clear",
			body: map[string]any{"points": []int{2}},
			want: want{"2": map[string]any{}, "3": map[string]any{"color": "blue", "a": 3}}},
		{name: "clear by filter", method: http.MethodPost, path: "/points/payload/clear",
			body: map[string]any{"filter": colorFilter("red")},
			want: want{"1": map[string]any{}, "2": map[string]any{}, "3": map[string]any{"color": "blue", "a": 3}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := s.on(t)
			reset()
			s.write(tc.method, collPath("p", tc.path), tc.body)
			for id, payload := range tc.want {
				assertJSON(t, "payload of "+id, s.get("p", id).Payload, payload)
			}
		})
	}

	t.Run("missing id", func(t *testing.T) {
		s := s.on(t)
		reset()
		msg := "Not found: No point with id 999 found"
		for _, tc := range []struct {
			method, path string
			body         map[string]any
		}{
			{http.MethodPost, "/points/payload", map[string]any{"points": []int{1, 999}, "payload": map[string]any{"x": 1}}},
			{http.MethodPut, "/points/payload", map[string]any{"points": []int{999}, "payload": map[string]any{"x": 1}}},
			{http.MethodPost, "/points/payload/delete", map[string]any{"points": []int{999}, "keys": []string{"a"}}},
			{http.MethodPost, "/points/payload/clear", map[string]any{"points": []int{999}}},
			{http.MethodPut, "/points/vectors", map[string]any{"points": []any{map[string]any{"id": 999, "vector": []float32{1, 1}}}}},
		} {
			s.fail(tc.method, collPath("p", tc.path+"?wait=true"), tc.body, http.StatusNotFound, msg)
		}
		// The failed operation changed nothing, not even the points that exist.
		assertJSON(t, "payload of 1", s.get("p", 1).Payload,
			map[string]any{"color": "red", "a": 1, "nested": map[string]any{"x": 1, "y": map[string]any{"z": 2}}})
	})

	t.Run("bad requests", func(t *testing.T) {
		s := s.on(t)
		s.failPrefix(http.MethodPost, "/collections/p/points/payload?wait=true", map[string]any{"points": []int{1}}, http.StatusBadRequest, "Format error in JSON body: ")
		s.failPrefix(http.MethodPost, "/collections/p/points/payload/delete?wait=true", map[string]any{"points": []int{1}}, http.StatusBadRequest, "Format error in JSON body: ")
		s.failPrefix(http.MethodPost, "/collections/p/points/payload/clear?wait=true", map[string]any{"filter": map[string]any{"must": "x"}}, http.StatusBadRequest, "Format error in JSON body: ")
	})
}

func TestNamedVectorUpdates(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("nv", map[string]any{"vectors": map[string]any{
		"a": map[string]any{"size": 2, "distance": "Dot"},
		"b": map[string]any{"size": 3, "distance": "Manhattan"},
	}})
	s.upsert("nv",
		pointIn{ID: 1, Vector: map[string]any{"a": []float32{1, 2}, "b": []float32{1, 2, 3}}, Payload: map[string]any{"k": 1}},
		pointIn{ID: 2, Vector: map[string]any{"a": []float32{3, 4}, "b": []float32{4, 5, 6}}},
		pointIn{ID: 3, Vector: map[string]any{"a": []float32{5, 6}, "b": []float32{7, 8, 9}}},
	)
	// update_vectors replaces only the named vectors it carries and keeps the payload.
	s.write(http.MethodPut, "/collections/nv/points/vectors", map[string]any{"points": []any{
		map[string]any{"id": 1, "vector": map[string]any{"a": []float32{9, 9}}},
	}})
	rec := s.get("nv", 1)
	assertJSON(t, "vectors after update", rec.Vector, map[string]any{"a": []float32{9, 9}, "b": []float32{1, 2, 3}})
	assertJSON(t, "payload after update", rec.Payload, map[string]any{"k": 1})

	s.write(http.MethodPost, "/collections/nv/points/vectors/delete", map[string]any{"points": []int{1, 2}, "vector": []string{"b"}})
	assertJSON(t, "1 after delete_vectors", s.get("nv", 1).Vector, map[string]any{"a": []float32{9, 9}})
	assertJSON(t, "2 after delete_vectors", s.get("nv", 2).Vector, map[string]any{"a": []float32{3, 4}})

	s.write(http.MethodPost, "/collections/nv/points/vectors/delete", map[string]any{"filter": map[string]any{"must": []any{map[string]any{"has_id": []int{3}}}}, "vector": []string{"a"}})
	assertJSON(t, "3 after delete_vectors by filter", s.get("nv", 3).Vector, map[string]any{"b": []float32{7, 8, 9}})
	if n := s.count("nv", nil); n != 3 {
		t.Errorf("count %d, want 3: deleting vectors keeps points", n)
	}
	// A point without vector b is not found by a search using b.
	var res struct {
		Points []record `json:"points"`
	}
	s.ok(http.MethodPost, "/collections/nv/points/query", map[string]any{"query": []float32{0, 0, 0}, "using": "b", "limit": 10}, &res)
	if got := ids(res.Points); !slices.Equal(got, []string{"3"}) {
		t.Errorf("search on b finds %v, want [3]", got)
	}
	s.fail(http.MethodPost, "/collections/nv/points/vectors/delete?wait=true", map[string]any{"points": []int{1}, "vector": []string{}},
		http.StatusUnprocessableEntity, "Validation error in JSON body: [vector: must not be empty]")
	s.fail(http.MethodPut, "/collections/nv/points/vectors?wait=true", map[string]any{"points": []any{}},
		http.StatusUnprocessableEntity, "Validation error in JSON body: [points: must not be empty]")
}

func TestCount(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 1, "distance": "Dot"}})
	if n := s.count("c", nil); n != 0 {
		t.Errorf("empty count %d", n)
	}
	var pts []pointIn
	for i := range 30 {
		pts = append(pts, pointIn{ID: i, Vector: []float32{1}, Payload: map[string]any{"color": []string{"red", "green", "blue"}[i%3], "i": i}})
	}
	s.upsert("c", pts...)
	for _, tc := range []struct {
		name   string
		filter any
		want   int
	}{
		{"all", nil, 30},
		{"red", colorFilter("red"), 10},
		{"not red", map[string]any{"must_not": []any{map[string]any{"key": "color", "match": map[string]any{"value": "red"}}}}, 20},
		{"range", map[string]any{"must": []any{map[string]any{"key": "i", "range": map[string]any{"gte": 5, "lt": 15}}}}, 10},
		{"has_id", map[string]any{"must": []any{map[string]any{"has_id": []int{1, 2, 99}}}}, 2},
		{"nothing", colorFilter("purple"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := s.on(t).count("c", tc.filter); n != tc.want {
				t.Errorf("count %d, want %d", n, tc.want)
			}
		})
	}
	// exact is optional and an empty body counts everything.
	var res struct{ Count int }
	s.ok(http.MethodPost, "/collections/c/points/count", nil, &res)
	if res.Count != 30 {
		t.Errorf("count with no body %d, want 30", res.Count)
	}
	s.failPrefix(http.MethodPost, "/collections/c/points/count", map[string]any{"filter": map[string]any{"must": []any{map[string]any{"key": "color", "match": map[string]any{"valu": "red"}}}}},
		http.StatusBadRequest, "Format error in JSON body: ")
	s.failPrefix(http.MethodPost, "/collections/c/points/count", map[string]any{"filter": map[string]any{"must": []any{map[string]any{"key": "color"}}}},
		http.StatusUnprocessableEntity, "Validation error in JSON body: [")
	s.failPrefix(http.MethodPost, "/collections/c/points/count", map[string]any{"filter": 5}, http.StatusBadRequest, "Format error in JSON body: ")
}

func TestScrollPaging(t *testing.T) {
	rng := seededRand(t)
	s := newServer(t, rest.Options{})
	s.createCollection("sc", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})

	var pts []pointIn
	var wantAll, wantEven []string
	intIDs := rng.Perm(60)[:23]
	slices.Sort(intIDs)
	for _, id := range intIDs {
		pts = append(pts, pointIn{ID: id, Vector: randVector(rng, 2), Payload: map[string]any{"even": id%2 == 0}})
		wantAll = append(wantAll, idText(id))
		if id%2 == 0 {
			wantEven = append(wantEven, idText(id))
		}
	}
	var uuids []string
	for range 7 {
		u := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
		uuids = append(uuids, u)
		pts = append(pts, pointIn{ID: u, Vector: randVector(rng, 2), Payload: map[string]any{"even": false}})
	}
	slices.Sort(uuids) // lowercase hex sorts as the bytes do
	for _, u := range uuids {
		wantAll = append(wantAll, idText(u))
	}
	rng.Shuffle(len(pts), func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
	s.upsert("sc", pts...)

	type page struct {
		Points         []record        `json:"points"`
		NextPageOffset json.RawMessage `json:"next_page_offset"`
	}
	scrollAll := func(t *testing.T, limit int, filter any) []string {
		var got []string
		var offset json.RawMessage
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("scroll does not end")
			}
			body := map[string]any{"limit": limit, "with_payload": false}
			if offset != nil {
				body["offset"] = offset
			}
			if filter != nil {
				body["filter"] = filter
			}
			var p page
			raw := s.on(t).ok(http.MethodPost, "/collections/sc/points/scroll", body, &p)
			if !strings.Contains(string(raw), `"next_page_offset"`) {
				t.Fatalf("page without next_page_offset: %s", raw)
			}
			if len(p.Points) > limit {
				t.Fatalf("page of %d points with limit %d", len(p.Points), limit)
			}
			got = append(got, ids(p.Points)...)
			if absent(p.NextPageOffset) {
				return got
			}
			if len(p.Points) != limit {
				t.Fatalf("short page of %d with a next offset %s", len(p.Points), p.NextPageOffset)
			}
			offset = p.NextPageOffset
		}
	}
	for _, limit := range []int{1, 3, 7, 30, 100} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			if got := scrollAll(t, limit, nil); !slices.Equal(got, wantAll) {
				t.Errorf("scroll order\n got: %v\nwant: %v", got, wantAll)
			}
		})
	}
	t.Run("filter", func(t *testing.T) {
		even := map[string]any{"must": []any{map[string]any{"key": "even", "match": map[string]any{"value": true}}}}
		if got := scrollAll(t, 4, even); !slices.Equal(got, wantEven) {
			t.Errorf("filtered scroll\n got: %v\nwant: %v", got, wantEven)
		}
	})
	t.Run("offset is inclusive", func(t *testing.T) {
		var p page
		s.on(t).ok(http.MethodPost, "/collections/sc/points/scroll", map[string]any{"offset": json.RawMessage(wantAll[5]), "limit": 2}, &p)
		if got := ids(p.Points); !slices.Equal(got, wantAll[5:7]) {
			t.Errorf("page at offset %s: %v, want %v", wantAll[5], got, wantAll[5:7])
		}
		assertJSON(t, "next offset", p.NextPageOffset, json.RawMessage(wantAll[7]))
		// Scroll returns payloads by default, vectors only when asked.
		for _, r := range p.Points {
			if absent(r.Payload) || !absent(r.Vector) {
				t.Errorf("default scroll record %s: payload %s vector %s", r.ID, r.Payload, r.Vector)
			}
		}
	})
	t.Run("offset past the end", func(t *testing.T) {
		var p page
		s.on(t).ok(http.MethodPost, "/collections/sc/points/scroll", map[string]any{"offset": "ffffffff-ffff-ffff-ffff-ffffffffffff"}, &p)
		if len(p.Points) != 0 || !absent(p.NextPageOffset) {
			t.Errorf("past the end: %d points, next %s", len(p.Points), p.NextPageOffset)
		}
	})
	t.Run("errors", func(t *testing.T) {
		s := s.on(t)
		s.failPrefix(http.MethodPost, "/collections/sc/points/scroll", map[string]any{"filter": map[string]any{"must": []any{map[string]any{"key": "even", "match": map[string]any{"valu": true}}}}},
			http.StatusBadRequest, "Format error in JSON body: ")
		s.fail(http.MethodPost, "/collections/sc/points/scroll", map[string]any{"limit": 0},
			http.StatusUnprocessableEntity, "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]")
		s.failPrefix(http.MethodPost, "/collections/sc/points/scroll", map[string]any{"offset": -3}, http.StatusBadRequest, "Format error in JSON body: ")
	})
}

func TestPayloadRoundTrip(t *testing.T) {
	s := newServer(t, rest.Options{})
	s.createCollection("rt", map[string]any{"vectors": map[string]any{"size": 1, "distance": "Dot"}})
	payload := `{"big":9007199254740993,"neg":-5,"f":0.1,"tiny":1e-7,"s":"ü\"\n","arr":[1,"a",null,{"x":true}],"empty":{},"nil":null,"u64":18446744073709551615}`
	s.write(http.MethodPut, "/collections/rt/points", `{"points":[{"id":1,"vector":[1],"payload":`+payload+`}]}`)
	rec := s.get("rt", 1)
	// Numbers keep their exact value: no float64 rounding on the way.
	for _, frag := range []string{`"big":9007199254740993`, `"u64":18446744073709551615`, `"neg":-5`} {
		if !strings.Contains(string(rec.Payload), frag) {
			t.Errorf("payload %s lacks %s", rec.Payload, frag)
		}
	}
	assertJSON(t, "payload", rec.Payload, json.RawMessage(payload))
}

func TestAPIKeys(t *testing.T) {
	s := newServer(t, rest.Options{APIKey: "secret", ReadOnlyAPIKey: "reader"})
	withKey := func(method, path, header, key string, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if key != "" {
			req.Header.Set(header, key)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env envelope
		_ = json.NewDecoder(resp.Body).Decode(&env)
		var st struct{ Error string }
		_ = json.Unmarshal(env.Status, &st)
		return resp.StatusCode, st.Error
	}
	// Health endpoints and the root stay open.
	for _, p := range []string{"/", "/healthz", "/livez", "/readyz"} {
		if code, _ := withKey(http.MethodGet, p, "", "", ""); code != http.StatusOK {
			t.Errorf("GET %s without a key: %d, want 200", p, code)
		}
	}
	create := `{"vectors":{"size":1,"distance":"Dot"}}`
	if code, msg := withKey(http.MethodPut, "/collections/k", "", "", create); code != http.StatusUnauthorized || msg != "Must provide an API key or an Authorization bearer token" {
		t.Errorf("no key: %d %q", code, msg)
	}
	if code, _ := withKey(http.MethodGet, "/collections", "api-key", "wrong", ""); code != http.StatusUnauthorized {
		t.Errorf("wrong key: %d, want 401", code)
	}
	if code, _ := withKey(http.MethodPut, "/collections/k", "api-key", "secret", create); code != http.StatusOK {
		t.Errorf("create with api-key header: %d", code)
	}
	if code, _ := withKey(http.MethodPut, "/collections/k/points?wait=true", "Authorization", "Bearer secret", `{"points":[{"id":1,"vector":[1]}]}`); code != http.StatusOK {
		t.Errorf("upsert with bearer token: %d", code)
	}
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodGet, "/collections/k", ""},
		{http.MethodPost, "/collections/k/points/scroll", "{}"},
		{http.MethodPost, "/collections/k/points/count", "{}"},
		{http.MethodPost, "/collections/k/points/query", `{"query":[1]}`},
		{http.MethodPost, "/collections/k/points", `{"ids":[1]}`},
	} {
		if code, msg := withKey(tc.method, tc.path, "api-key", "reader", tc.body); code != http.StatusOK {
			t.Errorf("read-only key, %s %s: %d %s", tc.method, tc.path, code, msg)
		}
	}
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPut, "/collections/k/points?wait=true", `{"points":[{"id":2,"vector":[1]}]}`},
		{http.MethodPost, "/collections/k/points/delete?wait=true", `{"points":[1]}`},
		{http.MethodDelete, "/collections/k", ""},
	} {
		// As Qdrant: a known key without the access is 403, not 401.
		if code, _ := withKey(tc.method, tc.path, "api-key", "reader", tc.body); code != http.StatusForbidden {
			t.Errorf("read-only key, %s %s: %d, want 403", tc.method, tc.path, code)
		}
	}
	var c struct{ Count int }
	req, _ := http.NewRequest(http.MethodPost, s.base+"/collections/k/points/count", strings.NewReader("{}"))
	req.Header.Set("api-key", "secret")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	decode(t, env.Result, &c)
	if c.Count != 1 {
		t.Errorf("count %d after refused writes, want 1", c.Count)
	}
}
