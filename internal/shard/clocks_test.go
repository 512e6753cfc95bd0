package shard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vfs"
)

// tagStep is one tagged update and what the replica must answer: accepted
// or rejected with the tick answer.
type tagStep struct {
	tag    ops.ClockTag
	accept bool
	answer uint64 // the tick answered when rejected
}

func tg(peer uint64, clock uint32, tick, token uint64) ops.ClockTag {
	return ops.ClockTag{PeerID: peer, ClockID: clock, Tick: tick, Token: token}
}

func forced(t ops.ClockTag) ops.ClockTag { t.Force = true; return t }

// clockRuleCases are Qdrant's ClockMap rule (advance_clock_and_correct_tag)
// as sequences of updates, each with the clocks it must leave.
var clockRuleCases = []struct {
	name  string
	steps []tagStep
	want  ops.RecoveryPoint
}{
	{"first tick of a new clock", []tagStep{{tag: tg(1, 0, 5, 9), accept: true}},
		ops.RecoveryPoint{{PeerID: 1}: 5}},
	{"tick 0 of a new clock is rejected with 0", []tagStep{{tag: tg(1, 0, 0, 9), answer: 0}},
		ops.RecoveryPoint{}},
	{"tick 0 of a known clock is rejected with its tick", []tagStep{{tag: tg(1, 0, 3, 9), accept: true}, {tag: tg(1, 0, 0, 9), answer: 3}},
		ops.RecoveryPoint{{PeerID: 1}: 3}},
	{"newer ticks advance", []tagStep{{tag: tg(1, 0, 1, 9), accept: true}, {tag: tg(1, 0, 2, 9), accept: true}, {tag: tg(1, 0, 10, 9), accept: true}},
		ops.RecoveryPoint{{PeerID: 1}: 10}},
	{"an older tick is rejected with the newest", []tagStep{{tag: tg(1, 0, 7, 9), accept: true}, {tag: tg(1, 0, 6, 9), answer: 7}, {tag: tg(1, 0, 1, 9), answer: 7}},
		ops.RecoveryPoint{{PeerID: 1}: 7}},
	{"the same tick and token again is accepted", []tagStep{{tag: tg(1, 0, 4, 9), accept: true}, {tag: tg(1, 0, 4, 9), accept: true}},
		ops.RecoveryPoint{{PeerID: 1}: 4}},
	{"the same tick with another token is rejected", []tagStep{{tag: tg(1, 0, 4, 9), accept: true}, {tag: tg(1, 0, 4, 8), answer: 4}},
		ops.RecoveryPoint{{PeerID: 1}: 4}},
	{"a newer tick takes its token", []tagStep{{tag: tg(1, 0, 4, 9), accept: true}, {tag: tg(1, 0, 5, 8), accept: true}, {tag: tg(1, 0, 5, 8), accept: true}, {tag: tg(1, 0, 5, 9), answer: 5}},
		ops.RecoveryPoint{{PeerID: 1}: 5}},
	{"a forced older tick is accepted and leaves the clock", []tagStep{{tag: tg(1, 0, 7, 9), accept: true}, {tag: forced(tg(1, 0, 2, 1)), accept: true}, {tag: tg(1, 0, 7, 9), accept: true}},
		ops.RecoveryPoint{{PeerID: 1}: 7}},
	{"a forced newer tick advances", []tagStep{{tag: tg(1, 0, 7, 9), accept: true}, {tag: forced(tg(1, 0, 8, 1)), accept: true}, {tag: tg(1, 0, 8, 9), answer: 8}},
		ops.RecoveryPoint{{PeerID: 1}: 8}},
	{"a forced tick 0 is accepted and starts no clock", []tagStep{{tag: forced(tg(1, 0, 0, 1)), accept: true}},
		ops.RecoveryPoint{}},
	{"clocks of other peers and ids are apart", []tagStep{
		{tag: tg(1, 0, 5, 9), accept: true}, {tag: tg(1, 1, 2, 9), accept: true}, {tag: tg(2, 0, 1, 9), accept: true},
		{tag: tg(1, 1, 2, 9), accept: true}, {tag: tg(2, 0, 1, 8), answer: 1}, {tag: tg(1, 0, 3, 9), answer: 5}},
		ops.RecoveryPoint{{PeerID: 1}: 5, {PeerID: 1, ClockID: 1}: 2, {PeerID: 2}: 1}},
}

