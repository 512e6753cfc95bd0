package vfs_test

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/shoaldb/shoal/internal/vfs"
	"github.com/shoaldb/shoal/internal/vfs/vfstest"
)

// eachFS runs fn on the operating system's FS (in a temp dir) and on a
// MemFS, so that the helpers are held to one behaviour on both.
func eachFS(t *testing.T, fn func(t *testing.T, fsys vfs.FS, root string)) {
	t.Run("os", func(t *testing.T) { fn(t, vfs.Default, t.TempDir()) })
	t.Run("mem", func(t *testing.T) { fn(t, vfstest.NewMem(), "/root") })
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func TestWriteFileAtomic(t *testing.T) {
	eachFS(t, func(t *testing.T, fsys vfs.FS, root string) {
		if err := vfs.EnsureDir(fsys, root, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(root, "f")
		if err := vfs.WriteFileAtomic(fsys, path, writeString("one")); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		if err := vfs.WriteFileAtomic(fsys, path, func(io.Writer) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if b, _ := vfs.ReadFile(fsys, path); string(b) != "one" {
			t.Fatalf("a failed write changed the file: %q", b)
		}
		if _, err := fsys.Stat(path + ".tmp"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("temp file left behind: %v", err)
		}
		if err := vfs.WriteFileAtomic(fsys, path, writeString("two")); err != nil {
			t.Fatal(err)
		}
		if b, _ := vfs.ReadFile(fsys, path); string(b) != "two" {
			t.Fatalf("got %q", b)
		}
		if err := vfs.WriteFileAtomic(fsys, filepath.Join(root, "missing", "f"), writeString("x")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("write into a missing dir: %v", err)
		}
	})
}

func TestEnsureDir(t *testing.T) {
	eachFS(t, func(t *testing.T, fsys vfs.FS, root string) {
		deep := filepath.Join(root, "a", "b", "c")
		for range 2 { // the second call finds it there
			if err := vfs.EnsureDir(fsys, deep, 0o755); err != nil {
				t.Fatal(err)
			}
			if fi, err := fsys.Stat(deep); err != nil || !fi.IsDir() {
				t.Fatalf("stat: %v, %v", fi, err)
			}
		}
		file := filepath.Join(root, "file")
		if err := vfs.WriteFileAtomic(fsys, file, writeString("x")); err != nil {
			t.Fatal(err)
		}
		if err := vfs.EnsureDir(fsys, filepath.Join(file, "sub"), 0o755); err == nil {
			t.Fatal("EnsureDir below a file succeeded")
		}
		if err := vfs.EnsureDir(fsys, file, 0o755); err == nil {
			t.Fatal("EnsureDir of a file succeeded")
		}
	})
}

// TestEnsureDirDurable: the directories EnsureDir creates survive a crash,
// and a file fsynced in them with its directory survives with them. With a
// plain MkdirAll they do not: the entries of the new directories were never
// fsynced in their parents.
func TestEnsureDirDurable(t *testing.T) {
	cases := []struct {
		name    string
		mkdir   func(fsys vfs.FS, dir string) error
		survive bool
	}{
		{"EnsureDir", func(fsys vfs.FS, dir string) error { return vfs.EnsureDir(fsys, dir, 0o755) }, true},
		{"MkdirAll", func(fsys vfs.FS, dir string) error { return fsys.MkdirAll(dir, 0o755) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := vfstest.NewMem()
			dir := "/data/x/y"
			if err := c.mkdir(mem, dir); err != nil {
				t.Fatal(err)
			}
			if err := vfs.WriteFileAtomic(mem, dir+"/f", writeString("v")); err != nil {
				t.Fatal(err)
			}
			b, err := vfs.ReadFile(mem.CrashClone(), dir+"/f")
			if got := err == nil && string(b) == "v"; got != c.survive {
				t.Fatalf("after a crash: %q, %v; survives %v, want %v", b, err, got, c.survive)
			}
		})
	}
}

func TestMkdirTemp(t *testing.T) {
	eachFS(t, func(t *testing.T, fsys vfs.FS, root string) {
		if err := vfs.EnsureDir(fsys, root, 0o755); err != nil {
			t.Fatal(err)
		}
		a, err := vfs.MkdirTemp(fsys, root, ".creating-")
		if err != nil {
			t.Fatal(err)
		}
		b, err := vfs.MkdirTemp(fsys, root, ".creating-")
		if err != nil {
			t.Fatal(err)
		}
		if a == b || filepath.Dir(a) != root || filepath.Base(a)[:10] != ".creating-" {
			t.Fatalf("temp dirs %q, %q", a, b)
		}
		if fi, err := fsys.Stat(a); err != nil || !fi.IsDir() || fi.Mode().Perm()&0o755 != 0o755 {
			t.Fatalf("stat %q: %v, %v", a, fi, err)
		}
		if _, err := vfs.MkdirTemp(fsys, filepath.Join(root, "missing"), "x"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("MkdirTemp in a missing dir: %v", err)
		}
	})
}

func TestMap(t *testing.T) {
	eachFS(t, func(t *testing.T, fsys vfs.FS, root string) {
		if err := vfs.EnsureDir(fsys, root, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, content := range []string{"", "vectors"} {
			path := filepath.Join(root, "m"+content)
			if err := vfs.WriteFileAtomic(fsys, path, writeString(content)); err != nil {
				t.Fatal(err)
			}
			b, unmap, err := vfs.Map(fsys, path)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != content {
				t.Fatalf("mapped %q, want %q", b, content)
			}
			if err := unmap(); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := vfs.Map(fsys, filepath.Join(root, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Map of a missing file: %v", err)
		}
	})
}

func TestFreeSpace(t *testing.T) {
	free, ok := vfs.Default.FreeSpace(t.TempDir())
	if !ok {
		t.Skip("free space cannot be read on this platform")
	}
	if free == 0 {
		t.Fatal("no free space reported for the test's temp dir")
	}
	if _, ok := vfs.Default.FreeSpace(filepath.Join(t.TempDir(), "missing")); ok {
		t.Fatal("FreeSpace of a missing path must fail")
	}
}
