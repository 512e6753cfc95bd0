package vfstest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shoaldb/shoal/internal/vfs"
)

// MemFS is an in-memory vfs.FS that knows what a crash would keep, as
// pebble's strict MemFS does: a file's durable contents are those of its
// last Sync, a directory's durable entries those of its last SyncDir (or
// Sync of a handle on it). CrashClone returns the file system a machine
// would find after losing power now: every byte and every entry creation,
// rename or removal not yet fsynced is gone.
//
// A new file or directory is durable only once the directory holding it is
// synced; a file whose entry is durable but whose data was never synced
// comes back empty. Renames and removals are undone the same way: after a
// crash the entry is where the last SyncDir of each directory saw it (so a
// rename across directories synced on one side only may show the file in
// both places or neither, as a real file system may).
//
// Paths are cleaned and taken from the root "/" (a relative path is
// relative to it). A MemFS is safe for concurrent use.
type MemFS struct {
	mu   sync.Mutex
	root *memNode
}

type memNode struct {
	dir     bool
	modTime time.Time

	data   []byte // a file's contents
	synced []byte // a file's contents at its last Sync

	children map[string]*memNode // a directory's entries
	durable  map[string]*memNode // a directory's entries at its last SyncDir
}

func newDir() *memNode {
	return &memNode{dir: true, modTime: time.Now(), children: map[string]*memNode{}, durable: map[string]*memNode{}}
}

var _ vfs.FS = (*MemFS)(nil)

// NewMem returns an empty MemFS holding only its root directory.
func NewMem() *MemFS { return &MemFS{root: newDir()} }

// CrashClone returns a new MemFS holding what survives a crash of m now:
// for every directory the entries of its last sync, for every file the
// bytes of its last sync. m itself is left as it is (and its open files
// keep working on it), so a test can let the crashed process wind down
// while it reopens on the clone.
func (m *MemFS) CrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	var clone func(n *memNode) *memNode
	clone = func(n *memNode) *memNode {
		if !n.dir {
			b := slices.Clone(n.synced)
			return &memNode{modTime: n.modTime, data: b, synced: slices.Clone(b)}
		}
		d := newDir()
		d.modTime = n.modTime
		for name, c := range n.durable {
			cc := clone(c)
			d.children[name] = cc
			d.durable[name] = cc
		}
		return d
	}
	return &MemFS{root: clone(m.root)}
}

// String lists every file and directory with its size, one a line, for
// test failure messages.
func (m *MemFS) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	var walk func(path string, n *memNode)
	walk = func(path string, n *memNode) {
		for _, name := range slices.Sorted(maps.Keys(n.children)) {
			c := n.children[name]
			p := path + "/" + name
			if c.dir {
				fmt.Fprintf(&b, "%s/\n", p)
				walk(p, c)
			} else {
				fmt.Fprintf(&b, "%s %d (synced %d)\n", p, len(c.data), len(c.synced))
			}
		}
	}
	walk("", m.root)
	return b.String()
}

// split returns the cleaned components of name ("/" gives none).
func split(name string) []string {
	p := filepath.ToSlash(filepath.Clean("/" + name))
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

var errWriteAtInAppendMode = errors.New("vfstest: invalid use of WriteAt on file opened with O_APPEND")

func pathErr(op, path string, err error) error { return &fs.PathError{Op: op, Path: path, Err: err} }

// lookup returns the node at parts; the caller holds m.mu.
func (m *MemFS) lookup(parts []string) (*memNode, error) {
	n := m.root
	for _, p := range parts {
		if !n.dir {
			return nil, syscall.ENOTDIR
		}
		c, ok := n.children[p]
		if !ok {
			return nil, fs.ErrNotExist
		}
		n = c
	}
	return n, nil
}

// parent returns the directory holding the last of parts and that name.
func (m *MemFS) parent(parts []string) (*memNode, string, error) {
	if len(parts) == 0 {
		return nil, "", syscall.EINVAL // the root has no parent entry
	}
	d, err := m.lookup(parts[:len(parts)-1])
	if err != nil {
		return nil, "", err
	}
	if !d.dir {
		return nil, "", syscall.ENOTDIR
	}
	return d, parts[len(parts)-1], nil
}

// OpenFile opens or creates a file (or opens a directory to read or sync).
func (m *MemFS) OpenFile(name string, flag int, _ fs.FileMode) (vfs.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := split(name)
	acc := flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
	f := &memFile{fs: m, name: name, read: acc != os.O_WRONLY, write: acc != os.O_RDONLY, append: flag&os.O_APPEND != 0}
	n, err := m.lookup(parts)
	switch {
	case err == nil:
		if flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL {
			return nil, pathErr("open", name, fs.ErrExist)
		}
		if n.dir && f.write {
			return nil, pathErr("open", name, syscall.EISDIR)
		}
	case err == fs.ErrNotExist && flag&os.O_CREATE != 0:
		d, base, perr := m.parent(parts)
		if perr != nil {
			return nil, pathErr("open", name, perr)
		}
		n = &memNode{modTime: time.Now()}
		d.children[base] = n
	default:
		return nil, pathErr("open", name, err)
	}
	if flag&os.O_TRUNC != 0 && f.write {
		n.data = nil
		n.modTime = time.Now()
	}
	f.n = n
	return f, nil
}

// Remove removes a file or an empty directory.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, err := m.parent(split(name))
	if err != nil {
		return pathErr("remove", name, err)
	}
	n, ok := d.children[base]
	if !ok {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if n.dir && len(n.children) > 0 {
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	delete(d.children, base)
	return nil
}

// RemoveAll removes name and what it holds; a missing name is no error.
func (m *MemFS) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := split(name)
	if len(parts) == 0 {
		return pathErr("removeall", name, syscall.EINVAL)
	}
	d, base, err := m.parent(parts)
	if err == fs.ErrNotExist {
		return nil
	}
	if err != nil {
		return pathErr("removeall", name, err)
	}
	delete(d.children, base)
	return nil
}

// Rename moves oldname to newname, replacing a file there.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	op, np := split(oldname), split(newname)
	od, obase, err := m.parent(op)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	n, ok := od.children[obase]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	nd, nbase, err := m.parent(np)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	if old, ok := nd.children[nbase]; ok {
		// As os.Rename: an existing directory is never replaced (not even
		// by itself), a file by a directory neither.
		switch {
		case old.dir:
			return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EEXIST}
		case n.dir:
			return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.ENOTDIR}
		case old == n:
			return nil
		}
	}
	if n.dir && len(np) > len(op) && slices.Equal(np[:len(op)], op) {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EINVAL}
	}
	delete(od.children, obase)
	nd.children[nbase] = n
	return nil
}

