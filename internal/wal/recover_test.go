package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vfs"
)

// buildLog writes count records of size bytes with small segments, closes
// the log and returns the records and the segment files.
func buildLog(t *testing.T, dir string, count, size int) ([][]byte, []string) {
	t.Helper()
	l := mustOpen(t, dir, Options{SegmentSize: 1 << 10})
	recs := make([][]byte, count)
	for i := range recs {
		recs[i] = record(uint64(i), size)
	}
	appendAll(t, l, recs)
	mustClose(t, l)
	files := segmentFiles(t, dir)
	if len(files) < 3 {
		t.Fatalf("only %d segments", len(files))
	}
	return recs, files
}

func writeAt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, path, off, []byte{b[off] ^ 0x5a})
}

func truncateFile(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	writeAt(t, path, fileLen(t, path), b)
}

// TestTornTail damages the end of the newest segment the ways a crash (or a
// preallocating file system) can, and checks Open cuts the damage off, warns,
// and leaves a log that takes appends at the right index.
func TestTornTail(t *testing.T) {
	const count, size = 40, 100
	rec := recordSize(size)
	cases := []struct {
		name   string
		damage func(t *testing.T, last string, end int64)
		lost   int  // records lost from the end
		clean  bool // the damage leaves a valid file: no warning
	}{
		{name: "cut inside data", damage: func(t *testing.T, p string, end int64) { truncateFile(t, p, end-10) }, lost: 1},
		{name: "cut inside header", damage: func(t *testing.T, p string, end int64) { truncateFile(t, p, end-rec+7) }, lost: 1},
		{name: "cut at a record boundary", damage: func(t *testing.T, p string, end int64) { truncateFile(t, p, end-rec) }, lost: 1, clean: true},
		{name: "garbage appended", damage: func(t *testing.T, p string, _ int64) {
			appendBytes(t, p, []byte("\xde\xad\xbe\xef this is not a record, not at all"))
		}, lost: 0},
		{name: "short garbage appended", damage: func(t *testing.T, p string, _ int64) { appendBytes(t, p, []byte{1, 2, 3}) }, lost: 0},
		{name: "zero-filled space appended", damage: func(t *testing.T, p string, _ int64) { appendBytes(t, p, make([]byte, 64<<10)) }, lost: 0},
		{name: "huge length appended", damage: func(t *testing.T, p string, _ int64) {
			appendBytes(t, p, []byte{1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0})
		}, lost: 0},
		{name: "flipped data byte", damage: func(t *testing.T, p string, end int64) { flipByte(t, p, end-1) }, lost: 1},
		{name: "flipped checksum byte", damage: func(t *testing.T, p string, end int64) { flipByte(t, p, end-rec) }, lost: 1},
		{name: "flipped length byte", damage: func(t *testing.T, p string, end int64) { flipByte(t, p, end-rec+4) }, lost: 1},
		{name: "flipped index byte", damage: func(t *testing.T, p string, end int64) { flipByte(t, p, end-rec+8) }, lost: 1},
		{name: "zeroed last record", damage: func(t *testing.T, p string, end int64) { writeAt(t, p, end-rec, make([]byte, rec)) }, lost: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			recs, files := buildLog(t, dir, count, size)
			last := files[len(files)-1]
			end := fileLen(t, last)
			if (end-segmentHeaderSize)/rec < 2 {
				t.Fatalf("last segment holds fewer than 2 records")
			}
			c.damage(t, last, end)

			logger, logs := captureLogger()
			opts := Options{SegmentSize: 1 << 10, Logger: logger}
			l := mustOpen(t, dir, opts)
			want := recs[:count-c.lost]
			checkContents(t, l, 0, want)
			if warned := strings.Contains(logs.String(), "torn tail"); warned == c.clean {
				t.Fatalf("warned = %v, want %v; log output: %q", warned, !c.clean, logs.String())
			}
			if got, w := fileLen(t, last), end-int64(c.lost)*rec; got != w {
				t.Fatalf("last segment is %d bytes after recovery, want %d", got, w)
			}

			more := []byte("written after recovery")
			idx, err := l.Append(more)
			if err != nil || idx != uint64(len(want)) {
				t.Fatalf("Append after recovery = %d, %v; want %d", idx, err, len(want))
			}
			mustClose(t, l)
			l = mustOpen(t, dir, opts)
			defer mustClose(t, l)
			checkContents(t, l, 0, append(slices.Clone(want), more))
		})
	}
}

