package shard

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/segment"
	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/wal"
)

// Options configure a shard.
type Options struct {
	Vectors map[string]segment.VectorSpec
	// Sparse are the sparse vectors and how a sealed segment keeps their
	// inverted indexes.
	Sparse         map[string]segment.SparseSpec
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
	// FS holds every file of the shard (WAL, manifest, segment files);
	// nil means vfs.Default.
	FS vfs.FS
}

// pending is one queued update: the operations of one Update or
// UpdateBatch, numbered from version on, applied as one step of the worker
// so that no flush falls between them.
type pending struct {
	version uint64
	ops     []*ops.Operation
	tag     *ops.ClockTag // the clock tag of a tagged update (one operation)
	stop    bool          // a batch sent with wait stops at its first failure
	size    int
	done    chan error // nil when nobody waits
	// cutoff, set on a pending without operations, raises the clocks and
	// the cutoff (tagged.go) in the worker's order.
	cutoff ops.RecoveryPoint
	// cutoffOnly: cutoff raises the cutoff alone, not the clocks
	// (RaiseCutoff).
	cutoffOnly bool
	// resetClocks, set on a pending without operations, empties the
	// applied clocks in the worker's order (ResetClocks).
	resetClocks bool
	// snap, set on a pending without operations, asks the worker for the
	// checkpoint a snapshot copies (snapshot.go).
	snap chan snapStart
}

// Shard is one local shard. Reads take the lock shared; the update worker
// and the optimizer's swap take it exclusively.
type Shard struct {
	dir   string
	opts  Options
	fs    vfs.FS
	log   *slog.Logger
	wal   *wal.Log
	seams seams

	appendMu sync.Mutex // orders WAL append and enqueue
	// broken holds the first fsync failure (broken.go); once set, updates
	// are refused and no checkpoint is written.
	broken atomic.Pointer[error]
	queue  chan pending
	closed bool // guarded by appendMu

	// clocks are the clocks of every logged operation (clocks.go): the
	// acceptance of a tagged update is decided against them, and they
	// advance, under appendMu, in WAL order. clockMu (taken under
	// appendMu, or alone to read) lets RecoveryPoint read them while an
	// append waits for room in the queue.
	clockMu sync.Mutex
	clocks  clockMap

	mu struct {
		sync.RWMutex
		h       *holder
		applied uint64 // operations [0, applied) are applied
		// clocks are those of the operations [0, applied), which a
		// checkpoint persists with applied; cutoff the cutoff clocks.
		clocks clockMap
		cutoff clockMap
	}
	started         bool
	sinceCheckpoint int64     // WAL bytes since the last checkpoint; owned by the worker
	ckptFailures    int       // consecutive failed checkpoints of the worker; owned by it
	ckptRetry       time.Time // no size-triggered checkpoint before; owned by the worker
	stopped         chan struct{}
	flush           chan struct{} // asks the worker for a checkpoint (after an optimization)

	kick            chan struct{} // wakes the optimizer after updates
	stopOpt         chan struct{} // closed by Close to stop the optimizer
	optStopped      chan struct{}
	progress        atomic.Pointer[progress]      // the running optimization
	optimized       atomic.Pointer[chan struct{}] // closed and replaced after each optimization (deferred.go)
	queued          atomic.Int64                  // operations queued and not yet applied
	completed       atomic.Int64
	failed          atomic.Int64
	optimizedPoints atomic.Int64
	track           struct {
		sync.Mutex
		log []Tracker
	}
	// pins keep the files of a manifest a snapshot copies (snapshot.go):
	// while n > 0, a checkpoint leaves the files it retires in deferred.
	pins struct {
		sync.Mutex
		n        int
		deferred []string
	}
}

// Open loads the segments and replays the WAL tail. It starts nothing:
// the caller calls Start.
func Open(dir string, opts Options) (*Shard, error) {
	return openWith(dir, opts, seams{})
}