// Mkdir creates one directory.
func (m *MemFS) Mkdir(name string, _ fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, err := m.parent(split(name))
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	if _, ok := d.children[base]; ok {
		return pathErr("mkdir", name, fs.ErrExist)
	}
	d.children[base] = newDir()
	return nil
}

// MkdirAll creates dir and its missing parents.
func (m *MemFS) MkdirAll(dir string, _ fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, p := range split(dir) {
		c, ok := n.children[p]
		if !ok {
			c = newDir()
			n.children[p] = c
		} else if !c.dir {
			return pathErr("mkdir", dir, syscall.ENOTDIR)
		}
		n = c
	}
	return nil
}

// ReadDir returns the sorted entry names of dir.
func (m *MemFS) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(split(dir))
	if err != nil {
		return nil, pathErr("readdir", dir, err)
	}
	if !n.dir {
		return nil, pathErr("readdir", dir, syscall.ENOTDIR)
	}
	return slices.Sorted(maps.Keys(n.children)), nil
}

// Stat describes name.
func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(split(name))
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return n.info(filepath.Base(name)), nil
}

// SyncDir makes the entries of dir durable.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(split(dir))
	if err != nil {
		return pathErr("fsync", dir, err)
	}
	if !n.dir {
		return pathErr("fsync", dir, syscall.ENOTDIR)
	}
	n.durable = maps.Clone(n.children)
	return nil
}

// FreeSpace is unknown in memory; FaultFS can impose a limit.
func (m *MemFS) FreeSpace(string) (uint64, bool) { return 0, false }

func (n *memNode) info(name string) fs.FileInfo {
	fi := memInfo{name: name, size: int64(len(n.data)), mode: 0o644, modTime: n.modTime}
	if n.dir {
		fi.size, fi.mode = 0, fs.ModeDir|0o755
	}
	return fi
}

type memInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (fi memInfo) Name() string       { return fi.name }
func (fi memInfo) Size() int64        { return fi.size }
func (fi memInfo) Mode() fs.FileMode  { return fi.mode }
func (fi memInfo) ModTime() time.Time { return fi.modTime }
func (fi memInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi memInfo) Sys() any           { return nil }

// memFile is an open file of a MemFS. Like a Unix descriptor it keeps
// working on its node after the entry is removed or renamed.
type memFile struct {
	fs                  *MemFS
	n                   *memNode
	name                string
	read, write, append bool
	off                 int64
	closed              bool
}

// check returns why op cannot run; the caller holds f.fs.mu.
func (f *memFile) check(op string, write bool) error {
	switch {
	case f.closed:
		return pathErr(op, f.name, fs.ErrClosed)
	case write && !f.write, !write && !f.read:
		return pathErr(op, f.name, syscall.EBADF)
	case f.n.dir && op != "sync" && op != "stat" && op != "close":
		return pathErr(op, f.name, syscall.EISDIR)
	}
	return nil
}

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if f.off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	k := copy(p, f.n.data[f.off:])
	f.off += int64(k)
	return k, nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", f.name, syscall.EINVAL)
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	k := copy(p, f.n.data[off:])
	if k < len(p) {
		return k, io.EOF
	}
	return k, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if f.append {
		f.off = int64(len(f.n.data))
	}
	f.n.writeAt(p, f.off)
	f.off += int64(len(p))
	return len(p), nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if f.append {
		return 0, errWriteAtInAppendMode
	}
	if off < 0 {
		return 0, pathErr("writeat", f.name, syscall.EINVAL)
	}
	f.n.writeAt(p, off)
	return len(p), nil
}

func (n *memNode) writeAt(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(n.data)) {
		n.data = append(n.data, make([]byte, end-int64(len(n.data)))...)
	}
	copy(n.data[off:], p)
	n.modTime = time.Now()
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", f.name, syscall.EINVAL)
	}
	if size <= int64(len(f.n.data)) {
		f.n.data = f.n.data[:size:size]
	} else {
		f.n.data = append(f.n.data, make([]byte, size-int64(len(f.n.data)))...)
	}
	f.n.modTime = time.Now()
	return nil
}

// Sync makes the file's contents durable (a directory's entries, for a
// handle on a directory).
func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed { // fsync is allowed on a descriptor of any access mode
		return pathErr("sync", f.name, fs.ErrClosed)
	}
	if f.n.dir {
		f.n.durable = maps.Clone(f.n.children)
		return nil
	}
	f.n.synced = slices.Clone(f.n.data)
	return nil
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return nil, pathErr("stat", f.name, fs.ErrClosed)
	}
	return f.n.info(filepath.Base(f.name)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	f.closed = true
	return nil
}