// TestTornSegmentHeader covers a crash between creating a segment and its
// header reaching the disk.
func TestTornSegmentHeader(t *testing.T) {
	for _, size := range []int64{0, 5, segmentHeaderSize} {
		dir := t.TempDir()
		recs, files := buildLog(t, dir, 30, 100)
		last := files[len(files)-1]
		first, _ := parseSegmentName(filepath.Base(last))
		truncateFile(t, last, 0)
		truncateFile(t, last, size) // zero-filled

		logger, logs := captureLogger()
		l := mustOpen(t, dir, Options{SegmentSize: 1 << 10, Logger: logger})
		checkContents(t, l, 0, recs[:first])
		if !strings.Contains(logs.String(), "torn segment header") {
			t.Fatalf("size %d: no warning logged", size)
		}
		appendAll(t, l, [][]byte{[]byte("x")})
		mustClose(t, l)
		l = mustOpen(t, dir, Options{SegmentSize: 1 << 10})
		checkContents(t, l, 0, append(slices.Clone(recs[:first]), []byte("x")))
		mustClose(t, l)
	}
}

// TestCorruption damages what a crash cannot, and checks Open refuses with
// errkind.ErrCorrupt naming the file.
func TestCorruption(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, files []string) (culprit string)
	}{
		{"flipped data byte in first segment", func(t *testing.T, f []string) string {
			flipByte(t, f[0], segmentHeaderSize+recordHeaderSize+3)
			return f[0]
		}},
		{"flipped byte at end of middle segment", func(t *testing.T, f []string) string {
			flipByte(t, f[1], fileLen(t, f[1])-1)
			return f[1]
		}},
		{"truncated middle segment", func(t *testing.T, f []string) string {
			truncateFile(t, f[1], fileLen(t, f[1])-10)
			return f[1]
		}},
		{"middle segment lost its last record", func(t *testing.T, f []string) string {
			truncateFile(t, f[1], fileLen(t, f[1])-recordSize(100))
			return f[2]
		}},
		{"garbage after middle segment", func(t *testing.T, f []string) string {
			appendBytes(t, f[1], []byte("garbage"))
			return f[1]
		}},
		{"zeros after middle segment", func(t *testing.T, f []string) string {
			appendBytes(t, f[1], make([]byte, 4096))
			return f[1]
		}},
		{"missing middle segment", func(t *testing.T, f []string) string {
			if err := os.Remove(f[1]); err != nil {
				t.Fatal(err)
			}
			return f[2]
		}},
		{"empty first segment", func(t *testing.T, f []string) string {
			truncateFile(t, f[0], 0)
			return f[0]
		}},
		{"bad magic in last segment", func(t *testing.T, f []string) string {
			last := f[len(f)-1]
			writeAt(t, last, 0, []byte("XXXX"))
			return last
		}},
		{"unknown version in first segment", func(t *testing.T, f []string) string {
			writeAt(t, f[0], 4, []byte{9})
			return f[0]
		}},
		{"segment renamed", func(t *testing.T, f []string) string {
			last := f[len(f)-1]
			first, _ := parseSegmentName(filepath.Base(last))
			renamed := segmentPath(filepath.Dir(last), first+1)
			if err := os.Rename(last, renamed); err != nil {
				t.Fatal(err)
			}
			return renamed
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, files := buildLog(t, dir, 40, 100)
			culprit := c.damage(t, files)
			l, err := Open(dir, Options{SegmentSize: 1 << 10, Logger: quietLogger})
			if err == nil {
				l.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, errkind.ErrCorrupt) {
				t.Fatalf("error %v does not match errkind.ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), filepath.Base(culprit)) {
				t.Fatalf("error %q does not name %s", err, filepath.Base(culprit))
			}
		})
	}
}

