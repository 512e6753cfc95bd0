package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Open opens the log in dir, creating the directory and an empty log (whose
// first index is 0) if needed. It verifies every segment, truncates a torn
// tail of the newest one, and returns an error matching errkind.ErrCorrupt for
// damage a crash cannot explain.
func Open(dir string, opts Options) (*Log, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, fs: opts.FS, logger: opts.Logger, segmentSize: opts.SegmentSize}
	if err := vfs.EnsureDir(l.fs, dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: create dir: %w", err)
	}
	names, err := l.fs.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list dir: %w", err)
	}
	var firsts []uint64
	for _, name := range names {
		if first, ok := parseSegmentName(name); ok {
			firsts = append(firsts, first)
		}
	}
	slices.Sort(firsts)

	if len(firsts) == 0 {
		if err := l.create(opts.FirstIndex); err != nil {
			return nil, err
		}
		return l, nil
	}
	if err := l.recover(firsts); err != nil {
		return nil, err
	}
	return l, nil
}

// create starts an empty log at index first.
func (l *Log) create(first uint64) error {
	path := segmentPath(l.dir, first)
	f, _, err := createSegment(l.fs, path, first)
	if err != nil {
		return err
	}
	// The directory itself may be new too.
	for _, d := range []string{l.dir, filepath.Dir(l.dir)} {
		if err := l.fs.SyncDir(d); err != nil {
			f.Close()
			return fmt.Errorf("wal: sync dir %s: %w", d, err)
		}
	}
	l.mu.segs = []segment{{path: path, first: first, end: first, size: segmentHeaderSize}}
	l.mu.active = &segFile{f: f, refs: 1}
	l.mu.next, l.mu.durable = first, first
	return nil
}

// recover verifies the segments starting at firsts (sorted) and opens the
// last one for appending.
func (l *Log) recover(firsts []uint64) error {
	segs := make([]segment, 0, len(firsts))
	expect := firsts[0]
	for i, first := range firsts {
		path := segmentPath(l.dir, first)
		if first != expect {
			what := "gap"
			if first < expect {
				what = "overlap"
			}
			return errkind.Corruptf("wal: corrupt: %s: %s: segment starts at index %d, previous segment ends at %d",
				path, what, first, expect)
		}
		last := i == len(firsts)-1
		seg, f, err := l.recoverSegment(path, first, last)
		if err != nil {
			return err
		}
		segs = append(segs, seg)
		expect = seg.end
		if last {
			l.mu.active = &segFile{f: f, refs: 1}
		}
	}
	// A tail written by the previous process may still sit in the page
	// cache only; make it durable before anything is built on top of it.
	if err := l.mu.active.f.Sync(); err != nil {
		l.mu.active.f.Close()
		return fmt.Errorf("wal: sync %s: %w", segs[len(segs)-1].path, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		l.mu.active.f.Close()
		return fmt.Errorf("wal: sync dir %s: %w", l.dir, err)
	}
	l.mu.segs = segs
	l.mu.next = expect
	l.mu.durable = expect
	return nil
}

// recoverSegment verifies one segment. A sealed segment must be intact; the
// last one may end in a torn tail, which is cut off. The last segment is
// returned open for writing; others are closed.
func (l *Log) recoverSegment(path string, first uint64, last bool) (segment, vfs.File, error) {
	flag := os.O_RDONLY
	if last {
		flag = os.O_RDWR
	}
	f, err := l.fs.OpenFile(path, flag, 0)
	if err != nil {
		return segment{}, nil, fmt.Errorf("wal: open segment: %w", err)
	}
	seg, err := l.verifySegment(f, path, first, last)
	if err == nil && !last {
		err = f.Close()
	}
	if err != nil {
		f.Close()
		return segment{}, nil, err
	}
	if !last {
		f = nil
	}
	return seg, f, nil
}

func (l *Log) verifySegment(f vfs.File, path string, first uint64, last bool) (segment, error) {
	seg := segment{path: path, first: first, end: first}
	size, err := fileSize(f)
	if err != nil {
		return seg, fmt.Errorf("wal: stat %s: %w", path, err)
	}
	hdr := make([]byte, segmentHeaderSize)
	if size >= segmentHeaderSize {
		if _, err := f.ReadAt(hdr, 0); err != nil {
			return seg, fmt.Errorf("wal: read header of %s: %w", path, noEOF(err))
		}
	}
	if size < segmentHeaderSize || isZero(hdr) {
		// A crash between creating a segment and its header reaching
		// the disk; nothing in it was ever acknowledged.
		if !last {
			return seg, corruptf(path, 0, "missing segment header (%d bytes)", size)
		}
		l.logger.Warn("wal: rewriting torn segment header", "file", path, "size", size)
		if err := f.Truncate(0); err != nil {
			return seg, fmt.Errorf("wal: truncate %s: %w", path, err)
		}
		if _, err := f.WriteAt(encodeSegmentHeader(first), 0); err != nil {
			return seg, fmt.Errorf("wal: write header of %s: %w", path, err)
		}
		seg.size = segmentHeaderSize
		return seg, nil
	}
	if reason := checkSegmentHeader(hdr, first); reason != "" {
		return seg, corruptf(path, 0, "%s", reason)
	}

	s := newScanner(f, size, first)
	for {
		_, err := s.scan(false)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		var re *recordError
		if !errors.As(err, &re) {
			return seg, fmt.Errorf("wal: %s: %w", path, err)
		}
		if !last {
			return seg, corruptf(path, re.off, "%s", re.reason)
		}
		// A crash only tears the end of the newest segment. A valid record
		// after the bad one means the damage is inside acknowledged data:
		// refuse to cut it off silently.
		if at, ok, err := validRecordAfter(f, re.off+1, size, s.next); err != nil {
			return seg, fmt.Errorf("wal: %s: %w", path, err)
		} else if ok {
			return seg, corruptf(path, re.off, "%s, but a valid record follows at offset %d", re.reason, at)
		}
		l.logger.Warn("wal: truncating torn tail", "file", path, "offset", re.off,
			"dropped_bytes", size-re.off, "reason", re.reason, "next_index", s.next)
		if err := f.Truncate(re.off); err != nil {
			return seg, fmt.Errorf("wal: truncate %s: %w", path, err)
		}
		break
	}
	seg.end = s.next
	seg.size = s.off
	return seg, nil
}

// validRecordAfter reports whether a record with a valid checksum and an
// index at or after next starts anywhere in [from, size).
func validRecordAfter(f vfs.File, from, size int64, next uint64) (int64, bool, error) {
	if size-from < recordHeaderSize {
		return 0, false, nil
	}
	buf := make([]byte, size-from)
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return 0, false, fmt.Errorf("read after damaged record: %w", err)
	}
	for i := 0; i+recordHeaderSize <= len(buf); i++ {
		h := buf[i : i+recordHeaderSize]
		n := int(binary.LittleEndian.Uint32(h[4:]))
		index := binary.LittleEndian.Uint64(h[8:])
		if index < next || index-next > 1<<32 || n > len(buf)-i-recordHeaderSize {
			continue
		}
		if crc32.Checksum(buf[i+4:i+recordHeaderSize+n], castagnoli) == binary.LittleEndian.Uint32(h) {
			return from + int64(i), true, nil
		}
	}
	return 0, false, nil
}
