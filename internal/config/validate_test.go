package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // substrings; empty means valid
	}{
		{name: "defaults", mutate: func(*Config) {}},
		{name: "http port zero", mutate: func(c *Config) { c.Service.HTTPPort = 0 },
			want: []string{"service.http_port: must be a port between 1 and 65535, got 0"}},
		{name: "grpc port too large", mutate: func(c *Config) { c.Service.GRPCPort = ptr(65536) },
			want: []string{"service.grpc_port"}},
		{name: "grpc disabled", mutate: func(c *Config) { c.Service.GRPCPort = nil }},
		{name: "same http and grpc port", mutate: func(c *Config) { c.Service.GRPCPort = ptr(6333) },
			want: []string{"service.grpc_port: must differ from service.http_port"}},
		{name: "p2p port clash only matters in a cluster",
			mutate: func(c *Config) { c.Cluster.P2P.Port = ptr(6333) }},
		{name: "p2p port clash in a cluster",
			mutate: func(c *Config) { c.Cluster.Enabled = true; c.Cluster.P2P.Port = ptr(6334) },
			want:   []string{"cluster.p2p.port: must differ from service.grpc_port"}},
		{name: "cluster without p2p port",
			mutate: func(c *Config) { c.Cluster.Enabled = true; c.Cluster.P2P.Port = nil },
			want:   []string{"cluster.p2p.port: must be set"}},
		{name: "empty storage path", mutate: func(c *Config) { c.Storage.StoragePath = " " },
			want: []string{"storage.storage_path: must not be empty"}},
		{name: "zero wal capacity", mutate: func(c *Config) { c.Storage.WAL.WALCapacityMB = 0 },
			want: []string{"storage.wal.wal_capacity_mb: must be at least 1"}},
		{name: "deleted threshold above one", mutate: func(c *Config) { c.Storage.Optimizers.DeletedThreshold = 1.5 },
			want: []string{"storage.optimizers.deleted_threshold"}},
		{name: "indexing disabled is fine", mutate: func(c *Config) { c.Storage.Optimizers.IndexingThresholdKB = ptr(0) }},
		{name: "negative max segment size", mutate: func(c *Config) { c.Storage.Optimizers.MaxSegmentSizeKB = ptr(0) },
			want: []string{"storage.optimizers.max_segment_size_kb"}},
		{name: "tiny ef_construct", mutate: func(c *Config) { c.Storage.HNSWIndex.EfConstruct = 2 },
			want: []string{"storage.hnsw_index.ef_construct"}},
		{name: "negative cpu budget is fine", mutate: func(c *Config) { c.Storage.Performance.OptimizerCPUBudget = -2 }},
		{name: "zero request size", mutate: func(c *Config) { c.Service.MaxRequestSizeMB = 0 },
			want: []string{"service.max_request_size_mb"}},
		{name: "zero tick", mutate: func(c *Config) { c.Cluster.Consensus.TickPeriodMS = 0 },
			want: []string{"cluster.consensus.tick_period_ms"}},
		{name: "zero pool size", mutate: func(c *Config) { c.Cluster.P2P.ConnectionPoolSize = 0 },
			want: []string{"cluster.p2p.connection_pool_size"}},
		{name: "peer id too large", mutate: func(c *Config) { c.Cluster.PeerID = ptr(uint64(1) << 53) },
			want: []string{"cluster.peer_id"}},
		{name: "tls without cert", mutate: func(c *Config) { c.Service.EnableTLS = true; c.TLS.Cert = "" },
			want: []string{"tls.cert: must not be empty when TLS is enabled"}},
		{name: "p2p tls without ca", mutate: func(c *Config) {
			c.Cluster.Enabled = true
			c.Cluster.P2P.EnableTLS = true
			c.TLS.CACert = ""
		}, want: []string{"tls.ca_cert"}},
		{name: "zero read timeout", mutate: func(c *Config) { c.Service.HTTPReadTimeoutSec = 0 },
			want: []string{"service.http_read_timeout_sec: must be at least 1"}},
		{name: "zero header, write and idle timeouts", mutate: func(c *Config) {
			c.Service.HTTPHeaderTimeoutSec = 0
			c.Service.HTTPWriteTimeoutSec = -1
			c.Service.HTTPIdleTimeoutSec = 0
		}, want: []string{"service.http_header_timeout_sec", "service.http_write_timeout_sec", "service.http_idle_timeout_sec"}},
		{name: "unknown node type", mutate: func(c *Config) { c.Storage.NodeType = "normal" },
			want: []string{`storage.node_type: must be one of Normal, Listener, got "normal"`}},
		{name: "unknown snapshots storage", mutate: func(c *Config) { c.Storage.SnapshotsConfig.SnapshotsStorage = "gcs" },
			want: []string{"storage.snapshots_config.snapshots_storage"}},
		{name: "metrics port out of range", mutate: func(c *Config) { c.Service.MetricsPort = ptr(0) },
			want: []string{"service.metrics_port"}},
		{name: "all problems reported", mutate: func(c *Config) {
			c.Service.HTTPPort = -1
			c.Storage.SnapshotsPath = ""
		}, want: []string{"service.http_port", "storage.snapshots_path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
