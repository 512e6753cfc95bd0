package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// testClock is a clock the test moves.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

// strictFixture is a collection of 10 points (4-dimensional vectors,
// payloads {"city": ..., "price": i}) with a keyword index on city, made
// before any strict mode is set, on a clock the test moves.
func strictFixture(t *testing.T, body string, opts ...Option) (*Collection, *testClock) {
	t.Helper()
	var req CreateRequest
	if err := point.DecodeJSON([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	cfg, err := req.Build(testDefaults())
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	c, err := Open(nil, filepath.Join(t.TempDir(), "c"), "c", cfg, quietLogger(), append([]Option{WithClock(clk.now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var pts []ops.PointStruct
	cities := []string{"Berlin", "London", "Moscow", "Paris", "Rome"}
	for i := range 10 {
		pl := point.Payload{"city": cities[i%len(cities)], "price": json.Number(fmt.Sprint(i))}
		pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i + 1)), Vectors: point.Vectors{"": {1, float32(i), 0, 1}}, Payload: pl})
	}
	upsert(t, c, pts...)
	if _, err := c.Update(bg, &ops.Operation{Kind: ops.CreateIndex, Key: "city", Schema: &ops.FieldSchema{Type: ops.KeywordField}}, true); err != nil {
		t.Fatal(err)
	}
	return c, clk
}

const strictBody = `{"vectors":{"size":4,"distance":"Dot"}}`

// setStrict applies a PATCH's strict_mode_config, as the node does.
func setStrict(t *testing.T, c *Collection, raw string) {
	t.Helper()
	cur, err := c.Config()
	if err != nil {
		t.Fatal(err)
	}
	next, err := (&UpdateRequest{StrictModeConfig: json.RawMessage(raw)}).Apply(cur)
	if err != nil {
		t.Fatalf("strict_mode_config %s: %v", raw, err)
	}
	c.SetConfig(next)
}

var q4 = []float32{0.2, 0.1, 0.9, 0.7}

func search(c *Collection, req ops.SearchRequest) error {
	if req.Vector == nil {
		req.Vector = q4
	}
	if req.Limit == 0 {
		req.Limit = 3
	}
	_, err := c.Search(bg, req)
	return err
}

func filterOf(t *testing.T, js string) *ops.SearchRequest {
	return &ops.SearchRequest{Filter: mustFilter(t, js)}
}

// refusal kinds
const (
	passes    = ""
	forbidden = "forbidden"
	rate      = "rate"
	badReq    = "bad request"
)

func kindOf(err error) string {
	var sm *StrictModeError
	var rl *RateLimitError
	switch {
	case err == nil:
		return passes
	case errors.As(err, &sm):
		return forbidden
	case errors.As(err, &rl):
		return rate
	case point.KindOf(err) == point.KindBadRequest:
		return badReq
	}
	return "other: " + err.Error()
}

// TestStrictModeKeys crosses each key of Qdrant 1.19's strict mode and
// stays under it, on a collection whose strict mode is set after it was
// filled, as a PATCH sets it.
func TestStrictModeKeys(t *testing.T) {
	type call struct {
		name string
		run  func(t *testing.T, c *Collection, clk *testClock) error
		kind string
		text string // the refusal's text holds this
	}
	ef := func(n int) func(*testing.T, *Collection, *testClock) error {
		return func(t *testing.T, c *Collection, _ *testClock) error {
			return search(c, ops.SearchRequest{Params: ops.SearchParams{HnswEf: n}})
		}
	}
	oversample := func(o float64) func(*testing.T, *Collection, *testClock) error {
		return func(t *testing.T, c *Collection, _ *testClock) error {
			return search(c, ops.SearchRequest{Params: ops.SearchParams{Quantization: &ops.QuantizationSearchParams{Oversampling: &o}}})
		}
	}
	searchLimit := func(n int) func(*testing.T, *Collection, *testClock) error {
		return func(t *testing.T, c *Collection, _ *testClock) error { return search(c, ops.SearchRequest{Limit: n}) }
	}
	filtered := func(js string) func(*testing.T, *Collection, *testClock) error {
		return func(t *testing.T, c *Collection, _ *testClock) error {
			return search(c, ops.SearchRequest{Filter: mustFilter(t, js)})
		}
	}
	upsertN := func(first, n int) func(*testing.T, *Collection, *testClock) error {
		return func(t *testing.T, c *Collection, _ *testClock) error {
			op := &ops.Operation{Kind: ops.Upsert}
			for i := range n {
				op.Points = append(op.Points, ops.PointStruct{ID: point.NumID(uint64(first + i)), Vectors: point.Vectors{"": {1, 2, 3, 5}}, Payload: point.Payload{}})
			}
			_, err := c.Update(bg, op, true)
			return err
		}
	}
	updateVectors := func(n int) func(*testing.T, *Collection, *testClock) error {
		return func(t *testing.T, c *Collection, _ *testClock) error {
			op := &ops.Operation{Kind: ops.UpdateVectors}
			for i := range n {
				op.Vectors = append(op.Vectors, ops.PointVectors{ID: point.NumID(uint64(i + 1)), Vectors: point.Vectors{"": {1, 2, 3, 5}}})
			}
			_, err := c.Update(bg, op, true)
			return err
		}
	}
	deleteWhere := func(js string) func(*testing.T, *Collection, *testClock) error {
		return func(t *testing.T, c *Collection, _ *testClock) error {
			_, err := c.Update(bg, &ops.Operation{Kind: ops.Delete, Filter: mustFilter(t, js)}, true)
			return err
		}
	}
	setPayload := func(t *testing.T, c *Collection, _ *testClock) error {
		_, err := c.Update(bg, &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(1)}, Payload: point.Payload{"x": "y"}}, true)
		return err
	}
	createIndex := func(t *testing.T, c *Collection, _ *testClock) error {
		_, err := c.Update(bg, &ops.Operation{Kind: ops.CreateIndex, Key: "price", Schema: &ops.FieldSchema{Type: ops.IntegerField}}, true)
		return err
	}
	advance := func(d time.Duration) func(*testing.T, *Collection, *testClock) error {
		return func(_ *testing.T, _ *Collection, clk *testClock) error { clk.t = clk.t.Add(d); return nil }
	}
	batchOf := func(n int) func(*testing.T, *Collection, *testClock) error {
		return func(t *testing.T, c *Collection, _ *testClock) error {
			reqs := make([]ops.SearchRequest, n)
			for i := range reqs {
				reqs[i] = ops.SearchRequest{Vector: q4, Limit: 3}
			}
			return c.SearchBatch(bg, reqs, func(int, []ScoredPoint) error { return nil })
		}
	}
	withTimeout := func(d time.Duration) func(*testing.T, *Collection, *testClock) error {
		return func(t *testing.T, c *Collection, _ *testClock) error {
			_, err := c.Search(ops.WithTimeout(bg, d), ops.SearchRequest{Vector: q4, Limit: 3})
			return err
		}
	}
	payloadBytes := func(c *Collection) uint64 { return c.facts().PayloadBytes() }

	for _, tc := range []struct {
		key    string
		config func(c *Collection) string
		calls  []call
	}{
		{"enabled false enforces nothing", fixed(`{"enabled":false,"max_query_limit":1,"read_rate_limit":1}`), []call{
			{"limit 10", searchLimit(10), passes, ""},
			{"again", searchLimit(10), passes, ""},
		}},
		{"max_query_limit", fixed(`{"enabled":true,"max_query_limit":4}`), []call{
			{"search at it", searchLimit(4), passes, ""},
			{"search over", searchLimit(5), forbidden, `Limit exceeded 5 > 4 for "limit". Help: Reduce the "limit" parameter to or below 4.`},
			{"query over", func(t *testing.T, c *Collection, _ *testClock) error {
				_, err := c.Query(bg, ops.QueryRequest{Nearest: &ops.NearestQuery{Vector: q4}, Limit: 5})
				return err
			}, forbidden, `Limit exceeded 5 > 4 for "limit"`},
			{"query without a query over", func(t *testing.T, c *Collection, _ *testClock) error {
				_, err := c.Query(bg, ops.QueryRequest{Limit: 10})
				return err
			}, forbidden, `Limit exceeded 10 > 4`},
			{"scroll at it", func(t *testing.T, c *Collection, _ *testClock) error {
				_, _, err := c.Scroll(bg, ops.ScrollRequest{Limit: 4})
				return err
			}, passes, ""},
			{"scroll over", func(t *testing.T, c *Collection, _ *testClock) error {
				_, _, err := c.Scroll(bg, ops.ScrollRequest{Limit: 10})
				return err
			}, forbidden, `Limit exceeded 10 > 4`},
			{"facet over", func(t *testing.T, c *Collection, _ *testClock) error {
				_, err := c.Facet(bg, ops.FacetRequest{Key: "city", Limit: 5})
				return err
			}, forbidden, `Limit exceeded 5 > 4`},
		}},
		{"max_timeout", fixed(`{"enabled":true,"max_timeout":2}`), []call{
			{"none", withTimeout(0), passes, ""},
			{"at it", withTimeout(2 * time.Second), passes, ""},
			{"over", withTimeout(3 * time.Second), forbidden, `Limit exceeded 3 > 2 for "timeout". Help: Reduce the "timeout" parameter to or below 2.`},
		}},
		{"unindexed_filtering_retrieve", fixed(`{"enabled":true,"unindexed_filtering_retrieve":false}`), []call{
			{"indexed", filtered(`{"must":[{"key":"city","match":{"value":"Berlin"}}]}`), passes, ""},
			{"unindexed", filtered(`{"must":[{"key":"price","match":{"value":1}}]}`), forbidden,
				`Index required but not found for "price" of one of the following types: [integer]. Help: Create an index for this key or use a different filter.`},
			{"count", func(t *testing.T, c *Collection, _ *testClock) error {
				_, err := c.Count(bg, ops.CountRequest{Filter: mustFilter(t, `{"must":[{"key":"price","range":{"gt":1}}]}`)})
				return err
			}, forbidden, `"price" of one of the following types: [float, integer]`},
			{"writes are not reads", deleteWhere(`{"must":[{"key":"price","match":{"value":9}}]}`), passes, ""},
		}},
		{"unindexed_filtering_update", fixed(`{"enabled":true,"unindexed_filtering_update":false}`), []call{
			{"indexed", deleteWhere(`{"must":[{"key":"city","match":{"value":"Rome"}}]}`), passes, ""},
			{"unindexed", deleteWhere(`{"must":[{"key":"price","match":{"value":1}}]}`), forbidden, `Index required but not found for "price"`},
			{"reads are not writes", filtered(`{"must":[{"key":"price","match":{"value":1}}]}`), passes, ""},
		}},
		{"search_max_hnsw_ef", fixed(`{"enabled":true,"search_max_hnsw_ef":5}`), []call{
			{"at it", ef(5), passes, ""},
			{"over", ef(6), forbidden, `Limit exceeded 6 > 5 for "hnsw_ef"`},
		}},
		{"search_allow_exact", fixed(`{"enabled":true,"search_allow_exact":false}`), []call{
			{"approximate", func(t *testing.T, c *Collection, _ *testClock) error { return search(c, ops.SearchRequest{}) }, passes, ""},
			{"exact search", func(t *testing.T, c *Collection, _ *testClock) error {
				return search(c, ops.SearchRequest{Params: ops.SearchParams{Exact: true}})
			}, forbidden, `Exact search disabled!. Help: Set exact=false.`},
			{"estimated count", func(t *testing.T, c *Collection, _ *testClock) error {
				_, err := c.Count(bg, ops.CountRequest{})
				return err
			}, passes, ""},
			{"exact count", func(t *testing.T, c *Collection, _ *testClock) error {
				_, err := c.Count(bg, ops.CountRequest{Exact: true})
				return err
			}, forbidden, `Exact search disabled!`},
			{"exact facet", func(t *testing.T, c *Collection, _ *testClock) error {
				_, err := c.Facet(bg, ops.FacetRequest{Key: "city", Limit: 3, Exact: true})
				return err
			}, forbidden, `Exact search disabled!`},
		}},
		{"search_max_oversampling", fixed(`{"enabled":true,"search_max_oversampling":1.9}`), []call{
			{"under", oversample(1.5), passes, ""},
			{"over", oversample(2), forbidden, `Limit exceeded 2 > 1.9 for "oversampling"`},
		}},
		{"upsert_max_batchsize", fixed(`{"enabled":true,"upsert_max_batchsize":5}`), []call{
			{"upsert at it", upsertN(1, 5), passes, ""},
			{"upsert over", upsertN(1, 6), forbidden, `Limit exceeded 6 > 5 for "upsert limit"`},
			{"update_vectors over", updateVectors(6), forbidden, `Limit exceeded 6 > 5 for "update limit"`},
			{"update_vectors at it", updateVectors(5), passes, ""},
		}},
		{"search_max_batchsize", fixed(`{"enabled":true,"search_max_batchsize":4}`), []call{
			{"at it", batchOf(4), passes, ""},
			{"over", batchOf(5), forbidden, `Limit exceeded 5 > 4 for "search batch size"`},
		}},
		{"max_points_count over", fixed(`{"enabled":true,"max_points_count":10}`), []call{
			{"upsert", upsertN(11, 1), badReq, "Max points count limit of 10 reached!"},
			{"delete passes", deleteWhere(`{"must":[{"key":"city","match":{"value":"Rome"}}]}`), passes, ""},
			{"then upsert passes", upsertN(11, 1), passes, ""},
		}},
		{"max_points_count under", fixed(`{"enabled":true,"max_points_count":11}`), []call{
			{"upsert", upsertN(11, 1), passes, ""},
		}},
		// 10 points of 4 float32: 160 bytes.
		{"max_collection_vector_size_bytes at it", fixed(`{"enabled":true,"max_collection_vector_size_bytes":160}`), []call{
			{"upsert", upsertN(11, 1), badReq, "Max vector storage size limit of 0.00015258789MB reached!"},
			{"update_vectors", updateVectors(1), badReq, "Max vector storage size limit"},
		}},
		{"max_collection_vector_size_bytes under", fixed(`{"enabled":true,"max_collection_vector_size_bytes":161}`), []call{
			{"upsert", upsertN(11, 1), passes, ""},
		}},
		{"max_collection_payload_size_bytes at it", func(c *Collection) string {
			return fmt.Sprintf(`{"enabled":true,"max_collection_payload_size_bytes":%d}`, payloadBytes(c))
		}, []call{
			{"upsert", upsertN(11, 1), badReq, "Max payload storage size limit of "},
			{"set_payload", setPayload, badReq, "Max payload storage size limit of "},
		}},
		{"max_collection_payload_size_bytes under", func(c *Collection) string {
			return fmt.Sprintf(`{"enabled":true,"max_collection_payload_size_bytes":%d}`, payloadBytes(c)+1)
		}, []call{
			{"set_payload", setPayload, passes, ""},
		}},
		{"filter_max_conditions", fixed(`{"enabled":true,"filter_max_conditions":2}`), []call{
			{"at it", filtered(`{"must":[{"key":"city","match":{"value":"a"}},{"key":"price","match":{"value":1}}]}`), passes, ""},
			{"over", filtered(`{"must":[{"key":"city","match":{"value":"a"}},{"key":"price","match":{"value":1}},{"has_id":[1]}]}`), forbidden,
				`Filter condition limit reached (3 > 2). Help: Reduce the amount of conditions of your filter.`},
			{"update over", deleteWhere(`{"must":[{"has_id":[1]},{"has_id":[2]},{"has_id":[3]}]}`), forbidden, `Filter condition limit reached (3 > 2)`},
		}},
		{"condition_max_size", fixed(`{"enabled":true,"condition_max_size":2}`), []call{
			{"at it", filtered(`{"must":[{"key":"price","match":{"any":[1,2]}}]}`), passes, ""},
			{"over", filtered(`{"must":[{"key":"price","match":{"any":[1,2,3]}}]}`), forbidden,
				`Condition size limit reached (3 > 2). Help: Reduce the size of your condition.`},
		}},
		{"max_payload_index_count at it", fixed(`{"enabled":true,"max_payload_index_count":1}`), []call{
			{"create", createIndex, forbidden,
				`Collection already has the maximum number of payload indices (1). Help: Please delete an existing index before creating a new one.`},
		}},
		{"max_payload_index_count under", fixed(`{"enabled":true,"max_payload_index_count":2}`), []call{
			{"create", createIndex, passes, ""},
			{"another", func(t *testing.T, c *Collection, _ *testClock) error {
				_, err := c.Update(bg, &ops.Operation{Kind: ops.CreateIndex, Key: "other", Schema: &ops.FieldSchema{Type: ops.KeywordField}}, true)
				return err
			}, forbidden, `maximum number of payload indices (2)`},
		}},
		{"read_rate_limit", fixed(`{"enabled":true,"read_rate_limit":2}`), []call{
			{"first", searchLimit(3), passes, ""},
			{"second", searchLimit(3), passes, ""},
			{"third", searchLimit(3), rate, "Read rate limit exceeded: Operation requires 1 tokens but only 0.0 were available. Retry after 30s"},
			{"wait 30s", advance(30 * time.Second), passes, ""},
			{"after the refill", searchLimit(3), passes, ""},
			{"a filter costs its conditions", advance(time.Minute), passes, ""},
			{"retrieve of 3 ids", func(t *testing.T, c *Collection, _ *testClock) error {
				_, err := c.Retrieve(bg, nums(1, 2, 3), ops.PayloadSelector{}, ops.VectorSelector{})
				return err
			}, rate, "Read rate limit exceeded, request larger than rate limiter capacity, please try to split your request"},
			{"scroll with 2 conditions", func(t *testing.T, c *Collection, _ *testClock) error {
				_, _, err := c.Scroll(bg, ops.ScrollRequest{Limit: 3, Filter: mustFilter(t, `{"must":[{"has_id":[1]},{"has_id":[2]}]}`)})
				return err
			}, rate, "request larger than rate limiter capacity"},
			{"a batch costs its searches", batchOf(3), rate, "request larger than rate limiter capacity"},
			{"a batch within", batchOf(2), passes, ""},
		}},
		{"write_rate_limit", fixed(`{"enabled":true,"write_rate_limit":10}`), []call{
			{"11 points", upsertN(1, 11), rate, "Write rate limit exceeded, request larger than rate limiter capacity, please try to split your request"},
			{"10 points", upsertN(1, 10), passes, ""},
			{"10 more", upsertN(1, 10), rate, "Write rate limit exceeded: Operation requires 10 tokens but only 0.0 were available. Retry after 60s"},
			{"a minute later", advance(time.Minute), passes, ""},
			{"a filtered write costs its estimate", deleteWhere(`{"must":[{"key":"city","match":{"value":"Rome"}}]}`), passes, ""},
		}},
		{"write_rate_limit filtered", fixed(`{"enabled":true,"write_rate_limit":1}`), []call{
			{"create index costs one", createIndex, passes, ""},
			{"the next write", setPayload, rate, "Write rate limit exceeded: Operation requires 1 tokens but only 0.0 were available"},
		}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			c, clk := strictFixture(t, strictBody)
			setStrict(t, c, tc.config(c))
			for _, call := range tc.calls {
				err := call.run(t, c, clk)
				if got := kindOf(err); got != call.kind || call.text != "" && !strings.Contains(err.Error(), call.text) {
					t.Fatalf("%s: %v (%s), want %s %q", call.name, err, got, call.kind, call.text)
				}
			}
		})
	}
}

