package hnsw

import (
	"context"
	"math"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

// f16Space is a float16 column implementing Space, as a segment keeps one.
type f16Space struct {
	dim  int
	data []uint16
	d    vector.Distance
}

func (s *f16Space) Vector(off uint32) []float32 {
	if int(off+1)*s.dim > len(s.data) {
		return nil
	}
	return make([]float32, s.dim) // only its length is read
}

func (s *f16Space) row(off uint32) []uint16 { return s.data[int(off)*s.dim : int(off+1)*s.dim] }

func (s *f16Space) dist(a, b []uint16) float32 {
	switch s.d {
	case vector.Euclid:
		return vector.L2F16(a, b)
	case vector.Manhattan:
		return vector.L1F16(a, b)
	}
	return -vector.DotF16(a, b)
}

type f16Scorer struct {
	s *f16Space
	q []uint16
}

func (sc *f16Scorer) Dist(off uint32) float32 { return sc.s.dist(sc.q, sc.s.row(off)) }

func (s *f16Space) Query(q []float32) Scorer { return &f16Scorer{s, vector.EncodeF16(q)} }
func (s *f16Space) Stored(off uint32) Scorer { return &f16Scorer{s, s.row(off)} }
func (s *f16Space) Pair(a, b uint32) float32 { return s.dist(s.row(a), s.row(b)) }
func newF16Space(f *flat, d vector.Distance) *f16Space {
	return &f16Space{dim: f.dim, data: vector.EncodeF16(f.data), d: d}
}

// TestSpaceRecall builds and searches a graph through a float16 Space: the
// results match brute force over the float32 originals.
func TestSpaceRecall(t *testing.T) {
	const seed = 7
	t.Logf("seed %d", seed)
	n, dim := scale(5000, 800), 32
	for _, d := range []vector.Distance{vector.Cosine, vector.Euclid, vector.Manhattan} {
		t.Run(string(d), func(t *testing.T) {
			vecs := clustered(seed, n, dim, 30, d)
			qs := clustered(seed+1, 50, dim, 30, d)
			offs := seq(n)
			sp := newF16Space(vecs, d)
			g := mustBuild(t, Config{M: 16, EfConstruct: 100, Distance: d, Dim: dim, Seed: seed}, sp, offs, 2)
			sum := 0.0
			for i := range qs.len() {
				q := qs.Vector(uint32(i))
				want := bruteForce(d, vecs, offs, q, 10, nil)
				got := must(g.Search(bg, q, 10, 64, nil))
				checkOrder(t, d, got)
				sum += recallOf(got, want)
				// The scorer path of SearchScorer agrees with Search.
				again := must(g.SearchScorer(bg, sp.Query(q), 10, 64, nil))
				if len(again) != len(got) || again[0] != got[0] {
					t.Fatalf("SearchScorer differs from Search: %v vs %v", again, got)
				}
				ex := must(g.SearchExact(bg, q, 1, nil))
				if math.Abs(float64(ex[0].Score-want[0].Score)) > 0.05*math.Max(1, math.Abs(float64(want[0].Score))) {
					t.Fatalf("exact top score %v, float32 brute force %v", ex[0], want[0])
				}
			}
			r := sum / float64(qs.len())
			t.Logf("%s float16 recall@10 ef=64: %.4f", d, r)
			if r < 0.9 {
				t.Fatalf("recall %.4f < 0.9", r)
			}
		})
	}
}

func TestSearchScorerDoesNotAllocatePerCandidate(t *testing.T) {
	if raceOn {
		t.Skip("sync.Pool drops pooled searchers at random under -race")
	}
	vecs := clustered(3, 2000, 16, 10, vector.Euclid)
	sp := newF16Space(vecs, vector.Euclid)
	g := mustBuild(t, Config{Distance: vector.Euclid, Dim: 16, Seed: 3}, sp, seq(2000), 1)
	sc := sp.Query(vecs.Vector(5))
	must(g.SearchScorer(bg, sc, 10, 64, nil))
	allocs := testing.AllocsPerRun(20, func() { must(g.SearchScorer(bg, sc, 10, 64, nil)) })
	if allocs > 2 {
		t.Fatalf("%v allocations per search, want at most 2 (the results)", allocs)
	}
}

// TestSpacePayloadLinks: payload blocks of a float16 graph are linked
// through the Space too (a block's sub-graph sees the real vectors), so
// the block walk keeps its recall.
func TestSpacePayloadLinks(t *testing.T) {
	const seed, k, ef = 12, 10, 64
	t.Logf("seed %d", seed)
	n, dim, nq := scale(8000, 2000), 32, scale(100, 20)
	d := vector.Cosine
	vecs := clustered(seed, n, dim, 40, d)
	qs := clustered(seed+1, nq, dim, 40, d)
	offs := seq(n)
	g := mustBuild(t, Config{M: 16, EfConstruct: 100, PayloadM: 16, Distance: d, Dim: dim, Seed: seed}, newF16Space(vecs, d), offs, 2)
	tag, _, blocks := tagged(seed, offs)
	if err := g.BuildPayloadLinks(context.Background(), blocks, 2, nil); err != nil {
		t.Fatal(err)
	}
	block := func(q []float32, allow func(uint32) bool) ([]Result, path, int) {
		res, p := g.searchBlock(g.prepare(q), k, ef, allow)
		return res, p, g.lastEvals()
	}
	r, _, _ := blockRecall(t, vecs, offs, qs, d, tag, 100, block)
	t.Logf("float16 1%% block walk recall@10 %.4f", r)
	if r < 0.85 {
		t.Fatalf("recall %.4f < 0.85", r)
	}
}
