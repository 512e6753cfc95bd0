package shard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoaldb/shoal/internal/fsutil"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/wal"
)

const checkpointFile = "points.ckpt"

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
}

type pending struct {
	version uint64
	op      *Operation
	size    int
	done    chan error // nil when nobody waits
}

// Shard is one local shard. Reads take the store lock shared; the update
// worker takes it exclusively.
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
		store   *segment.Store
		applied uint64 // operations [0, applied) are applied
	}
	started         bool
	sinceCheckpoint int64 // WAL bytes since the last checkpoint; owned by the worker
	stopped         chan struct{}

	kick       chan struct{} // wakes the optimizer after updates
	stopOpt    chan struct{} // closed by Close to stop the optimizer
	optStopped chan struct{}
	optimizing atomic.Bool
}

// Open loads the checkpoint and replays the WAL tail. It starts nothing: the
// caller runs Run in a goroutine it owns.
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create shard dir: %w", err)
	}
	s := &Shard{dir: dir, opts: opts, log: opts.Logger, queue: make(chan pending, opts.QueueSize), stopped: make(chan struct{}),
		kick: make(chan struct{}, 1), stopOpt: make(chan struct{}), optStopped: make(chan struct{})}

	store, applied, err := loadCheckpoint(filepath.Join(dir, checkpointFile), opts.Vectors)
	if err != nil {
		return nil, err
	}
	for name, p := range opts.VectorIndex {
		store.SetIndexParams(name, p)
	}
	for _, key := range store.RebuiltIndexes() {
		s.log.Warn("payload index data unreadable, rebuilt from the points", "dir", dir, "field", key)
	}
	if n := len(store.Indexes()); n > 0 {
		s.log.Info("payload indexes loaded", "dir", dir, "indexes", n, "rebuilt", len(store.RebuiltIndexes()))
	}
	log, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{SegmentSize: opts.WALSegmentSize, SegmentsAhead: opts.WALSegAhead, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("open shard wal: %w", err)
	}
	s.wal = log
	if applied < log.FirstIndex() {
		// The checkpoint is older than the log's start: records were lost.
		log.Close()
		return nil, fmt.Errorf("shard %s: checkpoint covers operations below %d but the WAL starts at %d", dir, applied, log.FirstIndex())
	}
	replayed := 0
	err = log.Replay(applied, func(index uint64, data []byte) error {
		op, err := DecodeOperation(data)
		if err != nil {
			return fmt.Errorf("wal record %d: %w", index, err)
		}
		_ = apply(store, index, op) // failed operations failed the first time too
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
	store.PrepareRead()
	s.mu.store = store
	s.mu.applied = applied
	if replayed > 0 {
		s.log.Info("shard recovered", "dir", dir, "points", store.Len(), "replayed_operations", replayed)
	}
	return s, nil
}

func loadCheckpoint(path string, specs map[string]segment.VectorSpec) (*segment.Store, uint64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return segment.NewStore(specs), 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read checkpoint: %w", err)
	}
	store, applied, err := segment.ReadCheckpoint(data)
	if err != nil {
		return nil, 0, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	for name, sp := range specs {
		store.AddColumn(name, sp)
	}
	return store, applied, nil
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
// fsyncs the WAL every FlushInterval and checkpoints when the WAL grew.
// Close stops it.
func (s *Shard) Start() {
	s.started = true
	go s.run()
	go s.optimize()
}

// optimize links vectors into the HNSW graphs in the background, in small
// batches under the store's read lock, so that searches go on and updates
// wait at most one batch. It runs until Close.
func (s *Shard) optimize() {
	defer close(s.optStopped)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.stopOpt:
			return
		case <-s.kick:
		case <-tick.C:
		}
		if s.buildGraphs() {
			return
		}
		linked := 0
		for {
			select {
			case <-s.stopOpt:
				return
			default:
			}
			s.mu.RLock()
			work := s.mu.store.IndexWork()
			var n int
			var err error
			if work {
				s.optimizing.Store(true)
				n, err = s.mu.store.LinkPending(256)
			}
			indexed := s.mu.store.IndexedVectors()
			s.mu.RUnlock()
			if err != nil {
				s.log.Error("vector indexing failed", "dir", s.dir, "err", err)
				break
			}
			if !work || n == 0 {
				break
			}
			if linked += n; linked%10000 < n {
				s.log.Info("vector indexing progress", "dir", s.dir, "indexed_vectors", indexed)
			}
		}
		if s.optimizing.Swap(false) && linked > 0 {
			s.log.Info("vector indexing done", "dir", s.dir, "linked", linked)
		}
	}
}

