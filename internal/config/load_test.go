package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// writeFiles creates files (path relative to dir -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// envOf turns m into an environment as os.Environ returns it.
func envOf(m map[string]string) []string {
	var env []string
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	return env
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		env         map[string]string
		flags       Flags
		want        func(c *Config) // edits Default() into the expected value
		wantUnknown []string
	}{
		{
			name: "defaults without any file",
			want: func(*Config) {},
		},
		{
			name: "config/config.yaml overrides defaults",
			files: map[string]string{"config/config.yaml": `
log_level: debug
storage:
  storage_path: /data/storage
  optimizers:
    deleted_threshold: 0.5
service:
  http_port: 7333
`},
			want: func(c *Config) {
				c.LogLevel = "debug"
				c.Storage.StoragePath = "/data/storage"
				c.Storage.Optimizers.DeletedThreshold = 0.5
				c.Service.HTTPPort = 7333
			},
		},
		{
			name: ".yml extension is read",
			files: map[string]string{"config/config.yml": `
service:
  host: 127.0.0.1
`},
			want: func(c *Config) { c.Service.Host = "127.0.0.1" },
		},
		{
			name: "development is the default RUN_MODE",
			files: map[string]string{
				"config/config.yaml":      "service: {http_port: 7001, grpc_port: 7002}",
				"config/development.yaml": "service: {http_port: 7003}",
				"config/production.yaml":  "service: {http_port: 7004}",
			},
			want: func(c *Config) { c.Service.HTTPPort = 7003; c.Service.GRPCPort = ptr(7002) },
		},
		{
			name: "RUN_MODE file overrides config/config",
			files: map[string]string{
				"config/config.yaml":      "service: {http_port: 7001, grpc_port: 7002}",
				"config/development.yaml": "service: {http_port: 7003}",
				"config/production.yaml":  "service: {http_port: 7004}",
			},
			env:  map[string]string{"RUN_MODE": "production"},
			want: func(c *Config) { c.Service.HTTPPort = 7004; c.Service.GRPCPort = ptr(7002) },
		},
		{
			name: "local file overrides RUN_MODE file",
			files: map[string]string{
				"config/development.yaml": "service: {http_port: 7003, max_request_size_mb: 64}",
				"config/local.yaml":       "service: {http_port: 7005}",
			},
			want: func(c *Config) { c.Service.HTTPPort = 7005; c.Service.MaxRequestSizeMB = 64 },
		},
		{
			name: "--config-path overrides local",
			files: map[string]string{
				"config/local.yaml": "service: {http_port: 7005, host: 10.0.0.1}",
				"custom/my.yaml":    "service: {http_port: 7006}",
			},
			flags: Flags{ConfigPath: "custom/my.yaml"},
			want:  func(c *Config) { c.Service.HTTPPort = 7006; c.Service.Host = "10.0.0.1" },
		},
		{
			name:  "--config-path without extension",
			files: map[string]string{"custom/my.yaml": "service: {http_port: 7006}"},
			flags: Flags{ConfigPath: "custom/my"},
			want:  func(c *Config) { c.Service.HTTPPort = 7006 },
		},
		{
			name:  "--config-path may be JSON",
			files: map[string]string{"my.json": `{"service": {"http_port": 7007}}`},
			flags: Flags{ConfigPath: "my.json"},
			want:  func(c *Config) { c.Service.HTTPPort = 7007 },
		},
		{
			name: "environment overrides every file, with type conversion",
			files: map[string]string{
				"config/config.yaml": "service: {http_port: 7001}\nlog_level: warn",
				"custom.yaml":        "service: {http_port: 7006}\ncluster: {enabled: false}",
			},
			flags: Flags{ConfigPath: "custom.yaml"},
			env: map[string]string{
				"QDRANT__SERVICE__HTTP_PORT":                     "7000",
				"QDRANT__STORAGE__STORAGE_PATH":                  "/x",
				"QDRANT__LOG_LEVEL":                              "debug",
				"QDRANT__CLUSTER__ENABLED":                       "true",
				"QDRANT__CLUSTER__PEER_ID":                       "42",
				"QDRANT__CLUSTER__CONSENSUS__TICK_PERIOD_MS":     "50",
				"QDRANT__STORAGE__OPTIMIZERS__DELETED_THRESHOLD": "0.3",
				"QDRANT__STORAGE__HNSW_INDEX__ON_DISK":           "TRUE",
				"QDRANT__SERVICE__API_KEY":                       "secret",
				"QDRANT__SERVICE__GRPC_PORT":                     "null",
			},
			want: func(c *Config) {
				c.Service.HTTPPort = 7000
				c.Storage.StoragePath = "/x"
				c.LogLevel = "debug"
				c.Cluster.Enabled = true
				c.Cluster.PeerID = ptr(uint64(42))
				c.Cluster.Consensus.TickPeriodMS = 50
				c.Storage.Optimizers.DeletedThreshold = 0.3
				c.Storage.HNSWIndex.OnDisk = true
				c.Service.APIKey = "secret"
				c.Service.GRPCPort = nil
			},
		},
		{
			name:  "tracing filter as log level",
			env:   map[string]string{"QDRANT__LOG_LEVEL": "TRACE,raft=info"},
			want:  func(c *Config) { c.LogLevel = "TRACE,raft=info" },
			flags: Flags{},
		},
		{
			name: "unknown keys are collected, not fatal",
			files: map[string]string{
				"config/config.yaml": `
storage:
  node_type: Normal
  collection:
    replication_factor: 2
    vectors: {on_disk: null}
  hnsw_index:
    m: 32
    mystery: 1
per_collection_metrics_enabled: true
`,
				"config/local.yaml": "storage: {snapshots_config: {s3_config: {bucket: b}}}\nfeature_flags: {all: true}",
			},
			env:         map[string]string{"QDRANT__SERVICE__NO_SUCH_KEY": "1", "QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR": "2", "QDRANT_URI": "http://x:6335", "QDRANT__EMPTY": ""},
			want:        func(c *Config) { c.Storage.HNSWIndex.M = 32; c.Storage.Collection.ReplicationFactor = ptr(2) },
			wantUnknown: []string{"QDRANT__SERVICE__NO_SUCH_KEY", "feature_flags", "per_collection_metrics_enabled", "storage.hnsw_index.mystery", "storage.snapshots_config.s3_config"},
		},
		{
			name: "explicit null unsets nullable keys, keeps others",
			files: map[string]string{"config/config.yaml": `
storage:
  temp_path: null
  optimizers:
    indexing_threshold_kb: null
    flush_interval_sec: null
service:
  grpc_port: null
  max_workers: ~
`},
			want: func(c *Config) {
				c.Storage.Optimizers.IndexingThresholdKB = nil
				c.Service.GRPCPort = nil
				c.Service.MaxWorkers = nil
			},
		},
		{
			name: "Qdrant aliases without the _kb suffix",
			files: map[string]string{"config/config.yaml": `
storage:
  optimizers:
    indexing_threshold: 20000
    max_segment_size: 100000
  hnsw_index:
    full_scan_threshold: 500
`},
			env: map[string]string{"QDRANT__STORAGE__OPTIMIZERS__MEMMAP_THRESHOLD": "3000"},
			want: func(c *Config) {
				c.Storage.Optimizers.IndexingThresholdKB = ptr(20000)
				c.Storage.Optimizers.MaxSegmentSizeKB = ptr(100000)
				c.Storage.Optimizers.MemmapThresholdKB = ptr(3000)
				c.Storage.HNSWIndex.FullScanThresholdKB = 500
			},
		},
		{
			name:  "prevent_unoptimized from a file and from the environment",
			files: map[string]string{"config/config.yaml": "storage: {optimizers: {prevent_unoptimized: false}}"},
			env:   map[string]string{"QDRANT__STORAGE__OPTIMIZERS__PREVENT_UNOPTIMIZED": "true"},
			want: func(c *Config) {
				c.Storage.Optimizers.PreventUnoptimized = ptr(true)
			},
		},
		{
			name:  "quoted numbers and integer api keys are converted",
			files: map[string]string{"config/config.yaml": "service: {http_port: \"7010\", api_key: 12345}"},
			want:  func(c *Config) { c.Service.HTTPPort = 7010; c.Service.APIKey = "12345" },
		},
		{
			name:  "empty file and empty sections are fine",
			files: map[string]string{"config/config.yaml": "", "config/local.yaml": "storage:\n  # nothing\ncluster:\n"},
			want:  func(*Config) {},
		},
		{
			name:  "--disable-telemetry sets telemetry_disabled",
			flags: Flags{DisableTelemetry: true},
			want:  func(c *Config) { c.TelemetryDisabled = true },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			got, unknown, err := Load(tt.flags, envOf(tt.env), dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Default()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config mismatch\n got: %+v\nwant: %+v", got, want)
			}
			if !slices.Equal(unknown, tt.wantUnknown) {
				t.Errorf("unknown keys = %q, want %q", unknown, tt.wantUnknown)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		env     map[string]string
		flags   Flags
		want    []string // substrings of the error
		wantKey string   // if set, the error is a *KeyError for this key
		wantIs  error
	}{
		{
			name:  "YAML syntax error names the file",
			files: map[string]string{"config/local.yaml": "service:\n  http_port: [1, 2\n"},
			want:  []string{"config/local.yaml", "yaml"},
		},
		{
			name:    "type mismatch names file and key",
			files:   map[string]string{"config/config.yaml": "service:\n  http_port: abc\n"},
			want:    []string{"config/config.yaml", "service.http_port", "want an integer", `"abc"`},
			wantKey: "service.http_port",
		},
		{
			name:    "non-integral number for an integer key",
			files:   map[string]string{"config/config.yaml": "storage: {wal: {wal_capacity_mb: 1.5}}"},
			want:    []string{"storage.wal.wal_capacity_mb", "want an integer"},
			wantKey: "storage.wal.wal_capacity_mb",
		},
		{
			name:    "bad bool",
			files:   map[string]string{"config/config.yaml": "cluster: {enabled: maybe}"},
			want:    []string{"cluster.enabled", "want true or false"},
			wantKey: "cluster.enabled",
		},
		{
			name:    "mapping where a value is expected",
			files:   map[string]string{"config/config.yaml": "service: {host: {name: x}}"},
			want:    []string{"service.host", "got a mapping"},
			wantKey: "service.host",
		},
		{
			name:    "scalar where a section is expected",
			files:   map[string]string{"config/config.yaml": "storage: 5"},
			want:    []string{"storage", "want a mapping"},
			wantKey: "storage",
		},
		{
			name:    "bad environment value names the variable",
			env:     map[string]string{"QDRANT__SERVICE__HTTP_PORT": "seven"},
			want:    []string{"QDRANT__SERVICE__HTTP_PORT", "service.http_port", "want an integer"},
			wantKey: "service.http_port",
		},
		{
			name:    "environment variable below a scalar key",
			env:     map[string]string{"QDRANT__SERVICE__HTTP_PORT__EXTRA": "1"},
			want:    []string{"QDRANT__SERVICE__HTTP_PORT__EXTRA", "service.http_port", "got a mapping"},
			wantKey: "service.http_port",
		},
		{
			name:    "environment variable for a whole section",
			env:     map[string]string{"QDRANT__STORAGE": "x"},
			want:    []string{"QDRANT__STORAGE", "want a mapping"},
			wantKey: "storage",
		},
		{
			name:   "missing --config-path",
			flags:  Flags{ConfigPath: "nope.yaml"},
			want:   []string{"--config-path", "nope.yaml"},
			wantIs: os.ErrNotExist,
		},
		{
			name:   "invalid values fail validation",
			env:    map[string]string{"QDRANT__SERVICE__HTTP_PORT": "70000"},
			want:   []string{"service.http_port", "65535"},
			wantIs: ErrInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			_, _, err := Load(tt.flags, envOf(tt.env), dir)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.wantKey != "" {
				var ke *KeyError
				if !errors.As(err, &ke) || ke.Key != tt.wantKey {
					t.Errorf("error %v is not a *KeyError for %q", err, tt.wantKey)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
		})
	}
}

// TestLoadUnknownKeysWithError checks that unknown keys seen before a failure
// still reach the caller, so main can log them next to the error.
func TestLoadUnknownKeysWithError(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"config/config.yaml": "gpu: {indexing: true}",
		"config/local.yaml":  "service: {http_port: x}",
	})
	_, unknown, err := Load(Flags{}, nil, dir)
	if err == nil {
		t.Fatal("want an error")
	}
	if !slices.Equal(unknown, []string{"gpu"}) {
		t.Errorf("unknown = %q, want [gpu]", unknown)
	}
}

func TestLoadAbsoluteConfigPath(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	writeFiles(t, other, map[string]string{"c.yaml": "service: {http_port: 7777}"})
	got, _, err := Load(Flags{ConfigPath: filepath.Join(other, "c.yaml")}, nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Service.HTTPPort != 7777 {
		t.Errorf("http_port = %d, want 7777", got.Service.HTTPPort)
	}
}