// TestClockRule holds clockMap to the rule, step by step: check decides
// without changing the map, advance (what the append does once the record
// is logged) moves it.
func TestClockRule(t *testing.T) {
	for _, c := range clockRuleCases {
		t.Run(c.name, func(t *testing.T) {
			m := clockMap{}
			for i, st := range c.steps {
				before := m.clone()
				ok, ans := m.check(st.tag)
				if !maps.Equal(m, before) {
					t.Fatalf("step %d: check changed the clocks", i)
				}
				want := st.tag
				if !st.accept {
					want.Tick = st.answer
				}
				if ok != st.accept || ans != want {
					t.Fatalf("step %d (%+v): accepted %v answering %+v, want %v answering %+v", i, st.tag, ok, ans, st.accept, want)
				}
				if ok {
					m.advance(st.tag)
				}
			}
			if got := m.point(); !maps.Equal(got, c.want) {
				t.Fatalf("clocks %v, want %v", got, c.want)
			}
		})
	}
}

// TestUpdateWithClock runs the rule's cases through a shard: an accepted
// update is applied, a rejected one writes nothing (no operation number,
// no point); RecoveryPoint follows. Then it checks that the clocks,
// tokens included, come back the same after a crash (WAL replay only)
// and after a clean close (the manifest).
func TestUpdateWithClock(t *testing.T) {
	ctx := context.Background()
	for _, c := range clockRuleCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			sh := startShard(t, dir, testOptions())
			want := map[string]bool{}
			applied := sh.Applied()
			for i, st := range c.steps {
				id := uint64(100 + i)
				res, err := sh.UpdateWithClock(ctx, upsertOp(id, 1, 2), true, st.tag)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				wantTag := st.tag
				if !st.accept {
					wantTag.Tick = st.answer
				}
				if res.Rejected == st.accept || res.Tag != wantTag {
					t.Fatalf("step %d (%+v): %+v, want accepted %v answering %+v", i, st.tag, res, st.accept, wantTag)
				}
				if st.accept {
					if res.OperationID != applied {
						t.Fatalf("step %d: operation %d, want %d", i, res.OperationID, applied)
					}
					applied++
					want[fmt.Sprint(id)] = true
				}
			}
			if sh.Applied() != applied {
				t.Fatalf("%d operations applied, want %d", sh.Applied(), applied)
			}
			if got := idSet(state(sh)); !maps.Equal(got, want) {
				t.Fatalf("points %v, want %v", got, want)
			}
			if got := sh.RecoveryPoint(); !maps.Equal(got, c.want) {
				t.Fatalf("recovery point %v, want %v", got, c.want)
			}
			// The last step again must be answered as a repeat would be
			// after both kinds of restart.
			last := c.steps[len(c.steps)-1].tag
			lastRes := clockAnswer(t, sh, last)

			crashed := filepath.Join(t.TempDir(), "crashed")
			copyDir(t, dir, crashed)
			sh.Close()
			for _, d := range []string{crashed, dir} {
				re := startShard(t, d, testOptions())
				if got := re.RecoveryPoint(); !maps.Equal(got, c.want) {
					t.Fatalf("%s: recovery point %v after reopening, want %v", d, got, c.want)
				}
				if got := idSet(state(re)); !maps.Equal(got, want) {
					t.Fatalf("%s: points %v after reopening, want %v", d, got, want)
				}
				if got := clockAnswer(t, re, last); got != lastRes {
					t.Fatalf("%s: the last tag is answered %+v after reopening, %+v before", d, got, lastRes)
				}
				re.Close()
			}
		})
	}
}

// clockAnswer is what sh answers to tag, leaving the shard as it was
// (a delete of a point that does not exist).
func clockAnswer(t *testing.T, sh *Shard, tag ops.ClockTag) ClockResult {
	t.Helper()
	res, err := sh.UpdateWithClock(context.Background(), &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(99999)}}, true, tag)
	if err != nil {
		t.Fatal(err)
	}
	res.OperationID = 0
	return res
}

