package faults_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

// TestDiskFaults is the seeded disk-fault run: each run opens a whole node
// (REST handler included) on vfstest's FaultFS over an in-memory FS, runs
// a register workload (upserts of id -> version, deletes, reads, a
// snapshot now and then, which checkpoints the shard), injects one fault
// below the files at a random operation (an fsync failure once or for
// good, a short diskWrite, ENOSPC on diskWrite or on create, scoped to the WAL,
// the segment files, the manifest or everything), then loses power (at a
// random later fsync, or at the end) and reopens the node on what was
// fsynced. Checked: no acknowledged diskWrite (wait=true) lost, no deleted
// point resurrected, no phantom (a value no request sent, or only a
// refused one), and that once an fsync failed no diskWrite was acknowledged
// any more (the node refuses them, 500 in Qdrant's envelope). The figures
// are logged; SHOAL_DISK_RUNS and SHOAL_DISK_SEED change the number of
// runs and the seed.
func TestDiskFaults(t *testing.T) {
	runs := diskEnvInt(t, "SHOAL_DISK_RUNS", 100)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SHOAL_DISK_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SHOAL_DISK_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("disk faults: seed %d, %d runs (reproduce: SHOAL_DISK_SEED=%d SHOAL_DISK_RUNS=%d go test ./tests/faults -run TestDiskFaults -v)", seed, runs, seed, runs)
	var fig diskFigures
	fig.init()
	for i := range runs {
		r := newDiskRun(t, seed, i)
		r.run(&fig)
		for _, v := range r.found {
			t.Errorf("run %d: %s: %s", i, v.check, v.detail)
		}
		if len(r.found) > 0 {
			t.Logf("run %d failed: its events\n%s", i, strings.Join(r.events, "\n"))
			break
		}
	}
	t.Log("\n" + fig.table(seed))
	if n := fig.violations(); n > 0 {
		t.Errorf("%d violations", n)
	}
}

func diskEnvInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		t.Fatalf("%s=%q: want a count", name, s)
	}
	return v
}

// Outcomes of a request.
const (
	diskOK      = "ok"
	diskRefused = "failed" // refused before anything was written: definite
	diskUnknown = "unknown"
)

// Checkers.
const (
	diskLost        = "acknowledged writes lost"
	diskResurrected = "deleted points resurrected"
	diskPhantom     = "phantom points"
	diskAccepted    = "writes not refused after an fsync failure"
	diskEnvelope    = "refusals outside Qdrant's envelope"
	diskReads       = "reads failed on the faulted node"
)

var diskCheckers = []string{diskLost, diskResurrected, diskPhantom, diskAccepted, diskEnvelope, diskReads}

type diskFigures struct {
	runs     int
	faults   map[string]int // chosen fault kind
	fired    map[string]int // faults that hit, by FaultFS kind
	outcomes map[string]int // writes by outcome
	checks   map[string]int
	endings  map[string]int // how runs ended
}

func (f *diskFigures) init() {
	f.faults, f.fired, f.outcomes, f.checks, f.endings = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
}

func (f *diskFigures) violations() int {
	n := 0
	for _, v := range f.checks {
		n += v
	}
	return n
}

func (f *diskFigures) table(seed uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| disk faults (seed %d) | count |\n|---|---|\n", seed)
	fmt.Fprintf(&b, "| runs | %d |\n", f.runs)
	row := func(prefix string, m map[string]int) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "| %s%s | %d |\n", prefix, k, m[k])
		}
	}
	row("fault chosen: ", f.faults)
	row("fault injected: ", f.fired)
	row("ended by: ", f.endings)
	for _, o := range []string{diskOK, diskRefused, diskUnknown} {
		fmt.Fprintf(&b, "| writes %s | %d |\n", o, f.outcomes[o])
	}
	for _, c := range diskCheckers {
		fmt.Fprintf(&b, "| %s | %d |\n", c, f.checks[c])
	}
	return b.String()
}

// diskWrite is one diskWrite request of a run and what came of it.
type diskWrite struct {
	id      int
	version int // the value written; 0 for a delete
	wait    bool
	outcome string
}

type diskRun struct {
	t      *testing.T
	rng    *rand.Rand
	idx    int
	mem    *vfstest.MemFS
	fsys   *vfstest.FaultFS
	srv    http.Handler
	writes []diskWrite
	events []string
	found  []diskViolation
	// restart: the run ends with a kill of the process, not a power
	// loss, so writes acknowledged without wait must survive too.
	restart bool
	fig     *diskFigures
}

const (
	diskRoot = "/node"
	diskIDs  = 12
	diskOps  = 40
	diskColl = "c"
)

