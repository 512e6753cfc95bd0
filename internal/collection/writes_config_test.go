package collection

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/testkit"
)

// TestConfigAliases: Qdrant's serde aliases, quantization for
// quantization_config (create, update, a vector's params and their diff)
// and optimizer_config for optimizers_config (create, update), mean what
// the keys mean; both names of one key at once are a duplicate field.
func TestConfigAliases(t *testing.T) {
	const q = `{"scalar":{"type":"int8","quantile":0.9}}`
	create := []struct {
		name, body string
		check      func(*Config) string
		dup        string
	}{
		{name: "quantization", body: `{"vectors":{"size":2,"distance":"Dot"},"quantization":` + q + `}`,
			check: func(c *Config) string { return string(c.QuantizationConfig) }},
		{name: "quantization of the unnamed vector", body: `{"vectors":{"size":2,"distance":"Dot","quantization":` + q + `}}`,
			check: func(c *Config) string { return string(c.Params.Vectors.Named[""].QuantizationConfig) }},
		{name: "quantization of a named vector", body: `{"vectors":{"a":{"size":2,"distance":"Dot","quantization":` + q + `}}}`,
			check: func(c *Config) string { return string(c.Params.Vectors.Named["a"].QuantizationConfig) }},
		{name: "optimizer_config", body: `{"vectors":{"size":2,"distance":"Dot"},"optimizer_config":{"indexing_threshold":7,"prevent_unoptimized":true}}`,
			check: func(c *Config) string {
				return fmt.Sprint(*c.OptimizerConfig.IndexingThreshold, *c.OptimizerConfig.PreventUnoptimized)
			}},
		{name: "both quantization names", body: `{"quantization":` + q + `,"quantization_config":null}`, dup: "duplicate field `quantization_config`"},
		{name: "both optimizer names", body: `{"optimizer_config":{},"optimizers_config":{"indexing_threshold":1}}`, dup: "duplicate field `optimizers_config`"},
		{name: "both names in a vector", body: `{"vectors":{"size":2,"distance":"Dot","quantization":` + q + `,"quantization_config":` + q + `}}`,
			dup: "vectors: duplicate field `quantization_config`"},
	}
	for _, c := range create {
		t.Run("create "+c.name, func(t *testing.T) {
			var req CreateRequest
			err := point.DecodeJSON([]byte(c.body), &req)
			var cfg *Config
			if err == nil {
				cfg, err = req.Build(testDefaults())
			}
			if c.dup != "" {
				// A decode error (the REST layer reports it as a format
				// error) or a FormatError of Build.
				var fe *FormatError
				if err == nil || err.Error() != c.dup && !(errors.As(err, &fe) && fe.Msg == c.dup) {
					t.Fatalf("err %v, want %q", err, c.dup)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := q
			if strings.HasPrefix(c.name, "optimizer") {
				want = "7 true"
			}
			if got := c.check(cfg); got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
			// The stored form has the keys, not the aliases.
			if js := jsonOf(t, cfg); strings.Contains(js, `"quantization"`) {
				t.Fatalf("stored config %s", js)
			}
		})
	}

	base, err := build(t, `{"vectors":{"a":{"size":2,"distance":"Dot"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	update := []struct {
		name, body string
		check      func(*Config) string
		want, dup  string
	}{
		{name: "quantization", body: `{"quantization":` + q + `}`, check: func(c *Config) string { return string(c.QuantizationConfig) }, want: q},
		{name: "quantization Disabled", body: `{"quantization":"Disabled"}`, check: func(c *Config) string { return string(c.QuantizationConfig) }, want: ""},
		{name: "a vector's quantization", body: `{"vectors":{"a":{"quantization":` + q + `}}}`,
			check: func(c *Config) string { return string(c.Params.Vectors.Named["a"].QuantizationConfig) }, want: q},
		{name: "optimizer_config", body: `{"optimizer_config":{"prevent_unoptimized":true}}`,
			check: func(c *Config) string { return fmt.Sprint(*c.OptimizerConfig.PreventUnoptimized) }, want: "true"},
		{name: "both quantization names", body: `{"quantization":"Disabled","quantization_config":"Disabled"}`, dup: "duplicate field `quantization_config`"},
		{name: "both optimizer names", body: `{"optimizer_config":{},"optimizers_config":{}}`, dup: "duplicate field `optimizers_config`"},
		{name: "both names in a vector", body: `{"vectors":{"a":{"quantization":"Disabled","quantization_config":"Disabled"}}}`,
			dup: "vectors.a: duplicate field `quantization_config`"},
	}
	for _, c := range update {
		t.Run("update "+c.name, func(t *testing.T) {
			var req UpdateRequest
			decodeInto(t, c.body, &req)
			got, err := req.Apply(base)
			if c.dup != "" {
				var fe *FormatError
				if !errors.As(err, &fe) || fe.Msg != c.dup {
					t.Fatalf("err %v, want a format error %q", err, c.dup)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := c.check(got); s != c.want {
				t.Fatalf("got %s, want %s", s, c.want)
			}
		})
	}
}

// TestWarnings: Qdrant's two warnings about hnsw_config.inline_storage,
// with its texts, and the configurations that give none.
func TestWarnings(t *testing.T) {
	const q = `{"scalar":{"type":"int8"}}`
	cases := []struct {
		name, body string
		want       []string
	}{
		{"none", `{"vectors":{"size":2,"distance":"Dot"}}`, nil},
		{"inline storage without quantization", `{"vectors":{"size":2,"distance":"Dot"},"hnsw_config":{"inline_storage":true}}`,
			[]string{"The `hnsw_config.inline_storage` option for vector '' requires quantization to be enabled. This option will be ignored."}},
		{"inline storage with the collection's quantization", `{"vectors":{"size":2,"distance":"Dot"},"hnsw_config":{"inline_storage":true},"quantization_config":` + q + `}`, nil},
		{"inline storage off", `{"vectors":{"size":2,"distance":"Dot"},"hnsw_config":{"inline_storage":false}}`, nil},
		{"per vector, in name order", `{"vectors":{
				"b":{"size":2,"distance":"Dot","hnsw_config":{"inline_storage":true}},
				"a":{"size":2,"distance":"Dot","hnsw_config":{"inline_storage":true},"multivector_config":{"comparator":"max_sim"}},
				"c":{"size":2,"distance":"Dot","hnsw_config":{"inline_storage":true},"quantization_config":` + q + `},
				"d":{"size":2,"distance":"Dot"}}}`,
			[]string{
				"The `hnsw_config.inline_storage` option for vector 'a' is not compatible with multivectors. This option will be ignored.",
				"The `hnsw_config.inline_storage` option for vector 'b' requires quantization to be enabled. This option will be ignored.",
			}},
		{"a vector turns the collection's off", `{"vectors":{"a":{"size":2,"distance":"Dot","hnsw_config":{"inline_storage":false}}},"hnsw_config":{"inline_storage":true}}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cfg Config
			var req CreateRequest
			decodeInto(t, c.body, &req)
			// Build refuses multivectors until they are supported; the
			// warnings read the stored configuration, so build it by hand.
			cfg.HnswConfig = testDefaults().Hnsw.Apply(req.HnswConfig)
			cfg.Params.Vectors = *req.Vectors
			cfg.QuantizationConfig = req.QuantizationConfig
			var got []string
			for _, w := range cfg.Warnings() {
				got = append(got, w.Message)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("warnings %q, want %q", got, c.want)
			}
		})
	}
}

