package hnsw

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/shoaldb/shoal/internal/vector"
)

// The differential tests of this file hold the level-0 walks to one
// another: the float32 walk (searchPool, and searchLevel's float32 branch)
// that slices flat rows or calls Vector, and the scorer walk
// (searchPoolScorer, and searchLevel's scorer branch) that calls a Scorer.
// The scorer here computes the same float32 kernel on the same rows as the
// float32 walk does, so every distance is bit-identical (the kernels' sum
// order depends on the length only, never on alignment, and their operands
// commute exactly: a*b, (a-b)² and |a-b| do not depend on the order), and
// the two walks must therefore take the same steps: the same offsets scored
// in the same order, the same ids and the same score bits out. No tolerance
// is needed, and none is allowed.

// f32Store is float32 storage whose Flat view covers its first rows rows:
// all of them (the walk slices every row), some (the rows past the view go
// through Vector, as for a column that grew after the search began), or
// none (every row through Vector: the walk over non-flat storage). While
// trace is set it records every offset read through Vector.
type f32Store struct {
	*flat
	rows  int
	trace *[]uint32
}

func (s *f32Store) Vector(off uint32) []float32 {
	if s.trace != nil {
		*s.trace = append(*s.trace, off)
	}
	return s.flat.Vector(off)
}

func (s *f32Store) Flat() []float32 { return s.data[:s.rows*s.dim] }

// distF32 is the graph's internal distance, written here independently of
// distVec so that the scorer is what a caller would write.
func distF32(m metric, q, v []float32) float32 {
	switch m {
	case negDot:
		return -vector.DotProduct(q, v)
	case sqL2:
		return vector.SquaredL2(q, v)
	}
	return vector.L1(q, v)
}

// f32Scorer is a Scorer over float32 rows: the scorer walk computing what
// the float32 walk computes. While trace is set it records every offset it
// scores.
type f32Scorer struct {
	q     []float32
	f     *flat
	m     metric
	trace *[]uint32
}

func (s *f32Scorer) Dist(off uint32) float32 {
	if s.trace != nil {
		*s.trace = append(*s.trace, off)
	}
	if int(off+1)*s.f.dim > len(s.f.data) {
		return inf
	}
	return distF32(s.m, s.q, s.f.Vector(off))
}

// f32RowScorer exposes its rows, so the scorer walk prefetches them.
type f32RowScorer struct{ *f32Scorer }

func (s f32RowScorer) Rows() ([]byte, int) {
	d := s.f.data
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), 4*len(d)), 4 * s.f.dim
}

// f32Space is float32 storage presented as a Space: a graph over it is
// built and searched through Scorers only.
type f32Space struct {
	f *flat
	m metric
}

func (s *f32Space) Vector(off uint32) []float32 { return s.f.Vector(off) }
func (s *f32Space) Query(q []float32) Scorer    { return &f32Scorer{q: q, f: s.f, m: s.m} }
func (s *f32Space) Stored(off uint32) Scorer {
	return &f32Scorer{q: s.f.Vector(off), f: s.f, m: s.m}
}
func (s *f32Space) Pair(a, b uint32) float32 { return distF32(s.m, s.f.Vector(a), s.f.Vector(b)) }

// walkCase is one graph and the searches run on it.
type walkCase struct {
	seed    uint64
	n, dim  int
	m       int
	d       vector.Distance
	queries int // drawn from the data's law; two stored rows are added
	// extreme scales a tenth of the rows by 1e20 (squares and products of
	// two such rows overflow to ±Inf) and sets one component of one row to
	// +Inf (NaN distances): the walks must still agree bit for bit.
	extreme bool
	beams   []beam // (k, ef) pairs
	filters []walkFilter
}

func (c walkCase) String() string {
	return fmt.Sprintf("%s n=%d dim=%d m=%d seed=%d extreme=%v", c.d, c.n, c.dim, c.m, c.seed, c.extreme)
}

type beam struct{ k, ef int }

type walkFilter struct {
	name  string
	allow func(uint32) bool
}

// walkStats counts what a check compared.
type walkStats struct {
	searches int              // walks compared (each against five others)
	paths    [invalid + 1]int // how those searches were answered
	scored   int              // distances in the traces compared
}

func (s *walkStats) add(o walkStats) {
	s.searches += o.searches
	s.scored += o.scored
	for i := range s.paths {
		s.paths[i] += o.paths[i]
	}
}

func sameResults(a, b []Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Off != b[i].Off || math.Float32bits(a[i].Score) != math.Float32bits(b[i].Score) {
			return false
		}
	}
	return true
}

