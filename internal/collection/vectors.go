package collection

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/vector"
)

// Named vectors of an existing collection (Qdrant 1.19's PUT and DELETE
// /collections/{c}/vectors/{name}). The configuration changes first (the
// caller persists it: a file, or consensus), then SetConfig brings the
// shard's vectors in line with it through the shard's WAL (syncVectors),
// as Open does after a crash that came between the two.

// VectorNameConfig is the body of PUT /collections/{c}/vectors/{name}:
// Qdrant's untagged VectorNameConfig, {"dense": {...}} or {"sparse":
// {...}}, with only the properties that define the vector's space.
type VectorNameConfig struct {
	Dense  *DenseVectorConfig
	Sparse *SparseVectorConfig
}

// DenseVectorConfig is a new dense vector's space.
type DenseVectorConfig struct {
	Size              uint64          `json:"size"`
	Distance          vector.Distance `json:"distance"`
	MultivectorConfig json.RawMessage `json:"multivector_config"`
	Datatype          *string         `json:"datatype"`
}

// SparseVectorConfig is a new sparse vector's modifier and index datatype.
type SparseVectorConfig struct {
	Modifier *Modifier       `json:"modifier"`
	Datatype *SparseDatatype `json:"datatype"`
}

// errVectorNameConfig is serde's text for a body that matches neither
// variant.
const errVectorNameConfig = "data did not match any variant of untagged enum VectorNameConfig"

// ParseVectorNameConfig decodes the body as serde does the untagged enum:
// the dense variant (an object with "dense": a size, a distance, and
// optionally multivector_config and datatype) or else the sparse one; keys
// besides are ignored. A body that matches neither is a *FormatError.
func ParseVectorNameConfig(body []byte) (*VectorNameConfig, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return nil, &FormatError{Msg: errVectorNameConfig}
	}
	if raw, ok := top["dense"]; ok {
		var d DenseVectorConfig
		var probe map[string]json.RawMessage
		if json.Unmarshal(raw, &probe) == nil && probe != nil && probe["size"] != nil && probe["distance"] != nil &&
			json.NewDecoder(bytes.NewReader(raw)).Decode(&d) == nil && validDatatype(d.Datatype) {
			return &VectorNameConfig{Dense: &d}, nil
		}
	}
	if raw, ok := top["sparse"]; ok {
		var sp SparseVectorConfig
		var probe map[string]json.RawMessage
		if json.Unmarshal(raw, &probe) == nil && probe != nil && json.Unmarshal(raw, &sp) == nil {
			return &VectorNameConfig{Sparse: &sp}, nil
		}
	}
	return nil, &FormatError{Msg: errVectorNameConfig}
}

// validDatatype accepts the names of Qdrant 1.19's VectorStorageDatatype.
func validDatatype(d *string) bool {
	if d == nil {
		return true
	}
	_, err := segment.ParseDatatype(*d)
	return err == nil && *d != ""
}

// validate checks the dense size as Qdrant's validator does (HTTP 422).
func (c *VectorNameConfig) validate() error {
	if c.Dense == nil {
		return nil
	}
	var v validation
	v.min("dense.size", c.Dense.Size, 1)
	v.max("dense.size", c.Dense.Size, ops.MaxVectorSize)
	return v.err()
}

// params are the collection parameters of a new dense vector: its space,
// no storage, index or quantization settings of its own (Qdrant's
// dense_config_to_params).
func (d *DenseVectorConfig) params() VectorParams {
	p := VectorParams{Size: d.Size, Distance: d.Distance, Datatype: d.Datatype}
	if isSet(d.MultivectorConfig) {
		var m MultiVecConfig
		if json.Unmarshal(d.MultivectorConfig, &m) == nil { // validate checked it
			p.MultivectorConfig = &m
		}
	}
	return p
}

