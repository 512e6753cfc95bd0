package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/wal"
)

// Options configure a shard.
type Options struct {
	Vectors        map[string]segment.VectorSpec
	WALSegmentSize int64         // wal_capacity_mb in bytes
	WALSegAhead    int           // wal_segments_ahead
	CheckpointWAL  int64         // checkpoint once this many WAL bytes were written since the last one
	FlushInterval  time.Duration // fsync period for operations acknowledged without waiting
	QueueSize      int           // bounded update queue
	Logger         *slog.Logger
	// VectorIndex configures the HNSW index of each vector name.
	VectorIndex map[string]segment.IndexParams
	// IndexThreads bounds the workers of a graph build (0: GOMAXPROCS).
	IndexThreads int
	// Optimizer configures merging and vacuuming of segments.
	Optimizer OptimizerParams
}

type pending struct {
	version uint64
	op      *Operation
	size    int
	done    chan error // nil when nobody waits
}

// Shard is one local shard. Reads take the lock shared; the update worker
// and the optimizer's swap take it exclusively.
type Shard struct {
	dir  string
	opts Options
	log  *slog.Logger
	wal  *wal.Log

	appendMu sync.Mutex // orders WAL append and enqueue
	queue    chan pending
	closed   bool // guarded by appendMu

	mu struct {
		sync.RWMutex
		h       *holder
		applied uint64 // operations [0, applied) are applied
	}
	started         bool
	sinceCheckpoint int64 // WAL bytes since the last checkpoint; owned by the worker
	stopped         chan struct{}
	flush           chan struct{} // asks the worker for a checkpoint (after an optimization)

	kick            chan struct{} // wakes the optimizer after updates
	stopOpt         chan struct{} // closed by Close to stop the optimizer
	optStopped      chan struct{}
	progress        atomic.Pointer[progress] // the running optimization
	completed       atomic.Int64
	failed          atomic.Int64
	optimizedPoints atomic.Int64
	track           struct {
		sync.Mutex
		log []Tracker
	}
}

// Open loads the segments and replays the WAL tail. It starts nothing:
// the caller calls Start.
func Open(dir string, opts Options) (*Shard, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.IndexThreads <= 0 {
		opts.IndexThreads = runtime.GOMAXPROCS(0)
	}
	if opts.CheckpointWAL <= 0 {
		opts.CheckpointWAL = 32 << 20
	}
	if err := os.MkdirAll(filepath.Join(dir, segmentsDir), 0o755); err != nil {
		return nil, fmt.Errorf("create shard dir: %w", err)
	}
	s := &Shard{dir: dir, opts: opts, log: opts.Logger, queue: make(chan pending, opts.QueueSize), stopped: make(chan struct{}),
		flush: make(chan struct{}, 1), kick: make(chan struct{}, 1), stopOpt: make(chan struct{}), optStopped: make(chan struct{})}

	h, applied, err := loadSegments(dir, opts.Vectors)
	if err != nil {
		return nil, err
	}
	h.opt = opts.Optimizer
	h.setIndexParams(opts.VectorIndex)
	payloadIndexes, rebuilt, graphs := map[string]bool{}, 0, 0
	for _, g := range h.segs {
		for _, key := range g.store.RebuiltIndexes() {
			s.log.Warn("index data unreadable, rebuilt from the points", "dir", dir, "segment", g.id, "index", key)
			rebuilt++
		}
		for k := range g.store.Indexes() {
			payloadIndexes[k] = true
		}
		for _, c := range g.store.Columns() {
			if c.GraphBytes > 0 {
				graphs++
			}
		}
	}
	if len(payloadIndexes) > 0 {
		s.log.Info("payload indexes loaded", "dir", dir, "indexes", len(payloadIndexes), "rebuilt", rebuilt)
	}
	if graphs > 0 {
		s.log.Info("HNSW graphs loaded", "dir", dir, "graphs", graphs, "indexed_vectors", indexedVectors(h))
	}
	log, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{SegmentSize: opts.WALSegmentSize, SegmentsAhead: opts.WALSegAhead, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("open shard wal: %w", err)
	}
	s.wal = log
	if applied < log.FirstIndex() {
		// The segments are older than the log's start: records were lost.
		log.Close()
		return nil, fmt.Errorf("shard %s: segments cover operations below %d but the WAL starts at %d", dir, applied, log.FirstIndex())
	}
	replayed := 0
	err = log.Replay(applied, func(index uint64, data []byte) error {
		op, err := DecodeOperation(data)
		if err != nil {
			return fmt.Errorf("wal record %d: %w", index, err)
		}
		_ = apply(h, index, op) // failed operations failed the first time too
		applied = index + 1
		replayed++
		s.sinceCheckpoint += int64(len(data))
		return nil
	})
	if err != nil {
		log.Close()
		return nil, fmt.Errorf("replay shard wal: %w", err)
	}
	if applied < log.NextIndex() {
		applied = log.NextIndex()
	}
	h.prepareRead()
	s.mu.h = h
	s.mu.applied = applied
	s.log.Info("shard loaded", "dir", dir, "points", h.Len(), "segments", len(h.segs), "replayed_operations", replayed)
	return s, nil
}

