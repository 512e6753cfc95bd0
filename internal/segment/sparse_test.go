package segment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/index/sparse"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

func sv(pairs ...float32) point.SparseVector {
	v := point.SparseVector{Indices: []uint32{}, Values: []float32{}}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Indices = append(v.Indices, uint32(pairs[i]))
		v.Values = append(v.Values, pairs[i+1])
	}
	return v
}

func sparseStore() *Store {
	s := NewStore(map[string]VectorSpec{"d": {Dim: 2, Distance: vector.Dot}})
	s.AddSparseColumn("s", SparseSpec{})
	s.AddSparseColumn("t", SparseSpec{})
	return s
}

func stats(s *Store, name string, dims ...uint32) (int, []int) {
	df := make([]int, len(dims))
	n := s.SparseStats(name, dims, df)
	return n, df
}

// TestSparseUpdates: upsert replaces every sparse vector (sorting it),
// update_vectors sets the named ones and keeps the rest, delete_vectors and
// delete remove them, and the statistics follow.
func TestSparseUpdates(t *testing.T) {
	s := sparseStore()
	s.UpsertPoint(num(1), 1, point.Vectors{"d": {1, 2}}, point.SparseVectors{"s": sv(9, 0.5, 2, 1), "t": sv(1, 1)}, nil)
	s.UpsertPoint(num(2), 1, nil, point.SparseVectors{"s": sv(2, 3)}, nil)
	got, ok := s.SparseVector(num(1), "s")
	if !ok || !slices.Equal(got.Indices, []uint32{2, 9}) || !slices.Equal(got.Values, []float32{1, 0.5}) {
		t.Fatalf("stored %+v, %v: want sorted", got, ok)
	}
	if n, df := stats(s, "s", 2, 9, 4); n != 2 || !slices.Equal(df, []int{2, 1, 0}) {
		t.Fatalf("stats %d %v", n, df)
	}
	// Upsert without "t" drops it.
	s.UpsertPoint(num(1), 2, nil, point.SparseVectors{"s": sv(4, 1)}, nil)
	if _, ok := s.SparseVector(num(1), "t"); ok {
		t.Fatal("upsert kept a sparse vector it did not name")
	}
	if n, df := stats(s, "s", 2, 9, 4); n != 2 || !slices.Equal(df, []int{1, 0, 1}) {
		t.Fatalf("stats after upsert %d %v", n, df)
	}
	if !s.UpdatePointVectors(num(1), 3, nil, point.SparseVectors{"t": sv(7, 7)}) {
		t.Fatal("update of point 1")
	}
	r, _ := s.Get(num(1), all)
	if len(r.Sparse) != 2 || len(r.Vectors) != 0 {
		t.Fatalf("after update_vectors: %+v", r)
	}
	if r, _ := s.Get(num(1), func(n string) bool { return n == "t" }); len(r.Sparse) != 1 || r.Sparse["t"].Indices[0] != 7 {
		t.Fatalf("selection of t: %+v", r.Sparse)
	}
	if r, _ := s.Get(num(1), nil); r.Sparse != nil {
		t.Fatalf("no selection returned %+v", r.Sparse)
	}
	s.DeleteVectors(num(1), 4, []string{"s"})
	if n, df := stats(s, "s", 4); n != 1 || df[0] != 0 {
		t.Fatalf("stats after delete_vectors %d %v", n, df)
	}
	s.Delete(num(2))
	if n, _ := stats(s, "s", 2); n != 0 || s.SparseCount("s") != 0 || s.SparseEntries() != 1 {
		t.Fatalf("after delete: %d vectors, %d entries", n, s.SparseEntries())
	}
	// A freed slot comes back without the old vectors.
	s.UpsertPoint(num(3), 5, nil, nil, nil)
	if r, _ := s.Get(num(3), all); r.Sparse != nil {
		t.Fatalf("reused slot kept %+v", r.Sparse)
	}
	// has_vector sees sparse vectors.
	if ids := s.MatchingIDs(mustFilter(`{"must":[{"has_vector":"t"}]}`)); !slices.Equal(ids, []point.ID{num(1)}) {
		t.Fatalf("has_vector t: %v", ids)
	}
}

