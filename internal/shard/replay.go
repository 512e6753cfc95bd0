package shard

import (
	"errors"
	"fmt"
)

// replayStats counts what a replay did, for the log.
type replayStats struct {
	applied int // operations applied
	refused int // operations refused, as they were the first time
	skipped int // operations of a stopping batch after its failure
}

// openBatch is the batch a replay is in the middle of.
type openBatch struct {
	start  uint64 // operation number of its first operation
	n      int
	stop   bool
	failed bool // an operation of a stopping batch failed: skip the rest
}

// replay applies the WAL's records from operation from on to h, as the
// update worker applied them when they were new: an operation that apply
// refuses is refused again (it was refused the first time too, apply being
// a function of the operation and the state), and a batch sent with wait
// stops at its first refusal, as it did then. Any other failure (a record
// that does not decode, an error of apply that is not a refusal, a batch
// whose start the segments already cover) means that this shard cannot be
// rebuilt as it was acknowledged, and stops the replay with an error that
// names the record. The clock tag of every replayed record advances
// clocks, as the worker advanced them (clocks.go). It returns the number
// of the next operation.
func (s *Shard) replay(h *holder, from uint64, clocks clockMap) (uint64, replayStats, error) {
	var st replayStats
	var cur *openBatch
	next := from
	err := s.wal.Replay(from, func(index uint64, data []byte) error {
		rec, err := decodeRecord(data)
		if err != nil {
			return fmt.Errorf("wal record %d: %w", index, err)
		}
		switch {
		case rec.pos.n == 0:
			cur = nil
		case rec.pos.i == 0:
			// A new batch; one cut short by a crash (a prefix kept by
			// the WAL's recovery) simply ends here.
			cur = &openBatch{start: index, n: rec.pos.n, stop: rec.pos.stop}
		case cur == nil || cur.start != index-uint64(rec.pos.i) || cur.n != rec.pos.n || cur.stop != rec.pos.stop:
			// The worker applies a batch as one step, so a flush never
			// falls inside one: its start is missing from the log.
			return fmt.Errorf("wal record %d: operation %d of a batch of %d whose first operation (%d) is not replayed (replay starts at %d)",
				index, rec.pos.i, rec.pos.n, index-uint64(rec.pos.i), from)
		}
		next = index + 1
		s.sinceCheckpoint += int64(len(data))
		if rec.tag != nil {
			// The record was logged because its tag was accepted: its
			// clock advanced then, whatever became of the operation.
			clocks.advance(*rec.tag)
		}
		if cur != nil && cur.failed {
			st.skipped++
			return nil
		}
		if err := s.seams.apply(h, index, rec.op); err != nil {
			if !errors.Is(err, ErrRefused) {
				return fmt.Errorf("wal record %d: %s operation failed on replay: %w", index, rec.op.Kind, err)
			}
			st.refused++
			if cur != nil && cur.stop {
				cur.failed = true
			}
			return nil
		}
		st.applied++
		return nil
	})
	return next, st, err
}
