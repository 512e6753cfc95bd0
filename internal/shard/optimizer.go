package shard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// OptimizerParams are the collection's optimizers_config as the shard
// uses them.
type OptimizerParams struct {
	// DeletedThreshold and VacuumMinVectorNumber: a sealed segment whose
	// deleted share passes the threshold, with at least that many deleted
	// points, is rebuilt without them (vacuum).
	DeletedThreshold      float64
	VacuumMinVectorNumber int
	// DefaultSegmentNumber is the number of segments the merge optimizer
	// aims at (0: one per CPU); MaxSegmentBytes bounds a merged segment
	// (0: Qdrant's automatic size, 256 MB of vectors per CPU).
	DefaultSegmentNumber int
	MaxSegmentBytes      int64
	// Disabled stops all optimizations (max_optimization_threads: 0).
	Disabled bool
	// SparseIndexingBytes: an appendable segment whose sparse vectors
	// take this many bytes (8 per entry: an index and a value) is sealed
	// with inverted indexes (Qdrant's indexing_threshold_kb); 0 never.
	SparseIndexingBytes int64
	// DeferFrom (Qdrant's prevent_unoptimized): appendable segments made
	// or loaded while it is set defer their points past the first
	// DeferFrom (deferred.go), the indexing optimizer seals any segment
	// holding deferred points, and an update sent with wait returns once
	// none is left. 0: off.
	DeferFrom int
}

func (p OptimizerParams) target() int {
	if p.DefaultSegmentNumber > 0 {
		return p.DefaultSegmentNumber
	}
	return max(runtime.GOMAXPROCS(0), 1)
}

func (p OptimizerParams) maxBytes() int64 {
	if p.MaxSegmentBytes > 0 {
		return p.MaxSegmentBytes
	}
	return int64(max(runtime.GOMAXPROCS(0), 1)) * 256_000 * 1024
}

// errSchemaChanged ends an optimization whose segments gained or lost a
// vector while it built the new one; it is not a failure.
var errSchemaChanged = errors.New("the vectors changed during the optimization")

// Job kinds, as Qdrant names its optimizers.
const (
	jobIndexing = "indexing"
	jobMerge    = "merge"
	jobVacuum   = "vacuum"
	jobConfig   = "config_mismatch"
)

// job rebuilds segs into one new sealed segment.
type job struct {
	kind  string
	segs  []*seg
	newID uint64
	file  uint64
}

// pointBytes is the float32 size of one point's vectors.
func (h *holder) pointBytes() int64 {
	var n int64
	for _, sp := range h.specs {
		n += int64(sp.Dim) * 4
	}
	return n
}

// plan picks the next optimization, or nil: vacuum first, then indexing
// (and rebuilding graphs whose HNSW settings changed), then merging. After
// a failure nothing is planned until the retry time. It reads sizes only,
// so the caller may hold either lock.
func (h *holder) plan(now time.Time) *job {
	if h.opt.Disabled || now.Before(h.retryAt) {
		return nil
	}
	return h.due()
}

// due is the optimization the segments call for, whether or not the
// optimizer may run.
func (h *holder) due() *job {
	return h.dueAmong(func(g *seg) bool { return g.frozen }, len(h.segs))
}

// dueAmong is due over the segments skip leaves, for a shard of count
// segments (the queue estimate plans merges as if the planned ones were
// done).
func (h *holder) dueAmong(skip func(*seg) bool, count int) *job {
	p := h.opt
	for _, g := range h.segs {
		if skip(g) || g.appendable {
			continue
		}
		del := g.store.Deleted()
		if del > 0 && del >= p.VacuumMinVectorNumber && float64(del) > p.DeletedThreshold*float64(g.store.Slots()) {
			return &job{kind: jobVacuum, segs: []*seg{g}}
		}
	}
	for _, g := range h.segs {
		if skip(g) {
			continue
		}
		if g.appendable && g.store.DeferredCount() > 0 {
			// Only an optimization shows deferred points, however few
			// vectors the segment has left (Qdrant makes an HNSW segment
			// of it).
			return &job{kind: jobIndexing, segs: []*seg{g}}
		}
		if j := h.sparseJob(g); j != nil {
			return j
		}
		if !g.appendable && h.placementMismatch(g) {
			return &job{kind: jobConfig, segs: []*seg{g}}
		}
		for name, ip := range h.vindex {
			// A multivector counts its sub-vectors towards the
			// threshold, so its segment may hold fewer points.
			if ip.IndexingThreshold <= 0 || !h.specs[name].Multi && g.store.Len() < ip.IndexingThreshold {
				continue
			}
			built, matches := g.store.GraphMatches(name, ip)
			switch {
			case built && !matches:
				return &job{kind: jobConfig, segs: []*seg{g}}
			case !built && g.store.IndexUnits(name) >= ip.IndexingThreshold:
				return &job{kind: jobIndexing, segs: []*seg{g}}
			}
		}
	}
	if count <= p.target() {
		return nil
	}
	var cands []*seg
	for _, g := range h.segs {
		if !skip(g) && !g.appendable {
			cands = append(cands, g)
		}
	}
	slices.SortFunc(cands, func(a, b *seg) int { return a.store.Len() - b.store.Len() })
	want := count - p.target() + 1
	var picked []*seg
	var size int64
	for _, g := range cands {
		b := int64(g.store.Len()) * h.pointBytes()
		if len(picked) == want || (len(picked) > 0 && size+b > p.maxBytes()) {
			break
		}
		picked = append(picked, g)
		size += b
	}
	if len(picked) < 2 {
		return nil
	}
	return &job{kind: jobMerge, segs: picked}
}

