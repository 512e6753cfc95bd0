package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestOpenEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	l := mustOpen(t, dir, Options{})
	if l.FirstIndex() != 0 || l.NextIndex() != 0 {
		t.Fatalf("new log holds [%d, %d), want [0, 0)", l.FirstIndex(), l.NextIndex())
	}
	checkContents(t, l, 0, nil)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
	l = mustOpen(t, dir, Options{})
	defer mustClose(t, l)
	checkContents(t, l, 0, nil)
	if got := segmentFiles(t, dir); len(got) != 1 || filepath.Base(got[0]) != "00000000000000000000.wal" {
		t.Fatalf("segment files %v", got)
	}
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name        string
		segmentSize int64
		count       int
		maxSize     int
		minSegments int
	}{
		{"tiny segments", 512, 400, 300, 50},
		{"small segments", 4 << 10, 500, 2000, 50},
		{"records larger than segments", 256, 50, 1000, 25},
		{"empty records", 256, 200, 0, 10},
		{"default segment size", 0, 300, 4000, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 0))
			recs := make([][]byte, c.count)
			for i := range recs {
				recs[i] = record(uint64(i), rng.IntN(c.maxSize+1))
			}
			dir := t.TempDir()
			opts := Options{SegmentSize: c.segmentSize}
			l := mustOpen(t, dir, opts)
			appendAll(t, l, recs[:c.count/2])
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			appendAll(t, l, recs[c.count/2:])
			checkContents(t, l, 0, recs)

			for _, from := range []uint64{0, 1, uint64(c.count / 3), uint64(c.count - 1), uint64(c.count), uint64(c.count + 10)} {
				first, got := readAll(t, l, from)
				want := recs[min(int(from), len(recs)):]
				if first != from || len(got) != len(want) {
					t.Fatalf("Replay(%d) gave %d records from %d, want %d", from, len(got), first, len(want))
				}
			}
			mustClose(t, l)

			if n := len(segmentFiles(t, dir)); n < c.minSegments {
				t.Fatalf("%d segment files, want at least %d", n, c.minSegments)
			}
			// Only a segment holding a single oversized record may exceed
			// the segment size.
			if fits := int64(c.maxSize)+recordHeaderSize+segmentHeaderSize <= c.segmentSize; fits {
				for _, p := range segmentFiles(t, dir) {
					if sz := fileLen(t, p); sz > c.segmentSize {
						t.Fatalf("%s has %d bytes, segment size %d", p, sz, c.segmentSize)
					}
				}
			}

			l = mustOpen(t, dir, opts)
			checkContents(t, l, 0, recs)
			more := [][]byte{[]byte("after restart"), nil, record(7, 100)}
			appendAll(t, l, more)
			mustClose(t, l)
			l = mustOpen(t, dir, opts)
			defer mustClose(t, l)
			checkContents(t, l, 0, append(recs, more...))
		})
	}
}

func TestClosed(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Options{})
	appendAll(t, l, [][]byte{[]byte("x")})
	mustClose(t, l)
	mustClose(t, l) // idempotent
	if _, err := l.Append([]byte("y")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	for name, fn := range map[string]func() error{
		"Sync":          l.Sync,
		"Replay":        func() error { return l.Replay(0, func(uint64, []byte) error { return nil }) },
		"TruncateFront": func() error { return l.TruncateFront(1) },
		"TruncateBack":  func() error { return l.TruncateBack(0) },
	} {
		if err := fn(); !errors.Is(err, ErrClosed) {
			t.Fatalf("%s after Close: %v", name, err)
		}
	}
	if l.NextIndex() != 1 || l.FirstIndex() != 0 {
		t.Fatalf("range after Close [%d, %d)", l.FirstIndex(), l.NextIndex())
	}
}

