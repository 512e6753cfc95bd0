package shard

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/testkit"
	"github.com/shoaldb/shoal/internal/vector"
)

// deferredOptions: appendable segments show their first three points;
// the optimizer starts disabled, so points stay deferred until a test
// turns it on.
func deferredOptions() Options {
	return Options{
		Vectors:     map[string]segment.VectorSpec{"": {Dim: 2, Distance: vector.Dot}},
		VectorIndex: map[string]segment.IndexParams{"": {M: 4, EfConstruct: 8, IndexingThreshold: 1000, Seed: 1}},
		Optimizer:   OptimizerParams{Disabled: true, DeferFrom: 3, DefaultSegmentNumber: 8, DeletedThreshold: 0.2, VacuumMinVectorNumber: 1000},
		Logger:      quietLogger(),
	}
}

// visibleView is what reads show: each visible point's payload tag, the
// point count, the count of a filter-less count and the deferred count.
func visibleView(t *testing.T, sh *Shard) string {
	t.Helper()
	var out string
	sh.View(func(r *Reader) {
		recs, _, err := r.Scroll(bg, nil, nil, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, rec := range recs {
			parts = append(parts, fmt.Sprintf("%v:%v", rec.ID, rec.Payload["tag"]))
			got, ok := r.Get(rec.ID, nil)
			if !ok || fmt.Sprint(got.Payload) != fmt.Sprint(rec.Payload) {
				t.Fatalf("Get(%v) = %v, %v; scroll shows %v", rec.ID, got.Payload, ok, rec.Payload)
			}
		}
		n := must(r.Count(bg, nil))
		if n != len(recs) || r.Len() != len(recs) {
			t.Fatalf("count %d, Len %d, scroll %d", n, r.Len(), len(recs))
		}
		out = fmt.Sprint(parts)
	})
	return fmt.Sprintf("%s deferred=%d", out, sh.DeferredPoints())
}

func tagged(id uint64, tag string) ops.PointStruct {
	return ops.PointStruct{ID: point.NumID(id), Vectors: point.Vectors{"": {1, float32(id)}}, Payload: point.Payload{"tag": tag}}
}

func setOptimizer(sh *Shard, on bool) {
	p := deferredOptions().Optimizer
	p.Disabled = !on
	sh.SetOptimizer(p)
}

// TestDeferredPoints follows Qdrant's deferred points (test_deferred_points
// and the segment holder's copy-on-write rules) at the shard: points past
// an appendable segment's first DeferFrom are stored but hidden from every
// read; writes reach them; an update sent with wait returns once they are
// visible (or the context ends: ErrDeferredTimeout); an optimization shows
// them; an update that moves a point out of a sealed segment into a
// deferred offset leaves the old copy visible (its shadow) until then, and
// filtered updates decide on the newest copy. Reopening, after a clean
// close or a crash, shows the same.
func TestDeferredPoints(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "shard")
	opts := deferredOptions()
	sh := startShard(t, dir, opts)
	update := func(op *ops.Operation) {
		t.Helper()
		if _, err := sh.Update(ctx, op, false); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(when, want string) {
		t.Helper()
		waitApplied(t, sh, sh.Applied()) // reads below start after every queued write
		testkit.WaitFor(t, "the queue to drain", 10*time.Second, func() bool { return sh.QueueLength() == 0 })
		if got := visibleView(t, sh); got != want {
			t.Fatalf("%s:\n got %s\nwant %s", when, got, want)
		}
	}

	update(&ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{tagged(1, "a"), tagged(2, "a"), tagged(3, "a"), tagged(4, "a"), tagged(5, "a")}})
	expect("five points, three shown", "[1:a 2:a 3:a] deferred=2")

	// Writes reach deferred points; reads still pass them by.
	update(&ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(4)}, Payload: point.Payload{"tag": "b"}})
	update(&ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(5)}})
	expect("deferred point written, another deleted", "[1:a 2:a 3:a] deferred=1")

	// An update sent with wait is applied, and its answer waits for the
	// deferred points: here the optimizer is off, so the context ends it.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := sh.Update(short, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{tagged(6, "a")}}, true)
	cancel()
	if !errors.Is(err, ErrDeferredTimeout) {
		t.Fatalf("wait with deferred points and no optimizer: %v, want ErrDeferredTimeout", err)
	}
	expect("applied while waiting", "[1:a 2:a 3:a] deferred=2")

	// With the optimizer on, a waiting update returns once all is shown.
	done := make(chan error, 1)
	go func() {
		_, err := sh.Update(ctx, &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(1)}, Payload: point.Payload{"tag": "c"}}, true)
		done <- err
	}()
	setOptimizer(sh, true)
	if err := <-done; err != nil {
		t.Fatalf("waiting update: %v", err)
	}
	expect("optimized", "[1:c 2:a 3:a 4:b 6:a] deferred=0")
	settle(t, sh)
	setOptimizer(sh, false)

	// Now every point is in a sealed segment. Point 1 moves to a visible
	// offset of a new appendable segment; 7 and 8 fill it; point 2 moves
	// to a deferred offset: its old copy stays visible.
	update(&ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(1)}, Payload: point.Payload{"tag": "d"}})
	update(&ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{tagged(7, "a"), tagged(8, "a")}})
	update(&ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(2)}, Payload: point.Payload{"tag": "e"}})
	expect("a moved point keeps its old copy visible", "[1:d 2:a 3:a 4:b 6:a 7:a 8:a] deferred=1")

	// Filters of updates see the newest copy: tag "a" no longer matches
	// point 2 (its shadow says a, its newest copy e), tag "e" does. The
	// update moves 3 and 6 out of their sealed segment into deferred
	// offsets too, so reads still show their old copies.
	update(&ops.Operation{Kind: ops.SetPayload, Filter: mustFilter(t, `{"must":[{"key":"tag","match":{"value":"a"}}]}`), Payload: point.Payload{"seen": true}})
	update(&ops.Operation{Kind: ops.SetPayload, Filter: mustFilter(t, `{"must":[{"key":"tag","match":{"value":"e"}}]}`), Payload: point.Payload{"tag": "f"}})
	expect("filtered updates", "[1:d 2:a 3:a 4:b 6:a 7:a 8:a] deferred=3")
	newest := func(id uint64) point.Payload {
		sh.mu.RLock()
		defer sh.mu.RUnlock()
		p, _ := sh.mu.h.Payload(point.NumID(id))
		return p
	}
	var seen []string
	for _, id := range []uint64{1, 2, 3, 6, 7, 8} {
		if newest(id)["seen"] == true {
			seen = append(seen, fmt.Sprint(id))
		}
	}
	if !slices.Equal(seen, []string{"3", "6", "7", "8"}) || newest(2)["tag"] != "f" {
		t.Fatalf("filtered update by the shadow's value reached %v; point 2 is %v", seen, newest(2))
	}
	// Deleting a point removes both copies.
	update(&ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(3)}})
	want := "[1:d 2:a 4:b 6:a 7:a 8:a] deferred=2"
	expect("before reopening", want)

	// The same after a crash (the WAL since the last flush replays) and
	// after a clean close (the shadow is in the files).
	crashed := filepath.Join(t.TempDir(), "crashed")
	copyDir(t, dir, crashed)
	re := startShard(t, crashed, opts)
	if got := visibleView(t, re); got != want {
		t.Fatalf("after a crash:\n got %s\nwant %s", got, want)
	}
	re.Close()
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	sh = startShard(t, dir, opts)
	if got := visibleView(t, sh); got != want {
		t.Fatalf("after reopening:\n got %s\nwant %s", got, want)
	}

	// Optimized, the newest copy shows and the shadow is gone.
	setOptimizer(sh, true)
	settle(t, sh)
	expect("optimized again", "[1:d 2:f 4:b 6:a 7:a 8:a] deferred=0")
	sh.mu.RLock()
	copies := 0
	for _, g := range sh.mu.h.segs {
		if g.store.Has(point.NumID(2)) {
			copies++
		}
	}
	shadows := len(sh.mu.h.shadows)
	sh.mu.RUnlock()
	if copies != 1 || shadows != 0 {
		t.Fatalf("point 2 has %d copies and the shard %d shadows after optimizing", copies, shadows)
	}
	if newest(6)["seen"] != true {
		t.Fatalf("point 6 lost its deferred update: %v", newest(6))
	}
}
