package vfstest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shoaldb/shoal/internal/vfs"
)

// errKind names an error the way both file systems must agree on.
func errKind(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, fs.ErrNotExist):
		return "notexist"
	case errors.Is(err, fs.ErrExist), errors.Is(err, syscall.ENOTEMPTY):
		// Linux answers ENOTEMPTY or EEXIST for a non-empty target.
		return "exist"
	case errors.Is(err, syscall.ENOTDIR):
		return "notdir"
	case errors.Is(err, syscall.EISDIR):
		return "isdir"
	case errors.Is(err, syscall.EBADF):
		return "badf"
	case errors.Is(err, fs.ErrClosed):
		return "closed"
	case errors.Is(err, syscall.EINVAL):
		return "inval"
	case strings.Contains(err.Error(), "O_APPEND"):
		return "append"
	}
	return "other: " + err.Error()
}

// run interprets a script of file-system steps against fsys under root and
// returns a transcript of their outcomes.
func run(t *testing.T, fsys vfs.FS, root, script string) string {
	t.Helper()
	var out strings.Builder
	p := func(s string) string { return filepath.Join(root, s) }
	files := map[string]vfs.File{}
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		f := strings.Fields(line)
		var res string
		switch f[0] {
		case "mkdir":
			res = errKind(fsys.Mkdir(p(f[1]), 0o755))
		case "mkdirall":
			res = errKind(fsys.MkdirAll(p(f[1]), 0o755))
		case "write": // write path content: create, write, close
			file, err := vfs.Create(fsys, p(f[1]))
			if err == nil {
				_, err = io.WriteString(file, f[2])
				err = errors.Join(err, file.Close())
			}
			res = errKind(err)
		case "open": // open handle path flags
			flag := 0
			for _, c := range f[3] {
				flag |= map[rune]int{'r': os.O_RDONLY, 'w': os.O_WRONLY, 'b': os.O_RDWR, 'c': os.O_CREATE, 'x': os.O_EXCL, 't': os.O_TRUNC, 'a': os.O_APPEND}[c]
			}
			file, err := fsys.OpenFile(p(f[2]), flag, 0o644)
			if err == nil {
				files[f[1]] = file
			}
			res = errKind(err)
		case "hwrite": // hwrite handle content
			_, err := io.WriteString(files[f[1]], f[2])
			res = errKind(err)
		case "hwriteat": // hwriteat handle offset content
			var off int64
			fmt.Sscan(f[2], &off)
			_, err := files[f[1]].WriteAt([]byte(f[3]), off)
			res = errKind(err)
		case "hreadat": // hreadat handle offset n
			var off, n int64
			fmt.Sscan(f[2], &off)
			fmt.Sscan(f[3], &n)
			b := make([]byte, n)
			k, err := files[f[1]].ReadAt(b, off)
			res = fmt.Sprintf("%q %s", b[:k], errKind(err))
		case "htruncate":
			var n int64
			fmt.Sscan(f[2], &n)
			res = errKind(files[f[1]].Truncate(n))
		case "hsync":
			res = errKind(files[f[1]].Sync())
		case "hclose":
			res = errKind(files[f[1]].Close())
		case "read":
			b, err := vfs.ReadFile(fsys, p(f[1]))
			res = fmt.Sprintf("%q %s", b, errKind(err))
		case "ls":
			names, err := fsys.ReadDir(p(f[1]))
			res = fmt.Sprintf("%v %s", names, errKind(err))
		case "stat":
			fi, err := fsys.Stat(p(f[1]))
			if err == nil {
				res = fmt.Sprintf("dir=%v size=%d name=%s", fi.IsDir(), fi.Size(), fi.Name())
				if fi.IsDir() {
					res = fmt.Sprintf("dir=true name=%s", fi.Name())
				}
			} else {
				res = errKind(err)
			}
		case "rename":
			res = errKind(fsys.Rename(p(f[1]), p(f[2])))
		case "remove":
			res = errKind(fsys.Remove(p(f[1])))
		case "removeall":
			res = errKind(fsys.RemoveAll(p(f[1])))
		case "syncdir":
			res = errKind(fsys.SyncDir(p(f[1])))
		default:
			t.Fatalf("unknown step %q", line)
		}
		fmt.Fprintf(&out, "%s -> %s\n", line, res)
	}
	for _, f := range files {
		f.Close()
	}
	return out.String()
}

