//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	crashCollection = "crash"
	crashDim        = 8
)

// crashCollectionConfig uses a 1 MB WAL so that the writes of one test roll
// over WAL segments and write checkpoints, and a kill can hit either.
var crashCollectionConfig = map[string]any{
	"vectors":    map[string]any{"size": crashDim, "distance": "Dot"},
	"wal_config": map[string]any{"wal_capacity_mb": 1},
}

// TestKill9KeepsAcknowledgedWrites kills the server with SIGKILL while
// several clients write, restarts it on the same storage, and checks that
// every acknowledged write is there. Each writer owns a disjoint set of
// point ids and sends one operation at a time, so the state of its points is
// exactly what its acknowledged operations made, except for the one
// operation it had in flight at the kill, which may or may not be applied.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))

	s := newServer(t)
	s.env["QDRANT__LOG_LEVEL"] = "debug" // checkpoints are logged at debug
	s.start()
	s.must("PUT", "/collections/"+crashCollection, crashCollectionConfig, nil)

	nWriters := 2 + rng.IntN(3) // 2 to 4
	const idsPerWriter = 100
	writers := make([]*writer, nWriters)
	owner := map[uint64]int{}
	for i := range writers {
		w := &writer{id: i, rng: rand.New(rand.NewPCG(uint64(seed), uint64(i+1))), acked: map[uint64]*pointState{}}
		for j := range idsPerWriter {
			id := uint64(i + nWriters*j)
			w.ids = append(w.ids, id)
			owner[id] = i
		}
		writers[i] = w
	}
	t.Logf("%d writers, %d point ids each", nWriters, idsPerWriter)

	const cycles = 3
	for cycle := 1; cycle <= cycles; cycle++ {
		killAfter := 1500 + rng.IntN(4000) // acknowledged operations in this cycle
		acked, inflight := runUntilKill(t, s, writers, killAfter)
		t.Logf("cycle %d: SIGKILL after %d acknowledged operations, %d in flight, %d checkpoints written",
			cycle, acked, inflight, len(s.logLines("checkpoint written")))
		if t.Failed() {
			return
		}

		s.start()
		got := scrollAll(t, s, crashCollection)
		for id, p := range got {
			if _, ok := owner[id]; !ok {
				t.Errorf("cycle %d: point %d exists but was never written: %v", cycle, id, p)
			}
		}
		applied := 0
		for _, w := range writers {
			applied += w.verify(t, cycle, got)
		}
		t.Logf("cycle %d: restarted, %d points, %d of %d in-flight operations visibly applied", cycle, len(got), applied, inflight)
		if n := countPoints(t, s, crashCollection); n != len(got) {
			t.Errorf("cycle %d: count says %d points, scroll returned %d", cycle, n, len(got))
		}
		if t.Failed() {
			return
		}
	}
}

// runUntilKill runs the writers until killAfter operations were
// acknowledged, then kills the server while they keep writing. It returns
// the number of acknowledged operations and of operations in flight.
func runUntilKill(t *testing.T, s *server, writers []*writer, killAfter int) (int64, int) {
	t.Helper()
	var acked atomic.Int64
	var killed atomic.Bool
	reached := make(chan struct{})
	var reachedOnce sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				op := w.next()
				w.pending = &op
				err := s.call(ctx, op.method, op.path, op.body, nil)
				if err != nil {
					if !killed.Load() {
						t.Errorf("writer %d: %s (before the kill): %v", w.id, op.name, err)
						reachedOnce.Do(func() { close(reached) })
					}
					return
				}
				op.apply(w.acked)
				w.pending = nil
				if acked.Add(1) >= int64(killAfter) {
					reachedOnce.Do(func() { close(reached) })
				}
			}
		}()
	}

	select {
	case <-reached:
	case <-time.After(2 * time.Minute):
		t.Errorf("only %d operations acknowledged in 2 minutes", acked.Load())
	}
	killed.Store(true)
	s.kill()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cancel()
		<-done
		t.Errorf("writers did not notice the kill within a minute")
	}
	inflight := 0
	for _, w := range writers {
		if w.pending != nil {
			inflight++
		}
	}
	return acked.Load(), inflight
}

// writeOp is one write request and its effect on the writer's model.
type writeOp struct {
	name   string
	method string
	path   string
	body   any
	apply  func(m map[uint64]*pointState)
}

// writer sends random operations on the point ids it owns and models their
// effect. Only its own goroutine touches it while it runs.
type writer struct {
	id      int
	ids     []uint64
	rng     *rand.Rand
	acked   map[uint64]*pointState // state after every acknowledged operation
	pending *writeOp               // sent and not acknowledged
}

