package shard

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
)

// busyOptions make the optimizer act on tiny shards: every few points are
// indexed into a sealed segment, segments merge down to two, and a sealed
// segment is vacuumed once a tenth of it is deleted.
func busyOptions() Options {
	o := testOptions()
	o.VectorIndex = map[string]segment.IndexParams{
		"":    {M: 4, EfConstruct: 16, IndexingThreshold: 6, Seed: 1},
		"img": {M: 4, EfConstruct: 16, IndexingThreshold: 6, Seed: 1},
	}
	o.Optimizer = OptimizerParams{DeletedThreshold: 0.1, VacuumMinVectorNumber: 1, DefaultSegmentNumber: 2}
	o.IndexThreads = 2
	return o
}

// idle reports whether the optimizer has nothing left to do.
func idle(sh *Shard) bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.progress.Load() == nil && sh.mu.h.plan(sh.seams.now()) == nil
}

func segmentInfo(sh *Shard) []SegmentInfo {
	var out []SegmentInfo
	sh.View(func(r *Reader) { out = r.Segments() })
	return out
}

// TestSegmentsMatchPlainStore runs random workloads on a shard whose
// optimizer keeps sealing, merging and vacuuming segments, and on a single
// plain store: both must hold the same points, count and search alike, and
// the shard must come back the same after a close and after a crash.
func TestSegmentsMatchPlainStore(t *testing.T) {
	r := newRand(t, testSeed(t))
	dir := filepath.Join(t.TempDir(), "shard")
	opts := busyOptions()
	sh := startShard(t, dir, opts)
	model := segment.NewStore(testSpecs())
	ctx := context.Background()

	index := &ops.Operation{Kind: ops.CreateIndex, Key: "g", Schema: &ops.FieldSchema{Type: ops.IntegerField}}
	if _, err := sh.Update(ctx, index, true); err != nil {
		t.Fatal(err)
	}
	_ = apply(model, 0, index)
	version := uint64(1)
	sawSealed, sawMany := false, false
	for round := range 12 {
		for range 60 {
			op := randomOp(t, r)
			// Ids beyond the default workload's 40 make segments
			// large enough to index.
			for i := range op.Points {
				if r.IntN(2) == 0 {
					op.Points[i].ID = point.NumID(uint64(100 + r.IntN(60)))
				}
			}
			_, err := sh.Update(ctx, op, true)
			merr := apply(model, version, op)
			version++
			if (err == nil) != (merr == nil) {
				t.Fatalf("round %d: shard error %v, plain store error %v for %s", round, err, merr, op.Kind)
			}
		}
		model.PrepareRead()
		for _, si := range segmentInfo(sh) {
			sawSealed = sawSealed || (!si.Appendable && si.IndexedVectors > 0)
		}
		sawMany = sawMany || len(segmentInfo(sh)) > 1
		compareWithModel(t, fmt.Sprintf("round %d", round), sh, model, r)
		if round%4 == 3 {
			testkit.WaitFor(t, "optimizer idle", 20*time.Second, func() bool { return idle(sh) })
		}
	}
	if !sawSealed || !sawMany {
		t.Fatalf("the optimizer never sealed an indexed segment (%v) or the shard never had several segments (%v)", sawSealed, sawMany)
	}
	if n := sh.Optimizer().Completed; n == 0 {
		t.Fatal("no optimization completed")
	}
	t.Logf("optimizations completed: %d, segments now: %+v", sh.Optimizer().Completed, segmentInfo(sh))

	// A crash (the directory as the OS has it) and a clean close both
	// come back with the same points.
	// The copy is taken while no file changes: with the optimizer idle
	// and its last result flushed (the WAL tail is replayed).
	testkit.WaitFor(t, "optimizer idle and flushed", 20*time.Second, func() bool {
		sh.mu.RLock()
		defer sh.mu.RUnlock()
		return sh.progress.Load() == nil && sh.mu.h.plan(sh.seams.now()) == nil && !sh.mu.h.changed && len(sh.mu.h.retired) == 0
	})
	want := state(sh)
	crashed := filepath.Join(t.TempDir(), "crashed")
	copyDir(t, dir, crashed)
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, crashed} {
		re := startShard(t, d, opts)
		if diff := diffStates(want, state(re)); diff != "" {
			t.Fatalf("%s: state after reopen differs:%s", d, diff)
		}
		compareWithModel(t, "reopened "+d, re, model, r)
		re.Close()
	}
}

