//go:build linux

package e2e

import (
	"testing"
	"time"
)

// TestBatchSemanticsSurviveKill9: points/batch applies its operations in
// order; with wait=true it stops at the first failure and answers with it
// (the operations before it stay, the ones after it are not applied), with
// wait=false every operation is applied whatever happens to the others, as
// in Qdrant. A batch is one WAL append, so after kill -9 the restarted
// server must rebuild exactly that from the WAL.
func TestBatchSemanticsSurviveKill9(t *testing.T) {
	s := newServer(t)
	s.start()
	s.must("PUT", "/collections/c", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}}, nil)
	want := map[uint64]*pointState{}
	upsert := func(id uint64, keep bool) any {
		p := &pointState{Vector: []float32{float32(id), 1}, Payload: map[string]any{"id": id}}
		if keep {
			want[id] = &pointState{Vector: p.Vector, Payload: canonical(p.Payload)}
		}
		return map[string]any{"upsert": map[string]any{"points": []any{map[string]any{"id": id, "vector": p.Vector, "payload": p.Payload}}}}
	}
	setMissing := func(id uint64) any {
		return map[string]any{"set_payload": map[string]any{"points": []uint64{id}, "payload": map[string]any{"x": 1}}}
	}

	code, msg := s.failure(t, "POST", "/collections/c/points/batch?wait=true", map[string]any{"operations": []any{
		upsert(1, true), upsert(2, true), setMissing(3), upsert(4, false),
	}})
	if code != 404 || msg != "Not found: No point with id 3 found" {
		t.Fatalf("batch with a failing operation: %d %q", code, msg)
	}
	var results []struct {
		OperationID *uint64 `json:"operation_id"`
		Status      string  `json:"status"`
	}
	s.must("POST", "/collections/c/points/batch?wait=false", map[string]any{"operations": []any{
		upsert(10, true), setMissing(11), upsert(12, true),
	}}, &results)
	if len(results) != 3 {
		t.Fatalf("%d results for 3 operations", len(results))
	}
	for i, r := range results {
		if r.Status != "acknowledged" || r.OperationID == nil || (i > 0 && *r.OperationID != *results[i-1].OperationID+1) {
			t.Fatalf("result %d of a batch without wait: %+v", i, r)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for countPoints(t, s, "c") != len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("the batch without wait was not applied: %d points, want %d", countPoints(t, s, "c"), len(want))
		}
		<-tick.C
	}
	checkState(t, s, "c", want)

	s.kill()
	s.start()
	checkState(t, s, "c", want)
	// Operation numbers go on after the batches, never reused.
	var res struct {
		OperationID uint64 `json:"operation_id"`
	}
	s.must("PUT", "/collections/c/points?wait=true", map[string]any{"points": []any{map[string]any{"id": 20, "vector": []float32{1, 1}}}}, &res)
	if last := *results[2].OperationID; res.OperationID <= last {
		t.Fatalf("operation id after the batches: %d, want more than %d", res.OperationID, last)
	}
}
