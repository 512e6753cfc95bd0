package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vfs"
)

// segment describes one segment file. Values are copied out of Log.mu for
// replays; only the active (last) segment's end and size change.
type segment struct {
	path  string
	first uint64 // index of the first record, also in the file name
	end   uint64 // index after the last record
	size  int64  // bytes of header and whole records
}

// segFile is an open segment file shared by the appender and a running Sync.
// refs is guarded by Log.mu; the file is closed when it drops to zero, so a
// roll never closes a file under an fsync in progress.
type segFile struct {
	f    vfs.File
	refs int
}

// recordError says why the bytes at off are not the next record. Recovery
// treats it as a torn tail in the newest segment and as corruption anywhere
// else.
type recordError struct {
	off    int64
	reason string
}

func (e *recordError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.reason) }

// scanner reads the records of one segment in order. Every length is checked
// against the bytes left in the file before it is used.
type scanner struct {
	br   *bufio.Reader
	off  int64  // offset of the next record
	size int64  // bytes of the file to read
	next uint64 // index the next record must carry
	buf  []byte
}

func newScanner(r io.ReaderAt, size int64, first uint64) *scanner {
	sr := io.NewSectionReader(r, segmentHeaderSize, size-segmentHeaderSize)
	return &scanner{
		br:   bufio.NewReaderSize(sr, int(min(size, 256<<10))),
		off:  segmentHeaderSize,
		size: size,
		next: first,
	}
}

func (s *scanner) bad(format string, args ...any) error {
	return &recordError{off: s.off, reason: fmt.Sprintf(format, args...)}
}

// scan reads the next record and returns its data, which is valid until the
// next call. It returns io.EOF at the end of the file, a *recordError when
// the bytes are not the expected record, and any other error for a failed
// read. With skip the data is neither read nor checked.
func (s *scanner) scan(skip bool) ([]byte, error) {
	left := s.size - s.off
	if left == 0 {
		return nil, io.EOF
	}
	if left < recordHeaderSize {
		return nil, s.bad("short record header (%d bytes left)", left)
	}
	var h [recordHeaderSize]byte
	if _, err := io.ReadFull(s.br, h[:]); err != nil {
		return nil, fmt.Errorf("read record header at %d: %w", s.off, noEOF(err))
	}
	sum := binary.LittleEndian.Uint32(h[0:])
	n := int64(binary.LittleEndian.Uint32(h[4:]))
	index := binary.LittleEndian.Uint64(h[8:])
	switch {
	case isZero(h[:]):
		return nil, s.bad("zero-filled record header")
	case n > MaxRecordSize:
		return nil, s.bad("record length %d exceeds %d", n, MaxRecordSize)
	case n > left-recordHeaderSize:
		return nil, s.bad("record length %d runs past the end of the file (%d bytes left)", n, left-recordHeaderSize)
	case index != s.next:
		return nil, s.bad("record index %d, want %d", index, s.next)
	}
	var data []byte
	if skip {
		if _, err := s.br.Discard(int(n)); err != nil {
			return nil, fmt.Errorf("read record data at %d: %w", s.off, noEOF(err))
		}
	} else {
		if int64(cap(s.buf)) < n {
			s.buf = make([]byte, n)
		}
		data = s.buf[:n]
		if _, err := io.ReadFull(s.br, data); err != nil {
			return nil, fmt.Errorf("read record data at %d: %w", s.off, noEOF(err))
		}
		crc := crc32.Update(crc32.Update(0, castagnoli, h[4:]), castagnoli, data)
		if crc != sum {
			return nil, s.bad("checksum mismatch on record %d", index)
		}
	}
	s.off += recordHeaderSize + n
	s.next++
	return data, nil
}

// noEOF turns EOF inside bytes the file size promised into an error that
// cannot be mistaken for the clean end of a segment.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fileSize returns the size of f.
func fileSize(f vfs.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// createSegment creates the segment file for first, writes its header and
// fsyncs it; the caller fsyncs the directory. On failure the file is closed
// and removed. syncFailed reports whether the failure came from fsync, which
// leaves the device in doubt.
func createSegment(fsys vfs.FS, path string, first uint64) (f vfs.File, syncFailed bool, err error) {
	f, err = fsys.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("wal: create segment: %w", err)
	}
	fail := func() {
		f.Close()
		fsys.Remove(path)
	}
	if _, err := f.WriteAt(encodeSegmentHeader(first), 0); err != nil {
		fail()
		return nil, false, fmt.Errorf("wal: write segment header %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		fail()
		return nil, true, fmt.Errorf("wal: sync new segment %s: %w", path, err)
	}
	return f, false, nil
}

// findOffset returns the offset of the record with index target in seg,
// reading headers only. target must be in [seg.first, seg.end].
func findOffset(r io.ReaderAt, seg segment, target uint64) (int64, error) {
	s := newScanner(r, seg.size, seg.first)
	for s.next < target {
		if _, err := s.scan(true); err != nil {
			return 0, scanErr(seg.path, err)
		}
	}
	return s.off, nil
}

// scanErr maps a scanner error inside bytes that must be valid to an error
// for the caller: damage becomes errkind.ErrCorrupt, a read error stays one.
func scanErr(path string, err error) error {
	var re *recordError
	if errors.As(err, &re) {
		return corruptf(path, re.off, "%s", re.reason)
	}
	if errors.Is(err, io.EOF) {
		return errkind.Corruptf("wal: corrupt: %s: unexpected end of segment", path)
	}
	return fmt.Errorf("wal: %s: %w", path, err)
}