// TestSparseCheckpointRoundTrip: sparse vectors (empty ones included)
// survive a checkpoint, with their statistics.
func TestSparseCheckpointRoundTrip(t *testing.T) {
	r := newRand(t, rand.Uint64())
	s := sparseStore()
	for i := range 300 {
		v := randomSparse(r, 50, r.IntN(8))
		s.UpsertPoint(num(uint64(i)), uint64(i), nil, point.SparseVectors{"s": v}, nil)
	}
	for i := range 40 {
		s.Delete(num(uint64(i * 7)))
	}
	re, _, err := ReadCheckpoint(checkpointBytes(t, s, 9))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		a, aok := s.SparseVector(num(uint64(i)), "s")
		b, bok := re.SparseVector(num(uint64(i)), "s")
		if aok != bok || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("point %d: %v %v / %v %v", i, a, aok, b, bok)
		}
	}
	dims := []uint32{0, 1, 2, 3, 10, 49}
	n1, df1 := stats(s, "s", dims...)
	n2, df2 := stats(re, "s", dims...)
	if n1 != n2 || !slices.Equal(df1, df2) {
		t.Fatalf("stats %d %v, reloaded %d %v", n1, df1, n2, df2)
	}
	if !re.HasSparse("t") {
		t.Fatal("column t lost")
	}
}

func randomSparse(r *rand.Rand, dims, nnz int) point.SparseVector {
	seen := map[uint32]bool{}
	v := point.SparseVector{Indices: []uint32{}, Values: []float32{}}
	for len(v.Indices) < min(nnz, dims) {
		d := uint32(r.IntN(dims))
		if !seen[d] {
			seen[d] = true
			v.Indices = append(v.Indices, d)
			v.Values = append(v.Values, float32(r.IntN(7)-2)/2) // coarse: ties and zero sums
		}
	}
	return v
}

// sparseOracle scores every live point by its stored vector: the dot
// product over shared indices, kept when they share one.
func sparseOracle(s *Store, p SparseSearchParams) []refHit {
	var out []refHit
	for id := range s.offsets {
		v, ok := s.SparseVector(id, p.Vector)
		if !ok {
			continue
		}
		score, overlap := p.Query.Dot(v)
		if !overlap || p.Threshold != nil && score < *p.Threshold {
			continue
		}
		if _, ex := p.Exclude[id]; ex {
			continue
		}
		if p.Filter != nil && !s.matchesID(id, p.Filter) {
			continue
		}
		out = append(out, refHit{id: id, score: score})
	}
	slices.SortFunc(out, func(a, b refHit) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return a.id.Compare(b.id)
	})
	return out[:min(len(out), p.Limit)]
}