// compareWithModel checks points, filtered counts and exact searches.
func compareWithModel(t *testing.T, what string, sh *Shard, model *segment.Store, r *rand.Rand) {
	t.Helper()
	if diff := diffStates(dump(model), state(sh)); diff != "" {
		t.Fatalf("%s: shard differs from the plain store:%s", what, diff)
	}
	for g := range 3 {
		f, err := filter.Parse(json.RawMessage(fmt.Sprintf(`{"must":[{"key":"g","match":{"value":%d}}]}`, g)))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		var page []segment.Record
		sh.View(func(rd *Reader) {
			n, err = rd.Count(bg, f)
			if err == nil {
				page, _, err = rd.Scroll(bg, f, nil, 1000, nil)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := model.Count(bg, f); n != want || len(page) != want {
			t.Fatalf("%s: count(g=%d) = %d, scroll %d, want %d", what, g, n, len(page), want)
		}
	}
	q := []float32{float32(r.NormFloat64()), float32(r.NormFloat64())}
	p := segment.SearchParams{Vector: "", Query: q, Limit: 7, Exact: true}
	var hits []Hit
	sh.View(func(rd *Reader) { hits = must(rd.Search(bg, p, nil)) })
	want := must(model.Search(bg, p))
	if len(hits) != len(want) {
		t.Fatalf("%s: search found %d, want %d", what, len(hits), len(want))
	}
	for i := range want {
		if w := model.RecordAt(want[i].Offset, nil).ID; hits[i].ID != w || hits[i].Score != want[i].Score {
			t.Fatalf("%s: hit %d = %v %v, want %v %v", what, i, hits[i].ID, hits[i].Score, w, want[i].Score)
		}
	}
}

// TestOptimizerLifecycle walks one shard through Qdrant's optimizations:
// indexing of a segment past the threshold, merging down to the default
// segment number, vacuum after deletes, and a restart that finds the
// indexed segments built.
func TestOptimizerLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	opts := testOptions()
	opts.VectorIndex = map[string]segment.IndexParams{"": {M: 8, EfConstruct: 32, IndexingThreshold: 100, Seed: 1}}
	opts.Optimizer = OptimizerParams{DeletedThreshold: 0.2, VacuumMinVectorNumber: 10, DefaultSegmentNumber: 2}
	sh := startShard(t, dir, opts)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	upsert := func(from, to int) {
		var pts []ops.PointStruct
		for i := from; i < to; i++ {
			pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": {float32(r.NormFloat64()), float32(r.NormFloat64())}},
				Payload: point.Payload{"i": json.Number(fmt.Sprint(i))}})
		}
		if _, err := sh.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: pts}, true); err != nil {
			t.Fatal(err)
		}
	}
	sealed := func() (n, indexed int) {
		for _, si := range segmentInfo(sh) {
			if !si.Appendable {
				n++
				indexed += si.IndexedVectors
			}
		}
		return n, indexed
	}

	// Three rounds past the threshold: each appendable segment is sealed
	// and indexed; the merge optimizer keeps the count at two.
	for round := range 3 {
		upsert(round*150, (round+1)*150)
		testkit.WaitFor(t, "indexing", 20*time.Second, func() bool { return idle(sh) })
		n, indexed := sealed()
		if indexed != (round+1)*150 {
			t.Fatalf("round %d: %d indexed vectors in %d sealed segments, want %d; segments %+v", round, indexed, n, (round+1)*150, segmentInfo(sh))
		}
		if total := len(segmentInfo(sh)); total > 2 {
			t.Fatalf("round %d: %d segments, want at most 2: %+v", round, total, segmentInfo(sh))
		}
	}

	// An update of a sealed point moves it to an appendable segment.
	op := &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(7)}, Payload: point.Payload{"moved": true}}
	if _, err := sh.Update(ctx, op, true); err != nil {
		t.Fatal(err)
	}
	var app SegmentInfo
	for _, si := range segmentInfo(sh) {
		if si.Appendable {
			app = si
		}
	}
	if app.Points != 1 {
		t.Fatalf("appendable segment holds %d points after a copy-on-write move, want 1: %+v", app.Points, segmentInfo(sh))
	}

	// Deleting 30% of the points passes deleted_threshold: vacuumed.
	var del []point.ID
	for i := 0; i < 450; i += 3 {
		del = append(del, point.NumID(uint64(i)))
	}
	if _, err := sh.Update(ctx, &ops.Operation{Kind: ops.Delete, IDs: del}, true); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "vacuum", 20*time.Second, func() bool {
		if !idle(sh) {
			return false
		}
		for _, si := range segmentInfo(sh) {
			if !si.Appendable && si.Deleted > 0 {
				return false
			}
		}
		return true
	})
	var total int
	sh.View(func(rd *Reader) { total = rd.Len() })
	if total != 300 {
		t.Fatalf("%d points after deleting 150 of 450", total)
	}
	before := segmentInfo(sh)
	_, indexed := sealed()
	testkit.WaitFor(t, "flush of the optimized segments", 20*time.Second, func() bool {
		sh.mu.RLock()
		defer sh.mu.RUnlock()
		return !sh.mu.h.changed
	})
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened without starting: the graphs are loaded, not rebuilt.
	re, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	var after []SegmentInfo
	re.View(func(rd *Reader) { after = rd.Segments() })
	slices.SortFunc(before, func(a, b SegmentInfo) int { return int(a.ID) - int(b.ID) })
	slices.SortFunc(after, func(a, b SegmentInfo) int { return int(a.ID) - int(b.ID) })
	if !slices.Equal(before, after) {
		t.Fatalf("segments after reopen\n%+v\nwant\n%+v", after, before)
	}
	if indexed == 0 {
		t.Fatal("nothing indexed")
	}
	re.View(func(rd *Reader) {
		if rd.Has(point.NumID(0)) || !rd.Has(point.NumID(1)) {
			t.Fatal("deletes of sealed segments not kept")
		}
		rec, _ := rd.Get(point.NumID(7), nil)
		if rec.Payload["moved"] != true {
			t.Fatalf("moved point lost its payload: %v", rec.Payload)
		}
	})
}

