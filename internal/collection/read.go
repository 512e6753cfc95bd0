package collection

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/shard"
)

// Record is a point returned by retrieve and scroll.
type Record struct {
	ID         point.ID
	Payload    point.Payload       // nil when not requested
	Vectors    point.Vectors       // nil when not requested
	Sparse     point.SparseVectors // nil when not requested or none
	Version    uint64
	OrderValue any // int64 or float64 when scrolled with order_by
}

func (c *Collection) checkVectorNames(v ops.VectorSelector) error {
	params, sparse := c.vectorParams(), c.sparseVectorParams()
	for i, n := range v.Names {
		if i > 0 && n == v.Names[i-1] {
			continue // a long list of one name costs no map lookups
		}
		if _, ok := params[n]; !ok {
			if _, ok := sparse[n]; !ok {
				return errVectorName(n)
			}
		}
	}
	return nil
}

// checkEvery is how many ids Retrieve looks up between two looks at its
// context.
const checkEvery = 1024

// interrupted wraps the context error that stopped a read, naming the read.
func interrupted(read string, err error) error {
	return fmt.Errorf("%s interrupted: %w", read, err)
}

// Retrieve returns the stored points among ids, in the order asked, each
// once; missing ids are skipped. What it allocates is bounded by the points
// stored, not by the length of ids.
func (c *Collection) Retrieve(ctx context.Context, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, interrupted("retrieve", err)
	}
	ctx, err := c.guard.Retrieve(ctx, ids)
	if err != nil {
		return nil, err
	}
	if err := c.checkVectorNames(wv); err != nil {
		return nil, err
	}
	sel := wv.Selection()
	var out []Record
	c.shard.View(func(s *shard.Reader) {
		n := min(len(ids), s.Len())
		out = make([]Record, 0, n)
		seen := make(map[point.ID]struct{}, min(n, 1024)) // of the points found
		for i, id := range ids {
			if i%checkEvery == checkEvery-1 {
				if err = ctx.Err(); err != nil {
					return
				}
			}
			if _, dup := seen[id]; dup {
				continue
			}
			if r, ok := s.Get(id, sel); ok {
				seen[id] = struct{}{}
				out = append(out, Record{ID: r.ID, Payload: wp.Apply(r.Payload), Vectors: r.Vectors, Sparse: r.Sparse, Version: r.Version})
			}
		}
	})
	if err != nil {
		return nil, interrupted("retrieve", err)
	}
	return out, nil
}

// Scroll returns one page and the id where the next page starts.
func (c *Collection) Scroll(ctx context.Context, req ops.ScrollRequest) ([]Record, *point.ID, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, interrupted("scroll", err)
	}
	ctx, err := c.guard.Scroll(ctx, c.facts(), req)
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkVectorNames(req.WithVector); err != nil {
		return nil, nil, err
	}
	if req.OrderBy != nil {
		return c.scrollOrdered(ctx, req)
	}
	var recs []segment.Record
	var next *point.ID
	var out []Record
	c.shard.View(func(s *shard.Reader) {
		if recs, next, err = s.Scroll(ctx, req.Filter, req.Offset, req.Limit, req.WithVector.Selection()); err != nil {
			return
		}
		out = make([]Record, len(recs))
		for i, r := range recs {
			out[i] = Record{ID: r.ID, Payload: req.WithPayload.Apply(r.Payload), Vectors: r.Vectors, Sparse: r.Sparse, Version: r.Version}
		}
	})
	if err != nil {
		return nil, nil, interrupted("scroll", err)
	}
	return out, next, nil
}

// Len returns the number of points.
func (c *Collection) Len() int {
	var n int
	c.shard.View(func(s *shard.Reader) { n = s.Len() })
	return n
}

// Count returns the number of points matching req.Filter (all without
// one): exact, or the planner's estimate (Qdrant's exact=false), which
// does not scan and so takes no look at ctx after the first.
func (c *Collection) Count(ctx context.Context, req ops.CountRequest) (int, error) {
	defer c.observeRead(time.Now(), req.Filter)
	if err := ctx.Err(); err != nil {
		return 0, interrupted("count", err)
	}
	ctx, err := c.guard.Count(ctx, c.facts(), req)
	if err != nil {
		return 0, err
	}
	var n int
	c.shard.View(func(s *shard.Reader) {
		if req.Exact {
			n, err = s.Count(ctx, req.Filter)
		} else {
			n = s.EstimateCount(req.Filter)
		}
	})
	if err != nil {
		return 0, interrupted("count", err)
	}
	return n, nil
}

// ScoredPoint is one search hit.
type ScoredPoint struct {
	ID      point.ID
	Version uint64
	Score   float32
	Payload point.Payload
	Vectors point.Vectors
	Sparse  point.SparseVectors
}

