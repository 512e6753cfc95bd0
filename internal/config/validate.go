package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid marks a configuration that loaded but cannot be used.
var ErrInvalid = errors.New("invalid configuration")

// maxPeerID is Qdrant's limit: peer ids must survive a JSON float.
const maxPeerID = 1<<53 - 1

// Validate checks ranges and cross-key rules. The error lists every problem,
// one per line, each naming its key, and matches errors.Is(err, ErrInvalid).
func (c *Config) Validate() error {
	v := &validator{}
	c.Storage.validate(v)
	c.Service.validate(v)
	c.Cluster.validate(v)
	c.validateCross(v)
	if c.TLS.CertTTLSec != nil {
		v.atLeast("tls.cert_ttl", *c.TLS.CertTTLSec, 1)
	}
	return v.err()
}

func (s *StorageConfig) validate(v *validator) {
	v.nonEmpty("storage.storage_path", s.StoragePath)
	v.nonEmpty("storage.snapshots_path", s.SnapshotsPath)
	v.atLeast("storage.wal.wal_capacity_mb", s.WAL.WALCapacityMB, 1)
	v.atLeast("storage.wal.wal_segments_ahead", s.WAL.WALSegmentsAhead, 0)
	v.oneOf("storage.node_type", s.NodeType, "Normal", "Listener")
	v.oneOf("storage.snapshots_config.snapshots_storage", s.SnapshotsConfig.SnapshotsStorage, "local", "s3")

	cd := s.Collection
	v.atLeastOpt("storage.collection.shard_number", cd.ShardNumber, 1)
	v.atLeastOpt("storage.collection.shard_number_per_node", cd.ShardNumberPerNode, 1)
	v.atLeastOpt("storage.collection.replication_factor", cd.ReplicationFactor, 1)
	v.atLeastOpt("storage.collection.write_consistency_factor", cd.WriteConsistencyFactor, 1)

	o := s.Optimizers
	if o.DeletedThreshold < 0 || o.DeletedThreshold > 1 {
		v.addf("storage.optimizers.deleted_threshold", "must be between 0 and 1, got %g", o.DeletedThreshold)
	}
	v.atLeast("storage.optimizers.vacuum_min_vector_number", o.VacuumMinVectorNumber, 100)
	v.atLeast("storage.optimizers.default_segment_number", o.DefaultSegmentNumber, 0)
	v.atLeastOpt("storage.optimizers.max_segment_size_kb", o.MaxSegmentSizeKB, 1)
	v.atLeastOpt("storage.optimizers.memmap_threshold_kb", o.MemmapThresholdKB, 0)
	v.atLeastOpt("storage.optimizers.indexing_threshold_kb", o.IndexingThresholdKB, 0)
	v.atLeast("storage.optimizers.flush_interval_sec", o.FlushIntervalSec, 0)
	v.atLeastOpt("storage.optimizers.max_optimization_threads", o.MaxOptimizationThreads, 0)

	h := s.HNSWIndex
	v.atLeast("storage.hnsw_index.m", h.M, 0) // 0 disables the graph
	v.atLeast("storage.hnsw_index.ef_construct", h.EfConstruct, 4)
	v.atLeast("storage.hnsw_index.full_scan_threshold_kb", h.FullScanThresholdKB, 0)
	v.atLeast("storage.hnsw_index.max_indexing_threads", h.MaxIndexingThreads, 0)
	v.atLeastOpt("storage.hnsw_index.payload_m", h.PayloadM, 0)

	p := s.Performance
	v.atLeast("storage.performance.max_search_threads", p.MaxSearchThreads, 0)
	v.atLeast("storage.performance.max_optimization_threads", p.MaxOptimizationThreads, 0)
	v.atLeastOpt("storage.performance.update_rate_limit", p.UpdateRateLimit, 1)
	v.atLeastOpt("storage.performance.search_timeout_sec", p.SearchTimeoutSec, 1)
	v.atLeastOpt("storage.performance.incoming_shard_transfers_limit", p.IncomingShardTransfersLimit, 0)
	v.atLeastOpt("storage.performance.outgoing_shard_transfers_limit", p.OutgoingShardTransfersLimit, 0)
}

func (s *ServiceConfig) validate(v *validator) {
	v.nonEmpty("service.host", s.Host)
	v.port("service.http_port", s.HTTPPort)
	if s.GRPCPort != nil {
		v.port("service.grpc_port", *s.GRPCPort)
	}
	v.atLeast("service.max_request_size_mb", s.MaxRequestSizeMB, 1)
	v.atLeastOpt("service.max_workers", s.MaxWorkers, 0)
	if s.MetricsPort != nil {
		v.port("service.metrics_port", *s.MetricsPort)
	}
	v.atLeast("service.http_header_timeout_sec", s.HTTPHeaderTimeoutSec, 1)
	v.atLeast("service.http_read_timeout_sec", s.HTTPReadTimeoutSec, 1)
	v.atLeast("service.http_write_timeout_sec", s.HTTPWriteTimeoutSec, 1)
	v.atLeast("service.http_idle_timeout_sec", s.HTTPIdleTimeoutSec, 1)
}

