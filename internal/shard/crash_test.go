package shard

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vector/quant"
	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

// crashOptions make a small workload touch every durable path of a shard:
// WAL segments roll and are dropped after checkpoints, the worker flushes
// every few operations, the optimizer indexes, merges and vacuums sealed
// segments (with an on-disk vector in files of its own, a turbo4 vector in
// a file of its own too, and the inverted indexes of two sparse vectors,
// one of them mapped from its file) and asks for flushes, and no fsync
// happens on a timer. Three multivectors, one quantized, one uint8 on
// disk, one turbo4 under turbo quantization, have graphs of their own, and
// img has turbo quantization codes.
func crashOptions(fsys vfs.FS) Options {
	return Options{
		Vectors: map[string]segment.VectorSpec{
			"":    {Dim: 2, Distance: vector.Dot},
			"img": {Dim: 3, Distance: vector.Euclid, OnDisk: true},
			"mv":  {Dim: 2, Distance: vector.Dot, Multi: true},
			"mvd": {Dim: 3, Distance: vector.Euclid, Datatype: segment.Uint8, OnDisk: true, Multi: true},
			"tq":  {Dim: 5, Distance: vector.Cosine, Datatype: segment.Turbo4, OnDisk: true},
			"mvt": {Dim: 3, Distance: vector.Dot, Datatype: segment.Turbo4, Multi: true},
		},
		Sparse:         map[string]segment.SparseSpec{"sp": {}, "sd": {OnDisk: true}},
		Logger:         quietLogger(),
		WALSegmentSize: 1 << 10,
		CheckpointWAL:  2 << 10,
		FlushInterval:  time.Hour,
		VectorIndex: map[string]segment.IndexParams{
			"":    {M: 4, EfConstruct: 16, IndexingThreshold: 6, Seed: 1},
			"img": {M: 4, EfConstruct: 16, IndexingThreshold: 6, Seed: 1, Quantization: crashTurbo},
			"mv":  {M: 4, EfConstruct: 16, IndexingThreshold: 4, Seed: 1, Quantization: crashQuant},
			"mvd": {M: 4, EfConstruct: 16, IndexingThreshold: 4, Seed: 1},
			"tq":  {M: 4, EfConstruct: 16, IndexingThreshold: 6, Seed: 1},
			"mvt": {M: 4, EfConstruct: 16, IndexingThreshold: 4, Seed: 1, Quantization: crashTurbo},
		},
		Optimizer:    OptimizerParams{DeletedThreshold: 0.1, VacuumMinVectorNumber: 1, DefaultSegmentNumber: 2, SparseIndexingBytes: 48},
		IndexThreads: 1,
		FS:           fsys,
	}
}

var crashQuant = func() *quant.Config {
	cfg, err := quant.ParseConfig([]byte(`{"scalar":{"type":"int8"}}`))
	if err != nil {
		panic(err)
	}
	return cfg
}()

var crashTurbo = func() *quant.Config {
	cfg, err := quant.ParseConfig([]byte(`{"turbo":{"bits":"bits2"}}`))
	if err != nil {
		panic(err)
	}
	return cfg
}()

// crashMulti is a multivector of k sub-vectors of dim elements.
func crashMulti(k, dim int, f float32) []float32 {
	v := make([]float32, 0, k*dim)
	for i := range k * dim {
		v = append(v, f+float32(i%dim)+float32(i/dim))
	}
	return v
}

type crashOp struct {
	op   *ops.Operation
	wait bool
	tag  *ops.ClockTag // sent with UpdateWithClock when set
}