// checkWalks builds c's graph twice with one thread (through float32
// storage and through an f32Space, which must give the same links), then,
// before and after deleting a fifth of the points (the entry point first),
// runs every query, beam, filter and scan setting through six walks and
// fails unless they agree exactly:
//
//	flat     the float32 walk slicing flat rows (the reference)
//	partial  the float32 walk with half the rows past the flat view
//	vector   the float32 walk through Vector only       (traced)
//	scorer   the scorer walk on the same graph          (traced)
//	rows     the scorer walk with its rows prefetched
//	space    the scorer walk on the graph built through the Space
//
// The two traces, the offsets scored in order, must be equal too.
func checkWalks(t testing.TB, c walkCase) walkStats {
	t.Helper()
	const clusters = 8
	vecs := clustered(c.seed, c.n, c.dim, clusters, c.d)
	r := rand.New(rand.NewPCG(c.seed, 3))
	for range c.n / 10 { // duplicates: exact ties
		copy(vecs.Vector(uint32(r.IntN(c.n))), vecs.Vector(uint32(r.IntN(c.n))))
	}
	if c.n > 2 {
		clear(vecs.Vector(uint32(r.IntN(c.n)))) // a zero row: ties for Cosine and Dot
	}
	if c.extreme {
		for range max(1, c.n/10) {
			row := vecs.Vector(uint32(r.IntN(c.n)))
			for j := range row {
				row[j] *= 1e20
			}
		}
		vecs.Vector(uint32(r.IntN(c.n)))[r.IntN(c.dim)] = float32(math.Inf(1))
	}
	qs := clustered(c.seed+1, c.queries, c.dim, clusters, c.d)
	queries := make([][]float32, 0, c.queries+2)
	for i := range c.queries {
		queries = append(queries, qs.Vector(uint32(i)))
	}
	queries = append(queries, vecs.Vector(0), vecs.Vector(uint32(c.n-1)))

	mt, err := metricOf(c.d)
	if err != nil {
		t.Fatal(err)
	}
	store := &f32Store{flat: vecs, rows: c.n}
	cfg := Config{M: c.m, EfConstruct: 32, Distance: c.d, Dim: c.dim, Seed: c.seed}
	gf := mustBuild(t, cfg, store, seq(c.n), 1)
	gs := mustBuild(t, cfg, &f32Space{vecs, mt}, seq(c.n), 1)
	var ef, es bytes.Buffer
	if err := gf.Encode(&ef); err != nil {
		t.Fatal(err)
	}
	if err := gs.Encode(&es); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ef.Bytes(), es.Bytes()) {
		t.Fatalf("%v: the graph built through a float32 Space differs from the float32 build", c)
	}

	var st walkStats
	var vtrace, strace []uint32
	for round := range 2 {
		if round == 1 {
			ep, _ := unpackEntry(gf.entry.Load())
			gf.Delete(ep)
			gs.Delete(ep)
			for range c.n / 5 {
				off := uint32(r.IntN(c.n))
				gf.Delete(off)
				gs.Delete(off)
			}
		}
		for qi, q := range queries {
			for _, fl := range c.filters {
				// The exact scans of both kinds of query agree too.
				ex := must(gf.SearchExact(bg, q, 10, fl.allow))
				if got := must(gf.SearchExactScorer(bg, &f32Scorer{q: q, f: vecs, m: mt}, 10, fl.allow)); !sameResults(got, ex) {
					t.Fatalf("%v deleted=%v query %d filter %s: SearchExactScorer %v, SearchExact %v", c, round == 1, qi, fl.name, got, ex)
				}
				for _, b := range c.beams {
					for _, scan := range []bool{false, true} {
						walk := func(g *Graph, qq *query) ([]Result, path) {
							return g.search(qq, b.k, b.ef, fl.allow, scan)
						}
						fail := func(what string, got, want []Result, gp, wp path) {
							t.Helper()
							t.Fatalf("%v deleted=%v query %d k=%d ef=%d filter %s scan=%v: %s walk gave %v (path %d), flat walk %v (path %d)",
								c, round == 1, qi, b.k, b.ef, fl.name, scan, what, got, gp, want, wp)
						}
						store.rows = c.n
						want, wp := walk(gf, &query{v: q})

						store.rows = c.n / 2
						if got, gp := walk(gf, &query{v: q}); gp != wp || !sameResults(got, want) {
							fail("partial", got, want, gp, wp)
						}

						store.rows, store.trace, vtrace = 0, &vtrace, vtrace[:0]
						got, gp := walk(gf, &query{v: q})
						store.rows, store.trace = c.n, nil
						if gp != wp || !sameResults(got, want) {
							fail("vector", got, want, gp, wp)
						}

						strace = strace[:0]
						sc := &f32Scorer{q: q, f: vecs, m: mt, trace: &strace}
						if got, gp := walk(gf, &query{sc: sc}); gp != wp || !sameResults(got, want) {
							fail("scorer", got, want, gp, wp)
						}
						if !slices.Equal(vtrace, strace) {
							t.Fatalf("%v deleted=%v query %d k=%d ef=%d filter %s scan=%v: the float32 walk scored %d offsets, the scorer walk %d; first difference at %d",
								c, round == 1, qi, b.k, b.ef, fl.name, scan, len(vtrace), len(strace), firstDiff(vtrace, strace))
						}
						sc.trace = nil

						if got, gp := walk(gf, &query{sc: f32RowScorer{sc}}); gp != wp || !sameResults(got, want) {
							fail("rows", got, want, gp, wp)
						}
						if got, gp := walk(gs, gs.prepare(q)); gp != wp || !sameResults(got, want) {
							fail("space", got, want, gp, wp)
						}
						st.searches++
						st.paths[wp]++
						st.scored += len(strace)
					}
				}
			}
		}
	}
	return st
}

