package shard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/wal"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testOptions() Options { return Options{Vectors: testSpecs(), Logger: quietLogger()} }

// testSeed is SHOAL_TEST_SEED when set, else a fixed seed; tests log it.
func testSeed(t testing.TB) uint64 {
	if v := os.Getenv("SHOAL_TEST_SEED"); v != "" {
		var s uint64
		if _, err := fmt.Sscan(v, &s); err != nil {
			t.Fatalf("SHOAL_TEST_SEED: %v", err)
		}
		return s
	}
	return 20261125
}

func newRand(t testing.TB, seed uint64) *rand.Rand {
	t.Helper()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed+1))
}

// startShard opens and starts a shard that is closed when the test ends
// (Close is idempotent, so tests may close it earlier).
func startShard(t *testing.T, dir string, opts Options) *Shard {
	t.Helper()
	sh, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("open shard: %v", err)
	}
	sh.Start()
	t.Cleanup(func() { sh.Close() })
	return sh
}

func state(sh *Shard) map[string]string {
	var m map[string]string
	sh.View(func(s *Reader) { m = dump(s) })
	return m
}

func waitApplied(t *testing.T, sh *Shard, n uint64) {
	t.Helper()
	testkit.WaitFor(t, fmt.Sprintf("%d applied operations", n), 20*time.Second, func() bool { return sh.Applied() >= n })
}

// copyDir copies a shard directory as a crash would leave it: whatever the
// process had written to the OS so far.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil // removed while copying: gone in the crash image too
		}
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

func walFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

var workloadUUIDs = []string{
	"00000000-0000-0000-0000-000000000001",
	uuidA,
	"ffffffff-ffff-ffff-ffff-ffffffffffff",
}

// randomOp draws an operation over a small id space, so that operations
// often address missing points and fail: replay must fail them the same way.
func randomOp(t testing.TB, r *rand.Rand) *ops.Operation {
	id := func() point.ID {
		if r.IntN(8) == 0 {
			return mustUUID(t, workloadUUIDs[r.IntN(len(workloadUUIDs))])
		}
		return point.NumID(uint64(r.IntN(40)))
	}
	ids := func() []point.ID {
		out := make([]point.ID, 1+r.IntN(3))
		for i := range out {
			out[i] = id()
		}
		return out
	}
	vecs := func() point.Vectors {
		v := point.Vectors{}
		if r.IntN(3) > 0 {
			v[""] = []float32{float32(r.NormFloat64()), float32(r.NormFloat64())}
		}
		if r.IntN(3) > 0 {
			v["img"] = []float32{float32(r.NormFloat64()), float32(r.IntN(3)), 1.0}
		}
		return v
	}
	payload := func() point.Payload {
		return point.Payload{
			"g":   json.Number(fmt.Sprint(r.IntN(3))),
			"f":   json.Number("1.0"),
			"big": json.Number("18446744073709551615"),
			"obj": map[string]any{"a": json.Number(fmt.Sprint(r.IntN(100))), "s": "x"},
		}
	}
	filterG := func() *filter.Filter {
		return mustFilter(t, fmt.Sprintf(`{"must":[{"key":"g","match":{"value":%d}}]}`, r.IntN(3)))
	}
	switch r.IntN(12) {
	case 0, 1, 2, 3:
		pts := make([]ops.PointStruct, 1+r.IntN(3))
		for i := range pts {
			pts[i] = ops.PointStruct{ID: id(), Vectors: vecs()}
			if r.IntN(4) > 0 {
				pts[i].Payload = payload()
			}
		}
		return &ops.Operation{Kind: ops.Upsert, Points: pts}
	case 4:
		return &ops.Operation{Kind: ops.Delete, IDs: ids()}
	case 5:
		if r.IntN(4) == 0 {
			return &ops.Operation{Kind: ops.Delete, Filter: filterG()}
		}
		return &ops.Operation{Kind: ops.SetPayload, Filter: filterG(), Payload: point.Payload{"tag": json.Number(fmt.Sprint(r.IntN(5)))}}
	case 6:
		op := &ops.Operation{Kind: ops.SetPayload, IDs: ids(), Payload: point.Payload{"k": json.Number("2.50"), "g": nil}}
		if r.IntN(2) == 0 {
			op.Key = "obj"
		}
		return op
	case 7:
		return &ops.Operation{Kind: ops.OverwritePayload, IDs: ids(), Payload: payload()}
	case 8:
		return &ops.Operation{Kind: ops.DeletePayload, IDs: ids(), Keys: []string{"obj.a", "tag"}}
	case 9:
		if r.IntN(2) == 0 {
			return &ops.Operation{Kind: ops.ClearPayload, Filter: filterG()}
		}
		return &ops.Operation{Kind: ops.ClearPayload, IDs: ids()}
	case 10:
		pv := []ops.PointVectors{{ID: id(), Vectors: vecs()}}
		return &ops.Operation{Kind: ops.UpdateVectors, Vectors: pv}
	default:
		return &ops.Operation{Kind: ops.DeleteVectors, IDs: ids(), Keys: []string{"img"}}
	}
}

