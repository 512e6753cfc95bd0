package strict

import (
	"context"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// The read checks return the context the read runs under; a read inside a
// request already checked (see within) passes unchecked and uncharged.

// Search checks a nearest-neighbour search (Qdrant's
// SearchRequestInternal) and charges its read cost.
func (g *Guard) Search(ctx context.Context, f Facts, req ops.SearchRequest) (context.Context, error) {
	return g.read(ctx, func(c *Config) error { return c.search(f, req) }, func() uint64 { return searchCost(f, req.Using, req.Vector, req.Sparse, req.Filter) })
}

// Query checks a universal query (Qdrant's CollectionQueryRequest) and
// charges its read cost.
func (g *Guard) Query(ctx context.Context, f Facts, req ops.QueryRequest) (context.Context, error) {
	return g.read(ctx, func(c *Config) error { return c.query(f, req) }, func() uint64 { return queryCost(f, req) })
}

// Scroll checks a scroll and charges its read cost.
func (g *Guard) Scroll(ctx context.Context, f Facts, req ops.ScrollRequest) (context.Context, error) {
	return g.read(ctx, func(c *Config) error {
		if err := c.limit(req.Limit); err != nil {
			return err
		}
		return c.readFilter(f, req.Filter)
	}, func() uint64 { return scrollCost(req.Filter) })
}

// Count checks a count (exact counts are exact searches to strict mode)
// and charges its read cost.
func (g *Guard) Count(ctx context.Context, f Facts, req ops.CountRequest) (context.Context, error) {
	return g.read(ctx, func(c *Config) error {
		if err := c.readFilter(f, req.Filter); err != nil {
			return err
		}
		return c.exact(req.Exact)
	}, func() uint64 { return scrollCost(req.Filter) })
}

// Facet checks a facet request and charges its read cost.
func (g *Guard) Facet(ctx context.Context, f Facts, req ops.FacetRequest) (context.Context, error) {
	return g.read(ctx, func(c *Config) error {
		if err := c.limit(req.Limit); err != nil {
			return err
		}
		if err := c.readFilter(f, req.Filter); err != nil {
			return err
		}
		return c.exact(req.Exact)
	}, func() uint64 { return scrollCost(req.Filter) })
}

// Retrieve charges a retrieve by ids: one token an id, as Qdrant does.
func (g *Guard) Retrieve(ctx context.Context, ids []point.ID) (context.Context, error) {
	return g.read(ctx, func(*Config) error { return nil }, func() uint64 { return uint64(len(ids)) })
}

// SearchBatch checks a batch of searches as one request: its size against
// search_max_batchsize, each search, and the read cost of the whole batch
// charged at once (Qdrant's core_search of a batch). The returned context
// lets the searches of the batch run unchecked.
func (g *Guard) SearchBatch(ctx context.Context, f Facts, reqs []ops.SearchRequest) (context.Context, error) {
	return g.read(ctx, func(c *Config) error {
		if err := c.batchSize(len(reqs)); err != nil {
			return err
		}
		for _, r := range reqs {
			if err := c.search(f, r); err != nil {
				return err
			}
		}
		return nil
	}, func() uint64 {
		var n uint64
		for _, r := range reqs {
			n += searchCost(f, r.Using, r.Vector, r.Sparse, r.Filter)
		}
		return n
	})
}

// QueryBatch is SearchBatch for universal queries.
func (g *Guard) QueryBatch(ctx context.Context, f Facts, reqs []ops.QueryRequest) (context.Context, error) {
	return g.read(ctx, func(c *Config) error {
		if err := c.batchSize(len(reqs)); err != nil {
			return err
		}
		for _, r := range reqs {
			if err := c.query(f, r); err != nil {
				return err
			}
		}
		return nil
	}, func() uint64 {
		var n uint64
		for _, r := range reqs {
			n += queryCost(f, r)
		}
		return n
	})
}

// read runs a read's checks, then its timeout's, then charges its cost;
// the context it returns marks the read as checked.
func (g *Guard) read(ctx context.Context, check func(*Config) error, cost func() uint64) (context.Context, error) {
	if checked(ctx) {
		return ctx, nil
	}
	c := g.active()
	if c == nil {
		return ctx, nil
	}
	if err := check(c); err != nil {
		return ctx, err
	}
	if err := c.checkTimeout(ctx); err != nil {
		return ctx, err
	}
	if err := g.takeRead(cost()); err != nil {
		return ctx, err
	}
	return within(ctx), nil
}

// baseCost is the read cost of a request before its filter (Qdrant's
// BASE_COST), and of a dense query vector (similarity_cost 1).
const baseCost = 1

// searchCost is Qdrant's search_rate_cost: the query vector's similarity
// cost (VectorInternal::similarity_cost: 1 for a dense vector, its number
// of sub-vectors for a multivector, a unit per 64 dimensions of a sparse
// one, rounded up) plus one a filter condition. dense is the query on
// vector using (flattened for a multivector); facts may be nil.
func searchCost(facts Facts, using string, dense []float32, sparse *point.SparseVector, f *filter.Filter) uint64 {
	return vectorCost(facts, using, dense, sparse) + conditionsCount(f)
}

// sparseCostUnit is Qdrant's SPARSE_DIMS_COST_UNIT.
const sparseCostUnit = 64

func vectorCost(facts Facts, using string, dense []float32, sparse *point.SparseVector) uint64 {
	if sparse != nil {
		return uint64((len(sparse.Indices) + sparseCostUnit - 1) / sparseCostUnit)
	}
	if facts != nil && len(dense) > 0 {
		if dim, ok := facts.MultivectorDim(using); ok && dim > 0 && len(dense) > dim {
			return uint64(len(dense) / dim)
		}
	}
	return baseCost
}

// scrollCost is Qdrant's scroll, count and facet cost: one plus one a
// filter condition.
func scrollCost(f *filter.Filter) uint64 { return baseCost + conditionsCount(f) }

func queryCost(f Facts, req ops.QueryRequest) uint64 {
	if req.Nearest == nil {
		return scrollCost(req.Filter)
	}
	return searchCost(f, req.Using, req.Nearest.Vector, req.Nearest.Sparse, req.Filter)
}

// search is Qdrant's StrictModeVerification for SearchRequestInternal:
// limit, filter, then search params.
func (c *Config) search(f Facts, req ops.SearchRequest) error {
	if err := c.limit(req.Limit); err != nil {
		return err
	}
	if err := c.readFilter(f, req.Filter); err != nil {
		return err
	}
	return c.params(req.Params)
}

// query is Qdrant's StrictModeVerification for CollectionQueryRequest: a
// nearest query first must not scan every point when exact search is
// forbidden, then limit, filter and search params.
func (c *Config) query(f Facts, req ops.QueryRequest) error {
	if req.Nearest != nil {
		if err := c.fullScan(f, req.Using, req.Filter); err != nil {
			return err
		}
	}
	if err := c.limit(req.Limit); err != nil {
		return err
	}
	if err := c.readFilter(f, req.Filter); err != nil {
		return err
	}
	return c.params(req.Params)
}

// limit checks max_query_limit.
func (c *Config) limit(n int) error {
	if c.MaxQueryLimit == nil || n < 0 {
		return nil
	}
	return limit("limit", uint64(n), *c.MaxQueryLimit)
}

// batchSize checks search_max_batchsize.
func (c *Config) batchSize(n int) error {
	if c.SearchMaxBatchsize == nil {
		return nil
	}
	return limit("search batch size", uint64(n), *c.SearchMaxBatchsize)
}

// exact checks search_allow_exact (Qdrant's check_bool_opt).
func (c *Config) exact(exact bool) error {
	if !exact || c.SearchAllowExact == nil || *c.SearchAllowExact {
		return nil
	}
	return forbidden("Exact search disabled!", "Set exact=false.")
}

// params is Qdrant's StrictModeVerification for SearchParams:
// oversampling, hnsw_ef, then exact.
func (c *Config) params(p ops.SearchParams) error {
	if q := p.Quantization; q != nil && q.Oversampling != nil && c.SearchMaxOversampling != nil {
		if v, m := *q.Oversampling, *c.SearchMaxOversampling; v > m {
			return limitError("oversampling", rustFloat(v), rustFloat(m))
		}
	}
	if p.HnswEf > 0 && c.SearchMaxHnswEf != nil {
		if err := limit("hnsw_ef", uint64(p.HnswEf), *c.SearchMaxHnswEf); err != nil {
			return err
		}
	}
	return c.exact(p.Exact)
}

// readFilter checks the filter of a read: its size limits, then its keys
// against unindexed_filtering_retrieve.
func (c *Config) readFilter(f Facts, flt *filter.Filter) error {
	return c.filter(f, flt, c.UnindexedFilteringRetrieve)
}

// writeFilter checks the filter of a filtered update against
// unindexed_filtering_update.
func (c *Config) writeFilter(f Facts, flt *filter.Filter) error {
	return c.filter(f, flt, c.UnindexedFilteringUpdate)
}

// filter is Qdrant's check_request_filter: filter_max_conditions and
// condition_max_size first (a filter refused on its own terms is not
// answered with "create an index"), then, when unindexed filtering is
// forbidden, an index for every key it uses.
func (c *Config) filter(f Facts, flt *filter.Filter, allowUnindexed *bool) error {
	if flt == nil {
		return nil
	}
	if m := c.FilterMaxConditions; m != nil {
		if n := conditionsCount(flt); n > *m {
			return forbidden(sprintf("Filter condition limit reached (%d > %d)", n, *m), "Reduce the amount of conditions of your filter.")
		}
	}
	if m := c.ConditionMaxSize; m != nil {
		if n := maxConditionSize(flt); n > *m {
			return forbidden(sprintf("Condition size limit reached (%d > %d)", n, *m), "Reduce the size of your condition.")
		}
	}
	if allowUnindexed == nil || *allowUnindexed {
		return nil
	}
	if u, ok := unindexedKey(flt, f.Indexes()); ok {
		return u.error("Create an index for this key or use a different filter.")
	}
	return nil
}

// fullScan is Qdrant's Query::check_fullscan: with exact search forbidden,
// a query on a dense vector without an HNSW graph (m = 0) scans every
// point, unless a tenant index filters it and payload_m builds per-tenant
// graphs.
func (c *Config) fullScan(f Facts, using string, flt *filter.Filter) error {
	if c.SearchAllowExact == nil || *c.SearchAllowExact {
		return nil
	}
	m, payloadM, sparse := f.VectorIndexing(using)
	if sparse || m > 0 {
		return nil
	}
	label := ""
	if using != point.DefaultVector {
		label = " on '" + using + "'"
	}
	if !tenantFiltered(flt, f) {
		return forbidden("Request is forbidden"+label+" because global vector indexing is disabled (hnsw_config.m = 0)",
			"Use tenant-specific filter, enable global vector indexing or enable strict mode `search_allow_exact` option")
	}
	if payloadM == 0 {
		return forbidden("Request is forbidden"+label+" because vector indexing is disabled (hnsw_config.m = 0 and hnsw_config.payload_m = 0)",
			"Enable vector indexing, use a prefetch query with indexed vectors or enable strict mode `search_allow_exact` option")
	}
	return nil
}

// tenantFiltered reports whether a top-level condition of flt targets a
// key with a tenant index (Qdrant's Condition::targeted_key).
func tenantFiltered(flt *filter.Filter, f Facts) bool {
	if flt == nil {
		return false
	}
	indexes := f.Indexes()
	for _, clause := range conditions(flt) {
		for _, cond := range clause {
			if key, ok := targetedKey(cond); ok && indexes[key].Tenant {
				return true
			}
		}
	}
	return false
}

func targetedKey(c filter.Condition) (string, bool) {
	switch c := c.(type) {
	case *filter.FieldCondition:
		return c.Key.String(), true
	case *filter.IsEmptyCondition:
		return c.Key.String(), true
	case *filter.IsNullCondition:
		return c.Key.String(), true
	case *filter.NestedCondition:
		return c.ArrayKey().String(), true
	case *filter.Filter:
		for _, clause := range conditions(c) {
			for _, inner := range clause {
				if k, ok := targetedKey(inner); ok {
					return k, true
				}
			}
		}
	}
	return "", false
}
