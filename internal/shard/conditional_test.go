package shard

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/vector"
	"github.com/shoaldb/shoal/internal/vfs"
)

// condModel is the oracle of TestConditionalUpdatesReplay: each point's
// group g (its payload) and its vector, as Qdrant's conditional_upsert and
// update_vectors_conditional define them.
type condModel map[uint64]struct {
	g   int
	vec float32
}

// apply is Qdrant's semantics written plainly: the points an operation
// leaves alone are chosen against the state before it, then the others
// are written in order.
func (m condModel) apply(op *ops.Operation, g *int) {
	matches := func(id uint64) bool {
		p, ok := m[id]
		return ok && (g == nil || p.g == *g)
	}
	switch op.Kind {
	case ops.Upsert:
		leave := map[uint64]bool{}
		for _, p := range op.Points {
			id := p.ID.Num()
			_, exists := m[id]
			switch op.Mode() {
			case ops.ModeInsertOnly:
				leave[id] = exists
			case ops.ModeUpdateOnly:
				leave[id] = !exists || !matches(id)
			default:
				leave[id] = exists && !matches(id)
			}
		}
		for _, p := range op.Points {
			if id := p.ID.Num(); !leave[id] {
				n, _ := strconv.Atoi(string(p.Payload["g"].(json.Number)))
				m[id] = struct {
					g   int
					vec float32
				}{n, p.Vectors[""][0]}
			}
		}
	case ops.UpdateVectors:
		for _, p := range op.Vectors {
			if _, ok := m[p.ID.Num()]; !ok {
				return // refused as a whole
			}
		}
		leave := map[uint64]bool{}
		for _, p := range op.Vectors {
			leave[p.ID.Num()] = !matches(p.ID.Num())
		}
		for _, p := range op.Vectors {
			if id := p.ID.Num(); !leave[id] {
				e := m[id]
				e.vec = p.Vectors[""][0]
				m[id] = e
			}
		}
	}
}

// dump renders the model as the shard's dump renders its points (every
// write of the workload sets the unnamed vector and a payload {"g": n}).
func (m condModel) check(t *testing.T, got map[string]string, when string) {
	t.Helper()
	if len(got) != len(m) {
		t.Fatalf("%s: %d points, want %d", when, len(got), len(m))
	}
	for id, p := range m {
		line, ok := got[strconv.FormatUint(id, 10)]
		var v uint64
		var pj string
		var vec float32
		if !ok {
			t.Fatalf("%s: point %d missing", when, id)
		}
		if _, err := fmt.Sscanf(line, "v%d %s map[:[%g]]", &v, &pj, &vec); err != nil {
			t.Fatalf("%s: point %d: %q: %v", when, id, line, err)
		}
		if want := fmt.Sprintf(`{"g":%d}`, p.g); pj != want || vec != p.vec {
			t.Fatalf("%s: point %d is %q, want payload %s vector %g", when, id, line, want, p.vec)
		}
	}
}

// TestConditionalUpdatesReplay: random conditional upserts (each update
// mode, with and without an update filter) and filtered vector updates
// over a small id space leave the state Qdrant's definition gives (an
// oracle written in the test), and the same state once the shard is
// rebuilt from its WAL alone (a crash before any flush), from a flush
// plus the WAL tail, and after a clean close. A decision that depended on
// anything but the operation and the state it met would differ on replay.
func TestConditionalUpdatesReplay(t *testing.T) {
	seed := testSeed(t)
	r := newRand(t, seed)
	opts := Options{Vectors: map[string]segment.VectorSpec{"": {Dim: 1, Distance: vector.Dot}}, Logger: quietLogger(), CheckpointWAL: 64 << 10}
	dir := filepath.Join(t.TempDir(), "shard")
	sh := startShard(t, dir, opts)
	model := condModel{}
	ctx := context.Background()
	modes := []ops.UpdateMode{"", ops.ModeUpsert, ops.ModeInsertOnly, ops.ModeUpdateOnly}
	for i := range 600 {
		var g *int
		op := &ops.Operation{}
		if r.IntN(3) > 0 {
			n := r.IntN(3)
			g = &n
			op.UpdateFilter = mustFilter(t, fmt.Sprintf(`{"must":[{"key":"g","match":{"value":%d}}]}`, n))
		}
		if r.IntN(4) == 0 {
			op.Kind = ops.UpdateVectors
			for range 1 + r.IntN(3) {
				op.Vectors = append(op.Vectors, ops.PointVectors{ID: point.NumID(uint64(r.IntN(30))), Vectors: point.Vectors{"": {float32(i)}}})
			}
		} else {
			op.Kind = ops.Upsert
			op.UpdateMode = modes[r.IntN(len(modes))]
			for range 1 + r.IntN(4) {
				op.Points = append(op.Points, ops.PointStruct{ID: point.NumID(uint64(r.IntN(30))), Vectors: point.Vectors{"": {float32(i)}},
					Payload: point.Payload{"g": json.Number(strconv.Itoa(r.IntN(3)))}})
			}
		}
		model.apply(op, g)
		if _, err := sh.Update(ctx, op, r.IntN(4) == 0); err != nil && point.KindOf(err) != point.KindNotFound {
			t.Fatalf("update %d: %v", i, err)
		}
		if i == 299 {
			// A crash image halfway, before the first checkpoint (the
			// WAL has not reached CheckpointWAL): the WAL alone.
			waitApplied(t, sh, 300)
			crashed := filepath.Join(t.TempDir(), "wal-only")
			copyDir(t, dir, crashed)
			// A new shard writes its first manifest at once, covering no
			// operation; one that covers any would mean a flush happened.
			if m, err := readManifest(vfs.Default, crashed); err == nil && m.Applied > 0 {
				t.Fatalf("the shard flushed %d operations before the crash image: the replay would not start from an empty shard", m.Applied)
			}
			re := startShard(t, crashed, opts)
			model.check(t, state(re), "replay of the WAL alone")
			re.Close()
		}
	}
	waitApplied(t, sh, 600)
	model.check(t, state(sh), "live")
	crashed := filepath.Join(t.TempDir(), "crashed")
	copyDir(t, dir, crashed)
	re := startShard(t, crashed, opts)
	model.check(t, state(re), "flush plus WAL tail after a crash")
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	sh = startShard(t, dir, opts)
	model.check(t, state(sh), "reopen after close")
}