func fixed(s string) func(*Collection) string { return func(*Collection) string { return s } }

// TestStrictModeResidentMemory: the deprecated max_resident_memory_percent
// refuses memory-consuming writes once the process's resident memory
// reaches it; deletes still pass.
func TestStrictModeResidentMemory(t *testing.T) {
	used := uint64(50)
	c, _ := strictFixture(t, strictBody, WithResidentMemory(func() (uint64, bool) { return used, true }))
	setStrict(t, c, `{"enabled":true,"max_resident_memory_percent":80}`)
	upsertOne := func() error {
		_, err := c.Update(bg, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(99), Vectors: point.Vectors{"": {1, 2, 3, 4}}}}}, true)
		return err
	}
	if err := upsertOne(); err != nil {
		t.Fatalf("at 50%%: %v", err)
	}
	used = 85
	err := upsertOne()
	var sm *StrictModeError
	if !errors.As(err, &sm) || !strings.Contains(sm.Description, "Resident memory usage is at 85% of total memory, exceeding the configured limit of 80%") {
		t.Fatalf("at 85%%: %v", err)
	}
	if _, err := c.Update(bg, &ops.Operation{Kind: ops.Delete, IDs: nums(99)}, true); err != nil {
		t.Fatalf("delete at 85%%: %v", err)
	}
}