// runWorkload sends n random operations and returns the id of the last.
func runWorkload(t *testing.T, sh *Shard, r *rand.Rand, n int, wait bool) uint64 {
	t.Helper()
	var last uint64
	for range n {
		id, err := sh.Update(context.Background(), randomOp(t, r), wait)
		// With wait, operations on missing points fail; that is part of
		// the workload.
		if err != nil && point.KindOf(err) != point.KindNotFound {
			t.Fatalf("update: %v", err)
		}
		last = id
	}
	return last
}

func TestRecovery(t *testing.T) {
	type reopen int
	const (
		viaClose    reopen = iota
		viaCrash           // copy the directory while the shard is open
		viaTornTail        // crash, plus a half-written record at the WAL's end
	)
	cases := []struct {
		name        string
		opts        func(*Options)
		wait        bool
		phases      []reopen // one workload, then a reopen, per phase
		checkpoints bool     // the worker must have checkpointed and truncated the WAL
	}{
		{name: "wait, close, reopen", wait: true, phases: []reopen{viaClose}},
		{name: "wait, crash, reopen", wait: true, phases: []reopen{viaCrash}},
		{name: "no wait, close, reopen", wait: false, phases: []reopen{viaClose}},
		{name: "no wait, crash, reopen", wait: false, phases: []reopen{viaCrash}},
		{
			name:   "no wait, periodic fsync, crash",
			wait:   false,
			opts:   func(o *Options) { o.FlushInterval = time.Millisecond },
			phases: []reopen{viaCrash, viaCrash},
		},
		{name: "crash with a torn wal tail", wait: false, phases: []reopen{viaTornTail}},
		{name: "checkpoint on close, more writes, crash", wait: false, phases: []reopen{viaClose, viaCrash, viaCrash}},
		{name: "checkpoint on close, more writes, close", wait: true, phases: []reopen{viaClose, viaClose, viaCrash, viaClose}},
		{
			name:        "worker checkpoints and wal truncation",
			wait:        false,
			opts:        func(o *Options) { o.CheckpointWAL = 16 << 10; o.WALSegmentSize = 8 << 10 },
			phases:      []reopen{viaClose, viaClose},
			checkpoints: true,
		},
	}
	r := newRand(t, testSeed(t))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := testOptions()
			if c.opts != nil {
				c.opts(&opts)
			}
			dir := filepath.Join(t.TempDir(), "shard")
			sh := startShard(t, dir, opts)
			var numbered uint64
			for i, how := range c.phases {
				if got := sh.Applied(); got != numbered {
					t.Fatalf("phase %d: reopened shard applied %d operations, want %d", i, got, numbered)
				}
				n := 150 + r.IntN(100)
				last := runWorkload(t, sh, r, n, c.wait)
				if want := numbered + uint64(n) - 1; last != want {
					t.Fatalf("phase %d: last operation id %d, want %d", i, last, want)
				}
				numbered += uint64(n)
				waitApplied(t, sh, numbered)
				want := state(sh)

				switch how {
				case viaClose:
					if err := sh.Close(); err != nil {
						t.Fatalf("close: %v", err)
					}
				case viaCrash, viaTornTail:
					crashed := filepath.Join(t.TempDir(), "crashed")
					copyDir(t, dir, crashed)
					if err := sh.Close(); err != nil {
						t.Fatalf("close: %v", err)
					}
					dir = crashed
					if how == viaTornTail {
						files := walFiles(t, dir)
						f, err := os.OpenFile(files[len(files)-1], os.O_APPEND|os.O_WRONLY, 0)
						if err != nil {
							t.Fatal(err)
						}
						// The start of a record header claiming 100 bytes.
						if _, err := f.Write([]byte{1, 2, 3, 4, 100, 0, 0, 0, 9}); err != nil {
							t.Fatal(err)
						}
						f.Close()
					}
				}
				sh = startShard(t, dir, opts)
				if d := diffStates(want, state(sh)); d != "" {
					t.Fatalf("phase %d: state after reopen differs:%s", i, d)
				}
			}
			if c.checkpoints {
				// Checkpoints ran in the worker and dropped old segments.
				if _, err := os.Stat(filepath.Join(dir, manifestFile)); err != nil {
					t.Fatalf("no checkpoint: %v", err)
				}
				files := walFiles(t, dir)
				if filepath.Base(files[0]) == "00000000000000000000.wal" {
					t.Fatalf("wal was never truncated: %v", files)
				}
			}
			// Operation ids go on where they stopped.
			id, err := sh.Update(context.Background(), &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(1000)}}, true)
			if err != nil || id != numbered {
				t.Fatalf("next operation: id %d err %v, want id %d", id, err, numbered)
			}
		})
	}
}

