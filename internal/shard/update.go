package shard

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/wal"
)

// ErrClosed is returned by Update after Close.
var ErrClosed = errors.New("shard is closed")

// ErrOutOfDisk marks an update refused for lack of disk space: nothing of
// it was written, and the shard takes updates again once space is freed.
// Check it with errors.Is; the error is an *OutOfDiskError.
var ErrOutOfDisk = errors.New("No space left on device")

// OutOfDiskError is an update refused for lack of disk space. Its text is
// Qdrant's: "No space left on device: " and the detail.
type OutOfDiskError struct {
	Detail string
	Err    error // the failed write, if there was one
}

func (e *OutOfDiskError) Error() string { return ErrOutOfDisk.Error() + ": " + e.Detail }

func (e *OutOfDiskError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrOutOfDisk}
	}
	return []error{ErrOutOfDisk, e.Err}
}

// Update logs op and queues it for the worker. With wait it returns once op
// is durable and applied, with the error of applying it.
func (s *Shard) Update(ctx context.Context, op *ops.Operation, wait bool) (uint64, error) {
	version, _, err := s.submit(ctx, []*ops.Operation{op}, wait, nil)
	return version, err
}

// UpdateBatch logs ops, the operations of one points/batch request, with
// consecutive operation numbers in one WAL append, and queues them as one
// step of the worker; it returns the number of the first. As in Qdrant,
// operations are applied in order, and with wait the batch stops at the
// first operation that fails: the ones before it stay applied, the ones
// after it are not applied, and its error is returned once the batch is
// durable (one fsync) and applied. Without wait every operation is applied
// whatever happens to the others (Qdrant queues them one by one). An empty
// batch writes nothing. One difference with Qdrant, which sends the
// operations of a batch one by one: the operations after a failure are in
// the WAL (skipped, on replay too), so they use up their operation numbers.
func (s *Shard) UpdateBatch(ctx context.Context, batch []*ops.Operation, wait bool) (uint64, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	version, _, err := s.submit(ctx, batch, wait, nil)
	return version, err
}

// submit logs batch and queues it. A tagged update (tag != nil, a batch of
// one) is first decided against the clocks of the logged operations
// (clocks.go) under appendMu, so that acceptance follows WAL order; a
// rejected one writes nothing and returns errClockRejected with the tag to
// answer (its clock's newest tick).
func (s *Shard) submit(ctx context.Context, batch []*ops.Operation, wait bool, tag *ops.ClockTag) (version uint64, answer ops.ClockTag, err error) {
	if tag != nil && len(batch) != 1 {
		return 0, ops.ClockTag{}, fmt.Errorf("a clock tag tags one operation, not %d", len(batch))
	}
	recs := make([][]byte, len(batch))
	size := 0
	for i, op := range batch {
		rec := record{op: op, tag: tag}
		if len(batch) > 1 {
			rec.pos = batchPos{i: i, n: len(batch), stop: wait}
		}
		var err error
		if recs[i], err = rec.encode(); err != nil {
			return 0, ops.ClockTag{}, err
		}
		size += len(recs[i])
	}
	var done chan error
	if wait {
		done = make(chan error, 1)
	}
	s.appendMu.Lock()
	if s.closed {
		s.appendMu.Unlock()
		return 0, ops.ClockTag{}, ErrClosed
	}
	if err := s.brokenErr(); err != nil {
		s.appendMu.Unlock()
		return 0, ops.ClockTag{}, err
	}
	if tag != nil {
		// Only appends and UpdateCutoff change s.clocks, and they hold
		// appendMu: the decision holds until the record is logged below.
		s.clockMu.Lock()
		ok, ans := s.clocks.check(*tag)
		s.clockMu.Unlock()
		if !ok {
			s.appendMu.Unlock()
			return 0, ans, errClockRejected
		}
		answer = ans
	}
	if err := s.checkDiskSpace(); err != nil {
		s.appendMu.Unlock()
		return 0, ops.ClockTag{}, err
	}
	version, err = s.wal.AppendBatch(recs)
	if err != nil {
		s.noteFailure(err)
		s.appendMu.Unlock()
		if errors.Is(err, syscall.ENOSPC) {
			return 0, ops.ClockTag{}, &OutOfDiskError{Detail: err.Error(), Err: err}
		}
		return 0, ops.ClockTag{}, fmt.Errorf("append to wal: %w", err)
	}
	if tag != nil {
		// Logged: the clock advances, as replay will advance it.
		s.clockMu.Lock()
		s.clocks.advance(*tag)
		s.clockMu.Unlock()
	}
	// The records are in the WAL and must be applied in order, so the
	// send blocks (back-pressure) rather than giving up on ctx.
	s.queued.Add(int64(len(batch)))
	s.queue <- pending{version: version, ops: batch, tag: tag, stop: wait && len(batch) > 1, size: size, done: done}
	s.appendMu.Unlock()
	if !wait {
		return version, answer, nil
	}
	return version, answer, s.await(ctx, done)
}

