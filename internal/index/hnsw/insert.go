package hnsw

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"
)

// Insert links off into the graph. Its vector (Dim floats) must already be
// readable through the graph's Vectors. Inserting an offset that is already
// present re-links it, as for a replaced vector, and undeletes it.
func (g *Graph) Insert(off uint32) error {
	if off > maxOffset {
		return fmt.Errorf("%w: offset %d is above %d", ErrInvalid, off, maxOffset)
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if n := len(g.vecs.Vector(off)); n != g.cfg.Dim {
		return fmt.Errorf("%w: offset %d has %d dimensions, want %d", ErrInvalid, off, n, g.cfg.Dim)
	}
	l := g.grow(int(off) + 1)
	s := g.getSearcher(l.cap)
	defer g.putSearcher(s)
	if l.has(off) {
		g.link(s, l, off, g.level(l, off))
		if l.isDeleted(off) {
			atomic.AndUint32(&l.deleted[off>>5], ^(1 << (off & 31)))
			g.dead.Add(-1)
		}
		return nil
	}
	level := g.randomLevel()
	if level > 0 {
		// Unreachable until link publishes it, so a plain write is safe.
		l.upper[off] = make([]uint32, level*g.strideU)
	}
	atomic.OrUint32(&l.present[off>>5], 1<<(off&31))
	g.nodes.Add(1)
	g.link(s, l, off, level)
	return nil
}

// ownLinks is how many neighbours a new node picks for itself on a level.
// Like hnswlib it picks M even on level 0, where backlinks from later nodes
// may fill its list up to 2M.
// (Qdrant picks 2M there; on our benchmark the recall/QPS curves of the two
// choices are indistinguishable and M builds faster.)
func (g *Graph) ownLinks(int) int { return g.m }

// link connects present node off, whose upper blocks exist, on levels
// level..0: hnswlib's addPoint. On a re-insert off's own lists are replaced.
func (g *Graph) link(s *searcher, l *layout, off uint32, level int) {
	q := &query{v: g.vec(l, off)}
	if g.sp != nil {
		q = &query{sc: g.sp.Stored(off)}
	}
	var e uint64
	if g.locks != nil {
		// A node that raises the top level holds the entry lock for its
		// whole insertion, so only one can become the entry point at a time.
		g.epMu.Lock()
		e = g.entry.Load()
		if _, top := unpackEntry(e); e != 0 && level <= top {
			g.epMu.Unlock()
		} else {
			defer g.epMu.Unlock()
		}
	} else {
		e = g.entry.Load()
	}
	if e == 0 {
		g.entry.Store(packEntry(off, level))
		return
	}
	ep, top := unpackEntry(e)
	cur, curD := ep, g.dist(q, ep)
	for lev := top; lev > level; lev-- {
		cur, curD = g.greedy(l, q, cur, curD, lev)
	}
	f := filter{skip: off}
	if g.dead.Load() > 0 {
		f.deleted = l.deleted
	}
	// First off's own lists on every level, then the backlinks: until a
	// backlink exists nobody reaches off, and a search that reaches it on
	// some level must find its links on every level below.
	for lev := min(level, top); lev >= 0; lev-- {
		s.next()
		g.searchLevel(s, l, q, cur, curD, lev, g.cfg.EfConstruct, &f, -1)
		found := s.drain()
		s.plan[lev] = s.plan[lev][:0]
		if len(found) == 0 {
			continue // everything here is deleted: nothing to link to
		}
		cur, curD = found[0].id, found[0].d
		sel := g.heuristic(l, found, g.ownLinks(lev), &s.sel)
		s.plan[lev] = append(s.plan[lev], sel...)
		g.setLinks(l, off, lev, sel)
	}
	for lev := 0; lev <= min(level, top); lev++ {
		for _, nb := range s.plan[lev] {
			g.addLink(s, l, nb.id, off, lev, nb.d)
		}
	}
	if level > top {
		g.entry.Store(packEntry(off, level))
	}
}

// heuristic keeps, from candidates sorted closest first, those that are
// closer to the base than to every candidate already kept, up to m of them
// (hnswlib's getNeighborsByHeuristic2): links spread in all directions
// instead of piling into one cluster. Fewer than m candidates are kept as is.
func (g *Graph) heuristic(l *layout, cands []item, m int, out *[]item) []item {
	sel := (*out)[:0]
	if len(cands) < m {
		sel = append(sel, cands...)
		*out = sel
		return sel
	}
	var vc []float32
	for _, c := range cands {
		if len(sel) >= m {
			break
		}
		if g.sp != nil {
			vc = nil
		} else {
			vc = g.vec(l, c.id)
		}
		good := true
		for _, k := range sel {
			var d float32
			if vc == nil {
				d = g.sp.Pair(c.id, k.id)
			} else {
				d = g.distVec(vc, g.vec(l, k.id))
			}
			if d < c.d {
				good = false
				break
			}
		}
		if good {
			sel = append(sel, c)
		}
	}
	*out = sel
	return sel
}

func byDist(a, b item) int { return cmp.Compare(a.d, b.d) }

// setLinks writes off's own neighbour list on a level.
func (g *Graph) setLinks(l *layout, off uint32, lev int, sel []item) {
	g.lockNode(off)
	writeBlock(g.block(l, off, lev), sel)
	g.unlockNode(off)
}

// addLink adds the backlink nb -> off (d is their distance). A full list is
// re-selected by the heuristic from its links plus off.
func (g *Graph) addLink(s *searcher, l *layout, nb, off uint32, lev int, d float32) {
	g.lockNode(nb)
	defer g.unlockNode(nb)
	blk := g.block(l, nb, lev)
	n := int(blk[0])
	if slices.Contains(blk[1:1+n], off) {
		return
	}
	if n < len(blk)-1 {
		atomic.StoreUint32(&blk[n+1], off)
		atomic.StoreUint32(&blk[0], uint32(n+1))
		return
	}
	p := append(s.prune[:0], item{d, off})
	if g.sp != nil {
		for _, id := range blk[1 : 1+n] {
			p = append(p, item{g.sp.Pair(nb, id), id})
		}
	} else {
		v := g.vec(l, nb)
		for _, id := range blk[1 : 1+n] {
			p = append(p, item{g.distVec(v, g.vec(l, id)), id})
		}
	}
	slices.SortFunc(p, byDist)
	s.prune = p
	writeBlock(blk, g.heuristic(l, p, n, &s.sel2))
}

// writeBlock publishes a list: entries first, count last, so a reader that
// sees the new count sees the new entries; one that sees the old count sees
// a mix of old and new entries, all of them valid nodes.
func writeBlock(blk []uint32, sel []item) {
	n := min(len(sel), len(blk)-1)
	for i := range n {
		atomic.StoreUint32(&blk[i+1], sel[i].id)
	}
	atomic.StoreUint32(&blk[0], uint32(n))
}