func newDiskRun(t *testing.T, seed uint64, idx int) *diskRun {
	return &diskRun{t: t, rng: rand.New(rand.NewPCG(seed, uint64(idx))), idx: idx}
}

func (r *diskRun) event(format string, args ...any) {
	r.events = append(r.events, fmt.Sprintf("  run %d: ", r.idx)+fmt.Sprintf(format, args...))
}

func (r *diskRun) violation(check, format string, args ...any) {
	r.fig.checks[check]++
	r.found = append(r.found, diskViolation{check, fmt.Sprintf(format, args...)})
}

type diskViolation struct{ check, detail string }

// openDiskNode opens a node on fsys with its REST handler.
func openDiskNode(fsys vfs.FS) (*node.Node, http.Handler, error) {
	indexing := uint64(10000)
	opts := node.Options{
		StoragePath:   diskRoot,
		SnapshotsPath: "/snapshots",
		Defaults: collection.Defaults{
			Hnsw:       collection.HnswConfig{M: 16, EfConstruct: 100, FullScanThreshold: 10000},
			Optimizers: collection.OptimizersConfig{DeletedThreshold: 0.2, VacuumMinVectorNumber: 1000, IndexingThreshold: &indexing, FlushIntervalSec: 5},
			Wal:        collection.WalConfig{WalCapacityMB: 32, WalRetainClosed: 1},
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		FS:     fsys,
	}
	n, err := node.Open(opts)
	if err != nil {
		return nil, nil, err
	}
	return n, rest.New(n, rest.Options{Logger: opts.Logger}), nil
}

// diskCall sends one request to the in-process REST handler.
func diskCall(h http.Handler, method, path, body string) (int, map[string]any) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// diskFaultKinds are the faults a run picks from; each injects at most one.
var diskFaultKinds = []string{"fsync once", "fsync sticky", "short write", "enospc write", "enospc create", "none"}

var diskScopes = []struct {
	name  string
	match func(string) bool
}{
	{"wal", vfstest.WALFiles},
	{"segments", vfstest.SegmentFiles},
	{"manifest", vfstest.ManifestFiles},
	// the fsync after the manifest's rename (the shard's directory)
	{"manifest dir", func(p string) bool { return strings.HasSuffix(p, "/shards/0") }},
	{"any", vfstest.Any},
}

func (r *diskRun) run(fig *diskFigures) {
	t := r.t
	r.fig = fig
	fig.runs++
	r.mem = vfstest.NewMem()
	r.fsys = vfstest.Wrap(r.mem)
	n, srv, err := openDiskNode(r.fsys)
	if err != nil {
		t.Fatalf("run %d: open node without faults: %v", r.idx, err)
	}
	r.srv = srv
	if code, body := diskCall(srv, "PUT", "/collections/"+diskColl, `{"vectors":{"size":2,"distance":"Dot"}}`); code != 200 {
		n.Close()
		t.Fatalf("run %d: create collection: %d %v", r.idx, code, body)
	}

	kind := diskFaultKinds[r.rng.IntN(len(diskFaultKinds))]
	scope := diskScopes[r.rng.IntN(len(diskScopes))]
	injectAt := r.rng.IntN(diskOps)
	fig.faults[kind]++
	var clone *vfstest.MemFS
	// The run ends with a power loss (only what was fsynced survives) at
	// a random fsync after the injection or at the end, or with a kill
	// of the process (everything written to the OS survives).
	powerLossAfter := -1 // fsyncs after the injection; -1: at the end
	switch r.rng.IntN(3) {
	case 0:
		r.restart = true
	case 1:
		powerLossAfter = r.rng.IntN(30)
	}
	fsyncFault := strings.HasPrefix(kind, "fsync")
	firedBefore := 0 // fsync faults seen fired before the current diskWrite
	version := 0
	for i := range diskOps {
		if i == injectAt {
			r.inject(kind, scope.name, scope.match)
			if powerLossAfter >= 0 {
				k := r.fsys.Syncs() + powerLossAfter
				r.fsys.CrashAtSync(k, func(path string) { clone = r.mem.CrashClone() })
				r.event("power loss armed at fsync %d", k)
			}
		}
		if fsyncFault {
			firedBefore = r.fsys.Fired()["fsync"]
		}
		id := r.rng.IntN(diskIDs)
		wait := r.rng.IntN(4) != 0
		switch p := r.rng.IntN(20); {
		case p < 13:
			version++
			r.send(diskWrite{id: id, version: version, wait: wait}, firedBefore > 0)
		case p < 18:
			r.send(diskWrite{id: id, wait: wait}, firedBefore > 0)
		case p < 19:
			code, _ := diskCall(srv, "POST", "/collections/"+diskColl+"/snapshots", "")
			r.event("snapshot: %d", code)
		default:
			// Reads of what was written before go on after a fault.
			if !r.fsys.Crashed() {
				if _, err := r.read(srv); err != nil {
					r.violation(diskReads, "%v", err)
				}
			}
		}
	}
	fired := r.fsys.Fired()
	for k, v := range fired {
		fig.fired[k] += v
	}
	r.event("fired: %v %q", fired, r.fsys.Injected())
	switch {
	case r.restart:
		// kill -9: the process writes nothing more (its Close fails),
		// the OS keeps every byte it was handed.
		r.fsys.Crash()
		n.Close()
		clone = r.mem
		fig.endings["process killed"]++
		r.event("process killed")
	case clone == nil:
		clone = r.mem.CrashClone()
		fig.endings["power loss at the end"]++
		r.event("power loss at the end")
		n.Close()
	default:
		fig.endings["power loss at an fsync"]++
		n.Close()
	}

	re, resrv, err := openDiskNode(clone)
	if err != nil {
		r.violation(diskLost, "the node does not reopen: %v", err)
		return
	}
	defer re.Close()
	got, err := r.read(resrv)
	if err != nil {
		if len(r.acked()) > 0 {
			r.violation(diskLost, "read after reopening: %v", err)
		}
		return
	}
	r.check(got)
}

func (r *diskRun) inject(kind, scope string, match func(string) bool) {
	switch kind {
	case "fsync once":
		r.fsys.FailSync(match, errDiskIO, vfstest.Once)
	case "fsync sticky":
		r.fsys.FailSync(match, errDiskIO, vfstest.Sticky)
	case "short write":
		r.fsys.ShortWrite(match, nil)
	case "enospc write":
		r.fsys.SetFree(int64(r.rng.IntN(4 << 10)))
		scope = "any"
	case "enospc create":
		r.fsys.FailCreate(match, nil)
	}
	r.event("inject %s on %s (after %d writes)", kind, scope, len(r.writes))
}

var errDiskIO = fmt.Errorf("injected I/O error")

// send sends one diskWrite and records its outcome. afterFsync: an fsync
// failure hit before it was sent, so it must not be acknowledged.
func (r *diskRun) send(w diskWrite, afterFsync bool) {
	path := fmt.Sprintf("/collections/%s/points?wait=%t", diskColl, w.wait)
	body := fmt.Sprintf(`{"points":[{"id":%d,"vector":[%d,1],"payload":{"v":%d}}]}`, w.id, w.version, w.version)
	what := fmt.Sprintf("upsert %d=%d", w.id, w.version)
	if w.version == 0 {
		path = fmt.Sprintf("/collections/%s/points/delete?wait=%t", diskColl, w.wait)
		body = fmt.Sprintf(`{"points":[%d]}`, w.id)
		what = fmt.Sprintf("delete %d", w.id)
	}
	method := "PUT"
	if w.version == 0 {
		method = "POST"
	}
	code, out := diskCall(r.srv, method, path, body)
	msg := ""
	if st, ok := out["status"].(map[string]any); ok {
		msg, _ = st["error"].(string)
	}
	switch {
	case code == 200:
		w.outcome = diskOK
	case code == 500 && (strings.Contains(msg, "writes refused until restart") || strings.Contains(msg, "WAL buffer size exceeds available disk space")):
		w.outcome = diskRefused
	default:
		w.outcome = diskUnknown
	}
	if code != 200 && (msg == "" || out["time"] == nil) {
		r.violation(diskEnvelope, "%s: %d %v", what, code, out)
	}
	if afterFsync && w.outcome != diskRefused {
		r.violation(diskAccepted, "%s after an fsync failure: %d %q, want a refusal (500, writes refused until restart)", what, code, msg)
	}
	r.fig.outcomes[w.outcome]++
	r.writes = append(r.writes, w)
	r.event("%s wait=%t: %s (%d %s)", what, w.wait, w.outcome, code, msg)
}

// read returns the version of every point that exists (id -> version).
func (r *diskRun) read(h http.Handler) (map[int]int, error) {
	ids := make([]string, diskIDs)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	code, out := diskCall(h, "POST", "/collections/"+diskColl+"/points", `{"ids":[`+strings.Join(ids, ",")+`],"with_payload":true}`)
	if code != 200 {
		return nil, fmt.Errorf("retrieve: %d %v", code, out)
	}
	got := map[int]int{}
	recs, _ := out["result"].([]any)
	for _, rec := range recs {
		m, _ := rec.(map[string]any)
		id, _ := m["id"].(float64)
		p, _ := m["payload"].(map[string]any)
		v, _ := p["v"].(float64)
		got[int(id)] = int(v)
	}
	r.event("read: %v", got)
	return got, nil
}

func (r *diskRun) acked() []diskWrite {
	var out []diskWrite
	for _, w := range r.writes {
		if r.durable(w) {
			out = append(out, w)
		}
	}
	return out
}

// durable reports whether w was promised to survive the run's ending:
// acknowledged with wait=true (fsynced), or acknowledged at all when the
// process was killed (it reached the OS).
func (r *diskRun) durable(w diskWrite) bool {
	return w.outcome == diskOK && (w.wait || r.restart)
}

// check compares what the reopened node holds with the history: per
// point, the last diskWrite promised durable (durable)
// or a diskWrite after it that may have landed (acknowledged without wait, or
// of unknown outcome) must explain the value read; a value that only a
// refused diskWrite, or no diskWrite, carried is a phantom.
func (r *diskRun) check(got map[int]int) {
	for id := range diskIDs {
		var hist []diskWrite
		for _, w := range r.writes {
			if w.id == id {
				hist = append(hist, w)
			}
		}
		v, present := got[id]
		last := -1 // index in hist of the last durable acknowledged diskWrite
		for i, w := range hist {
			if r.durable(w) {
				last = i
			}
		}
		explains := func(w diskWrite) bool {
			if w.outcome == diskRefused {
				return false
			}
			if w.version == 0 {
				return !present
			}
			return present && v == w.version
		}
		ok := false
		if last < 0 && !present {
			ok = true // nothing durable was promised
		}
		for _, w := range hist[max(last, 0):] {
			if explains(w) {
				ok = true
			}
		}
		if ok {
			continue
		}
		sent := slices.ContainsFunc(hist, func(w diskWrite) bool { return w.version != 0 && w.version == v && w.outcome != diskRefused })
		switch {
		case present && !sent:
			r.violation(diskPhantom, "point %d holds %d, which no accepted diskWrite carried (history %v)", id, v, hist)
		case last >= 0 && hist[last].version == 0:
			r.violation(diskResurrected, "point %d holds %d after an acknowledged delete (history %v)", id, v, hist)
		default:
			r.violation(diskLost, "point %d holds %v (present %t) (history %v)", id, v, present, hist)
		}
	}
}

// TestDiskChecker feeds the register checker histories whose answer is
// known, so that a checker that never fires would fail here.
func TestDiskChecker(t *testing.T) {
	ok := func(id, v int, wait bool) diskWrite {
		return diskWrite{id: id, version: v, wait: wait, outcome: diskOK}
	}
	with := func(w diskWrite, out string) diskWrite { w.outcome = out; return w }
	cases := []struct {
		name   string
		writes []diskWrite
		got    map[int]int
		want   string // the checker that must fire; "" none
	}{
		{"acknowledged upsert kept", []diskWrite{ok(1, 1, true)}, map[int]int{1: 1}, ""},
		{"acknowledged upsert lost", []diskWrite{ok(1, 1, true)}, map[int]int{}, diskLost},
		{"older value after an acknowledged upsert", []diskWrite{ok(1, 1, true), ok(1, 2, true)}, map[int]int{1: 1}, diskLost},
		{"no-wait upsert may be lost", []diskWrite{ok(1, 1, true), ok(1, 2, false)}, map[int]int{1: 1}, ""},
		{"no-wait upsert may land", []diskWrite{ok(1, 1, true), ok(1, 2, false)}, map[int]int{1: 2}, ""},
		{"unknown upsert may land", []diskWrite{with(ok(1, 1, true), diskUnknown)}, map[int]int{1: 1}, ""},
		{"unknown upsert may be lost", []diskWrite{with(ok(1, 1, true), diskUnknown)}, map[int]int{}, ""},
		{"refused upsert landed", []diskWrite{with(ok(1, 1, true), diskRefused)}, map[int]int{1: 1}, diskPhantom},
		{"value never sent", []diskWrite{ok(1, 1, true)}, map[int]int{1: 7}, diskPhantom},
		{"point never written", nil, map[int]int{2: 3}, diskPhantom},
		{"acknowledged delete resurrected", []diskWrite{ok(1, 1, true), ok(1, 0, true)}, map[int]int{1: 1}, diskResurrected},
		{"acknowledged delete kept", []diskWrite{ok(1, 1, true), ok(1, 0, true)}, map[int]int{}, ""},
		{"upsert after a delete, unknown", []diskWrite{ok(1, 1, true), ok(1, 0, true), with(ok(1, 2, true), diskUnknown)}, map[int]int{1: 2}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var fig diskFigures
			fig.init()
			r := &diskRun{t: t, writes: c.writes, fig: &fig}
			r.check(c.got)
			var got string
			if len(r.found) > 0 {
				got = r.found[0].check
			}
			if got != c.want || len(r.found) > 1 {
				t.Fatalf("checkers fired %v, want %q", r.found, c.want)
			}
		})
	}
}
