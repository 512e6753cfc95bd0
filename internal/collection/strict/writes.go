package strict

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// Update checks a batch of update operations (one for a single update):
// each operation's checks, the client's timeout, then the write rate limit,
// charged operation by operation as Qdrant's points/batch does, all or
// nothing (Shoal applies a batch only when every operation passed).
func (g *Guard) Update(ctx context.Context, f Facts, batch []*ops.Operation) error {
	c := g.active()
	if c == nil {
		return nil
	}
	for _, op := range batch {
		if err := g.operation(c, f, op); err != nil {
			return err
		}
	}
	if err := c.checkTimeout(ctx); err != nil {
		return err
	}
	costs := make([]uint64, len(batch))
	for i, op := range batch {
		costs[i] = writeCost(f, op)
	}
	return g.takeWrites(costs)
}

// operation is the StrictModeVerification of one update: the resident
// memory of the memory-consuming ones, then per kind.
func (g *Guard) operation(c *Config, f Facts, op *ops.Operation) error {
	if consumesMemory(op.Kind) {
		if err := g.residentMemory(c); err != nil {
			return err
		}
	}
	switch op.Kind {
	case ops.Upsert:
		if err := c.batch("upsert limit", len(op.Points)); err != nil {
			return err
		}
		if err := g.collectionSize(c, f); err != nil {
			return err
		}
		for _, p := range op.Points {
			if err := c.multivectors(f, p.Vectors); err != nil {
				return err
			}
			if err := c.sparseLengths(p.Sparse); err != nil {
				return err
			}
		}
		return nil
	case ops.UpdateVectors:
		if err := c.batch("update limit", len(op.Vectors)); err != nil {
			return err
		}
		for _, p := range op.Vectors {
			if err := c.multivectors(f, p.Vectors); err != nil {
				return err
			}
			if err := c.sparseLengths(p.Sparse); err != nil {
				return err
			}
		}
		return g.collectionSize(c, f)
	case ops.SetPayload, ops.OverwritePayload:
		if c.MaxCollectionPayloadSizeBytes != nil {
			_, p := g.sizes(f, false, true)
			if err := payloadLimit(p, *c.MaxCollectionPayloadSizeBytes); err != nil {
				return err
			}
		}
		return c.writeFilter(f, op.Filter)
	case ops.Delete, ops.DeletePayload, ops.ClearPayload, ops.DeleteVectors:
		return c.writeFilter(f, op.Filter)
	case ops.CreateIndex:
		if m := c.MaxPayloadIndexCount; m != nil && uint64(len(f.Indexes())) >= *m {
			return forbidden(fmt.Sprintf("Collection already has the maximum number of payload indices (%d)", *m),
				"Please delete an existing index before creating a new one.")
		}
	}
	return nil
}

// consumesMemory is Qdrant's StrictModeVerification::consumes_memory: the
// updates that write new bytes; deletes must pass so that memory can be
// freed.
func consumesMemory(k ops.Kind) bool {
	switch k {
	case ops.Upsert, ops.UpdateVectors, ops.SetPayload, ops.OverwritePayload:
		return true
	}
	return false
}

// residentMemory is Qdrant's check_resident_memory for the deprecated
// max_resident_memory_percent.
func (g *Guard) residentMemory(c *Config) error {
	lim := c.MaxResidentMemoryPercent
	if lim == nil {
		return nil
	}
	used, ok := g.memory()
	if !ok || used < *lim {
		return nil
	}
	return forbidden(fmt.Sprintf("Resident memory usage is at %d%% of total memory, exceeding the configured limit of %d%%", used, *lim),
		"Reduce memory usage (e.g. delete points or drop collections), or raise `max_resident_memory_percent` in the strict mode config of this collection.")
}

// batch checks upsert_max_batchsize; name is Qdrant's ("upsert limit" for
// points, "update limit" for vectors).
func (c *Config) batch(name string, n int) error {
	if c.UpsertMaxBatchsize == nil {
		return nil
	}
	return limit(name, uint64(n), *c.UpsertMaxBatchsize)
}

