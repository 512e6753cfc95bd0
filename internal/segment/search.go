package segment

import (
	"container/heap"
	"slices"

	"github.com/shoaldb/shoal/internal/point"
)

// SearchParams describes an exact nearest-neighbour search on one column.
type SearchParams struct {
	Vector    string    // column name
	Query     []float32 // already preprocessed for the column's distance
	Filter    Matcher
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
	h := &hitHeap{better: dist.Better, items: make([]Scored, 0, p.Limit)}
	for off, l := range s.live {
		if !l || !c.has[off] {
			continue
		}
		score := dist.Score(p.Query, c.data[off*d:(off+1)*d])
		if p.Threshold != nil && !dist.PassesThreshold(score, *p.Threshold) {
			continue
		}
		if len(h.items) == p.Limit && !dist.Better(score, h.items[0].Score) {
			continue
		}
		if p.Exclude != nil {
			if _, skip := p.Exclude[s.ids[off]]; skip {
				continue
			}
		}
		if !s.matches(p.Filter, uint32(off)) {
			continue
		}
		if len(h.items) < p.Limit {
			heap.Push(h, Scored{Offset: uint32(off), Score: score})
		} else {
			h.items[0] = Scored{Offset: uint32(off), Score: score}
			heap.Fix(h, 0)
		}
	}
	out := h.items
	slices.SortStableFunc(out, func(a, b Scored) int {
		switch {
		case dist.Better(a.Score, b.Score):
			return -1
		case dist.Better(b.Score, a.Score):
			return 1
		}
		return s.ids[a.Offset].Compare(s.ids[b.Offset])
	})
	return out
}

// RecordAt returns the record at an offset returned by Search.
func (s *Store) RecordAt(off uint32, sel VectorSelection) Record { return s.record(off, sel) }

// hitHeap keeps the worst kept hit at the root.
type hitHeap struct {
	better func(a, b float32) bool
	items  []Scored
}

func (h *hitHeap) Len() int           { return len(h.items) }
func (h *hitHeap) Less(i, j int) bool { return h.better(h.items[j].Score, h.items[i].Score) }
func (h *hitHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *hitHeap) Push(x any)         { h.items = append(h.items, x.(Scored)) }
func (h *hitHeap) Pop() any {
	n := len(h.items) - 1
	x := h.items[n]
	h.items = h.items[:n]
	return x
}