// TestMemMatchesOS runs the same scripts on the operating system's file
// system and on a MemFS: every outcome, error kinds included, must agree.
func TestMemMatchesOS(t *testing.T) {
	scripts := map[string]string{
		"dirs": `
mkdir a
mkdir a
mkdir x/y
mkdirall x/y/z
mkdirall x/y/z
write f hello
mkdirall f/g
mkdir f/g
ls .
ls x/y
ls f
ls missing
stat a
stat f
stat missing
remove x
remove x/y/z
removeall x
removeall x
removeall missing/deeper
ls .`,
		"files": `
write f hello
read f
write f hi
read f
read missing
open h f r
hwrite h x
hreadat h 0 10
hreadat h 1 1
hreadat h 5 1
open w f w
hreadat w 0 1
hwriteat w 4 !!
read f
htruncate w 1
read f
htruncate w 3
read f
hsync w
hclose w
hclose w
hsync w
open e f cx
open e f c
open n new wc
open n2 new2 w
open d . r
hwrite d x
open d2 . w
open ap f wa
hwrite ap end
hwriteat ap 0 x
read f`,
		"rename": `
write f one
write g two
rename f g
read g
read f
mkdir d
rename g d
mkdir e
write e/x 1
rename d e
rename e d
ls d
rename d d/sub
rename missing x
rename g missing/x
rename d d
ls .`,
		"open files survive removal": `
write f data
open h f r
remove f
hreadat h 0 4
read f
write f new
hreadat h 0 4
mkdir d
write d/x 1
remove d
ls d`,
	}
	for name, script := range scripts {
		t.Run(name, func(t *testing.T) {
			want := run(t, vfs.Default, t.TempDir(), script)
			got := run(t, NewMem(), "/", script)
			if got != want {
				t.Fatalf("MemFS differs from the OS\nOS:\n%s\nMemFS:\n%s", want, got)
			}
		})
	}
}

// TestCrashClone: what a crash keeps is what was fsynced, file data and
// directory entries alike.
func TestCrashClone(t *testing.T) {
	cases := []struct {
		name   string
		script string
		check  string // script run on the clone
		want   string // its transcript
	}{
		{"unsynced file and entry are lost", "mkdir d\nsyncdir .\nwrite d/f x", "ls d", "ls d -> [] ok\n"},
		{"entry synced, data not: empty file", "mkdir d\nsyncdir .\nwrite d/f x\nsyncdir d", "read d/f", "read d/f -> \"\" ok\n"},
		{"data synced, entry not: lost", "mkdir d\nsyncdir .\nopen h d/f wc\nhwrite h x\nhsync h", "ls d", "ls d -> [] ok\n"},
		{"data and entry synced", "mkdir d\nsyncdir .\nopen h d/f wc\nhwrite h x\nhsync h\nsyncdir d", "read d/f", "read d/f -> \"x\" ok\n"},
		{"writes after the sync are lost", "open h f wc\nhwrite h abc\nhsync h\nsyncdir .\nhwrite h def\nhtruncate h 1", "read f", "read f -> \"abc\" ok\n"},
		{"a new directory needs its parent synced", "mkdirall a/b\nsyncdir a/b\nsyncdir a", "ls .", "ls . -> [] ok\n"},
		{"a directory synced through a handle", "mkdir a\nopen d . r\nhsync d", "ls .", "ls . -> [a] ok\n"},
		{"unsynced rename is undone", "open h f wc\nhwrite h 1\nhsync h\nsyncdir .\nrename f g", "ls .", "ls . -> [f] ok\n"},
		{"synced rename holds", "open h f wc\nhwrite h 1\nhsync h\nsyncdir .\nrename f g\nsyncdir .", "read g", "read g -> \"1\" ok\n"},
		{"unsynced removal is undone", "open h f wc\nhwrite h 1\nhsync h\nsyncdir .\nremove f", "read f", "read f -> \"1\" ok\n"},
		{"removed directory comes back with its durable entries", "mkdir d\nsyncdir .\nopen h d/f wc\nhsync h\nsyncdir d\nremoveall d", "ls d", "ls d -> [f] ok\n"},
		{"never synced: nothing", "mkdirall a/b/c\nwrite a/b/c/f x", "ls .", "ls . -> [] ok\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMem()
			run(t, m, "/", c.script)
			clone := m.CrashClone()
			if got := run(t, clone, "/", c.check); got != c.want {
				t.Fatalf("after crash:\n%s\nwant:\n%s\nbefore the crash:\n%s", got, c.want, m)
			}
			// The original goes on untouched by the clone.
			before := m.String()
			run(t, clone, "/", "removeall a\nremoveall d\nremoveall f\nremoveall g\nwrite new x")
			if after := m.String(); after != before {
				t.Fatalf("changing the clone changed the original:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}
