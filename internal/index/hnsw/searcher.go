package hnsw

import "sync/atomic"

// searcher is the per-search scratch space, pooled per graph: the visited
// set and the two heaps. Build gives each worker its own.
type searcher struct {
	vis   visitSet
	cand  minHeap
	top   maxHeap
	pool  pool              // the unfiltered walk's candidates and results
	ids   []uint32          // gather's output: unvisited neighbours
	found []item            // drained results, closest first
	sel   []item            // heuristic output
	prune []item            // candidates while pruning a list
	sel2  []item            // heuristic output while pruning
	plan  [maxLevels][]item // a new node's links per level, until backlinked
	evals int               // distance evaluations of the last searchLevel
}

func (g *Graph) getSearcher(capacity int) *searcher {
	s, _ := g.searchers.Get().(*searcher)
	if s == nil {
		s = &searcher{}
	}
	s.fit(capacity)
	return s
}

func (g *Graph) putSearcher(s *searcher) { g.searchers.Put(s) }

// fit sizes the visited set for a layout of the given capacity.
func (s *searcher) fit(capacity int) { s.vis.fit(capacity) }

// next starts a new search: nothing is visited.
func (s *searcher) next() { s.vis.reset() }

// drain empties the result heap into s.found, closest first.
func (s *searcher) drain() []item {
	n := s.top.len()
	if cap(s.found) < n {
		s.found = make([]item, n, 2*n)
	}
	f := s.found[:n]
	for i := n - 1; i >= 0; i-- {
		f[i] = s.top.pop()
	}
	s.found = f
	return f
}

// filter decides which visited nodes may enter a result set. all is the
// fast path: nothing is excluded.
type filter struct {
	all     bool
	allow   func(off uint32) bool
	deleted []uint32 // nil when nothing is deleted
	skip    uint32   // a node excluded from results (the one being linked)
}

func (f *filter) pass(id uint32) bool {
	if id == f.skip {
		return false
	}
	if f.deleted != nil && atomic.LoadUint32(&f.deleted[id>>5])&(1<<(id&31)) != 0 {
		return false
	}
	return f.allow == nil || f.allow(id)
}
