//go:build linux

package e2e

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// condPoint is the oracle's view of a point: its revision, tenant and the
// first coordinate of its vector.
type condPoint struct {
	rev    int
	tenant string
	x      float32
}

// TestConditionalUpdatesSurviveKill9 sends random conditional upserts
// (update_mode upsert, insert_only, update_only, with and without an
// update_filter, in the list and batch forms and inside points/batch) and
// filtered vector updates to the real binary, mostly without waiting,
// then kills it with SIGKILL and restarts it on the same storage. Each
// operation is decided when it is applied, against the state it meets, so
// the replay of the WAL must decide every one as the first run did: the
// state before the kill and after the restart must both be the one
// Qdrant's definition gives (an oracle in the test).
func TestConditionalUpdatesSurviveKill9(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 0xc0d))
	s := newServer(t)
	s.start()
	s.must("PUT", "/collections/c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}}, nil)

	model := map[uint64]condPoint{}
	tenants := []string{"a", "b"}
	filterOf := func(tenant string) map[string]any {
		return map[string]any{"must": []any{map[string]any{"key": "tenant", "match": map[string]any{"value": tenant}}}}
	}
	matches := func(id uint64, tenant string) bool {
		p, ok := model[id]
		return ok && (tenant == "" || p.tenant == tenant)
	}
	// upsert draws a conditional upsert body and applies it to the model.
	upsert := func(step int) map[string]any {
		n := 1 + r.IntN(4)
		ids := make([]uint64, n)
		pts := make([]condPoint, n)
		for i := range ids {
			ids[i] = uint64(1 + r.IntN(25))
			pts[i] = condPoint{rev: step*10 + i, tenant: tenants[r.IntN(2)], x: float32(step*10 + i)}
		}
		body := map[string]any{}
		mode := []string{"", "upsert", "insert_only", "update_only"}[r.IntN(4)]
		if mode != "" {
			body["update_mode"] = mode
		}
		tenant := ""
		if r.IntN(3) > 0 {
			tenant = tenants[r.IntN(2)]
			body["update_filter"] = filterOf(tenant)
		}
		leave := map[uint64]bool{}
		for _, id := range ids {
			_, exists := model[id]
			switch mode {
			case "insert_only":
				leave[id] = exists
			case "update_only":
				leave[id] = !exists || !matches(id, tenant)
			default:
				leave[id] = exists && !matches(id, tenant)
			}
		}
		for i, id := range ids {
			if !leave[id] {
				model[id] = pts[i]
			}
		}
		if r.IntN(2) == 0 {
			list := make([]any, n)
			for i, id := range ids {
				list[i] = map[string]any{"id": id, "vector": []float32{pts[i].x, 1}, "payload": map[string]any{"rev": pts[i].rev, "tenant": pts[i].tenant}}
			}
			body["points"] = list
		} else {
			vecs := make([][]float32, n)
			payloads := make([]map[string]any, n)
			for i := range ids {
				vecs[i] = []float32{pts[i].x, 1}
				payloads[i] = map[string]any{"rev": pts[i].rev, "tenant": pts[i].tenant}
			}
			body["batch"] = map[string]any{"ids": ids, "vectors": vecs, "payloads": payloads}
		}
		return body
	}
	// updateVectors draws a filtered vector update of existing points
	// (a missing one would refuse it as a whole).
	updateVectors := func(step int) map[string]any {
		var ids []uint64
		for id := range uint64(26) {
			if _, ok := model[id]; ok && r.IntN(4) == 0 {
				ids = append(ids, id)
			}
		}
		tenant := tenants[r.IntN(2)]
		var list []any
		for _, id := range ids {
			x := float32(-step)
			list = append(list, map[string]any{"id": id, "vector": []float32{x, 1}})
			if matches(id, tenant) {
				p := model[id]
				p.x = x
				model[id] = p
			}
		}
		if len(list) == 0 {
			return nil
		}
		return map[string]any{"points": list, "update_filter": filterOf(tenant)}
	}

	for step := 1; step <= 300; step++ {
		wait := fmt.Sprint(r.IntN(5) == 0)
		switch k := r.IntN(10); {
		case k < 6:
			s.must("PUT", "/collections/c/points?wait="+wait, upsert(step), nil)
		case k < 8:
			if body := updateVectors(step); body != nil {
				s.must("PUT", "/collections/c/points/vectors?wait="+wait, body, nil)
			}
		default:
			ops := []any{map[string]any{"upsert": upsert(step)}}
			if body := updateVectors(step); body != nil {
				ops = append(ops, map[string]any{"update_vectors": body})
			}
			ops = append(ops, map[string]any{"upsert": upsert(step + 1000)})
			s.must("POST", "/collections/c/points/batch?wait="+wait, map[string]any{"operations": ops}, nil)
		}
	}
	// The last operation waits, so every one before it is applied.
	s.must("PUT", "/collections/c/points?wait=true", map[string]any{"points": []any{}}, nil)
	want := map[uint64]*pointState{}
	for id, p := range model {
		want[id] = &pointState{Vector: []float32{p.x, 1}, Payload: canonical(map[string]any{"rev": p.rev, "tenant": p.tenant})}
	}
	checkState(t, s, "c", want)

	s.kill()
	s.start()
	checkState(t, s, "c", want)
}