// openWith is Open with seams of a test's choosing.
func openWith(dir string, opts Options, sm seams) (*Shard, error) {
	opts.FS = vfs.OrDefault(opts.FS)
	sm = sm.withDefaults(opts.FS)
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
	if err := vfs.EnsureDir(opts.FS, filepath.Join(dir, segmentsDir), 0o755); err != nil {
		return nil, fmt.Errorf("create shard dir: %w", err)
	}
	s := &Shard{dir: dir, opts: opts, fs: opts.FS, log: opts.Logger, seams: sm, queue: make(chan pending, opts.QueueSize), stopped: make(chan struct{}),
		flush: make(chan struct{}, 1), kick: make(chan struct{}, 1), stopOpt: make(chan struct{}), optStopped: make(chan struct{})}
	first := make(chan struct{})
	s.optimized.Store(&first)

	h, applied, cs, err := loadSegments(opts.FS, dir, opts.Vectors, opts.Sparse, opts.Logger)
	if err != nil {
		return nil, err
	}
	h.opt = opts.Optimizer
	h.setIndexParams(opts.VectorIndex)
	for _, g := range h.segs {
		if g.appendable {
			g.store.SetDeferFrom(h.opt.DeferFrom)
		}
	}
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
	if n := sparseIndexes(h); n > 0 {
		s.log.Info("sparse indexes loaded", "dir", dir, "indexes", n)
	}
	log, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{SegmentSize: opts.WALSegmentSize, SegmentsAhead: opts.WALSegAhead, Logger: opts.Logger, FS: opts.FS, FirstIndex: applied})
	if err != nil {
		return nil, fmt.Errorf("open shard wal: %w", err)
	}
	s.wal = log
	if applied < log.FirstIndex() {
		// The segments are older than the log's start: records were lost.
		log.Close()
		return nil, fmt.Errorf("shard %s: segments cover operations below %d but the WAL starts at %d", dir, applied, log.FirstIndex())
	}
	// Copies a previous run left (deferred.go) before the replay, which
	// addresses each point's newest copy.
	h.settleAll(true)
	applied, stats, err := s.replay(h, applied, cs.clocks)
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
	s.mu.clocks, s.mu.cutoff = cs.clocks, cs.cutoff
	s.clocks = cs.clocks.clone() // every logged operation is applied
	if h.fresh {
		// A new shard's vectors are its options'; its first manifest
		// records them before any operation is logged, so that the WAL
		// never replays against vectors added or dropped after it
		// began (schema.go).
		if err := s.checkpoint(); err != nil {
			log.Close()
			return nil, fmt.Errorf("write the first manifest of a new shard: %w", err)
		}
	}
	s.log.Info("shard loaded", "dir", dir, "points", h.Len(), "segments", len(h.segs),
		"replayed_operations", stats.applied+stats.refused+stats.skipped, "refused_operations", stats.refused, "skipped_operations", stats.skipped)
	return s, nil
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

// SetSparse applies new settings of the sparse vectors' indexes (a
// collection update); the optimizer rebuilds segments whose indexes were
// built otherwise.
func (s *Shard) SetSparse(specs map[string]segment.SparseSpec) {
	s.mu.Lock()
	s.mu.h.setSparse(specs)
	s.mu.Unlock()
	s.wake()
}

// SetVectorStorage sets, per dense vector, whether sealed segments keep it
// in a mapped file (a collection update of on_disk or memory); the
// optimizer rebuilds the sealed segments that keep it otherwise. Names the
// shard does not have are ignored.
func (s *Shard) SetVectorStorage(onDisk map[string]bool) {
	s.mu.Lock()
	h := s.mu.h
	for name, od := range onDisk {
		if sp, ok := h.specs[name]; ok && sp.OnDisk != od {
			sp.OnDisk = od
			h.specs[name] = sp
			h.clearFailure()
		}
	}
	s.mu.Unlock()
	s.wake()
}

// SetOptimizer applies new optimizer settings (a collection update).
func (s *Shard) SetOptimizer(p OptimizerParams) {
	s.mu.Lock()
	s.mu.h.opt = p
	s.mu.h.clearFailure()
	s.mu.Unlock()
	s.wake()
}

func (s *Shard) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
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
	var flushErr error
	s.mu.RLock()
	need := s.mu.h.needsFlush()
	s.mu.RUnlock()
	if (s.sinceCheckpoint > 0 || need) && s.brokenErr() == nil {
		flushErr = s.checkpoint()
	}
	// Every applied operation is in the WAL. If the WAL is durable, a
	// failed flush (a full disk) loses nothing acknowledged: the next
	// start loads the last flush and replays the WAL after it. So the
	// shard closes cleanly, with a warning; only a WAL that cannot be made
	// durable fails the close.
	if err := errors.Join(s.wal.Sync(), s.wal.Close()); err != nil {
		return errors.Join(flushErr, err)
	}
	if flushErr != nil {
		s.log.Warn("final flush failed; the WAL holds every operation and the next start replays it", "dir", s.dir, "err", flushErr)
	}
	return nil
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
	if rmErr := s.fs.RemoveAll(s.dir); rmErr != nil {
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

func sparseIndexes(h *holder) int {
	n := 0
	for _, g := range h.segs {
		n += len(g.store.SparseIndexed())
	}
	return n
}
