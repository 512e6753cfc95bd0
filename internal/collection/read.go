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
	// Each shard looks up the ids it owns; the answer keeps the order
	// asked, each found id once.
	l := c.layout()
	parts, err := l.retrieveParts(RoutingOf(ctx), ids)
	if err != nil {
		return nil, err
	}
	cons := RoutingOf(ctx).Consistency
	found := map[point.ID]Record{}
	for _, p := range parts {
		rs, part := p.rs, p.ids
		recs, err := readSet(ctx, c, rs, cons,
			func(sh *shard.Shard) ([]Record, error) { return retrieveLocal(ctx, sh, part, wp, wv) },
			func(r Remote) ([]Record, error) { return r.Retrieve(ctx, c.name, rs.id, part, wp, wv) },
			resolveRecords)
		if err != nil {
			if isDone(err) {
				return nil, interrupted("retrieve", err)
			}
			return nil, err
		}
		for _, r := range recs {
			if prev, ok := found[r.ID]; !ok || r.Version > prev.Version {
				found[r.ID] = r
			}
		}
	}
	out := make([]Record, 0, len(found))
	for _, id := range ids {
		if r, ok := found[id]; ok {
			out = append(out, r)
			delete(found, id)
		}
	}
	return out, nil
}

// retrieveLocal is Retrieve on one local shard: the ids it holds, in the
// order asked, each once.
func retrieveLocal(ctx context.Context, sh *shard.Shard, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]Record, error) {
	sel := wv.Selection()
	var out []Record
	var err error
	sh.View(func(s *shard.Reader) {
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
	return out, err
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
	// Every shard pages from the offset; the merged page is the first
	// Limit ids of all, and the next page starts at the id after them:
	// the first id left over, or, when every shard's page fit, the lowest
	// id a shard would continue from.
	type page struct {
		recs []Record
		next *point.ID
	}
	got, err := fanOut(ctx, c, "scroll",
		func(_ *ReplicaSet, sh *shard.Shard) (page, error) {
			recs, next, err := scrollLocal(ctx, sh, req)
			return page{recs, next}, err
		},
		func(rs *ReplicaSet, r Remote) (page, error) {
			recs, next, err := r.Scroll(ctx, c.name, rs.id, req)
			return page{recs, next}, err
		},
		func(answers []page, all bool) page {
			recs := make([][]Record, len(answers))
			nexts := make([]*point.ID, len(answers))
			for i, a := range answers {
				recs[i], nexts[i] = a.recs, a.next
			}
			out, next := mergeScroll(resolveByID(recs, all, recordID, recordVersion), nexts, req.Limit)
			return page{out, next}
		})
	if err != nil {
		return nil, nil, err
	}
	pages := make([][]Record, len(got))
	nexts := make([]*point.ID, len(got))
	for i, p := range got {
		pages[i], nexts[i] = p.recs, p.next
	}
	out, next := mergeScroll(pages, nexts, req.Limit)
	return out, next, nil
}

// scrollLocal is Scroll on one local shard.
func scrollLocal(ctx context.Context, sh *shard.Shard, req ops.ScrollRequest) ([]Record, *point.ID, error) {
	var recs []segment.Record
	var next *point.ID
	var out []Record
	var err error
	sh.View(func(s *shard.Reader) {
		if recs, next, err = s.Scroll(ctx, req.Filter, req.Offset, req.Limit, req.WithVector.Selection()); err != nil {
			return
		}
		out = make([]Record, len(recs))
		for i, r := range recs {
			out[i] = Record{ID: r.ID, Payload: req.WithPayload.Apply(r.Payload), Vectors: r.Vectors, Sparse: r.Sparse, Version: r.Version}
		}
	})
	return out, next, err
}

// Len returns the number of points.
func (c *Collection) Len() int {
	var n int
	c.viewAll(func(s *shard.Reader) { n += s.Len() })
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
	counts, err := fanOut(ctx, c, "count",
		func(_ *ReplicaSet, sh *shard.Shard) (int, error) { return countLocal(ctx, sh, req) },
		func(rs *ReplicaSet, r Remote) (int, error) { return r.Count(ctx, c.name, rs.id, req) },
		resolveCount)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	return total, nil
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
		rec, ok, err := c.storedPoint(ctx, *req.QueryID, req.Using)
		if err != nil {
			return nil, err
		}
		if q, ok = rec.Vectors[req.Using]; !ok {
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
	sp := segment.SearchParams{
		Vector: req.Using, Query: q, Filter: req.Filter,
		Limit: want, Threshold: req.ScoreThreshold, Exclude: exclude,
		HnswEf: req.Params.HnswEf, Exact: req.Params.Exact, IndexedOnly: req.Params.IndexedOnly,
		Quantization: quantParams(req.Params.Quantization),
	}
	parts, err := fanOut(ctx, c, "search",
		func(_ *ReplicaSet, sh *shard.Shard) (out []ScoredPoint, err error) {
			sh.View(func(s *shard.Reader) {
				var hits []shard.Hit
				if hits, err = s.Search(ctx, sp, req.WithVector.Selection()); err == nil {
					out = scored(hits, req.WithPayload)
				}
			})
			return out, err
		},
		func(rs *ReplicaSet, r Remote) ([]ScoredPoint, error) {
			sub := req
			sub.Vector = q
			return remoteSearch(ctx, r, c.name, rs.id, sub, req.QueryID, want)
		},
		resolveHits(params.Distance.Better, want))
	if err != nil {
		return nil, err
	}
	return mergeHits(parts, params.Distance.Better, req.Offset, req.Limit), nil
}

// scored turns a shard's hits into the collection's.
func scored(hits []shard.Hit, wp ops.PayloadSelector) []ScoredPoint {
	out := make([]ScoredPoint, len(hits))
	for i, h := range hits {
		out[i] = ScoredPoint{ID: h.ID, Version: h.Version, Score: h.Score, Payload: wp.Apply(h.Payload), Vectors: h.Vectors, Sparse: h.Sparse}
	}
	return out
}

// remoteSearch asks a remote replica for a shard's best want hits to sub,
// whose query the caller set: a search by point id is resolved on the
// shard that owns the point, then sent to the others as the vector, and
// that point (skip, when not nil) is left out of the answer as a local
// search excludes it.
func remoteSearch(ctx context.Context, r Remote, coll string, id ShardID, sub ops.SearchRequest, skip *point.ID, want int) ([]ScoredPoint, error) {
	sub.Offset, sub.Limit, sub.QueryID = 0, want, nil
	if skip != nil {
		sub.Limit = min(want, math.MaxInt-1) + 1
	}
	hits, err := r.Search(ctx, coll, id, sub)
	if err != nil || skip == nil {
		return hits, err
	}
	out := make([]ScoredPoint, 0, len(hits))
	for _, h := range hits {
		if h.ID != *skip {
			out = append(out, h)
		}
	}
	return out[:min(len(out), want)], nil
}

// storedPoint returns the point id with its vector name (dense or
// sparse), from the shard that owns it.
func (c *Collection) storedPoint(ctx context.Context, id point.ID, name string) (Record, bool, error) {
	parts, err := c.layout().retrieveParts(RoutingOf(ctx), []point.ID{id})
	if err != nil {
		return Record{}, false, err
	}
	// Custom sharding without a key: the point may be in any key's
	// shard; the first that holds it answers.
	wv := ops.VectorSelector{Enable: true, Names: []string{name}}
	for _, p := range parts {
		rs := p.rs
		if err := c.passBarrier(ctx, rs); err != nil {
			return Record{}, false, err
		}
		recs, err := readFrom(ctx, rs,
			func(sh *shard.Shard) ([]Record, error) {
				return retrieveLocal(ctx, sh, []point.ID{id}, ops.PayloadSelector{}, wv)
			},
			func(r Remote) ([]Record, error) {
				return r.Retrieve(ctx, c.name, rs.id, []point.ID{id}, ops.PayloadSelector{}, wv)
			})
		switch {
		case err != nil && isDone(err):
			return Record{}, false, interrupted("search", err)
		case err != nil:
			return Record{}, false, err
		case len(recs) > 0:
			return recs[0], true, nil
		}
	}
	return Record{}, false, nil
}

func (c *Collection) scrollOrdered(ctx context.Context, req ops.ScrollRequest) ([]Record, *point.ID, error) {
	from, err := startFrom(req.OrderBy)
	if err != nil {
		return nil, nil, err
	}
	parts, err := fanOut(ctx, c, "scroll",
		func(_ *ReplicaSet, sh *shard.Shard) ([]Record, error) { return scrollOrderedLocal(ctx, sh, req, from) },
		func(rs *ReplicaSet, r Remote) ([]Record, error) {
			recs, _, err := r.Scroll(ctx, c.name, rs.id, req)
			return recs, err
		},
		func(answers [][]Record, all bool) []Record {
			return mergeOrdered(append(resolveByID(answers, all, recordID, recordVersion), nil), req.OrderBy.Desc, req.Limit)
		})
	if err != nil {
		return nil, nil, err
	}
	return mergeOrdered(parts, req.OrderBy.Desc, req.Limit), nil, nil // Qdrant pages order_by scrolls with start_from, not an offset
}

// scrollOrderedLocal is an order_by scroll on one local shard.
func scrollOrderedLocal(ctx context.Context, sh *shard.Shard, req ops.ScrollRequest, from *float64) ([]Record, error) {
	var recs []segment.OrderedRecord
	var out []Record
	var err error
	sh.View(func(s *shard.Reader) {
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
		return nil, err
	case err != nil:
		return nil, point.Errorf(point.KindBadRequest, "%v", err)
	}
	return out, nil
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
	// A local shard counts every value (as the shard's segments do), so
	// that the merged counts are exact; a remote one answers its top
	// Limit, as Qdrant's shards do.
	limit := req.Limit
	if len(c.layout().sets) > 1 {
		limit = math.MaxInt
	}
	parts, err := fanOut(ctx, c, "facet",
		func(_ *ReplicaSet, sh *shard.Shard) ([]FacetHit, error) { return facetLocal(ctx, sh, req, limit) },
		func(rs *ReplicaSet, r Remote) ([]FacetHit, error) { return r.Facet(ctx, c.name, rs.id, req) },
		resolveFacets)
	if err != nil {
		return nil, err
	}
	if len(parts) == 1 && limit == req.Limit && RoutingOf(ctx).Consistency.Factor <= 1 && RoutingOf(ctx).Consistency.Kind == ConsistencyFactor {
		return parts[0], nil
	}
	return segment.MergeFacets(parts, req.Limit), nil
}

// isDone reports whether err is a context's: the read stopped because its
// context was done, not because of the request.
func isDone(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// countLocal is Count on one local shard.
func countLocal(ctx context.Context, sh *shard.Shard, req ops.CountRequest) (n int, err error) {
	sh.View(func(s *shard.Reader) {
		if req.Exact {
			n, err = s.Count(ctx, req.Filter)
		} else {
			n = s.EstimateCount(req.Filter)
		}
	})
	return n, err
}

// facetLocal is Facet on one local shard: its top limit values.
func facetLocal(ctx context.Context, sh *shard.Shard, req ops.FacetRequest, limit int) (hits []FacetHit, err error) {
	sh.View(func(s *shard.Reader) { hits, err = s.Facet(ctx, req.Key, req.Filter, limit) })
	switch {
	case isDone(err):
		return nil, err
	case err != nil:
		return nil, point.Errorf(point.KindBadInput, "%v", err)
	}
	return hits, nil
}
