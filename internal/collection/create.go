package collection

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shoaldb/shoal/internal/collection/strict"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
)

// CreateRequest is the body of PUT /collections/{name}.
type CreateRequest struct {
	Vectors                *VectorsConfig                `json:"vectors"`
	ShardNumber            *uint32                       `json:"shard_number"`
	ShardingMethod         *string                       `json:"sharding_method"`
	ReplicationFactor      *uint32                       `json:"replication_factor"`
	WriteConsistencyFactor *uint32                       `json:"write_consistency_factor"`
	OnDiskPayload          *bool                         `json:"on_disk_payload"`
	Payload                *PayloadStorageParams         `json:"payload"`
	HnswConfig             *HnswConfigDiff               `json:"hnsw_config"`
	WalConfig              *WalConfigDiff                `json:"wal_config"`
	OptimizersConfig       *OptimizersConfigDiff         `json:"optimizers_config"`
	QuantizationConfig     json.RawMessage               `json:"quantization_config"`
	SparseVectors          map[string]SparseVectorParams `json:"sparse_vectors"`
	StrictModeConfig       json.RawMessage               `json:"strict_mode_config"`
	Metadata               point.Payload                 `json:"metadata"`
	aliases
}

// UpdateRequest is the body of PATCH /collections/{name}.
type UpdateRequest struct {
	Vectors            map[string]VectorParamsDiff   `json:"vectors"`
	OptimizersConfig   *OptimizersConfigDiff         `json:"optimizers_config"`
	Params             *ParamsDiff                   `json:"params"`
	HnswConfig         *HnswConfigDiff               `json:"hnsw_config"`
	QuantizationConfig json.RawMessage               `json:"quantization_config"`
	SparseVectors      map[string]SparseVectorParams `json:"sparse_vectors"`
	StrictModeConfig   json.RawMessage               `json:"strict_mode_config"`
	Metadata           point.Payload                 `json:"metadata"`
	aliases
}

// aliases are the other names Qdrant's CreateCollection and
// UpdateCollection accept for two keys (serde aliases): optimizer_config
// for optimizers_config and quantization for quantization_config. Build
// and Apply fold them into the keys; a body with both names of one key is
// refused, as serde refuses a duplicate field.
type aliases struct {
	OptimizerConfig json.RawMessage `json:"optimizer_config"`
	Quantization    json.RawMessage `json:"quantization"`
}

// resolve folds the aliases into the fields they name.
func (a *aliases) resolve(optimizers **OptimizersConfigDiff, quantization *json.RawMessage) error {
	if len(a.OptimizerConfig) > 0 {
		if *optimizers != nil {
			return &FormatError{Msg: "duplicate field `optimizers_config`"}
		}
		if isSet(a.OptimizerConfig) {
			var d OptimizersConfigDiff
			if err := point.DecodeJSON(a.OptimizerConfig, &d); err != nil {
				return &FormatError{Msg: "optimizer_config: " + err.Error()}
			}
			*optimizers = &d
		}
	}
	if len(a.Quantization) > 0 {
		if len(*quantization) > 0 {
			return &FormatError{Msg: "duplicate field `quantization_config`"}
		}
		*quantization = a.Quantization
	}
	*a = aliases{}
	return nil
}

// VectorParamsDiff updates one vector's storage parameters; quantization
// is Qdrant's alias of quantization_config.
type VectorParamsDiff struct {
	HnswConfig         *HnswConfigDiff `json:"hnsw_config"`
	QuantizationConfig json.RawMessage `json:"quantization_config"`
	Quantization       json.RawMessage `json:"quantization"`
	OnDisk             *bool           `json:"on_disk"`
	Memory             *Memory         `json:"memory"`
}

// ParamsDiff updates collection parameters.
type ParamsDiff struct {
	ReplicationFactor      *uint32               `json:"replication_factor"`
	WriteConsistencyFactor *uint32               `json:"write_consistency_factor"`
	ReadFanOutFactor       *uint32               `json:"read_fan_out_factor"`
	OnDiskPayload          *bool                 `json:"on_disk_payload"`
	Payload                *PayloadStorageParams `json:"payload"`
}

// validation collects field errors in Qdrant's "field: message" style.
type validation []string

