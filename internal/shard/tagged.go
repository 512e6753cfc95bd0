package shard

import (
	"context"
	"errors"
	"fmt"

	"github.com/shoaldb/shoal/internal/ops"
)

// Tagged updates: the replica side of Qdrant's clock-based consistency
// (clocks.go holds the rule). A replica's clocks are part of its durable
// state: each tagged WAL record carries its tag (record.go), a checkpoint
// writes the clocks of the operations it covers into the manifest with
// their number, and a restart replays the tags of the records after it, so
// the clocks come back exactly as the logged operations left them.
//
// Three maps, as in Qdrant's RecoverableWal:
//   - s.clocks, the clocks of every logged operation (Qdrant's
//     newest_clocks): acceptance is decided against them and they advance
//     under appendMu, in WAL order. RecoveryPoint reads them.
//   - s.mu.clocks, those of the applied operations [0, applied): what a
//     checkpoint persists with applied. Once the queue is drained they
//     equal s.clocks.
//   - s.mu.cutoff (Qdrant's oldest_clocks): ticks below it cannot be
//     recovered from this replica's WAL (its data came from elsewhere, a
//     snapshot); UpdateCutoff raises it.

// errClockRejected tells submit's caller that the tag was rejected.
var errClockRejected = errors.New("clock tag rejected")

// ClockResult is a replica's answer to a tagged update.
type ClockResult struct {
	// OperationID is the operation number of an accepted update.
	OperationID uint64
	// Rejected: the replica already holds a tick of the tag's clock at
	// least as new (or the tick was 0); nothing was written. Qdrant
	// answers the same way, with a result, not an error.
	Rejected bool
	// Tag is the update's tag when accepted; when rejected, the tag with
	// the clock's newest tick (0 for a clock the replica does not hold),
	// for the sender to advance its clock past and retry.
	Tag ops.ClockTag
}

// UpdateWithClock is Update for an update tagged by a replica set
// (Qdrant's clock tags): it is logged and applied only if tag is accepted
// (clocks.go: a newer tick, the same tick with the same token, or Force),
// which is decided when the record is appended, in WAL order. A rejected
// update returns a ClockResult with Rejected and no error. An accepted one
// behaves as Update, wait included; its error, if any, is the operation's.
func (s *Shard) UpdateWithClock(ctx context.Context, op *ops.Operation, wait bool, tag ops.ClockTag) (ClockResult, error) {
	version, answer, err := s.submit(ctx, []*ops.Operation{op}, wait, &tag)
	if errors.Is(err, errClockRejected) {
		return ClockResult{Rejected: true, Tag: answer}, nil
	}
	return ClockResult{OperationID: version, Tag: answer}, err
}

// RecoveryPoint is, per clock, the newest tick of the updates this replica
// has logged (Qdrant's recovery point of a local shard): what it has seen
// of every sender. A WAL-delta transfer compares it with the source's.
func (s *Shard) RecoveryPoint() ops.RecoveryPoint {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	return s.clocks.point()
}

// Cutoff is, per clock, the oldest tick this replica can still recover
// others from (Qdrant's oldest clocks): a WAL-delta transfer from it
// cannot serve a recovery point below it.
func (s *Shard) Cutoff() ops.RecoveryPoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.cutoff.point()
}

// UpdateCutoff raises the cutoff, and the clocks with it, to rp (Qdrant's
// update_cutoff, after a replica received its data by a snapshot): ticks
// only go up. It takes effect in WAL order: updates logged after it are
// decided against the raised clocks at once. It returns once a checkpoint
// holds the new cutoff. A raised clock has token 0 (a recovery point has
// no tokens), so the same tick is then accepted again only with token 0.
func (s *Shard) UpdateCutoff(ctx context.Context, rp ops.RecoveryPoint) error {
	return s.updateCutoff(ctx, rp, false)
}

