package collection

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// Distance is a vector metric, re-exported so that callers configure
// collections without importing the kernels.
type Distance = vector.Distance

// The distances.
const (
	Cosine    = vector.Cosine
	Dot       = vector.Dot
	Euclid    = vector.Euclid
	Manhattan = vector.Manhattan
)

// VectorParams configures one dense vector. Fields this issue does not act
// on are stored and echoed back.
type VectorParams struct {
	Size               uint64          `json:"size"`
	Distance           vector.Distance `json:"distance"`
	HnswConfig         *HnswConfigDiff `json:"hnsw_config,omitempty"`
	QuantizationConfig json.RawMessage `json:"quantization_config,omitempty"`
	OnDisk             *bool           `json:"on_disk,omitempty"`
	Memory             *Memory         `json:"memory,omitempty"`
	Datatype           *string         `json:"datatype,omitempty"`
	MultivectorConfig  *MultiVecConfig `json:"multivector_config,omitempty"`
}

// IsMulti reports whether the vector holds multivectors (it has a
// multivector_config): points give it any positive number of sub-vectors
// of Size each, compared by max_sim, and carry them flattened
// (point.Vectors) everywhere below the APIs.
func (p VectorParams) IsMulti() bool { return p.MultivectorConfig != nil }

// MultiVecConfig is Qdrant's MultiVectorConfig: how the sub-vectors of
// two multivectors are compared. max_sim, the one comparator, is the sum
// over the query's sub-vectors of their best similarity among the point's.
type MultiVecConfig struct {
	Comparator string `json:"comparator"`
}

// MaxSim is the one MultiVectorComparator.
const MaxSim = "max_sim"