// params are a new sparse vector's (Qdrant's sparse_config_to_params):
// the datatype goes to its index.
func (s *SparseVectorConfig) params() SparseVectorParams {
	p := SparseVectorParams{Modifier: s.Modifier}
	if s.Datatype != nil {
		dt := *s.Datatype
		p.Index = &SparseIndexParams{Datatype: &dt}
	}
	return p
}

// WithVector returns cfg with the vector name added, as Qdrant's
// add_vector_to_config: adding a vector that exists with the same space
// changes nothing (changed false); one that exists otherwise, or as the
// other kind, is bad input with Qdrant's texts. The config is validated
// (a dense size out of [1, 65536] is a *ValidationError).
func (cfg *Config) WithVector(name string, vc *VectorNameConfig) (_ *Config, changed bool, err error) {
	if err := vc.validate(); err != nil {
		return nil, false, err
	}
	if vc.Dense != nil && isSet(vc.Dense.MultivectorConfig) {
		var m MultiVecConfig
		if err := json.Unmarshal(vc.Dense.MultivectorConfig, &m); err != nil {
			return nil, false, point.Errorf(point.KindBadInput, "dense.multivector_config: %v", err)
		}
	}
	out, err := cfg.Clone()
	if err != nil {
		return nil, false, err
	}
	named := out.Params.Vectors.Named
	_, isDense := named[name]
	_, isSparse := out.Params.SparseVectors[name]
	if vc.Dense != nil {
		switch {
		case isDense && !sameDense(named[name], vc.Dense.params()):
			return nil, false, point.Errorf(point.KindBadInput, "Vector `%s` already exists with a different configuration", name)
		case isDense:
			return out, false, nil
		case isSparse:
			return nil, false, point.Errorf(point.KindBadInput, "Vector `%s` already exists as a sparse vector", name)
		}
		if named == nil {
			named = map[string]VectorParams{}
			out.Params.Vectors.Named = named
		}
		// A collection of one unnamed vector becomes one of named
		// vectors, the unnamed one under "".
		out.Params.Vectors.Multi = true
		named[name] = vc.Dense.params()
		return out, true, nil
	}
	want := vc.Sparse.params()
	switch {
	case isSparse && !sameSparse(out.Params.SparseVectors[name], want):
		return nil, false, point.Errorf(point.KindBadInput, "Sparse vector `%s` already exists with a different configuration", name)
	case isSparse:
		return out, false, nil
	case isDense:
		return nil, false, point.Errorf(point.KindBadInput, "Vector `%s` already exists as a dense vector", name)
	}
	if out.Params.SparseVectors == nil {
		out.Params.SparseVectors = map[string]SparseVectorParams{}
	}
	out.Params.SparseVectors[name] = want
	return out, true, nil
}

// WithoutVector returns cfg without the dense or sparse vector name;
// dropping a vector the collection does not have changes nothing, as in
// Qdrant.
func (cfg *Config) WithoutVector(name string) (_ *Config, changed bool, err error) {
	out, err := cfg.Clone()
	if err != nil {
		return nil, false, err
	}
	_, isDense := out.Params.Vectors.Named[name]
	_, isSparse := out.Params.SparseVectors[name]
	delete(out.Params.Vectors.Named, name)
	delete(out.Params.SparseVectors, name)
	if len(out.Params.SparseVectors) == 0 {
		out.Params.SparseVectors = nil
	}
	return out, isDense || isSparse, nil
}

// sameDense compares what defines a dense vector's space (Qdrant's
// dense_schema_matches): size, distance, multivector config and datatype
// as given; the settings that may change later are not compared.
func sameDense(have, want VectorParams) bool {
	return have.Size == want.Size && have.Distance == want.Distance &&
		have.IsMulti() == want.IsMulti() &&
		equalPtr(have.Datatype, want.Datatype)
}