// ErrClosed is returned by Update after Close.
var ErrClosed = errors.New("shard is closed")

// Update logs op and queues it for the worker. With wait it returns once op
// is durable and applied, with the error of applying it.
func (s *Shard) Update(ctx context.Context, op *Operation, wait bool) (uint64, error) {
	rec, err := op.Encode()
	if err != nil {
		return 0, err
	}
	var done chan error
	if wait {
		done = make(chan error, 1)
	}
	s.appendMu.Lock()
	if s.closed {
		s.appendMu.Unlock()
		return 0, ErrClosed
	}
	version, err := s.wal.Append(rec)
	if err != nil {
		s.appendMu.Unlock()
		return 0, fmt.Errorf("append to wal: %w", err)
	}
	// The record is in the WAL and must be applied in order, so the send
	// blocks (back-pressure) rather than giving up on ctx.
	s.queue <- pending{version: version, op: op, size: len(rec), done: done}
	s.appendMu.Unlock()
	if !wait {
		return version, nil
	}
	// A Close racing this call syncs the WAL before closing it and applies
	// every queued operation, so ErrClosed here does not mean lost.
	if err := s.wal.Sync(); err != nil && !errors.Is(err, wal.ErrClosed) {
		return version, fmt.Errorf("sync wal: %w", err)
	}
	select {
	case err := <-done:
		return version, err
	case <-ctx.Done():
		return version, ctx.Err()
	}
}

// Start starts the update worker, which applies queued operations in order,
// fsyncs the WAL every FlushInterval and checkpoints when the WAL grew, and
// the optimizer. Close stops both.
func (s *Shard) Start() {
	s.started = true
	go s.run()
	go s.optimize()
}

// SetVectorIndex applies new HNSW settings (a collection update); the
// optimizer rebuilds segments whose graphs were built otherwise.
func (s *Shard) SetVectorIndex(params map[string]segment.IndexParams) {
	s.mu.Lock()
	s.mu.h.setIndexParams(params)
	s.mu.Unlock()
	s.wake()
}

// SetOptimizer applies new optimizer settings (a collection update).
func (s *Shard) SetOptimizer(p OptimizerParams) {
	s.mu.Lock()
	s.mu.h.opt = p
	s.mu.h.paused, s.mu.h.failure = false, ""
	s.mu.Unlock()
	s.wake()
}

func (s *Shard) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Shard) run() {
	defer close(s.stopped)
	interval := s.opts.FlushInterval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case p, ok := <-s.queue:
			if !ok {
				return
			}
			s.applyPending(p)
		case <-s.flush:
			if err := s.checkpoint(); err != nil {
				s.log.Error("checkpoint failed", "dir", s.dir, "err", err)
			}
		case <-tick.C:
			if err := s.wal.Sync(); err != nil {
				s.log.Error("periodic wal sync failed", "dir", s.dir, "err", err)
			}
		}
	}
}

func (s *Shard) applyPending(p pending) {
	s.mu.Lock()
	err := apply(s.mu.h, p.version, p.op)
	s.mu.h.prepareRead()
	s.mu.applied = p.version + 1
	s.mu.Unlock()
	s.wake()
	if p.done != nil {
		p.done <- err
	} else if err != nil {
		s.log.Warn("update failed", "op", p.op.Kind, "operation_id", p.version, "err", err)
	}
	s.sinceCheckpoint += int64(p.size)
	if s.sinceCheckpoint >= s.opts.CheckpointWAL {
		if err := s.checkpoint(); err != nil {
			s.log.Error("checkpoint failed", "dir", s.dir, "err", err)
		}
	}
}

// Close stops accepting updates, lets the worker drain the queue, stops
// the optimizer, checkpoints and closes the WAL.
func (s *Shard) Close() error {
	s.appendMu.Lock()
	if s.closed {
		s.appendMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	s.appendMu.Unlock()
	if s.started {
		<-s.stopped
		close(s.stopOpt)
		<-s.optStopped
	} else {
		for p := range s.queue {
			s.applyPending(p)
		}
	}
	var errs []error
	s.mu.RLock()
	need := s.mu.h.needsFlush()
	s.mu.RUnlock()
	if s.sinceCheckpoint > 0 || need {
		errs = append(errs, s.checkpoint())
	}
	errs = append(errs, s.wal.Sync(), s.wal.Close())
	return errors.Join(errs...)
}

// Dir is the shard's directory.
func (s *Shard) Dir() string { return s.dir }

// Applied returns the number of applied operations.
func (s *Shard) Applied() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.applied
}

// Drop closes the shard and deletes its files.
func (s *Shard) Drop() error {
	err := s.Close()
	if rmErr := os.RemoveAll(s.dir); rmErr != nil {
		return errors.Join(err, fmt.Errorf("remove shard dir: %w", rmErr))
	}
	return err
}

func indexedVectors(h *holder) int {
	n := 0
	for _, g := range h.segs {
		n += g.store.IndexedVectors()
	}
	return n
}