// collectionSize is Qdrant's check_collection_size_limit: the vector and
// payload bytes (as last read, see Guard.sizes) and the points, each
// refused once it has reached its limit.
func (g *Guard) collectionSize(c *Config, f Facts) error {
	vl, pl, nl := c.MaxCollectionVectorSizeBytes, c.MaxCollectionPayloadSizeBytes, c.MaxPointsCount
	if vl == nil && pl == nil && nl == nil {
		return nil
	}
	v, p := g.sizes(f, vl != nil, pl != nil)
	if vl != nil && v >= *vl {
		return point.Errorf(point.KindBadRequest, "Max vector storage size limit of %sMB reached!", megabytes(*vl))
	}
	if pl != nil {
		if err := payloadLimit(p, *pl); err != nil {
			return err
		}
	}
	if nl != nil && f.Points() >= *nl {
		return point.Errorf(point.KindBadRequest, "Max points count limit of %d reached!", *nl)
	}
	return nil
}

func payloadLimit(size, max uint64) error {
	if size < max {
		return nil
	}
	return point.Errorf(point.KindBadRequest, "Max payload storage size limit of %sMB reached!", megabytes(max))
}

// megabytes is a byte limit in MB as Qdrant prints it (an f32).
func megabytes(b uint64) string { return rustFloat32(float32(b) / (1024 * 1024)) }

// sparseLengths holds a point's sparse vectors against sparse_config, in
// name order.
func (c *Config) sparseLengths(vecs point.SparseVectors) error {
	if len(c.SparseConfig) == 0 {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(vecs)) {
		v := vecs[name]
		if err := c.sparseLength(name, len(v.Indices), len(v.Values)); err != nil {
			return err
		}
	}
	return nil
}

// sparseLength holds a sparse vector's non-zero entries against
// sparse_config (Qdrant's check_sparse_vector_limit).
func (c *Config) sparseLength(name string, indices, values int) error {
	l, ok := c.SparseConfig[name]
	if !ok || l.MaxLength == nil {
		return nil
	}
	if m := *l.MaxLength; uint64(indices) > m || uint64(values) > m {
		return point.Errorf(point.KindBadRequest, "Sparse vector '%s' has a limit of %d indices, but %d were provided!", name, m, indices)
	}
	return nil
}

// multivectors holds the multivectors among vecs (flattened, as
// point.Vectors carries them) against multivector_config, in name order.
func (c *Config) multivectors(f Facts, vecs point.Vectors) error {
	if len(c.MultivectorConfig) == 0 {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(vecs)) {
		if dim, ok := f.MultivectorDim(name); ok && dim > 0 {
			if err := c.multivectorCount(name, len(vecs[name])/dim); err != nil {
				return err
			}
		}
	}
	return nil
}

// multivectorCount holds a multivector's sub-vectors against
// multivector_config (Qdrant's check_multivector_limit).
func (c *Config) multivectorCount(name string, n int) error {
	l, ok := c.MultivectorConfig[name]
	if !ok || l.MaxVectors == nil {
		return nil
	}
	if m := *l.MaxVectors; uint64(n) > m {
		return point.Errorf(point.KindBadRequest, "Multivector '%s' has a limit of %d vectors, but %d were provided!", name, m, n)
	}
	return nil
}

// writeCost is what an update takes from the write rate limit: the points
// it touches as Qdrant estimates them (the points or ids it lists, the
// planner's estimate of its filter), at least one.
func writeCost(f Facts, op *ops.Operation) uint64 {
	var n uint64
	switch {
	case op.Kind == ops.Upsert:
		n = uint64(len(op.Points))
	case op.Kind == ops.UpdateVectors:
		n = uint64(len(op.Vectors))
	case op.Filter != nil:
		n = f.Estimate(op.Filter)
	default:
		n = uint64(len(op.IDs))
	}
	return max(n, 1)
}
