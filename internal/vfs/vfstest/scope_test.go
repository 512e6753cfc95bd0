package vfstest

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/shoaldb/shoal/internal/vfs"
)

// TestFailCreate: the next creation of a matching missing file fails with
// ENOSPC and leaves nothing behind; opening an existing file, or a path the
// rule does not take, is untouched; the rule is used up by one failure.
func TestFailCreate(t *testing.T) {
	mem := NewMem()
	ffs := Wrap(mem)
	if err := ffs.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, ffs, "/d/old.seg")
	ffs.FailCreate(PathContains(".seg"), nil)
	if _, err := ffs.OpenFile("/d/other.txt", os.O_CREATE|os.O_WRONLY, 0o644); err != nil {
		t.Fatalf("a path outside the scope: %v", err)
	}
	if _, err := ffs.OpenFile("/d/old.seg", os.O_CREATE|os.O_WRONLY, 0o644); err != nil {
		t.Fatalf("opening an existing file with O_CREATE: %v", err)
	}
	_, err := ffs.OpenFile("/d/new.seg", os.O_CREATE|os.O_WRONLY, 0o644)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("create /d/new.seg: %v, want ENOSPC", err)
	}
	if _, err := mem.Stat("/d/new.seg"); err == nil {
		t.Fatal("the failed creation left a file")
	}
	if _, err := ffs.OpenFile("/d/new.seg", os.O_CREATE|os.O_WRONLY, 0o644); err != nil {
		t.Fatalf("the second creation: %v (the rule fails one)", err)
	}
	if got := ffs.Fired(); got["create"] != 1 || len(got) != 1 {
		t.Fatalf("Fired = %v, want one create", got)
	}
}

// TestScopes: each scope takes the files of its writer and no other's.
func TestScopes(t *testing.T) {
	paths := map[string]string{
		"/s/collections/c/shards/0/wal/00000000000000000001.wal":  "wal",
		"/s/collections/c/shards/0/wal":                           "wal",
		"/s/collections/c/shards/0/segments/seg-1-2.dat":          "segments",
		"/s/collections/c/shards/0/segments.json.tmp":             "manifest",
		"/s/collections/c/shards/0/segments.json":                 "manifest",
		"/s/collections/c/shards/0":                               "manifest",
		"/s/raft/raft-wal/00000000000000000001.wal":               "raft",
		"/s/raft/raft-snapshot-00000000000000000007.bin":          "raft",
		"/s/collections/c/config.json":                            "metadata",
		"/s/aliases.json.tmp":                                     "metadata",
		"/s/collections/c/shards/0/segments/seg-1-2.vectors.text": "segments",
	}
	scopes := map[string]func(string) bool{"wal": WALFiles, "segments": SegmentFiles, "manifest": ManifestFiles, "raft": RaftFiles, "metadata": MetadataFiles}
	for p, want := range paths {
		for name, m := range scopes {
			if got := m(p); got != (name == want) {
				t.Errorf("%s(%q) = %v", name, p, got)
			}
		}
	}
}

// TestWriteFileAtomicMarksSyncFailures: a failed fsync of the file or of
// its directory matches vfs.ErrSyncFailed and keeps its cause; other
// failures (a short write) do not match it.
func TestWriteFileAtomicMarksSyncFailures(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*FaultFS)
		marked bool
	}{
		{"fsync of the file", func(f *FaultFS) { f.FailSync(PathContains(".tmp"), errInjected, Once) }, true},
		{"fsync of the directory", func(f *FaultFS) { f.FailSync(func(p string) bool { return p == "/d" }, errInjected, Once) }, true},
		{"short write", func(f *FaultFS) { f.ShortWrite(Any, errInjected) }, false},
		{"no space for the file", func(f *FaultFS) { f.FailCreate(Any, nil) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ffs := Wrap(NewMem())
			if err := ffs.MkdirAll("/d", 0o755); err != nil {
				t.Fatal(err)
			}
			c.inject(ffs)
			err := vfs.WriteFileAtomic(ffs, "/d/f", func(w io.Writer) error {
				_, err := w.Write([]byte("hello"))
				return err
			})
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, vfs.ErrSyncFailed); got != c.marked {
				t.Fatalf("errors.Is(%v, ErrSyncFailed) = %v, want %v", err, got, c.marked)
			}
		})
	}
}
