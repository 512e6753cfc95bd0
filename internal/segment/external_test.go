package segment

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vfs"
)

// TestOnDiskColumns: columns moved to mapped files (every datatype) answer
// reads and searches exactly as in memory, survive a checkpoint round trip
// through ReadCheckpointWith, and take deletes without writing the map.
func TestOnDiskColumns(t *testing.T) {
	specs := map[string]VectorSpec{
		"f32": {Dim: 8, Distance: vector.Cosine},
		"f16": {Dim: 8, Distance: vector.Euclid, Datatype: Float16},
		"u8":  {Dim: 8, Distance: vector.Dot, Datatype: Uint8},
		"t4":  {Dim: 8, Distance: vector.Cosine, Datatype: Turbo4},
	}
	r := rand.New(rand.NewPCG(5, 6))
	s := NewStore(specs)
	for i := range 500 {
		vecs := point.Vectors{}
		for name, sp := range specs {
			if i%7 == 0 && name == "f16" {
				continue // some points lack a vector
			}
			v := make([]float32, sp.Dim)
			for j := range v {
				v[j] = float32(r.IntN(200)) / 8
			}
			vecs[name] = sp.Distance.Preprocess(v)
		}
		s.Upsert(point.NumID(uint64(i)), 1, vecs, point.Payload{"i": i})
	}
	for name, sp := range specs {
		s.SetIndexParams(name, IndexParams{M: 8, EfConstruct: 32, IndexingThreshold: 1, Seed: 1})
		_ = sp
	}
	for b := s.PrepareGraphBuild(); b != nil; b = s.PrepareGraphBuild() {
		g, err := b.Run(t.Context(), 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.InstallGraph(b, g)
	}
	s.PrepareRead()
	query := func(st *Store) string {
		var out bytes.Buffer
		for _, name := range []string{"f32", "f16", "u8", "t4"} {
			q := make([]float32, 8)
			for j := range q {
				q[j] = float32(j%3) + 1
			}
			q = specs[name].Distance.Preprocess(q)
			for _, exact := range []bool{true, false} {
				for _, h := range must(st.Search(bg, SearchParams{Vector: name, Query: q, Limit: 5, Exact: exact, HnswEf: 64})) {
					rec := st.RecordAt(h.Offset, func(string) bool { return true })
					fmt.Fprintf(&out, "%s %v %.4f %v|", name, rec.ID, h.Score, rec.Vectors[name])
				}
			}
		}
		return out.String()
	}
	want := query(s)

	dir := t.TempDir()
	files := map[string]string{}
	for name := range specs {
		var buf bytes.Buffer
		if err := s.WriteColumn(name, &buf); err != nil {
			t.Fatal(err)
		}
		files[name] = filepath.Join(dir, name+".vec")
		if err := os.WriteFile(files[name], buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.MapColumn(vfs.Default, name, files[name]); err != nil {
			t.Fatal(err)
		}
		if !s.External(name) {
			t.Fatalf("%s not external", name)
		}
	}
	if got := query(s); got != want {
		t.Fatalf("mapped columns answer differently:\n%s\nwant\n%s", got, want)
	}
	var ckpt bytes.Buffer
	if err := s.WriteCheckpoint(&ckpt, 9); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadCheckpoint(ckpt.Bytes()); err == nil {
		t.Fatal("a checkpoint with on-disk columns read without their files")
	}
	re, applied, err := ReadCheckpointWith(ckpt.Bytes(), vfs.Default, func(name string) (string, error) { return files[name], nil })
	if err != nil || applied != 9 {
		t.Fatalf("read back: %v (applied %d)", err, applied)
	}
	re.PrepareRead()
	if got := query(re); got != want {
		t.Fatalf("reloaded mapped segment answers differently:\n%s\nwant\n%s", got, want)
	}
	// Deletes only touch flags; a file of the wrong size is refused.
	re.Delete(point.NumID(3))
	if re.Has(point.NumID(3)) {
		t.Fatal("delete on a mapped segment")
	}
	if err := os.WriteFile(files["u8"], []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadCheckpointWith(ckpt.Bytes(), vfs.Default, func(name string) (string, error) { return files[name], nil }); err == nil {
		t.Fatal("a vector file of the wrong size was accepted")
	}
}
