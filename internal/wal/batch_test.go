package wal

import (
	"errors"
	"testing"
)

// TestAppendBatch appends batches of every size between single records,
// across segment rolls, and checks indices, contents and the reopened log.
func TestAppendBatch(t *testing.T) {
	cases := []struct {
		name    string
		segSize int64
		batches []int // records per batch; 0 is an empty batch, -1 a single Append
	}{
		{name: "one segment", segSize: 1 << 20, batches: []int{3, -1, 1, 0, 5, -1}},
		{name: "rolls between batches", segSize: 1 << 10, batches: []int{4, 4, -1, 6, 2, 0, 9}},
		{name: "batch larger than a segment", segSize: 512, batches: []int{-1, 20, -1, 1, 30}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fsys := newFaultFS()
			l := mustOpen(t, dir, Options{SegmentSize: c.segSize, FS: fsys})
			var want [][]byte
			for _, k := range c.batches {
				next := uint64(len(want))
				if k < 0 {
					appendAll(t, l, [][]byte{record(next, 100)})
					want = append(want, record(next, 100))
					continue
				}
				batch := make([][]byte, k)
				for i := range batch {
					batch[i] = record(next+uint64(i), 60+i)
				}
				before := fsys.writesNow()
				first, err := l.AppendBatch(batch)
				if err != nil {
					t.Fatalf("AppendBatch(%d): %v", k, err)
				}
				if first != next {
					t.Fatalf("AppendBatch(%d) = %d, want %d", k, first, next)
				}
				// One write for the records (a roll writes the new
				// segment's header first).
				if w := fsys.writesNow() - before; k > 0 && w != 1 && w != 2 {
					t.Fatalf("AppendBatch(%d) made %d writes", k, w)
				}
				want = append(want, batch...)
			}
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			checkContents(t, l, 0, want)
			mustClose(t, l)
			l = mustOpen(t, dir, Options{SegmentSize: c.segSize})
			defer mustClose(t, l)
			checkContents(t, l, 0, want)
		})
	}
}

// TestAppendBatchAllOrNothing: a batch whose write fails, or that holds a
// record over the limit, leaves no record behind and uses no index.
func TestAppendBatchAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	fsys := newFaultFS()
	l := mustOpen(t, dir, Options{FS: fsys})
	appendAll(t, l, [][]byte{[]byte("a")})

	fsys.set(func(f *faultFS) { f.writeErr = errInjected })
	if _, err := l.AppendBatch([][]byte{record(1, 300), record(2, 300), record(3, 300)}); !errors.Is(err, errInjected) {
		t.Fatalf("AppendBatch = %v, want the injected fault", err)
	}
	fsys.set(func(f *faultFS) { f.writeErr = nil })
	if _, err := l.AppendBatch([][]byte{[]byte("x"), make([]byte, MaxRecordSize+1)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("AppendBatch with a huge record = %v, want ErrTooLarge", err)
	}
	if first, err := l.AppendBatch([][]byte{[]byte("b"), []byte("c")}); err != nil || first != 1 {
		t.Fatalf("AppendBatch after failures = %d, %v; want 1", first, err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	checkContents(t, l, 0, want)
	mustClose(t, l)
	l = mustOpen(t, dir, Options{})
	defer mustClose(t, l)
	checkContents(t, l, 0, want)
}