// TestDeferFrom: Qdrant's get_deferred_point_id, the number of points an
// appendable segment shows under prevent_unoptimized.
func TestDeferFrom(t *testing.T) {
	cases := []struct {
		name, body string
		want       int
	}{
		{"off", `{"vectors":{"size":256,"distance":"Dot"},"optimizers_config":{"indexing_threshold":100}}`, 0},
		{"false", `{"vectors":{"size":256,"distance":"Dot"},"optimizers_config":{"indexing_threshold":100,"prevent_unoptimized":false}}`, 0},
		{"100 KB of 256-d float32", `{"vectors":{"size":256,"distance":"Dot"},"optimizers_config":{"indexing_threshold":100,"prevent_unoptimized":true}}`, 100},
		{"default threshold", `{"vectors":{"size":256,"distance":"Dot"},"optimizers_config":{"prevent_unoptimized":true}}`, 10000},
		{"rounded up", `{"vectors":{"size":3,"distance":"Dot"},"optimizers_config":{"indexing_threshold":1,"prevent_unoptimized":true}}`, 86},
		{"float16 and uint8", `{"vectors":{"h":{"size":256,"distance":"Dot","datatype":"float16"},"u":{"size":256,"distance":"Dot","datatype":"uint8"}},"optimizers_config":{"indexing_threshold":100,"prevent_unoptimized":true}}`, 200},
		{"the largest points decide", `{"vectors":{"a":{"size":4,"distance":"Dot"},"b":{"size":1024,"distance":"Dot"}},"optimizers_config":{"indexing_threshold":100,"prevent_unoptimized":true}}`, 25},
		{"no graph, no deferral", `{"vectors":{"size":256,"distance":"Dot","hnsw_config":{"m":0}},"optimizers_config":{"indexing_threshold":100,"prevent_unoptimized":true}}`, 0},
		{"payload_m counts as a graph", `{"vectors":{"size":256,"distance":"Dot","hnsw_config":{"m":0,"payload_m":8}},"optimizers_config":{"indexing_threshold":100,"prevent_unoptimized":true}}`, 100},
		{"indexing off", `{"vectors":{"size":256,"distance":"Dot"},"optimizers_config":{"indexing_threshold":0,"prevent_unoptimized":true}}`, math.MaxUint32},
		{"sparse only", `{"sparse_vectors":{"s":{}},"optimizers_config":{"indexing_threshold":100,"prevent_unoptimized":true}}`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := build(t, c.body)
			if err != nil {
				t.Fatal(err)
			}
			if got := deferFrom(cfg); got != c.want {
				t.Fatalf("deferFrom %d, want %d", got, c.want)
			}
		})
	}
	// A multivector counts 16 sub-vectors (Build refuses multivectors
	// until they are supported, so set it on the built config).
	cfg, err := build(t, `{"vectors":{"size":256,"distance":"Dot"},"optimizers_config":{"indexing_threshold":100,"prevent_unoptimized":true}}`)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Params.Vectors.Named[""]
	p.MultivectorConfig = &MultiVecConfig{Comparator: MaxSim}
	cfg.Params.Vectors.Named[""] = p
	if got := deferFrom(cfg); got != 7 { // 102400 / (4 * 256 * 16) = 6.25
		t.Fatalf("multivector deferFrom %d, want 7", got)
	}
}

