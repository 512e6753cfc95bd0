package collection

import (
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shoaldb/shoal/internal/index/payload"
	"github.com/shoaldb/shoal/internal/shard"
)

// Telemetry is Qdrant's CollectionTelemetry for one collection: its shards
// with every segment (sizes, indexed vectors, memory) and the optimizer's
// state and recent work.
type Telemetry struct {
	ID     string             `json:"id"`
	Shards []ReplicaTelemetry `json:"shards"`
}

// ReplicaTelemetry is Qdrant's ReplicaSetTelemetry.
type ReplicaTelemetry struct {
	ID              uint32            `json:"id"`
	Key             any               `json:"key"`
	Local           *ShardTelemetry   `json:"local"`
	Remote          []any             `json:"remote"`
	ReplicateStates map[string]string `json:"replicate_states"`
}

// ShardTelemetry is Qdrant's LocalShardTelemetry.
type ShardTelemetry struct {
	VariantName          string             `json:"variant_name"`
	Status               string             `json:"status"`
	TotalOptimizedPoints uint64             `json:"total_optimized_points"`
	VectorsSizeBytes     int64              `json:"vectors_size_bytes"`
	NumPoints            int                `json:"num_points"`
	NumVectors           int                `json:"num_vectors"`
	NumVectorsByName     map[string]int     `json:"num_vectors_by_name"`
	Segments             []SegmentTelemetry `json:"segments"`
	Optimizations        OptimizerTelemetry `json:"optimizations"`
	Progress             *OptimizerProgress `json:"shoal_optimization_progress,omitempty"`
}

// OptimizerProgress is a Shoal extension: how far the running optimization
// is (points linked into the graph being built).
type OptimizerProgress struct {
	Optimizer      string  `json:"optimizer"`
	Segments       int     `json:"segments"`
	Points         int     `json:"points"`
	Done           int64   `json:"done"`
	Total          int64   `json:"total"`
	RunningSeconds float64 `json:"running_seconds"`
}

// SegmentTelemetry is Qdrant's SegmentTelemetry.
type SegmentTelemetry struct {
	Info                SegmentInfo   `json:"info"`
	Config              SegmentConfig `json:"config"`
	VectorIndexSearches []any         `json:"vector_index_searches"`
	PayloadFieldIndices []any         `json:"payload_field_indices"`
}

// SegmentInfo is Qdrant's SegmentInfo, plus a memory breakdown per vector
// (a Shoal extension).
type SegmentInfo struct {
	UUID              string                       `json:"uuid"`
	SegmentType       string                       `json:"segment_type"`
	NumVectors        int                          `json:"num_vectors"`
	NumPoints         int                          `json:"num_points"`
	NumIndexedVectors int                          `json:"num_indexed_vectors"`
	NumDeletedVectors int                          `json:"num_deleted_vectors"`
	VectorsSizeBytes  int64                        `json:"vectors_size_bytes"`
	PayloadsSizeBytes int64                        `json:"payloads_size_bytes"`
	RAMUsageBytes     int64                        `json:"ram_usage_bytes"`
	DiskUsageBytes    int64                        `json:"disk_usage_bytes"`
	IsAppendable      bool                         `json:"is_appendable"`
	IndexSchema       map[string]payload.IndexInfo `json:"index_schema"`
	VectorData        map[string]VectorDataInfo    `json:"vector_data"`
	Memory            map[string]VectorMemory      `json:"shoal_memory"`
}

// VectorDataInfo is Qdrant's VectorDataInfo.
type VectorDataInfo struct {
	NumVectors        int `json:"num_vectors"`
	NumIndexedVectors int `json:"num_indexed_vectors"`
	NumDeletedVectors int `json:"num_deleted_vectors"`
}

// VectorMemory is the memory one vector's forms hold in a segment.
type VectorMemory struct {
	Datatype       string `json:"datatype"`
	VectorsBytes   int64  `json:"vectors_bytes"`
	GraphBytes     int64  `json:"graph_bytes"`
	Quantization   string `json:"quantization,omitempty"`
	QuantizedBytes int64  `json:"quantized_bytes"`
	OnDisk         bool   `json:"on_disk"` // vectors_bytes are in a mapped file, not in RAM
}

// SegmentConfig is Qdrant's SegmentConfig.
type SegmentConfig struct {
	VectorData         map[string]VectorDataConfig `json:"vector_data"`
	PayloadStorageType map[string]string           `json:"payload_storage_type"`
}

// VectorDataConfig is Qdrant's VectorDataConfig.
type VectorDataConfig struct {
	Size        uint64         `json:"size"`
	Distance    string         `json:"distance"`
	StorageType string         `json:"storage_type"`
	Index       map[string]any `json:"index"`
}

// OptimizerTelemetry is Qdrant's OptimizerTelemetry.
type OptimizerTelemetry struct {
	Status        any                `json:"status"`
	Optimizations OperationStats     `json:"optimizations"`
	Log           []TrackerTelemetry `json:"log"`
}

// OperationStats is the count part of Qdrant's OperationDurationStatistics.
type OperationStats struct {
	Count     int64 `json:"count"`
	FailCount int64 `json:"fail_count"`
}

// TrackerTelemetry is Qdrant's TrackerTelemetry.
type TrackerTelemetry struct {
	Name         string   `json:"name"`
	UUID         string   `json:"uuid"`
	SegmentIDs   []uint64 `json:"segment_ids"`
	SegmentUUIDs []string `json:"segment_uuids"`
	Status       any      `json:"status"`
	StartAt      string   `json:"start_at"`
	EndAt        *string  `json:"end_at"`
}

