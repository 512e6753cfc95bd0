package segment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

func deferredFilter(t *testing.T, js string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// idsOf renders the points of a read as their ids.
func idsOf[T any](s *Store, hits []T, id func(T) point.ID) string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = id(h).String()
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

// TestDeferredPoints: with SetDeferFrom(3), reads see the points at the
// first three offsets only (scroll, count with and without a filter,
// dense and sparse search, facets, ordered scroll), writes see them all
// (Matching, MatchingAll, Has), a new point takes a fresh offset rather
// than a freed visible one, and a checkpoint keeps the offsets, so the
// same points are deferred after a reload.
func TestDeferredPoints(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"": {Dim: 2, Distance: vector.Dot}})
	s.AddSparseColumn("sp", SparseSpec{})
	if err := s.CreateIndex("k", json.RawMessage(`"keyword"`)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndex("n", json.RawMessage(`"integer"`)); err != nil {
		t.Fatal(err)
	}
	s.SetDeferFrom(3)
	for i := range 5 {
		s.UpsertPoint(point.NumID(uint64(i+1)), uint64(i+1), point.Vectors{"": {1, float32(i)}},
			point.SparseVectors{"sp": {Indices: []uint32{1}, Values: []float32{float32(i + 1)}}},
			point.Payload{"k": "x", "n": json.Number(fmt.Sprint(i))})
	}
	ctx := context.Background()
	check := func(when string, visible, deferred string) {
		t.Helper()
		s.PrepareRead()
		recs, _, err := s.Scroll(ctx, nil, nil, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := idsOf(s, recs, func(r Record) point.ID { return r.ID }); got != visible {
			t.Fatalf("%s: scroll %s, want %s", when, got, visible)
		}
		recs, _, _ = s.Scroll(ctx, deferredFilter(t, `{"must":[{"key":"k","match":{"value":"x"}}]}`), nil, 10, nil)
		if got := idsOf(s, recs, func(r Record) point.ID { return r.ID }); got != visible {
			t.Fatalf("%s: filtered scroll %s, want %s", when, got, visible)
		}
		n := len(recs)
		for _, f := range []*filter.Filter{nil, deferredFilter(t, `{"must":[{"key":"k","match":{"value":"x"}}]}`)} {
			if c, _ := s.Count(ctx, f); c != n {
				t.Fatalf("%s: count %v = %d, want %d", when, f, c, n)
			}
		}
		if s.VisibleLen() != n {
			t.Fatalf("%s: VisibleLen %d, want %d", when, s.VisibleLen(), n)
		}
		hits, _ := s.Search(ctx, SearchParams{Vector: "", Query: []float32{1, 1}, Limit: 10, Exact: true})
		if got := idsOf(s, hits, func(h Scored) point.ID { return s.ids[h.Offset] }); got != visible {
			t.Fatalf("%s: search %s, want %s", when, got, visible)
		}
		sh, _ := s.SearchSparse(ctx, SparseSearchParams{Vector: "sp", Query: point.SparseVector{Indices: []uint32{1}, Values: []float32{1}}, Limit: 10, Exact: true})
		if got := idsOf(s, sh, func(h Scored) point.ID { return s.ids[h.Offset] }); got != visible {
			t.Fatalf("%s: sparse search %s, want %s", when, got, visible)
		}
		facets, _ := s.Facet(ctx, "k", nil, 10)
		if len(facets) != 1 || facets[0].Count != n {
			t.Fatalf("%s: facet %+v, want one value counted %d times", when, facets, n)
		}
		ordered, _ := s.ScrollOrdered(ctx, nil, "n", false, nil, 10, nil)
		if got := idsOf(s, ordered, func(r OrderedRecord) point.ID { return r.ID }); got != visible {
			t.Fatalf("%s: ordered scroll %s, want %s", when, got, visible)
		}
		if got := fmt.Sprint(s.DeferredIDs()); got != deferred {
			t.Fatalf("%s: deferred %s, want %s", when, got, deferred)
		}
		all := s.MatchingAll(nil)
		if len(all) != s.Len() || s.DeferredCount() != s.Len()-n {
			t.Fatalf("%s: writes see %d of %d points, %d deferred", when, len(all), s.Len(), s.DeferredCount())
		}
		for _, id := range s.DeferredIDs() {
			if !s.IsDeferred(id) || len(s.Matching(nil, []point.ID{id})) != 1 {
				t.Fatalf("%s: %v is not deferred to writes", when, id)
			}
		}
	}
	check("five points", "[1 2 3]", "[4 5]")

	// A freed visible offset is not reused: the new point is deferred.
	s.Delete(point.NumID(2))
	sp := point.SparseVectors{"sp": {Indices: []uint32{1}, Values: []float32{1}}}
	s.UpsertPoint(point.NumID(6), 6, point.Vectors{"": {1, 9}}, sp, point.Payload{"k": "x", "n": json.Number("9")})
	// An update in place keeps its offset, visible or not.
	s.UpsertPoint(point.NumID(1), 7, point.Vectors{"": {1, 1}}, sp, point.Payload{"k": "x", "n": json.Number("1")})
	s.UpsertPoint(point.NumID(4), 8, point.Vectors{"": {1, 1}}, sp, point.Payload{"k": "x", "n": json.Number("4")})
	check("after a delete and updates", "[1 3]", "[4 5 6]")

	var buf bytes.Buffer
	if err := s.WriteCheckpoint(&buf, 9); err != nil {
		t.Fatal(err)
	}
	re, _, err := ReadCheckpoint(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	re.AddSparseColumn("sp", SparseSpec{})
	re.SetDeferFrom(3)
	s = re
	check("reloaded", "[1 3]", "[4 5 6]")

	// Without a limit every point shows, and free slots are reused again.
	s.SetDeferFrom(0)
	check("no limit", "[1 3 4 5 6]", "[]")
	slots := s.Slots()
	s.UpsertPoint(point.NumID(7), 10, nil, nil, nil)
	if s.Slots() != slots {
		t.Fatalf("a free slot was not reused without a limit: %d slots, was %d", s.Slots(), slots)
	}
}
