package strict

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Config is Qdrant 1.19's StrictModeConfig. Every key is optional (nil: not
// set, no limit) and is written back only when set, so that a collection's
// info shows what was configured and nothing else.
type Config struct {
	Enabled                       *bool                       `json:"enabled,omitempty"`
	MaxQueryLimit                 *uint64                     `json:"max_query_limit,omitempty"`
	MaxTimeout                    *uint64                     `json:"max_timeout,omitempty"`
	UnindexedFilteringRetrieve    *bool                       `json:"unindexed_filtering_retrieve,omitempty"`
	UnindexedFilteringUpdate      *bool                       `json:"unindexed_filtering_update,omitempty"`
	SearchMaxHnswEf               *uint64                     `json:"search_max_hnsw_ef,omitempty"`
	SearchAllowExact              *bool                       `json:"search_allow_exact,omitempty"`
	SearchMaxOversampling         *float64                    `json:"search_max_oversampling,omitempty"`
	UpsertMaxBatchsize            *uint64                     `json:"upsert_max_batchsize,omitempty"`
	SearchMaxBatchsize            *uint64                     `json:"search_max_batchsize,omitempty"`
	MaxCollectionVectorSizeBytes  *uint64                     `json:"max_collection_vector_size_bytes,omitempty"`
	ReadRateLimit                 *uint64                     `json:"read_rate_limit,omitempty"`
	WriteRateLimit                *uint64                     `json:"write_rate_limit,omitempty"`
	MaxCollectionPayloadSizeBytes *uint64                     `json:"max_collection_payload_size_bytes,omitempty"`
	MaxPointsCount                *uint64                     `json:"max_points_count,omitempty"`
	FilterMaxConditions           *uint64                     `json:"filter_max_conditions,omitempty"`
	ConditionMaxSize              *uint64                     `json:"condition_max_size,omitempty"`
	MultivectorConfig             map[string]MultivectorLimit `json:"multivector_config,omitempty"`
	SparseConfig                  map[string]SparseLimit      `json:"sparse_config,omitempty"`
	MaxPayloadIndexCount          *uint64                     `json:"max_payload_index_count,omitempty"`
	// MaxResidentMemoryPercent is deprecated in Qdrant 1.19 (superseded by
	// node-wide quotas) and still enforced there: memory-consuming updates
	// are refused once the process's resident memory reaches it.
	MaxResidentMemoryPercent *uint64 `json:"max_resident_memory_percent,omitempty"`
}

// MultivectorLimit is StrictModeMultivector: the most sub-vectors one point
// may hold in a multivector.
type MultivectorLimit struct {
	MaxVectors *uint64 `json:"max_vectors,omitempty"`
}

// SparseLimit is StrictModeSparse: the most non-zero entries of a sparse
// vector.
type SparseLimit struct {
	MaxLength *uint64 `json:"max_length,omitempty"`
}

// On reports whether strict mode is enabled.
func (c *Config) On() bool { return c != nil && c.Enabled != nil && *c.Enabled }

// field is one key of the object form, decoded into dst (a pointer to a
// nil-able field of Config).
type field struct {
	name string
	dst  any
}

func (c *Config) fields() []field {
	return []field{
		{"enabled", &c.Enabled},
		{"max_query_limit", &c.MaxQueryLimit},
		{"max_timeout", &c.MaxTimeout},
		{"unindexed_filtering_retrieve", &c.UnindexedFilteringRetrieve},
		{"unindexed_filtering_update", &c.UnindexedFilteringUpdate},
		{"search_max_hnsw_ef", &c.SearchMaxHnswEf},
		{"search_allow_exact", &c.SearchAllowExact},
		{"search_max_oversampling", &c.SearchMaxOversampling},
		{"upsert_max_batchsize", &c.UpsertMaxBatchsize},
		{"search_max_batchsize", &c.SearchMaxBatchsize},
		{"max_collection_vector_size_bytes", &c.MaxCollectionVectorSizeBytes},
		{"read_rate_limit", &c.ReadRateLimit},
		{"write_rate_limit", &c.WriteRateLimit},
		{"max_collection_payload_size_bytes", &c.MaxCollectionPayloadSizeBytes},
		{"max_points_count", &c.MaxPointsCount},
		{"filter_max_conditions", &c.FilterMaxConditions},
		{"condition_max_size", &c.ConditionMaxSize},
		{"multivector_config", &c.MultivectorConfig},
		{"sparse_config", &c.SparseConfig},
		{"max_payload_index_count", &c.MaxPayloadIndexCount},
		{"max_resident_memory_percent", &c.MaxResidentMemoryPercent},
	}
}