// verify checks the writer's points against the model and adopts what the
// server holds as the new model. It returns 1 if the operation in flight at
// the kill is visibly applied.
func (w *writer) verify(t *testing.T, cycle int, got map[uint64]*pointState) int {
	t.Helper()
	withPending := w.acked
	if w.pending != nil {
		withPending = map[uint64]*pointState{}
		for id, p := range w.acked {
			withPending[id] = p.clone()
		}
		w.pending.apply(withPending)
	}
	applied := 0
	bad := 0
	for _, id := range w.ids {
		g, a, b := got[id], w.acked[id], withPending[id]
		switch {
		case samePoint(g, a):
		case samePoint(g, b):
			applied = 1
		default:
			bad++
			if bad <= 5 {
				t.Errorf("cycle %d, writer %d: point %d is %v; acknowledged state %v", cycle, w.id, id, g, a)
				if w.pending != nil {
					t.Errorf("    or, with the unacknowledged %s applied, %v", w.pending.name, b)
				}
			}
		}
	}
	if bad > 5 {
		t.Errorf("cycle %d, writer %d: %d points differ from the acknowledged writes", cycle, w.id, bad)
	}
	w.acked = map[uint64]*pointState{}
	for _, id := range w.ids {
		if p := got[id]; p != nil {
			w.acked[id] = p.clone()
		}
	}
	w.pending = nil
	return applied
}

