package hnsw

import (
	"context"
	"math"
	"sync/atomic"
	"unsafe"
)

// Scorer is one query prepared against stored vectors that are not read
// as float32 slices: float16, uint8 or turbo4 columns, or quantized codes. Dist
// returns the graph's internal distance of the stored vector at off, lower
// is better: the negated similarity for Cosine and Dot, the squared
// distance for Euclid, the distance for Manhattan (see the package doc).
// An offset it has no vector for must give +Inf. Dist must not allocate;
// a Scorer is used by one search at a time.
type Scorer interface {
	Dist(off uint32) float32
}

// RowScorer is optionally implemented by a Scorer whose Dist reads one row
// per offset of a flat array (rowBytes each, from offset 0): the walk then
// prefetches those rows ahead, as it does float32 vectors.
type RowScorer interface {
	Scorer
	Rows() (rows []byte, rowBytes int)
}

// scorerPrefetch covers sc's rows, if it exposes them.
func scorerPrefetch(sc Scorer) rowPrefetch {
	rs, ok := sc.(RowScorer)
	if !ok {
		return rowPrefetch{}
	}
	rows, stride := rs.Rows()
	if len(rows) == 0 || stride <= 0 {
		return rowPrefetch{}
	}
	return newRowPrefetch(unsafe.Pointer(unsafe.SliceData(rows)), uintptr(stride))
}

// Space is optionally implemented by Vectors whose storage is not float32
// (float16, uint8 or turbo4 columns). The graph then computes every distance
// through it, building and searching, and calls Vector only to learn
// whether an offset has a vector (its length); Vector may return any
// slice of Dim elements for a present offset, e.g. a shared scratch.
type Space interface {
	Vectors
	// Query prepares a query given as float32, preprocessed as for the
	// float32 kernels (normalised for Cosine).
	Query(q []float32) Scorer
	// Stored prepares the stored vector at off as a query (linking).
	Stored(off uint32) Scorer
	// Pair is the internal distance between two stored vectors.
	Pair(a, b uint32) float32
}

// query is what a search or a link compares nodes with: a float32 vector
// or, when sc is set, a prepared Scorer. Only the cold paths (upper levels,
// exact scans, linking) go through it; the level-0 walks test sc once per
// neighbour and otherwise keep their inlined float32 code.
type query struct {
	v    []float32
	sc   Scorer
	stop stopCheck // the search's context; the zero value for links
}

// dist is the internal distance of the stored vector at off to q.
func (g *Graph) dist(q *query, off uint32) float32 {
	if q.sc != nil {
		return q.sc.Dist(off)
	}
	return g.distVec(q.v, g.vec(nil, off))
}

// pair is the internal distance between two stored vectors (linking).
func (g *Graph) pair(a, b uint32) float32 {
	if g.sp != nil {
		return g.sp.Pair(a, b)
	}
	return g.distVec(g.vec(nil, a), g.vec(nil, b))
}

// SearchScorer is Search with distances from sc instead of a float32
// query: a prepared query over quantized codes (approximate scores) or
// over the graph's own non-float32 storage. Results carry the score that
// corresponds to sc's internal distance (see Scorer), best first.
func (g *Graph) SearchScorer(ctx context.Context, sc Scorer, k, ef int, allow func(off uint32) bool) ([]Result, error) {
	if sc == nil {
		return nil, nil
	}
	q := &query{sc: sc, stop: newStopCheck(ctx)}
	res, _ := g.search(q, k, ef, allow, true)
	return q.answer(res)
}

// SearchExactScorer is SearchExact with distances from sc.
func (g *Graph) SearchExactScorer(ctx context.Context, sc Scorer, k int, allow func(off uint32) bool) ([]Result, error) {
	if k <= 0 || sc == nil {
		return nil, nil
	}
	q := &query{sc: sc, stop: newStopCheck(ctx)}
	return q.answer(g.exact(g.lay.Load(), q, k, allow))
}

// inf is the distance of an absent vector.
var inf = float32(math.Inf(1))

// searchPoolScorer is searchPool with distances from a Scorer. It is a
// copy rather than a branch in searchPool so that the float32 walk keeps
// its hand-inlined loop untouched.
func (g *Graph) searchPoolScorer(s *searcher, l *layout, sc Scorer, ep uint32, epD float32, ef int, stop *stopCheck) []item {
	p := s.pool.reset(ef)
	s.vis.add(ep)
	p.insert(epD, ep)
	evals := 0
	lp, vp := g.linkPrefetch(l), scorerPrefetch(sc)
	ids := s.ids
	for {
		c, ok := p.next()
		if !ok {
			break
		}
		if nx, ok := p.peek(); ok {
			lp.one(nx)
		}
		blk := g.block(l, c, 0)
		n := min(int(atomic.LoadUint32(&blk[0])), len(blk)-1)
		ids = s.vis.gather(ids[:0], blk[1:1+n], l.cap)
		vp.start(ids)
		evals += len(ids)
		for i, nb := range ids {
			vp.step(ids, i)
			d := sc.Dist(nb)
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

// subVectors serves the vectors of offs under dense local ids (a payload
// block's sub-graph): through the Space when the storage has one.
func (g *Graph) subVectors(offs []uint32) Vectors {
	if g.sp != nil {
		return subSpace{subVectors{g.vecs, offs}, g.sp}
	}
	return subVectors{g.vecs, offs}
}

// subSpace is subVectors over a Space.
type subSpace struct {
	subVectors
	sp Space
}

// subScorer maps local ids to offsets for a Scorer.
type subScorer struct {
	sc   Scorer
	offs []uint32
}

func (s subScorer) Dist(i uint32) float32 { return s.sc.Dist(s.offs[i]) }

func (s subSpace) Query(q []float32) Scorer { return subScorer{s.sp.Query(q), s.offs} }
func (s subSpace) Stored(i uint32) Scorer   { return subScorer{s.sp.Stored(s.offs[i]), s.offs} }
func (s subSpace) Pair(a, b uint32) float32 { return s.sp.Pair(s.offs[a], s.offs[b]) }
