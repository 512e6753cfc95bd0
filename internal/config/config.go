package config

import (
	"math"
	"time"
)

// Config is the whole configuration of one shoal process. Field tags are
// Qdrant's key names. A pointer field is nullable: nil means "not set", and
// its doc says what the engine does then.
//
// Only scalar leaves (string, bool, int, uint64, float64 and pointers to them)
// and nested section structs may appear here: the loader derives the list of
// known keys, defaults and environment variable names from this type.
type Config struct {
	// LogLevel is a tracing filter such as "INFO" or "debug,raft=info";
	// see ParseLogLevel.
	LogLevel string `koanf:"log_level"`

	Storage StorageConfig `koanf:"storage"`
	Service ServiceConfig `koanf:"service"`
	Cluster ClusterConfig `koanf:"cluster"`
	TLS     TLSConfig     `koanf:"tls"`
	Logger  LoggerConfig  `koanf:"logger"`
	Audit   AuditConfig   `koanf:"audit"`

	// TelemetryDisabled is kept for compatibility; Shoal sends no telemetry.
	// The --disable-telemetry flag also sets it.
	TelemetryDisabled bool `koanf:"telemetry_disabled"`
}

// StorageConfig is the `storage` section.
type StorageConfig struct {
	StoragePath   string `koanf:"storage_path"`
	SnapshotsPath string `koanf:"snapshots_path"`
	// TempPath is where temporary files go; empty means
	// <storage_path>/snapshots_temp.
	TempPath string `koanf:"temp_path"`
	// OnDiskPayload keeps payloads on disk, reading them on each request.
	OnDiskPayload bool `koanf:"on_disk_payload"`
	// NodeType is Qdrant's "Normal" or "Listener": a listener peer's
	// replicas take updates and serve no reads.
	NodeType string `koanf:"node_type"`

	SnapshotsConfig SnapshotsConfig `koanf:"snapshots_config"`

	// Collection holds the defaults of new collections' shards and
	// replicas (Qdrant's CollectionConfigDefaults).
	Collection CollectionDefaults `koanf:"collection"`

	WAL         WALConfig         `koanf:"wal"`
	Optimizers  OptimizersConfig  `koanf:"optimizers"`
	HNSWIndex   HNSWConfig        `koanf:"hnsw_index"`
	Performance PerformanceConfig `koanf:"performance"`
}

// CollectionDefaults is `storage.collection`: what a collection created
// without these parameters gets. nil: not set.
type CollectionDefaults struct {
	// ShardNumber is the shard_number of new collections; unset, a
	// cluster uses ShardNumberPerNode times the number of peers, and
	// without that one shard per peer (standalone: 1). When both are set,
	// ShardNumber wins, as in Qdrant.
	ShardNumber        *int `koanf:"shard_number"`
	ShardNumberPerNode *int `koanf:"shard_number_per_node"`
	// ReplicationFactor and WriteConsistencyFactor default to 1.
	ReplicationFactor      *int `koanf:"replication_factor"`
	WriteConsistencyFactor *int `koanf:"write_consistency_factor"`
	// Vectors.OnDisk true is refused (see Unsupported); null and false
	// are what Shoal does.
	Vectors CollectionVectorsDefaults `koanf:"vectors"`
}

// CollectionVectorsDefaults is `storage.collection.vectors`.
type CollectionVectorsDefaults struct {
	OnDisk *bool `koanf:"on_disk"`
}

// DefaultShardNumber is the shard_number of a new collection created
// without one on a cluster of peers peers (1 standalone): Qdrant's
// CollectionConfigDefaults::get_shard_number.
func (d CollectionDefaults) DefaultShardNumber(peers int) int {
	peers = max(peers, 1)
	switch {
	case d.ShardNumber != nil:
		return *d.ShardNumber
	case d.ShardNumberPerNode != nil:
		return *d.ShardNumberPerNode * peers
	}
	return peers
}

// SnapshotsConfig is `storage.snapshots_config`: where snapshots are kept.
type SnapshotsConfig struct {
	// SnapshotsStorage is "local" or "s3"; Shoal has no S3 upload (see
	// Unsupported).
	SnapshotsStorage string `koanf:"snapshots_storage"`
}

// WALConfig is `storage.wal`: the default write-ahead log of new collections.
type WALConfig struct {
	WALCapacityMB    int `koanf:"wal_capacity_mb"`
	WALSegmentsAhead int `koanf:"wal_segments_ahead"`
}