// TestStrictModeFullScan: with exact search forbidden, a query on a vector
// without an HNSW graph (m = 0) would scan every point and is refused,
// unless a tenant-indexed key filters it and payload_m builds per-tenant
// graphs (Qdrant's check_fullscan).
func TestStrictModeFullScan(t *testing.T) {
	query := func(c *Collection, using, flt string) error {
		req := ops.QueryRequest{Nearest: &ops.NearestQuery{Vector: q4}, Using: using, Limit: 3}
		if flt != "" {
			req.Filter = mustFilter(t, flt)
		}
		_, err := c.Query(bg, req)
		return err
	}
	tenant := `{"must":[{"key":"tenant","match":{"value":"a"}}]}`
	for _, tc := range []struct {
		name, body, using, filter, want string
	}{
		{"graph", strictBody, "", "", ""},
		{"no graph", `{"vectors":{"size":4,"distance":"Dot"},"hnsw_config":{"m":0,"payload_m":16}}`, "", "",
			"Request is forbidden because global vector indexing is disabled (hnsw_config.m = 0). Help: Use tenant-specific filter, enable global vector indexing or enable strict mode `search_allow_exact` option"},
		{"no graph, named", `{"vectors":{"v":{"size":4,"distance":"Dot","hnsw_config":{"m":0}}}}`, "v", "",
			"Request is forbidden on 'v' because global vector indexing is disabled"},
		{"tenant filter", `{"vectors":{"size":4,"distance":"Dot"},"hnsw_config":{"m":0,"payload_m":16}}`, "", tenant, ""},
		{"tenant filter without payload_m", `{"vectors":{"size":4,"distance":"Dot"},"hnsw_config":{"m":0,"payload_m":0}}`, "", tenant,
			"Request is forbidden because vector indexing is disabled (hnsw_config.m = 0 and hnsw_config.payload_m = 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req CreateRequest
			if err := point.DecodeJSON([]byte(tc.body), &req); err != nil {
				t.Fatal(err)
			}
			cfg, err := req.Build(testDefaults())
			if err != nil {
				t.Fatal(err)
			}
			c, err := Open(nil, filepath.Join(t.TempDir(), "c"), "c", cfg, quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tenantIndex := &ops.FieldSchema{Type: ops.KeywordField, HasParams: true, IsTenant: ptr(true)}
			if _, err := c.Update(bg, &ops.Operation{Kind: ops.CreateIndex, Key: "tenant", Schema: tenantIndex}, true); err != nil {
				t.Fatal(err)
			}
			setStrict(t, c, `{"enabled":true,"search_allow_exact":false}`)
			err = query(c, tc.using, tc.filter)
			if tc.want == "" && err != nil || tc.want != "" && (kindOf(err) != forbidden || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("%v, want %q", err, tc.want)
			}
		})
	}
}

