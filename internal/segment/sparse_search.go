package segment

import (
	"container/heap"
	"context"
	"slices"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/index/sparse"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// SparseSearchParams describe a search by sparse vector: the dot product
// of the query with each stored vector it shares a dimension with, higher
// first.
type SparseSearchParams struct {
	Vector string             // sparse column name
	Query  point.SparseVector // sorted and finite, modifiers (idf) applied
	Filter *filter.Filter
	Limit  int // results wanted (offset included by the caller)
	// Threshold keeps scores at least this high.
	Threshold *float32
	Exclude   map[point.ID]struct{}
	// Exact scores the stored vectors, not the index.
	Exact bool
	// FullScanThreshold: a filtered search on an indexed segment that is
	// expected to match fewer points scores those points one by one
	// (Qdrant's sparse index.full_scan_threshold, in vectors).
	FullScanThreshold int
}

// SearchSparse returns the best Limit hits among the live points with a
// vector in the sparse column that share a dimension with the query and
// pass the filter, best first, ties by id; an empty query finds nothing,
// as in Qdrant. A segment without an inverted index (appendable) scores
// every candidate's vector; an indexed one walks the query's posting lists
// unless the search is Exact (the vectors) or the filter is expected to
// match fewer than FullScanThreshold points (the lists, point by point).
// Once ctx is done it stops within checkEvery points or postings and
// returns ctx's error.
func (s *Store) SearchSparse(ctx context.Context, p SparseSearchParams) ([]Scored, error) {
	c, ok := s.sparse[p.Vector]
	if !ok || p.Limit <= 0 || len(p.Query.Indices) == 0 {
		return nil, nil
	}
	if p.Limit = min(p.Limit, c.count); p.Limit == 0 {
		return nil, nil
	}
	top := &topHits{h: hitHeap{better: vector.Dot.Better, ids: s.ids, items: make([]Scored, 0, p.Limit)}, limit: p.Limit, threshold: p.Threshold}
	m := s.newMatcher(p.Filter)
	keep := func(off uint32) bool {
		if !c.has[off] || !m.match(off) {
			return false
		}
		if p.Exclude != nil {
			if _, skip := p.Exclude[s.ids[off]]; skip {
				return false
			}
		}
		return true
	}
	var err error
	switch {
	case c.ix == nil || p.Exact:
		err = m.each(ctx, s, func(off uint32) {
			if !c.has[off] {
				return
			}
			if score, ok := p.Query.Dot(c.vecs[off]); ok && top.wants(off, score) && keep(off) {
				top.push(off, score)
			}
		})
	case p.Filter != nil && s.fewMatches(m, p.FullScanThreshold):
		q := c.ix.Prepare(p.Query)
		if q.Empty() {
			break
		}
		err = m.each(ctx, s, func(off uint32) {
			if !c.has[off] {
				return
			}
			if score, ok := q.ScoreOne(off); ok && top.wants(off, score) && keep(off) {
				top.push(off, score)
			}
		})
	default:
		q := c.ix.Prepare(p.Query)
		if q.Empty() {
			break
		}
		sc := sparse.GetScratch(c.Slots())
		err = q.Score(ctx, sc, func(off uint32, score float32) {
			if s.live[off] && top.wants(off, score) && keep(off) {
				top.push(off, score)
			}
		})
		sparse.PutScratch(sc)
	}
	if err != nil {
		return nil, err
	}
	return top.sorted(), nil
}

// topHits keeps the best limit hits (higher scores first, ties by id) at or
// above an optional threshold.
type topHits struct {
	h         hitHeap
	limit     int
	threshold *float32
}

// wants reports whether a hit of this score would be kept now.
func (t *topHits) wants(off uint32, score float32) bool {
	if t.threshold != nil && !(score >= *t.threshold) {
		return false
	}
	if len(t.h.items) < t.limit {
		return true
	}
	return t.h.before(Scored{Offset: off, Score: score}, t.h.items[0])
}

func (t *topHits) push(off uint32, score float32) {
	if len(t.h.items) < t.limit {
		heap.Push(&t.h, Scored{Offset: off, Score: score})
		return
	}
	t.h.items[0] = Scored{Offset: off, Score: score}
	heap.Fix(&t.h, 0)
}

func (t *topHits) sorted() []Scored {
	out := t.h.items
	slices.SortFunc(out, func(a, b Scored) int {
		switch {
		case t.h.before(a, b):
			return -1
		case t.h.before(b, a):
			return 1
		}
		return 0
	})
	return out
}