// Search returns the nearest points to a vector, or to the stored vector of
// a point (QueryID), best first: through each segment's HNSW graph unless
// the request is exact or the segment is small or not indexed yet (see
// segment.Store.Search). A query by point id excludes that point from the
// results, as Qdrant does.
func (c *Collection) Search(ctx context.Context, req ops.SearchRequest) ([]ScoredPoint, error) {
	defer c.observeRead(time.Now(), req.Filter)
	if err := ctx.Err(); err != nil {
		return nil, interrupted("search", err)
	}
	ctx, err := c.guard.Search(ctx, c.facts(), req)
	if err != nil {
		return nil, err
	}
	if sp, ok := c.sparseParams(req.Using); ok {
		return c.searchSparse(ctx, req, sp)
	}
	if req.Sparse != nil {
		if _, ok := c.vectorParams()[req.Using]; ok {
			return nil, errWrongSparse()
		}
	}
	params, ok := c.vectorParams()[req.Using]
	if !ok {
		return nil, errVectorName(req.Using)
	}
	if err := c.checkVectorNames(req.WithVector); err != nil {
		return nil, err
	}
	var q []float32
	var exclude map[point.ID]struct{}
	if req.QueryID != nil {
		var ok bool
		c.shard.View(func(s *shard.Reader) { q, ok = s.Vector(*req.QueryID, req.Using) })
		if !ok {
			return nil, point.PointNotFound(*req.QueryID)
		}
		exclude = map[point.ID]struct{}{*req.QueryID: {}}
	} else {
		// A multivector query (its sub-vectors flattened) on a
		// multivector; a plain vector there is one sub-vector, as in
		// Qdrant.
		if err := checkDim(params, req.Vector); err != nil {
			return nil, err
		}
		if err := point.CheckFinite(req.Vector); err != nil {
			return nil, point.Errorf(point.KindBadInput, "%v", err)
		}
		q = c.preprocess(req.Using, req.Vector)
	}
	// Limit and Offset come from the request and may be huge: their sum
	// saturates, and the segments bound what they keep by their points.
	want := req.Limit
	if req.Offset > 0 {
		want = min(req.Limit, math.MaxInt-req.Offset) + req.Offset
	}
	var out []ScoredPoint
	c.shard.View(func(s *shard.Reader) {
		var hits []shard.Hit
		hits, err = s.Search(ctx, segment.SearchParams{
			Vector: req.Using, Query: q, Filter: req.Filter,
			Limit: want, Threshold: req.ScoreThreshold, Exclude: exclude,
			HnswEf: req.Params.HnswEf, Exact: req.Params.Exact, IndexedOnly: req.Params.IndexedOnly,
			Quantization: quantParams(req.Params.Quantization),
		}, req.WithVector.Selection())
		if err != nil || req.Offset >= len(hits) {
			return
		}
		hits = hits[req.Offset:]
		out = make([]ScoredPoint, len(hits))
		for i, h := range hits {
			out[i] = ScoredPoint{ID: h.ID, Version: h.Version, Score: h.Score, Payload: req.WithPayload.Apply(h.Payload), Vectors: h.Vectors, Sparse: h.Sparse}
		}
	})
	if err != nil {
		return nil, interrupted("search", err)
	}
	return out, nil
}

func (c *Collection) scrollOrdered(ctx context.Context, req ops.ScrollRequest) ([]Record, *point.ID, error) {
	from, err := startFrom(req.OrderBy)
	if err != nil {
		return nil, nil, err
	}
	var recs []segment.OrderedRecord
	var out []Record
	c.shard.View(func(s *shard.Reader) {
		recs, err = s.ScrollOrdered(ctx, req.Filter, req.OrderBy.Key, req.OrderBy.Desc, from, req.Limit, req.WithVector.Selection())
		out = make([]Record, len(recs))
		for i, r := range recs {
			var ov any = r.OrderValue
			if r.Integer {
				ov = int64(r.OrderValue)
			}
			out[i] = Record{ID: r.ID, Payload: req.WithPayload.Apply(r.Payload), Vectors: r.Vectors, Sparse: r.Sparse, Version: r.Version, OrderValue: ov}
		}
	})
	switch {
	case isDone(err):
		return nil, nil, interrupted("scroll", err)
	case err != nil:
		return nil, nil, point.Errorf(point.KindBadRequest, "%v", err)
	}
	return out, nil, nil // Qdrant pages order_by scrolls with start_from, not an offset
}

// FacetHit is one facet value and its count.
type FacetHit = segment.FacetHit

// Facet counts the values at a key over the points matching the filter.
func (c *Collection) Facet(ctx context.Context, req ops.FacetRequest) ([]FacetHit, error) {
	if err := ctx.Err(); err != nil {
		return nil, interrupted("facet", err)
	}
	ctx, err := c.guard.Facet(ctx, c.facts(), req)
	if err != nil {
		return nil, err
	}
	var hits []FacetHit
	c.shard.View(func(s *shard.Reader) { hits, err = s.Facet(ctx, req.Key, req.Filter, req.Limit) })
	switch {
	case isDone(err):
		return nil, interrupted("facet", err)
	case err != nil:
		return nil, point.Errorf(point.KindBadInput, "%v", err)
	}
	return hits, nil
}

// isDone reports whether err is a context's: the read stopped because its
// context was done, not because of the request.
func isDone(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
