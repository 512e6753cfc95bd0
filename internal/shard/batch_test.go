package shard

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vfs"
)

// syncCountFS is the operating system's file system, counting the fsyncs
// of WAL files.
type syncCountFS struct {
	vfs.FS
	syncs atomic.Int64
}

func (f *syncCountFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil || !strings.Contains(filepath.ToSlash(name), "/wal/") {
		return file, err
	}
	return &syncCountFile{File: file, fs: f}, nil
}

type syncCountFile struct {
	vfs.File
	fs *syncCountFS
}

func (f *syncCountFile) Sync() error {
	f.fs.syncs.Add(1)
	return f.File.Sync()
}

// TestUpdateBatchOneFsync: a batch of 1,000 operations sent with wait is
// one WAL append and one fsync, and every operation keeps its own number.
func TestUpdateBatchOneFsync(t *testing.T) {
	fsys := &syncCountFS{FS: vfs.Default}
	opts := testOptions()
	opts.FlushInterval = time.Hour // no periodic fsync during the test
	opts.FS = fsys
	sh, err := openWith(filepath.Join(t.TempDir(), "shard"), opts, seams{})
	if err != nil {
		t.Fatal(err)
	}
	sh.Start()
	defer sh.Close()
	batch := make([]*ops.Operation, 1000)
	for i := range batch {
		batch[i] = upsertOp(uint64(i), float32(i), 1)
	}
	before := fsys.syncs.Load()
	first, err := sh.UpdateBatch(context.Background(), batch, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := fsys.syncs.Load() - before; n != 1 {
		t.Fatalf("a batch of %d operations made %d WAL fsyncs, want 1", len(batch), n)
	}
	if first != 0 || sh.Applied() != 1000 || len(state(sh)) != 1000 {
		t.Fatalf("first operation %d, %d applied, %d points", first, sh.Applied(), len(state(sh)))
	}
	// The next update goes on from the batch's last number.
	if id, err := sh.Update(context.Background(), upsertOp(5000, 1, 1), true); err != nil || id != 1000 {
		t.Fatalf("next update: id %d, err %v", id, err)
	}
}

// TestUpdateBatchSemantics: operations apply in order; with wait the batch
// stops at its first failure and answers with it, without wait every
// operation is applied whatever happens to the others (as Qdrant, which
// queues them one by one); and a restart, after a crash or a close,
// rebuilds the same state from the WAL.
func TestUpdateBatchSemantics(t *testing.T) {
	batch := func() []*ops.Operation {
		return []*ops.Operation{
			upsertOp(1, 1, 1),
			upsertOp(2, 2, 2),
			setPayloadOp(3), // no point 3
			upsertOp(4, 4, 4),
			{Kind: ops.Delete, IDs: []point.ID{point.NumID(1)}},
		}
	}
	cases := []struct {
		name    string
		wait    bool
		wantErr string
		want    []string
	}{
		{name: "wait stops at the first failure", wait: true, wantErr: "No point with id 3 found", want: []string{"0", "1", "2"}},
		{name: "without wait every operation applies", wait: false, want: []string{"0", "2", "4"}},
	}
	for _, c := range cases {
		for _, restart := range []string{"crash", "close"} {
			t.Run(c.name+", "+restart, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "shard")
				sh := startShard(t, dir, testOptions())
				ctx := context.Background()
				if _, err := sh.Update(ctx, upsertOp(0, 0, 0), true); err != nil {
					t.Fatal(err)
				}
				first, err := sh.UpdateBatch(ctx, batch(), c.wait)
				if first != 1 {
					t.Fatalf("first operation number %d, want 1", first)
				}
				switch {
				case c.wantErr == "" && err != nil:
					t.Fatalf("batch: %v", err)
				case c.wantErr != "" && (err == nil || err.Error() != c.wantErr || point.KindOf(err) != point.KindNotFound):
					t.Fatalf("batch error %v, want %q", err, c.wantErr)
				}
				waitApplied(t, sh, 6)
				if got := ids(sh); !slices.Equal(got, c.want) {
					t.Fatalf("points %v, want %v", got, c.want)
				}
				want := state(sh)
				if restart == "crash" {
					crashed := filepath.Join(t.TempDir(), "crashed")
					copyDir(t, dir, crashed)
					dir = crashed
				}
				if err := sh.Close(); err != nil {
					t.Fatal(err)
				}
				sh = startShard(t, dir, testOptions())
				if d := diffStates(want, state(sh)); d != "" {
					t.Fatalf("state after a %s and reopen differs:%s", restart, d)
				}
				if sh.Applied() != 6 {
					t.Fatalf("applied %d after reopen, want 6", sh.Applied())
				}
			})
		}
	}
}

func TestUpdateBatchEmpty(t *testing.T) {
	sh := startShard(t, filepath.Join(t.TempDir(), "shard"), testOptions())
	if _, err := sh.UpdateBatch(context.Background(), nil, true); err != nil {
		t.Fatal(err)
	}
	if id, err := sh.Update(context.Background(), upsertOp(1, 1, 1), true); err != nil || id != 0 {
		t.Fatalf("an empty batch used operation numbers: next id %d, err %v", id, err)
	}
}

// TestUpdateBatchRandomReplay runs random batches, with and without wait,
// between lone updates, and checks that a crash image replays to the state
// the worker built.
func TestUpdateBatchRandomReplay(t *testing.T) {
	r := newRand(t, testSeed(t))
	dir := filepath.Join(t.TempDir(), "shard")
	sh := startShard(t, dir, testOptions())
	ctx := context.Background()
	var numbered uint64
	for range 60 {
		n := 1 + r.IntN(8)
		batch := make([]*ops.Operation, n)
		for i := range batch {
			batch[i] = randomOp(t, r)
		}
		wait := r.IntN(2) == 0
		first, err := sh.UpdateBatch(ctx, batch, wait)
		if err != nil && point.KindOf(err) != point.KindNotFound {
			t.Fatalf("batch: %v", err)
		}
		if first != numbered {
			t.Fatalf("batch starts at %d, want %d", first, numbered)
		}
		numbered += uint64(n)
	}
	waitApplied(t, sh, numbered)
	want := state(sh)
	crashed := filepath.Join(t.TempDir(), "crashed")
	copyDir(t, dir, crashed)
	re := startShard(t, crashed, testOptions())
	if d := diffStates(want, state(re)); d != "" {
		t.Fatalf("replayed state differs:%s", d)
	}
}