func (w *writer) existing() []uint64 {
	ids := make([]uint64, 0, len(w.acked))
	for id := range w.acked {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// pick returns up to n distinct ids of from, in random order.
func (w *writer) pick(from []uint64, n int) []uint64 {
	out := slices.Clone(from)
	w.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(n, len(out))]
}

func (w *writer) vector() []float32 {
	v := make([]float32, crashDim)
	for i := range v {
		v[i] = w.rng.Float32()*2 - 1
	}
	return v
}

// payload always carries the writer id "w" and an integer "n" in [0, 100),
// which the filtered operations select on.
func (w *writer) payload() map[string]any {
	p := map[string]any{"w": w.id, "n": w.rng.IntN(100)}
	if w.rng.IntN(2) == 0 {
		p["s"] = fmt.Sprintf("s-%d-é☃", w.rng.IntN(1_000_000))
	}
	if w.rng.IntN(3) == 0 {
		p["tags"] = []any{"red", w.rng.IntN(5), true}
	}
	if w.rng.IntN(3) == 0 {
		p["obj"] = map[string]any{"x": w.rng.IntN(10), "y": w.rng.IntN(2) == 0, "z": nil, "in": map[string]any{"deep": "yes"}}
	}
	if w.rng.IntN(4) == 0 {
		p["f"] = float64(w.rng.IntN(400)) / 8
	}
	return p
}

// filter selects the writer's points whose "n" is in [lo, lo+span).
func (w *writer) filter() (map[string]any, func(*pointState) bool) {
	lo, span := w.rng.IntN(100), 5+w.rng.IntN(20)
	f := map[string]any{"must": []any{
		map[string]any{"key": "w", "match": map[string]any{"value": w.id}},
		map[string]any{"key": "n", "range": map[string]any{"gte": lo, "lt": lo + span}},
	}}
	match := func(p *pointState) bool {
		wv, ok := p.Payload["w"].(json.Number)
		if !ok || wv.String() != fmt.Sprint(w.id) {
			return false
		}
		nv, ok := p.Payload["n"].(json.Number)
		if !ok {
			return false
		}
		n, err := nv.Float64()
		return err == nil && n >= float64(lo) && n < float64(lo+span)
	}
	return f, match
}

// next draws the writer's next operation.
func (w *writer) next() writeOp {
	existing := w.existing()
	wait := w.rng.IntN(100) >= 15 // wait=false is acknowledged too: it survives kill -9
	path := func(suffix string) string {
		return fmt.Sprintf("/collections/%s/points%s?wait=%t", crashCollection, suffix, wait)
	}
	name := func(s string) string { return fmt.Sprintf("%s (wait=%t)", s, wait) }
	r := w.rng.IntN(100)
	if len(existing) == 0 {
		r = 0
	}
	switch {
	case r < 30: // upsert, list of points
		ids := w.pick(w.ids, 1+w.rng.IntN(16))
		points := make([]any, len(ids))
		states := make([]*pointState, len(ids))
		for i, id := range ids {
			st := &pointState{Vector: w.vector()}
			pt := map[string]any{"id": id, "vector": st.Vector}
			if w.rng.IntN(5) > 0 {
				st.Payload = w.payload()
				pt["payload"] = st.Payload
			}
			st.Payload = canonical(st.Payload)
			points[i], states[i] = pt, st
		}
		return writeOp{name("upsert points"), "PUT", path(""), map[string]any{"points": points}, func(m map[uint64]*pointState) {
			for i, id := range ids {
				m[id] = states[i].clone()
			}
		}}
	case r < 40: // upsert, batch of columns
		ids := w.pick(w.ids, 1+w.rng.IntN(16))
		vectors := make([][]float32, len(ids))
		payloads := make([]map[string]any, len(ids))
		for i := range ids {
			vectors[i], payloads[i] = w.vector(), w.payload()
		}
		body := map[string]any{"batch": map[string]any{"ids": ids, "vectors": vectors, "payloads": payloads}}
		return writeOp{name("upsert batch"), "PUT", path(""), body, func(m map[uint64]*pointState) {
			for i, id := range ids {
				m[id] = &pointState{Vector: slices.Clone(vectors[i]), Payload: canonical(payloads[i])}
			}
		}}
	case r < 50: // set payload by ids
		ids := w.pick(existing, 1+w.rng.IntN(8))
		set := map[string]any{"n": w.rng.IntN(100), "extra": fmt.Sprintf("e%d", w.rng.IntN(1000))}
		if w.rng.IntN(3) == 0 {
			set["obj"] = map[string]any{"replaced": true}
		}
		return writeOp{name("set_payload ids"), "POST", path("/payload"), map[string]any{"points": ids, "payload": set}, func(m map[uint64]*pointState) {
			for _, id := range ids {
				if p := m[id]; p != nil {
					merge(p, set)
				}
			}
		}}
	case r < 56: // set payload by filter
		f, match := w.filter()
		set := map[string]any{"m": w.rng.IntN(1000)}
		return writeOp{name("set_payload filter"), "POST", path("/payload"), map[string]any{"filter": f, "payload": set}, func(m map[uint64]*pointState) {
			for _, p := range m {
				if match(p) {
					merge(p, set)
				}
			}
		}}
	case r < 62: // overwrite payload by ids
		ids := w.pick(existing, 1+w.rng.IntN(8))
		payload := w.payload()
		return writeOp{name("overwrite_payload"), "PUT", path("/payload"), map[string]any{"points": ids, "payload": payload}, func(m map[uint64]*pointState) {
			for _, id := range ids {
				if p := m[id]; p != nil {
					p.Payload = canonical(payload)
				}
			}
		}}
	case r < 68: // delete payload keys
		ids := w.pick(existing, 1+w.rng.IntN(8))
		keys := []string{"s", "tags", "obj", "f", "extra", "m", "n"}
		keys = keys[:1+w.rng.IntN(len(keys))]
		keys = w.pickStrings(keys, 1+w.rng.IntN(3))
		return writeOp{name("delete_payload"), "POST", path("/payload/delete"), map[string]any{"points": ids, "keys": keys}, func(m map[uint64]*pointState) {
			for _, id := range ids {
				if p := m[id]; p != nil {
					for _, k := range keys {
						delete(p.Payload, k)
					}
				}
			}
		}}
	case r < 72: // clear payload
		ids := w.pick(existing, 1+w.rng.IntN(4))
		return writeOp{name("clear_payload"), "POST", path("/payload/clear"), map[string]any{"points": ids}, func(m map[uint64]*pointState) {
			for _, id := range ids {
				if p := m[id]; p != nil {
					p.Payload = map[string]any{}
				}
			}
		}}
	case r < 82: // update vectors
		ids := w.pick(existing, 1+w.rng.IntN(8))
		vectors := make([][]float32, len(ids))
		points := make([]any, len(ids))
		for i, id := range ids {
			vectors[i] = w.vector()
			points[i] = map[string]any{"id": id, "vector": vectors[i]}
		}
		return writeOp{name("update_vectors"), "PUT", path("/vectors"), map[string]any{"points": points}, func(m map[uint64]*pointState) {
			for i, id := range ids {
				if p := m[id]; p != nil {
					p.Vector = slices.Clone(vectors[i])
				}
			}
		}}
	case r < 94: // delete by ids, absent ones included
		ids := w.pick(w.ids, 1+w.rng.IntN(10))
		return writeOp{name("delete ids"), "POST", path("/delete"), map[string]any{"points": ids}, func(m map[uint64]*pointState) {
			for _, id := range ids {
				delete(m, id)
			}
		}}
	default: // delete by filter
		f, match := w.filter()
		return writeOp{name("delete filter"), "POST", path("/delete"), map[string]any{"filter": f}, func(m map[uint64]*pointState) {
			for id, p := range m {
				if match(p) {
					delete(m, id)
				}
			}
		}}
	}
}

func (w *writer) pickStrings(from []string, n int) []string {
	out := slices.Clone(from)
	w.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(n, len(out))]
}

