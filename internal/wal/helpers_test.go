package wal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/shoaldb/shoal/internal/vfs"
)

// quietLogger discards warnings; tests that check them use captureLogger.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func captureLogger() (*slog.Logger, *syncBuffer) {
	var b syncBuffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

func mustOpen(tb testing.TB, dir string, opts Options) *Log {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger
	}
	l, err := Open(dir, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	return l
}

func mustClose(tb testing.TB, l *Log) {
	tb.Helper()
	if err := l.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

// record returns deterministic data of the given size for index i.
func record(i uint64, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*31 + uint64(j)*7)
	}
	return b
}

// appendAll appends every record and checks the indices are consecutive.
func appendAll(tb testing.TB, l *Log, recs [][]byte) {
	tb.Helper()
	want := l.NextIndex()
	for _, r := range recs {
		got, err := l.Append(r)
		if err != nil {
			tb.Fatalf("Append #%d: %v", want, err)
		}
		if got != want {
			tb.Fatalf("Append returned index %d, want %d", got, want)
		}
		want++
	}
}

// readAll replays from index from and returns copies of the records.
func readAll(tb testing.TB, l *Log, from uint64) (first uint64, recs [][]byte) {
	tb.Helper()
	first = l.FirstIndex()
	first = max(first, from)
	next := first
	err := l.Replay(from, func(index uint64, data []byte) error {
		if index != next {
			return fmt.Errorf("replay gave index %d, want %d", index, next)
		}
		next++
		recs = append(recs, slices.Clone(data))
		return nil
	})
	if err != nil {
		tb.Fatalf("Replay(%d): %v", from, err)
	}
	return first, recs
}

// checkContents verifies that l holds exactly want, starting at first.
func checkContents(tb testing.TB, l *Log, first uint64, want [][]byte) {
	tb.Helper()
	if got := l.FirstIndex(); got != first {
		tb.Fatalf("FirstIndex = %d, want %d", got, first)
	}
	if got, w := l.NextIndex(), first+uint64(len(want)); got != w {
		tb.Fatalf("NextIndex = %d, want %d", got, w)
	}
	_, got := readAll(tb, l, 0)
	if len(got) != len(want) {
		tb.Fatalf("replayed %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			tb.Fatalf("record %d differs: got %d bytes, want %d", first+uint64(i), len(got[i]), len(want[i]))
		}
	}
}

// segmentFiles returns the paths of the segment files in dir, oldest first.
func segmentFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	names, err := vfs.Default.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var paths []string
	for _, n := range names {
		if _, ok := parseSegmentName(n); ok {
			paths = append(paths, filepath.Join(dir, n))
		}
	}
	slices.Sort(paths)
	return paths
}

func fileLen(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// faultFS wraps the OS file system, counts fsyncs and injects failures.
type faultFS struct {
	vfs.FS // the operating system's

	mu        sync.Mutex
	fileSyncs int
	writes    int // WriteAt calls on files
	dirSyncs  int
	noSync    bool         // skip real fsyncs (fuzzing speed)
	syncErr   error        // returned by file fsyncs while set
	dirErr    error        // returned by directory fsyncs while set
	writeErr  error        // WriteAt writes half the bytes, then fails
	createErr error        // returned by OpenFile with O_CREATE
	onSync    func()       // runs at the start of every file fsync
	removeErr func() error // consulted by Remove
}

func newFaultFS() *faultFS { return &faultFS{FS: vfs.Default} }

func (f *faultFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f.mu.Lock()
	cerr := f.createErr
	f.mu.Unlock()
	if cerr != nil && flag&os.O_CREATE != 0 {
		return nil, cerr
	}
	file, err := vfs.Default.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

func (f *faultFS) SyncDir(dir string) error {
	f.mu.Lock()
	f.dirSyncs++
	err, skip := f.dirErr, f.noSync
	f.mu.Unlock()
	if err != nil || skip {
		return err
	}
	return vfs.Default.SyncDir(dir)
}

func (f *faultFS) Remove(name string) error {
	f.mu.Lock()
	hook := f.removeErr
	f.mu.Unlock()
	if hook != nil {
		if err := hook(); err != nil {
			return err
		}
	}
	return vfs.Default.Remove(name)
}

func (f *faultFS) set(fn func(f *faultFS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *faultFS) syncs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fileSyncs
}

type faultFile struct {
	vfs.File
	fs *faultFS
}

func (f *faultFile) Sync() error {
	f.fs.mu.Lock()
	f.fs.fileSyncs++
	hook, err, skip := f.fs.onSync, f.fs.syncErr, f.fs.noSync
	f.fs.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err != nil || skip {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	f.fs.writes++
	err := f.fs.writeErr
	f.fs.mu.Unlock()
	if err == nil {
		return f.File.WriteAt(p, off)
	}
	n, werr := f.File.WriteAt(p[:len(p)/2], off)
	return n, errors.Join(err, werr)
}

func (f *faultFS) writesNow() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}
