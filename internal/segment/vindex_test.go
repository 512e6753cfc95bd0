package segment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

func graphStore(t *testing.T, n, dim int, r *rand.Rand) *Store {
	t.Helper()
	s := NewStore(map[string]VectorSpec{"": {Dim: dim, Distance: vector.Cosine}})
	s.SetIndexParams("", IndexParams{M: 16, EfConstruct: 64, IndexingThreshold: 100, FullScanThreshold: 50, Seed: 1})
	for i := range n {
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"": randUnit(r, dim)}, point.Payload{"g": i % 10})
	}
	s.PrepareRead()
	return s
}

func randUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	vector.Normalize(v)
	return v
}

func linkAll(t testing.TB, s *Store) {
	t.Helper()
	for s.IndexWork() {
		if b := s.PrepareGraphBuild(); b != nil {
			g, err := b.Run(context.Background(), 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.InstallGraph(b, g)
			continue
		}
		if _, err := s.LinkPending(500); err != nil {
			t.Fatal(err)
		}
	}
}

func recallAt(s *Store, q []float32, f string, k int) float64 {
	p := SearchParams{Vector: "", Query: q, Limit: k, HnswEf: 128}
	if f != "" {
		p.Filter = mustFilter(f)
	}
	approx := must(s.Search(bg, p))
	p.Exact = true
	exact := must(s.Search(bg, p))
	want := map[uint32]bool{}
	for _, h := range exact {
		want[h.Offset] = true
	}
	hit := 0
	for _, h := range approx {
		if want[h.Offset] {
			hit++
		}
	}
	if len(exact) == 0 {
		return 1
	}
	return float64(hit) / float64(len(exact))
}

// TestGraphSearch: once linked, searches walk the graph with good recall,
// filtered or not; points written after linking are found before the
// optimizer links them; deleted points never come back.
func TestGraphSearch(t *testing.T) {
	seed := uint64(20261125)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	const n, dim = 3000, 32
	s := graphStore(t, n, dim, r)
	if s.IndexedVectors() != 0 || !s.IndexWork() {
		t.Fatal("nothing should be linked before the optimizer runs")
	}
	linkAll(t, s)
	if got := s.IndexedVectors(); got != n {
		t.Fatalf("indexed %d, want %d", got, n)
	}
	for _, f := range []string{"", `{"must":[{"key":"g","match":{"value":3}}]}`} {
		var sum float64
		for range 50 {
			sum += recallAt(s, randUnit(r, dim), f, 10)
		}
		if avg := sum / 50; avg < 0.9 {
			t.Fatalf("filter %q: recall %.3f", f, avg)
		}
	}
	// A new point, not linked yet, is its own nearest neighbour.
	q := randUnit(r, dim)
	s.Upsert(point.NumID(1_000_000), 2, point.Vectors{"": q}, nil)
	// A replaced vector is found at its new place.
	s.Upsert(point.NumID(7), 2, point.Vectors{"": q}, nil)
	s.PrepareRead()
	hits := must(s.Search(bg, SearchParams{Vector: "", Query: q, Limit: 2}))
	if len(hits) != 2 || !gotIDs(s, hits, 7, 1_000_000) {
		t.Fatalf("pending points not found: %v", hits)
	}
	if must(s.Search(bg, SearchParams{Vector: "", Query: q, Limit: 2, IndexedOnly: true}))[0].Offset == s.offsets[point.NumID(1_000_000)] {
		t.Fatal("indexed_only returned a point that is not linked")
	}
	// Deleted points never come back, linked or not.
	s.Delete(point.NumID(7))
	s.Delete(point.NumID(1_000_000))
	s.PrepareRead()
	for _, h := range must(s.Search(bg, SearchParams{Vector: "", Query: q, Limit: 20})) {
		if id := s.ids[h.Offset]; id == point.NumID(7) || id == point.NumID(1_000_000) {
			t.Fatalf("deleted point %s returned", id)
		}
	}
	linkAll(t, s)
	if got := s.IndexedVectors(); got != n-1 {
		t.Fatalf("indexed %d after delete, want %d", got, n-1)
	}
}

func gotIDs(s *Store, hits []Scored, ids ...uint64) bool {
	want := map[point.ID]bool{}
	for _, id := range ids {
		want[point.NumID(id)] = true
	}
	for _, h := range hits {
		if !want[s.ids[h.Offset]] {
			return false
		}
	}
	return true
}

func BenchmarkGraphSearch(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	s := NewStore(map[string]VectorSpec{"": {Dim: 128, Distance: vector.Cosine}})
	s.SetIndexParams("", IndexParams{M: 16, EfConstruct: 100, IndexingThreshold: 1, Seed: 1})
	for i := range 20000 {
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"": randUnit(r, 128)}, nil)
	}
	linkAll(b, s)
	qs := make([][]float32, 64)
	for i := range qs {
		qs[i] = randUnit(r, 128)
	}
	for _, ef := range []int{32, 128} {
		b.Run(fmt.Sprintf("ef=%d", ef), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				must(s.Search(bg, SearchParams{Vector: "", Query: qs[i%len(qs)], Limit: 10, HnswEf: ef}))
			}
		})
	}
}

