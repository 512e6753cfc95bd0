package shard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/snapshot"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vfs"
)

func snapOptions() Options {
	return Options{
		Vectors: map[string]segment.VectorSpec{
			"":    {Dim: 2, Distance: vector.Dot},
			"img": {Dim: 3, Distance: vector.Euclid, OnDisk: true},
		},
		Sparse:         map[string]segment.SparseSpec{"sp": {}},
		Logger:         quietLogger(),
		WALSegmentSize: 4 << 10,
		CheckpointWAL:  4 << 10,
		FlushInterval:  time.Hour,
		VectorIndex: map[string]segment.IndexParams{
			"":    {M: 4, EfConstruct: 16, IndexingThreshold: 20, Seed: 1},
			"img": {M: 4, EfConstruct: 16, IndexingThreshold: 20, Seed: 1},
		},
		Optimizer:    OptimizerParams{DeletedThreshold: 0.1, VacuumMinVectorNumber: 1, DefaultSegmentNumber: 2, SparseIndexingBytes: 64},
		IndexThreads: 1,
	}
}

// loggedOp is one acknowledged write of the history: its operation number
// and what it did.
type loggedOp struct {
	version uint64
	id      uint64
	del     bool
	n       int
	tag     *ops.ClockTag
}

func (o loggedOp) op() *ops.Operation {
	if o.del {
		return &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(o.id)}}
	}
	f := float32(o.n)
	return &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{
		ID:      point.NumID(o.id),
		Vectors: point.Vectors{"": {f, 1}, "img": {f, 2, 3}},
		Sparse:  point.SparseVectors{"sp": {Indices: []uint32{uint32(o.n % 7)}, Values: []float32{f}}},
		Payload: point.Payload{"n": o.n, "color": fmt.Sprint("c", o.n%3)},
	}}}
}

// model replays the history's operations below applied, in operation
// order, on a plain store: the state a snapshot covering [0, applied)
// must hold.
func model(t *testing.T, hist []loggedOp, applied uint64) (map[string]string, ops.RecoveryPoint) {
	t.Helper()
	hist = slices.Clone(hist)
	slices.SortFunc(hist, func(a, b loggedOp) int { return int(a.version) - int(b.version) })
	st := segment.NewStore(snapOptions().Vectors)
	st.AddSparseColumn("sp", segment.SparseSpec{})
	rp := ops.RecoveryPoint{}
	for _, o := range hist {
		if o.version >= applied {
			break
		}
		if err := apply(st, o.version, o.op()); err != nil {
			t.Fatalf("model: %v", err)
		}
		if o.tag != nil && rp[o.tag.Key()] < o.tag.Tick {
			rp[o.tag.Key()] = o.tag.Tick
		}
	}
	st.PrepareRead()
	return dump(st), rp
}

func snapshotTo(t *testing.T, sh *Shard) ([]byte, SnapshotMeta) {
	t.Helper()
	var buf bytes.Buffer
	w := snapshot.NewWriter(&buf, snapshot.KindShard, nil)
	meta, err := sh.Snapshot(context.Background(), w, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), meta
}

