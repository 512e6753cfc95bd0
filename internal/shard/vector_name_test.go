package shard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/fsutil"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/testkit"
	"github.com/shoaldb/shoal/internal/vector"
)

func createDense(name string, size uint64, dist string) *ops.Operation {
	return &ops.Operation{Kind: ops.CreateVectorName, Key: name, VectorConfig: &ops.VectorNameConfig{Dense: &ops.DenseVectorConfig{Size: size, Distance: dist}}}
}

func createSparse(name string) *ops.Operation {
	return &ops.Operation{Kind: ops.CreateVectorName, Key: name, VectorConfig: &ops.VectorNameConfig{Sparse: &ops.SparseVectorConfig{}}}
}

func dropVector(name string) *ops.Operation {
	return &ops.Operation{Kind: ops.DeleteVectorName, Key: name}
}

// TestApplyVectorName: what create_vector_name and delete_vector_name do
// to a store, and what they refuse (changing nothing): a name of the
// other kind, the same name in another space.
func TestApplyVectorName(t *testing.T) {
	cases := []struct {
		name    string
		op      *ops.Operation
		refused string // the refusal's text, "" when applied
		dense   string // the dense vectors after it
		sparse  bool   // whether the store has sparse "s" after it
	}{
		{"new dense vector", createDense("new", 4, "Cosine"), "", `"":2 img:3 new:4`, true},
		{"the same again", createDense("img", 3, "Euclid"), "", `"":2 img:3`, true},
		{"another size", createDense("img", 4, "Euclid"), "Vector `img` already exists with a different configuration", `"":2 img:3`, true},
		{"another distance", createDense("img", 3, "Dot"), "Vector `img` already exists with a different configuration", `"":2 img:3`, true},
		{"dense over sparse", createDense("s", 3, "Dot"), "Vector `s` already exists as a sparse vector", `"":2 img:3`, true},
		{"sparse over dense", createSparse("img"), "Vector `img` already exists as a dense vector", `"":2 img:3`, true},
		{"sparse again", createSparse("s"), "", `"":2 img:3`, true},
		{"new sparse", createSparse("t"), "", `"":2 img:3`, true},
		{"multivector", &ops.Operation{Kind: ops.CreateVectorName, Key: "mv", VectorConfig: &ops.VectorNameConfig{Dense: &ops.DenseVectorConfig{Size: 2, Distance: "Dot", Multivector: "max_sim"}}},
			"", `"":2 img:3 mv:2`, true},
		{"drop dense", dropVector("img"), "", `"":2`, true},
		{"drop sparse", dropVector("s"), "", `"":2 img:3`, false},
		{"drop missing", dropVector("nope"), "", `"":2 img:3`, true},
	}
	describe := func(st *segment.Store) string {
		specs := st.VectorSpecs()
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(specs)) {
			if name == "" {
				name = `""`
			}
			parts = append(parts, fmt.Sprintf("%s:%d", name, specs[strings.Trim(name, `"`)].Dim))
		}
		return strings.Join(parts, " ")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := applyBase(t)
			st.AddSparseColumn("s", segment.SparseSpec{})
			st.PrepareRead()
			before := dump(st)
			err := apply(st, 5, c.op)
			switch {
			case c.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.refused != "" && (err == nil || !errors.Is(err, ErrRefused) || err.Error() != c.refused):
				t.Fatalf("error %v, want the refusal %q", err, c.refused)
			}
			if got := describe(st); got != c.dense || st.HasSparse("s") != c.sparse {
				t.Fatalf("vectors %s sparse %v, want %s %v", describe(st), st.HasSparse("s"), c.dense, c.sparse)
			}
			st.PrepareRead()
			if c.op.Kind == ops.CreateVectorName {
				if d := diffStates(before, dump(st)); d != "" {
					t.Fatalf("points changed:%s", d)
				}
			}
		})
	}
}

// vectorOptions have a sealed segment soon, with "img" on disk in a file
// of its own and sparse "s" with an inverted index.
func vectorOptions() Options {
	o := busyOptions()
	o.Vectors = map[string]segment.VectorSpec{"": {Dim: 2, Distance: vector.Dot}, "img": {Dim: 3, Distance: vector.Euclid, OnDisk: true}}
	o.Sparse = map[string]segment.SparseSpec{"s": {}}
	o.Optimizer.SparseIndexingBytes = 8
	return o
}