// OptimizersConfig is `storage.optimizers`: the default optimizer settings of
// new collections. Qdrant also accepts the key names without the _kb suffix.
type OptimizersConfig struct {
	DeletedThreshold      float64 `koanf:"deleted_threshold"`
	VacuumMinVectorNumber int     `koanf:"vacuum_min_vector_number"`
	// DefaultSegmentNumber of 0 picks a number from the CPU count.
	DefaultSegmentNumber int `koanf:"default_segment_number"`
	// MaxSegmentSizeKB nil picks a size from the CPU count.
	MaxSegmentSizeKB *int `koanf:"max_segment_size_kb" alias:"max_segment_size"`
	// MemmapThresholdKB is deprecated in Qdrant; nil or 0 disables it.
	MemmapThresholdKB *int `koanf:"memmap_threshold_kb" alias:"memmap_threshold"`
	// IndexingThresholdKB nil means 10000; 0 disables vector indexing.
	IndexingThresholdKB *int `koanf:"indexing_threshold_kb" alias:"indexing_threshold"`
	FlushIntervalSec    int  `koanf:"flush_interval_sec"`
	// MaxOptimizationThreads nil means no limit; 0 disables optimizations.
	MaxOptimizationThreads *int `koanf:"max_optimization_threads"`
	// PreventUnoptimized (nil: off) defers points written past the
	// indexing threshold of an appendable segment until it is optimized.
	PreventUnoptimized *bool `koanf:"prevent_unoptimized"`
}

// HNSWConfig is `storage.hnsw_index`: the default HNSW parameters of new
// collections.
type HNSWConfig struct {
	M                   int `koanf:"m"`
	EfConstruct         int `koanf:"ef_construct"`
	FullScanThresholdKB int `koanf:"full_scan_threshold_kb" alias:"full_scan_threshold"`
	// MaxIndexingThreads of 0 picks a number from the CPU count.
	MaxIndexingThreads int  `koanf:"max_indexing_threads"`
	OnDisk             bool `koanf:"on_disk"`
	// PayloadM nil means M.
	PayloadM *int `koanf:"payload_m"`
}

// PerformanceConfig is `storage.performance`.
type PerformanceConfig struct {
	// MaxSearchThreads of 0 picks a number from the CPU count.
	MaxSearchThreads int `koanf:"max_search_threads"`
	// MaxOptimizationThreads of 0 picks a number from the CPU count.
	MaxOptimizationThreads int `koanf:"max_optimization_threads"`
	// OptimizerCPUBudget: 0 auto, negative leaves that many CPUs free,
	// positive uses exactly that many.
	OptimizerCPUBudget int `koanf:"optimizer_cpu_budget"`
	// UpdateRateLimit nil picks a limit automatically.
	UpdateRateLimit *int `koanf:"update_rate_limit"`
	// SearchTimeoutSec nil means no default timeout for searches.
	SearchTimeoutSec *int `koanf:"search_timeout_sec"`
	// IncomingShardTransfersLimit and OutgoingShardTransfersLimit bound
	// the transfers automatic recovery runs to and from one peer (Qdrant's
	// defaults: 1 each); nil: unlimited.
	IncomingShardTransfersLimit *int `koanf:"incoming_shard_transfers_limit"`
	OutgoingShardTransfersLimit *int `koanf:"outgoing_shard_transfers_limit"`
}

// ServiceConfig is the `service` section: the public REST and gRPC servers.
type ServiceConfig struct {
	Host     string `koanf:"host"`
	HTTPPort int    `koanf:"http_port"`
	// GRPCPort nil disables the gRPC server.
	GRPCPort         *int `koanf:"grpc_port"`
	MaxRequestSizeMB int  `koanf:"max_request_size_mb"`
	// MaxWorkers of 0 means the number of CPUs; nil means
	// storage.performance.max_search_threads.
	MaxWorkers                   *int `koanf:"max_workers"`
	EnableCORS                   bool `koanf:"enable_cors"`
	EnableTLS                    bool `koanf:"enable_tls"`
	VerifyHTTPSClientCertificate bool `koanf:"verify_https_client_certificate"`
	// APIKey, AltAPIKey and ReadOnlyAPIKey: empty disables the key.
	// AltAPIKey is a second full-access key for rolling rotation.
	APIKey         string `koanf:"api_key"`
	AltAPIKey      string `koanf:"alt_api_key"`
	ReadOnlyAPIKey string `koanf:"read_only_api_key"`
	// JWTRBAC, HardwareReporting and MetricsPort are Qdrant features Shoal
	// does not have yet: turning one on stops the server (see Unsupported).
	JWTRBAC           bool `koanf:"jwt_rbac"`
	HardwareReporting bool `koanf:"hardware_reporting"`
	// MetricsPort nil means /metrics is served on the REST port only.
	MetricsPort *int `koanf:"metrics_port"`
	// SlowQuerySecs is how long a query must take to be checked for
	// filters on unindexed fields (GET /issues); nil means Qdrant's 1.2.
	SlowQuerySecs *float64 `koanf:"slow_query_secs"`

	// Timeouts of the REST server, Shoal's own keys (Qdrant has none).
	// HTTPHeaderTimeoutSec bounds the time a client takes to send the
	// request line and headers, HTTPReadTimeoutSec the whole request with
	// its body, HTTPWriteTimeoutSec the time from the end of the headers to
	// the end of the response (the longest request a client can wait for),
	// and HTTPIdleTimeoutSec an idle keep-alive connection.
	HTTPHeaderTimeoutSec int `koanf:"http_header_timeout_sec"`
	HTTPReadTimeoutSec   int `koanf:"http_read_timeout_sec"`
	HTTPWriteTimeoutSec  int `koanf:"http_write_timeout_sec"`
	HTTPIdleTimeoutSec   int `koanf:"http_idle_timeout_sec"`
}