func (v *validation) min(field string, got, min uint64) {
	if got < min {
		*v = append(*v, fmt.Sprintf("%s: value %d invalid, must be %d or larger", field, got, min))
	}
}

func (v *validation) max(field string, got, max uint64) {
	if got > max {
		*v = append(*v, fmt.Sprintf("%s: value %d invalid, must be %d or smaller", field, got, max))
	}
}

// strict adds the validation errors of a strict_mode_config to v and
// returns any other error (a value of the wrong type) as the collection's.
func (v *validation) strict(err error) error {
	var ve *strict.ValidationError
	if errors.As(err, &ve) {
		*v = append(*v, ve.Fields...)
		return nil
	}
	return strictError(err)
}

func (v validation) err() error {
	if len(v) == 0 {
		return nil
	}
	return &ValidationError{Fields: v}
}

// ValidationError is a request that parsed but is out of range (HTTP 422).
type ValidationError struct{ Fields []string }

func (e *ValidationError) Error() string { return strings.Join(e.Fields, ", ") }

func (v *validation) hnswDiff(prefix string, d *HnswConfigDiff) {
	if d == nil {
		return
	}
	if d.EfConstruct != nil {
		v.min(prefix+"ef_construct", *d.EfConstruct, 4)
	}
	if d.FullScanThreshold != nil {
		v.min(prefix+"full_scan_threshold", *d.FullScanThreshold, 10)
	}
}

func (v *validation) optimizersDiff(d *OptimizersConfigDiff) {
	if d == nil {
		return
	}
	if d.DeletedThreshold != nil && (*d.DeletedThreshold < 0 || *d.DeletedThreshold > 1) {
		*v = append(*v, fmt.Sprintf("optimizers_config.deleted_threshold: value %v invalid, must be in range [0, 1]", *d.DeletedThreshold))
	}
	if d.VacuumMinVectorNumber != nil {
		v.min("optimizers_config.vacuum_min_vector_number", *d.VacuumMinVectorNumber, 100)
	}
	if d.MaxSegmentSize != nil {
		v.min("optimizers_config.max_segment_size", *d.MaxSegmentSize, 1)
	}
}

func (v *validation) vectors(vc *VectorsConfig) {
	if vc == nil {
		return
	}
	for _, name := range vc.Names() {
		p := vc.Named[name]
		prefix := "vectors."
		if vc.Multi {
			prefix += name + "."
		}
		v.min(prefix+"size", p.Size, 1)
		v.max(prefix+"size", p.Size, 65536)
		if p.Distance == "" {
			*v = append(*v, prefix+"distance: missing field `distance`")
		}
		v.notPinned(prefix+"memory", p.Memory, msgPinnedDense)
		v.hnswDiff(prefix+"hnsw_config.", p.HnswConfig)
		if p.Datatype != nil {
			if _, err := segment.ParseDatatype(*p.Datatype); err != nil || *p.Datatype == "" {
				*v = append(*v, fmt.Sprintf("%sdatatype: unknown variant `%s`, expected one of `float32`, `uint8`, `float16`, `turbo4`", prefix, *p.Datatype))
			}
		}
	}
}

func nonZero32(v *validation, field string, p *uint32) {
	if p != nil {
		v.min(field, uint64(*p), 1)
	}
}

// MaxShardNumber bounds shard_number, as the cluster's metadata does
// (internal/cluster.MaxShardNumber): Qdrant sets no upper bound, but every
// shard is a directory, a WAL and an update worker, so a typo must not
// open four billion of them.
const MaxShardNumber = 65536

