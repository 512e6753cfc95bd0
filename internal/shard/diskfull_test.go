package shard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/fsutil"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/vfs"
)

// fullDisk stands in for a file system that runs out of space: while full,
// atomic file writes whose path matches fails (nil: every path) fail with
// ENOSPC after writing nothing.
type fullDisk struct {
	full     atomic.Bool
	fails    func(path string) bool
	attempts atomic.Int64 // writes refused
}

func (d *fullDisk) writeFile(path string, write func(io.Writer) error) error {
	if d.full.Load() && (d.fails == nil || d.fails(path)) {
		d.attempts.Add(1)
		return &os.PathError{Op: "write", Path: path + ".tmp", Err: syscall.ENOSPC}
	}
	return fsutil.WriteFileAtomic(path, write)
}

// manualClock is a clock that moves only when told to.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestOutOfDiskRefusesUpdates: while the disk has less free space than a
// WAL segment, updates are refused with Qdrant's error before anything is
// written; once space is back they go through.
func TestOutOfDiskRefusesUpdates(t *testing.T) {
	var free atomic.Uint64
	free.Store(1 << 40)
	opts := testOptions()
	opts.WALSegmentSize = 1 << 20
	sh, err := openWith(filepath.Join(t.TempDir(), "shard"), opts, seams{
		freeSpace: func(string) (uint64, bool) { return free.Load(), true },
	})
	if err != nil {
		t.Fatal(err)
	}
	sh.Start()
	defer sh.Close()
	ctx := context.Background()
	if _, err := sh.Update(ctx, upsertOp(1, 1, 1), true); err != nil {
		t.Fatal(err)
	}
	want := state(sh)
	next := sh.wal.NextIndex()

	free.Store(1<<20 - 1)
	const text = "No space left on device: WAL buffer size exceeds available disk space"
	for _, wait := range []bool{true, false} {
		_, err := sh.Update(ctx, upsertOp(2, 2, 2), wait)
		if !errors.Is(err, ErrOutOfDisk) || err.Error() != text {
			t.Fatalf("update on a full disk (wait %v): %v, want %q", wait, err, text)
		}
		_, err = sh.UpdateBatch(ctx, []*ops.Operation{upsertOp(3, 3, 3), upsertOp(4, 4, 4)}, wait)
		if !errors.Is(err, ErrOutOfDisk) || err.Error() != text {
			t.Fatalf("batch on a full disk (wait %v): %v, want %q", wait, err, text)
		}
	}
	if got := sh.wal.NextIndex(); got != next {
		t.Fatalf("refused updates reached the WAL: next index %d, want %d", got, next)
	}
	if d := diffStates(want, state(sh)); d != "" {
		t.Fatalf("refused updates changed the shard:%s", d)
	}

	free.Store(1 << 20)
	if id, err := sh.Update(ctx, upsertOp(2, 2, 2), true); err != nil || id != next {
		t.Fatalf("update once space is back: id %d, err %v; want id %d", id, err, next)
	}
}

// enospcFS fails WAL writes with ENOSPC while full.
type enospcFS struct {
	vfs.FS
	full atomic.Bool
}

func (f *enospcFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &enospcFile{File: file, fs: f}, nil
}

type enospcFile struct {
	vfs.File
	fs *enospcFS
}

func (f *enospcFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fs.full.Load() {
		n, _ := f.File.WriteAt(p[:len(p)/3], off) // part lands, as on a disk that fills up
		return n, &os.PathError{Op: "write", Path: "wal", Err: syscall.ENOSPC}
	}
	return f.File.WriteAt(p, off)
}

// TestWALOutOfSpace: a WAL write that runs out of space (the disk filled
// between the check and the write) is refused as out of disk, and leaves
// nothing behind.
func TestWALOutOfSpace(t *testing.T) {
	fsys := &enospcFS{FS: vfs.Default}
	dir := filepath.Join(t.TempDir(), "shard")
	opts := testOptions()
	opts.FS = fsys
	sh, err := openWith(dir, opts, seams{})
	if err != nil {
		t.Fatal(err)
	}
	sh.Start()
	ctx := context.Background()
	if _, err := sh.Update(ctx, upsertOp(1, 1, 1), true); err != nil {
		t.Fatal(err)
	}
	fsys.full.Store(true)
	_, err = sh.UpdateBatch(ctx, []*ops.Operation{upsertOp(2, 2, 2), upsertOp(3, 3, 3)}, true)
	var od *OutOfDiskError
	if !errors.As(err, &od) || !errors.Is(err, syscall.ENOSPC) || !strings.HasPrefix(err.Error(), "No space left on device: ") {
		t.Fatalf("batch on a full disk: %v", err)
	}
	fsys.full.Store(false)
	if id, err := sh.Update(ctx, upsertOp(4, 4, 4), true); err != nil || id != 1 {
		t.Fatalf("update once space is back: id %d, err %v", id, err)
	}
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	re := startShard(t, dir, testOptions())
	if got := ids(re); strings.Join(got, ",") != "1,4" {
		t.Fatalf("points after reopen %v, want 1 and 4", got)
	}
}

