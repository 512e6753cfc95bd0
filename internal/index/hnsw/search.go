package hnsw

import (
	"context"
	"math"
	"math/bits"
	"sync/atomic"

	"github.com/shoaldb/shoal/internal/vector"
)

// Search returns up to k points nearest to q, best first. q must already be
// preprocessed for the distance (normalised for Cosine) and have Dim floats;
// otherwise Search returns nothing. ef below k is raised to k. allow, if not
// nil, restricts the results; it is called from the searching goroutine
// only. See the package doc for when Search scans exactly instead of
// walking. Once ctx is done the search stops within checkEvery distance
// evaluations and returns ctx's error.
func (g *Graph) Search(ctx context.Context, q []float32, k, ef int, allow func(off uint32) bool) ([]Result, error) {
	if len(q) != g.cfg.Dim {
		return nil, nil
	}
	qq := g.prepare(q)
	qq.stop = newStopCheck(ctx)
	res, _ := g.search(qq, k, ef, allow, true)
	return qq.answer(res)
}

// prepare wraps a float32 query: through the Space when the storage is
// not float32. Its stop check is the zero value: it never stops.
func (g *Graph) prepare(q []float32) *query {
	if g.sp != nil {
		return &query{sc: g.sp.Query(q)}
	}
	return &query{v: q}
}

// SearchExact scores every allowed live point: the caller's choice when a
// filter is known to be very selective. ctx is honoured as by Search.
func (g *Graph) SearchExact(ctx context.Context, q []float32, k int, allow func(off uint32) bool) ([]Result, error) {
	if k <= 0 || len(q) != g.cfg.Dim {
		return nil, nil
	}
	qq := g.prepare(q)
	qq.stop = newStopCheck(ctx)
	return qq.answer(g.exact(g.lay.Load(), qq, k, allow))
}

// path tells tests how a search was answered.
type path uint8

const (
	walked  path = iota
	small        // exact: the graph is no larger than the beam or FullScanThreshold
	gaveUp       // exact: the filtered walk was predicted to cost more
	invalid      // nothing to search
	stopped      // the query's context was done; the results are partial
)

// search answers Search; scan=false forces the walk (tests measure it).
func (g *Graph) search(q *query, k, ef int, allow func(off uint32) bool, scan bool) ([]Result, path) {
	if k <= 0 || q.sc == nil && len(q.v) != g.cfg.Dim {
		return nil, invalid
	}
	ef = max(ef, k)
	e := g.entry.Load() // before the layout: a newer entry implies a newer layout
	if e == 0 {
		return nil, invalid
	}
	l := g.lay.Load()
	nodes := int(g.nodes.Load())
	if scan && (nodes <= ef || nodes <= g.cfg.FullScanThreshold) {
		return g.exact(l, q, k, allow), small
	}
	ep, top := unpackEntry(e)

	s := g.getSearcher(l.cap)
	defer g.putSearcher(s)

	cur, curD := ep, g.dist(q, ep)
	for lev := top; lev > 0; lev-- {
		cur, curD = g.greedy(l, q, cur, curD, lev)
	}
	f := filter{allow: allow, skip: noNode}
	if g.dead.Load() > 0 {
		f.deleted = l.deleted
	}
	f.all = f.allow == nil && f.deleted == nil
	budget := -1
	if !f.all && scan {
		budget = nodes
	}
	s.next()
	if f.all {
		var found []item
		if q.sc != nil {
			found = g.searchPoolScorer(s, l, q.sc, cur, curD, ef, &q.stop)
		} else {
			found = g.searchPool(s, l, q.v, cur, curD, ef, &q.stop)
		}
		if q.stop.err != nil {
			return nil, stopped
		}
		return g.results(found[:min(k, len(found))]), walked
	}
	if !g.searchLevel(s, l, q, cur, curD, 0, ef, &f, budget) {
		if q.stop.err != nil {
			return nil, stopped
		}
		return g.exact(l, q, k, allow), gaveUp
	}
	for s.top.len() > k {
		s.top.pop()
	}
	return g.results(s.drain()), walked
}