func TestOpenRejectsDamage(t *testing.T) {
	// A shard with a checkpoint and a truncated WAL.
	src := filepath.Join(t.TempDir(), "shard")
	opts := testOptions()
	opts.CheckpointWAL = 8 << 10
	opts.WALSegmentSize = 4 << 10
	sh := startShard(t, src, opts)
	runWorkload(t, sh, newRand(t, 7), 300, false)
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	if files := walFiles(t, src); filepath.Base(files[0]) == "00000000000000000000.wal" {
		t.Fatalf("setup: wal not truncated: %v", files)
	}

	cases := []struct {
		name    string
		damage  func(dir string) error
		corrupt bool // the error must match errkind.ErrCorrupt
	}{
		{
			name: "flipped checkpoint byte",
			damage: func(dir string) error {
				p := largestSegmentFile(t, dir)
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				b[len(b)/2] ^= 0x10
				return os.WriteFile(p, b, 0o644)
			},
			corrupt: true,
		},
		{
			name: "truncated checkpoint",
			damage: func(dir string) error {
				return os.Truncate(largestSegmentFile(t, dir), 100)
			},
			corrupt: true,
		},
		{
			name: "manifest lost while the wal was truncated",
			damage: func(dir string) error {
				return os.Remove(filepath.Join(dir, manifestFile))
			},
		},
		{
			name: "segment file named by the manifest lost",
			damage: func(dir string) error {
				return os.Remove(largestSegmentFile(t, dir))
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shard")
			copyDir(t, src, dir)
			if err := c.damage(dir); err != nil {
				t.Fatal(err)
			}
			sh, err := Open(dir, opts)
			if err == nil {
				sh.Close()
				t.Fatal("opened a damaged shard")
			}
			if c.corrupt != errors.Is(err, errkind.ErrCorrupt) {
				t.Fatalf("err = %v; matches ErrCorrupt: %v, want %v", err, !c.corrupt, c.corrupt)
			}
		})
	}

	// Leftovers of an interrupted flush (a temporary manifest, a segment
	// file no manifest names) are ignored, and the stray file removed.
	dir := filepath.Join(t.TempDir(), "shard")
	copyDir(t, src, dir)
	if err := os.WriteFile(filepath.Join(dir, manifestFile+".tmp"), []byte("half a manifest"), 0o644); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(dir, segmentsDir, "99-99.seg")
	if err := os.WriteFile(stray, []byte("half a segment"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("leftovers: %v", err)
	}
	sh.Close()
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stray segment file kept: %v", err)
	}
}

func TestOpenRejectsUndecodableRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	sh := startShard(t, dir, testOptions())
	if _, err := sh.Update(context.Background(), &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1)}}}, true); err != nil {
		t.Fatal(err)
	}
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	// A record with a valid frame and checksum whose content is not an
	// operation: something wrote to the log that should not have.
	log, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Append([]byte(`{"k":"explode"}`)); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(log.Sync(), log.Close()); err != nil {
		t.Fatal(err)
	}
	if sh, err := Open(dir, testOptions()); err == nil {
		sh.Close()
		t.Fatal("opened a shard whose WAL holds garbage")
	} else if !strings.Contains(err.Error(), "wal record 1") {
		t.Fatalf("error does not name the record: %v", err)
	}
}