// TestCloseWithFullDisk: when the final flush cannot be written but the
// WAL is durable, Close succeeds with a warning (nothing acknowledged is
// lost: the next start replays the WAL), removes what the failed flush
// wrote, and a restart finds every update. A WAL that cannot be made
// durable still fails the close.
func TestCloseWithFullDisk(t *testing.T) {
	disk := &fullDisk{fails: func(p string) bool { return !strings.HasSuffix(p, manifestFile) }}
	var logs bytes.Buffer
	opts := testOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	dir := filepath.Join(t.TempDir(), "shard")
	sh, err := openWith(dir, opts, seams{writeFile: disk.writeFile})
	if err != nil {
		t.Fatal(err)
	}
	sh.Start()
	ctx := context.Background()
	r := newRand(t, testSeed(t))
	last := runWorkload(t, sh, r, 200, true)
	want := state(sh)

	disk.full.Store(true)
	if err := sh.Close(); err != nil {
		t.Fatalf("close with a full disk and a durable WAL: %v", err)
	}
	if disk.attempts.Load() == 0 {
		t.Fatal("the final flush never tried to write")
	}
	if !strings.Contains(logs.String(), "final flush failed") {
		t.Fatalf("no warning about the final flush:\n%s", logs.String())
	}
	// The files a manifest names stay (a new shard writes its first
	// manifest when it opens); nothing of the failed flush does.
	m, err := readManifest(vfs.Default, dir)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{manifestFile: true}
	for _, ms := range m.Segments {
		named[ms.Data], named[ms.Deletes] = true, true
	}
	left, _ := filepath.Glob(filepath.Join(dir, segmentsDir, "*"))
	left = slices.DeleteFunc(left, func(p string) bool { return named[filepath.Base(p)] })
	if len(left) != 0 {
		t.Fatalf("the failed flush left files behind: %v", left)
	}
	re := startShard(t, dir, testOptions())
	if d := diffStates(want, state(re)); d != "" {
		t.Fatalf("state after a close on a full disk differs:%s", d)
	}
	if re.Applied() != last+1 {
		t.Fatalf("applied %d after reopen, want %d", re.Applied(), last+1)
	}
	if err := re.Close(); err != nil {
		t.Fatal(err)
	}

	// A WAL whose fsync fails is not durable: the close fails.
	opts = testOptions()
	fsys := &syncFailFS{FS: vfs.Default}
	opts.FS = fsys
	sh, err = openWith(dir, opts, seams{writeFile: disk.writeFile})
	if err != nil {
		t.Fatal(err)
	}
	sh.Start()
	if _, err := sh.Update(ctx, upsertOp(77, 7, 7), false); err != nil {
		t.Fatal(err)
	}
	fsys.fail.Store(true)
	if err := sh.Close(); err == nil {
		t.Fatal("close succeeded although the WAL could not be synced")
	}
}

// syncFailFS fails WAL fsyncs while fail is set.
type syncFailFS struct {
	vfs.FS
	fail atomic.Bool
}

func (f *syncFailFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &syncFailFile{File: file, fs: f}, nil
}

type syncFailFile struct {
	vfs.File
	fs *syncFailFS
}

func (f *syncFailFile) Sync() error {
	if f.fs.fail.Load() {
		return &os.PathError{Op: "fsync", Path: "wal", Err: syscall.EIO}
	}
	return f.File.Sync()
}