// TestIndexedOnlySkipsLargePlainSegments: indexed_only leaves out
// unindexed segments larger than the full-scan threshold.
func TestIndexedOnlySkipsLargePlainSegments(t *testing.T) {
	opts := testOptions()
	opts.VectorIndex = map[string]segment.IndexParams{"": {M: 8, EfConstruct: 32, IndexingThreshold: 0, FullScanThreshold: 5}}
	sh := startShard(t, filepath.Join(t.TempDir(), "shard"), opts)
	var pts []ops.PointStruct
	for i := range 10 {
		pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": {1, float32(i)}}})
	}
	if _, err := sh.Update(context.Background(), &ops.Operation{Kind: ops.Upsert, Points: pts}, true); err != nil {
		t.Fatal(err)
	}
	p := segment.SearchParams{Vector: "", Query: []float32{1, 0}, Limit: 3}
	sh.View(func(rd *Reader) {
		if n := len(must(rd.Search(bg, p, nil))); n != 3 {
			t.Fatalf("plain search found %d", n)
		}
		p.IndexedOnly = true
		if n := len(must(rd.Search(bg, p, nil))); n != 0 {
			t.Fatalf("indexed_only search over a large plain segment found %d, want 0", n)
		}
	})
}

// TestOnDiskVectors: with on_disk vectors, the optimizer's sealed segments
// keep them in mapped files of their own, which a restart maps again and a
// later optimization replaces (the old files go).
func TestOnDiskVectors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	opts := testOptions()
	sp := opts.Vectors[""]
	sp.OnDisk = true
	opts.Vectors[""] = sp
	opts.VectorIndex = map[string]segment.IndexParams{"": {M: 8, EfConstruct: 32, IndexingThreshold: 100, Seed: 1}}
	opts.Optimizer = OptimizerParams{DeletedThreshold: 0.2, VacuumMinVectorNumber: 10, DefaultSegmentNumber: 1}
	sh := startShard(t, dir, opts)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(8, 9))
	var pts []ops.PointStruct
	for i := range 300 {
		pts = append(pts, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": {float32(r.NormFloat64()), float32(r.NormFloat64())}}})
	}
	if _, err := sh.Update(ctx, &ops.Operation{Kind: ops.Upsert, Points: pts}, true); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "indexing", 20*time.Second, func() bool { return idle(sh) && sh.Optimizer().Completed > 0 })
	vecFiles := func() []string {
		m, err := filepath.Glob(filepath.Join(dir, segmentsDir, "*.vec"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	external := func(s *Shard) bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		for _, g := range s.mu.h.segs {
			if !g.appendable && g.store.External("") {
				return true
			}
		}
		return false
	}
	if !external(sh) || len(vecFiles()) != 1 {
		t.Fatalf("sealed segment not on disk: external %v, files %v", external(sh), vecFiles())
	}
	q := segment.SearchParams{Vector: "", Query: []float32{1, 0.5}, Limit: 5, HnswEf: 32}
	var want []Hit
	sh.View(func(rd *Reader) { want = must(rd.Search(bg, q, func(string) bool { return true })) })
	first := vecFiles()[0]

	// Deleting a third vacuums: a new file replaces the old one.
	var del []point.ID
	for i := 0; i < 300; i += 3 {
		del = append(del, point.NumID(uint64(i)))
	}
	if _, err := sh.Update(ctx, &ops.Operation{Kind: ops.Delete, IDs: del}, true); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "vacuum and flush", 20*time.Second, func() bool {
		files := vecFiles()
		return idle(sh) && len(files) == 1 && files[0] != first
	})
	sh.View(func(rd *Reader) { want = must(rd.Search(bg, q, func(string) bool { return true })) })
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	re, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if !external(re) {
		t.Fatal("reopened segment not mapped")
	}
	var got []Hit
	re.View(func(rd *Reader) { got = must(rd.Search(bg, q, func(string) bool { return true })) })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("search after reopen\n%v\nwant\n%v", got, want)
	}
}