// TestSparseSearchMatchesOracle: appendable (scan), indexed (posting
// lists), filtered-few (point by point) and exact searches all return the
// oracle's hits with the same score bits, under random filters, deletes,
// thresholds and exclusions.
func TestSparseSearchMatchesOracle(t *testing.T) {
	r := newRand(t, rand.Uint64())
	for round := range 30 {
		n, dims := 50+r.IntN(300), 5+r.IntN(40)
		s := sparseStore()
		if err := s.CreateIndex("k", []byte(`"integer"`)); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			var sp point.SparseVectors
			if r.IntN(8) != 0 {
				sp = point.SparseVectors{"s": randomSparse(r, dims, r.IntN(10))}
			}
			s.UpsertPoint(num(uint64(i)), 1, nil, sp, point.Payload{"k": r.IntN(10), "f": r.IntN(4)})
		}
		indexed := round%3 != 0
		if indexed {
			s.BuildSparseIndexes()
		}
		for range r.IntN(n / 4) {
			s.Delete(num(uint64(r.IntN(n))))
		}
		s.PrepareRead()
		for range 10 {
			p := SparseSearchParams{Vector: "s", Query: randomSparse(r, dims+3, 1+r.IntN(8)).Sorted(), Limit: 1 + r.IntN(20),
				Exact: r.IntN(4) == 0, FullScanThreshold: r.IntN(2) * 1000}
			switch r.IntN(4) {
			case 1:
				p.Filter = mustFilter(fmt.Sprintf(`{"must":[{"key":"k","range":{"lt":%d}}]}`, r.IntN(10)))
			case 2:
				p.Filter = mustFilter(fmt.Sprintf(`{"must_not":[{"key":"f","match":{"value":%d}}]}`, r.IntN(4)))
			case 3:
				p.Filter = mustFilter(fmt.Sprintf(`{"must":[{"has_id":[%d,%d,%d]}]}`, r.IntN(n), r.IntN(n), r.IntN(n)))
			}
			if r.IntN(3) == 0 {
				th := float32(r.IntN(5)-2) / 2
				p.Threshold = &th
			}
			if r.IntN(3) == 0 {
				p.Exclude = map[point.ID]struct{}{num(uint64(r.IntN(n))): {}}
			}
			got, err := s.SearchSparse(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			want := sparseOracle(s, p)
			if len(got) != len(want) {
				t.Fatalf("round %d (indexed %v, %+v): %d hits, want %d:\n%s\n%s", round, indexed, p, len(got), len(want), fmtHits(s, got), fmtRef(want))
			}
			for i := range got {
				if s.ids[got[i].Offset] != want[i].id || math.Float32bits(got[i].Score) != math.Float32bits(want[i].score) {
					t.Fatalf("round %d (indexed %v): hit %d:\n%s\n%s", round, indexed, i, fmtHits(s, got), fmtRef(want))
				}
			}
		}
	}
}

// TestSparseSearchEmpty: an empty query, a query sharing no index, an
// unknown column and a zero limit find nothing.
func TestSparseSearchEmpty(t *testing.T) {
	s := sparseStore()
	s.UpsertPoint(num(1), 1, nil, point.SparseVectors{"s": sv(1, 1)}, nil)
	for _, indexed := range []bool{false, true} {
		if indexed {
			s.BuildSparseIndexes()
		}
		for _, p := range []SparseSearchParams{
			{Vector: "s", Query: sv(), Limit: 5},
			{Vector: "s", Query: sv(2, 1), Limit: 5},
			{Vector: "x", Query: sv(1, 1), Limit: 5},
			{Vector: "s", Query: sv(1, 1), Limit: 0},
		} {
			if hits, err := s.SearchSparse(context.Background(), p); err != nil || len(hits) != 0 {
				t.Fatalf("indexed %v %+v: %v %v", indexed, p, hits, err)
			}
		}
	}
}

