package config

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// shippedConfig is the default config file of the repository.
const shippedConfig = "../../config/config.yaml"

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestDefaultReturnsFreshPointers(t *testing.T) {
	a, b := Default(), Default()
	*a.Service.GRPCPort = 1
	if *b.Service.GRPCPort != 6334 {
		t.Fatal("Default shares pointers between calls")
	}
}

// TestShippedConfigMatchesDefaults loads config/config.yaml as the only file
// and expects exactly the built-in defaults and no unknown key.
func TestShippedConfigMatchesDefaults(t *testing.T) {
	data, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"config/config.yaml": string(data)})
	got, unknown, err := Load(Flags{}, nil, dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(unknown) > 0 {
		t.Errorf("shipped config has unknown keys %q", unknown)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("shipped config differs from Default()\n got: %+v\nwant: %+v", got, want)
	}

	// Every key is documented in the shipped file, except secrets that are
	// commented out there and the peer id, which is per node.
	raw, err := readYAML(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	optional := []string{"service.api_key", "service.alt_api_key", "service.read_only_api_key", "cluster.peer_id"}
	for _, l := range newSchema().leaves {
		if _, ok := raw[l.key]; !ok && !slices.Contains(optional, l.key) {
			t.Errorf("key %s is missing from %s", l.key, shippedConfig)
		}
	}
}

func TestSchema(t *testing.T) {
	s := newSchema()
	tests := []struct {
		key     string
		env     string
		section bool
	}{
		{key: "log_level", env: "QDRANT__LOG_LEVEL"},
		{key: "service.http_port", env: "QDRANT__SERVICE__HTTP_PORT"},
		{key: "service.api_key", env: "QDRANT__SERVICE__API_KEY"},
		{key: "storage.storage_path", env: "QDRANT__STORAGE__STORAGE_PATH"},
		{key: "storage.optimizers.indexing_threshold_kb", env: "QDRANT__STORAGE__OPTIMIZERS__INDEXING_THRESHOLD_KB"},
		{key: "cluster.consensus.tick_period_ms", env: "QDRANT__CLUSTER__CONSENSUS__TICK_PERIOD_MS"},
		{key: "cluster.p2p", section: true},
		{key: "storage.hnsw_index", section: true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if tt.section {
				if !s.sections[tt.key] {
					t.Errorf("%s is not a section", tt.key)
				}
				return
			}
			if _, ok := s.byKey[tt.key]; !ok {
				t.Fatalf("%s is not a known key", tt.key)
			}
			if got := envName(tt.key); got != tt.env {
				t.Errorf("envName(%s) = %s, want %s", tt.key, got, tt.env)
			}
		})
	}
	// Keys are unique and lower case, as environment lookups assume.
	seen := map[string]bool{}
	for _, l := range s.leaves {
		for _, k := range append([]string{l.key}, l.aliases...) {
			if seen[k] || s.sections[k] {
				t.Errorf("key %s is defined twice", k)
			}
			seen[k] = true
			if k != strings.ToLower(k) {
				t.Errorf("key %s is not lower case", k)
			}
		}
	}
}

// TestSearchTimeout: storage.performance.search_timeout_sec, the bound of
// reads without ?timeout=, read from QDRANT__ env like every setting.
func TestSearchTimeout(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want time.Duration
	}{
		{nil, 0},
		{[]string{"QDRANT__STORAGE__PERFORMANCE__SEARCH_TIMEOUT_SEC=7"}, 7 * time.Second},
	} {
		cfg, _, err := Load(Flags{}, tc.env, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Storage.Performance.SearchTimeout(); got != tc.want {
			t.Errorf("env %q: SearchTimeout %v, want %v", tc.env, got, tc.want)
		}
	}
}

// TestSlowQuery: service.slow_query_secs reaches Qdrant's key and env
// name, and 0 (unset, or nonsense) leaves the node's default.
func TestSlowQuery(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want time.Duration
	}{
		{"", 0},
		{"0.001", time.Millisecond},
		{"2.5", 2500 * time.Millisecond},
		{"-1", 0},
	} {
		env := []string{}
		if tc.env != "" {
			env = append(env, "QDRANT__SERVICE__SLOW_QUERY_SECS="+tc.env)
		}
		cfg, unknown, err := Load(Flags{}, env, t.TempDir())
		if err != nil || len(unknown) > 0 {
			t.Fatalf("%q: %v %v", tc.env, err, unknown)
		}
		if got := cfg.Service.SlowQuery(); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.env, got, tc.want)
		}
	}
}

func TestDefaultShardNumber(t *testing.T) {
	for _, tc := range []struct {
		d     CollectionDefaults
		peers int
		want  int
	}{
		{CollectionDefaults{}, 0, 1},
		{CollectionDefaults{}, 1, 1},
		{CollectionDefaults{}, 3, 3},
		{CollectionDefaults{ShardNumberPerNode: ptr(2)}, 3, 6},
		{CollectionDefaults{ShardNumber: ptr(4)}, 3, 4},
		{CollectionDefaults{ShardNumber: ptr(4), ShardNumberPerNode: ptr(2)}, 3, 4},
	} {
		if got := tc.d.DefaultShardNumber(tc.peers); got != tc.want {
			t.Errorf("%+v with %d peers: %d, want %d", tc.d, tc.peers, got, tc.want)
		}
	}
}
