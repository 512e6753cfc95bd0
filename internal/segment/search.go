package segment

import (
	"container/heap"
	"context"
	"slices"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/index/hnsw"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// SearchParams describes a nearest-neighbour search on one column: through
// the column's HNSW graph when it has one, else (or when Exact) by scoring
// every candidate.
type SearchParams struct {
	Vector    string    // column name
	Query     []float32 // already preprocessed for the column's distance
	Filter    *filter.Filter
	Limit     int // results wanted (offset included by the caller)
	Threshold *float32
	Exclude   map[point.ID]struct{}

	// HNSW parameters (Qdrant's search params): HnswEf 0 means the
	// column's ef_construct; Exact scans every point; IndexedOnly skips
	// points not linked in the graph yet.
	HnswEf      int
	Exact       bool
	IndexedOnly bool

	// Quantization is QuantizationSearchParams: when the column has
	// quantized codes and the search is not Exact, candidates are scored
	// by the codes unless Ignore; Oversampling takes Limit*Oversampling
	// of them (rounded down, as Qdrant does) and Rescore (by default only
	// for binary quantization) scores those with the stored vectors
	// before the best Limit are kept. nil means Qdrant's defaults.
	Quantization *quant.SearchParams
}

// Scored is one search hit.
type Scored struct {
	Offset uint32
	Score  float32
}

// Search returns the best Limit hits among the live points with a vector
// in the column that pass the filter, best first, ties by id. It walks the
// column's graph (then scans the points not linked yet), unless the search
// is Exact, the column has no graph, or the filter is expected to match
// fewer than the full-scan threshold: those score every candidate. With
// quantized codes the candidates are scored by the codes, and rescored
// (see SearchParams.Quantization). The result heap holds at most the live
// points whatever Limit asks: Limit comes from a request and may be
// anything up to math.MaxInt. Once ctx is done the search stops within
// checkEvery points (or graph evaluations) and returns ctx's error.
func (s *Store) Search(ctx context.Context, p SearchParams) ([]Scored, error) {
	c, ok := s.columns[p.Vector]
	if !ok || p.Limit <= 0 || !FitsColumn(len(p.Query), c.spec.Dim, c.rows != nil) {
		return nil, nil
	}
	dist := c.spec.Distance
	if p.Limit = min(p.Limit, s.Len()); p.Limit == 0 {
		return nil, nil
	}
	want, threshold := p.Limit, p.Threshold
	exact := c.scorer(p.Query)
	score := exact.Score
	vi, g := s.graphFor(p.Vector)
	var qsc *quantScorer
	rescore := false
	if qz := s.codesFor(vi, p); qz != nil {
		qsc = qz.scorer(c, p.Query)
		score = qsc.Score
		p.Limit = min(max(want, p.Quantization.Candidates(want)), s.Len())
		if rescore = p.Quantization.ShouldRescore(qz.cfg); rescore {
			p.Threshold = nil // applied to the exact scores below
		}
	}
	h := &hitHeap{better: dist.Better, ids: s.ids, items: make([]Scored, 0, p.Limit)}
	m := s.newMatcher(p.Filter)
	offer := func(off uint32, score float32) {
		if p.Threshold != nil && !dist.PassesThreshold(score, *p.Threshold) {
			return
		}
		for _, it := range h.items { // a point linked mid-search may come twice
			if it.Offset == off {
				return
			}
		}
		if len(h.items) == p.Limit {
			// Equal scores rank by id, also at the cut, so that the
			// result does not depend on where points sit in the store.
			root := h.items[0]
			if !dist.Better(score, root.Score) && (dist.Better(root.Score, score) || !s.ids[off].Less(s.ids[root.Offset])) {
				return
			}
		}
		if len(h.items) < p.Limit {
			heap.Push(h, Scored{Offset: off, Score: score})
		} else {
			h.items[0] = Scored{Offset: off, Score: score}
			heap.Fix(h, 0)
		}
	}
	excluded := func(off uint32) bool {
		if p.Exclude == nil {
			return false
		}
		_, skip := p.Exclude[s.ids[off]]
		return skip
	}
	visit := func(off uint32) {
		if !c.has[off] {
			return
		}
		score := score(off)
		if p.Threshold != nil && !dist.PassesThreshold(score, *p.Threshold) {
			return
		}
		if len(h.items) == p.Limit {
			root := h.items[0]
			if !dist.Better(score, root.Score) && (dist.Better(root.Score, score) || !s.ids[off].Less(s.ids[root.Offset])) {
				return
			}
		}
		if excluded(off) || !m.match(off) {
			return
		}
		offer(off, score)
	}
	var err error
	if g != nil && !p.Exact && !s.fewMatches(m, vi.params.FullScanThreshold) {
		err = s.searchGraph(ctx, vi, g, p, qsc, m, excluded, offer, visit)
	} else {
		err = m.each(ctx, s, visit)
	}
	if err != nil {
		return nil, err
	}
	out := h.items
	if rescore {
		kept := out[:0]
		for _, it := range out {
			it.Score = exact.Score(it.Offset)
			if threshold == nil || dist.PassesThreshold(it.Score, *threshold) {
				kept = append(kept, it)
			}
		}
		out = kept
	}
	slices.SortFunc(out, func(a, b Scored) int {
		switch {
		case h.before(a, b):
			return -1
		case h.before(b, a):
			return 1
		}
		return 0
	})
	return out[:min(len(out), want)], nil
}

// codesFor returns the quantized codes a search uses: none for an exact
// search, one that ignores quantization, or a column without codes (as
// Qdrant's is_quantized_search).
func (s *Store) codesFor(vi *vectorIndex, p SearchParams) *quantized {
	if vi == nil || p.Exact || p.Quantization != nil && p.Quantization.Ignore {
		return nil
	}
	return vi.codes.Load()
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

func (s *Store) graphFor(name string) (*vectorIndex, *hnsw.Graph) {
	vi, ok := s.vindex[name]
	if !ok {
		return nil, nil
	}
	g := vi.graph.Load()
	if g == nil || g.Len() == 0 {
		return nil, nil
	}
	return vi, g
}

// searchGraph walks the graph over linked points that pass the filter, then
// scans the points still pending exactly (unless IndexedOnly); a point
// linked while the search runs may come from both, so offer deduplicates.
func (s *Store) searchGraph(ctx context.Context, vi *vectorIndex, g *hnsw.Graph, p SearchParams, qsc *quantScorer, m *matcher, excluded func(uint32) bool, offer func(uint32, float32), visit func(uint32)) error {
	c := s.columns[p.Vector]
	ef := p.HnswEf
	if ef <= 0 {
		ef = vi.params.EfConstruct
	}
	// Applies wait for the write lock we exclude, and the optimizer only
	// removes pending points, so an empty pending set stays empty.
	vi.mu.Lock()
	npending := len(vi.pending)
	vi.mu.Unlock()
	var allow func(off uint32) bool // nil: every linked point (the fast path)
	if m.p != nil || p.Exclude != nil || npending > 0 {
		allow = func(off uint32) bool {
			return int(off) < len(s.live) && s.live[off] && c.has[off] && !excluded(off) &&
				(npending == 0 || !vi.isPending(off)) && m.match(off)
		}
	}
	var res []hnsw.Result
	var err error
	if qsc != nil {
		res, err = g.SearchScorer(ctx, qsc, p.Limit, ef, allow) // (not the payload block walk yet)
	} else {
		res, err = s.searchWalk(ctx, g, p, m, ef, allow)
	}
	if err != nil {
		return err
	}
	for _, r := range res {
		offer(r.Off, r.Score)
	}
	if p.IndexedOnly || npending == 0 {
		return nil
	}
	vi.mu.Lock()
	pending := make([]uint32, 0, len(vi.pending))
	for off := range vi.pending {
		pending = append(pending, off)
	}
	vi.mu.Unlock()
	poll := newPoll(ctx)
	for _, off := range pending {
		if poll.tick() {
			return poll.err
		}
		if int(off) < len(s.live) && s.live[off] {
			visit(off)
		}
	}
	return nil
}

// fewMatches reports whether a filter is expected to match fewer than
// threshold points, so that scanning its matches beats a graph walk. With
// an index answer the candidate count decides; otherwise a deterministic
// sample of the points estimates the selectivity, as Qdrant samples when no
// payload index can.
func (s *Store) fewMatches(m *matcher, threshold int) bool {
	switch {
	case m.p == nil:
		return false
	case m.cand != nil:
		return m.cand.count() < threshold
	}
	const samples = 256
	live := len(s.offsets)
	if live == 0 {
		return true
	}
	step := max(len(s.live)/samples, 1)
	seen, hit := 0, 0
	for off := 0; off < len(s.live) && seen < samples; off += step {
		if !s.live[off] {
			continue
		}
		seen++
		if m.match(uint32(off)) {
			hit++
		}
	}
	if seen == 0 {
		return true
	}
	return hit*live/seen < threshold
}
