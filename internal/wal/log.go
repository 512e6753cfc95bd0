package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/shoaldb/shoal/internal/vfs"
)

// Options configure a Log. The zero value is usable.
type Options struct {
	// SegmentSize is the size in bytes a segment grows to before the log
	// rolls to a new one (Qdrant's wal_capacity_mb * MiB). Zero means
	// DefaultSegmentSize.
	SegmentSize int64

	// SegmentsAhead is Qdrant's wal_segments_ahead. It is accepted for
	// configuration compatibility; segments are not preallocated.
	SegmentsAhead int

	// Logger receives warnings about damaged tails truncated on Open.
	// Nil means slog.Default().
	Logger *slog.Logger

	// FS is the file system; nil means vfs.Default.
	FS vfs.FS

	// FirstIndex is the index of the first record of a log Open creates
	// (a directory without segments): a shard restored from a snapshot
	// numbers its next operation after those its segments cover. A log
	// that exists keeps its own indexes.
	FirstIndex uint64
}

func (o Options) withDefaults() (Options, error) {
	if o.SegmentSize < 0 {
		return o, fmt.Errorf("wal: negative segment size %d", o.SegmentSize)
	}
	if o.SegmentsAhead < 0 {
		return o, fmt.Errorf("wal: negative segments ahead %d", o.SegmentsAhead)
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.FS = vfs.OrDefault(o.FS)
	return o, nil
}

// Log is a segmented append-only log in one directory. See the package
// documentation for the format and the concurrency rules.
type Log struct {
	dir         string
	fs          vfs.FS
	logger      *slog.Logger
	segmentSize int64

	// truncMu is held shared by Replay and exclusively by TruncateFront,
	// TruncateBack and Close, so files never shrink or vanish under a
	// replay.
	truncMu sync.RWMutex

	// syncMu serializes the fsyncs of Sync. Callers queue here; the one in
	// front fsyncs everything appended so far, and the ones behind it find
	// their records already durable.
	syncMu sync.Mutex

	mu struct {
		sync.Mutex
		segs    []segment // oldest first; the last one is active
		active  *segFile  // open file of segs[len(segs)-1]
		next    uint64    // index of the next Append
		durable uint64    // every record below it is fsynced
		buf     []byte    // encoding buffer reused by Append
		closed  bool
		err     error // sticky failure; see failLocked
	}
}

// FirstIndex returns the index of the oldest record held (equal to
// NextIndex when the log is empty).
func (l *Log) FirstIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.segs[0].first
}

// NextIndex returns the index the next Append will get.
func (l *Log) NextIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.next
}

// usableLocked returns why the log cannot be written to, if it cannot.
func (l *Log) usableLocked() error {
	if l.mu.closed {
		return ErrClosed
	}
	return l.mu.err
}

// failLocked poisons the log with err and returns it. It is used when the
// durable state is in doubt (a failed fsync, a half-done truncation); only a
// fresh Open, whose recovery reads what really is on disk, can go on. The
// error matches vfs.ErrSyncFailed, the owner's cue to stop writing.
func (l *Log) failLocked(err error) error {
	err = vfs.MarkSync(err)
	if l.mu.err == nil {
		l.mu.err = fmt.Errorf("%w (log unusable until reopened)", err)
	}
	return err
}

// releaseLocked drops one reference to sf and closes the file with the last.
func (l *Log) releaseLocked(sf *segFile) error {
	sf.refs--
	if sf.refs > 0 {
		return nil
	}
	return sf.f.Close()
}

// Append writes a record holding a copy of data and returns its index. The
// record is handed to the operating system but not fsynced; call Sync to
// make it durable.
func (l *Log) Append(data []byte) (uint64, error) {
	return l.AppendBatch([][]byte{data})
}

