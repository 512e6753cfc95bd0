package segment

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

// TestMapColumnThroughFS: an on-disk column is opened through the FS it was
// written to, so a file system that cannot mmap (an in-memory one) serves
// it from the heap, and the checkpoint reads back through that FS too.
func TestMapColumnThroughFS(t *testing.T) {
	spec := map[string]VectorSpec{"v": {Dim: 4, Distance: vector.Dot}}
	s := NewStore(spec)
	for i := range 10 {
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"v": {float32(i), 1, 2, 3}}, nil)
	}
	mem := vfstest.NewMem()
	write := func(path string, fn func(io.Writer) error) {
		t.Helper()
		if err := vfs.WriteFileAtomic(mem, path, fn); err != nil {
			t.Fatal(err)
		}
	}
	write("/v.vec", func(w io.Writer) error { return s.WriteColumn("v", w) })
	if err := s.MapColumn(mem, "v", "/v.vec"); err != nil {
		t.Fatal(err)
	}
	if err := s.MapColumn(mem, "v", "/missing.vec"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("mapping a missing file: %v", err)
	}
	var ckpt bytes.Buffer
	if err := s.WriteCheckpoint(&ckpt, 3); err != nil {
		t.Fatal(err)
	}
	re, _, err := ReadCheckpointWith(ckpt.Bytes(), mem, func(string) (string, error) { return "/v.vec", nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*Store{s, re} {
		if !st.External("v") {
			t.Fatal("column not external")
		}
		rec, ok := st.Get(point.NumID(7), func(string) bool { return true })
		if !ok {
			t.Fatal("point 7 lost")
		}
		if got := rec.Vectors["v"]; !slices.Equal(got, []float32{7, 1, 2, 3}) {
			t.Fatalf("vector of point 7: %v", got)
		}
	}
}