// crashOps is a fixed mix of upserts (some conditional), payload updates,
// deletes, a payload index and named vectors added and dropped (a dense
// one added, dropped and added again in another space; a sparse one
// dropped and added again, so that a replay that met the upserts before
// the drop with the vector added again would bring their values back),
// every one of which applies (so that each answer is about durability
// only); two out of three wait. Most are tagged, on two clocks of each of two
// peers with tokens of their own, and two are forced with a past tick
// (accepted, their clock stays), so that the clocks a reopened shard
// rebuilds can be checked against its state.
func crashOps(t testing.TB) []crashOp {
	var script []crashOp
	ticks := map[ops.ClockKey]uint64{}
	live := map[uint64]bool{}
	dense := func(name string, size uint64, dist string) *ops.Operation {
		return &ops.Operation{Kind: ops.CreateVectorName, Key: name, VectorConfig: &ops.VectorNameConfig{Dense: &ops.DenseVectorConfig{Size: size, Distance: dist}}}
	}
	for k := range 45 {
		var op *ops.Operation
		id := uint64(k*7) % 16
		switch {
		case k == 3:
			op = &ops.Operation{Kind: ops.CreateIndex, Key: "k", Schema: &ops.FieldSchema{Type: ops.IntegerField}}
		case k == 12:
			op = dense("t", 2, "Cosine")
		case k == 20:
			op = &ops.Operation{Kind: ops.DeleteVectorName, Key: "sd"}
		case k == 24:
			op = &ops.Operation{Kind: ops.CreateVectorName, Key: "sd", VectorConfig: &ops.VectorNameConfig{Sparse: &ops.SparseVectorConfig{}}}
		case k == 29:
			op = &ops.Operation{Kind: ops.DeleteVectorName, Key: "t"}
		case k == 36:
			op = dense("t", 3, "Dot")
		case k%9 == 5:
			var del []point.ID
			for d := range live {
				if d%3 == uint64(k)%3 {
					del = append(del, point.NumID(d))
					delete(live, d)
				}
			}
			op = &ops.Operation{Kind: ops.Delete, IDs: del}
		case k%7 == 6:
			// A conditional upsert: the update filter and mode are in the
			// record, and replay decides as the first apply did.
			op = &ops.Operation{Kind: ops.Upsert, UpdateMode: ops.ModeUpdateOnly,
				UpdateFilter: mustFilter(t, fmt.Sprintf(`{"must":[{"key":"k","range":{"lt":%d}}]}`, k-10)),
				Points: []ops.PointStruct{{ID: point.NumID(id), Vectors: point.Vectors{"": {-1, 1}, "img": {1, 1, 1},
					"mv": crashMulti(2, 2, -1), "mvd": crashMulti(1, 3, -1)}, Payload: point.Payload{"k": k, "cond": true}}}}
		case k%5 == 4 && live[id]:
			op = &ops.Operation{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(id)}, Payload: point.Payload{"set": k}}
		case k%11 == 7 && live[id]:
			// A larger multivector than the point had: it takes new room.
			op = &ops.Operation{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(id),
				Vectors: point.Vectors{"mv": crashMulti(5, 2, float32(k))}}}}
		default:
			f := float32(k)
			sp := point.SparseVectors{"sp": {Indices: []uint32{uint32(k % 5), 9}, Values: []float32{f, 1}}}
			if k%2 == 0 && (k < 20 || k > 24) {
				sp["sd"] = point.SparseVector{Indices: []uint32{uint32(k % 3)}, Values: []float32{-f}}
			}
			vecs := point.Vectors{"": {f, 1}, "img": {1, f, 2}, "mv": crashMulti(1+k%3, 2, f), "mvd": crashMulti(1+k%2, 3, f),
				"mvt": crashMulti(1+k%3, 3, -f)}
			if k%4 != 1 {
				vecs["tq"] = vector.Cosine.Preprocess([]float32{f, 1, -2, f / 3, 0.5})
			}
			switch {
			case k > 12 && k < 29:
				vecs["t"] = []float32{f, 2}
			case k > 36:
				vecs["t"] = []float32{1, 2, f}
			}
			op = &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(id),
				Vectors: vecs, Sparse: sp, Payload: point.Payload{"k": k}}}}
			live[id] = true
		}
		o := crashOp{op: op, wait: k%3 != 2}
		if k%4 != 0 {
			key := ops.ClockKey{PeerID: uint64(1 + k%2), ClockID: uint32(k % 3 / 2)}
			ticks[key] += uint64(1 + k%3)
			tag := ops.ClockTag{PeerID: key.PeerID, ClockID: key.ClockID, Tick: ticks[key], Token: key.PeerID*10 + uint64(key.ClockID)}
			if k == 27 || k == 41 {
				tag.Tick, tag.Force = 1, true
				ticks[key]--
			}
			o.tag = &tag
		}
		script = append(script, o)
	}
	return script
}

// crashState is the shard's points and its vectors (schemaKey).
func crashState(sh *Shard) map[string]string {
	m := state(sh)
	dense, sparse := sh.VectorSchema()
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(dense)) {
		fmt.Fprintf(&b, "%q:%d/%s ", n, dense[n].Dim, dense[n].Distance)
	}
	fmt.Fprintf(&b, "sparse %v", slices.Sorted(maps.Keys(sparse)))
	m[schemaKey] = b.String()
	return m
}

// schemaKey holds the vectors in a crashState (no point id looks so).
const schemaKey = "~vectors"