func idSet(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// TestTaggedUpdatesAcrossCheckpoints: with checkpoints every few records,
// the clocks of a reopened shard are those of the manifest plus the WAL
// tail, exactly: every clock, at the tick and token of its last accepted
// update, with a refused operation's tag counted (it was logged). And a
// shard that never saw a tag writes the manifest of version 1, which
// versions before tags read.
func TestTaggedUpdatesAcrossCheckpoints(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := testOptions()
	opts.CheckpointWAL = 300
	sh := startShard(t, dir, opts)
	for i := range 40 {
		op := upsertOp(uint64(i), 1, 2)
		if i%7 == 3 {
			op = upsertOp(uint64(i), 1, 2, 3) // the wrong dimension: refused, but logged under its tag
		}
		if _, err := sh.Update(ctx, upsertOp(uint64(1000+i), 3, 4), i%2 == 0); err != nil {
			t.Fatal(err)
		}
		res, err := sh.UpdateWithClock(ctx, op, i%3 != 0, tg(uint64(1+i%3), uint32(i%2), uint64(10+i), uint64(i)))
		if res.Rejected || (err != nil) != (i%7 == 3 && i%3 != 0) {
			t.Fatalf("update %d: %+v, %v", i, res, err)
		}
	}
	waitApplied(t, sh, 80)
	want := sh.RecoveryPoint()
	if len(want) != 6 {
		t.Fatalf("recovery point %v: want 6 clocks", want)
	}
	crashed := filepath.Join(t.TempDir(), "crashed")
	copyDir(t, dir, crashed)
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{crashed, dir} {
		re := startShard(t, d, opts)
		if got := re.RecoveryPoint(); !maps.Equal(got, want) {
			t.Fatalf("%s: recovery point %v after reopening, want %v", d, got, want)
		}
		// The token of each clock's last tick came back too.
		for i := 34; i < 40; i++ {
			tag := tg(uint64(1+i%3), uint32(i%2), uint64(10+i), uint64(i))
			if res := clockAnswer(t, re, tag); res.Rejected {
				t.Fatalf("%s: the last tag of its clock %+v is rejected after reopening", d, tag)
			}
			tag.Token++
			if res := clockAnswer(t, re, tag); !res.Rejected || res.Tag.Tick != tag.Tick {
				t.Fatalf("%s: %+v with another token answered %+v", d, tag, res)
			}
		}
		re.Close()
	}
	m, err := readManifest(vfs.Default, dir)
	if err != nil || m.Version != clocksVer || len(m.Clocks) != 6 {
		t.Fatalf("manifest of a tagged shard: %+v, %v", m, err)
	}

	plain := t.TempDir()
	ps := startShard(t, plain, opts)
	if _, err := ps.Update(ctx, upsertOp(1, 1, 2), true); err != nil {
		t.Fatal(err)
	}
	ps.Close()
	if m, err := readManifest(vfs.Default, plain); err != nil || m.Version != manifestVer || m.Clocks != nil {
		t.Fatalf("manifest of an untagged shard: %+v, %v", m, err)
	}
}

// TestManifestClocksDamage: clocks a checkpoint never writes fail Open as
// corruption.
func TestManifestClocksDamage(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, msg string
		edit      func(m map[string]any)
	}{
		{"clock listed twice", "listed twice", func(m map[string]any) {
			c := m["clocks"].([]any)
			m["clocks"] = append(c, c[0])
		}},
		{"clock at tick 0", "at tick 0", func(m map[string]any) {
			m["cutoff"] = []any{map[string]any{"peer_id": 1, "clock_id": 0, "current_tick": 0, "token": 0}}
		}},
		{"clocks in a version 1 manifest", "version 1 with clocks", func(m map[string]any) { m["version"] = 1 }},
		{"clock id past 32 bits", "decode", func(m map[string]any) {
			m["clocks"] = []any{map[string]any{"peer_id": 1, "clock_id": 1 << 32, "current_tick": 1, "token": 0}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			sh := startShard(t, dir, testOptions())
			if _, err := sh.UpdateWithClock(ctx, upsertOp(1, 1, 2), true, tg(1, 0, 1, 1)); err != nil {
				t.Fatal(err)
			}
			if err := sh.UpdateCutoff(ctx, ops.RecoveryPoint{{PeerID: 2}: 3}); err != nil {
				t.Fatal(err)
			}
			sh.Close()
			path := filepath.Join(dir, manifestFile)
			raw, err := vfs.ReadFile(vfs.Default, path)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			c.edit(m)
			raw, _ = json.Marshal(m)
			if err := vfs.WriteFileAtomic(vfs.Default, path, func(w io.Writer) error { _, err := w.Write(raw); return err }); err != nil {
				t.Fatal(err)
			}
			_, err = Open(dir, testOptions())
			if !errors.Is(err, errkind.ErrCorrupt) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("open: %v, want corruption saying %q", err, c.msg)
			}
		})
	}
}