// SetVectorIndex applies new HNSW settings (a collection update).
func (s *Shard) SetVectorIndex(params map[string]segment.IndexParams) {
	s.mu.Lock()
	for name, p := range params {
		s.mu.store.SetIndexParams(name, p)
	}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// buildGraphs builds the first graph of every vector past its indexing
// threshold, in parallel and without holding the store lock; it reports
// whether the shard is stopping.
func (s *Shard) buildGraphs() bool {
	for {
		s.mu.RLock()
		b := s.mu.store.PrepareGraphBuild()
		s.mu.RUnlock()
		if b == nil {
			return false
		}
		s.optimizing.Store(true)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-s.stopOpt:
				cancel()
			case <-ctx.Done():
			}
		}()
		start := time.Now()
		s.log.Info("building HNSW index", "dir", s.dir, "vector", b.Name(), "points", b.Points())
		g, err := b.Run(ctx, s.opts.IndexThreads, func(done, total int) {
			if done%20000 == 0 && done > 0 {
				s.log.Info("HNSW index build progress", "dir", s.dir, "vector", b.Name(), "done", done, "total", total)
			}
		})
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("HNSW index build failed", "dir", s.dir, "vector", b.Name(), "err", err)
		}
		s.mu.RLock()
		s.mu.store.InstallGraph(b, g)
		s.mu.RUnlock()
		if err != nil {
			return errors.Is(err, context.Canceled)
		}
		s.log.Info("HNSW index built", "dir", s.dir, "vector", b.Name(), "points", b.Points(), "seconds", time.Since(start).Seconds())
	}
}

// Optimizing reports whether the optimizer is linking vectors right now.
func (s *Shard) Optimizing() bool { return s.optimizing.Load() }

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
		case <-tick.C:
			if err := s.wal.Sync(); err != nil {
				s.log.Error("periodic wal sync failed", "dir", s.dir, "err", err)
			}
		}
	}
}

func (s *Shard) applyPending(p pending) {
	s.mu.Lock()
	err := apply(s.mu.store, p.version, p.op)
	s.mu.store.PrepareRead()
	s.mu.applied = p.version + 1
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
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

// checkpoint writes the store image atomically and drops the WAL segments it
// covers. Only the update worker calls it, or Close after the worker stopped.
func (s *Shard) checkpoint() error {
	// The WAL must be durable up to what the checkpoint covers: were the
	// checkpoint to survive a power loss that took the WAL's unsynced
	// tail, the WAL would hand out operation ids the checkpoint already
	// claims, and the next recovery would skip those operations.
	if err := s.wal.Sync(); err != nil {
		return fmt.Errorf("sync wal before checkpoint: %w", err)
	}
	s.mu.RLock()
	applied := s.mu.applied
	err := fsutil.WriteFileAtomic(filepath.Join(s.dir, checkpointFile), func(f io.Writer) error {
		return s.mu.store.WriteCheckpoint(f, applied)
	})
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	s.sinceCheckpoint = 0
	if err := s.wal.TruncateFront(applied); err != nil {
		return fmt.Errorf("truncate wal after checkpoint: %w", err)
	}
	s.log.Debug("checkpoint written", "dir", s.dir, "operation_id", applied)
	return nil
}

// Close stops accepting updates, lets the worker drain the queue,
// checkpoints and closes the WAL.
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
	if s.sinceCheckpoint > 0 {
		errs = append(errs, s.checkpoint())
	}
	errs = append(errs, s.wal.Sync(), s.wal.Close())
	return errors.Join(errs...)
}

// View runs fn with the store under the shared lock.
func (s *Shard) View(fn func(*segment.Store)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(s.mu.store)
}

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