func firstDiff(a, b []uint32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

var walkFilters = []walkFilter{
	{"none", nil},
	{"half", hashAllow(2)},
	{"3%", hashAllow(30)},
}

// TestWalksAgree is the differential test of the float32 and scorer walks
// over every distance, dimensions on and off the kernels' 8- and 16-lane
// boundaries, M from 2 (many levels) to 16, graphs of 1 to a few thousand
// points, beams from 1 to past smallPool (the pool's binary-search insert),
// with and without filters and deleted points, walked (scan=false) and as
// Search answers (scan=true: exact scans and given-up walks included).
func TestWalksAgree(t *testing.T) {
	const seed = 20251111
	t.Logf("seed %d", seed)
	// Per distance: graphs from 1 point to a few thousand, the largest with
	// wide rows, and one with overflowing and infinite values. Dimensions
	// and M rotate through their lists across the cases.
	sizes := []struct {
		n       int
		wide    bool
		extreme bool
	}{
		{n: 1}, {n: 2}, {n: 9}, {n: 70}, {n: scale(400, 200)},
		{n: scale(3000, 400), wide: true},
		{n: scale(300, 150), extreme: true},
	}
	dims := []int{1, 3, 7, 8, 9, 15, 16, 17, 31, 33}
	wide := []int{65, 100, 128, 200}
	ms := []int{2, 4, 8, 16}
	beams := []beam{{1, 1}, {10, 48}, {5, 160}}
	if !raceOn {
		beams = append(beams, beam{10, 10})
	}
	var cases []walkCase
	for di, d := range []vector.Distance{vector.Cosine, vector.Dot, vector.Euclid, vector.Manhattan} {
		for _, sz := range sizes {
			i := len(cases)
			c := walkCase{
				seed:    seed + uint64(i),
				n:       sz.n,
				dim:     dims[i%len(dims)],
				m:       ms[i%len(ms)],
				d:       d,
				queries: scale(3, 2),
				beams:   beams,
				filters: walkFilters,
				extreme: sz.extreme,
			}
			if sz.wide {
				c.dim = wide[di]
			}
			cases = append(cases, c)
		}
	}
	var all walkStats
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/n=%d/dim=%d/m=%d/extreme=%v", c.d, c.n, c.dim, c.m, c.extreme), func(t *testing.T) {
			all.add(checkWalks(t, c))
		})
	}
	t.Logf("%d searches compared across six walks each, %d distances in the compared traces; walked %d, exact (small) %d, exact (gave up) %d",
		all.searches, all.scored, all.paths[walked], all.paths[small], all.paths[gaveUp])
	if all.paths[walked] == 0 || all.paths[small] == 0 || all.paths[gaveUp] == 0 {
		t.Fatalf("a search path was never taken: %v", all.paths)
	}
}

// FuzzWalksAgree is TestWalksAgree's property over fuzzed graphs: a seed,
// a size, a dimension, a distance, M, one beam, one filter (mod 0: none,
// else a hash filter passing about 1 in mod points) and whether the data
// holds overflowing and infinite values.
func FuzzWalksAgree(f *testing.F) {
	f.Add(uint64(1), uint16(50), uint8(7), uint8(0), uint8(2), uint8(10), uint16(32), uint8(0), false)
	f.Add(uint64(2), uint16(300), uint8(17), uint8(1), uint8(4), uint8(3), uint16(150), uint8(2), false)
	f.Add(uint64(3), uint16(1), uint8(1), uint8(2), uint8(8), uint8(1), uint16(1), uint8(0), false)
	f.Add(uint64(4), uint16(200), uint8(16), uint8(3), uint8(16), uint8(20), uint16(20), uint8(25), false)
	f.Add(uint64(5), uint16(120), uint8(9), uint8(1), uint8(3), uint8(5), uint16(40), uint8(3), true)
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, dim, dist, m, k uint8, ef uint16, mod uint8, extreme bool) {
		ds := []vector.Distance{vector.Cosine, vector.Dot, vector.Euclid, vector.Manhattan}
		fl := walkFilter{"none", nil}
		if mod%64 != 0 {
			fl = walkFilter{fmt.Sprintf("1/%d", mod%64), hashAllow(uint32(mod % 64))}
		}
		checkWalks(t, walkCase{
			seed:    seed,
			n:       1 + int(n)%600,
			dim:     1 + int(dim)%48,
			m:       2 + int(m)%15,
			d:       ds[int(dist)%len(ds)],
			queries: 2,
			beams:   []beam{{1 + int(k)%32, int(ef) % 300}},
			filters: []walkFilter{fl},
			extreme: extreme,
		})
	})
}
