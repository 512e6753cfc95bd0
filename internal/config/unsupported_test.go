package config

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestUnsupported checks that every setting turning on a missing feature
// stops Load with an error naming the key and its variable, from a file and
// from the environment, and that the same keys at Qdrant's defaults do not.
func TestUnsupported(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   map[string]string
		want  []string // keys refused; empty means Load succeeds
	}{
		{name: "TLS in a file",
			files: map[string]string{"config/config.yaml": "service: {enable_tls: true}"},
			want:  []string{"service.enable_tls"}},
		{name: "TLS in the environment",
			env:  map[string]string{"QDRANT__SERVICE__ENABLE_TLS": "true"},
			want: []string{"service.enable_tls"}},
		{name: "TLS turned on, then off by a later file",
			files: map[string]string{"config/config.yaml": "service: {enable_tls: true}", "config/local.yaml": "service: {enable_tls: false}"}},
		{name: "TLS turned off by the environment",
			files: map[string]string{"config/config.yaml": "service: {enable_tls: true}"},
			env:   map[string]string{"QDRANT__SERVICE__ENABLE_TLS": "false"}},
		{name: "JWT RBAC in the environment",
			env:  map[string]string{"QDRANT__SERVICE__JWT_RBAC": "true", "QDRANT__SERVICE__API_KEY": "secret"},
			want: []string{"service.jwt_rbac"}},
		{name: "JWT RBAC in a file",
			files: map[string]string{"config/config.yaml": "service: {jwt_rbac: true}"},
			want:  []string{"service.jwt_rbac"}},
		{name: "JWT RBAC off is Qdrant's default",
			env: map[string]string{"QDRANT__SERVICE__JWT_RBAC": "false"}},
		{name: "p2p TLS in a cluster",
			env:  map[string]string{"QDRANT__CLUSTER__ENABLED": "true", "QDRANT__CLUSTER__P2P__ENABLE_TLS": "true"},
			want: []string{"cluster.p2p.enable_tls"}},
		{name: "p2p TLS without a cluster protects nothing, as in Qdrant",
			env: map[string]string{"QDRANT__CLUSTER__P2P__ENABLE_TLS": "true"}},
		{name: "client certificates without TLS do nothing, as in Qdrant",
			env: map[string]string{"QDRANT__SERVICE__VERIFY_HTTPS_CLIENT_CERTIFICATE": "true"}},
		{name: "hardware reporting",
			files: map[string]string{"config/config.yaml": "service: {hardware_reporting: true}"},
			want:  []string{"service.hardware_reporting"}},
		{name: "separate metrics port",
			env:  map[string]string{"QDRANT__SERVICE__METRICS_PORT": "9090"},
			want: []string{"service.metrics_port"}},
		{name: "listener node (its replicas take updates and serve no reads)",
			files: map[string]string{"config/config.yaml": "storage: {node_type: Listener}"}},
		{name: "snapshots in S3",
			files: map[string]string{"config/config.yaml": "storage: {snapshots_config: {snapshots_storage: s3, s3_config: {bucket: b}}}"},
			want:  []string{"storage.snapshots_config.snapshots_storage"}},
		{name: "resharding",
			env:  map[string]string{"QDRANT__CLUSTER__RESHARDING_ENABLED": "true"},
			want: []string{"cluster.resharding_enabled"}},
		{name: "audit log",
			files: map[string]string{"config/config.yaml": "audit: {enabled: true, dir: /var/log/audit}"},
			want:  []string{"audit.enabled"}},
		{name: "log file",
			env:  map[string]string{"QDRANT__LOGGER__ON_DISK__ENABLED": "true"},
			want: []string{"logger.on_disk.enabled"}},
		{name: "every refusal is reported at once",
			files: map[string]string{"config/config.yaml": "service: {enable_tls: true, tls_unknown_key: 1}\naudit: {enabled: true}"},
			env:   map[string]string{"QDRANT__SERVICE__JWT_RBAC": "1"},
			want:  []string{"service.enable_tls", "service.jwt_rbac", "audit.enabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			cfg, _, err := Load(Flags{}, envOf(tt.env), dir)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if err := cfg.Unsupported(); err != nil {
					t.Fatalf("Unsupported() = %v after a successful Load", err)
				}
				return
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Load error = %v, want ErrUnsupported", err)
			}
			for _, key := range tt.want {
				if !strings.Contains(err.Error(), key+" ("+envName(key)+")") {
					t.Errorf("error %q does not name %s and %s", err, key, envName(key))
				}
			}
			if n := strings.Count(err.Error(), "\n  "); n != len(tt.want) {
				t.Errorf("error lists %d settings, want %d:\n%v", n, len(tt.want), err)
			}
		})
	}
}

// TestQdrantDefaultsStart loads every key of Qdrant's shipped configuration
// at its shipped value: nothing is refused, and the keys Shoal does not know
// are returned for the warning.
func TestQdrantDefaultsStart(t *testing.T) {
	data, err := os.ReadFile("testdata/qdrant-1.19-defaults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"config/config.yaml": string(data)})
	cfg, unknown, err := Load(Flags{}, nil, dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Service.HTTPPort != 6333 || cfg.Storage.NodeType != "Normal" {
		t.Errorf("unexpected values: %+v", cfg.Service)
	}
	want := []string{
		"audit.dir", "audit.max_log_files", "audit.rotation", "audit.trust_forwarded_headers",
		"logger.format", "logger.on_disk.log_file", "per_collection_metrics_enabled",
		"service.enable_static_content", "storage.collection.quantization", "storage.max_collections",
		"storage.shard_transfer_method", "storage.update_concurrency",
	}
	if !slices.Equal(unknown, want) {
		t.Errorf("unknown keys = %q\nwant %q", unknown, want)
	}
}

// TestUnbuiltCollectionDefaults: defaults of new collections that Shoal
// does not apply stop the server when set, and pass at Qdrant's null.
func TestUnbuiltCollectionDefaults(t *testing.T) {
	for _, tc := range []struct {
		yaml, env string
		refused   bool
		key       string
	}{
		{yaml: "storage: {collection: {quantization: null, strict_mode: null, vectors: {on_disk: null}}}"},
		{yaml: "storage: {collection: {vectors: {on_disk: false}}}"},
		{yaml: "storage: {collection: {quantization: {scalar: {type: int8}}}}", refused: true, key: "storage.collection.quantization.scalar.type"},
		{yaml: "storage: {collection: {strict_mode: {enabled: true}}}", refused: true, key: "storage.collection.strict_mode.enabled"},
		{yaml: "storage: {collection: {vectors: {on_disk: true}}}", refused: true, key: "storage.collection.vectors.on_disk"},
		{env: "QDRANT__STORAGE__COLLECTION__VECTORS__ON_DISK=true", refused: true, key: "QDRANT__STORAGE__COLLECTION__VECTORS__ON_DISK"},
	} {
		dir := t.TempDir()
		if tc.yaml != "" {
			writeFiles(t, dir, map[string]string{"config/config.yaml": tc.yaml})
		}
		var env []string
		if tc.env != "" {
			env = []string{tc.env}
		}
		_, _, err := Load(Flags{}, env, dir)
		if tc.refused != errors.Is(err, ErrUnsupported) || tc.refused && !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q %q: %v, want refused=%v naming %s", tc.yaml, tc.env, err, tc.refused, tc.key)
		}
	}
}
