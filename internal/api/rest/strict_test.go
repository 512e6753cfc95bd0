package rest_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/node"
	"github.com/shoaldb/shoal/internal/openapitest"
)

// clock is a clock the test moves; the server reads it from its handlers'
// goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// strictServer is a server whose collections' rate limits run on clk,
// with Qdrant's basic collection: 10 points of 4 dimensions with a city.
func strictServer(t *testing.T) (*server, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	n, err := node.Open(node.Options{StoragePath: dir, Defaults: testDefaults(), Logger: quiet, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(rest.New(n, rest.Options{Version: testVersion, Logger: quiet}))
	s := &server{t: t, dir: dir, base: hs.URL, node: n, http: hs}
	s.client = openapitest.Load(t).Client(t, &http.Client{Timeout: 30 * time.Second})
	t.Cleanup(s.stop)
	s.createCollection("c", map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}})
	cities := []string{"Berlin", "London", "Moscow", "Paris", "Rome"}
	var pts []pointIn
	for i := range 10 {
		pts = append(pts, pointIn{ID: i + 1, Vector: []float32{0.05, float32(i) / 10, 0.76, 0.74}, Payload: map[string]any{"city": cities[i%5], "price": i}})
	}
	s.upsert("c", pts...)
	return s, clk
}

func (s *server) patchStrict(cfg string) {
	s.t.Helper()
	var ok bool
	s.ok(http.MethodPatch, "/collections/c", `{"strict_mode_config":`+cfg+`}`, &ok)
}

func (s *server) strictConfig() map[string]any {
	s.t.Helper()
	var info struct {
		Config struct {
			Strict map[string]any `json:"strict_mode_config"`
		} `json:"config"`
	}
	s.ok(http.MethodGet, "/collections/c", nil, &info)
	return info.Config.Strict
}

const search4 = `{"vector":[0.2,0.1,0.9,0.7],"limit":4}`