// TestUpdateCutoff: raising the cutoff raises the clocks with it (ticks
// only go up), so older tags are rejected at once; both persist.
func TestUpdateCutoff(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sh := startShard(t, dir, testOptions())
	for _, tag := range []ops.ClockTag{tg(1, 0, 5, 1), tg(2, 0, 9, 1)} {
		if res, err := sh.UpdateWithClock(ctx, upsertOp(tag.PeerID, 1, 2), false, tag); err != nil || res.Rejected {
			t.Fatalf("%+v: %+v, %v", tag, res, err)
		}
	}
	if err := sh.UpdateCutoff(ctx, ops.RecoveryPoint{{PeerID: 1}: 8, {PeerID: 2}: 4, {PeerID: 3, ClockID: 2}: 6}); err != nil {
		t.Fatal(err)
	}
	wantRP := ops.RecoveryPoint{{PeerID: 1}: 8, {PeerID: 2}: 9, {PeerID: 3, ClockID: 2}: 6}
	wantCut := ops.RecoveryPoint{{PeerID: 1}: 8, {PeerID: 2}: 4, {PeerID: 3, ClockID: 2}: 6}
	check := func(sh *Shard, when string) {
		t.Helper()
		if got := sh.RecoveryPoint(); !maps.Equal(got, wantRP) {
			t.Fatalf("%s: recovery point %v, want %v", when, got, wantRP)
		}
		if got := sh.Cutoff(); !maps.Equal(got, wantCut) {
			t.Fatalf("%s: cutoff %v, want %v", when, got, wantCut)
		}
		if res := clockAnswer(t, sh, tg(1, 0, 7, 1)); !res.Rejected || res.Tag.Tick != 8 {
			t.Fatalf("%s: a tick below the raised clock answered %+v", when, res)
		}
	}
	check(sh, "raised")
	// UpdateCutoff returns once a checkpoint holds it: a crash keeps it.
	crashed := filepath.Join(t.TempDir(), "crashed")
	copyDir(t, dir, crashed)
	sh.Close()
	for _, d := range []string{crashed, dir} {
		re := startShard(t, d, testOptions())
		check(re, d)
		re.Close()
	}
}

// TestRaiseCutoff: raising the cutoff alone leaves the clocks (and what
// they accept) as they were; the cutoff persists.
func TestRaiseCutoff(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sh := startShard(t, dir, testOptions())
	if res, err := sh.UpdateWithClock(ctx, upsertOp(1, 1, 2), false, tg(1, 0, 5, 1)); err != nil || res.Rejected {
		t.Fatalf("%+v, %v", res, err)
	}
	if err := sh.RaiseCutoff(ctx, ops.RecoveryPoint{{PeerID: 1}: 8, {PeerID: 3, ClockID: 2}: 6}); err != nil {
		t.Fatal(err)
	}
	wantRP := ops.RecoveryPoint{{PeerID: 1}: 5}
	wantCut := ops.RecoveryPoint{{PeerID: 1}: 8, {PeerID: 3, ClockID: 2}: 6}
	check := func(sh *Shard, when string) {
		t.Helper()
		if got := sh.RecoveryPoint(); !maps.Equal(got, wantRP) {
			t.Fatalf("%s: recovery point %v, want %v", when, got, wantRP)
		}
		if got := sh.Cutoff(); !maps.Equal(got, wantCut) {
			t.Fatalf("%s: cutoff %v, want %v", when, got, wantCut)
		}
	}
	check(sh, "raised")
	if res := clockAnswer(t, sh, tg(1, 0, 6, 1)); res.Rejected {
		t.Fatalf("a tick above the clock but below the cutoff was rejected: %+v", res)
	}
	wantRP = ops.RecoveryPoint{{PeerID: 1}: 6}
	sh.Close()
	re := startShard(t, dir, testOptions())
	check(re, "reopened")
	re.Close()
}