// prefix is the path of the config in a create or update body, for error
// texts.
const prefix = "strict_mode_config"

// Parse decodes and validates a strict_mode_config: nil for an absent or
// null one, a *FormatError for a value of the wrong type, a
// *ValidationError for one out of range. Unknown keys are ignored, as
// Qdrant's serde does.
func Parse(raw json.RawMessage) (*Config, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return nil, &FormatError{Msg: prefix + ": invalid type: expected struct StrictModeConfig"}
	}
	c := &Config{}
	for _, f := range c.fields() {
		v, ok := obj[f.name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return nil, &FormatError{Msg: fmt.Sprintf("%s.%s: invalid value %s: %s", prefix, f.name, v, expected(f.dst))}
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func expected(dst any) string {
	switch dst.(type) {
	case **bool:
		return "expected a boolean"
	case **float64:
		return "expected a number"
	case **uint64:
		return "expected an unsigned integer"
	case *map[string]MultivectorLimit:
		return "expected an object of {\"max_vectors\": n} by vector name"
	case *map[string]SparseLimit:
		return "expected an object of {\"max_length\": n} by vector name"
	}
	return "unexpected type"
}

// validate applies Qdrant's validator ranges.
func (c *Config) validate() error {
	var fields []string
	min1 := func(name string, p *uint64) {
		if p != nil && *p < 1 {
			fields = append(fields, fmt.Sprintf("%s.%s: value %d invalid, must be 1 or larger", prefix, name, *p))
		}
	}
	min1("max_query_limit", c.MaxQueryLimit)
	min1("max_timeout", c.MaxTimeout)
	min1("read_rate_limit", c.ReadRateLimit)
	min1("write_rate_limit", c.WriteRateLimit)
	min1("max_points_count", c.MaxPointsCount)
	for _, name := range sortedKeys(c.MultivectorConfig) {
		min1("multivector_config."+name+".max_vectors", c.MultivectorConfig[name].MaxVectors)
	}
	for _, name := range sortedKeys(c.SparseConfig) {
		min1("sparse_config."+name+".max_length", c.SparseConfig[name].MaxLength)
	}
	if p := c.MaxResidentMemoryPercent; p != nil && (*p < 1 || *p > 100) {
		fields = append(fields, fmt.Sprintf("%s.max_resident_memory_percent: value %d invalid, must be in range [1, 100]", prefix, *p))
	}
	if len(fields) > 0 {
		return &ValidationError{Fields: fields}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Normalize parses raw and writes it back in its canonical form (known
// keys, set ones only): what a collection stores and shows. nil stays nil.
func Normalize(raw json.RawMessage) (json.RawMessage, error) {
	c, err := Parse(raw)
	if err != nil || c == nil {
		return nil, err
	}
	return json.Marshal(c)
}

// Merge applies a PATCH's strict_mode_config to the stored one, as
// Qdrant's StrictModeConfigDiff does: each key the diff sets (not null)
// replaces the stored one, the others stay; a key cannot be unset this way
// (Qdrant's test_strict_mode_unset_rate_limiting_config). A stored config
// that no longer parses (written before strict mode was enforced) is
// replaced by the diff. An absent or null diff leaves cur as it is.
func Merge(cur, diff json.RawMessage) (json.RawMessage, error) {
	d, err := Parse(diff)
	if err != nil || d == nil {
		return cur, err
	}
	base, err := Parse(cur)
	if err != nil || base == nil {
		return json.Marshal(d)
	}
	dst, src := base.fields(), d.fields()
	for i := range src {
		if !isNil(src[i].dst) {
			setField(dst[i].dst, src[i].dst)
		}
	}
	return json.Marshal(base)
}

func isNil(p any) bool {
	switch v := p.(type) {
	case **bool:
		return *v == nil
	case **uint64:
		return *v == nil
	case **float64:
		return *v == nil
	case *map[string]MultivectorLimit:
		return *v == nil
	case *map[string]SparseLimit:
		return *v == nil
	}
	return true
}

func setField(dst, src any) {
	switch v := dst.(type) {
	case **bool:
		*v = *src.(**bool)
	case **uint64:
		*v = *src.(**uint64)
	case **float64:
		*v = *src.(**float64)
	case *map[string]MultivectorLimit:
		*v = *src.(*map[string]MultivectorLimit)
	case *map[string]SparseLimit:
		*v = *src.(*map[string]SparseLimit)
	}
}
