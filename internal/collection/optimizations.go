package collection

import (
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/shard"
)

// OptimizationsRequest picks the optional parts of Optimizations' answer
// (Qdrant's ?with=queued,completed,idle_segments and ?completed_limit=).
type OptimizationsRequest struct {
	Queued         bool
	Completed      bool
	CompletedLimit int
	IdleSegments   bool
}

// OptimizationsResponse is Qdrant's OptimizationsResponse.
type OptimizationsResponse struct {
	Summary      OptimizationsSummary       `json:"summary"`
	Running      []Optimization             `json:"running"`
	Queued       *[]PendingOptimization     `json:"queued,omitempty"`
	Completed    *[]Optimization            `json:"completed,omitempty"`
	IdleSegments *[]OptimizationSegmentInfo `json:"idle_segments,omitempty"`
}

// OptimizationsSummary is Qdrant's OptimizationsSummary.
type OptimizationsSummary struct {
	QueuedOptimizations int `json:"queued_optimizations"`
	QueuedSegments      int `json:"queued_segments"`
	QueuedPoints        int `json:"queued_points"`
	IdleSegments        int `json:"idle_segments"`
}

// Optimization is Qdrant's Optimization: one optimization under way or
// finished, named by the UUID of the segment it builds.
type Optimization struct {
	UUID      string                    `json:"uuid"`
	Optimizer string                    `json:"optimizer"`
	Status    any                       `json:"status"`
	Segments  []OptimizationSegmentInfo `json:"segments"`
	Progress  ProgressTree              `json:"progress"`
}

// PendingOptimization is Qdrant's PendingOptimization.
type PendingOptimization struct {
	Optimizer string                    `json:"optimizer"`
	Segments  []OptimizationSegmentInfo `json:"segments"`
}

// OptimizationSegmentInfo is Qdrant's OptimizationSegmentInfo.
type OptimizationSegmentInfo struct {
	UUID        string `json:"uuid"`
	PointsCount int    `json:"points_count"`
}

// ProgressTree is Qdrant's ProgressTree, here one level deep: the
// optimization, with its units of work (points linked into the graph being
// built) while it runs.
type ProgressTree struct {
	Name        string         `json:"name"`
	StartedAt   *string        `json:"started_at,omitempty"`
	FinishedAt  *string        `json:"finished_at,omitempty"`
	DurationSec *float64       `json:"duration_sec,omitempty"`
	Done        *int64         `json:"done,omitempty"`
	Total       *int64         `json:"total,omitempty"`
	Children    []ProgressTree `json:"children,omitempty"`
}

// Optimizations describes the optimizations of the collection's shards as
// Qdrant's GET /collections/{name}/optimizations does: those running, and
// on request those queued (an estimate), the latest completed (newest
// first, at most req.CompletedLimit) and the idle segments.
func (c *Collection) Optimizations(req OptimizationsRequest) OptimizationsResponse {
	out := OptimizationsResponse{Running: []Optimization{}}
	queued := []PendingOptimization{}
	type finished struct {
		end time.Time
		op  Optimization
	}
	var done []finished
	idle := []OptimizationSegmentInfo{}
	for _, sh := range c.locals() {
		dir := sh.Dir()
		o := sh.Optimizations()
		ref := func(id uint64, points int) OptimizationSegmentInfo {
			return OptimizationSegmentInfo{UUID: segmentUUID(dir, id), PointsCount: points}
		}
		if o.Running != nil {
			op := optimizationOf(dir, o.Running.Tracker)
			d, total := o.Running.Done, o.Running.Total
			op.Progress.Done, op.Progress.Total = &d, &total
			out.Running = append(out.Running, op)
		}
		for _, p := range o.Queued {
			po := PendingOptimization{Optimizer: p.Kind, Segments: []OptimizationSegmentInfo{}}
			for _, g := range p.Segments {
				po.Segments = append(po.Segments, ref(g.ID, g.Points))
				out.Summary.QueuedSegments++
				out.Summary.QueuedPoints += g.Points
			}
			queued = append(queued, po)
		}
		out.Summary.QueuedOptimizations += len(o.Queued)
		out.Summary.IdleSegments += len(o.Idle)
		for _, t := range o.Completed {
			done = append(done, finished{t.End, optimizationOf(dir, t)})
		}
		for _, g := range o.Idle {
			idle = append(idle, ref(g.ID, g.Points))
		}
	}
	if req.Queued {
		out.Queued = &queued
	}
	if req.Completed {
		// Each shard lists its own newest first; merged, the newest of
		// all come first.
		slices.SortStableFunc(done, func(a, b finished) int { return b.end.Compare(a.end) })
		list := []Optimization{}
		for _, f := range done {
			if len(list) >= req.CompletedLimit {
				break
			}
			list = append(list, f.op)
		}
		out.Completed = &list
	}
	if req.IdleSegments {
		out.IdleSegments = &idle
	}
	return out
}

func optimizationOf(dir string, t shard.Tracker) Optimization {
	op := Optimization{UUID: segmentUUID(dir, t.NewSegment), Optimizer: t.Kind, Status: trackerStatus(t), Segments: []OptimizationSegmentInfo{}}
	for i, id := range t.Segments {
		points := 0
		if i < len(t.Points) {
			points = t.Points[i]
		}
		op.Segments = append(op.Segments, OptimizationSegmentInfo{UUID: segmentUUID(dir, id), PointsCount: points})
	}
	started := t.Start.UTC().Format(time.RFC3339Nano)
	op.Progress = ProgressTree{Name: t.Kind, StartedAt: &started}
	if !t.End.IsZero() {
		finished := t.End.UTC().Format(time.RFC3339Nano)
		d := t.End.Sub(t.Start).Seconds()
		op.Progress.FinishedAt, op.Progress.DurationSec = &finished, &d
	}
	return op
}

// trackerStatus is Qdrant's TrackerStatus of an optimization.
func trackerStatus(t shard.Tracker) any {
	switch t.Status {
	case "error":
		return map[string]string{"error": t.Error}
	case "cancelled":
		return map[string]string{"cancelled": "shard closing"}
	}
	return t.Status
}