// UnmarshalJSON accepts Qdrant's MultiVectorConfig: an object whose
// comparator is "max_sim" (other fields are ignored, as serde does).
func (m *MultiVecConfig) UnmarshalJSON(b []byte) error {
	var in struct {
		Comparator *string `json:"comparator"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("multivector_config: expected an object with a comparator: %w", err)
	}
	switch {
	case in.Comparator == nil:
		return fmt.Errorf("multivector_config: missing field `comparator`")
	case *in.Comparator != MaxSim:
		return fmt.Errorf("multivector_config.comparator: unknown variant `%s`, expected `%s`", *in.Comparator, MaxSim)
	}
	*m = MultiVecConfig{Comparator: MaxSim}
	return nil
}

// UnmarshalJSON reads VectorParams with Qdrant's alias quantization for
// quantization_config (both at once are a duplicate field, as in serde).
func (p *VectorParams) UnmarshalJSON(b []byte) error {
	type plain VectorParams
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	var alias struct {
		Quantization json.RawMessage `json:"quantization"`
	}
	if err := json.Unmarshal(b, &alias); err != nil {
		return err
	}
	if len(alias.Quantization) > 0 {
		if len(p.QuantizationConfig) > 0 {
			return fmt.Errorf("duplicate field `quantization_config`")
		}
		p.QuantizationConfig = alias.Quantization
	}
	return nil
}

// VectorsConfig is either one unnamed vector or a map of named vectors.
type VectorsConfig struct {
	Named map[string]VectorParams // the unnamed vector is under point.DefaultVector
	Multi bool                    // true when configured as a map
}

// MarshalJSON writes VectorParams for a single unnamed vector, else a map.
func (v VectorsConfig) MarshalJSON() ([]byte, error) {
	if !v.Multi {
		return json.Marshal(v.Named[point.DefaultVector])
	}
	if v.Named == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(v.Named)
}

// UnmarshalJSON accepts both forms, as Qdrant's untagged enum does.
func (v *VectorsConfig) UnmarshalJSON(b []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return fmt.Errorf("vectors: expected an object: %w", err)
	}
	_, hasSize := probe["size"]
	_, hasDist := probe["distance"]
	if hasSize || hasDist {
		var p VectorParams
		err := strictField(b, &p)
		if err == nil {
			*v = VectorsConfig{Named: map[string]VectorParams{point.DefaultVector: p}}
			return nil
		}
		// Vectors may be named "size" or "distance": like the untagged
		// enum, try the map form before failing.
		if named, nerr := decodeNamed(probe); nerr == nil {
			*v = VectorsConfig{Named: named, Multi: true}
			return nil
		}
		return fmt.Errorf("vectors: %w", err)
	}
	named, err := decodeNamed(probe)
	if err != nil {
		return err
	}
	*v = VectorsConfig{Named: named, Multi: true}
	return nil
}

func decodeNamed(probe map[string]json.RawMessage) (map[string]VectorParams, error) {
	named := map[string]VectorParams{}
	for name, raw := range probe {
		var p VectorParams
		if err := strictField(raw, &p); err != nil {
			return nil, fmt.Errorf("vectors.%s: %w", name, err)
		}
		named[name] = p
	}
	return named, nil
}

func strictField(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	return dec.Decode(v)
}

// Names returns the vector names in sorted order.
func (v VectorsConfig) Names() []string {
	out := make([]string, 0, len(v.Named))
	for n := range v.Named {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// HnswConfig is the effective HNSW configuration.
type HnswConfig struct {
	M                  uint64  `json:"m"`
	EfConstruct        uint64  `json:"ef_construct"`
	FullScanThreshold  uint64  `json:"full_scan_threshold"`
	MaxIndexingThreads uint64  `json:"max_indexing_threads"`
	OnDisk             *bool   `json:"on_disk,omitempty"`
	Memory             *Memory `json:"memory,omitempty"`
	PayloadM           *uint64 `json:"payload_m,omitempty"`
	// InlineStorage is stored and echoed; Shoal's graphs do not inline
	// vectors, and Qdrant ignores it (with a warning, warnings.go) without
	// quantization or with multivectors.
	InlineStorage *bool `json:"inline_storage,omitempty"`
}

// HnswConfigDiff overrides some HNSW fields.
type HnswConfigDiff struct {
	M                  *uint64 `json:"m,omitempty"`
	EfConstruct        *uint64 `json:"ef_construct,omitempty"`
	FullScanThreshold  *uint64 `json:"full_scan_threshold,omitempty"`
	MaxIndexingThreads *uint64 `json:"max_indexing_threads,omitempty"`
	OnDisk             *bool   `json:"on_disk,omitempty"`
	Memory             *Memory `json:"memory,omitempty"`
	PayloadM           *uint64 `json:"payload_m,omitempty"`
	InlineStorage      *bool   `json:"inline_storage,omitempty"`
}

// Apply returns c with d's fields set.
func (c HnswConfig) Apply(d *HnswConfigDiff) HnswConfig {
	if d == nil {
		return c
	}
	set(&c.M, d.M)
	set(&c.EfConstruct, d.EfConstruct)
	set(&c.FullScanThreshold, d.FullScanThreshold)
	set(&c.MaxIndexingThreads, d.MaxIndexingThreads)
	if d.OnDisk != nil {
		c.OnDisk = d.OnDisk
	}
	if d.Memory != nil {
		c.Memory = d.Memory
	}
	if d.PayloadM != nil {
		c.PayloadM = d.PayloadM
	}
	if d.InlineStorage != nil {
		c.InlineStorage = d.InlineStorage
	}
	return c
}

// OptimizersConfig is the effective optimizer configuration.
type OptimizersConfig struct {
	DeletedThreshold       float64 `json:"deleted_threshold"`
	VacuumMinVectorNumber  uint64  `json:"vacuum_min_vector_number"`
	DefaultSegmentNumber   uint64  `json:"default_segment_number"`
	MaxSegmentSize         *uint64 `json:"max_segment_size"`
	MemmapThreshold        *uint64 `json:"memmap_threshold"`
	IndexingThreshold      *uint64 `json:"indexing_threshold"`
	FlushIntervalSec       uint64  `json:"flush_interval_sec"`
	MaxOptimizationThreads *uint64 `json:"max_optimization_threads"`
	// PreventUnoptimized (Qdrant's prevent_unoptimized): points written
	// past the indexing threshold of an appendable segment are deferred,
	// hidden from reads until their segment is optimized (deferred.go).
	PreventUnoptimized *bool `json:"prevent_unoptimized"`
}

// OptimizersConfigDiff overrides some optimizer fields.
type OptimizersConfigDiff struct {
	DeletedThreshold       *float64        `json:"deleted_threshold,omitempty"`
	VacuumMinVectorNumber  *uint64         `json:"vacuum_min_vector_number,omitempty"`
	DefaultSegmentNumber   *uint64         `json:"default_segment_number,omitempty"`
	MaxSegmentSize         *uint64         `json:"max_segment_size,omitempty"`
	MemmapThreshold        *uint64         `json:"memmap_threshold,omitempty"`
	IndexingThreshold      *uint64         `json:"indexing_threshold,omitempty"`
	FlushIntervalSec       *uint64         `json:"flush_interval_sec,omitempty"`
	MaxOptimizationThreads json.RawMessage `json:"max_optimization_threads,omitempty"` // number or "auto"
	PreventUnoptimized     *bool           `json:"prevent_unoptimized,omitempty"`
}

// Apply returns c with d's fields set.
func (c OptimizersConfig) Apply(d *OptimizersConfigDiff) (OptimizersConfig, error) {
	if d == nil {
		return c, nil
	}
	if d.DeletedThreshold != nil {
		c.DeletedThreshold = *d.DeletedThreshold
	}
	set(&c.VacuumMinVectorNumber, d.VacuumMinVectorNumber)
	set(&c.DefaultSegmentNumber, d.DefaultSegmentNumber)
	setPtr(&c.MaxSegmentSize, d.MaxSegmentSize)
	setPtr(&c.MemmapThreshold, d.MemmapThreshold)
	setPtr(&c.IndexingThreshold, d.IndexingThreshold)
	set(&c.FlushIntervalSec, d.FlushIntervalSec)
	setPtr(&c.PreventUnoptimized, d.PreventUnoptimized)
	if len(d.MaxOptimizationThreads) > 0 {
		var n uint64
		var s string
		switch {
		case string(d.MaxOptimizationThreads) == "null":
			c.MaxOptimizationThreads = nil
		case json.Unmarshal(d.MaxOptimizationThreads, &n) == nil:
			c.MaxOptimizationThreads = &n
		case json.Unmarshal(d.MaxOptimizationThreads, &s) == nil && s == "auto":
			c.MaxOptimizationThreads = nil
		default:
			return c, fmt.Errorf("optimizers_config.max_optimization_threads: expected a number or \"auto\"")
		}
	}
	return c, nil
}

// WalConfig is the effective WAL configuration.
type WalConfig struct {
	WalCapacityMB    uint64 `json:"wal_capacity_mb"`
	WalSegmentsAhead uint64 `json:"wal_segments_ahead"`
	WalRetainClosed  uint64 `json:"wal_retain_closed"`
}

// WalConfigDiff overrides some WAL fields.
type WalConfigDiff struct {
	WalCapacityMB    *uint64 `json:"wal_capacity_mb,omitempty"`
	WalSegmentsAhead *uint64 `json:"wal_segments_ahead,omitempty"`
	WalRetainClosed  *uint64 `json:"wal_retain_closed,omitempty"`
}

// Apply returns c with d's fields set.
func (c WalConfig) Apply(d *WalConfigDiff) WalConfig {
	if d == nil {
		return c
	}
	set(&c.WalCapacityMB, d.WalCapacityMB)
	set(&c.WalSegmentsAhead, d.WalSegmentsAhead)
	set(&c.WalRetainClosed, d.WalRetainClosed)
	return c
}

// Params are the collection parameters.
type Params struct {
	Vectors                VectorsConfig `json:"vectors"`
	ShardNumber            uint32        `json:"shard_number"`
	ShardingMethod         *string       `json:"sharding_method,omitempty"`
	ReplicationFactor      uint32        `json:"replication_factor"`
	WriteConsistencyFactor uint32        `json:"write_consistency_factor"`
	ReadFanOutFactor       *uint32       `json:"read_fan_out_factor,omitempty"`
	OnDiskPayload          bool          `json:"on_disk_payload"`
	// Payload is the payload storage's placement, left out when unset
	// (memory.go).
	Payload *PayloadStorageParams `json:"payload,omitempty"`
	// SparseVectors are the sparse vectors by name (sparse.go); left out
	// when there are none, as Qdrant does.
	SparseVectors map[string]SparseVectorParams `json:"sparse_vectors,omitempty"`
}

// Config is a collection's whole configuration, shaped as Qdrant's
// CollectionConfig so it serves both persistence and the wire.
type Config struct {
	Params             Params           `json:"params"`
	HnswConfig         HnswConfig       `json:"hnsw_config"`
	OptimizerConfig    OptimizersConfig `json:"optimizer_config"`
	WalConfig          WalConfig        `json:"wal_config"`
	QuantizationConfig json.RawMessage  `json:"quantization_config"`
	StrictModeConfig   json.RawMessage  `json:"strict_mode_config,omitempty"`
	Metadata           point.Payload    `json:"metadata,omitempty"`
}

// Clone returns a deep copy through JSON (configs are small).
func (c *Config) Clone() (*Config, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode collection config: %w", err)
	}
	var out Config
	if err := point.DecodeJSON(b, &out); err != nil {
		return nil, fmt.Errorf("decode collection config: %w", err)
	}
	return &out, nil
}

// Defaults are the node-wide defaults a new collection starts from (the
// storage.* sections of the configuration file).
type Defaults struct {
	Hnsw          HnswConfig
	Optimizers    OptimizersConfig
	Wal           WalConfig
	OnDiskPayload bool
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func setPtr[T any](dst **T, src *T) {
	if src != nil {
		v := *src
		*dst = &v
	}
}

// QdrantDefaults are the collection defaults of Qdrant's built-in
// configuration (config/config.yaml), for callers without a configuration
// file such as the embedded API.
func QdrantDefaults() Defaults {
	indexing := uint64(10000)
	return Defaults{
		Hnsw:          HnswConfig{M: 16, EfConstruct: 100, FullScanThreshold: 10000},
		Optimizers:    OptimizersConfig{DeletedThreshold: 0.2, VacuumMinVectorNumber: 1000, IndexingThreshold: &indexing, FlushIntervalSec: 5},
		Wal:           WalConfig{WalCapacityMB: 32, WalRetainClosed: 1},
		OnDiskPayload: true,
	}
}

// Config values are Qdrant's usize and u64: any of them up to 2^64-1 is
// valid input. Turned into Go ints, byte counts or durations they must
// saturate rather than wrap: a wrapped value went negative and failed the
// shard's open (wal_capacity_mb 2^43) or would have sized a loop by 2^63.

// satInt converts a config value to an int, saturated at math.MaxInt.
func satInt(u uint64) int {
	if u > math.MaxInt {
		return math.MaxInt
	}
	return int(u)
}

// satMul returns u*unit (unit > 0), saturated at math.MaxInt64.
func satMul(u uint64, unit int64) int64 {
	if u > uint64(math.MaxInt64/unit) {
		return math.MaxInt64
	}
	return int64(u) * unit
}