// settle waits for the optimizer to have nothing left to do, so that its
// work lands at the same place in every run; a crashed file system ends
// its work too (a failed optimization is retried only a second later).
func settle(t *testing.T, sh *Shard) {
	testkit.WaitFor(t, "the optimizer to settle", 20*time.Second, func() bool { return idle(sh) })
}

// TestShardCrashPoints runs a workload (writes, flushes, optimizations) on
// an in-memory file system, crashes it at every fsync in turn (power loss:
// what was not fsynced is gone, directory entries included), reopens the
// shard on what survived and checks that it holds exactly the first m
// operations for some m: every operation answered with wait=true is among
// them, and none that was never sent. The reopened shard must take a new
// write and keep it over a clean restart.
func TestShardCrashPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the workload once per fsync")
	}
	const dir = "/data/shard"
	ctx := context.Background()
	script := crashOps(t)

	// want[m] is the state after the first m operations.
	refFS := vfstest.NewMem()
	ref, err := Open(dir, crashOptions(refFS))
	if err != nil {
		t.Fatal(err)
	}
	ref.Start()
	want := []map[string]string{crashState(ref)}
	wantClocks := []ops.RecoveryPoint{ref.RecoveryPoint()}
	for k, o := range script {
		if err := crashSend(ctx, ref, o, true); err != nil {
			t.Fatalf("reference run, operation %d (%s): %v", k, o.op.Kind, err)
		}
		want = append(want, crashState(ref))
		wantClocks = append(wantClocks, ref.RecoveryPoint())
	}
	if len(wantClocks[len(script)]) != 4 {
		t.Fatalf("the workload ends with the clocks %v, want 4", wantClocks[len(script)])
	}
	settle(t, ref)
	if err := ref.Close(); err != nil {
		t.Fatal(err)
	}
	// The workload writes every kind of segment file, sparse indexes and
	// the turbo4 vector's file (the third on-disk vector: .2.vec) too.
	names, err := refFS.ReadDir(filepath.Join(dir, segmentsDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".seg", ".vec", ".spx", ".2.vec"} {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, ext) }) {
			t.Fatalf("the workload leaves no %s file: %v", ext, names)
		}
	}
	// And multivector graphs, with codes for one of them, and turbo codes
	// over a turbo4 multivector and over img.
	ref, err = Open(dir, crashOptions(refFS))
	if err != nil {
		t.Fatal(err)
	}
	ref.View(func(r *Reader) {
		for _, g := range r.h.segs {
			if g.store.HasGraph("mv") && g.store.HasGraph("mvd") && g.store.VectorMemory()["mv"].Quantization != "" {
				return
			}
		}
		t.Error("the workload builds no segment with both multivector graphs and codes")
	})
	ref.View(func(r *Reader) {
		for _, g := range r.h.segs {
			m := g.store.VectorMemory()
			if g.store.HasGraph("mvt") && m["mvt"].Quantization == quant.Turbo && m["img"].Quantization == quant.Turbo {
				return
			}
		}
		t.Error("the workload builds no segment with turbo codes over img and the turbo4 multivector")
	})
	if err := ref.Close(); err != nil {
		t.Fatal(err)
	}

	// run sends the operations until one fails and returns how many it
	// sent (the failed one included: it may have reached the WAL) and how
	// many lead up to the last one acknowledged with wait.
	run := func(fsys *vfstest.FaultFS) (sent, durable int) {
		sh, err := Open(dir, crashOptions(fsys))
		if err != nil {
			return 0, 0
		}
		sh.Start()
		defer sh.Close()
		for k, o := range script {
			if k == 15 || k == 21 || k == 30 {
				settle(t, sh)
			}
			if err := crashSend(ctx, sh, o, o.wait); err != nil {
				return k + 1, durable
			}
			if o.wait {
				durable = k + 1
			}
		}
		settle(t, sh)
		if err := sh.Close(); err != nil {
			return len(script), durable
		}
		return len(script), len(script) // a clean close makes everything durable
	}

	count := vfstest.Wrap(vfstest.NewMem())
	if sent, durable := run(count); sent != len(script) || durable != len(script) {
		t.Fatalf("the workload fails without faults: sent %d, durable %d", sent, durable)
	}
	points := count.Syncs()

	tried, checked, violations, missed := 0, 0, 0, 0
	for k := 0; k <= points; k++ {
		tried++
		mem := vfstest.NewMem()
		fsys := vfstest.Wrap(mem)
		var clone *vfstest.MemFS
		at := "(after the workload)"
		fsys.CrashAtSync(k, func(path string) { clone, at = mem.CrashClone(), path })
		sent, durable := run(fsys)
		if clone == nil {
			// The optimizer runs beside the writes, so runs differ by a
			// few fsyncs: go on until k passes every run's count.
			if n := fsys.Syncs(); n > points {
				points = n
			} else if k < points {
				missed++ // this run made fewer fsyncs than others
			}
			clone = mem.CrashClone()
		}
		fail := func(format string, args ...any) {
			t.Helper()
			violations++
			t.Errorf("crash at fsync %d (%s; %d operations sent, %d durable): %s", k, at, sent, durable, fmt.Sprintf(format, args...))
		}
		sh, err := Open(dir, crashOptions(clone))
		if err != nil {
			fail("reopen: %v", err)
			continue
		}
		sh.Start()
		got := crashState(sh)
		checked++
		m := -1
		for i := durable; i <= sent; i++ {
			if diffStates(want[i], got) == "" {
				m = i
				break
			}
		}
		if m < 0 {
			fail("the state is not that after any of the first %d..%d operations; against %d:%s", durable, sent, durable, diffStates(want[durable], got))
		} else if rp := sh.RecoveryPoint(); !maps.Equal(rp, wantClocks[m]) {
			// States after a forced tag, or before and after a delete
			// of nothing, may look alike: any m with these points and
			// these clocks will do.
			ok := false
			for i := m; i <= sent && !ok; i++ {
				ok = diffStates(want[i], got) == "" && maps.Equal(rp, wantClocks[i])
			}
			if !ok {
				fail("the clocks %v are not those of the state of %d operations, %v", rp, m, wantClocks[m])
			}
		}
		if msg := sparseIndexesAgree(sh); msg != "" {
			fail("%s", msg)
		}
		if msg := multiGraphsAgree(sh); msg != "" {
			fail("%s", msg)
		}
		extra := upsertOp(1000, 5, 5)
		extraTag := ops.ClockTag{PeerID: 9, Tick: 4, Token: 1}
		if res, err := sh.UpdateWithClock(ctx, extra, true, extraTag); err != nil || res.Rejected {
			fail("write after reopen: %+v, %v", res, err)
		}
		rpBefore := sh.RecoveryPoint()
		if err := sh.Close(); err != nil {
			fail("close after reopen: %v", err)
		}
		re, err := Open(dir, crashOptions(clone))
		if err != nil {
			fail("second reopen: %v", err)
			continue
		}
		if _, ok := state(re)["1000"]; !ok {
			fail("the write after reopen is gone")
		}
		if rp := re.RecoveryPoint(); !maps.Equal(rp, rpBefore) || rp[extraTag.Key()] != extraTag.Tick {
			fail("the clocks %v after a clean restart, %v before", rp, rpBefore)
		}
		re.Close()
	}
	t.Logf("shard: up to %d fsyncs a run, %d crash points tried (%d runs ended before their crash point), %d states checked, %d violations",
		points, tried, missed, checked, violations)
}