func (c *ClusterConfig) validate(v *validator) {
	if c.PeerID != nil && (*c.PeerID < 1 || *c.PeerID > maxPeerID) {
		v.addf("cluster.peer_id", "must be between 1 and %d, got %d", uint64(maxPeerID), *c.PeerID)
	}
	v.atLeast("cluster.grpc_timeout_ms", c.GRPCTimeoutMS, 1)
	v.atLeast("cluster.connection_timeout_ms", c.ConnectionTimeoutMS, 1)
	if c.P2P.Port != nil {
		v.port("cluster.p2p.port", *c.P2P.Port)
	} else if c.Enabled {
		v.addf("cluster.p2p.port", "must be set when cluster.enabled is true")
	}
	v.atLeast("cluster.p2p.connection_pool_size", c.P2P.ConnectionPoolSize, 1)
	cs := c.Consensus
	v.atLeast("cluster.consensus.max_message_queue_size", cs.MaxMessageQueueSize, 1)
	v.atLeast("cluster.consensus.tick_period_ms", cs.TickPeriodMS, 1)
	v.atLeast("cluster.consensus.bootstrap_timeout_sec", cs.BootstrapTimeoutSec, 1)
	v.atLeast("cluster.consensus.message_timeout_ticks", cs.MessageTimeoutTicks, 1)
	v.atLeast("cluster.consensus.compact_wal_entries", cs.CompactWALEntries, 0)
}

// validateCross checks rules between sections: distinct ports, TLS files.
func (c *Config) validateCross(v *validator) {
	if c.Service.GRPCPort != nil && *c.Service.GRPCPort == c.Service.HTTPPort {
		v.addf("service.grpc_port", "must differ from service.http_port (%d)", c.Service.HTTPPort)
	}
	if c.Cluster.Enabled && c.Cluster.P2P.Port != nil {
		p := *c.Cluster.P2P.Port
		if p == c.Service.HTTPPort {
			v.addf("cluster.p2p.port", "must differ from service.http_port (%d)", p)
		}
		if c.Service.GRPCPort != nil && p == *c.Service.GRPCPort {
			v.addf("cluster.p2p.port", "must differ from service.grpc_port (%d)", p)
		}
	}
	if c.Service.EnableTLS || (c.Cluster.Enabled && c.Cluster.P2P.EnableTLS) {
		v.nonEmptyBecause("tls.cert", c.TLS.Cert, "TLS is enabled")
		v.nonEmptyBecause("tls.key", c.TLS.Key, "TLS is enabled")
	}
	if c.Cluster.Enabled && c.Cluster.P2P.EnableTLS {
		v.nonEmptyBecause("tls.ca_cert", c.TLS.CACert, "cluster.p2p.enable_tls is true")
	}
	if c.Service.VerifyHTTPSClientCertificate && c.Service.EnableTLS {
		v.nonEmptyBecause("tls.ca_cert", c.TLS.CACert, "service.verify_https_client_certificate is true")
	}
}

// validator collects problems so that one run reports all of them.
type validator struct{ problems []string }

func (v *validator) addf(key, format string, args ...any) {
	v.problems = append(v.problems, key+": "+fmt.Sprintf(format, args...))
}

func (v *validator) atLeast(key string, n, lo int) {
	if n < lo {
		v.addf(key, "must be at least %d, got %d", lo, n)
	}
}

func (v *validator) atLeastOpt(key string, n *int, lo int) {
	if n != nil {
		v.atLeast(key, *n, lo)
	}
}

func (v *validator) port(key string, p int) {
	if p < 1 || p > 65535 {
		v.addf(key, "must be a port between 1 and 65535, got %d", p)
	}
}

// oneOf checks an enum value; as in Qdrant, case matters.
func (v *validator) oneOf(key, s string, allowed ...string) {
	if !slices.Contains(allowed, s) {
		v.addf(key, "must be one of %s, got %q", strings.Join(allowed, ", "), s)
	}
}

func (v *validator) nonEmpty(key, s string) {
	if strings.TrimSpace(s) == "" {
		v.addf(key, "must not be empty")
	}
}

func (v *validator) nonEmptyBecause(key, s, why string) {
	if strings.TrimSpace(s) == "" {
		v.addf(key, "must not be empty when %s", why)
	}
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var lines []string
	for _, p := range v.problems {
		if !seen[p] {
			seen[p] = true
			lines = append(lines, p)
		}
	}
	return fmt.Errorf("%w:\n  %s", ErrInvalid, strings.Join(lines, "\n  "))
}
