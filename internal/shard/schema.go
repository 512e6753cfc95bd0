package shard

import (
	"fmt"
	"maps"
	"slices"

	"github.com/shoaldb/shoal/internal/index/sparse"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/vector"
)

// The shard's vectors (its schema) change through its WAL: the operations
// create_vector_name and delete_vector_name are numbered, logged and
// applied in order with the point operations, so that a replay meets every
// point operation with the vectors it met the first time (an upsert
// logged before a vector was dropped still finds it). Segments persist
// their own columns, so the schema of a reopened shard is that of its
// segments as of the manifest, then whatever the WAL replays; the
// collection then brings it in line with its configuration through the
// same operations (a configuration saved before a crash cut the operation
// short).
//
// Options.Vectors and Options.Sparse are the schema of a new shard, and
// for the vectors a reopened shard has, the storage settings (on disk,
// sparse index datatype).

// VectorSchema returns the shard's dense vectors (dimension, distance,
// datatype; OnDisk is the storage setting) and sparse vectors.
func (s *Shard) VectorSchema() (map[string]segment.VectorSpec, map[string]segment.SparseSpec) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.mu.h.specs), maps.Clone(s.mu.h.sparse)
}

// sameSpace reports whether two dense specs store vectors alike (the
// storage setting aside).
func sameSpace(a, b segment.VectorSpec) bool {
	norm := func(d segment.Datatype) segment.Datatype {
		if d == "" {
			return segment.Float32
		}
		return d
	}
	return a.Dim == b.Dim && a.Distance == b.Distance && norm(a.Datatype) == norm(b.Datatype) && a.Multi == b.Multi
}

// DenseSpec is the segment spec of a create_vector_name's dense config
// (validated by ops).
func DenseSpec(c *ops.DenseVectorConfig) (segment.VectorSpec, error) {
	dist, err := vector.ParseDistance(c.Distance)
	if err != nil {
		return segment.VectorSpec{}, err
	}
	dt, err := segment.ParseDatatype(c.Datatype)
	if err != nil {
		return segment.VectorSpec{}, err
	}
	switch c.Multivector {
	case "", "max_sim":
	default:
		return segment.VectorSpec{}, fmt.Errorf("unknown multivector comparator %q", c.Multivector)
	}
	return segment.VectorSpec{Dim: int(c.Size), Distance: dist, Datatype: dt, Multi: c.Multivector != ""}, nil
}

// schemaTarget is what the named vector operations change.
type schemaTarget interface {
	VectorSpecs() map[string]segment.VectorSpec
	HasSparse(name string) bool
	AddColumn(name string, spec segment.VectorSpec)
	AddSparseColumn(name string, spec segment.SparseSpec)
	DropVector(name string) bool
}

// applyVectorName adds or drops a named vector. Creating a vector that
// exists with the same space (or a sparse one that exists) changes
// nothing, as in Qdrant; one of the other kind or another space is
// refused. Dropping a missing vector changes nothing.
func applyVectorName(store schemaTarget, op *ops.Operation) error {
	name := op.Key
	if op.Kind == ops.DeleteVectorName {
		store.DropVector(name)
		return nil
	}
	cfg := op.VectorConfig
	have, dense := store.VectorSpecs()[name]
	isSparse := store.HasSparse(name)
	if cfg.Sparse != nil {
		switch {
		case dense:
			return refusef(point.KindBadInput, "Vector `%s` already exists as a dense vector", name)
		case !isSparse:
			dt, err := sparse.ParseDatatype(cfg.Sparse.Datatype)
			if err != nil {
				return refusef(point.KindBadInput, "%v", err)
			}
			store.AddSparseColumn(name, segment.SparseSpec{Datatype: dt})
		}
		return nil
	}
	spec, err := DenseSpec(cfg.Dense)
	if err != nil {
		return refusef(point.KindBadInput, "%v", err)
	}
	switch {
	case isSparse:
		return refusef(point.KindBadInput, "Vector `%s` already exists as a sparse vector", name)
	case dense && !sameSpace(have, spec):
		return refusef(point.KindBadInput, "Vector `%s` already exists with a different configuration", name)
	case !dense:
		store.AddColumn(name, spec)
	}
	return nil
}