// merge is set_payload: top-level keys are replaced, others kept.
func merge(p *pointState, set map[string]any) {
	if p.Payload == nil {
		p.Payload = map[string]any{}
	}
	for k, v := range canonical(set) {
		p.Payload[k] = v
	}
}

// TestTornWALTail kills the server, appends junk to the newest WAL segment
// (what a crash in the middle of a write can leave behind) and checks that
// the server starts, warns, keeps every acknowledged point, and goes on
// working on the repaired log.
func TestTornWALTail(t *testing.T) {
	for _, tc := range []struct {
		name string
		junk func(r *rand.Rand) []byte
	}{
		{"garbage", func(r *rand.Rand) []byte {
			b := make([]byte, 1+r.IntN(300))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			return b
		}},
		{"zeros", func(r *rand.Rand) []byte { return make([]byte, 4096) }},
		{"half record", func(r *rand.Rand) []byte {
			// A plausible record header (length 200) with only part of its data.
			b := make([]byte, 16+50)
			b[4] = 200
			for i := 16; i < len(b); i++ {
				b[i] = byte(r.IntN(256))
			}
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := testSeed(t)
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			s := newServer(t)
			s.start()
			s.must("PUT", "/collections/"+crashCollection, crashCollectionConfig, nil)
			w := &writer{id: 0, rng: rng, acked: map[uint64]*pointState{}}
			for id := range 200 {
				w.ids = append(w.ids, uint64(id))
			}
			write := func(n int) {
				for range n {
					op := w.next()
					op.path = strings.Replace(op.path, "wait=false", "wait=true", 1)
					s.must(op.method, op.path, op.body, nil)
					op.apply(w.acked)
				}
			}
			write(150)
			s.kill()

			seg := newestWALSegment(t, s.storage, crashCollection)
			junk := tc.junk(rng)
			f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(junk); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			t.Logf("appended %d junk bytes to %s", len(junk), seg)

			s.start()
			if warns := s.logLines("level=WARN", "wal"); len(warns) == 0 {
				t.Errorf("no WAL warning logged after the torn tail; log:\n%s", s.lastStartLog())
			} else {
				t.Logf("warning: %s", warns[0])
			}
			checkState(t, s, crashCollection, w.acked)

			// The repaired log takes new writes, and they survive another kill.
			write(50)
			s.kill()
			s.start()
			checkState(t, s, crashCollection, w.acked)
		})
	}
}

// newestWALSegment is the last WAL segment file of shard 0 of a collection.
func newestWALSegment(t *testing.T, storage, collection string) string {
	t.Helper()
	dir := filepath.Join(storage, "collections", collection, "shards", "0", "wal")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read WAL dir: %v", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".wal") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("no WAL segment in %s", dir)
	}
	sort.Strings(names)
	return filepath.Join(dir, names[len(names)-1])
}

// TestWALDamageInsideLog flips one byte in the middle of the newest WAL
// segment, with acknowledged (fsynced) records after it: no crash leaves
// that behind, so the server must either refuse to start or keep every
// acknowledged write, never drop the records after the damage as a "torn
// tail".
func TestWALDamageInsideLog(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	s := newServer(t)
	s.start()
	s.must("PUT", "/collections/"+crashCollection, crashCollectionConfig, nil)
	w := &writer{id: 0, rng: rand.New(rand.NewPCG(uint64(seed), 9)), acked: map[uint64]*pointState{}}
	for id := range 200 {
		w.ids = append(w.ids, uint64(id))
	}
	for range 150 {
		op := w.next()
		op.path = strings.Replace(op.path, "wait=false", "wait=true", 1)
		s.must(op.method, op.path, op.body, nil)
		op.apply(w.acked)
	}
	s.kill()

	seg := newestWALSegment(t, s.storage, crashCollection)
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(seg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.tryStart(); err != nil {
		t.Logf("the server refused to start, as it may: %v", err)
		return
	}
	checkState(t, s, crashCollection, w.acked)
}

// testSeed is a fixed seed, or SHOAL_TEST_SEED when set; tests log it.
func testSeed(t *testing.T) int64 {
	t.Helper()
	if v := os.Getenv("SHOAL_TEST_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("SHOAL_TEST_SEED: %v", err)
		}
		return n
	}
	return 20261125
}