// TestSnapshotUnderConcurrentWrites: snapshots taken while four writers
// upsert and delete (one of them with clock tags), with checkpoints and
// optimizations going on, each equal the state at one point of the WAL
// order: every write numbered below the snapshot's operation number is in
// it, none above; every write acknowledged before the snapshot began is
// below it; the clocks are those of the writes below.
func TestSnapshotUnderConcurrentWrites(t *testing.T) {
	rnd := newRand(t, testSeed(t))
	seeds := []uint64{rnd.Uint64(), rnd.Uint64(), rnd.Uint64(), rnd.Uint64()}
	ctx := context.Background()
	opts := snapOptions()
	sh := startShard(t, t.TempDir(), opts)
	if _, err := sh.Update(ctx, &ops.Operation{Kind: ops.CreateIndex, Key: "color", Schema: &ops.FieldSchema{Type: ops.KeywordField}}, true); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hist []loggedOp
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for wi, seed := range seeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRand(t, seed)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o := loggedOp{id: r.Uint64N(150), del: r.IntN(6) == 0, n: wi*1_000_000 + i}
				var err error
				if wi == 0 {
					tag := ops.ClockTag{PeerID: 1, ClockID: 0, Tick: uint64(i + 1), Token: uint64(i)}
					var res ClockResult
					res, err = sh.UpdateWithClock(ctx, o.op(), true, tag)
					o.version, o.tag = res.OperationID, &tag
				} else {
					o.version, err = sh.Update(ctx, o.op(), r.IntN(2) == 0)
				}
				if err != nil {
					t.Errorf("writer %d: %v", wi, err)
					return
				}
				mu.Lock()
				hist = append(hist, o)
				mu.Unlock()
			}
		}()
	}
	type snap struct {
		data    []byte
		meta    SnapshotMeta
		ackedTo int // hist[:ackedTo] were acknowledged before the snapshot began
	}
	var snaps []snap
	for range 3 {
		mu.Lock()
		waitFor := len(hist) + 300
		mu.Unlock()
		for {
			mu.Lock()
			n := len(hist)
			mu.Unlock()
			if n >= waitFor {
				break
			}
			time.Sleep(time.Millisecond) // polling the writers' progress, not a timed wait
		}
		mu.Lock()
		acked := len(hist)
		mu.Unlock()
		data, meta := snapshotTo(t, sh)
		snaps = append(snaps, snap{data: data, meta: meta, ackedTo: acked})
	}
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	waitApplied(t, sh, uint64(len(hist)+1))
	for i, sn := range snaps {
		for _, o := range hist[:sn.ackedTo] {
			// Acknowledged without wait is logged, not applied: logged
			// is what counts, the snapshot waits for it to apply.
			if o.version >= sn.meta.Applied {
				t.Fatalf("snapshot %d (applied %d) misses write %d acknowledged before it", i, sn.meta.Applied, o.version)
			}
		}
		dir := filepath.Join(t.TempDir(), "restored")
		if _, err := RestoreSnapshot(bytes.NewReader(sn.data), dir, snapshot.Options{}); err != nil {
			t.Fatal(err)
		}
		re := startShard(t, dir, opts)
		want, rp := model(t, hist, sn.meta.Applied)
		if d := diffStates(want, state(re)); d != "" {
			t.Fatalf("snapshot %d (applied %d) differs from the history:%s", i, sn.meta.Applied, d)
		}
		if got := re.RecoveryPoint(); !maps.Equal(got, rp) {
			t.Fatalf("snapshot %d: recovery point %v, want %v", i, got, rp)
		}
		if sn.meta.Points != len(want) {
			t.Fatalf("snapshot %d: meta says %d points, holds %d", i, sn.meta.Points, len(want))
		}
		var idx map[string]segment.IndexInfo
		re.View(func(r *Reader) { idx = r.Indexes() })
		if _, ok := idx["color"]; !ok {
			t.Fatalf("snapshot %d: payload index missing: %v", i, idx)
		}
		// The restored shard numbers its next operation after the image.
		v, err := re.Update(ctx, upsertOp(9999, 1, 1), true)
		if err != nil || v != sn.meta.Applied {
			t.Fatalf("first update after restore: %d, %v (want %d)", v, err, sn.meta.Applied)
		}
		re.Close()
		re = startShard(t, dir, opts)
		if !slices.Contains(ids(re), "9999") {
			t.Fatal("the update after the restore is lost by a reopen")
		}
		re.Close()
	}
	t.Logf("%d writes, snapshots at operations %d, %d, %d", len(hist), snaps[0].meta.Applied, snaps[1].meta.Applied, snaps[2].meta.Applied)
}