// TestStrictModeChecksOnce: a query served by a search, and the searches
// of a batch, are checked and charged once, as the request they are part
// of.
func TestStrictModeChecksOnce(t *testing.T) {
	c, _ := strictFixture(t, strictBody)
	setStrict(t, c, `{"enabled":true,"read_rate_limit":2}`)
	if _, err := c.Query(bg, ops.QueryRequest{Nearest: &ops.NearestQuery{Vector: q4}, Limit: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(bg, ops.QueryRequest{Limit: 3}); err != nil {
		t.Fatalf("the second read of 2 a minute: %v", err)
	}
	if _, err := c.Query(bg, ops.QueryRequest{Limit: 3}); kindOf(err) != rate {
		t.Fatalf("the third: %v", err)
	}
}

// TestStrictModeUpdateBatch: a batch of updates is refused whole when one
// operation breaks a rule or the write rate limit, and its tokens are
// given back.
func TestStrictModeUpdateBatch(t *testing.T) {
	c, _ := strictFixture(t, strictBody)
	setStrict(t, c, `{"enabled":true,"write_rate_limit":5,"upsert_max_batchsize":3}`)
	pts := func(first, n int) *ops.Operation {
		op := &ops.Operation{Kind: ops.Upsert}
		for i := range n {
			op.Points = append(op.Points, ops.PointStruct{ID: point.NumID(uint64(first + i)), Vectors: point.Vectors{"": {1, 2, 3, 4}}})
		}
		return op
	}
	ctx := context.Background()
	if _, err := c.UpdateBatch(ctx, []*ops.Operation{pts(100, 1), pts(200, 4)}, true); kindOf(err) != forbidden {
		t.Fatalf("batch with an oversized upsert: %v", err)
	}
	if _, err := c.UpdateBatch(ctx, []*ops.Operation{pts(100, 3), pts(200, 3)}, true); kindOf(err) != rate {
		t.Fatalf("batch over the rate: %v", err)
	}
	if c.Len() != 10 {
		t.Fatalf("%d points after refused batches, want 10", c.Len())
	}
	if _, err := c.UpdateBatch(ctx, []*ops.Operation{pts(100, 3), pts(200, 2)}, true); err != nil {
		t.Fatalf("a batch within the tokens given back: %v", err)
	}
}