func needsFlush(sh *Shard) bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.mu.h.needsFlush()
}

func segmentFiles(t *testing.T, dir, suffix string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, segmentsDir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestShardDropVectorDurable: a vector dropped from sealed segments is
// gone for good: its points keep their other vectors, its files are
// removed once a manifest no longer names them, and a restart (clean, or
// from the WAL after a crash) does not bring it back; added again in
// another space it starts empty, and that too survives a restart.
func TestShardDropVectorDurable(t *testing.T) {
	for _, crash := range []bool{false, true} {
		name := "clean restart"
		if crash {
			name = "crash"
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shard")
			sh := startShard(t, dir, vectorOptions())
			ctx := context.Background()
			op := &ops.Operation{Kind: ops.Upsert}
			for i := range 30 {
				f := float32(i)
				op.Points = append(op.Points, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": {f, 1}, "img": {1, f, 2}},
					Sparse: point.SparseVectors{"s": {Indices: []uint32{uint32(i % 4)}, Values: []float32{f}}}})
			}
			if _, err := sh.Update(ctx, op, true); err != nil {
				t.Fatal(err)
			}
			testkit.WaitFor(t, "sealed segments with img on disk and a sparse index, flushed", 20*time.Second, func() bool {
				return idle(sh) && len(segmentFiles(t, dir, ".vec")) > 0 && len(segmentFiles(t, dir, ".spx")) > 0 && !needsFlush(sh)
			})
			// restart closes sh cleanly (then a clean close leaves no
			// file of a dropped vector), or copies what a crash leaves,
			// and opens the shard again with the same state.
			restart := func(what string) {
				t.Helper()
				want := crashState(sh)
				if crash {
					img := filepath.Join(t.TempDir(), "crash")
					copyDir(t, dir, img)
					dir = img
				} else {
					if err := sh.Close(); err != nil {
						t.Fatal(err)
					}
					if n := len(segmentFiles(t, dir, ".vec")) + len(segmentFiles(t, dir, ".spx")); what == "dropped" && n != 0 {
						t.Fatalf("%d files of dropped vectors left", n)
					}
				}
				sh = startShard(t, dir, vectorOptions())
				if d := diffStates(want, crashState(sh)); d != "" {
					t.Fatalf("%s, reopened:%s", what, d)
				}
			}
			for _, o := range []*ops.Operation{dropVector("img"), dropVector("s")} {
				if _, err := sh.Update(ctx, o, true); err != nil {
					t.Fatalf("%s %s: %v", o.Kind, o.Key, err)
				}
			}
			if st := crashState(sh); st["1"] != "v0 null map[:[1 1]]" || st[schemaKey] != `"":2/Dot sparse []` {
				t.Fatalf("after the drops: point 1 %s, vectors %s", st["1"], st[schemaKey])
			}
			restart("dropped")
			up := &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(3), Vectors: point.Vectors{"img": {1, 2, 3, 4}}}}}
			for _, o := range []*ops.Operation{createSparse("s"), createDense("img", 4, "Dot"), up} {
				if _, err := sh.Update(ctx, o, true); err != nil {
					t.Fatalf("%s %s: %v", o.Kind, o.Key, err)
				}
			}
			if st := crashState(sh); st["1"] != "v0 null map[:[1 1]]" || !strings.Contains(st["3"], "img:[1 2 3 4]") || st[schemaKey] != `"":2/Dot "img":4/Dot sparse [s]` {
				t.Fatalf("added again: point 1 %s, point 3 %s, vectors %s", st["1"], st["3"], st[schemaKey])
			}
			restart("added again")
		})
	}
}

