package collection

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

func testDefaults() Defaults {
	indexing := uint64(10000)
	return Defaults{
		Hnsw:          HnswConfig{M: 16, EfConstruct: 100, FullScanThreshold: 10000},
		Optimizers:    OptimizersConfig{DeletedThreshold: 0.2, VacuumMinVectorNumber: 1000, IndexingThreshold: &indexing, FlushIntervalSec: 5},
		Wal:           WalConfig{WalCapacityMB: 32, WalRetainClosed: 1},
		OnDiskPayload: true,
	}
}

func decodeInto(t *testing.T, body string, v any) {
	t.Helper()
	if err := point.DecodeJSON([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func build(t *testing.T, body string) (*Config, error) {
	t.Helper()
	var req CreateRequest
	decodeInto(t, body, &req)
	return req.Build(testDefaults())
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBuildDefaults(t *testing.T) {
	cfg, err := build(t, `{"vectors":{"size":4,"distance":"Cosine"}}`)
	if err != nil {
		t.Fatal(err)
	}
	d := testDefaults()
	if cfg.Params.Vectors.Multi || len(cfg.Params.Vectors.Named) != 1 {
		t.Fatalf("vectors = %+v, want one unnamed", cfg.Params.Vectors)
	}
	if p := cfg.Params.Vectors.Named[point.DefaultVector]; p.Size != 4 || p.Distance != vector.Cosine {
		t.Fatalf("unnamed vector = %+v", p)
	}
	if cfg.Params.ShardNumber != 1 || cfg.Params.ReplicationFactor != 1 || cfg.Params.WriteConsistencyFactor != 1 {
		t.Fatalf("params = %+v", cfg.Params)
	}
	if cfg.Params.OnDiskPayload != d.OnDiskPayload {
		t.Fatalf("on_disk_payload = %v, want the node default", cfg.Params.OnDiskPayload)
	}
	if !reflect.DeepEqual(cfg.HnswConfig, d.Hnsw) || !reflect.DeepEqual(cfg.WalConfig, d.Wal) || !reflect.DeepEqual(cfg.OptimizerConfig, d.Optimizers) {
		t.Fatalf("config does not start from the defaults: %s", jsonOf(t, cfg))
	}
	if cfg.QuantizationConfig != nil || cfg.StrictModeConfig != nil || cfg.Metadata != nil {
		t.Fatalf("unset optional sections are set: %s", jsonOf(t, cfg))
	}
	// The wire shape keeps Qdrant's keys, quantization_config as null.
	var wire map[string]any
	decodeInto(t, jsonOf(t, cfg), &wire)
	for _, k := range []string{"params", "hnsw_config", "optimizer_config", "wal_config", "quantization_config"} {
		if _, ok := wire[k]; !ok {
			t.Errorf("config JSON lacks %q: %s", k, jsonOf(t, cfg))
		}
	}
}

func TestBuild(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "named vectors",
			body: `{"vectors":{"img":{"size":3,"distance":"Euclid","on_disk":true},"text":{"size":65536,"distance":"Dot","datatype":"float16"}}}`,
			check: func(t *testing.T, c *Config) {
				v := c.Params.Vectors
				if !v.Multi || !slices.Equal(v.Names(), []string{"img", "text"}) {
					t.Fatalf("vectors = %+v", v)
				}
				if p := v.Named["img"]; p.Size != 3 || p.Distance != vector.Euclid || p.OnDisk == nil || !*p.OnDisk {
					t.Fatalf("img = %+v", p)
				}
				if p := v.Named["text"]; p.Size != 65536 || *p.Datatype != "float16" {
					t.Fatalf("text = %+v", p)
				}
			},
		},
		{
			name: "no vectors",
			body: `{}`,
			check: func(t *testing.T, c *Config) {
				if !c.Params.Vectors.Multi || len(c.Params.Vectors.Named) != 0 {
					t.Fatalf("vectors = %+v", c.Params.Vectors)
				}
				if got := jsonOf(t, c.Params.Vectors); got != `{}` {
					t.Fatalf("vectors JSON = %s", got)
				}
			},
		},
		{
			name: "overrides",
			body: `{"vectors":{"size":2,"distance":"Manhattan"},"shard_number":3,"replication_factor":2,"write_consistency_factor":2,
				"on_disk_payload":false,"hnsw_config":{"m":32,"payload_m":8},"wal_config":{"wal_capacity_mb":64,"wal_segments_ahead":2},
				"optimizers_config":{"flush_interval_sec":1,"max_segment_size":100,"deleted_threshold":0,"max_optimization_threads":4},
				"sharding_method":"auto"}`,
			check: func(t *testing.T, c *Config) {
				p := c.Params
				if p.ShardNumber != 3 || p.ReplicationFactor != 2 || p.WriteConsistencyFactor != 2 || p.OnDiskPayload || *p.ShardingMethod != "auto" {
					t.Fatalf("params = %s", jsonOf(t, p))
				}
				if c.HnswConfig.M != 32 || c.HnswConfig.EfConstruct != 100 || *c.HnswConfig.PayloadM != 8 {
					t.Fatalf("hnsw = %+v", c.HnswConfig)
				}
				if c.WalConfig != (WalConfig{WalCapacityMB: 64, WalSegmentsAhead: 2, WalRetainClosed: 1}) {
					t.Fatalf("wal = %+v", c.WalConfig)
				}
				o := c.OptimizerConfig
				if o.FlushIntervalSec != 1 || *o.MaxSegmentSize != 100 || o.DeletedThreshold != 0 || *o.MaxOptimizationThreads != 4 || o.VacuumMinVectorNumber != 1000 {
					t.Fatalf("optimizers = %s", jsonOf(t, o))
				}
			},
		},
		{
			name: "max_optimization_threads auto and null",
			body: `{"optimizers_config":{"max_optimization_threads":"auto"}}`,
			check: func(t *testing.T, c *Config) {
				if c.OptimizerConfig.MaxOptimizationThreads != nil {
					t.Fatalf("max_optimization_threads = %v", *c.OptimizerConfig.MaxOptimizationThreads)
				}
			},
		},
		{
			name: "opaque sections are kept",
			body: `{"quantization_config":{"scalar":{"type":"int8","quantile":0.99}},"strict_mode_config":{"enabled":true},"metadata":{"owner":"me","n":1.0}}`,
			check: func(t *testing.T, c *Config) {
				if got := string(c.QuantizationConfig); got != `{"scalar":{"type":"int8","quantile":0.99}}` {
					t.Fatalf("quantization_config = %s", got)
				}
				if got := string(c.StrictModeConfig); got != `{"enabled":true}` {
					t.Fatalf("strict_mode_config = %s", got)
				}
				if got := jsonOf(t, c.Metadata); got != `{"n":1.0,"owner":"me"}` {
					t.Fatalf("metadata = %s", got)
				}
			},
		},
		{
			name: "null sections count as unset",
			body: `{"vectors":null,"quantization_config":null,"sparse_vectors":null,"strict_mode_config":null,"hnsw_config":null}`,
			check: func(t *testing.T, c *Config) {
				if c.QuantizationConfig != nil || c.StrictModeConfig != nil || c.HnswConfig != testDefaults().Hnsw {
					t.Fatalf("config = %s", jsonOf(t, c))
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := build(t, c.body)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			c.check(t, cfg)
			// What Build returns survives the config file round trip.
			clone, err := cfg.Clone()
			if err != nil {
				t.Fatal(err)
			}
			if a, b := jsonOf(t, cfg), jsonOf(t, clone); a != b {
				t.Fatalf("clone differs:\n%s\n%s", a, b)
			}
		})
	}
}

func TestBuildValidation(t *testing.T) {
	cases := []struct {
		name string
		body string
		want []string
	}{
		{"size 0", `{"vectors":{"size":0,"distance":"Cosine"}}`,
			[]string{"vectors.size: value 0 invalid, must be 1 or larger"}},
		{"size too large", `{"vectors":{"size":65537,"distance":"Cosine"}}`,
			[]string{"vectors.size: value 65537 invalid, must be 65536 or smaller"}},
		{"named size 0", `{"vectors":{"b":{"size":0,"distance":"Dot"},"a":{"size":1,"distance":"Dot"}}}`,
			[]string{"vectors.b.size: value 0 invalid, must be 1 or larger"}},
		{"missing distance", `{"vectors":{"size":4}}`,
			[]string{"vectors.distance: missing field `distance`"}},
		{"named missing distance", `{"vectors":{"v":{"size":4}}}`,
			[]string{"vectors.v.distance: missing field `distance`"}},
		{"missing size", `{"vectors":{"distance":"Dot"}}`,
			[]string{"vectors.size: value 0 invalid, must be 1 or larger"}},
		{"bad datatype", `{"vectors":{"size":4,"distance":"Dot","datatype":"float64"}}`,
			[]string{"vectors.datatype: unknown variant `float64`, expected one of `float32`, `uint8`, `float16`, `turbo4`"}},
		{"vector hnsw", `{"vectors":{"v":{"size":4,"distance":"Dot","hnsw_config":{"ef_construct":3,"full_scan_threshold":9}}}}`,
			[]string{"vectors.v.hnsw_config.ef_construct: value 3 invalid, must be 4 or larger", "vectors.v.hnsw_config.full_scan_threshold: value 9 invalid, must be 10 or larger"}},
		{"shard, replication, write consistency 0", `{"shard_number":0,"replication_factor":0,"write_consistency_factor":0}`,
			[]string{"shard_number: value 0 invalid, must be 1 or larger", "replication_factor: value 0 invalid, must be 1 or larger", "write_consistency_factor: value 0 invalid, must be 1 or larger"}},
		{"hnsw", `{"hnsw_config":{"ef_construct":0}}`,
			[]string{"hnsw_config.ef_construct: value 0 invalid, must be 4 or larger"}},
		{"optimizers", `{"optimizers_config":{"deleted_threshold":1.5,"vacuum_min_vector_number":99,"max_segment_size":0}}`,
			[]string{"optimizers_config.deleted_threshold: value 1.5 invalid, must be in range [0, 1]", "optimizers_config.vacuum_min_vector_number: value 99 invalid, must be 100 or larger", "optimizers_config.max_segment_size: value 0 invalid, must be 1 or larger"}},
		{"negative deleted threshold", `{"optimizers_config":{"deleted_threshold":-0.1}}`,
			[]string{"optimizers_config.deleted_threshold: value -0.1 invalid, must be in range [0, 1]"}},
		{"wal", `{"wal_config":{"wal_capacity_mb":0}}`,
			[]string{"wal_config.wal_capacity_mb: value 0 invalid, must be 1 or larger"}},
		{"everything at once", `{"vectors":{"size":0,"distance":"Dot"},"shard_number":0,"wal_config":{"wal_capacity_mb":0}}`,
			[]string{"vectors.size: value 0 invalid, must be 1 or larger", "shard_number: value 0 invalid, must be 1 or larger", "wal_config.wal_capacity_mb: value 0 invalid, must be 1 or larger"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := build(t, c.body)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want a *ValidationError", err, err)
			}
			if !slices.Equal(ve.Fields, c.want) {
				t.Fatalf("fields:\n got %q\nwant %q", ve.Fields, c.want)
			}
			if got, want := err.Error(), strings.Join(c.want, ", "); got != want {
				t.Fatalf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestBuildBadInput(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"a dense and a sparse vector of one name", `{"vectors":{"s":{"size":2,"distance":"Dot"}},"sparse_vectors":{"s":{}}}`,
			"Dense and sparse vector names must be unique - duplicate found with 's'"},
		{"the unnamed vector and a sparse one without a name", `{"vectors":{"size":2,"distance":"Dot"},"sparse_vectors":{"":{}}}`,
			"Sparse vector name cannot be empty"},
		{"max_optimization_threads", `{"optimizers_config":{"max_optimization_threads":"all"}}`, `optimizers_config.max_optimization_threads: expected a number or "auto"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := build(t, c.body)
			if point.KindOf(err) != point.KindBadInput || point.DescriptionOf(err) != c.want {
				t.Fatalf("err = %v (kind %v), want bad input %q", err, point.KindOf(err), c.want)
			}
		})
	}
}

func TestCreateRequestDecodeErrors(t *testing.T) {
	cases := []struct{ name, body, wantIn string }{
		{"unknown distance", `{"vectors":{"size":4,"distance":"Cos"}}`, "unknown variant `Cos`"},
		{"named unknown distance", `{"vectors":{"v":{"size":4,"distance":"L2"}}}`, "vectors.v:"},
		{"vectors an array", `{"vectors":[4]}`, "vectors: expected an object"},
		{"size negative", `{"vectors":{"size":-1,"distance":"Dot"}}`, "vectors:"},
		{"named params not an object", `{"vectors":{"v":4}}`, "vectors.v:"},
		{"multivector without a comparator", `{"vectors":{"a":{"size":2,"distance":"Dot","multivector_config":{}}}}`, "missing field `comparator`"},
		{"multivector of an unknown comparator", `{"vectors":{"size":2,"distance":"Dot","multivector_config":{"comparator":"min_sim"}}}`,
			"unknown variant `min_sim`, expected `max_sim`"},
		{"multivector config not an object", `{"vectors":{"size":2,"distance":"Dot","multivector_config":"max_sim"}}`, "multivector_config"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var req CreateRequest
			err := point.DecodeJSON([]byte(c.body), &req)
			if err == nil || !strings.Contains(err.Error(), c.wantIn) {
				t.Fatalf("err = %v, want one containing %q", err, c.wantIn)
			}
		})
	}
}

func TestVectorsConfigJSON(t *testing.T) {
	cases := []struct {
		name, in, out string
		multi         bool
	}{
		{"single", `{"size":4,"distance":"Cosine"}`, `{"size":4,"distance":"Cosine"}`, false},
		{"single with options", `{"distance":"Dot","size":8,"on_disk":true,"datatype":"uint8","hnsw_config":{"m":0},"quantization_config":{"binary":{}}}`,
			`{"size":8,"distance":"Dot","hnsw_config":{"m":0},"quantization_config":{"binary":{}},"on_disk":true,"datatype":"uint8"}`, false},
		{"named", `{"b":{"size":2,"distance":"Euclid"},"a":{"size":1,"distance":"Manhattan"}}`,
			`{"a":{"size":1,"distance":"Manhattan"},"b":{"size":2,"distance":"Euclid"}}`, true},
		{"named empty", `{}`, `{}`, true},
		{"named with the empty name", `{"":{"size":2,"distance":"Dot"}}`, `{"":{"size":2,"distance":"Dot"}}`, true},
		{"vectors named size and distance", `{"size":{"size":2,"distance":"Dot"},"distance":{"size":1,"distance":"Euclid"}}`,
			`{"distance":{"size":1,"distance":"Euclid"},"size":{"size":2,"distance":"Dot"}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v VectorsConfig
			decodeInto(t, c.in, &v)
			if v.Multi != c.multi {
				t.Fatalf("Multi = %v, want %v", v.Multi, c.multi)
			}
			got := jsonOf(t, v)
			if got != c.out {
				t.Fatalf("marshal = %s, want %s", got, c.out)
			}
			// And back: the written form reads as the same config.
			var again VectorsConfig
			decodeInto(t, got, &again)
			if !reflect.DeepEqual(again, v) {
				t.Fatalf("round trip: %+v, want %+v", again, v)
			}
		})
	}
}

func TestUpdateRequestApply(t *testing.T) {
	base := func(t *testing.T) *Config {
		cfg, err := build(t, `{"vectors":{"a":{"size":2,"distance":"Dot","hnsw_config":{"m":4}},"b":{"size":3,"distance":"Cosine"}},
			"quantization_config":{"scalar":{"type":"int8"}},"metadata":{"keep":1,"over":"old"}}`)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "empty changes nothing",
			body: `{}`,
			check: func(t *testing.T, c *Config) {
				if got, want := jsonOf(t, c), jsonOf(t, base(t)); got != want {
					t.Fatalf("got %s\nwant %s", got, want)
				}
			},
		},
		{
			name: "vector params merge",
			body: `{"vectors":{"a":{"hnsw_config":{"ef_construct":50},"on_disk":true},"b":{"quantization_config":{"binary":{}}}}}`,
			check: func(t *testing.T, c *Config) {
				a := c.Params.Vectors.Named["a"]
				if *a.HnswConfig.M != 4 || *a.HnswConfig.EfConstruct != 50 || !*a.OnDisk || a.Size != 2 {
					t.Fatalf("a = %s", jsonOf(t, a))
				}
				if b := c.Params.Vectors.Named["b"]; string(b.QuantizationConfig) != `{"binary":{}}` || b.HnswConfig != nil {
					t.Fatalf("b = %s", jsonOf(t, b))
				}
			},
		},
		{
			name: "params, hnsw, optimizers",
			body: `{"params":{"replication_factor":3,"write_consistency_factor":2,"read_fan_out_factor":1,"on_disk_payload":false},
				"hnsw_config":{"m":64},"optimizers_config":{"indexing_threshold":0,"max_optimization_threads":null}}`,
			check: func(t *testing.T, c *Config) {
				p := c.Params
				if p.ReplicationFactor != 3 || p.WriteConsistencyFactor != 2 || *p.ReadFanOutFactor != 1 || p.OnDiskPayload || p.ShardNumber != 1 {
					t.Fatalf("params = %s", jsonOf(t, p))
				}
				if c.HnswConfig.M != 64 || c.HnswConfig.EfConstruct != 100 {
					t.Fatalf("hnsw = %+v", c.HnswConfig)
				}
				if *c.OptimizerConfig.IndexingThreshold != 0 || c.OptimizerConfig.FlushIntervalSec != 5 {
					t.Fatalf("optimizers = %s", jsonOf(t, c.OptimizerConfig))
				}
			},
		},
		{
			name: "quantization disabled",
			body: `{"quantization_config":"Disabled"}`,
			check: func(t *testing.T, c *Config) {
				if c.QuantizationConfig != nil {
					t.Fatalf("quantization_config = %s", c.QuantizationConfig)
				}
			},
		},
		{
			name: "quantization replaced, metadata merged",
			body: `{"quantization_config":{"product":{"compression":"x4"}},"metadata":{"over":"new","add":true},"strict_mode_config":{"enabled":false}}`,
			check: func(t *testing.T, c *Config) {
				if string(c.QuantizationConfig) != `{"product":{"compression":"x4"}}` {
					t.Fatalf("quantization_config = %s", c.QuantizationConfig)
				}
				if got := jsonOf(t, c.Metadata); got != `{"add":true,"keep":1,"over":"new"}` {
					t.Fatalf("metadata = %s", got)
				}
				if string(c.StrictModeConfig) != `{"enabled":false}` {
					t.Fatalf("strict_mode_config = %s", c.StrictModeConfig)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base(t)
			before := jsonOf(t, cfg)
			var req UpdateRequest
			decodeInto(t, c.body, &req)
			got, err := req.Apply(cfg)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if after := jsonOf(t, cfg); after != before {
				t.Fatalf("Apply changed its input:\n%s\n%s", before, after)
			}
			c.check(t, got)
		})
	}
}

func TestUpdateRequestApplyErrors(t *testing.T) {
	cfg, err := build(t, `{"vectors":{"a":{"size":2,"distance":"Dot"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		body       string
		wantFields []string // a ValidationError
		wantBad    string   // else a bad input error
	}{
		{name: "unknown vector", body: `{"vectors":{"x":{"on_disk":true}}}`, wantBad: "Not existing vector name error: x"},
		{name: "unknown sparse vector", body: `{"sparse_vectors":{"s":{}}}`, wantBad: "Not existing vector name error: s"},
		{name: "bad threads", body: `{"optimizers_config":{"max_optimization_threads":true}}`, wantBad: `optimizers_config.max_optimization_threads: expected a number or "auto"`},
		{name: "replication 0", body: `{"params":{"replication_factor":0,"write_consistency_factor":0}}`,
			wantFields: []string{"params.replication_factor: value 0 invalid, must be 1 or larger", "params.write_consistency_factor: value 0 invalid, must be 1 or larger"}},
		{name: "hnsw", body: `{"hnsw_config":{"full_scan_threshold":1},"vectors":{"a":{"hnsw_config":{"ef_construct":1}}}}`,
			wantFields: []string{"hnsw_config.full_scan_threshold: value 1 invalid, must be 10 or larger", "vectors.a.hnsw_config.ef_construct: value 1 invalid, must be 4 or larger"}},
		{name: "optimizers", body: `{"optimizers_config":{"deleted_threshold":2}}`,
			wantFields: []string{"optimizers_config.deleted_threshold: value 2 invalid, must be in range [0, 1]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var req UpdateRequest
			decodeInto(t, c.body, &req)
			_, err := req.Apply(cfg)
			if c.wantFields != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) || !slices.Equal(ve.Fields, c.wantFields) {
					t.Fatalf("err = %v, want fields %q", err, c.wantFields)
				}
				return
			}
			if point.KindOf(err) != point.KindBadInput || point.DescriptionOf(err) != c.wantBad {
				t.Fatalf("err = %v (kind %v), want bad input %q", err, point.KindOf(err), c.wantBad)
			}
		})
	}
}

func TestConfigCloneIsDeep(t *testing.T) {
	cfg, err := build(t, `{"vectors":{"a":{"size":2,"distance":"Dot","hnsw_config":{"m":4}}},"metadata":{"o":{"k":1}}}`)
	if err != nil {
		t.Fatal(err)
	}
	before := jsonOf(t, cfg)
	clone, err := cfg.Clone()
	if err != nil {
		t.Fatal(err)
	}
	p := clone.Params.Vectors.Named["a"]
	*p.HnswConfig.M = 99
	p.Size = 7
	clone.Params.Vectors.Named["a"] = p
	clone.Params.Vectors.Named["new"] = VectorParams{Size: 1}
	clone.Metadata["o"].(map[string]any)["k"] = "changed"
	*clone.OptimizerConfig.IndexingThreshold = 1
	if after := jsonOf(t, cfg); after != before {
		t.Fatalf("mutating a clone changed the original:\n%s\n%s", before, after)
	}
}

// TestMultivectorConfigEcho: a multivector_config is kept on the vector
// (unnamed or named, any datatype) and written back as Qdrant writes it;
// vectors without one have none.
func TestMultivectorConfigEcho(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"vectors":{"size":2,"distance":"Dot","multivector_config":{"comparator":"max_sim"}}}`,
			`{"size":2,"distance":"Dot","multivector_config":{"comparator":"max_sim"}}`},
		{`{"vectors":{"a":{"size":2,"distance":"Cosine","datatype":"uint8","multivector_config":{"comparator":"max_sim"}},"b":{"size":3,"distance":"Dot"}}}`,
			`{"a":{"size":2,"distance":"Cosine","datatype":"uint8","multivector_config":{"comparator":"max_sim"}},"b":{"size":3,"distance":"Dot"}}`},
	} {
		cfg, err := build(t, c.body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(cfg.Params.Vectors)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("vectors of %s:\n got %s\nwant %s", c.body, got, c.want)
		}
		clone, err := cfg.Clone()
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range clone.Params.Vectors.Named {
			if p.IsMulti() != (name != "b") {
				t.Errorf("%s: vector %q IsMulti = %v after a round trip", c.body, name, p.IsMulti())
			}
		}
	}
}
