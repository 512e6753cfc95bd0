package rest_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
)

// fuzzRoutes are the routes that decode a JSON body.
var fuzzRoutes = []struct{ method, path string }{
	{"PUT", "/collections/fz2"},
	{"PATCH", "/collections/fz"},
	{"PUT", "/collections/fz/points?wait=true"},
	{"POST", "/collections/fz/points"},
	{"POST", "/collections/fz/points/delete?wait=true"},
	{"PUT", "/collections/fz/points/vectors?wait=true"},
	{"POST", "/collections/fz/points/vectors/delete?wait=true"},
	{"POST", "/collections/fz/points/payload?wait=true"},
	{"PUT", "/collections/fz/points/payload?wait=true"},
	{"POST", "/collections/fz/points/payload/delete?wait=true"},
	{"POST", "/collections/fz/points/payload/clear?wait=true"},
	{"POST", "/collections/fz/points/count"},
	{"POST", "/collections/fz/points/scroll"},
	{"POST", "/collections/fz/points/query"},
	{"POST", "/collections/fz/points/query/batch"},
	{"POST", "/collections/fz/points/search"},
	{"POST", "/collections/fz/points/search/batch"},
	{"POST", "/collections/fz/facet"},
}

// FuzzRESTBodies sends arbitrary bodies to every route that decodes JSON:
// the server must answer (never panic) and never with a 5xx, which would
// mean a decoder let garbage through to the engine.
func FuzzRESTBodies(f *testing.F) {
	seeds := []string{
		`{"vectors":{"size":2,"distance":"Dot"}}`,
		`{"points":[{"id":1,"vector":[1,2],"payload":{"a":{"b":[1,2.5,"x",null]}}}]}`,
		`{"batch":{"ids":[1,"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"],"vectors":[[1,2],[3,4]],"payloads":[{"a":1},null]}}`,
		`{"points":[1,2]}`, `{"filter":{"must":[{"key":"a","match":{"value":1}}]}}`,
		`{"payload":{"x":1},"points":[1],"key":"a[].b"}`, `{"keys":["a.b"],"filter":{"should":[{"has_id":[1]}]}}`,
		`{"points":[{"id":1,"vector":[0,1]}]}`, `{"vector":[""],"points":[1]}`,
		`{"query":[1,2],"limit":3,"with_payload":["a"],"with_vector":true,"score_threshold":0.5}`,
		`{"query":{"nearest":1},"filter":{"min_should":{"conditions":[{"is_empty":{"key":"a"}}],"min_count":1}}}`,
		`{"searches":[{"query":[1,2]},{"query":2}]}`, `{"searches":[{"vector":[1,2],"limit":1}]}`,
		`{"vector":{"name":"","vector":[1,2]},"limit":2,"offset":1}`,
		`{"limit":2,"offset":1,"with_payload":{"exclude":["a"]}}`, `{"exact":true}`,
		`{"optimizers_config":{"max_optimization_threads":"auto"},"params":{"replication_factor":2}}`,
		``, `null`, `[]`, `{`, `{"points":null}`, `{"limit":-1}`, `{"vector":[1e39,1]}`,
		// Sizes far beyond what exists, and text Go would alter.
		`{"vector":[1,2],"limit":4611686018427387904,"offset":18446744073709551615}`,
		`{"query":[1,2],"limit":9223372036854775807,"params":{"hnsw_ef":4294967296,"quantization":{"oversampling":1e300}}}`,
		`{"searches":[{"query":1,"limit":2147483648,"offset":2147483648}]}`, `{"limit":1000000000000}`,
		`{"key":"a","limit":18446744073709551615}`, `{"ids":[1,1,1,18446744073709551615],"with_vector":["","",""]}`,
		"{\"points\":[{\"id\":1,\"vector\":[1,2],\"payload\":{\"a\":\"\xff\\ud800\"}}]}", `{"payload":{"n":1e400},"points":[1]}`,
		`{"points":[{"id":1,"vector":[3e38,3e38]}]}`, `{"vector":[3e38,3e38],"limit":1}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.Open(node.Options{StoragePath: f.TempDir(), Defaults: collection.QdrantDefaults(), Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	defer n.Close()
	srv := rest.New(n, rest.Options{Logger: quiet})
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	if rec := do("PUT", "/collections/fz", `{"vectors":{"size":2,"distance":"Cosine"}}`); rec.Code != http.StatusOK {
		f.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		rec := do(r.method, r.path, string(body))
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", r.method, r.path, body, rec.Code, rec.Body)
		}
		if !bytes.HasPrefix(rec.Body.Bytes(), []byte(`{`)) {
			t.Fatalf("%s %s: body is not a JSON envelope: %q", r.method, r.path, rec.Body)
		}
		do("DELETE", "/collections/fz2", "")
	})
}