// TestShardReplayMeetsOldVectors: operations logged before a vector was
// dropped and added again replay against the vectors they met: the
// upsert's value of the dropped vector does not come back, and the
// create that follows is not refused by it.
func TestShardReplayMeetsOldVectors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	o := testOptions()
	o.Sparse = map[string]segment.SparseSpec{"s": {}}
	sh := startShard(t, dir, o)
	ctx := context.Background()
	script := []*ops.Operation{
		{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 2}, "img": {1, 2, 3}},
			Sparse: point.SparseVectors{"s": {Indices: []uint32{7}, Values: []float32{1}}}}}},
		dropVector("img"), dropVector("s"),
		createDense("img", 3, "Euclid"), createSparse("s"),
		{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Vectors: point.Vectors{"img": {4, 5, 6}}}}},
	}
	for _, op := range script {
		if _, err := sh.Update(ctx, op, true); err != nil {
			t.Fatalf("%s: %v", op.Kind, err)
		}
	}
	want := crashState(sh)
	if want["1"] != "v0 null map[:[1 2]]" {
		t.Fatalf("point 1 = %s", want["1"])
	}
	img := filepath.Join(t.TempDir(), "crash")
	copyDir(t, dir, img) // nothing flushed: all of it replays from the WAL
	re := startShard(t, img, o)
	if d := diffStates(want, crashState(re)); d != "" {
		t.Fatalf("replayed:%s", d)
	}
}

// TestOptimizationDuringVectorChange: an optimization that copied its
// segments before a vector was dropped would swap in a segment that still
// has it; it is dropped at its swap instead (not counted as a failure),
// and the optimizer builds the segment again from the new vectors.
func TestOptimizationDuringVectorChange(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	dir := filepath.Join(t.TempDir(), "shard")
	sh, err := openWith(dir, vectorOptions(), seams{writeFile: func(path string, write func(io.Writer) error) error {
		if strings.HasSuffix(path, ".vec") {
			// Only an optimization writes on-disk vectors: it has
			// copied its segments and builds the new one.
			once.Do(func() {
				close(entered)
				<-release
			})
		}
		return fsutil.WriteFileAtomic(path, write)
	}})
	if err != nil {
		t.Fatal(err)
	}
	sh.Start()
	t.Cleanup(func() { sh.Close() })
	ctx := context.Background()
	op := &ops.Operation{Kind: ops.Upsert}
	for i := range 30 {
		op.Points = append(op.Points, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": {float32(i), 1}, "img": {1, 2, 3}}})
	}
	if _, err := sh.Update(ctx, op, false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("no segment file written")
	}
	// The optimizer is blocked; the drop goes through the worker.
	done := make(chan error, 1)
	go func() {
		_, err := sh.Update(ctx, dropVector("img"), true)
		done <- err
	}()
	testkit.WaitFor(t, "the drop applied", 20*time.Second, func() bool {
		dense, _ := sh.VectorSchema()
		_, ok := dense["img"]
		return !ok
	})
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the optimizer to settle", 20*time.Second, func() bool { return idle(sh) })
	sh.View(func(r *Reader) {
		for _, g := range r.h.segs {
			if _, ok := g.store.VectorSpecs()["img"]; ok {
				t.Errorf("segment %d (appendable %v) still has img", g.id, g.appendable)
			}
		}
	})
	st := sh.Optimizer()
	if st.Error != "" || st.Failed != 0 {
		t.Fatalf("optimizer status %+v", st)
	}
	if !slices.ContainsFunc(st.Log, func(tr Tracker) bool { return tr.Status == "cancelled" }) {
		t.Fatalf("no optimization was dropped: %+v", st.Log)
	}
}

// TestNewShardRecordsItsVectors: a new shard writes its first manifest
// when it opens, so that a WAL that changed its vectors replays against
// the vectors it began with, not against those of the options it is
// reopened with (the collection's configuration after the changes).
func TestNewShardRecordsItsVectors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	sh := startShard(t, dir, testOptions())
	if _, err := os.Stat(filepath.Join(dir, manifestFile)); err != nil {
		t.Fatalf("no manifest for a new shard: %v", err)
	}
	ctx := context.Background()
	for _, op := range []*ops.Operation{
		{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"img": {1, 2, 3}}}}},
		dropVector("img"), createSparse("img"),
		{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(2), Sparse: point.SparseVectors{"img": {Indices: []uint32{4}, Values: []float32{1}}}}}},
	} {
		if _, err := sh.Update(ctx, op, true); err != nil {
			t.Fatalf("%s: %v", op.Kind, err)
		}
	}
	want := crashState(sh)
	img := filepath.Join(t.TempDir(), "crash")
	copyDir(t, dir, img)
	// Reopened with the options the collection would now give.
	o := testOptions()
	delete(o.Vectors, "img")
	o.Sparse = map[string]segment.SparseSpec{"img": {}}
	re := startShard(t, img, o)
	if d := diffStates(want, crashState(re)); d != "" {
		t.Fatalf("replayed:%s", d)
	}
}
