package faults

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
)

func TestMain(m *testing.M) {
	code := m.Run()
	clustertest.Cleanup()
	os.Exit(code)
}

// TestShortRun is the short seeded run of the normal suite: a 3-peer
// cluster, the default write modes, the nemesis for 30 s; no promise may
// be broken, faults must have been injected and writes acknowledged.
// SHOAL_FAULTS_SEED replays a seed.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SHOAL_FAULTS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (replay with SHOAL_FAULTS_SEED=%d)", seed, seed)
	rep, err := Run(context.Background(), Config{Seed: seed, Duration: 30 * time.Second, Converge: 30 * time.Second, T: t, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("figures:\n%s", rep.Table())
	shown := map[string]int{}
	for _, v := range rep.Violations {
		if v.Promised && !v.Open {
			continue
		}
		// The first of each kind in full; the table has the counts.
		if shown[v.Mode+v.Checker]++; shown[v.Mode+v.Checker] == 1 {
			t.Logf("observation or known open bug (first of its kind): %s", v)
		}
	}
	for _, v := range rep.Broken() {
		t.Errorf("VIOLATION %s", v)
	}
	total := 0
	for _, n := range rep.Faults {
		total += n
	}
	if total == 0 {
		t.Errorf("no fault injected")
	}
	if rep.Ops["upsert"][history.OK] == 0 || rep.Ops["read"][history.OK] == 0 {
		t.Errorf("no upsert or read acknowledged: %v", rep.Ops)
	}
	if len(rep.Converge)+rep.NotConverged != 1 {
		t.Errorf("convergence %v, %d not converged", rep.Converge, rep.NotConverged)
	}
}

// TestLinearizableChecker holds the porcupine register model to known
// histories: a stale read after an acknowledged write, a read of a value
// never written and a resurrected delete are illegal; an unknown write
// that shows late, and concurrent operations, are not.
func TestLinearizableChecker(t *testing.T) {
	ms := time.Millisecond
	up := func(id history.WriteID, inv, comp time.Duration, o history.Outcome) history.Op {
		return history.Op{ID: id, Kind: history.Upsert, Key: 1, Invoke: inv * ms, Complete: comp * ms, Outcome: o}
	}
	del := func(id history.WriteID, inv, comp time.Duration) history.Op {
		return history.Op{ID: id, Kind: history.Delete, Key: 1, Invoke: inv * ms, Complete: comp * ms, Outcome: history.OK}
	}
	rd := func(v history.WriteID, inv, comp time.Duration) Read {
		return Read{Key: 1, Invoke: inv * ms, Complete: comp * ms, Outcome: history.OK, Value: v}
	}
	for _, tc := range []struct {
		name  string
		ops   history.History
		reads []Read
		legal bool
	}{
		{"read sees the write", history.History{up(1, 0, 10, history.OK)}, []Read{rd(1, 20, 30)}, true},
		{"read before the write", history.History{up(1, 20, 30, history.OK)}, []Read{rd(0, 0, 10)}, true},
		{"stale read", history.History{up(1, 0, 10, history.OK), up(2, 20, 30, history.OK)}, []Read{rd(1, 40, 50)}, false},
		{"read absent after write", history.History{up(1, 0, 10, history.OK)}, []Read{rd(0, 20, 30)}, false},
		{"read never written", history.History{up(1, 0, 10, history.OK)}, []Read{rd(7, 20, 30)}, false},
		{"resurrected delete", history.History{up(1, 0, 10, history.OK), del(2, 20, 30)}, []Read{rd(1, 40, 50)}, false},
		{"concurrent read", history.History{up(1, 0, 10, history.OK), up(2, 20, 40, history.OK)}, []Read{rd(1, 25, 30), rd(2, 35, 50)}, true},
		{"non-monotonic reads", history.History{up(1, 0, 10, history.OK), up(2, 20, 80, history.OK)}, []Read{rd(2, 25, 30), rd(1, 35, 50)}, false},
		{"unknown write shows late", history.History{up(1, 0, 10, history.Unknown), up(2, 20, 30, history.OK)}, []Read{rd(2, 40, 50), rd(1, 60, 70)}, true},
		{"unknown write read, then stale", history.History{up(1, 0, 10, history.Unknown), up(2, 60, 70, history.OK)}, []Read{rd(1, 40, 50), rd(1, 80, 90)}, false},
		{"refused write never shows", history.History{up(1, 0, 10, history.Fail)}, []Read{rd(1, 20, 30)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.ops {
				if tc.ops[i].Outcome == history.Unknown {
					tc.ops[i].Complete = history.Forever
				}
			}
			bad := checkLinearizable(tc.ops, tc.reads, 5*time.Second, 10*time.Second)
			if got := len(bad) == 0; got != tc.legal {
				t.Fatalf("legal %v, want %v: %+v", got, tc.legal, bad)
			}
			if !tc.legal && bad[0].Result != porcupine.Illegal {
				t.Fatalf("result %s", bad[0].Result)
			}
		})
	}
	unknown := history.History{up(1, 0, 10, history.Unknown), del(2, 20, 30)}
	unknown[0].Complete = history.Forever
	if ops := keyOps(unknown, nil); len(ops) != 1 {
		t.Fatalf("an unknown upsert nobody read is dropped: %+v", ops)
	}
	if ops := keyOps(unknown, []Read{rd(1, 40, 50)}); len(ops) != 3 || ops[0].Return != int64(50*ms) {
		t.Fatalf("an unknown upsert ends when a read of it returned: %+v", ops)
	}
	unknown[1].Outcome, unknown[1].Complete = history.Unknown, history.Forever
	if ops := keyOps(unknown, nil); len(ops) != 1 || ops[0].Return != math.MaxInt64 {
		t.Fatalf("an unknown delete has no end: %+v", ops)
	}
}

// TestReportTable: merged figures add up and the table marks what a mode
// does not promise.
func TestReportTable(t *testing.T) {
	modes := DefaultModes()
	var a, b Report
	a.Runs, a.Modes = 1, modes
	a.init()
	a.Faults[FaultKill] = 2
	a.op("upsert", history.OK)
	a.count(CheckLost, modes[3].Name(), 1)
	b.Runs, b.Modes = 1, modes
	b.init()
	b.Faults[FaultKill] = 1
	b.op("upsert", history.Unknown)
	b.Violations = []Violation{{Mode: modes[0].Name(), Checker: CheckLost, Promised: true}}
	a.Merge(b)
	if a.Runs != 2 || a.Faults[FaultKill] != 3 || a.Ops["upsert"][history.OK] != 1 || a.Ops["upsert"][history.Unknown] != 1 {
		t.Fatalf("merged %+v", a)
	}
	if len(a.Broken()) != 1 {
		t.Fatalf("broken %v", a.Broken())
	}
	tab := a.Table()
	for _, want := range []string{"runs: 2", "| kill | 3 |", "| upsert | 1 | 0 | 1 |", "| lost acknowledged writes | 0 | 0 | 0† | 1* |", "| stale reads | 0 | 0 | 0* | 0* |", "| replicas disagree | 0 | 0 | 0 | 0* |"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
}

// TestStaleReads: a read invoked after an acknowledged update must not
// return what that update certainly replaced; unknown updates and reads
// concurrent with updates are not stale.
func TestStaleReads(t *testing.T) {
	ms := time.Millisecond
	op := func(id history.WriteID, kind history.Kind, inv, comp time.Duration, o history.Outcome) history.Op {
		if o == history.Unknown {
			comp = history.Forever / ms
		}
		return history.Op{ID: id, Kind: kind, Key: 1, Invoke: inv * ms, Complete: comp * ms, Outcome: o}
	}
	rd := func(v history.WriteID, inv, comp time.Duration) Read {
		return Read{Key: 1, Invoke: inv * ms, Complete: comp * ms, Outcome: history.OK, Value: v}
	}
	up, del, ok, unk := history.Upsert, history.Delete, history.OK, history.Unknown
	for _, tc := range []struct {
		name  string
		ops   history.History
		read  Read
		stale bool
	}{
		{"latest", history.History{op(1, up, 0, 10, ok)}, rd(1, 20, 30), false},
		{"older value", history.History{op(1, up, 0, 10, ok), op(2, up, 20, 30, ok)}, rd(1, 40, 50), true},
		{"concurrent update", history.History{op(1, up, 0, 10, ok), op(2, up, 20, 45, ok)}, rd(1, 40, 50), false},
		{"overlapping writes", history.History{op(1, up, 0, 25, ok), op(2, up, 20, 30, ok)}, rd(1, 40, 50), false},
		{"unknown older write", history.History{op(1, up, 0, 10, unk), op(2, up, 20, 30, ok)}, rd(1, 40, 50), false},
		{"absent after upsert", history.History{op(1, up, 0, 10, ok)}, rd(0, 20, 30), true},
		{"absent after delete", history.History{op(1, up, 0, 10, ok), op(2, del, 20, 30, ok)}, rd(0, 40, 50), false},
		{"resurrected", history.History{op(1, up, 0, 10, ok), op(2, del, 20, 30, ok)}, rd(1, 40, 50), true},
		{"absent, unknown delete", history.History{op(1, del, 0, 10, unk), op(2, up, 20, 30, ok)}, rd(0, 40, 50), false},
		{"absent, old delete", history.History{op(1, del, 0, 10, ok), op(2, up, 20, 30, ok)}, rd(0, 40, 50), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := staleReads(tc.ops, []Read{tc.read})
			if (len(got) > 0) != tc.stale {
				t.Fatalf("stale %v, want %v: %+v", len(got) > 0, tc.stale, got)
			}
		})
	}
}

// TestCheckerOf: each anomaly of history.Check counts under one checker.
func TestCheckerOf(t *testing.T) {
	del := &history.Op{ID: 3, Kind: history.Delete, Outcome: history.Fail}
	up := &history.Op{ID: 4, Kind: history.Upsert, Outcome: history.Fail}
	for _, tc := range []struct {
		a       history.Anomaly
		present bool
		want    string
	}{
		{history.Anomaly{Kind: history.Lost, Source: up}, true, CheckLost},
		{history.Anomaly{Kind: history.Lost}, false, CheckLost},
		{history.Anomaly{Kind: history.Lost, Final: 99}, true, CheckPhantom},
		{history.Anomaly{Kind: history.Resurrected, Source: up}, true, CheckResurrected},
		{history.Anomaly{Kind: history.FailedVisible, Source: up}, true, CheckFailedVisible},
		{history.Anomaly{Kind: history.FailedVisible, Source: del}, false, CheckLost},
	} {
		if got := checkerOf(tc.a, tc.present); got != tc.want {
			t.Errorf("%v present %v: %s, want %s", tc.a, tc.present, got, tc.want)
		}
	}
}

// TestAllModes: the 18 combinations, each promising what its ordering
// and wait allow.
func TestAllModes(t *testing.T) {
	all := AllModes()
	if len(all) != 18 {
		t.Fatalf("%d modes", len(all))
	}
	names := map[string]bool{}
	for _, m := range all {
		names[m.Name()] = true
		if m.Durable != (m.Ordering != "weak") || m.FreshReads != (m.Ordering != "weak" && m.Wait) {
			t.Errorf("%s promises %q", m.Name(), m.Promise())
		}
	}
	if len(names) != 18 {
		t.Fatalf("names not unique: %v", names)
	}
}