// TestStrictModePatch: PATCH applies strict mode at once, merges with what
// is set (null leaves a key as it is), and the collection info shows the
// keys set and no others.
func TestStrictModePatch(t *testing.T) {
	s, _ := strictServer(t)
	if cfg := s.strictConfig(); cfg != nil {
		t.Fatalf("strict_mode_config before any: %v", cfg)
	}
	s.ok(http.MethodPost, "/collections/c/points/search", search4, nil)
	s.patchStrict(`{"enabled":true,"max_query_limit":4,"write_rate_limit":1}`)
	s.ok(http.MethodPost, "/collections/c/points/search", search4, nil)
	s.patchStrict(`{"max_query_limit":3,"read_rate_limit":2,"write_rate_limit":null}`)
	want := map[string]any{"enabled": true, "max_query_limit": 3.0, "read_rate_limit": 2.0, "write_rate_limit": 1.0}
	if got := s.strictConfig(); !equalJSON(got, want) {
		t.Fatalf("strict_mode_config = %v, want %v", got, want)
	}
	s.fail(http.MethodPost, "/collections/c/points/search", search4, http.StatusForbidden,
		`Forbidden: Limit exceeded 4 > 3 for "limit". Help: Reduce the "limit" parameter to or below 3.`)
	s.patchStrict(`{"enabled":false}`)
	s.ok(http.MethodPost, "/collections/c/points/search", search4, nil)
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestStrictModeConfigErrors: strict_mode_config values of the wrong type
// are format errors (400), out of range validation errors (422), on create
// and on PATCH alike.
func TestStrictModeConfigErrors(t *testing.T) {
	s, _ := strictServer(t)
	s.fail(http.MethodPatch, "/collections/c", `{"strict_mode_config":{"max_query_limit":0,"max_resident_memory_percent":101}}`, http.StatusUnprocessableEntity,
		"Validation error in JSON body: [strict_mode_config.max_query_limit: value 0 invalid, must be 1 or larger, "+
			"strict_mode_config.max_resident_memory_percent: value 101 invalid, must be in range [1, 100]]")
	s.fail(http.MethodPut, "/collections/d", `{"vectors":{"size":4,"distance":"Dot"},"strict_mode_config":{"read_rate_limit":0}}`, http.StatusUnprocessableEntity,
		"Validation error in JSON body: [strict_mode_config.read_rate_limit: value 0 invalid, must be 1 or larger]")
	s.fail(http.MethodPut, "/collections/d", `{"vectors":{"size":4,"distance":"Dot"},"strict_mode_config":{"max_timeout":"x"}}`, http.StatusBadRequest,
		`Format error in JSON body: strict_mode_config.max_timeout: invalid value "x": expected an unsigned integer`)
	s.fail(http.MethodPatch, "/collections/c", `{"strict_mode_config":{"enabled":"yes"}}`, http.StatusBadRequest,
		`Format error in JSON body: strict_mode_config.enabled: invalid value "yes": expected a boolean`)
	s.createCollection("d", `{"vectors":{"size":4,"distance":"Dot"},"strict_mode_config":{"enabled":true,"max_query_limit":2}}`)
	s.fail(http.MethodPost, "/collections/d/points/scroll", `{}`, http.StatusForbidden,
		`Forbidden: Limit exceeded 10 > 2 for "limit". Help: Reduce the "limit" parameter to or below 2.`)
}

// TestStrictModeStatuses: each family of refusal with Qdrant's status and
// text, crossing a key and staying under it, through the routes that
// carry it.
func TestStrictModeStatuses(t *testing.T) {
	type req struct {
		method, path, body string
		code               int
		text               string // the exact error; "" for 200
	}
	cityFilter := `{"must":[{"key":"city","match":{"value":"Berlin"}}]}`
	for _, tc := range []struct {
		name, config string
		reqs         []req
	}{
		{"timeout", `{"enabled":true,"max_timeout":2}`, []req{
			{"POST", "/collections/c/points/search?timeout=2", search4, 200, ""},
			{"POST", "/collections/c/points/search?timeout=3", search4, 403, `Forbidden: Limit exceeded 3 > 2 for "timeout". Help: Reduce the "timeout" parameter to or below 2.`},
			{"POST", "/collections/c/points/scroll?timeout=3", `{}`, 403, `Forbidden: Limit exceeded 3 > 2 for "timeout". Help: Reduce the "timeout" parameter to or below 2.`},
			{"PUT", "/collections/c/points?wait=true&timeout=3", `{"points":[{"id":1,"vector":[1,2,3,4]}]}`, 403, `Forbidden: Limit exceeded 3 > 2 for "timeout". Help: Reduce the "timeout" parameter to or below 2.`},
			{"PUT", "/collections/c/points?wait=true&timeout=1", `{"points":[{"id":1,"vector":[1,2,3,4]}]}`, 200, ""},
		}},
		{"unindexed filters", `{"enabled":true,"unindexed_filtering_retrieve":false,"unindexed_filtering_update":false}`, []req{
			{"POST", "/collections/c/points/search", `{"vector":[0.2,0.1,0.9,0.7],"limit":3,"filter":` + cityFilter + `}`, 403,
				`Forbidden: Index required but not found for "city" of one of the following types: [keyword]. Help: Create an index for this key or use a different filter.`},
			{"POST", "/collections/c/points/delete?wait=true", `{"filter":` + cityFilter + `}`, 403,
				`Forbidden: Index required but not found for "city" of one of the following types: [keyword]. Help: Create an index for this key or use a different filter.`},
			{"PUT", "/collections/c/index?wait=true", `{"field_name":"city","field_schema":"keyword"}`, 200, ""},
			{"POST", "/collections/c/points/search", `{"vector":[0.2,0.1,0.9,0.7],"limit":3,"filter":` + cityFilter + `}`, 200, ""},
			{"POST", "/collections/c/points/delete?wait=true", `{"filter":` + cityFilter + `}`, 200, ""},
		}},
		{"search params", `{"enabled":true,"search_max_hnsw_ef":4,"search_allow_exact":false,"search_max_oversampling":1.9}`, []req{
			{"POST", "/collections/c/points/search", `{"vector":[0.2,0.1,0.9,0.7],"limit":4,"params":{"hnsw_ef":4,"quantization":{"oversampling":1.5}}}`, 200, ""},
			{"POST", "/collections/c/points/search", `{"vector":[0.2,0.1,0.9,0.7],"limit":4,"params":{"hnsw_ef":5}}`, 403,
				`Forbidden: Limit exceeded 5 > 4 for "hnsw_ef". Help: Reduce the "hnsw_ef" parameter to or below 4.`},
			{"POST", "/collections/c/points/query", `{"query":[0.2,0.1,0.9,0.7],"params":{"quantization":{"oversampling":2.0}}}`, 403,
				`Forbidden: Limit exceeded 2 > 1.9 for "oversampling". Help: Reduce the "oversampling" parameter to or below 1.9.`},
			{"POST", "/collections/c/points/search", `{"vector":[0.2,0.1,0.9,0.7],"limit":4,"params":{"exact":true}}`, 403,
				`Forbidden: Exact search disabled!. Help: Set exact=false.`},
			{"POST", "/collections/c/points/count", `{}`, 403, `Forbidden: Exact search disabled!. Help: Set exact=false.`},
			{"POST", "/collections/c/points/count", `{"exact":false}`, 200, ""},
		}},
		{"batches", `{"enabled":true,"upsert_max_batchsize":5,"search_max_batchsize":2}`, []req{
			{"PUT", "/collections/c/points?wait=true", `{"batch":{"ids":[1,2,3,4,5,6],"vectors":[[1,2,3,5],[1,2,3,5],[1,2,3,5],[1,2,3,5],[1,2,3,5],[1,2,3,5]]}}`, 403,
				`Forbidden: Limit exceeded 6 > 5 for "upsert limit". Help: Reduce the "upsert limit" parameter to or below 5.`},
			{"POST", "/collections/c/points/batch?wait=true", `{"operations":[{"upsert":{"batch":{"ids":[1,2,3,4,5,6],"vectors":[[1,2,3,5],[1,2,3,5],[1,2,3,5],[1,2,3,5],[1,2,3,5],[1,2,3,5]]}}}]}`, 403,
				`Forbidden: Limit exceeded 6 > 5 for "upsert limit". Help: Reduce the "upsert limit" parameter to or below 5.`},
			{"PUT", "/collections/c/points/vectors?wait=true", `{"points":[{"id":1,"vector":[1,2,3,5]},{"id":2,"vector":[1,2,3,5]},{"id":3,"vector":[1,2,3,5]},{"id":4,"vector":[1,2,3,5]},{"id":5,"vector":[1,2,3,5]},{"id":6,"vector":[1,2,3,5]}]}`, 403,
				`Forbidden: Limit exceeded 6 > 5 for "update limit". Help: Reduce the "update limit" parameter to or below 5.`},
			{"PUT", "/collections/c/points?wait=true", `{"batch":{"ids":[1,2,3,4,5],"vectors":[[1,2,3,5],[1,2,3,5],[1,2,3,5],[1,2,3,5],[1,2,3,5]]}}`, 200, ""},
			{"POST", "/collections/c/points/search/batch", `{"searches":[` + search4 + `,` + search4 + `,` + search4 + `]}`, 403,
				`Forbidden: Limit exceeded 3 > 2 for "search batch size". Help: Reduce the "search batch size" parameter to or below 2.`},
			{"POST", "/collections/c/points/query/batch", `{"searches":[{"query":[1,2,3,4]},{"query":[1,2,3,4]},{"query":[1,2,3,4]}]}`, 403,
				`Forbidden: Limit exceeded 3 > 2 for "search batch size". Help: Reduce the "search batch size" parameter to or below 2.`},
			{"POST", "/collections/c/points/search/batch", `{"searches":[` + search4 + `,` + search4 + `]}`, 200, ""},
		}},
		{"filter size", `{"enabled":true,"filter_max_conditions":2,"condition_max_size":2}`, []req{
			{"POST", "/collections/c/points/scroll", `{"filter":{"must":[{"key":"price","match":{"any":[1,2]}},{"key":"city","match":{"value":"Rome"}}]}}`, 200, ""},
			{"POST", "/collections/c/points/scroll", `{"filter":{"must":[{"key":"price","match":{"value":1}},{"key":"price","match":{"value":2}},{"key":"price","match":{"value":3}}]}}`, 403,
				`Forbidden: Filter condition limit reached (3 > 2). Help: Reduce the amount of conditions of your filter.`},
			{"POST", "/collections/c/points/count", `{"exact":false,"filter":{"must":[{"key":"price","match":{"any":[1,2,3]}}]}}`, 403,
				`Forbidden: Condition size limit reached (3 > 2). Help: Reduce the size of your condition.`},
		}},
		{"collection size", `{"enabled":true,"max_points_count":10}`, []req{
			{"PUT", "/collections/c/points?wait=true", `{"points":[{"id":11,"vector":[1,2,3,4]}]}`, 400, `Bad request: Max points count limit of 10 reached!`},
			{"POST", "/collections/c/points/delete?wait=true", `{"points":[10]}`, 200, ""},
			{"PUT", "/collections/c/points?wait=true", `{"points":[{"id":11,"vector":[1,2,3,4]}]}`, 200, ""},
		}},
		{"vector size", `{"enabled":true,"max_collection_vector_size_bytes":160}`, []req{
			{"PUT", "/collections/c/points?wait=true", `{"points":[{"id":11,"vector":[1,2,3,4]}]}`, 400, `Bad request: Max vector storage size limit of 0.00015258789MB reached!`},
		}},
		{"payload indexes", `{"enabled":true,"max_payload_index_count":1}`, []req{
			{"PUT", "/collections/c/index?wait=true", `{"field_name":"city","field_schema":"keyword"}`, 200, ""},
			{"PUT", "/collections/c/index?wait=true", `{"field_name":"price","field_schema":"integer"}`, 403,
				`Forbidden: Collection already has the maximum number of payload indices (1). Help: Please delete an existing index before creating a new one.`},
		}},
		{"facet", `{"enabled":true,"search_allow_exact":false,"max_query_limit":3}`, []req{
			{"PUT", "/collections/c/index?wait=true", `{"field_name":"city","field_schema":"keyword"}`, 200, ""},
			{"POST", "/collections/c/facet", `{"key":"city","limit":3}`, 200, ""},
			{"POST", "/collections/c/facet", `{"key":"city","limit":3,"exact":true}`, 403, `Forbidden: Exact search disabled!. Help: Set exact=false.`},
			{"POST", "/collections/c/facet", `{"key":"city","limit":4}`, 403, `Forbidden: Limit exceeded 4 > 3 for "limit". Help: Reduce the "limit" parameter to or below 3.`},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := strictServer(t)
			s = s.on(t)
			s.patchStrict(tc.config)
			for _, r := range tc.reqs {
				if r.code == http.StatusOK {
					s.ok(r.method, r.path, r.body, nil)
					continue
				}
				s.fail(r.method, r.path, r.body, r.code, r.text)
			}
		})
	}
}

// TestStrictModeRateLimits: rate limits answer 429 with Qdrant's text and,
// when waiting helps, a Retry-After of the seconds until the bucket holds
// the tokens; time moves only when the test moves it.
func TestStrictModeRateLimits(t *testing.T) {
	s, clk := strictServer(t)
	s.patchStrict(`{"enabled":true,"read_rate_limit":4,"write_rate_limit":10}`)
	retrieve := func(ids string) reply { return s.do(http.MethodPost, "/collections/c/points", `{"ids":[`+ids+`]}`) }
	expect := func(r reply, code int, text, retry string) {
		t.Helper()
		if r.code != code {
			t.Fatalf("status %d, want %d: %s", r.code, code, r.body)
		}
		if code != http.StatusOK {
			if got := s.errorText("POST", "", r); got != text {
				t.Fatalf("error\n got %q\nwant %q", got, text)
			}
		}
		if got := r.header.Get("Retry-After"); got != retry {
			t.Fatalf("Retry-After %q, want %q", got, retry)
		}
	}
	expect(retrieve("1,2,3,4,5"), 429, "Rate limiting exceeded: Read rate limit exceeded, request larger than rate limiter capacity, please try to split your request", "")
	expect(retrieve("1,2,3,4"), 200, "", "")
	expect(retrieve("1,2,3,4"), 429, "Rate limiting exceeded: Read rate limit exceeded: Operation requires 4 tokens but only 0.0 were available. Retry after 60s", "60")
	clk.advance(15 * time.Second) // one token back
	expect(s.do(http.MethodPost, "/collections/c/points/search", search4), 200, "", "")
	expect(s.do(http.MethodPost, "/collections/c/points/scroll", `{"filter":{"must":[{"has_id":[1]}]}}`), 429,
		"Rate limiting exceeded: Read rate limit exceeded: Operation requires 2 tokens but only 0.0 were available. Retry after 30s", "30")

	upsert := func(n int) reply {
		ids, vecs := make([]int, n), make([][]float32, n)
		for i := range ids {
			ids[i], vecs[i] = i+1, []float32{1, 2, 3, 5}
		}
		return s.do(http.MethodPost, "/collections/c/points/batch?wait=true", map[string]any{"operations": []any{
			map[string]any{"upsert": map[string]any{"batch": map[string]any{"ids": ids, "vectors": vecs}}}}})
	}
	expect(upsert(11), 429, "Rate limiting exceeded: Write rate limit exceeded, request larger than rate limiter capacity, please try to split your request", "")
	expect(upsert(10), 200, "", "")
	expect(upsert(10), 429, "Rate limiting exceeded: Write rate limit exceeded: Operation requires 10 tokens but only 0.0 were available. Retry after 60s", "60")
	clk.advance(time.Minute)
	expect(upsert(10), 200, "", "")

	s.patchStrict(`{"enabled":false}`)
	for range 3 {
		expect(upsert(10), 200, "", "")
		expect(retrieve("1,2,3,4"), 200, "", "")
	}
}

// TestStrictModeFilteredWriteCost is Qdrant's
// test_strict_mode_write_rate_limiting_filtered_update_op: a filtered
// update costs the points its filter is expected to select (half of the
// collection for an unindexed key), an index creation one.
func TestStrictModeFilteredWriteCost(t *testing.T) {
	s, _ := strictServer(t)
	s.patchStrict(`{"enabled":true,"write_rate_limit":7}`)
	s.ok(http.MethodPut, "/collections/c/index", `{"field_name":"city","field_schema":"keyword"}`, nil)
	s.ok(http.MethodPut, "/collections/c/points/payload", `{"payload":{"City":"Not Berlin"},"filter":{"must":[{"key":"City","match":{"value":"Berlin"}}]}}`, nil)
	s.fail(http.MethodPut, "/collections/c/points/payload", `{"payload":{"City":"Not London"},"filter":{"must":[{"key":"City","match":{"value":"London"}}]}}`,
		http.StatusTooManyRequests, "Rate limiting exceeded: Write rate limit exceeded: Operation requires 5 tokens but only 1.0 were available. Retry after 35s")
}