func TestReplayStopsOnCallbackError(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Options{SegmentSize: 128})
	defer mustClose(t, l)
	appendAll(t, l, [][]byte{record(0, 50), record(1, 50), record(2, 50), record(3, 50)})
	stop := errors.New("stop")
	var seen []uint64
	err := l.Replay(0, func(i uint64, _ []byte) error {
		seen = append(seen, i)
		if i == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(seen) != 3 {
		t.Fatalf("Replay = %v after %v, want stop after [0 1 2]", err, seen)
	}
}

// TestConcurrentAppendSync runs writers that each append and sync, and a
// reader that replays while they run, then checks every record landed once
// at a consecutive index with the right data.
func TestConcurrentAppendSync(t *testing.T) {
	const writers, perWriter = 8, 150
	dir := t.TempDir()
	l := mustOpen(t, dir, Options{SegmentSize: 8 << 10})

	encode := func(w, seq int) []byte {
		b := make([]byte, 8+(w*perWriter+seq)%700)
		binary.LittleEndian.PutUint32(b, uint32(w))
		binary.LittleEndian.PutUint32(b[4:], uint32(seq))
		return b
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		indexOf = map[uint64][]byte{}
		errs    = make(chan error, writers+1)
		done    = make(chan struct{})
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range perWriter {
				data := encode(w, seq)
				i, err := l.Append(data)
				if err == nil {
					err = l.Sync()
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				mu.Lock()
				indexOf[i] = data
				mu.Unlock()
			}
		}()
	}
	var readerWG sync.WaitGroup
	readerWG.Add(1)
	go func() {
		defer readerWG.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			var next uint64
			err := l.Replay(0, func(i uint64, data []byte) error {
				if i != next || len(data) < 8 {
					return fmt.Errorf("reader saw index %d (%d bytes), want %d", i, len(data), next)
				}
				next++
				return nil
			})
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(done)
	readerWG.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	const total = writers * perWriter
	if len(indexOf) != total || l.NextIndex() != total {
		t.Fatalf("%d distinct indices, NextIndex %d, want %d", len(indexOf), l.NextIndex(), total)
	}
	check := func(l *Log) {
		t.Helper()
		_, recs := readAll(t, l, 0)
		if len(recs) != total {
			t.Fatalf("replayed %d records, want %d", len(recs), total)
		}
		for i, r := range recs {
			if !bytes.Equal(r, indexOf[uint64(i)]) {
				t.Fatalf("record %d holds the wrong data", i)
			}
		}
	}
	check(l)
	mustClose(t, l)
	l = mustOpen(t, dir, Options{SegmentSize: 8 << 10})
	defer mustClose(t, l)
	check(l)
}

// TestGroupCommit checks that concurrent Syncs over the same records share
// one fsync.
func TestGroupCommit(t *testing.T) {
	fsys := newFaultFS()
	l := mustOpen(t, t.TempDir(), Options{FS: fsys})
	defer mustClose(t, l)
	appendAll(t, l, [][]byte{[]byte("a"), []byte("b"), []byte("c")})
	before := fsys.syncs()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- l.Sync()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := fsys.syncs() - before; got != 1 {
		t.Fatalf("16 concurrent Syncs did %d fsyncs, want 1", got)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := fsys.syncs() - before; got != 1 {
		t.Fatalf("Sync with nothing new did an fsync (%d total)", got)
	}
}

// TestAppendDuringSync checks that an fsync in progress does not hold up
// appends, and that a later Sync covers what was appended meanwhile.
func TestAppendDuringSync(t *testing.T) {
	fsys := newFaultFS()
	l := mustOpen(t, t.TempDir(), Options{FS: fsys})
	defer mustClose(t, l)
	appendAll(t, l, [][]byte{[]byte("a")})

	entered, release := make(chan struct{}), make(chan struct{})
	fsys.set(func(f *faultFS) {
		f.onSync = func() {
			entered <- struct{}{}
			<-release
		}
	})
	syncDone := make(chan error, 1)
	go func() { syncDone <- l.Sync() }()
	<-entered

	appended := make(chan error, 1)
	go func() {
		_, err := l.Append([]byte("b"))
		appended <- err
	}()
	select {
	case err := <-appended:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Append blocked behind a running fsync")
	}
	fsys.set(func(f *faultFS) { f.onSync = nil })
	close(release)
	if err := <-syncDone; err != nil {
		t.Fatal(err)
	}
	before := fsys.syncs()
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if fsys.syncs() != before+1 {
		t.Fatal("record appended during an fsync was not fsynced by the next Sync")
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []Options{{SegmentSize: -1}, {SegmentsAhead: -1}} {
		if _, err := Open(t.TempDir(), o); err == nil {
			t.Fatalf("Open with %+v succeeded", o)
		}
	}
}

// TestOpenEmptyAtFirstIndex: a log created with FirstIndex numbers its
// records from it, and keeps them after a reopen without the option.
func TestOpenEmptyAtFirstIndex(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Options{FirstIndex: 1000})
	if l.FirstIndex() != 1000 || l.NextIndex() != 1000 {
		t.Fatalf("new log holds [%d, %d), want [1000, 1000)", l.FirstIndex(), l.NextIndex())
	}
	idx, err := l.Append([]byte("a"))
	if err != nil || idx != 1000 {
		t.Fatalf("append: %d, %v", idx, err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
	l = mustOpen(t, dir, Options{})
	defer mustClose(t, l)
	checkContents(t, l, 1000, [][]byte{[]byte("a")})
}