// placementMismatch reports whether a sealed segment keeps a dense vector
// on the heap that the settings place in a mapped file, or the other way
// round (on_disk or memory changed).
func (h *holder) placementMismatch(g *seg) bool {
	for name, sp := range h.specs {
		if g.store.External(name) != sp.OnDisk {
			return true
		}
	}
	return false
}

// sparseJob is the optimization g's sparse vectors call for: indexing an
// appendable segment past the sparse threshold, or a sealed one without an
// index (written before it had sparse vectors); rebuilding indexes built
// with other settings.
func (h *holder) sparseJob(g *seg) *job {
	if g.appendable {
		if t := h.opt.SparseIndexingBytes; t > 0 && int64(g.store.SparseEntries())*8 >= t {
			return &job{kind: jobIndexing, segs: []*seg{g}}
		}
		return nil
	}
	for name := range h.sparse {
		built, matches := g.store.SparseIndexMatches(name)
		switch {
		case built && !matches:
			return &job{kind: jobConfig, segs: []*seg{g}}
		case !built && g.store.SparseCount(name) > 0:
			return &job{kind: jobIndexing, segs: []*seg{g}}
		}
	}
	return nil
}

// progress is what the optimizer is doing, for logs, info and telemetry.
type progress struct {
	kind        string
	segments    int
	points      int
	done, total atomic.Int64
	started     time.Time
}

// OptimizerStatus describes the running optimization, if any.
type OptimizerStatus struct {
	Completed int64 // optimizations finished since the shard opened
	// Pending: an optimization is due (it starts shortly unless the
	// optimizer is disabled, or waits for RetryAt after an Error).
	Pending  bool
	Disabled bool
	// Error is the last failure, until an optimization succeeds or the
	// settings change. Failed optimizations are retried: Retries
	// consecutive ones so far, the next at RetryAt (one second after the
	// first failure, doubling, at most a minute apart).
	Error           string
	Retries         int
	RetryAt         time.Time
	Failed          int64
	OptimizedPoints int64     // points written into optimized segments since the shard opened
	Log             []Tracker // the latest optimizations, oldest first
	Running         bool
	Kind            string
	Segments        int
	Points          int
	Done, Total     int64
	RunningSeconds  float64
}

// Optimizer returns what the optimizer is doing.
func (s *Shard) Optimizer() OptimizerStatus {
	s.mu.RLock()
	h := s.mu.h
	st := OptimizerStatus{Completed: s.completed.Load(), Failed: s.failed.Load(), OptimizedPoints: s.optimizedPoints.Load(), Disabled: h.opt.Disabled,
		Error: h.failure, Retries: h.failures, RetryAt: h.retryAt}
	st.Pending = h.due() != nil
	s.mu.RUnlock()
	s.track.Lock()
	st.Log = slices.Clone(s.track.log)
	s.track.Unlock()
	if p := s.progress.Load(); p != nil {
		st.Running, st.Kind, st.Segments, st.Points = true, p.kind, p.segments, p.points
		st.Done, st.Total, st.RunningSeconds = p.done.Load(), p.total.Load(), time.Since(p.started).Seconds()
	}
	return st
}

// Optimizing reports whether an optimization is running.
func (s *Shard) Optimizing() bool { return s.progress.Load() != nil }