// sameSparse compares a sparse vector's modifier and index datatype
// (Qdrant's sparse_schema_matches).
func sameSparse(have, want SparseVectorParams) bool {
	dt := func(p SparseVectorParams) *SparseDatatype {
		if p.Index == nil {
			return nil
		}
		return p.Index.Datatype
	}
	return equalPtr(have.Modifier, want.Modifier) && equalPtr(dt(have), dt(want))
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func compactJSON(raw json.RawMessage) []byte {
	if !isSet(raw) {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// vectorOps are the operations that bring the shard's vectors (dense and
// sparse, as the shard has them) in line with cfg: drops first (a vector
// the configuration no longer has, or has in another space or kind), then
// creations, each in name order.
func vectorOps(cfg *Config, dense map[string]segment.VectorSpec, sparse map[string]segment.SparseSpec) []*ops.Operation {
	var drops, creates []*ops.Operation
	want := cfg.Params.Vectors.Named
	wantSparse := cfg.Params.SparseVectors
	for _, name := range slices.Sorted(maps.Keys(dense)) {
		if p, ok := want[name]; !ok || !spaceMatches(p, dense[name]) {
			drops = append(drops, &ops.Operation{Kind: ops.DeleteVectorName, Key: name})
			delete(dense, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(sparse)) {
		if _, ok := wantSparse[name]; !ok {
			drops = append(drops, &ops.Operation{Kind: ops.DeleteVectorName, Key: name})
			delete(sparse, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := dense[name]; !ok {
			creates = append(creates, &ops.Operation{Kind: ops.CreateVectorName, Key: name, VectorConfig: &ops.VectorNameConfig{Dense: denseOp(want[name])}})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(wantSparse)) {
		if _, ok := sparse[name]; !ok {
			p := wantSparse[name]
			sc := &ops.SparseVectorConfig{}
			if p.Modifier != nil {
				sc.Modifier = string(*p.Modifier)
			}
			if p.Index != nil && p.Index.Datatype != nil && *p.Index.Datatype != "turbo4" {
				sc.Datatype = string(*p.Index.Datatype)
			}
			creates = append(creates, &ops.Operation{Kind: ops.CreateVectorName, Key: name, VectorConfig: &ops.VectorNameConfig{Sparse: sc}})
		}
	}
	return append(drops, creates...)
}

// denseOp is the shard's view of a dense vector's space.
func denseOp(p VectorParams) *ops.DenseVectorConfig {
	d := &ops.DenseVectorConfig{Size: p.Size, Distance: string(p.Distance), Datatype: string(datatypeOf(p))}
	if p.IsMulti() {
		d.Multivector = MaxSim
	}
	return d
}

// spaceMatches reports whether the shard stores a vector as p defines it.
func spaceMatches(p VectorParams, sp segment.VectorSpec) bool {
	want, err := shard.DenseSpec(denseOp(p))
	return err == nil && want.Dim == sp.Dim && want.Distance == sp.Distance && want.Datatype == datatypeOrFloat32(sp.Datatype) && want.Multi == sp.Multi
}

func datatypeOrFloat32(d segment.Datatype) segment.Datatype {
	if d == "" {
		return segment.Float32
	}
	return d
}

// syncVectors brings every local shard's vectors in line with cfg through
// its WAL and waits until each change is durable and applied (each shard
// catches up on its own: one cut short by a crash may be behind another).
func (c *Collection) syncVectors(ctx context.Context, cfg *Config) error {
	for _, s := range c.locals() {
		dense, sparse := s.VectorSchema()
		for _, op := range vectorOps(cfg, dense, sparse) {
			if _, err := s.Update(ctx, op, true); err != nil {
				return fmt.Errorf("%s %q: %w", op.Kind, op.Key, err)
			}
		}
	}
	return nil
}

// SyncVectors brings the shard's vectors in line with the configuration
// (after a SetConfig whose vectors' part failed).
func (c *Collection) SyncVectors(ctx context.Context) error {
	cfg, err := c.Config()
	if err != nil {
		return err
	}
	return c.syncVectors(ctx, cfg)
}