// AppendBatch writes one record for each element of batch, with
// consecutive indices, in a single write, and returns the index of the
// first. Either every record is handed to the operating system or, on
// error, none is. The records go to one segment: a batch that does not fit
// the active segment starts a new one, and a batch larger than SegmentSize
// gets a segment of its own, as a large record does. A crash of the machine
// before a Sync may keep a prefix of the batch (recovery cuts the log after
// the last whole record).
func (l *Log) AppendBatch(batch [][]byte) (uint64, error) {
	var n int64
	for _, data := range batch {
		if len(data) > MaxRecordSize {
			return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxRecordSize)
		}
		n += recordSize(len(data))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return 0, err
	}
	first := l.mu.next
	if len(batch) == 0 {
		return first, nil
	}
	seg := &l.mu.segs[len(l.mu.segs)-1]
	if seg.size > segmentHeaderSize && seg.size+n > l.segmentSize {
		if err := l.rollLocked(); err != nil {
			return 0, err
		}
		seg = &l.mu.segs[len(l.mu.segs)-1]
	}

	buf := l.mu.buf[:0]
	for i, data := range batch {
		buf = appendRecord(buf, first+uint64(i), data)
	}
	f := l.mu.active.f
	if _, err := f.WriteAt(buf, seg.size); err != nil {
		// Part of the batch may have landed; cut it off so the next
		// record starts where this batch should have.
		if terr := f.Truncate(seg.size); terr != nil {
			return 0, l.failLocked(fmt.Errorf("wal: write %s: %w; truncate after failed write: %w", seg.path, err, terr))
		}
		return 0, fmt.Errorf("wal: write %s: %w", seg.path, err)
	}
	if cap(buf) <= 1<<20 {
		l.mu.buf = buf
	}
	next := first + uint64(len(batch))
	seg.size += n
	seg.end = next
	l.mu.next = next
	return first, nil
}

// rollLocked seals the active segment and starts a new one at l.mu.next.
func (l *Log) rollLocked() error {
	old := l.mu.active
	oldPath := l.mu.segs[len(l.mu.segs)-1].path
	if err := old.f.Sync(); err != nil {
		return l.failLocked(fmt.Errorf("wal: sync %s before roll: %w", oldPath, err))
	}
	l.mu.durable = l.mu.next

	first := l.mu.next
	path := segmentPath(l.dir, first)
	f, syncFailed, err := createSegment(l.fs, path, first)
	if err != nil {
		if syncFailed {
			return l.failLocked(err)
		}
		return err
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		f.Close()
		return l.failLocked(fmt.Errorf("wal: sync dir %s after creating %s: %w", l.dir, path, err))
	}
	if err := l.releaseLocked(old); err != nil {
		// The sealed file was fsynced above; a failing close loses nothing.
		l.logger.Warn("wal: close sealed segment", "file", oldPath, "err", err)
	}
	l.mu.segs = append(l.mu.segs, segment{path: path, first: first, end: first, size: segmentHeaderSize})
	l.mu.active = &segFile{f: f, refs: 1}
	return nil
}

// Sync makes every record appended before the call durable. Concurrent
// callers are coalesced: a caller whose records another caller's fsync
// already covered returns without an fsync of its own. Appends proceed while
// the fsync runs.
func (l *Log) Sync() error {
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	target := l.mu.next
	covered := l.mu.durable >= target
	l.mu.Unlock()
	if covered {
		return nil
	}

	l.syncMu.Lock()
	defer l.syncMu.Unlock()

	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	if l.mu.durable >= target {
		l.mu.Unlock()
		return nil
	}
	// Everything below the active segment was fsynced when it was sealed,
	// so fsyncing the active file covers all records written so far.
	sf := l.mu.active
	sf.refs++
	upto := l.mu.next
	path := l.mu.segs[len(l.mu.segs)-1].path
	l.mu.Unlock()

	err := sf.f.Sync()

	l.mu.Lock()
	defer l.mu.Unlock()
	cerr := l.releaseLocked(sf)
	if err != nil {
		return l.failLocked(fmt.Errorf("wal: sync %s: %w", path, err))
	}
	if upto > l.mu.durable {
		l.mu.durable = upto
	}
	if cerr != nil {
		// The segment was sealed, and fsynced, while we held it.
		l.logger.Warn("wal: close sealed segment", "file", path, "err", cerr)
	}
	return nil
}

// Close fsyncs the active segment and closes the log. Further calls return
// ErrClosed, except Close itself, FirstIndex and NextIndex.
func (l *Log) Close() error {
	l.truncMu.Lock()
	defer l.truncMu.Unlock()
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return nil
	}
	l.mu.closed = true
	var serr error
	if l.mu.err == nil && l.mu.durable < l.mu.next {
		if serr = l.mu.active.f.Sync(); serr == nil {
			l.mu.durable = l.mu.next
		} else {
			serr = fmt.Errorf("wal: sync on close: %w", serr)
		}
	}
	cerr := l.releaseLocked(l.mu.active)
	if cerr != nil {
		cerr = fmt.Errorf("wal: close: %w", cerr)
	}
	return errors.Join(serr, cerr)
}