// segmentUUID names a segment stably: Shoal numbers segments per shard.
func segmentUUID(dir string, id uint64) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(dir+"#"+strconv.FormatUint(id, 10))).String()
}

// Telemetry describes the collection's shards for GET /telemetry: each
// replica set with its local replica and the states of all.
func (c *Collection) Telemetry() Telemetry {
	out := Telemetry{ID: c.name, Shards: []ReplicaTelemetry{}}
	for _, rs := range c.layout().sets {
		rt := ReplicaTelemetry{ID: rs.id, Remote: []any{}, ReplicateStates: map[string]string{}}
		if sh, _ := rs.Local(); sh != nil {
			rt.Local = c.shardTelemetry(sh)
		}
		out.Shards = append(out.Shards, rt)
	}
	return out
}

// shardTelemetry is Qdrant's LocalShardTelemetry of one local replica.
func (c *Collection) shardTelemetry(sh *shard.Shard) *ShardTelemetry {
	params := c.vectorParams()
	cfg, _ := c.Config()
	dir := sh.Dir()
	var segs []shard.SegmentDetail
	sh.View(func(r *shard.Reader) { segs = r.SegmentDetails(dir) })
	opt := sh.Optimizer()

	st := &ShardTelemetry{VariantName: "local_shard", Status: "green", NumVectorsByName: map[string]int{}, TotalOptimizedPoints: uint64(opt.OptimizedPoints)}
	switch {
	case opt.Running || opt.Pending && !opt.Disabled && opt.Error == "":
		st.Status = "yellow"
	case opt.Pending:
		st.Status = "grey"
	}
	for _, sd := range segs {
		info := SegmentInfo{
			UUID: segmentUUID(dir, sd.ID), SegmentType: "plain", NumPoints: sd.Points, NumDeletedVectors: sd.Deleted,
			IsAppendable: sd.Appendable, DiskUsageBytes: sd.DiskBytes, IndexSchema: map[string]payload.IndexInfo{},
			VectorData: map[string]VectorDataInfo{}, Memory: map[string]VectorMemory{},
		}
		conf := SegmentConfig{VectorData: map[string]VectorDataConfig{}, PayloadStorageType: map[string]string{"type": "in_ram_mmap"}}
		for name, cs := range sd.Columns {
			info.NumVectors += cs.Vectors
			info.NumIndexedVectors += cs.Indexed
			info.VectorsSizeBytes += cs.VectorBytes
			info.RAMUsageBytes += cs.GraphBytes + cs.QuantizedBytes
			if !cs.OnDisk {
				info.RAMUsageBytes += cs.VectorBytes
			}
			info.VectorData[name] = VectorDataInfo{NumVectors: cs.Vectors, NumIndexedVectors: cs.Indexed}
			info.Memory[name] = VectorMemory{Datatype: string(cs.Datatype), VectorsBytes: cs.VectorBytes, GraphBytes: cs.GraphBytes,
				Quantization: cs.Quantization, QuantizedBytes: cs.QuantizedBytes, OnDisk: cs.OnDisk}
			st.NumVectorsByName[name] += cs.Vectors
			st.NumVectors += cs.Vectors
			st.VectorsSizeBytes += cs.VectorBytes
			index := map[string]any{"type": "plain", "options": map[string]any{}}
			if cs.GraphBytes > 0 {
				info.SegmentType = "indexed"
				h := cfg.HnswConfig.Apply(params[name].HnswConfig)
				index = map[string]any{"type": "hnsw", "options": h}
			}
			p := params[name]
			storage := "InRamChunkedMmap"
			if cs.OnDisk {
				storage = "Mmap"
			}
			conf.VectorData[name] = VectorDataConfig{Size: p.Size, Distance: string(p.Distance), StorageType: storage, Index: index}
		}
		for k, ix := range sd.Indexes {
			info.IndexSchema[k] = ix.Schema.Info(ix.Points)
		}
		st.NumPoints += sd.Points
		st.Segments = append(st.Segments, SegmentTelemetry{Info: info, Config: conf, VectorIndexSearches: []any{}, PayloadFieldIndices: []any{}})
	}
	var status any = "ok"
	if opt.Error != "" {
		status = map[string]string{"error": opt.Error}
	}
	st.Optimizations = OptimizerTelemetry{Status: status, Optimizations: OperationStats{Count: opt.Completed, FailCount: opt.Failed}, Log: []TrackerTelemetry{}}
	for _, t := range opt.Log {
		tt := TrackerTelemetry{Name: t.Kind, UUID: segmentUUID(dir, t.NewSegment), SegmentIDs: t.Segments, Status: trackerStatus(t), StartAt: t.Start.UTC().Format(time.RFC3339Nano)}
		for _, id := range t.Segments {
			tt.SegmentUUIDs = append(tt.SegmentUUIDs, segmentUUID(dir, id))
		}
		if !t.End.IsZero() {
			e := t.End.UTC().Format(time.RFC3339Nano)
			tt.EndAt = &e
		}
		st.Optimizations.Log = append(st.Optimizations.Log, tt)
	}
	if opt.Running {
		st.Progress = &OptimizerProgress{Optimizer: opt.Kind, Segments: opt.Segments, Points: opt.Points, Done: opt.Done, Total: opt.Total, RunningSeconds: opt.RunningSeconds}
	}
	return st
}