// await waits, for an update sent with wait, until its records are durable
// and applied.
func (s *Shard) await(ctx context.Context, done chan error) error {
	// A Close racing this call syncs the WAL before closing it and applies
	// every queued operation, so ErrClosed here does not mean lost.
	if err := s.wal.Sync(); err != nil && !errors.Is(err, wal.ErrClosed) {
		s.noteFailure(err)
		return fmt.Errorf("sync wal: %w", err)
	}
	select {
	case err := <-done:
		if err != nil {
			return err
		}
		// Qdrant answers an update sent with wait once the points it
		// deferred are visible.
		return s.waitDeferred(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkDiskSpace refuses an update, as Qdrant does, while the file system
// of the shard has less free space than one WAL segment
// (wal_capacity_mb): a write that would fill the disk is refused before
// anything of it is written, rather than half done. Without a reading of
// the free space there is no check.
func (s *Shard) checkDiskSpace() error {
	free, ok := s.seams.freeSpace(s.dir)
	if !ok {
		return nil
	}
	need := s.opts.WALSegmentSize
	if need <= 0 {
		need = wal.DefaultSegmentSize
	}
	if free < uint64(need) {
		return &OutOfDiskError{Detail: "WAL buffer size exceeds available disk space"}
	}
	return nil
}

// run is the update worker: it applies queued operations in order, fsyncs
// the WAL every FlushInterval and checkpoints when the WAL grew or the
// optimizer asks.
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
			s.workerCheckpoint(true)
		case <-tick.C:
			if err := s.wal.Sync(); err != nil {
				s.noteFailure(err)
				s.log.Error("periodic wal sync failed", "dir", s.dir, "err", err)
			}
		}
	}
}

// applyPending applies the operations of p in order under the write lock,
// and answers the waiter with the first failure.
func (s *Shard) applyPending(p pending) {
	if p.cutoff != nil {
		s.applyCutoff(p)
		return
	}
	if p.resetClocks {
		s.applyResetClocks(p)
		return
	}
	if p.snap != nil {
		s.startSnapshot(p.snap)
		return
	}
	var first error
	s.mu.Lock()
	for i, op := range p.ops {
		version := p.version + uint64(i)
		err := s.seams.apply(s.mu.h, version, op)
		if err == nil {
			continue
		}
		if first == nil {
			first = err
		}
		if p.done == nil {
			s.log.Warn("update failed", "op", op.Kind, "operation_id", version, "err", err)
		}
		if p.stop {
			break
		}
	}
	if p.tag != nil {
		// Applied or refused, the operation is logged under its tag.
		s.mu.clocks.advance(*p.tag)
	}
	s.mu.h.prepareRead()
	s.mu.applied = p.version + uint64(len(p.ops))
	s.mu.Unlock()
	s.queued.Add(-int64(len(p.ops)))
	s.wake()
	if p.done != nil {
		p.done <- first
	}
	s.sinceCheckpoint += int64(p.size)
	if s.sinceCheckpoint >= s.opts.CheckpointWAL {
		s.workerCheckpoint(false)
	}
}

// workerCheckpoint flushes from the worker. After a failure (a full disk)
// the flushes the WAL's growth calls for wait, one second doubling to a
// minute, instead of rewriting segment files after every operation; one
// the optimizer asks for (asked) is tried at once.
func (s *Shard) workerCheckpoint(asked bool) {
	now := s.seams.now()
	if (!asked && now.Before(s.ckptRetry)) || s.brokenErr() != nil {
		return
	}
	if err := s.checkpoint(); err != nil {
		s.ckptFailures++
		wait := backoff(s.ckptFailures)
		s.ckptRetry = now.Add(wait)
		s.log.Error("checkpoint failed", "dir", s.dir, "err", err, "attempt", s.ckptFailures, "retry_in", wait)
		return
	}
	s.ckptFailures, s.ckptRetry = 0, time.Time{}
}