// TestGraphPersistence: a checkpoint carries the graphs and the pending
// offsets, so a reload searches through the graph at once and links only
// what was pending; unreadable graph data means relinking, not failure.
func TestGraphPersistence(t *testing.T) {
	r := rand.New(rand.NewPCG(20261125, 4))
	s := graphStore(t, 1000, 16, r)
	linkAll(t, s)
	s.Upsert(point.NumID(5000), 2, point.Vectors{"": randUnit(r, 16)}, nil) // pending at checkpoint time
	s.PrepareRead()
	var buf strings.Builder
	if err := s.WriteCheckpoint(&buf, 3); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadCheckpoint([]byte(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	got.SetIndexParams("", s.vindex[""].params)
	if got.IndexedVectors() != 1000 || len(got.RebuiltIndexes()) != 0 {
		t.Fatalf("indexed %d rebuilt %v after reload", got.IndexedVectors(), got.RebuiltIndexes())
	}
	if n, err := got.LinkPending(10_000); err != nil || n != 1 {
		t.Fatalf("linked %d (%v) after reload, want only the 1 pending point", n, err)
	}
	for range 20 {
		q := randUnit(r, 16)
		a := must(s.Search(bg, SearchParams{Vector: "", Query: q, Limit: 10, HnswEf: 64}))
		b := must(got.Search(bg, SearchParams{Vector: "", Query: q, Limit: 10, HnswEf: 64}))
		if !slices.EqualFunc(a, b, func(x, y Scored) bool { return s.ids[x.Offset] == got.ids[y.Offset] && x.Score == y.Score }) {
			t.Fatalf("search differs after reload:\n%v\n%v", a, b)
		}
	}
	bad := NewStore(map[string]VectorSpec{"": {Dim: 16, Distance: vector.Cosine}})
	bad.Upsert(point.NumID(1), 1, point.Vectors{"": randUnit(r, 16)}, nil)
	bad.loadGraph("", map[uint32]struct{}{}, []byte("not a graph"))
	if len(bad.RebuiltIndexes()) != 1 || !bad.vindex[""].isPending(0) {
		t.Fatal("unreadable graph data must leave every vector pending")
	}
}

// TestGraphBuildWhileWriting: points changed, deleted or added while the
// first graph is built from a snapshot are all right after installing it.
func TestGraphBuildWhileWriting(t *testing.T) {
	r := rand.New(rand.NewPCG(20261125, 5))
	s := graphStore(t, 800, 16, r)
	b := s.PrepareGraphBuild()
	if b == nil || b.Points() != 800 {
		t.Fatalf("build of %v points", b)
	}
	moved := randUnit(r, 16)
	s.Upsert(point.NumID(10), 2, point.Vectors{"": moved}, nil) // changed
	s.Delete(point.NumID(11))                                   // deleted
	s.Delete(point.NumID(12))
	s.Upsert(point.NumID(9000), 2, point.Vectors{"": randUnit(r, 16)}, nil) // reuses 12's slot
	s.PrepareRead()
	g, err := b.Run(context.Background(), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.InstallGraph(b, g)
	hits := must(s.Search(bg, SearchParams{Vector: "", Query: moved, Limit: 1}))
	if len(hits) != 1 || s.ids[hits[0].Offset] != point.NumID(10) {
		t.Fatalf("the point moved during the build is not found at its new place: %v", hits)
	}
	for range 20 {
		for _, h := range must(s.Search(bg, SearchParams{Vector: "", Query: randUnit(r, 16), Limit: 20})) {
			if id := s.ids[h.Offset]; id == point.NumID(11) || id == point.NumID(12) {
				t.Fatalf("deleted point %s returned", id)
			}
		}
	}
	linkAll(t, s)
	if got := s.IndexedVectors(); got != 799 {
		t.Fatalf("indexed %d, want 799 (800 - 2 deleted + 1 new)", got)
	}
	if s.vindex[""].isPending(s.offsets[point.NumID(9000)]) {
		t.Fatal("the new point was not linked")
	}
}

// TestColumnFlat: a float32 column hands the graph its rows as one flat
// slice (read and prefetched directly), the same rows Vector serves; other
// datatypes hand none.
func TestColumnFlat(t *testing.T) {
	c := newColumn(VectorSpec{Dim: 3, Distance: "Dot"}, 2)
	c.set(0, []float32{1, 2, 3})
	c.set(1, []float32{4, 5, 6})
	c.grow()
	c.set(2, []float32{7, 8, 9})
	cv := columnVectors{c}
	flat := cv.Flat()
	if len(flat) != 9 {
		t.Fatalf("flat has %d floats, want 9", len(flat))
	}
	for off := range uint32(3) {
		if got, want := flat[off*3:off*3+3], cv.Vector(off); !slices.Equal(got, want) {
			t.Fatalf("row %d: flat %v, Vector %v", off, got, want)
		}
	}
	sw := &switchVectors{}
	sw.cur.Store(&vectorSource{cv})
	if !slices.Equal(sw.Flat(), flat) {
		t.Fatalf("switchVectors.Flat = %v, want the column's", sw.Flat())
	}
	sw.cur.Store(&vectorSource{vectorsOf(newColumn(VectorSpec{Dim: 3, Distance: "Dot", Datatype: Uint8}, 1))})
	if sw.Flat() != nil {
		t.Fatal("a uint8 column must not hand out float32 rows")
	}
}