// TestResetClocks: resetting forgets every clock but keeps the cutoff;
// a tick below the old clock is accepted again; an update logged after
// the reset counts from nothing; the reset persists, a crash included.
func TestResetClocks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sh := startShard(t, dir, testOptions())
	for _, tag := range []ops.ClockTag{tg(1, 0, 5, 1), tg(2, 0, 9, 1)} {
		if res, err := sh.UpdateWithClock(ctx, upsertOp(tag.PeerID, 1, 2), false, tag); err != nil || res.Rejected {
			t.Fatalf("%+v: %+v, %v", tag, res, err)
		}
	}
	if err := sh.RaiseCutoff(ctx, ops.RecoveryPoint{{PeerID: 1}: 3}); err != nil {
		t.Fatal(err)
	}
	if err := sh.ResetClocks(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sh.RecoveryPoint(); len(got) != 0 {
		t.Fatalf("recovery point after the reset: %v", got)
	}
	if res, err := sh.UpdateWithClock(ctx, upsertOp(1, 3, 2), true, tg(1, 0, 2, 1)); err != nil || res.Rejected {
		t.Fatalf("tick 2 after the reset: %+v, %v", res, err)
	}
	wantRP := ops.RecoveryPoint{{PeerID: 1}: 2}
	wantCut := ops.RecoveryPoint{{PeerID: 1}: 3}
	check := func(sh *Shard, when string) {
		t.Helper()
		if got := sh.RecoveryPoint(); !maps.Equal(got, wantRP) {
			t.Fatalf("%s: recovery point %v, want %v", when, got, wantRP)
		}
		if got := sh.Cutoff(); !maps.Equal(got, wantCut) {
			t.Fatalf("%s: cutoff %v, want %v", when, got, wantCut)
		}
	}
	check(sh, "reset")
	crashed := filepath.Join(t.TempDir(), "crashed")
	copyDir(t, dir, crashed)
	sh.Close()
	for _, d := range []string{crashed, dir} {
		re := startShard(t, d, testOptions())
		check(re, d)
		re.Close()
	}
}

// TestConcurrentTaggedUpdates: several senders share each of several
// clocks, taking ticks from a counter per clock and sending at once, so
// ticks reach the shard out of order. Per clock, the accepted updates in
// WAL order (operation number) have increasing ticks; a rejected one was
// answered with a tick at least its own; the shard holds the points of the
// accepted updates and only those; the recovery point is the newest
// accepted tick of each clock, before and after a reopen.
func TestConcurrentTaggedUpdates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sh := startShard(t, dir, testOptions())
	const clocks, senders, each = 3, 3, 60
	var ticks [clocks]struct {
		sync.Mutex
		n uint64
	}
	type outcome struct {
		tag ops.ClockTag
		res ClockResult
	}
	results := make([][]outcome, clocks*senders)
	var wg sync.WaitGroup
	for g := range clocks * senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := g % clocks
			for range each {
				ticks[c].Lock()
				ticks[c].n++
				tick := ticks[c].n
				ticks[c].Unlock()
				tag := tg(uint64(1+c), uint32(c), tick, 7)
				res, err := sh.UpdateWithClock(ctx, upsertOp(uint64(c)<<32|tick, 1, 2), tick%2 == 0, tag)
				if err != nil {
					t.Error(err)
					return
				}
				results[g] = append(results[g], outcome{tag, res})
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	accepted := map[ops.ClockKey]map[uint64]uint64{} // clock -> operation -> tick
	want := map[string]bool{}
	wantRP := ops.RecoveryPoint{}
	rejected := 0
	for _, rs := range results {
		for _, o := range rs {
			k := o.tag.Key()
			if o.res.Rejected {
				rejected++
				if o.res.Tag.Tick < o.tag.Tick || o.res.Tag.Key() != k {
					t.Fatalf("%+v rejected with %+v", o.tag, o.res.Tag)
				}
				continue
			}
			if accepted[k] == nil {
				accepted[k] = map[uint64]uint64{}
			}
			accepted[k][o.res.OperationID] = o.tag.Tick
			want[fmt.Sprint(uint64(o.tag.ClockID)<<32|o.tag.Tick)] = true
			wantRP[k] = max(wantRP[k], o.tag.Tick)
		}
	}
	for k, byOp := range accepted {
		var last uint64
		for _, op := range slices.Sorted(maps.Keys(byOp)) {
			if byOp[op] <= last {
				t.Fatalf("clock %v: operation %d has tick %d after tick %d", k, op, byOp[op], last)
			}
			last = byOp[op]
		}
	}
	t.Logf("%d updates, %d rejected", clocks*senders*each, rejected)
	waitApplied(t, sh, uint64(clocks*senders*each-rejected))
	check := func(sh *Shard, when string) {
		if got := idSet(state(sh)); !maps.Equal(got, want) {
			t.Fatalf("%s: %d points, want the %d accepted", when, len(got), len(want))
		}
		if got := sh.RecoveryPoint(); !maps.Equal(got, wantRP) {
			t.Fatalf("%s: recovery point %v, want %v", when, got, wantRP)
		}
	}
	check(sh, "before reopening")
	sh.Close()
	re := startShard(t, dir, testOptions())
	check(re, "after reopening")
}