// optimize runs optimizations one at a time until Close. Each one copies
// its segments under the shared lock, builds the new segment (payload
// indexes, HNSW graphs) holding no lock, writes its file, then swaps it in
// under the write lock and asks the update worker for a flush, so that a
// restart finds it built.
func (s *Shard) optimize() {
	defer close(s.optStopped)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stopOpt
		cancel()
	}()
	for {
		select {
		case <-s.stopOpt:
			return
		case <-s.kick:
		case <-tick.C:
		}
		for ctx.Err() == nil {
			// Plan under the shared lock (updates go on), then again
			// under the write lock to freeze what is chosen.
			s.mu.RLock()
			j := s.mu.h.plan(s.seams.now())
			s.mu.RUnlock()
			if j == nil {
				break
			}
			s.mu.Lock()
			j = s.mu.h.plan(s.seams.now())
			if j != nil {
				for _, g := range j.segs {
					g.frozen = true
				}
				s.mu.h.nextID++
				s.mu.h.nextFile++
				j.newID, j.file = s.mu.h.nextID, s.mu.h.nextFile
				// Busy from the moment segments are frozen.
				pr := &progress{kind: j.kind, segments: len(j.segs), started: time.Now()}
				for _, g := range j.segs {
					pr.points += g.store.Len()
				}
				s.progress.Store(pr)
			}
			s.mu.Unlock()
			if j == nil {
				break
			}
			s.trackStart(j)
			err := s.runJob(ctx, j)
			s.progress.Store(nil)
			s.trackEnd(err)
			if err != nil {
				failed := !errors.Is(err, context.Canceled) && !errors.Is(err, errSchemaChanged)
				s.mu.Lock()
				for _, g := range j.segs {
					g.frozen = false
				}
				var wait time.Duration
				var attempt int
				if failed {
					// A full disk, most likely: retry once space may be
					// back, backing off, rather than hammer the disk or
					// wait for new settings.
					h := s.mu.h
					h.failures++
					attempt, wait = h.failures, backoff(h.failures)
					h.retryAt = s.seams.now().Add(wait)
					h.failure = fmt.Sprintf("%s optimization failed: %v", j.kind, err)
				}
				s.mu.Unlock()
				if failed {
					// A failed fsync of the new segment's files stops
					// the shard's writes like any other (broken.go).
					s.noteFailure(err)
					s.log.Error("optimization failed; retrying later",
						"dir", s.dir, "optimizer", j.kind, "err", err, "attempt", attempt, "retry_in", wait)
				}
				if errors.Is(err, errSchemaChanged) {
					s.log.Info("optimization dropped: the vectors changed meanwhile", "dir", s.dir, "optimizer", j.kind)
					s.wake()
				}
				break
			}
			s.mu.Lock()
			s.mu.h.clearFailure()
			s.mu.Unlock()
		}
	}
}

