package segment

import (
	"container/heap"
	"slices"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// SearchParams describes an exact nearest-neighbour search on one column.
type SearchParams struct {
	Vector    string    // column name
	Query     []float32 // already preprocessed for the column's distance
	Filter    *filter.Filter
	Limit     int // results wanted (offset included by the caller)
	Threshold *float32
	Exclude   map[point.ID]struct{}
}

// Scored is one search hit.
type Scored struct {
	Offset uint32
	Score  float32
}

// Search scans every live point with a vector in the column and returns the
// best Limit hits, best first. It allocates only the result heap.
func (s *Store) Search(p SearchParams) []Scored {
	c, ok := s.columns[p.Vector]
	if !ok || p.Limit <= 0 {
		return nil
	}
	dist := c.spec.Distance
	d := c.spec.Dim
	h := &hitHeap{better: dist.Better, ids: s.ids, items: make([]Scored, 0, p.Limit)}
	m := s.newMatcher(p.Filter)
	visit := func(off uint32) {
		if !c.has[off] {
			return
		}
		score := dist.Score(p.Query, c.data[int(off)*d:int(off+1)*d])
		if p.Threshold != nil && !dist.PassesThreshold(score, *p.Threshold) {
			return
		}
		if len(h.items) == p.Limit {
			// Equal scores rank by id, also at the cut, so that the
			// result does not depend on where points sit in the store.
			root := h.items[0]
			if !dist.Better(score, root.Score) && (dist.Better(root.Score, score) || !s.ids[off].Less(s.ids[root.Offset])) {
				return
			}
		}
		if p.Exclude != nil {
			if _, skip := p.Exclude[s.ids[off]]; skip {
				return
			}
		}
		if !m.match(off) {
			return
		}
		if len(h.items) < p.Limit {
			heap.Push(h, Scored{Offset: off, Score: score})
		} else {
			h.items[0] = Scored{Offset: off, Score: score}
			heap.Fix(h, 0)
		}
	}
	m.each(s, visit)
	out := h.items
	slices.SortFunc(out, func(a, b Scored) int {
		switch {
		case h.before(a, b):
			return -1
		case h.before(b, a):
			return 1
		}
		return 0
	})
	return out
}

// RecordAt returns the record at an offset returned by Search.
func (s *Store) RecordAt(off uint32, sel VectorSelection) Record { return s.record(off, sel) }

// hitHeap keeps the worst kept hit at the root. Hits are ordered by score,
// then by id.
type hitHeap struct {
	better func(a, b float32) bool
	ids    []point.ID
	items  []Scored
}

// before reports whether hit a ranks before hit b.
func (h *hitHeap) before(a, b Scored) bool {
	switch {
	case h.better(a.Score, b.Score):
		return true
	case h.better(b.Score, a.Score):
		return false
	}
	return h.ids[a.Offset].Less(h.ids[b.Offset])
}

func (h *hitHeap) Len() int           { return len(h.items) }
func (h *hitHeap) Less(i, j int) bool { return h.before(h.items[j], h.items[i]) }
func (h *hitHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *hitHeap) Push(x any)         { h.items = append(h.items, x.(Scored)) }
func (h *hitHeap) Pop() any {
	n := len(h.items) - 1
	x := h.items[n]
	h.items = h.items[:n]
	return x
}