// TestReadWAL: the WAL hands back each logged update with its number and
// tag (none for an untagged one; a rejected one is not logged), from any
// operation on; a checkpoint drops what it covers.
func TestReadWAL(t *testing.T) {
	ctx := context.Background()
	sh := startShard(t, t.TempDir(), testOptions())
	tags := []*ops.ClockTag{nil, {PeerID: 1, Tick: 1, Token: 5}, {PeerID: 1, Tick: 1, Token: 6}, {PeerID: 2, ClockID: 3, Tick: 9, Force: true}, nil}
	var want []LoggedUpdate
	for i, tag := range tags {
		op := upsertOp(uint64(i), 1, 2)
		var id uint64
		if tag == nil {
			var err error
			if id, err = sh.Update(ctx, op, true); err != nil {
				t.Fatal(err)
			}
		} else {
			res, err := sh.UpdateWithClock(ctx, op, true, *tag)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected {
				continue
			}
			id = res.OperationID
		}
		want = append(want, LoggedUpdate{OperationID: id, Op: op, Tag: tag})
	}
	if len(want) != 4 {
		t.Fatalf("%d updates logged, want 4 (one rejected)", len(want))
	}
	if first, next := sh.WALRange(); first != 0 || next != 4 {
		t.Fatalf("WAL range [%d, %d), want [0, 4)", first, next)
	}
	for from := range uint64(5) {
		var got []LoggedUpdate
		if err := sh.ReadWAL(from, func(u LoggedUpdate) error { got = append(got, u); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want)-int(min(from, 4)) {
			t.Fatalf("from %d: %d records", from, len(got))
		}
		for i, u := range got {
			w := want[int(from)+i]
			a, _ := u.Op.Encode()
			b, _ := w.Op.Encode()
			if u.OperationID != w.OperationID || string(a) != string(b) || (u.Tag == nil) != (w.Tag == nil) || (u.Tag != nil && *u.Tag != *w.Tag) {
				t.Fatalf("from %d: record %+v (tag %+v), want %+v (tag %+v)", from, u, u.Tag, w, w.Tag)
			}
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := sh.ReadWAL(0, func(LoggedUpdate) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("ReadWAL stopped by fn: %v after %d records", err, n)
	}
	// A checkpoint drops the WAL segments it covers whole (never the
	// active one): the range starts higher, and ReadWAL starts there.
	opts := testOptions()
	opts.WALSegmentSize = 1 << 10
	opts.CheckpointWAL = 1 << 10
	ck := startShard(t, t.TempDir(), opts)
	for i := range 100 {
		if _, err := ck.UpdateWithClock(ctx, upsertOp(uint64(i), 1, 2), true, tg(1, 0, uint64(i+1), 0)); err != nil {
			t.Fatal(err)
		}
	}
	ck.Close()
	re := startShard(t, ck.Dir(), opts)
	first, next := re.WALRange()
	if first == 0 || first >= next || next != 100 {
		t.Fatalf("WAL range [%d, %d) after checkpoints, want [>0, 100)", first, next)
	}
	var ticks []uint64
	if err := re.ReadWAL(0, func(u LoggedUpdate) error { ticks = append(ticks, u.Tag.Tick); return nil }); err != nil {
		t.Fatal(err)
	}
	if uint64(len(ticks)) != next-first || ticks[0] != first+1 {
		t.Fatalf("ReadWAL(0) after checkpoints: %d records from tick %v, want %d from %d", len(ticks), ticks[:1], next-first, first+1)
	}
}
