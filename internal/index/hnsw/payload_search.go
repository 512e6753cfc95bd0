package hnsw

import (
	"context"
	"math"
	"sync/atomic"
)

// blockSeeds is how many passing nodes the first phase of
// SearchPayloadBlock collects before the walk steps on passing nodes only.
// On 100k x 64 (BenchmarkPayloadFiltered) 1, 2, 4 and 8 seeds gave the same
// recall; each seed costs about 1/f evaluations at selectivity f.
const blockSeeds = 2

// SearchPayloadBlock is Search for a filter whose matches all lie in one
// payload block that BuildPayloadLinks linked (HasPayloadBlock), and make
// up most of it. Instead of Search's walk, which expands rejected nodes too
// and so visits about ef/f nodes when a fraction f passes, it walks the way
// Qdrant's filtered HNSW does: past a short seeding phase, rejected nodes
// are neither scored nor expanded, and the payload links keep the passing
// nodes connected. Its cost is about ef times the degree of a passing node,
// whatever f is.
//
// The seeding phase is Search's walk from the usual entry point, until
// blockSeeds passing nodes are held (near the query, as that walk goes
// closest first). If it evaluates more than a graph-size budget without
// finding them, or the graph is no larger than the beam or
// FullScanThreshold, the search scans exactly instead. Without payload
// links, or once the graph has grown by more than 1/8 since they were built
// (inserted nodes have none, and a walk on passing nodes may miss them), it
// is Search. Same arguments and result as Search, ctx included.
func (g *Graph) SearchPayloadBlock(ctx context.Context, q []float32, k, ef int, allow func(off uint32) bool) ([]Result, error) {
	if len(q) != g.cfg.Dim {
		return nil, nil
	}
	qq := g.prepare(q)
	qq.stop = newStopCheck(ctx)
	res, _ := g.searchBlock(qq, k, ef, allow)
	return qq.answer(res)
}

// SearchPayloadBlockScorer is SearchPayloadBlock with distances from sc
// instead of a float32 query (as SearchScorer is Search's).
func (g *Graph) SearchPayloadBlockScorer(ctx context.Context, sc Scorer, k, ef int, allow func(off uint32) bool) ([]Result, error) {
	if sc == nil {
		return nil, nil
	}
	q := &query{sc: sc, stop: newStopCheck(ctx)}
	res, _ := g.searchBlock(q, k, ef, allow)
	return q.answer(res)
}

func (g *Graph) searchBlock(q *query, k, ef int, allow func(off uint32) bool) ([]Result, path) {
	pl := g.plinks.Load()
	if pl == nil || allow == nil || g.grownPast(pl) {
		return g.search(q, k, ef, allow, true)
	}
	if k <= 0 || q.sc == nil && len(q.v) != g.cfg.Dim {
		return nil, invalid
	}
	ef = max(ef, k)
	e := g.entry.Load()
	if e == 0 {
		return nil, invalid
	}
	l := g.lay.Load()
	nodes := int(g.nodes.Load())
	if nodes <= ef || nodes <= g.cfg.FullScanThreshold {
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
	s.next()
	if !g.walkBlock(s, l, pl, q, cur, curD, ef, &f, nodes/4) {
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

// walkBlock is the level-0 beam search of SearchPayloadBlock. It returns
// false when the seeding phase has evaluated more than seedBudget nodes, or
// once the query's context is done (q.stop.err is then set).
func (g *Graph) walkBlock(s *searcher, l *layout, pl *payloadLinks, q *query, ep uint32, epD float32, ef int, f *filter, seedBudget int) bool {
	s.cand.reset()
	s.top.reset()
	s.vis.add(ep)
	s.cand.push(epD, ep)
	bound := float32(math.Inf(1))
	if f.pass(ep) {
		s.top.push(epD, ep)
		bound = epD
	}
	strict := s.top.len() >= blockSeeds
	evals := 0
	visit := func(nb uint32) {
		if int(nb) >= l.cap || !s.vis.add(nb) {
			return // (a node past l.cap was linked after l was replaced)
		}
		pass := f.pass(nb)
		if strict && !pass {
			return // a rejected node is neither scored nor expanded
		}
		evals++
		d := g.dist(q, nb)
		if d >= bound && s.top.len() >= ef {
			return
		}
		s.cand.push(d, nb)
		if pass {
			if s.top.len() < ef {
				s.top.push(d, nb)
			} else {
				s.top.replaceTop(d, nb)
			}
			bound = s.top.top().d
		}
	}
	for s.cand.len() > 0 {
		c := s.cand.top()
		if c.d > bound && s.top.len() >= ef {
			break
		}
		s.cand.pop()
		if strict && !f.pass(c.id) {
			continue // a rejected node queued while seeding
		}
		blk := g.block(l, c.id, 0)
		n := min(int(atomic.LoadUint32(&blk[0])), len(blk)-1)
		for i := 1; i <= n; i++ {
			visit(atomic.LoadUint32(&blk[i]))
		}
		links := pl.of(c.id)
		for _, nb := range links {
			visit(nb)
		}
		if q.stop.spend(n + len(links)) {
			s.evals = evals
			return false
		}
		if !strict {
			if s.top.len() >= blockSeeds {
				strict = true
			} else if evals > seedBudget {
				s.evals = evals
				return false
			}
		}
	}
	s.evals = evals
	return true
}

// grownPast reports whether the graph has grown by more than 1/8 since its
// payload links were built.
func (g *Graph) grownPast(pl *payloadLinks) bool {
	return int(g.nodes.Load()) > pl.built+pl.built/8
}