// TestWorkerCheckpointBacksOff: after a failed flush, the flushes the WAL's
// growth calls for wait (one second, doubling), so that a full disk is not
// rewritten after every update; once space is back the next one succeeds.
func TestWorkerCheckpointBacksOff(t *testing.T) {
	disk := &fullDisk{}
	clock := &manualClock{t: time.Unix(1_000_000, 0)}
	opts := testOptions()
	opts.CheckpointWAL = 1 // every update calls for a flush
	dir := filepath.Join(t.TempDir(), "shard")
	sh, err := openWith(dir, opts, seams{writeFile: disk.writeFile, now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	sh.Start()
	defer sh.Close()
	ctx := context.Background()
	next := uint64(0)
	// update applies one more operation; the worker flushes (or not)
	// after applying it, before it applies the next one, so a second
	// update is a barrier: once it is answered, the first one's flush
	// attempt is over (and the second's falls in the same backoff).
	update := func() {
		t.Helper()
		for range 2 {
			if _, err := sh.Update(ctx, upsertOp(next, 1, 1), true); err != nil {
				t.Fatal(err)
			}
			next++
		}
	}
	attempts := func(want int64, when string) {
		t.Helper()
		if n := disk.attempts.Load(); n != want {
			t.Fatalf("%d flush attempts %s, want %d", n, when, want)
		}
	}
	disk.full.Store(true)
	for range 10 {
		update()
	}
	attempts(1, "within the first backoff")
	clock.advance(time.Second)
	update()
	attempts(2, "after the first backoff")
	clock.advance(time.Second) // the second wait is two seconds
	update()
	attempts(2, "one second into a two-second backoff")
	disk.full.Store(false)
	clock.advance(time.Second)
	update()
	if _, err := os.Stat(filepath.Join(dir, manifestFile)); err != nil {
		t.Fatalf("no flush once space is back: %v", err)
	}
}

// TestOptimizerRetriesAfterFailure: an optimization that fails for lack of
// space is retried one second later, then two, ... without any change of
// settings, the failure visible in the optimizer status meanwhile; once
// space is back the retry succeeds and the error clears. A failed attempt
// leaves no files behind.
func TestOptimizerRetriesAfterFailure(t *testing.T) {
	disk := &fullDisk{fails: func(p string) bool { return strings.HasSuffix(p, ".seg") }}
	clock := &manualClock{t: time.Unix(1_000_000, 0)}
	opts := testOptions()
	specs := testSpecs()
	sp := specs[""]
	sp.OnDisk = true // the job writes a vector file before the segment file
	specs[""] = sp
	opts.Vectors = specs
	opts.VectorIndex = map[string]segment.IndexParams{"": {M: 8, EfConstruct: 16, IndexingThreshold: 50, Seed: 1}}
	opts.IndexThreads = 1
	dir := filepath.Join(t.TempDir(), "shard")
	sh, err := openWith(dir, opts, seams{writeFile: disk.writeFile, now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	sh.Start()
	defer sh.Close()
	disk.full.Store(true)
	batch := make([]*ops.Operation, 80)
	for i := range batch {
		batch[i] = upsertOp(uint64(i), float32(i), 1)
	}
	if _, err := sh.UpdateBatch(context.Background(), batch, true); err != nil {
		t.Fatal(err)
	}

	failed := func(n int) OptimizerStatus {
		t.Helper()
		var st OptimizerStatus
		testkit.WaitFor(t, "failed optimization", 20*time.Second, func() bool {
			st = sh.Optimizer()
			return st.Retries == n && !st.Running
		})
		if !strings.Contains(st.Error, "no space left on device") {
			t.Fatalf("optimizer error %q", st.Error)
		}
		if want := clock.now().Add(backoff(n)); !st.RetryAt.Equal(want) {
			t.Fatalf("retry at %v, want %v", st.RetryAt, want)
		}
		if vecs, _ := filepath.Glob(filepath.Join(dir, segmentsDir, "*.vec")); len(vecs) != 0 {
			t.Fatalf("a failed optimization left files behind: %v", vecs)
		}
		return st
	}
	planned := func() bool {
		sh.mu.RLock()
		defer sh.mu.RUnlock()
		return sh.mu.h.plan(clock.now()) != nil
	}

	st := failed(1)
	if planned() {
		t.Fatal("an optimization is planned before the retry time")
	}
	clock.advance(st.RetryAt.Sub(clock.now()))
	if !planned() {
		t.Fatal("no optimization planned at the retry time")
	}
	sh.wake()
	st = failed(2)
	if st.RetryAt.Sub(clock.now()) != 2*time.Second {
		t.Fatalf("second retry in %v, want 2s", st.RetryAt.Sub(clock.now()))
	}

	disk.full.Store(false)
	clock.advance(2 * time.Second)
	sh.wake()
	testkit.WaitFor(t, "optimization once space is back", 20*time.Second, func() bool {
		st = sh.Optimizer()
		return st.Completed > 0 && !st.Running
	})
	if st.Error != "" || st.Retries != 0 || !st.RetryAt.IsZero() {
		t.Fatalf("status after a successful retry: %+v", st)
	}
	var indexed int
	sh.View(func(rd *Reader) { indexed = rd.IndexedVectors() })
	if indexed != len(batch) {
		t.Fatalf("%d indexed vectors, want %d", indexed, len(batch))
	}
}
