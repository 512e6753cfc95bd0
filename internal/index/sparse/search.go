package sparse

import (
	"context"
	"slices"
	"sync"

	"github.com/shoaldb/shoal/internal/point"
)

// checkEvery is how many postings a search walks between two looks at its
// context: a few microseconds of work.
const checkEvery = 1024

// Query is a query vector resolved against one index: the lists of the
// dimensions the index has, in the query's (ascending) dimension order,
// with the query's weight for each.
type Query struct {
	ix      *Index
	lists   []int
	weights []float32
}

// Prepare resolves q (sorted by index) against the index.
func (ix *Index) Prepare(q point.SparseVector) *Query {
	pq := &Query{ix: ix}
	for j, d := range q.Indices {
		if i, ok := ix.list(d); ok {
			pq.lists = append(pq.lists, i)
			pq.weights = append(pq.weights, q.Values[j])
		}
	}
	return pq
}

// Empty reports whether no vector shares a dimension with the query.
func (q *Query) Empty() bool { return len(q.lists) == 0 }

// Postings is the number of entries Score walks.
func (q *Query) Postings() int {
	n := 0
	for _, i := range q.lists {
		n += int(q.ix.starts[i+1] - q.ix.starts[i])
	}
	return n
}

// ScoreOne returns the dot product of the query with the vector at off and
// whether they share a dimension, by binary search in each list.
func (q *Query) ScoreOne(off uint32) (float32, bool) {
	ix := q.ix
	var sum float32
	found := false
	for k, i := range q.lists {
		lo, hi := int(ix.starts[i]), int(ix.starts[i+1])
		if p, ok := slices.BinarySearch(ix.offs[lo:hi], off); ok {
			sum += float32(ix.weight(i, uint64(lo+p)) * q.weights[k]) // rounded: no fused multiply-add
			found = true
		}
	}
	return sum, found
}

// Scratch is the accumulator of one search, reused across searches through
// a pool: a score per slot, the slots touched and a bitset of them.
type Scratch struct {
	acc     []float32
	seen    []uint64
	touched []uint32
}

var scratchPool = sync.Pool{New: func() any { return &Scratch{} }}

// GetScratch returns a scratch for an index whose offsets are below n;
// PutScratch hands it back.
func GetScratch(n int) *Scratch {
	s := scratchPool.Get().(*Scratch)
	if len(s.acc) < n {
		s.acc = make([]float32, n)
		s.seen = make([]uint64, (n+63)/64)
	}
	s.touched = s.touched[:0]
	return s
}

// PutScratch returns s to the pool; it must be clean (Score leaves it so).
func PutScratch(s *Scratch) { scratchPool.Put(s) }

// Score accumulates the query's dot product with every vector that shares
// a dimension with it, term at a time, then calls visit once per such
// vector (in no particular order) with its score. Once ctx is done it
// stops within checkEvery postings and returns ctx's error (visit is then
// not called). The scratch must cover every offset of the index.
func (q *Query) Score(ctx context.Context, sc *Scratch, visit func(off uint32, score float32)) error {
	ix := q.ix
	done := ctx != nil && ctx.Done() != nil
	var err error
lists:
	for k, i := range q.lists {
		qw := q.weights[k]
		lo, hi := ix.starts[i], ix.starts[i+1]
		for from := lo; from < hi; from += checkEvery {
			if done {
				if err = ctx.Err(); err != nil {
					break lists
				}
			}
			to := min(from+checkEvery, hi)
			offs := ix.offs[from:to]
			for _, off := range offs {
				if w := &sc.seen[off/64]; *w&(1<<(off%64)) == 0 {
					*w |= 1 << (off % 64)
					sc.touched = append(sc.touched, off)
				}
			}
			acc := sc.acc
			switch ix.dt { // products rounded to float32: no fused multiply-add
			case Float32:
				ws := ix.w32[from:to]
				for j, off := range offs {
					acc[off] += float32(ws[j] * qw)
				}
			default:
				for j, off := range offs {
					acc[off] += float32(ix.weight(i, from+uint64(j)) * qw)
				}
			}
		}
	}
	for _, off := range sc.touched {
		if err == nil {
			visit(off, sc.acc[off])
		}
		sc.acc[off] = 0
		sc.seen[off/64] = 0
	}
	sc.touched = sc.touched[:0]
	return err
}