// TestNoWaitAppliesInOrder sends operations without waiting and watches the
// store catch up: at every moment it holds a prefix of the operations.
func TestNoWaitAppliesInOrder(t *testing.T) {
	sh := startShard(t, filepath.Join(t.TempDir(), "shard"), testOptions())
	const n = 400
	for i := range n {
		// Point i is created by operation 2i and marked by 2i+1, which
		// fails unless 2i was applied before it.
		op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(uint64(i)), Payload: point.Payload{"i": json.Number(fmt.Sprint(i))}}}}
		if _, err := sh.Update(context.Background(), op, false); err != nil {
			t.Fatal(err)
		}
		mark := &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(uint64(i))}, Payload: point.Payload{"marked": true}}
		if _, err := sh.Update(context.Background(), mark, false); err != nil {
			t.Fatal(err)
		}
	}
	check := func() (applied uint64) {
		sh.View(func(s *Reader) {
			recs, _, err := s.Scroll(bg, nil, nil, n+1, nil)
			if err != nil {
				t.Error(err)
				return
			}
			for k, r := range recs {
				if r.ID != point.NumID(uint64(k)) {
					t.Fatalf("store holds %v at position %d: not a prefix", r.ID, k)
				}
				if k < len(recs)-1 && r.Payload["marked"] != true {
					t.Fatalf("point %d unmarked while point %d exists", k, k+1)
				}
			}
			applied = uint64(len(recs))
		})
		return applied
	}
	testkit.WaitFor(t, "all operations applied", 20*time.Second, func() bool { return check() == n && sh.Applied() == 2*n })
	if got := state(sh)[fmt.Sprint(n-1)]; !strings.Contains(got, `"marked":true`) {
		t.Fatalf("last point %s", got)
	}
}

func TestConcurrentUpdatesAndReads(t *testing.T) {
	sh := startShard(t, filepath.Join(t.TempDir(), "shard"), testOptions())
	const writers, perWriter = 8, 60
	seed := testSeed(t)
	t.Logf("seed %d", seed)

	var (
		mu    sync.Mutex
		opIDs []uint64
		wg    sync.WaitGroup
		stop  = make(chan struct{})
		errs  = make(chan error, writers+4)
	)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := range perWriter {
				id := point.NumID(uint64(g*1000 + i))
				op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{
					ID:      id,
					Vectors: point.Vectors{"": {float32(g), float32(i)}},
					Payload: point.Payload{"g": json.Number(fmt.Sprint(g))},
				}}}
				wait := r.IntN(4) == 0
				opID, err := sh.Update(context.Background(), op, wait)
				if err != nil {
					errs <- err
					return
				}
				if wait {
					var ok bool
					sh.View(func(s *Reader) { ok = s.Has(id) })
					if !ok {
						errs <- fmt.Errorf("point %v not visible after a wait=true update returned", id)
						return
					}
				}
				mu.Lock()
				opIDs = append(opIDs, opID)
				mu.Unlock()
			}
		}()
	}
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sh.View(func(s *Reader) {
					recs, _, err := s.Scroll(bg, nil, nil, 1<<20, nil)
					n, cerr := s.Count(bg, nil)
					if err := errors.Join(err, cerr); err != nil {
						errs <- err
						return
					}
					if len(recs) != s.Len() || n != s.Len() {
						errs <- fmt.Errorf("scroll saw %d points, Len %d", len(recs), s.Len())
					}
					for i := 1; i < len(recs); i++ {
						if !recs[i-1].ID.Less(recs[i].ID) {
							errs <- fmt.Errorf("scroll out of order: %v then %v", recs[i-1].ID, recs[i].ID)
							return
						}
					}
					if _, err := s.Search(bg, segment.SearchParams{Vector: "", Query: []float32{1, 1}, Limit: 5}, nil); err != nil {
						errs <- err
					}
				})
				sh.Applied()
			}
		}()
	}
	wg.Wait()
	total := uint64(writers * perWriter)
	waitApplied(t, sh, total)
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	slices.Sort(opIDs)
	for i, id := range opIDs {
		if id != uint64(i) {
			t.Fatalf("operation ids are not 0..%d: position %d holds %d", total-1, i, id)
		}
	}
	var n int
	sh.View(func(s *Reader) { n = s.Len() })
	if n != int(total) {
		t.Fatalf("%d points, want %d", n, total)
	}
}

