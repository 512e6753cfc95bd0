package segment

import (
	"bytes"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
	"github.com/shoaldb/shoal/internal/vfs"
)

// TestDropAndAddVector: dropping a vector removes its column, graph, codes,
// mapped file and inverted index from reads, filters and the checkpoint;
// the same name added again (another dimension) starts empty and takes
// vectors; the other vectors of every point stay.
func TestDropAndAddVector(t *testing.T) {
	seed := uint64(20261206)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	s := NewStore(map[string]VectorSpec{"a": {Dim: 4, Distance: vector.Cosine}, "b": {Dim: 3, Distance: vector.Dot}})
	s.AddSparseColumn("s", SparseSpec{})
	s.SetIndexParams("a", IndexParams{M: 8, EfConstruct: 32, IndexingThreshold: 10, Seed: 1,
		Quantization: &quant.Config{Kind: quant.Scalar}})
	for i := range 50 {
		s.UpsertPoint(num(uint64(i)), 1, point.Vectors{"a": randUnit(r, 4), "b": {1, 2, float32(i)}},
			point.SparseVectors{"s": sv(float32(i), 1)}, nil)
	}
	s.PrepareRead()
	linkAll(t, s)
	s.BuildSparseIndexes()
	if !s.HasGraph("a") {
		t.Fatal("no graph for a")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "a.vec")
	var col bytes.Buffer
	if err := s.WriteColumn("a", &col); err != nil {
		t.Fatal(err)
	}
	if err := vfs.WriteFileAtomic(vfs.Default, path, func(w io.Writer) error {
		_, err := w.Write(col.Bytes())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.MapColumn(vfs.Default, "a", path); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"a", "s"} {
		if !s.DropVector(name) {
			t.Fatalf("drop %q: not there", name)
		}
	}
	if s.DropVector("a") || s.DropVector("nope") {
		t.Fatal("dropping a missing vector reported one")
	}
	if _, ok := s.VectorDim("a"); ok || s.HasSparse("s") || s.HasGraph("a") || s.External("a") {
		t.Fatal("dropped vectors still there")
	}
	if got, _ := s.Search(bg, SearchParams{Vector: "a", Query: randUnit(r, 4), Limit: 5}); len(got) != 0 {
		t.Fatalf("search of a dropped vector: %v", got)
	}
	if got, _ := s.SearchSparse(bg, SparseSearchParams{Vector: "s", Query: sv(1, 1), Limit: 5}); len(got) != 0 {
		t.Fatalf("sparse search of a dropped vector: %v", got)
	}
	rec, _ := s.Get(num(7), func(string) bool { return true })
	if _, ok := rec.Vectors["a"]; ok || rec.Sparse != nil || len(rec.Vectors["b"]) != 3 {
		t.Fatalf("record after the drop: %+v", rec)
	}
	if n := len(s.MatchingIDs(mustFilter(`{"must":[{"has_vector":"a"}]}`))); n != 0 {
		t.Fatalf("has_vector a matches %d points", n)
	}
	if n := len(s.MatchingIDs(mustFilter(`{"must":[{"has_vector":"b"}]}`))); n != 50 {
		t.Fatalf("has_vector b matches %d points", n)
	}

	// The checkpoint holds neither.
	var buf bytes.Buffer
	if err := s.WriteCheckpoint(&buf, 9); err != nil {
		t.Fatal(err)
	}
	back, _, err := ReadCheckpoint(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if specs := back.VectorSpecs(); len(specs) != 1 || specs["b"].Dim != 3 || len(back.SparseNames()) != 0 {
		t.Fatalf("reloaded schema %v %v", specs, back.SparseNames())
	}

	// Added again with another dimension: empty, then written.
	s.AddColumn("a", VectorSpec{Dim: 2, Distance: vector.Euclid})
	s.AddSparseColumn("s", SparseSpec{})
	if s.VectorCount("a") != 0 || s.SparseCount("s") != 0 {
		t.Fatal("a re-added vector is not empty")
	}
	if specs := s.VectorSpecs(); specs["a"] != (VectorSpec{Dim: 2, Distance: vector.Euclid, Datatype: Float32}) {
		t.Fatalf("re-added spec %+v", specs["a"])
	}
	s.UpdatePointVectors(num(7), 2, point.Vectors{"a": {3, 4}}, point.SparseVectors{"s": sv(5, 2)})
	s.UpsertPoint(num(99), 2, point.Vectors{"a": {0, 0}}, nil, nil)
	s.PrepareRead()
	got, err := s.Search(bg, SearchParams{Vector: "a", Query: []float32{0, 0}, Limit: 5})
	if err != nil || len(got) != 2 || s.RecordAt(got[0].Offset, nil).ID != num(99) {
		t.Fatalf("search of the re-added vector: %v %v", got, err)
	}
	rec, _ = s.Get(num(7), func(string) bool { return true })
	if len(rec.Vectors["a"]) != 2 || len(rec.Vectors["b"]) != 3 || len(rec.Sparse["s"].Indices) != 1 {
		t.Fatalf("record after the re-add: %+v", rec)
	}
}
