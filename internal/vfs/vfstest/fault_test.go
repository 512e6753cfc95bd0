package vfstest

import (
	"errors"
	"io"
	"io/fs"
	"syscall"
	"testing"

	"github.com/shoaldb/shoal/internal/vfs"
)

var errInjected = errors.New("injected")

func mustCreate(t *testing.T, fsys vfs.FS, name string) vfs.File {
	t.Helper()
	f, err := vfs.Create(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestFailSync: a Once failure fails one fsync, a Sticky one every later
// fsync of the same path; other paths are untouched.
func TestFailSync(t *testing.T) {
	cases := []struct {
		name  string
		mode  Mode
		match func(string) bool
		// outcome of fsyncs of /a, /a, /b, /a: true means it failed
		want [4]bool
	}{
		{"once", Once, Any, [4]bool{true, false, false, false}},
		{"sticky", Sticky, Any, [4]bool{true, true, false, true}},
		{"sticky on b only", Sticky, PathContains("b"), [4]bool{false, false, true, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := NewMem()
			ffs := Wrap(mem)
			a, b := mustCreate(t, ffs, "/a"), mustCreate(t, ffs, "/b")
			ffs.FailSync(c.match, errInjected, c.mode)
			for i, f := range []vfs.File{a, a, b, a} {
				if _, err := f.Write([]byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
				err := f.Sync()
				if failed := err != nil; failed != c.want[i] {
					t.Fatalf("fsync #%d: err %v, want failure %v", i, err, c.want[i])
				}
				if err != nil && !errors.Is(err, errInjected) {
					t.Fatalf("fsync #%d: %v, want the injected error", i, err)
				}
			}
			if got := ffs.Syncs(); got != 4 {
				t.Fatalf("Syncs = %d, want 4", got)
			}
		})
	}
}

// TestFailedSyncIsNotDurable: the fsync that failed did not sync.
func TestFailedSyncIsNotDurable(t *testing.T) {
	mem := NewMem()
	ffs := Wrap(mem)
	f := mustCreate(t, ffs, "/f")
	if err := ffs.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	ffs.FailSync(Any, errInjected, Once)
	if err := f.Sync(); !errors.Is(err, errInjected) {
		t.Fatal(err)
	}
	if b, err := vfs.ReadFile(mem.CrashClone(), "/f"); err != nil || len(b) != 0 {
		t.Fatalf("after a crash: %q, %v; want an empty file", b, err)
	}
}

func TestShortWrite(t *testing.T) {
	for _, writeAt := range []bool{false, true} {
		mem := NewMem()
		ffs := Wrap(mem)
		f := mustCreate(t, ffs, "/f")
		ffs.ShortWrite(Any, nil)
		var n int
		var err error
		if writeAt {
			n, err = f.WriteAt([]byte("abcdef"), 0)
		} else {
			n, err = f.Write([]byte("abcdef"))
		}
		if n != 3 || !errors.Is(err, io.ErrShortWrite) {
			t.Fatalf("writeAt %v: n %d, err %v; want 3, short write", writeAt, n, err)
		}
		if b, _ := vfs.ReadFile(mem, "/f"); string(b) != "abc" {
			t.Fatalf("file holds %q", b)
		}
		if n, err := f.WriteAt([]byte("xy"), 3); n != 2 || err != nil {
			t.Fatalf("the next write: %d, %v", n, err)
		}
	}
}

func TestNoSpace(t *testing.T) {
	ffs := Wrap(NewMem())
	f := mustCreate(t, ffs, "/f")
	if _, ok := ffs.FreeSpace("/"); ok {
		t.Fatal("a MemFS without a limit reports free space")
	}
	ffs.SetFree(10)
	if free, ok := ffs.FreeSpace("/"); !ok || free != 10 {
		t.Fatalf("FreeSpace = %d, %v", free, ok)
	}
	if n, err := f.Write(make([]byte, 6)); n != 6 || err != nil {
		t.Fatal(n, err)
	}
	n, err := f.WriteAt(make([]byte, 6), 6)
	if n != 4 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write past the limit: %d, %v; want 4, ENOSPC", n, err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "/f" {
		t.Fatalf("ENOSPC is not a PathError naming the file: %#v", err)
	}
	if free, _ := ffs.FreeSpace("/"); free != 0 {
		t.Fatalf("FreeSpace = %d, want 0", free)
	}
	if fi, _ := f.Stat(); fi.Size() != 10 {
		t.Fatalf("file size %d, want 10", fi.Size())
	}
	ffs.Unlimit()
	if _, err := f.Write(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
}

// TestCrashAtSync: the callback sees the durable state before fsync k, and
// from then on everything fails.
func TestCrashAtSync(t *testing.T) {
	for k := 0; k <= 3; k++ {
		mem := NewMem()
		ffs := Wrap(mem)
		var clone *MemFS
		var at string
		ffs.CrashAtSync(k, func(path string) { clone, at = mem.CrashClone(), path })
		// fsyncs: 0 /d, 1 /, 2 /d/f, 3 /d
		steps := []func() error{
			func() error { return ffs.Mkdir("/d", 0o755) },
			func() error { return ffs.SyncDir("/d") },
			func() error { return ffs.SyncDir("/") },
			func() error {
				return vfs.WriteFileAtomic(ffs, "/d/f", func(w io.Writer) error { _, err := w.Write([]byte("v")); return err })
			},
		}
		var failed error
		for _, s := range steps {
			if failed = s(); failed != nil {
				break
			}
		}
		if !errors.Is(failed, ErrCrashed) || !ffs.Crashed() {
			t.Fatalf("k=%d: the workload ended with %v, want ErrCrashed", k, failed)
		}
		if _, err := ffs.Stat("/"); !errors.Is(err, ErrCrashed) {
			t.Fatalf("k=%d: Stat after the crash: %v", k, err)
		}
		wantAt := []string{"/d", "/", "/d/f.tmp", "/d"}[k]
		if at != wantAt {
			t.Fatalf("k=%d: crashed at fsync of %q, want %q", k, at, wantAt)
		}
		names, _ := clone.ReadDir("/")
		dnames, _ := clone.ReadDir("/d")
		want := [][2]int{{0, 0}, {0, 0}, {1, 0}, {1, 0}}[k]
		if len(names) != want[0] || len(dnames) != want[1] {
			t.Fatalf("k=%d: clone holds %v and d/%v:\n%s", k, names, dnames, clone)
		}
	}
}
