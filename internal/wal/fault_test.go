package wal

import (
	"errors"
	"slices"
	"testing"
)

var errInjected = errors.New("injected fault")

// TestSyncFailureIsSticky: after a failed fsync nothing more is accepted,
// and a reopen recovers what reached the file.
func TestSyncFailureIsSticky(t *testing.T) {
	cases := []struct {
		name string
		fail func(f *faultFS)
		// act appends and syncs so that the fault fires
		act func(l *Log) error
	}{
		{"Sync", func(f *faultFS) { f.syncErr = errInjected }, func(l *Log) error {
			if _, err := l.Append([]byte("b")); err != nil {
				return err
			}
			return l.Sync()
		}},
		{"roll", func(f *faultFS) { f.syncErr = errInjected }, func(l *Log) error {
			_, err := l.Append(make([]byte, 2000))
			return err
		}},
		{"directory sync on roll", func(f *faultFS) { f.dirErr = errInjected }, func(l *Log) error {
			_, err := l.Append(make([]byte, 2000))
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fsys := newFaultFS()
			opts := Options{SegmentSize: 1 << 10, FS: fsys}
			l := mustOpen(t, dir, opts)
			appendAll(t, l, [][]byte{[]byte("a")})
			fsys.set(c.fail)
			if err := c.act(l); !errors.Is(err, errInjected) {
				t.Fatalf("got %v, want the injected fault", err)
			}
			fsys.set(func(f *faultFS) { f.syncErr, f.dirErr = nil, nil })
			if _, err := l.Append([]byte("c")); !errors.Is(err, errInjected) {
				t.Fatalf("Append after failure = %v, want the sticky fault", err)
			}
			if err := l.Sync(); !errors.Is(err, errInjected) {
				t.Fatalf("Sync after failure = %v, want the sticky fault", err)
			}
			if err := l.TruncateBack(0); !errors.Is(err, errInjected) {
				t.Fatalf("TruncateBack after failure = %v, want the sticky fault", err)
			}
			l.Close()

			l = mustOpen(t, dir, opts)
			defer mustClose(t, l)
			if got := l.NextIndex(); got < 1 {
				t.Fatalf("reopened log lost the first record (NextIndex %d)", got)
			}
			appendAll(t, l, [][]byte{[]byte("d")})
		})
	}
}

// TestWriteFailureIsUndone: a write that fails half way is cut off, the
// index is not used up, and the log goes on.
func TestWriteFailureIsUndone(t *testing.T) {
	dir := t.TempDir()
	fsys := newFaultFS()
	l := mustOpen(t, dir, Options{FS: fsys})
	appendAll(t, l, [][]byte{[]byte("a")})
	fsys.set(func(f *faultFS) { f.writeErr = errInjected })
	if _, err := l.Append(make([]byte, 500)); !errors.Is(err, errInjected) {
		t.Fatalf("Append = %v, want the injected fault", err)
	}
	fsys.set(func(f *faultFS) { f.writeErr = nil })
	appendAll(t, l, [][]byte{[]byte("b")})
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{[]byte("a"), []byte("b")}
	checkContents(t, l, 0, want)
	mustClose(t, l)
	l = mustOpen(t, dir, Options{})
	defer mustClose(t, l)
	checkContents(t, l, 0, want)
}

// TestCreateFailureIsRetried: a roll that cannot create the next segment
// fails the Append without poisoning the log, and the next Append rolls.
func TestCreateFailureIsRetried(t *testing.T) {
	dir := t.TempDir()
	fsys := newFaultFS()
	opts := Options{SegmentSize: 1 << 10, FS: fsys}
	l := mustOpen(t, dir, opts)
	appendAll(t, l, [][]byte{record(0, 900)})
	fsys.set(func(f *faultFS) { f.createErr = errInjected })
	if _, err := l.Append(record(1, 900)); !errors.Is(err, errInjected) {
		t.Fatalf("Append = %v, want the injected fault", err)
	}
	fsys.set(func(f *faultFS) { f.createErr = nil })
	appendAll(t, l, [][]byte{record(1, 900)})
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{record(0, 900), record(1, 900)}
	checkContents(t, l, 0, want)
	if n := len(segmentFiles(t, dir)); n != 2 {
		t.Fatalf("%d segment files, want 2", n)
	}
	mustClose(t, l)
	l = mustOpen(t, dir, opts)
	defer mustClose(t, l)
	checkContents(t, l, 0, want)
}

// TestTruncateFrontRemoveFailure: a failed removal stops TruncateFront with
// the segments removed so far gone, and a retry finishes the job.
func TestTruncateFrontRemoveFailure(t *testing.T) {
	dir := t.TempDir()
	fsys := newFaultFS()
	opts := Options{SegmentSize: 1 << 10, FS: fsys}
	l := mustOpen(t, dir, opts)
	recs := make([][]byte, 30)
	for i := range recs {
		recs[i] = record(uint64(i), 100)
	}
	appendAll(t, l, recs)
	calls := 0
	fsys.set(func(f *faultFS) {
		f.removeErr = func() error {
			calls++
			if calls == 2 {
				return errInjected
			}
			return nil
		}
	})
	if err := l.TruncateFront(24); !errors.Is(err, errInjected) {
		t.Fatalf("TruncateFront = %v, want the injected fault", err)
	}
	// One segment went, the log is consistent and still usable.
	checkContents(t, l, 8, recs[8:])
	fsys.set(func(f *faultFS) { f.removeErr = nil })
	if err := l.TruncateFront(24); err != nil {
		t.Fatal(err)
	}
	checkContents(t, l, 24, recs[24:])
	appendAll(t, l, [][]byte{[]byte("x")})
	mustClose(t, l)
	l = mustOpen(t, dir, opts)
	defer mustClose(t, l)
	checkContents(t, l, 24, append(slices.Clone(recs[24:]), []byte("x")))
}