// searchPool is searchLevel on level 0 without a filter, with one sorted
// pool of the ef best nodes in place of the two heaps: a candidate that
// falls out of the best ef would never be expanded before the walk stops,
// so the pool's unexpanded entries are exactly the candidates that matter.
// Inserting is a binary search and a short copy, cheaper than two sifts.
// Returns the pool, closest first.
func (g *Graph) searchPool(s *searcher, l *layout, q []float32, ep uint32, epD float32, ef int, stop *stopCheck) []item {
	p := s.pool.reset(ef)
	s.vis.add(ep)
	p.insert(epD, ep)
	evals := 0
	flat, dim := g.flatVectors()
	vp, lp := g.vectorPrefetch(), g.linkPrefetch(l)
	ids := s.ids
	for {
		c, ok := p.next()
		if !ok {
			break
		}
		if nx, ok := p.peek(); ok {
			lp.one(nx) // likely the next expanded: its links load meanwhile
		}
		blk := g.block(l, c, 0)
		n := min(int(atomic.LoadUint32(&blk[0])), len(blk)-1)
		ids = s.vis.gather(ids[:0], blk[1:1+n], l.cap)
		vp.start(ids)
		evals += len(ids)
		for i, nb := range ids {
			vp.step(ids, i)
			// The vector fetch, the metric switch (distVec) and the pool's
			// rejection test are inlined by hand: as calls they cost a few
			// ns per node, 5-10% of a search that runs in cache.
			var v []float32
			if j := int(nb) * dim; j+dim <= len(flat) {
				v = flat[j : j+dim : j+dim]
			} else {
				v = g.vecs.Vector(nb)
			}
			var d float32
			switch g.metric {
			case negDot:
				d = -vector.DotProduct(q, v)
			case sqL2:
				d = vector.SquaredL2(q, v)
			default:
				d = vector.L1(q, v)
			}
			if len(p.a) == ef && d >= p.a[ef-1].d {
				continue
			}
			p.insert(d, nb)
		}
		if stop.spend(len(ids)) {
			break
		}
	}
	s.ids = ids
	s.evals = evals
	s.found = p.items(s.found)
	return s.found
}

// Cost model of a filtered walk against an exact scan, in units of one walk
// step (a distance to a random vector: a cache miss). Measured on 100k x 128
// with M=16: filling ef results takes about walkStepsPerResult/f steps when a
// fraction f of the nodes pass; a scan costs an allow call per node (cheap,
// sequential) and a distance per passing node (sequential reads). At 100k the
// crossover sits between 10% (walk 1.2 ms, scan 2.2 ms) and 3% (walk 4.7 ms,
// scan 0.4 ms).
const (
	walkStepsPerResult = 12
	scanAllowCost      = 1.0 / 64
	scanDistanceCost   = 1.0
	walkWarmup         = 256 // checked nodes before the pass rate is trusted
)

// giveUp reports whether a filtered walk over a graph of nodes points, which
// has evaluated evals nodes and seen passed of checked ones pass, should
// stop for an exact scan: because finishing is predicted to cost more than
// a scan, or it already has.
func giveUp(evals, checked, passed, ef, nodes int) bool {
	if checked < walkWarmup {
		return false
	}
	frac := float64(passed+1) / float64(checked+1)
	scan := float64(nodes) * (scanAllowCost + frac*scanDistanceCost)
	return walkStepsPerResult*float64(ef)/frac > scan || float64(evals) > scan
}

func (g *Graph) results(found []item) []Result {
	out := make([]Result, len(found))
	for i, it := range found {
		out[i] = Result{Off: it.id, Score: g.score(it.d)}
	}
	return out
}

// greedy walks one upper level to the node closest to q (beam width 1),
// ignoring filters and deletions: those nodes still route.
func (g *Graph) greedy(l *layout, q *query, cur uint32, curD float32, lev int) (uint32, float32) {
	for changed := true; changed; {
		changed = false
		blk := g.block(l, cur, lev)
		n := min(int(atomic.LoadUint32(&blk[0])), len(blk)-1)
		for i := 1; i <= n; i++ {
			nb := atomic.LoadUint32(&blk[i])
			if int(nb) >= l.cap {
				continue // linked after l was replaced: upper blocks are shared
			}
			if d := g.dist(q, nb); d < curD {
				cur, curD, changed = nb, d, true
			}
		}
	}
	return cur, curD
}

