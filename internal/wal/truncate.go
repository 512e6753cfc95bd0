package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
)

// TruncateFront removes the segment files whose records all have indices
// below before, oldest first; call it once everything below before has been
// checkpointed. It works on whole segments and never removes the active one,
// so FirstIndex may stay below before. The new first index survives a
// restart because it is the name of the oldest remaining file.
func (l *Log) TruncateFront(before uint64) error {
	l.truncMu.Lock()
	defer l.truncMu.Unlock()
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	var victims []segment
	for _, s := range l.mu.segs[:len(l.mu.segs)-1] {
		if s.end > before {
			break
		}
		victims = append(victims, s)
	}
	l.mu.Unlock()

	// Appends only touch the active segment, so the files can go without
	// holding mu. The directory is fsynced after each removal: were the
	// removals persisted out of order, a crash could leave a gap that Open
	// would rightly call corruption.
	for _, s := range victims {
		if err := l.fs.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("wal: remove segment: %w", err)
		}
		l.mu.Lock()
		l.mu.segs = slices.Delete(l.mu.segs, 0, 1)
		l.mu.Unlock()
		if err := l.fs.SyncDir(l.dir); err != nil {
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.failLocked(fmt.Errorf("wal: sync dir %s after removing %s: %w", l.dir, s.path, err))
		}
	}
	return nil
}

// TruncateBack removes the records with indices from and above, so that the
// next Append gets index from; raft uses it to drop a conflicting suffix.
// from must lie in [FirstIndex, NextIndex]. The removal is durable when
// TruncateBack returns nil. Removing the records of an older segment makes
// that segment the active one again.
func (l *Log) TruncateBack(from uint64) error {
	l.truncMu.Lock()
	defer l.truncMu.Unlock()
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return err
	}
	segs := l.mu.segs
	if first := segs[0].first; from < first || from > l.mu.next {
		return fmt.Errorf("%w: truncate back to %d, log holds [%d, %d)", ErrOutOfRange, from, first, l.mu.next)
	}
	if from == l.mu.next {
		return nil
	}
	// k is the segment holding from: the last one starting at or below it.
	k := sort.Search(len(segs), func(i int) bool { return segs[i].first > from }) - 1
	last := len(segs) - 1
	keep := segs[k]

	// Find the cut and open the file before anything changes, so that a
	// failure up to here leaves the log as it was.
	sf := l.mu.active
	if k != last {
		f, err := l.fs.OpenFile(keep.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("wal: open segment: %w", err)
		}
		sf = &segFile{f: f, refs: 1}
	}
	off, err := findOffset(sf.f, keep, from)
	if err != nil {
		if k != last {
			sf.f.Close()
		}
		return err
	}

	// Newest first, so a crash half way leaves a log without gaps that
	// merely still holds some of the records being dropped.
	if k != last {
		old := l.mu.active
		l.mu.active = sf
		// syncMu is held, so no Sync shares the file and this closes it.
		if err := l.releaseLocked(old); err != nil {
			l.logger.Warn("wal: close segment", "file", segs[last].path, "err", err)
		}
	}
	for i := last; i > k; i-- {
		path := l.mu.segs[i].path
		if err := l.fs.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return l.failLocked(fmt.Errorf("wal: remove segment: %w", err))
		}
		l.mu.segs = l.mu.segs[:i]
		l.mu.next = l.mu.segs[i-1].end
		l.mu.durable = min(l.mu.durable, l.mu.next)
		if err := l.fs.SyncDir(l.dir); err != nil {
			return l.failLocked(fmt.Errorf("wal: sync dir %s after removing %s: %w", l.dir, path, err))
		}
	}
	if err := sf.f.Truncate(off); err != nil {
		return l.failLocked(fmt.Errorf("wal: truncate %s: %w", keep.path, err))
	}
	seg := &l.mu.segs[k]
	seg.end = from
	seg.size = off
	l.mu.next = from
	l.mu.durable = min(l.mu.durable, from)
	if err := sf.f.Sync(); err != nil {
		return l.failLocked(fmt.Errorf("wal: sync %s: %w", keep.path, err))
	}
	l.mu.durable = from
	return nil
}