// TestSnapshotPinsFiles: a checkpoint that retires files while a snapshot
// copies them leaves them in place until the copy ends, then removes them.
// Without the pin the copy fails (the file is gone). The copy, stalled
// here on a pipe nobody reads, blocks no write: fifty updates sent with
// wait and a checkpoint complete meanwhile.
func TestSnapshotPinsFiles(t *testing.T) {
	ctx := context.Background()
	opts := testOptions()
	opts.CheckpointWAL = 1 << 30
	dir := t.TempDir()
	sh := startShard(t, dir, opts)
	for i := range 50 {
		if _, err := sh.Update(ctx, upsertOp(uint64(i), 1, 2), true); err != nil {
			t.Fatal(err)
		}
	}
	pr, pw := io.Pipe()
	w := snapshot.NewWriter(pw, snapshot.KindShard, nil)
	errc := make(chan error, 1)
	go func() {
		meta, err := sh.Snapshot(ctx, w, "")
		if err == nil {
			_, err = w.Close(meta)
		}
		pw.CloseWithError(err)
		errc <- err
	}()
	// The archive's first entry is the manifest: once a byte of the
	// stream is read, the files are pinned and the copy waits for us.
	first := make([]byte, 1)
	if _, err := io.ReadFull(pr, first); err != nil {
		t.Fatal(err)
	}
	before, err := readManifest(vfs.Default, dir)
	if err != nil {
		t.Fatal(err)
	}
	old := manifestFiles(before)
	// Rewrite every point and checkpoint: the old data file is retired.
	for i := range 50 {
		if _, err := sh.Update(ctx, upsertOp(uint64(i), 3, 4), true); err != nil {
			t.Fatal(err)
		}
	}
	sh.flush <- struct{}{}
	waitManifest(t, dir, func(m *manifest) bool { return !slices.Equal(manifestFiles(m), old) })
	for _, f := range old {
		if _, err := vfs.Default.Stat(filepath.Join(dir, segmentsDir, f)); err != nil {
			t.Fatalf("file %s of the pinned manifest removed during the copy: %v", f, err)
		}
	}
	rest, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "r")
	if _, err := RestoreSnapshot(bytes.NewReader(append(first, rest...)), dst, snapshot.Options{}); err != nil {
		t.Fatal(err)
	}
	re := startShard(t, dst, opts)
	if got := state(re)["7"]; got == "" || !bytes.Contains([]byte(got), []byte("[1 2]")) {
		t.Fatalf("restored point 7: %q, want its vector before the rewrite", got)
	}
	for _, f := range old {
		if _, err := vfs.Default.Stat(filepath.Join(dir, segmentsDir, f)); err == nil {
			t.Fatalf("file %s retired during the copy still there after it", f)
		}
	}
}

func waitManifest(t *testing.T, dir string, ok func(*manifest) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := readManifest(vfs.Default, dir)
		if err == nil && ok(m) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("manifest never changed: %+v, %v", m, err)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRestoreSnapshotRefusals(t *testing.T) {
	sh := startShard(t, t.TempDir(), testOptions())
	if _, err := sh.Update(context.Background(), upsertOp(1, 1, 2), true); err != nil {
		t.Fatal(err)
	}
	good, _ := snapshotTo(t, sh)
	var coll bytes.Buffer
	cw := snapshot.NewWriter(&coll, snapshot.KindCollection, nil)
	if _, err := cw.Close(nil); err != nil {
		t.Fatal(err)
	}
	var noFiles bytes.Buffer
	nw := snapshot.NewWriter(&noFiles, snapshot.KindShard, nil)
	raw, _ := json.Marshal(manifest{Version: manifestVer, Applied: 1, Segments: []manifestSeg{{ID: 1, Data: "1-1.seg"}}})
	if err := nw.AddBytes(manifestFile, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Close(nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated", good[:len(good)/2]},
		{"collection archive", coll.Bytes()},
		{"a file the manifest names is missing", noFiles.Bytes()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "r")
			_, err := RestoreSnapshot(bytes.NewReader(tc.data), dir, snapshot.Options{})
			if !errors.Is(err, snapshot.ErrInvalid) {
				t.Fatalf("err %v", err)
			}
			if _, err := vfs.Default.Stat(dir); err == nil {
				t.Fatal("the target stays after a refused restore")
			}
		})
	}
	exists := t.TempDir()
	if _, err := RestoreSnapshot(bytes.NewReader(good), exists, snapshot.Options{}); err == nil {
		t.Fatal("restore into an existing directory accepted")
	}
}