// searchLevel is the beam search of one level from ep. On return s.top holds
// up to ef nodes that pass f. Nodes that fail f are still expanded, and the
// walk goes on until ef passing nodes are held or the candidates run out
// (hnswlib's rule for filters and deletions). With budget >= 0 (the graph's
// size) it returns false as soon as giveUp says an exact scan is cheaper; it
// also returns false, with qq.stop.err set, once the query's context is done.
// The caller starts a new visited set (s.next) first.
func (g *Graph) searchLevel(s *searcher, l *layout, qq *query, ep uint32, epD float32, lev, ef int, f *filter, budget int) bool {
	s.cand.reset()
	s.top.reset()
	s.vis.add(ep)
	flat, dim := g.flatVectors()
	q, sc := qq.v, qq.sc
	vp := g.vectorPrefetch()
	if sc != nil {
		vp = scorerPrefetch(sc)
	}
	var lp rowPrefetch
	if lev == 0 {
		lp = g.linkPrefetch(l)
	}
	ids := s.ids
	s.cand.push(epD, ep)
	bound := float32(math.Inf(1))
	if f.all || f.pass(ep) {
		s.top.push(epD, ep)
		bound = epD
	}
	evals, checked, passed := 0, 0, 0
	for s.cand.len() > 0 {
		c := s.cand.top()
		if c.d > bound && s.top.len() >= ef {
			break
		}
		s.cand.pop()
		if s.cand.len() > 0 {
			lp.one(s.cand.top().id) // likely the next expanded
		}
		blk := g.block(l, c.id, lev)
		n := min(int(atomic.LoadUint32(&blk[0])), len(blk)-1)
		ids = s.vis.gather(ids[:0], blk[1:1+n], l.cap)
		vp.start(ids)
		evals += len(ids)
		for i, nb := range ids {
			vp.step(ids, i)
			var d float32 // fetch and distVec inlined, as in searchPool
			if sc != nil {
				d = sc.Dist(nb)
			} else {
				var v []float32
				if j := int(nb) * dim; j+dim <= len(flat) {
					v = flat[j : j+dim : j+dim]
				} else {
					v = g.vecs.Vector(nb)
				}
				switch g.metric {
				case negDot:
					d = -vector.DotProduct(q, v)
				case sqL2:
					d = vector.SquaredL2(q, v)
				default:
					d = vector.L1(q, v)
				}
			}
			if d < bound || s.top.len() < ef {
				s.cand.push(d, nb)
				checked++
				if f.all || f.pass(nb) {
					passed++
					if s.top.len() < ef {
						s.top.push(d, nb)
					} else {
						s.top.replaceTop(d, nb)
					}
					bound = s.top.top().d
				}
			}
		}
		if budget >= 0 && giveUp(evals, checked, passed, ef, budget) || qq.stop.spend(len(ids)) {
			s.ids, s.evals = ids, evals
			return false
		}
	}
	s.ids, s.evals = ids, evals
	return true
}

// exact scans every live node that allow accepts. It returns nil once the
// query's context is done (q.stop.err says so).
func (g *Graph) exact(l *layout, q *query, k int, allow func(off uint32) bool) []Result {
	s := g.getSearcher(0)
	defer g.putSearcher(s)
	h := &s.top
	h.reset()
	for w := range l.present {
		if q.stop.spend(32) { // the nodes of one word
			return nil
		}
		word := atomic.LoadUint32(&l.present[w]) &^ atomic.LoadUint32(&l.deleted[w])
		for word != 0 {
			id := uint32(w<<5 | bits.TrailingZeros32(word))
			word &= word - 1
			if allow != nil && !allow(id) {
				continue
			}
			d := g.dist(q, id)
			if h.len() < k {
				h.push(d, id)
			} else if d < h.top().d {
				h.replaceTop(d, id)
			}
		}
	}
	return g.results(s.drain())
}