// TestSparseIndexFiles: an index written to a file opens back, mapped (on
// the OS's FS and on MemFS, which reads it onto the heap) or copied, and
// answers as the in-memory one; a damaged file and one built for fewer
// slots match errkind.ErrCorrupt.
func TestSparseIndexFiles(t *testing.T) {
	r := newRand(t, rand.Uint64())
	build := func(spec SparseSpec) *Store {
		s := NewStore(nil)
		s.AddSparseColumn("s", spec)
		for i := range 200 {
			s.UpsertPoint(num(uint64(i)), 1, nil, point.SparseVectors{"s": randomSparse(r, 30, r.IntN(6))}, nil)
		}
		s.BuildSparseIndexes()
		s.PrepareRead()
		return s
	}
	q := SparseSearchParams{Vector: "s", Query: sv(1, 1, 2, -1, 5, 2), Limit: 20}
	dir := t.TempDir()
	for _, fsys := range []vfs.FS{vfs.Default, vfstest.NewMem()} {
		if err := vfs.EnsureDir(fsys, dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, spec := range []SparseSpec{{}, {OnDisk: true}, {Datatype: sparse.Float16, OnDisk: true}, {Datatype: sparse.Uint8}} {
			s := build(spec)
			want, _ := s.SearchSparse(context.Background(), q)
			path := filepath.Join(dir, "s.spx")
			if err := vfs.WriteFileAtomic(fsys, path, func(w io.Writer) error { return s.WriteSparseIndex("s", w) }); err != nil {
				t.Fatal(err)
			}
			var ckpt bytes.Buffer
			if err := s.WriteCheckpoint(&ckpt, 1); err != nil {
				t.Fatal(err)
			}
			re, _, err := ReadCheckpoint(ckpt.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			re.SetSparseSpec("s", spec)
			if err := re.OpenSparseIndex(fsys, "s", path); err != nil {
				t.Fatal(err)
			}
			if built, match := re.SparseIndexMatches("s"); !built || !match {
				t.Fatalf("%+v: built %v, matches %v", spec, built, match)
			}
			if _, mapped := re.SparseIndexBytes(); (mapped > 0) != spec.OnDisk {
				t.Fatalf("%+v: %d bytes mapped", spec, mapped)
			}
			got, _ := re.SearchSparse(context.Background(), q)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%+v: reopened index answers %v, want %v", spec, got, want)
			}
			re.SetSparseSpec("s", SparseSpec{Datatype: sparse.Uint8, OnDisk: !spec.OnDisk})
			if _, match := re.SparseIndexMatches("s"); match {
				t.Fatal("an index opened otherwise still matches")
			}
		}
	}
	// Damage: a flipped byte, and a file for a larger store.
	s := build(SparseSpec{})
	var b bytes.Buffer
	if err := s.WriteSparseIndex("s", &b); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	raw[40] ^= 1
	path := filepath.Join(dir, "bad.spx")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenSparseIndex(vfs.Default, "s", path); !errors.Is(err, errkind.ErrCorrupt) {
		t.Fatalf("flipped byte: %v", err)
	}
	small := NewStore(nil)
	small.AddSparseColumn("s", SparseSpec{})
	small.UpsertPoint(num(1), 1, nil, point.SparseVectors{"s": sv(1, 1)}, nil)
	raw[40] ^= 1
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := small.OpenSparseIndex(vfs.Default, "s", path); !errors.Is(err, errkind.ErrCorrupt) {
		t.Fatalf("index of a larger store: %v", err)
	}
}

// TestSparseSearchStops: each search path stops once its context is done.
func TestSparseSearchStops(t *testing.T) {
	s := sparseStore()
	for i := range 5000 {
		s.UpsertPoint(num(uint64(i)), 1, nil, point.SparseVectors{"s": sv(1, 1, 2, float32(i%7))}, point.Payload{"k": i % 2})
	}
	s.PrepareRead()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := mustFilter(`{"must":[{"key":"k","match":{"value":1}}]}`)
	for _, indexed := range []bool{false, true} {
		if indexed {
			s.BuildSparseIndexes()
		}
		for _, p := range []SparseSearchParams{
			{Vector: "s", Query: sv(1, 1), Limit: 5},
			{Vector: "s", Query: sv(1, 1), Limit: 5, Filter: f, FullScanThreshold: 1 << 30},
			{Vector: "s", Query: sv(1, 1), Limit: 5, Exact: true},
		} {
			if _, err := s.SearchSparse(ctx, p); !errors.Is(err, context.Canceled) {
				t.Fatalf("indexed %v %+v: %v", indexed, p, err)
			}
		}
	}
}

// matchesID is a test helper: whether the point id passes f.
func (s *Store) matchesID(id point.ID, f *filter.Filter) bool {
	return slices.Contains(s.MatchingIDs(f), id)
}