func (s *Shard) runJob(ctx context.Context, j *job) error {
	start := s.progress.Load().started
	s.mu.RLock()
	applied := s.mu.applied
	marks := make([]int, len(j.segs))
	t := s.mu.h.emptyStore()
	ids := make([]uint64, len(j.segs))
	for i, g := range j.segs {
		marks[i] = g.store.DeleteMark()
		g.store.CopyLive(t)
		ids[i] = g.id
	}
	schemas := j.segs[0].store.IndexSchemas()
	vindex := maps.Clone(s.mu.h.vindex)
	specs := maps.Clone(s.mu.h.specs)
	epoch := s.mu.h.schemaEpoch
	s.mu.RUnlock()

	pr := s.progress.Load()
	s.log.Info("optimization started", "dir", s.dir, "optimizer", j.kind, "segments", ids, "points", t.Len())
	for k, raw := range schemas {
		if err := t.CreateIndex(k, raw); err != nil {
			return fmt.Errorf("build payload index %q: %w", k, err)
		}
	}
	for name, p := range vindex {
		t.SetIndexParams(name, p)
	}
	for {
		b := t.PrepareGraphBuild()
		if b == nil {
			break
		}
		pr.done.Store(0)
		pr.total.Store(int64(b.Work()))
		g, err := b.Run(ctx, s.opts.IndexThreads, func(done, total int) {
			pr.done.Store(int64(done))
			if done%20000 == 0 && done > 0 {
				s.log.Info("HNSW index build progress", "dir", s.dir, "vector", b.Name(), "done", done, "total", total)
			}
		})
		t.InstallGraph(b, g)
		if err != nil {
			return err
		}
		pr.done.Store(int64(b.Work()))
	}
	t.BuildSparseIndexes()
	t.PrepareRead()
	if err := ctx.Err(); err != nil {
		return err
	}
	wf := writeFunc(s.seams.writeFile)
	vecFiles, err := writeVectorFiles(s.fs, wf, s.dir, j.newID, j.file, t, specs)
	if err != nil {
		return err
	}
	sparseFiles, err := writeSparseFiles(s.fs, wf, s.dir, j.newID, j.file, t)
	if err != nil {
		removeSegmentFiles(s.fs, s.dir, slices.Collect(maps.Values(vecFiles)))
		return err
	}
	file, err := writeSegmentFile(wf, s.dir, j.newID, j.file, t, applied)
	if err != nil {
		removeSegmentFiles(s.fs, s.dir, slices.Collect(maps.Values(vecFiles)))
		removeSegmentFiles(s.fs, s.dir, slices.Collect(maps.Values(sparseFiles)))
		return err
	}

	s.mu.Lock()
	h := s.mu.h
	if h.schemaEpoch != epoch {
		// A vector was added or dropped since the copy: the new segment
		// has the old vectors. It is dropped, and the optimizer plans
		// again with the new ones.
		s.mu.Unlock()
		removeSegmentFiles(s.fs, s.dir, append(slices.Collect(maps.Values(vecFiles)), file))
		removeSegmentFiles(s.fs, s.dir, slices.Collect(maps.Values(sparseFiles)))
		return errSchemaChanged
	}
	ns := &seg{id: j.newID, store: t, dataFile: file, vectorFiles: vecFiles, sparseFiles: sparseFiles}
	for i, g := range j.segs {
		for _, id := range g.store.DeletedSince(marks[i]) {
			if t.Delete(id) {
				ns.delDirty = true
			}
		}
	}
	// Payload indexes created or dropped while the segment was built.
	cur := j.segs[0].store.IndexSchemas()
	for k, raw := range cur {
		if have, ok := schemas[k]; !ok || !bytes.Equal(have, raw) {
			_ = t.CreateIndex(k, raw) // valid: the segment holds it
			ns.dirty = true
		}
	}
	for k := range schemas {
		if _, ok := cur[k]; !ok {
			t.DeleteIndex(k)
			ns.dirty = true
		}
	}
	t.PrepareRead()
	segs := make([]*seg, 0, len(h.segs))
	placed := false
	for _, g := range h.segs {
		if !slices.Contains(j.segs, g) {
			segs = append(segs, g)
			continue
		}
		if !placed {
			segs = append(segs, ns)
			placed = true
		}
		h.retired = append(h.retired, g.dataFile, g.deletesFile)
		for _, f := range g.vectorFiles {
			h.retired = append(h.retired, f)
		}
		for _, f := range g.sparseFiles {
			h.retired = append(h.retired, f)
		}
	}
	h.segs = segs
	h.changed = true
	// Shadows held by the rebuilt segments are in the new one; points
	// that were deferred in them are visible now, and their shadows go.
	for id, g := range h.shadows {
		if slices.Contains(j.segs, g) {
			h.shadows[id] = ns
		}
	}
	h.settleAll(false)
	h.prepareRead()

	points, indexed := t.Len(), t.IndexedVectors()
	s.mu.Unlock()
	s.optimizationDone()
	s.completed.Add(1)
	s.optimizedPoints.Add(int64(points))
	select {
	case s.flush <- struct{}{}:
	default:
	}
	s.log.Info("optimization done", "dir", s.dir, "optimizer", j.kind, "segments", ids, "new_segment", j.newID,
		"points", points, "indexed_vectors", indexed, "seconds", time.Since(start).Seconds())
	return nil
}

// Tracker records one optimization, for telemetry.
type Tracker struct {
	Kind       string
	NewSegment uint64
	Segments   []uint64
	Points     []int  // live points of each of Segments when it started
	Status     string // optimizing, done, cancelled or error
	Error      string
	Start, End time.Time
}

const trackedJobs = 16

func (s *Shard) trackStart(j *job) {
	t := Tracker{Kind: j.kind, NewSegment: j.newID, Status: "optimizing", Start: time.Now()}
	s.mu.RLock()
	for _, g := range j.segs {
		t.Segments = append(t.Segments, g.id)
		t.Points = append(t.Points, g.store.Len())
	}
	s.mu.RUnlock()
	s.track.Lock()
	defer s.track.Unlock()
	if len(s.track.log) == trackedJobs {
		s.track.log = slices.Delete(s.track.log, 0, 1)
	}
	s.track.log = append(s.track.log, t)
}

func (s *Shard) trackEnd(err error) {
	s.track.Lock()
	defer s.track.Unlock()
	t := &s.track.log[len(s.track.log)-1]
	t.End = time.Now()
	switch {
	case err == nil:
		t.Status = "done"
	case errors.Is(err, context.Canceled), errors.Is(err, errSchemaChanged):
		t.Status = "cancelled"
	default:
		t.Status, t.Error = "error", err.Error()
		s.failed.Add(1)
	}
}