// TestPreventUnoptimized follows Qdrant's test_deferred_points at the
// collection: with prevent_unoptimized and the optimizer off, points past
// the indexing threshold of the appendable segment are hidden from
// points_count, scroll, retrieve and search, counted in
// update_queue.deferred_points; an update sent with wait answers
// wait_timeout when its context ends first; with the optimizer back
// (a configuration update) every point shows.
func TestPreventUnoptimized(t *testing.T) {
	// 1 KB per point, 10 KB threshold: ten points show.
	c, _ := openCollection(t, `{"vectors":{"size":256,"distance":"Dot"},
		"optimizers_config":{"indexing_threshold":10,"prevent_unoptimized":true,"max_optimization_threads":0}}`)
	ctx := context.Background()
	vec := make([]float32, 256)
	vec[0] = 1
	var pts []ops.PointStruct
	for i := range 40 {
		pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i + 1)), Vectors: point.Vectors{"": vec}, Payload: point.Payload{"i": i}})
	}
	res, err := c.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: pts}, false)
	if err != nil || res.Status != Acknowledged {
		t.Fatalf("upsert: %+v %v", res, err)
	}
	testkit.WaitFor(t, "the upsert to be applied", 10*time.Second, func() bool { return c.firstShard().Applied() > res.OperationID })
	info := func() *Info {
		t.Helper()
		in, err := c.Info()
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	in := info()
	if in.PointsCount != 10 || in.UpdateQueue == nil || in.UpdateQueue.DeferredPoints == nil || *in.UpdateQueue.DeferredPoints != 30 {
		t.Fatalf("info: points %d, update_queue %s", in.PointsCount, jsonOf(t, in.UpdateQueue))
	}
	if got := jsonOf(t, in.UpdateQueue); got != `{"length":0,"deferred_points":30}` {
		t.Fatalf("update_queue %s", got)
	}
	n, err := c.Count(ctx, ops.CountRequest{Exact: true})
	if err != nil || n != 10 {
		t.Fatalf("count %d %v, want 10", n, err)
	}
	var all []point.ID
	for _, p := range pts {
		all = append(all, p.ID)
	}
	recs, err := c.Retrieve(ctx, all, ops.PayloadSelector{}, ops.VectorSelector{})
	if err != nil || len(recs) != 10 {
		t.Fatalf("retrieve: %d records, %v", len(recs), err)
	}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	res, err = c.Update(short, &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(1)}, Payload: point.Payload{"x": 1}}, true)
	cancel()
	if err != nil || res.Status != WaitTimeout {
		t.Fatalf("wait with deferred points: %+v %v, want wait_timeout", res, err)
	}

	cfg, err := c.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg.OptimizerConfig.MaxOptimizationThreads = nil
	c.SetConfig(cfg)
	res, err = c.Update(ctx, &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(2)}, Payload: point.Payload{"x": 2}}, true)
	if err != nil || res.Status != Completed {
		t.Fatalf("wait with the optimizer on: %+v %v", res, err)
	}
	if in := info(); in.PointsCount != 40 || *in.UpdateQueue.DeferredPoints != 0 {
		t.Fatalf("after optimizing: points %d, update_queue %s", in.PointsCount, jsonOf(t, in.UpdateQueue))
	}

	// Without prevent_unoptimized update_queue has no deferred_points.
	plain, _ := openCollection(t, `{"vectors":{"size":2,"distance":"Dot"}}`)
	if got := jsonOf(t, must(plain.Info()).UpdateQueue); got != `{"length":0}` {
		t.Fatalf("update_queue without prevent_unoptimized: %s", got)
	}
}