// RaiseCutoff raises the cutoff alone to rp, not the clocks (a replica
// filled with records by a stream_records transfer: it holds the
// operations rp covers, so a WAL-delta transfer from it must not serve a
// replica below rp, but it has seen none of their tags and keeps
// accepting updates as before). It returns once a checkpoint holds it.
func (s *Shard) RaiseCutoff(ctx context.Context, rp ops.RecoveryPoint) error {
	return s.updateCutoff(ctx, rp, true)
}

func (s *Shard) updateCutoff(ctx context.Context, rp ops.RecoveryPoint, only bool) error {
	if len(rp) == 0 {
		return nil
	}
	done := make(chan error, 1)
	s.appendMu.Lock()
	if s.closed {
		s.appendMu.Unlock()
		return ErrClosed
	}
	if !only {
		s.clockMu.Lock()
		s.clocks.advanceTo(rp)
		s.clockMu.Unlock()
	}
	s.queue <- pending{cutoff: rp, cutoffOnly: only, done: done}
	s.appendMu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ResetClocks forgets every clock (not the cutoff): a replica emptied to
// receive its records from another (stream_records) holds none of the
// updates its clocks say it has seen, and keeping them would hide, from
// a comparison of clocks, updates it then lacks. Its clocks come back
// from the updates it accepts next, and the transfer raises its cutoff
// at the end. It takes effect in WAL order (updates logged after it are
// decided against the empty clocks) and returns once a checkpoint holds
// it.
func (s *Shard) ResetClocks(ctx context.Context) error {
	done := make(chan error, 1)
	s.appendMu.Lock()
	if s.closed {
		s.appendMu.Unlock()
		return ErrClosed
	}
	s.clockMu.Lock()
	s.clocks = clockMap{}
	s.clockMu.Unlock()
	s.queue <- pending{resetClocks: true, done: done}
	s.appendMu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// applyResetClocks is the worker's step of ResetClocks: the operations
// before it are applied, so the applied clocks empty with it, and a
// checkpoint persists them.
func (s *Shard) applyResetClocks(p pending) {
	s.mu.Lock()
	s.mu.clocks = clockMap{}
	s.mu.Unlock()
	p.done <- s.checkpoint()
}

// applyCutoff is the worker's step of UpdateCutoff: the operations before
// it are applied, so the applied clocks take the raise with the cutoff,
// and a checkpoint persists them.
func (s *Shard) applyCutoff(p pending) {
	s.mu.Lock()
	if !p.cutoffOnly {
		s.mu.clocks.advanceTo(p.cutoff)
	}
	s.mu.cutoff.advanceTo(p.cutoff)
	s.mu.Unlock()
	p.done <- s.checkpoint()
}

// LoggedUpdate is one record of the WAL: an operation as it was logged,
// with its number and its clock tag (nil: untagged). A WAL-delta transfer
// (Qdrant's resolve_wal_delta) looks for the records after a recovery
// point by their tags and sends them on.
type LoggedUpdate struct {
	OperationID uint64
	Op          *ops.Operation
	Tag         *ops.ClockTag
}

// WALRange is the operations [first, next) the WAL holds. A checkpoint
// drops the WAL segments whose records it covers, whole (never the one
// being written), so first moves up with checkpoints, by segments.
func (s *Shard) WALRange() (first, next uint64) {
	return s.wal.FirstIndex(), s.wal.NextIndex()
}

// ReadWAL calls fn for every record the WAL holds from operation from on,
// up to those logged when it is called, in order (updates go on
// meanwhile; a checkpoint waits for it to return). It stops at fn's first
// error and returns it.
func (s *Shard) ReadWAL(from uint64, fn func(LoggedUpdate) error) error {
	return s.wal.Replay(from, func(index uint64, data []byte) error {
		rec, err := decodeRecord(data)
		if err != nil {
			return fmt.Errorf("wal record %d: %w", index, err)
		}
		return fn(LoggedUpdate{OperationID: index, Op: rec.op, Tag: rec.tag})
	})
}