// Build validates the request and returns the collection configuration,
// filling unset fields from the node defaults as Qdrant does.
func (r *CreateRequest) Build(d Defaults) (*Config, error) {
	if err := r.aliases.resolve(&r.OptimizersConfig, &r.QuantizationConfig); err != nil {
		return nil, err
	}
	var v validation
	v.vectors(r.Vectors)
	nonZero32(&v, "shard_number", r.ShardNumber)
	if r.ShardNumber != nil {
		v.max("shard_number", uint64(*r.ShardNumber), MaxShardNumber)
	}
	nonZero32(&v, "replication_factor", r.ReplicationFactor)
	nonZero32(&v, "write_consistency_factor", r.WriteConsistencyFactor)
	v.hnswDiff("hnsw_config.", r.HnswConfig)
	v.optimizersDiff(r.OptimizersConfig)
	if r.WalConfig != nil && r.WalConfig.WalCapacityMB != nil {
		v.min("wal_config.wal_capacity_mb", *r.WalConfig.WalCapacityMB, 1)
	}
	if r.Payload != nil {
		v.notPinned("payload.memory", r.Payload.Memory, msgPinnedPayload)
	}
	if err := r.checkQuantization(&v); err != nil {
		return nil, err
	}
	strictCfg, err := strict.Normalize(r.StrictModeConfig)
	if err := v.strict(err); err != nil {
		return nil, err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := checkSparseNames(r.Vectors, r.SparseVectors); err != nil {
		return nil, err
	}
	cfg := &Config{
		Params: Params{
			Vectors:                VectorsConfig{Named: map[string]VectorParams{}, Multi: true},
			ShardNumber:            1,
			ReplicationFactor:      1,
			WriteConsistencyFactor: 1,
			OnDiskPayload:          d.OnDiskPayload,
			ShardingMethod:         r.ShardingMethod,
			Payload:                r.Payload,
		},
		HnswConfig: d.Hnsw.Apply(r.HnswConfig),
		WalConfig:  d.Wal.Apply(r.WalConfig),
		Metadata:   r.Metadata,
	}
	if len(r.SparseVectors) > 0 {
		cfg.Params.SparseVectors = r.SparseVectors
	}
	if r.Vectors != nil {
		cfg.Params.Vectors = *r.Vectors
	}
	set(&cfg.Params.ShardNumber, r.ShardNumber)
	set(&cfg.Params.ReplicationFactor, r.ReplicationFactor)
	set(&cfg.Params.WriteConsistencyFactor, r.WriteConsistencyFactor)
	set(&cfg.Params.OnDiskPayload, r.OnDiskPayload)
	if cfg.OptimizerConfig, err = d.Optimizers.Apply(r.OptimizersConfig); err != nil {
		return nil, point.Errorf(point.KindBadInput, "%v", err)
	}
	if isSet(r.QuantizationConfig) {
		cfg.QuantizationConfig = r.QuantizationConfig
	}
	cfg.StrictModeConfig = strictCfg
	return cfg, nil
}

// checkQuantization validates the collection's and each vector's
// quantization_config.
func (r *CreateRequest) checkQuantization(v *validation) error {
	if isSet(r.QuantizationConfig) {
		if err := checkQuantization(v, "quantization_config", r.QuantizationConfig); err != nil {
			return err
		}
	}
	if r.Vectors == nil {
		return nil
	}
	for _, name := range r.Vectors.Names() {
		p := r.Vectors.Named[name]
		if !isSet(p.QuantizationConfig) {
			continue
		}
		field := "vectors.quantization_config"
		if r.Vectors.Multi {
			field = "vectors." + name + ".quantization_config"
		}
		if err := checkQuantization(v, field, p.QuantizationConfig); err != nil {
			return err
		}
	}
	return nil
}

func isSet(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// Apply validates an update and applies it to a copy of cfg.
func (r *UpdateRequest) Apply(cfg *Config) (*Config, error) {
	if err := r.aliases.resolve(&r.OptimizersConfig, &r.QuantizationConfig); err != nil {
		return nil, err
	}
	for name, d := range r.Vectors {
		if len(d.Quantization) > 0 {
			if len(d.QuantizationConfig) > 0 {
				return nil, &FormatError{Msg: "vectors." + name + ": duplicate field `quantization_config`"}
			}
			d.QuantizationConfig, d.Quantization = d.Quantization, nil
			r.Vectors[name] = d
		}
	}
	var v validation
	v.hnswDiff("hnsw_config.", r.HnswConfig)
	v.optimizersDiff(r.OptimizersConfig)
	if r.Params != nil {
		nonZero32(&v, "params.replication_factor", r.Params.ReplicationFactor)
		nonZero32(&v, "params.write_consistency_factor", r.Params.WriteConsistencyFactor)
		if r.Params.Payload != nil {
			v.notPinned("params.payload.memory", r.Params.Payload.Memory, msgPinnedPayload)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Vectors)) {
		d := r.Vectors[name]
		v.notPinned("vectors."+name+".memory", d.Memory, msgPinnedDense)
		v.hnswDiff("vectors."+name+".hnsw_config.", d.HnswConfig)
		if isSet(d.QuantizationConfig) && !isDisabled(d.QuantizationConfig) {
			if err := checkQuantization(&v, "vectors."+name+".quantization_config", d.QuantizationConfig); err != nil {
				return nil, err
			}
		}
	}
	if isSet(r.QuantizationConfig) && !isDisabled(r.QuantizationConfig) {
		if err := checkQuantization(&v, "quantization_config", r.QuantizationConfig); err != nil {
			return nil, err
		}
	}
	if _, err := strict.Parse(r.StrictModeConfig); err != nil {
		if err := v.strict(err); err != nil {
			return nil, err
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	out, err := cfg.Clone()
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(r.SparseVectors)) {
		d := r.SparseVectors[name]
		p, ok := out.Params.SparseVectors[name]
		if !ok {
			return nil, errVectorName(name)
		}
		// Qdrant's update_sparse_vectors_from_other: a modifier replaces
		// the one set, index fields update those of the index.
		if d.Modifier != nil {
			p.Modifier = d.Modifier
		}
		if d.Index != nil {
			if p.Index == nil {
				p.Index = &SparseIndexParams{}
			}
			p.Index.update(d.Index)
		}
		out.Params.SparseVectors[name] = p
	}
	for name, d := range r.Vectors {
		p, ok := out.Params.Vectors.Named[name]
		if !ok {
			return nil, point.Errorf(point.KindBadInput, "Not existing vector name error: %s", name)
		}
		if d.HnswConfig != nil {
			base := HnswConfigDiff{}
			if p.HnswConfig != nil {
				base = *p.HnswConfig
			}
			mergeHnswDiff(&base, d.HnswConfig)
			p.HnswConfig = &base
		}
		switch {
		case isDisabled(d.QuantizationConfig):
			p.QuantizationConfig = nil // back to the collection's, as in Qdrant
		case isSet(d.QuantizationConfig):
			p.QuantizationConfig = d.QuantizationConfig
		}
		if d.OnDisk != nil {
			p.OnDisk = d.OnDisk
		}
		if d.Memory != nil {
			p.Memory = d.Memory
		}
		out.Params.Vectors.Named[name] = p
	}
	if r.Params != nil {
		set(&out.Params.ReplicationFactor, r.Params.ReplicationFactor)
		set(&out.Params.WriteConsistencyFactor, r.Params.WriteConsistencyFactor)
		set(&out.Params.OnDiskPayload, r.Params.OnDiskPayload)
		if pl := r.Params.Payload; pl != nil {
			// Qdrant's PayloadStorageParams::update: the fields set win.
			if out.Params.Payload == nil {
				out.Params.Payload = &PayloadStorageParams{}
			}
			setPtr(&out.Params.Payload.Memory, pl.Memory)
		}
		if r.Params.ReadFanOutFactor != nil {
			out.Params.ReadFanOutFactor = r.Params.ReadFanOutFactor
		}
	}
	out.HnswConfig = out.HnswConfig.Apply(r.HnswConfig)
	if out.OptimizerConfig, err = out.OptimizerConfig.Apply(r.OptimizersConfig); err != nil {
		return nil, point.Errorf(point.KindBadInput, "%v", err)
	}
	if isSet(r.QuantizationConfig) {
		if isDisabled(r.QuantizationConfig) {
			out.QuantizationConfig = nil
		} else {
			out.QuantizationConfig = r.QuantizationConfig
		}
	}
	if out.StrictModeConfig, err = strict.Merge(out.StrictModeConfig, r.StrictModeConfig); err != nil {
		return nil, strictError(err)
	}
	if r.Metadata != nil {
		out.Metadata = out.Metadata.Merge(r.Metadata)
	}
	return out, nil
}

func mergeHnswDiff(dst, src *HnswConfigDiff) {
	setPtr(&dst.M, src.M)
	setPtr(&dst.EfConstruct, src.EfConstruct)
	setPtr(&dst.FullScanThreshold, src.FullScanThreshold)
	setPtr(&dst.MaxIndexingThreads, src.MaxIndexingThreads)
	setPtr(&dst.OnDisk, src.OnDisk)
	setPtr(&dst.Memory, src.Memory)
	setPtr(&dst.PayloadM, src.PayloadM)
	setPtr(&dst.InlineStorage, src.InlineStorage)
}