// crashSend sends o, tagged or not; a rejected tag is an error (the
// workload's ticks are all accepted).
func crashSend(ctx context.Context, sh *Shard, o crashOp, wait bool) error {
	if o.tag == nil {
		_, err := sh.Update(ctx, o.op, wait)
		return err
	}
	res, err := sh.UpdateWithClock(ctx, o.op, wait, *o.tag)
	if err == nil && res.Rejected {
		err = fmt.Errorf("tag %+v rejected: %+v", *o.tag, res.Tag)
	}
	return err
}

// multiGraphsAgree checks that every segment's multivector graph and codes
// (rescored over every point) answer as the exact search does.
func multiGraphsAgree(sh *Shard) string {
	var msg string
	rescore, over := true, 1000.0
	sh.View(func(r *Reader) {
		for _, name := range []string{"mv", "mvd", "mvt"} {
			dim := r.h.specs[name].Dim
			for _, q := range [][]float32{crashMulti(1, dim, 3), crashMulti(3, dim, 10)} {
				p := segment.SearchParams{Vector: name, Query: q, Limit: 1000, HnswEf: 1000,
					Quantization: &quant.SearchParams{Rescore: &rescore, Oversampling: &over}}
				graph, err1 := r.Search(context.Background(), p, nil)
				p.Exact = true
				exact, err2 := r.Search(context.Background(), p, nil)
				if err1 != nil || err2 != nil {
					msg = fmt.Sprintf("multivector search: %v %v", err1, err2)
					return
				}
				if a, b := hitList(graph), hitList(exact); a != b {
					msg = fmt.Sprintf("multivector %q %v: the graphs answer %s, the vectors %s", name, q, a, b)
					return
				}
			}
		}
	})
	return msg
}
