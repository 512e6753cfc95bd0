package wal

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

func TestTruncateFront(t *testing.T) {
	const count, size = 60, 100
	cases := []struct {
		name      string
		before    uint64
		wantFirst uint64 // with 8 records per segment
	}{
		{"nothing below the first segment end", 5, 0},
		{"exactly one segment", 8, 8},
		{"inside the third segment", 20, 16},
		{"everything but the active segment", 60, 56},
		{"beyond the end", 1000, 56},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SegmentSize: 1 << 10}
			l := mustOpen(t, dir, opts)
			recs := make([][]byte, count)
			for i := range recs {
				recs[i] = record(uint64(i), size)
			}
			appendAll(t, l, recs)
			if err := l.TruncateFront(c.before); err != nil {
				t.Fatal(err)
			}
			checkContents(t, l, c.wantFirst, recs[c.wantFirst:])
			if got := filepath.Base(segmentFiles(t, dir)[0]); got != segmentName(c.wantFirst) {
				t.Fatalf("oldest file %s, want %s", got, segmentName(c.wantFirst))
			}
			if first, got := readAll(t, l, 0); first != c.wantFirst || len(got) != count-int(c.wantFirst) {
				t.Fatalf("Replay(0) started at %d with %d records", first, len(got))
			}
			mustClose(t, l)

			l = mustOpen(t, dir, opts)
			defer mustClose(t, l)
			checkContents(t, l, c.wantFirst, recs[c.wantFirst:])
			appendAll(t, l, [][]byte{[]byte("more")})
			checkContents(t, l, c.wantFirst, append(slices.Clone(recs[c.wantFirst:]), []byte("more")))
		})
	}
}

// TestTruncateFrontEmptiesLog drops every sealed segment when the active one
// is empty, which leaves an empty log that still remembers its position.
func TestTruncateFrontEmptiesLog(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: 1 << 10}
	l := mustOpen(t, dir, opts)
	appendAll(t, l, [][]byte{record(0, 2000), record(1, 2000)})
	if err := l.TruncateBack(1); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateFront(1); err != nil {
		t.Fatal(err)
	}
	checkContents(t, l, 1, nil)
	mustClose(t, l)
	l = mustOpen(t, dir, opts)
	defer mustClose(t, l)
	checkContents(t, l, 1, nil)
	if idx, err := l.Append([]byte("x")); err != nil || idx != 1 {
		t.Fatalf("Append = %d, %v; want 1", idx, err)
	}
}

func TestTruncateBack(t *testing.T) {
	const count, size = 60, 100 // 8 records per segment
	cases := []struct {
		name      string
		front     uint64 // TruncateFront first
		from      uint64
		wantFiles int
		err       error
	}{
		{"inside the active segment", 0, 58, 8, nil},
		{"start of the active segment", 0, 56, 8, nil},
		{"inside an older segment", 0, 20, 3, nil},
		{"start of an older segment", 0, 16, 3, nil},
		{"everything", 0, 0, 1, nil},
		{"everything after a front truncation", 16, 16, 1, nil},
		{"at NextIndex", 0, 60, 8, nil},
		{"beyond NextIndex", 0, 61, 8, ErrOutOfRange},
		{"below FirstIndex", 16, 15, 6, ErrOutOfRange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SegmentSize: 1 << 10}
			l := mustOpen(t, dir, opts)
			recs := make([][]byte, count)
			for i := range recs {
				recs[i] = record(uint64(i), size)
			}
			appendAll(t, l, recs)
			if err := l.TruncateFront(c.front); err != nil {
				t.Fatal(err)
			}
			err := l.TruncateBack(c.from)
			if !errors.Is(err, c.err) {
				t.Fatalf("TruncateBack(%d) = %v, want %v", c.from, err, c.err)
			}
			want := recs[c.front:]
			if c.err == nil {
				want = recs[c.front:c.from]
			}
			checkContents(t, l, c.front, want)
			if got := len(segmentFiles(t, dir)); got != c.wantFiles {
				t.Fatalf("%d segment files, want %d", got, c.wantFiles)
			}
			// New records take the freed indices and land in the right
			// place, across rolls.
			more := [][]byte{record(100, 300), record(101, 300), record(102, 900), record(103, 10)}
			appendAll(t, l, more)
			want = append(slices.Clone(want), more...)
			checkContents(t, l, c.front, want)
			mustClose(t, l)

			l = mustOpen(t, dir, opts)
			defer mustClose(t, l)
			checkContents(t, l, c.front, want)
		})
	}
}