// ClusterConfig is the `cluster` section: distributed mode.
type ClusterConfig struct {
	Enabled bool `koanf:"enabled"`
	// PeerID nil lets the node pick a random id on first start.
	PeerID              *uint64 `koanf:"peer_id"`
	GRPCTimeoutMS       int     `koanf:"grpc_timeout_ms"`
	ConnectionTimeoutMS int     `koanf:"connection_timeout_ms"`

	// ReshardingEnabled turns on Qdrant's resharding API, which Shoal does
	// not have (see Unsupported).
	ReshardingEnabled bool `koanf:"resharding_enabled"`

	P2P       P2PConfig       `koanf:"p2p"`
	Consensus ConsensusConfig `koanf:"consensus"`
}

// P2PConfig is `cluster.p2p`: the internal peer-to-peer gRPC service.
type P2PConfig struct {
	// Host is the address the P2P listener binds (Shoal's own key);
	// empty means service.host.
	Host string `koanf:"host"`
	// Port nil is only valid while the cluster is disabled.
	Port               *int `koanf:"port"`
	ConnectionPoolSize int  `koanf:"connection_pool_size"`
	EnableTLS          bool `koanf:"enable_tls"`
}

// ConsensusConfig is `cluster.consensus`: the raft driver.
type ConsensusConfig struct {
	MaxMessageQueueSize int `koanf:"max_message_queue_size"`
	TickPeriodMS        int `koanf:"tick_period_ms"`
	BootstrapTimeoutSec int `koanf:"bootstrap_timeout_sec"`
	MessageTimeoutTicks int `koanf:"message_timeout_ticks"`
	// CompactWALEntries of 0 disables raft log compaction.
	CompactWALEntries int `koanf:"compact_wal_entries"`
}

// LoggerConfig is the `logger` section. Shoal logs to stderr only.
type LoggerConfig struct {
	OnDisk LoggerOnDiskConfig `koanf:"on_disk"`
}

// LoggerOnDiskConfig is `logger.on_disk`: Qdrant's log file, which Shoal
// does not write (see Unsupported).
type LoggerOnDiskConfig struct {
	Enabled bool `koanf:"enabled"`
}

// AuditConfig is the `audit` section: Qdrant's audit log, which Shoal does
// not write (see Unsupported).
type AuditConfig struct {
	Enabled bool `koanf:"enabled"`
}

// TLSConfig is the `tls` section, read when service.enable_tls or
// cluster.p2p.enable_tls is set.
type TLSConfig struct {
	Cert   string `koanf:"cert"`
	Key    string `koanf:"key"`
	CACert string `koanf:"ca_cert"`
	// CertTTLSec nil disables certificate reloading.
	CertTTLSec *int `koanf:"cert_ttl"`
}

