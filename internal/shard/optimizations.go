package shard

import "slices"

// SegmentRef is a segment and its live points.
type SegmentRef struct {
	ID     uint64
	Points int
}

// PendingOptimization is an optimization the optimizer would run: its kind
// (Qdrant's optimizer name) and the segments it would rebuild into one.
type PendingOptimization struct {
	Kind     string
	Segments []SegmentRef
}

// RunningOptimization is the optimization under way, with its progress in
// units of work (points linked into the graph being built).
type RunningOptimization struct {
	Tracker
	Done, Total int64
}

// Optimizations is what the optimizer is doing, has done and would do
// next, for Qdrant's GET /collections/{name}/optimizations.
type Optimizations struct {
	Running   *RunningOptimization // nil when idle
	Completed []Tracker            // finished (done, cancelled or failed), newest first
	// Queued is an estimate: the optimizations the planner calls for now,
	// one after the other, each over segments the earlier ones leave.
	Queued []PendingOptimization
	// Idle are the segments no optimization runs on or is queued for.
	Idle []SegmentRef
}

// Optimizations returns the optimizer's state.
func (s *Shard) Optimizations() Optimizations {
	var out Optimizations
	s.mu.RLock()
	out.Queued, out.Idle = s.mu.h.queue()
	s.mu.RUnlock()

	s.track.Lock()
	log := slices.Clone(s.track.log)
	s.track.Unlock()
	pr := s.progress.Load()
	for i := len(log) - 1; i >= 0; i-- {
		t := log[i]
		if t.Status != "optimizing" {
			out.Completed = append(out.Completed, t)
			continue
		}
		if out.Running == nil {
			r := &RunningOptimization{Tracker: t}
			if pr != nil {
				r.Done, r.Total = pr.done.Load(), pr.total.Load()
			}
			out.Running = r
		}
	}
	return out
}

// queue estimates the optimizations due, one after the other, each over
// segments the earlier ones leave (merges planned as if done), and the
// segments none of them takes. The caller holds the shard's lock.
func (h *holder) queue() (queued []PendingOptimization, idle []SegmentRef) {
	taken := map[*seg]bool{}
	count := len(h.segs)
	for range len(h.segs) + 1 {
		j := h.dueAmong(func(g *seg) bool { return g.frozen || taken[g] }, count)
		if j == nil {
			break
		}
		p := PendingOptimization{Kind: j.kind}
		for _, g := range j.segs {
			taken[g] = true
			p.Segments = append(p.Segments, SegmentRef{ID: g.id, Points: g.store.Len()})
		}
		if j.kind == jobMerge {
			count -= len(j.segs) - 1
		}
		queued = append(queued, p)
	}
	for _, g := range h.segs {
		if !g.frozen && !taken[g] {
			idle = append(idle, SegmentRef{ID: g.id, Points: g.store.Len()})
		}
	}
	return queued, idle
}