// TestReplayDetectsCorruption checks that damage appearing after Open is
// caught by Replay rather than handed to the caller.
func TestReplayDetectsCorruption(t *testing.T) {
	dir := t.TempDir()
	buildLog(t, dir, 40, 100)
	l := mustOpen(t, dir, Options{SegmentSize: 1 << 10})
	defer mustClose(t, l)
	files := segmentFiles(t, dir)
	flipByte(t, files[1], segmentHeaderSize+recordHeaderSize+1)
	err := l.Replay(0, func(uint64, []byte) error { return nil })
	if !errors.Is(err, errkind.ErrCorrupt) || !strings.Contains(err.Error(), filepath.Base(files[1])) {
		t.Fatalf("Replay over a damaged segment = %v", err)
	}
}

// FuzzRecover opens a log whose only segment holds arbitrary bytes. Open
// must not panic; it either reports corruption or yields a log that replays,
// takes an append at NextIndex and reopens to the same contents.
func FuzzRecover(f *testing.F) {
	valid := encodeSegmentHeader(0)
	for i := range uint64(4) {
		valid = appendRecord(valid, i, record(i, int(i*13)))
	}
	f.Add([]byte{})
	f.Add([]byte("SWAL"))
	f.Add(encodeSegmentHeader(0))
	f.Add(encodeSegmentHeader(7))
	f.Add(valid)
	f.Add(valid[:len(valid)-5])
	f.Add(append(slices.Clone(valid), make([]byte, 40)...))
	f.Add(append(slices.Clone(valid), 1, 2, 3, 4, 0xff, 0xff, 0xff, 0x7f, 4, 0, 0, 0, 0, 0, 0, 0))

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(segmentPath(dir, 0), data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{SegmentSize: 256, Logger: quietLogger, FS: &faultFS{FS: vfs.Default, noSync: true}}
		l, err := Open(dir, opts)
		if err != nil {
			if !errors.Is(err, errkind.ErrCorrupt) {
				t.Fatalf("Open failed without errkind.ErrCorrupt: %v", err)
			}
			return
		}
		if l.FirstIndex() != 0 {
			t.Fatalf("FirstIndex = %d", l.FirstIndex())
		}
		_, recs := readAll(t, l, 0)
		if uint64(len(recs)) != l.NextIndex() {
			t.Fatalf("replayed %d records, NextIndex %d", len(recs), l.NextIndex())
		}
		more := []byte("after")
		if idx, err := l.Append(more); err != nil || idx != uint64(len(recs)) {
			t.Fatalf("Append = %d, %v; want %d", idx, err, len(recs))
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l, err = Open(dir, opts)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer l.Close()
		_, again := readAll(t, l, 0)
		want := append(recs, more)
		if len(again) != len(want) {
			t.Fatalf("reopened log holds %d records, want %d", len(again), len(want))
		}
		for i := range want {
			if !bytes.Equal(again[i], want[i]) {
				t.Fatalf("record %d changed across reopen", i)
			}
		}
	})
}

// TestDamageInsideNewestSegment: a bad record followed by a valid one in the
// newest segment is not a torn tail (a crash cannot cause it), so Open must
// refuse rather than silently drop acknowledged records.
func TestDamageInsideNewestSegment(t *testing.T) {
	const count, size = 40, 100
	rec := recordSize(size)
	for _, back := range []int64{2, 3} {
		dir := t.TempDir()
		_, files := buildLog(t, dir, count, size)
		last := files[len(files)-1]
		end := fileLen(t, last)
		if (end-segmentHeaderSize)/rec < back {
			t.Fatalf("last segment holds fewer than %d records", back)
		}
		flipByte(t, last, end-back*rec+recordHeaderSize+5)
		if _, err := Open(dir, Options{SegmentSize: 1 << 10}); !errors.Is(err, errkind.ErrCorrupt) {
			t.Fatalf("damage %d records from the end: Open err = %v, want errkind.ErrCorrupt", back, err)
		}
		if got := fileLen(t, last); got != end {
			t.Fatalf("the damaged segment was modified: %d bytes, was %d", got, end)
		}
	}
}