// Default returns the built-in defaults: the values of Qdrant's shipped
// config/config.yaml, and of its code where that file is silent. Every call
// returns fresh pointers.
func Default() *Config {
	return &Config{
		LogLevel: "INFO",
		Storage: StorageConfig{
			StoragePath:     "./storage",
			SnapshotsPath:   "./snapshots",
			OnDiskPayload:   true,
			NodeType:        "Normal",
			SnapshotsConfig: SnapshotsConfig{SnapshotsStorage: "local"},
			WAL:             WALConfig{WALCapacityMB: 32, WALSegmentsAhead: 0},
			Optimizers: OptimizersConfig{
				DeletedThreshold:      0.2,
				VacuumMinVectorNumber: 1000,
				IndexingThresholdKB:   ptr(10000),
				FlushIntervalSec:      5,
			},
			HNSWIndex: HNSWConfig{
				M:                   16,
				EfConstruct:         100,
				FullScanThresholdKB: 10000,
			},
			Performance: PerformanceConfig{IncomingShardTransfersLimit: ptr(1), OutgoingShardTransfersLimit: ptr(1)},
		},
		Service: ServiceConfig{
			Host:             "0.0.0.0",
			HTTPPort:         6333,
			GRPCPort:         ptr(6334),
			MaxRequestSizeMB: 32,
			MaxWorkers:       ptr(0),
			EnableCORS:       true,

			HTTPHeaderTimeoutSec: 30,
			HTTPReadTimeoutSec:   600,
			HTTPWriteTimeoutSec:  600,
			HTTPIdleTimeoutSec:   120,
		},
		Cluster: ClusterConfig{
			GRPCTimeoutMS:       10_000,
			ConnectionTimeoutMS: 1_000,
			P2P:                 P2PConfig{Port: ptr(6335), ConnectionPoolSize: 1},
			Consensus: ConsensusConfig{
				MaxMessageQueueSize: 100,
				TickPeriodMS:        100,
				BootstrapTimeoutSec: 15,
				MessageTimeoutTicks: 10,
				CompactWALEntries:   128,
			},
		},
		TLS: TLSConfig{
			Cert:       "./tls/cert.pem",
			Key:        "./tls/key.pem",
			CACert:     "./tls/cacert.pem",
			CertTTLSec: ptr(3600),
		},
	}
}

// TickPeriod is cluster.consensus.tick_period_ms as a duration.
func (c ConsensusConfig) TickPeriod() time.Duration {
	return time.Duration(c.TickPeriodMS) * time.Millisecond
}

// BootstrapTimeout is cluster.consensus.bootstrap_timeout_sec as a duration.
func (c ConsensusConfig) BootstrapTimeout() time.Duration {
	return time.Duration(c.BootstrapTimeoutSec) * time.Second
}

// GRPCTimeout is cluster.grpc_timeout_ms as a duration.
func (c ClusterConfig) GRPCTimeout() time.Duration {
	return time.Duration(c.GRPCTimeoutMS) * time.Millisecond
}

// ConnectionTimeout is cluster.connection_timeout_ms as a duration.
func (c ClusterConfig) ConnectionTimeout() time.Duration {
	return time.Duration(c.ConnectionTimeoutMS) * time.Millisecond
}

// HeaderTimeout is service.http_header_timeout_sec as a duration.
func (s ServiceConfig) HeaderTimeout() time.Duration {
	return time.Duration(s.HTTPHeaderTimeoutSec) * time.Second
}

// ReadTimeout is service.http_read_timeout_sec as a duration.
func (s ServiceConfig) ReadTimeout() time.Duration {
	return time.Duration(s.HTTPReadTimeoutSec) * time.Second
}

// SearchTimeout is storage.performance.search_timeout_sec as a duration,
// the bound of reads that give no ?timeout=; 0 when unset (no bound).
func (p PerformanceConfig) SearchTimeout() time.Duration {
	if p.SearchTimeoutSec == nil {
		return 0
	}
	return time.Duration(*p.SearchTimeoutSec) * time.Second
}

// WriteTimeout is service.http_write_timeout_sec as a duration.
func (s ServiceConfig) WriteTimeout() time.Duration {
	return time.Duration(s.HTTPWriteTimeoutSec) * time.Second
}

// IdleTimeout is service.http_idle_timeout_sec as a duration.
func (s ServiceConfig) IdleTimeout() time.Duration {
	return time.Duration(s.HTTPIdleTimeoutSec) * time.Second
}

// SlowQuery is service.slow_query_secs as a duration, 0 when unset.
func (s ServiceConfig) SlowQuery() time.Duration {
	if s.SlowQuerySecs == nil || *s.SlowQuerySecs <= 0 || math.IsNaN(*s.SlowQuerySecs) {
		return 0
	}
	return time.Duration(min(*s.SlowQuerySecs, 1e9) * float64(time.Second))
}

// MaxRequestSizeBytes is service.max_request_size_mb in bytes.
func (s ServiceConfig) MaxRequestSizeBytes() int64 {
	return int64(s.MaxRequestSizeMB) << 20
}

func ptr[T any](v T) *T { return &v }