func TestUpdateResults(t *testing.T) {
	sh := startShard(t, filepath.Join(t.TempDir(), "shard"), testOptions())
	ctx := context.Background()
	up := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1)}}}
	if id, err := sh.Update(ctx, up, true); err != nil || id != 0 {
		t.Fatalf("first update: id %d err %v", id, err)
	}
	// A failing operation reports its error with wait and still takes an id.
	miss := &ops.Operation{Kind: ops.ClearPayload, IDs: []point.ID{point.NumID(2)}}
	id, err := sh.Update(ctx, miss, true)
	if id != 1 || point.KindOf(err) != point.KindNotFound {
		t.Fatalf("failing update: id %d err %v", id, err)
	}
	if id, err := sh.Update(ctx, miss, false); err != nil || id != 2 {
		t.Fatalf("failing update without wait: id %d err %v", id, err)
	}
	// A cancelled context gives up waiting, not the operation.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	id, err = sh.Update(cancelled, &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(3)}}}, true)
	if id != 3 || (err != nil && !errors.Is(err, context.Canceled)) {
		t.Fatalf("cancelled update: id %d err %v", id, err)
	}
	waitApplied(t, sh, 4)
	if _, ok := state(sh)["3"]; !ok {
		t.Fatal("operation of a cancelled wait was not applied")
	}
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sh.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := sh.Update(ctx, up, false); !errors.Is(err, ErrClosed) {
		t.Fatalf("update after close: %v", err)
	}
}

func TestCloseWithoutStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	sh, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Without a worker the queue holds the operations; Close applies them.
	for i := range 5 {
		op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(uint64(i))}}}
		if _, err := sh.Update(context.Background(), op, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	sh = startShard(t, dir, testOptions())
	if n := len(state(sh)); n != 5 || sh.Applied() != 5 {
		t.Fatalf("reopened: %d points, %d applied", n, sh.Applied())
	}
}

func TestDrop(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	sh := startShard(t, dir, testOptions())
	if _, err := sh.Update(context.Background(), &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1)}}}, true); err != nil {
		t.Fatal(err)
	}
	if err := sh.Drop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("shard dir still there: %v", err)
	}
	// Reopening the path starts empty.
	sh = startShard(t, dir, testOptions())
	if n := len(state(sh)); n != 0 || sh.Applied() != 0 {
		t.Fatalf("after drop: %d points, %d applied", n, sh.Applied())
	}
}

// TestNewColumnOnReopen: a reopened shard has its segments' vectors, not
// the ones its options name (a vector comes with create_vector_name, in
// WAL order); one added so takes vectors of existing points.
func TestNewColumnOnReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	sh := startShard(t, dir, testOptions())
	op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 2}}}}}
	if _, err := sh.Update(context.Background(), op, true); err != nil {
		t.Fatal(err)
	}
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Vectors["extra"] = opts.Vectors["img"]
	sh = startShard(t, dir, opts)
	up := &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(1), Vectors: point.Vectors{"extra": {1, 2, 3}}}}}
	if _, err := sh.Update(context.Background(), up, true); err == nil || !errors.Is(err, ErrRefused) {
		t.Fatalf("a vector of the options only: %v", err)
	}
	create := &ops.Operation{Kind: ops.CreateVectorName, Key: "extra", VectorConfig: &ops.VectorNameConfig{Dense: &ops.DenseVectorConfig{Size: 3, Distance: "Dot"}}}
	if _, err := sh.Update(context.Background(), create, true); err != nil {
		t.Fatal(err)
	}
	if _, err := sh.Update(context.Background(), up, true); err != nil {
		t.Fatal(err)
	}
	if got := state(sh)["1"]; got != `v3 null map[:[1 2] extra:[1 2 3]]` {
		t.Fatalf("point 1 = %s", got)
	}
}

// largestSegmentFile returns the biggest data file the manifest names.
func largestSegmentFile(t *testing.T, dir string) string {
	t.Helper()
	m, err := readManifest(vfs.Default, dir)
	if err != nil {
		t.Fatal(err)
	}
	best, size := "", int64(-1)
	for _, ms := range m.Segments {
		p := filepath.Join(dir, segmentsDir, ms.Data)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > size {
			best, size = p, fi.Size()
		}
	}
	return best
}
