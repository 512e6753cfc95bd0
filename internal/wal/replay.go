package wal

import (
	"fmt"
	"os"
	"slices"
)

// Replay calls fn for every record from index from (or FirstIndex, if from
// is below it) up to the NextIndex at the time of the call, in order. The
// data passed to fn is valid only until fn returns. Replay stops at the first
// error from fn and returns it; damage found on the way returns an error
// matching errkind.ErrCorrupt. fn may call Append and Sync, but not Replay,
// TruncateFront, TruncateBack or Close.
func (l *Log) Replay(from uint64, fn func(index uint64, data []byte) error) error {
	l.truncMu.RLock()
	defer l.truncMu.RUnlock()
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	segs := slices.Clone(l.mu.segs)
	l.mu.Unlock()

	for _, seg := range segs {
		if seg.end <= from || seg.end == seg.first {
			continue
		}
		if err := l.replaySegment(seg, from, fn); err != nil {
			return err
		}
	}
	return nil
}

// replaySegment replays the records of seg from index from; seg is a
// snapshot, so records appended after it are not read.
func (l *Log) replaySegment(seg segment, from uint64, fn func(uint64, []byte) error) (err error) {
	f, err := l.fs.OpenFile(seg.path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("wal: open segment: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("wal: close %s: %w", seg.path, cerr)
		}
	}()
	hdr := make([]byte, segmentHeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return fmt.Errorf("wal: read header of %s: %w", seg.path, noEOF(err))
	}
	if reason := checkSegmentHeader(hdr, seg.first); reason != "" {
		return corruptf(seg.path, 0, "%s", reason)
	}
	s := newScanner(f, seg.size, seg.first)
	for s.next < seg.end {
		index := s.next
		data, err := s.scan(index < from)
		if err != nil {
			return scanErr(seg.path, err)
		}
		if index < from {
			continue
		}
		if err := fn(index, data); err != nil {
			return err
		}
	}
	return nil
}
