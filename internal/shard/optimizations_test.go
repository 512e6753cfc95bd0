package shard

import (
	"fmt"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
)

// TestOptimizationQueue: the queue estimate plans what the optimizer would
// run one after the other: a vacuum first, then merges down to the target
// segment count (counting the planned merges as done), leaving the rest
// idle; a frozen segment (being optimized) is neither queued nor idle.
func TestOptimizationQueue(t *testing.T) {
	specs := map[string]segment.VectorSpec{"": {Dim: 1, Distance: "Dot"}}
	mk := func(id uint64, points, deleted int) *seg {
		st := segment.NewStore(specs)
		for i := range points {
			st.Upsert(point.NumID(id*1000+uint64(i)), 1, point.Vectors{"": {1}}, nil)
		}
		for i := range deleted {
			st.Delete(point.NumID(id*1000 + uint64(i)))
		}
		st.PrepareRead()
		return &seg{id: id, store: st}
	}
	h := &holder{specs: specs, opt: OptimizerParams{DefaultSegmentNumber: 2, DeletedThreshold: 0.2, VacuumMinVectorNumber: 5}}
	h.segs = []*seg{mk(1, 10, 0), mk(2, 20, 0), mk(3, 30, 0), mk(4, 40, 0), mk(5, 50, 20), mk(6, 60, 0)}
	h.segs[5].frozen = true
	queued, idle := h.queue()
	got := fmt.Sprint(queued)
	// Vacuum of 5 (20 of 50 deleted), then of six segments (5 and the
	// frozen 6 taken) a merge of the smallest to reach two: 6-2+1 = 5 wanted,
	// 4 left to take.
	want := "[{vacuum [{5 30}]} {merge [{1 10} {2 20} {3 30} {4 40}]}]"
	if got != want {
		t.Errorf("queued %s, want %s", got, want)
	}
	if len(idle) != 0 {
		t.Errorf("idle %v, want none", idle)
	}
	h.segs[5].frozen = false
	h.opt.DefaultSegmentNumber = 10
	queued, idle = h.queue()
	if fmt.Sprint(queued) != "[{vacuum [{5 30}]}]" || len(idle) != 5 {
		t.Errorf("with room for ten segments: queued %v, idle %v", queued, idle)
	}
}