// VectorSpecs returns the dense vectors of the shard.
func (h *holder) VectorSpecs() map[string]segment.VectorSpec { return h.specs }

// AddColumn adds an empty dense vector to every segment. Sealed segments
// get its HNSW settings when the collection has them already.
func (h *holder) AddColumn(name string, spec segment.VectorSpec) {
	h.specs[name] = spec
	for _, g := range h.segs {
		g.store.AddColumn(name, spec)
		if p, ok := h.vindex[name]; ok && !g.appendable {
			g.store.SetIndexParams(name, p)
		}
		g.dirty = true
	}
	h.schemaChanged()
}

// AddSparseColumn adds an empty sparse vector to every segment.
func (h *holder) AddSparseColumn(name string, spec segment.SparseSpec) {
	h.sparse[name] = spec
	for _, g := range h.segs {
		g.store.AddSparseColumn(name, spec)
		g.store.SetSparseSpec(name, spec)
		g.dirty = true
	}
	h.schemaChanged()
}

// DropVector removes a dense or sparse vector from every segment, with its
// data: the data files are written again without it at the next flush,
// and its own files (on-disk vectors, inverted indexes) are removed once
// a manifest no longer names them. The maps of file names are replaced,
// never edited, as a flush may be encoding the old ones.
func (h *holder) DropVector(name string) bool {
	_, dense := h.specs[name]
	_, sparse := h.sparse[name]
	delete(h.specs, name)
	delete(h.sparse, name)
	delete(h.vindex, name)
	for _, g := range h.segs {
		if !g.store.DropVector(name) {
			continue
		}
		g.dirty = true
		if f, ok := g.vectorFiles[name]; ok {
			h.retired = append(h.retired, f)
			g.vectorFiles = without(g.vectorFiles, name)
		}
		if f, ok := g.sparseFiles[name]; ok {
			h.retired = append(h.retired, f)
			g.sparseFiles = without(g.sparseFiles, name)
		}
	}
	if dense || sparse {
		h.schemaChanged()
	}
	return dense || sparse
}

// schemaChanged marks a change of the vectors: an optimization that copied
// its segments before it builds a segment of the old vectors, and is
// dropped at its swap (see runJob).
func (h *holder) schemaChanged() {
	h.schemaEpoch++
	h.changed = true
}

func without(m map[string]string, name string) map[string]string {
	out := maps.Clone(m)
	delete(out, name)
	if len(out) == 0 {
		return nil
	}
	return out
}

// adoptSchema makes the vectors of loaded segments the shard's: the union
// of their columns (every segment gets the ones it lacks), with the
// storage settings of opts for the vectors opts has in the same space. A
// shard without segments takes opts' vectors.
func (h *holder) adoptSchema(vectors map[string]segment.VectorSpec, sparse map[string]segment.SparseSpec) {
	h.specs, h.sparse = map[string]segment.VectorSpec{}, map[string]segment.SparseSpec{}
	if len(h.segs) == 0 {
		maps.Copy(h.specs, vectors)
		maps.Copy(h.sparse, sparse)
		return
	}
	for _, g := range h.segs {
		for name, sp := range g.store.VectorSpecs() {
			if _, ok := h.specs[name]; !ok {
				h.specs[name] = sp
			}
		}
		for _, name := range g.store.SparseNames() {
			h.sparse[name] = sparse[name]
		}
	}
	for name, sp := range h.specs {
		if want, ok := vectors[name]; ok && sameSpace(want, sp) {
			sp.OnDisk = want.OnDisk
			h.specs[name] = sp
		}
	}
	for _, g := range h.segs {
		for _, name := range slices.Sorted(maps.Keys(h.specs)) {
			g.store.AddColumn(name, h.specs[name])
		}
		for name, sp := range h.sparse {
			g.store.AddSparseColumn(name, sp)
			g.store.SetSparseSpec(name, sp)
		}
	}
}
