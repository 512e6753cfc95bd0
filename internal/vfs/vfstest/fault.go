package vfstest

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/shoaldb/shoal/internal/vfs"
)

// ErrCrashed is what every operation of a FaultFS returns once it crashed:
// the process is dead as far as the disk is concerned.
var ErrCrashed = errors.New("vfstest: crashed")

// Mode says how long an injected fsync failure lasts.
type Mode int

const (
	// Once fails the next matching fsync; later ones succeed (Linux after
	// a writeback error: the error is reported once, the dirty pages are
	// dropped, the next fsync says all is well).
	Once Mode = iota
	// Sticky fails the next matching fsync and every later fsync of the
	// same path.
	Sticky
)

// FaultFS wraps a vfs.FS and injects the failures a disk produces: fsync
// errors (Once or Sticky), short writes, a full disk (ENOSPC) and a crash
// at a chosen fsync. Over a MemFS a crash can be made real: the callback of
// CrashAtSync takes MemFS.CrashClone at that instant.
//
// Fsyncs (of files and of directories) are numbered from 0 in the order
// they reach the FaultFS and run one at a time, so that "the durable state
// before fsync k" is well defined even with concurrent writers. A FaultFS
// is safe for concurrent use.
type FaultFS struct {
	inner vfs.FS

	mu      sync.Mutex
	syncs   int
	rules   []syncRule
	stuck   map[string]error
	shorts  []shortRule
	creates []shortRule
	fired   map[string]int // injected faults by kind
	log     []string       // injected faults: kind and path
	limited bool
	free    int64
	crashAt int
	onCrash func(path string)
	crashed bool
}

type syncRule struct {
	match func(string) bool
	err   error
	mode  Mode
}

type shortRule struct {
	match func(string) bool
	err   error
}

var (
	_ vfs.FS     = (*FaultFS)(nil)
	_ vfs.Mapper = (*FaultFS)(nil)
)

// Wrap returns a FaultFS over inner that injects nothing yet.
func Wrap(inner vfs.FS) *FaultFS {
	return &FaultFS{inner: inner, stuck: map[string]error{}, fired: map[string]int{}, crashAt: -1}
}

// Any matches every path.
func Any(string) bool { return true }

// PathContains matches the paths containing sub.
func PathContains(sub string) func(string) bool {
	return func(p string) bool { return strings.Contains(p, sub) }
}

// FailSync makes the next fsync of a path that match accepts fail with err
// (wrapped in a *fs.PathError), without syncing; with Sticky every later
// fsync of that path fails too.
func (f *FaultFS) FailSync(match func(path string) bool, err error, mode Mode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, syncRule{match: match, err: err, mode: mode})
}

// ShortWrite makes the next write to a path that match accepts write half
// of its bytes and fail with err (io.ErrShortWrite when nil).
func (f *FaultFS) ShortWrite(match func(path string) bool, err error) {
	if err == nil {
		err = io.ErrShortWrite
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shorts = append(f.shorts, shortRule{match: match, err: err})
}

// FailCreate makes the next creation of a file (OpenFile with O_CREATE of
// a name that does not exist yet) whose path match accepts fail with err
// (syscall.ENOSPC when nil) without creating it: a directory whose
// file system ran out of inodes or of blocks for a new entry.
func (f *FaultFS) FailCreate(match func(path string) bool, err error) {
	if err == nil {
		err = syscall.ENOSPC
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, shortRule{match: match, err: err})
}

// SetFree limits the bytes that may still be written, by any write to any
// file, to n: a write past it writes what fits and fails with ENOSPC, and
// FreeSpace reports what is left. Removing files gives nothing back; call
// SetFree again (space freed elsewhere).
func (f *FaultFS) SetFree(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limited, f.free = true, max(n, 0)
}

// Unlimit lifts SetFree's limit.
func (f *FaultFS) Unlimit() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limited = false
}

// CrashAtSync crashes the FaultFS when fsync number k (counted from 0 over
// the FaultFS's life) is about to run: crash is called with its path
// (take the MemFS's CrashClone there), then that fsync and every later
// operation fail with ErrCrashed.
func (f *FaultFS) CrashAtSync(k int, crash func(path string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.crashAt, f.onCrash = k, crash
}

// Crash makes every later operation fail with ErrCrashed.
func (f *FaultFS) Crash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.crashed = true
}

// Crashed reports whether the FaultFS crashed.
func (f *FaultFS) Crashed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashed
}

// Fired returns how many faults were injected so far, by kind: "fsync",
// "short write", "enospc" (a write past SetFree's budget), "create" and
// "crash". A rule that never met its path has not fired.
func (f *FaultFS) Fired() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.fired))
	for k, v := range f.fired {
		out[k] = v
	}
	return out
}

// Injected lists the faults injected so far, in order: kind and path.
func (f *FaultFS) Injected() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// note counts an injected fault; f.mu is held.
func (f *FaultFS) note(kind, path string) {
	f.fired[kind]++
	f.log = append(f.log, kind+" "+path)
}

// Syncs returns the number of fsyncs that reached the FaultFS (those that
// failed included).
func (f *FaultFS) Syncs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncs
}

func (f *FaultFS) alive(op, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return &fs.PathError{Op: op, Path: path, Err: ErrCrashed}
	}
	return nil
}

// sync runs do as fsync number f.syncs, unless a fault stops it. The lock
// is held throughout, so a crash's clone sees every earlier fsync done and
// no later one.
func (f *FaultFS) sync(path string, do func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return &fs.PathError{Op: "fsync", Path: path, Err: ErrCrashed}
	}
	k := f.syncs
	f.syncs++
	if k == f.crashAt {
		if f.onCrash != nil {
			f.onCrash(path)
		}
		f.crashed = true
		f.note("crash", path)
		return &fs.PathError{Op: "fsync", Path: path, Err: ErrCrashed}
	}
	if err, ok := f.stuck[path]; ok {
		f.note("fsync", path)
		return &fs.PathError{Op: "fsync", Path: path, Err: err}
	}
	for i, r := range f.rules {
		if r.match(path) {
			f.note("fsync", path)
			f.rules = append(f.rules[:i:i], f.rules[i+1:]...)
			if r.mode == Sticky {
				f.stuck[path] = r.err
			}
			return &fs.PathError{Op: "fsync", Path: path, Err: r.err}
		}
	}
	return do()
}

// write decides how much of an n-byte write to path may land: all of it
// (nil), or k bytes and then err.
func (f *FaultFS) write(path string, n int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return 0, &fs.PathError{Op: "write", Path: path, Err: ErrCrashed}
	}
	for i, r := range f.shorts {
		if r.match(path) {
			f.note("short write", path)
			f.shorts = append(f.shorts[:i:i], f.shorts[i+1:]...)
			k := n / 2
			if f.limited {
				k = int(min(int64(k), f.free))
				f.free -= int64(k)
			}
			return k, &fs.PathError{Op: "write", Path: path, Err: r.err}
		}
	}
	if f.limited {
		if int64(n) > f.free {
			k := int(f.free)
			f.free = 0
			f.note("enospc", path)
			return k, &fs.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
		}
		f.free -= int64(n)
	}
	return n, nil
}

func (f *FaultFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	if err := f.alive("open", name); err != nil {
		return nil, err
	}
	if flag&os.O_CREATE != 0 {
		if err := f.create(name); err != nil {
			return nil, err
		}
	}
	file, err := f.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, path: name}, nil
}

// create fails the creation of name if a FailCreate rule takes it.
func (f *FaultFS) create(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.creates {
		if !r.match(name) {
			continue
		}
		if _, err := f.inner.Stat(name); err == nil {
			return nil // opening an existing file creates nothing
		}
		f.creates = append(f.creates[:i:i], f.creates[i+1:]...)
		f.note("create", name)
		return &fs.PathError{Op: "open", Path: name, Err: r.err}
	}
	return nil
}

func (f *FaultFS) Remove(name string) error {
	if err := f.alive("remove", name); err != nil {
		return err
	}
	return f.inner.Remove(name)
}

func (f *FaultFS) RemoveAll(name string) error {
	if err := f.alive("removeall", name); err != nil {
		return err
	}
	return f.inner.RemoveAll(name)
}

func (f *FaultFS) Rename(oldname, newname string) error {
	if err := f.alive("rename", oldname); err != nil {
		return err
	}
	return f.inner.Rename(oldname, newname)
}

func (f *FaultFS) Mkdir(name string, perm fs.FileMode) error {
	if err := f.alive("mkdir", name); err != nil {
		return err
	}
	return f.inner.Mkdir(name, perm)
}

func (f *FaultFS) MkdirAll(dir string, perm fs.FileMode) error {
	if err := f.alive("mkdir", dir); err != nil {
		return err
	}
	return f.inner.MkdirAll(dir, perm)
}

func (f *FaultFS) ReadDir(dir string) ([]string, error) {
	if err := f.alive("readdir", dir); err != nil {
		return nil, err
	}
	return f.inner.ReadDir(dir)
}

func (f *FaultFS) Stat(name string) (fs.FileInfo, error) {
	if err := f.alive("stat", name); err != nil {
		return nil, err
	}
	return f.inner.Stat(name)
}

func (f *FaultFS) SyncDir(dir string) error {
	return f.sync(dir, func() error { return f.inner.SyncDir(dir) })
}

// FreeSpace reports SetFree's budget while it is set.
func (f *FaultFS) FreeSpace(path string) (uint64, bool) {
	f.mu.Lock()
	limited, free := f.limited, f.free
	f.mu.Unlock()
	if limited {
		return uint64(free), true
	}
	return f.inner.FreeSpace(path)
}

// Map maps through the inner FS when it can, and reads through f
// otherwise.
func (f *FaultFS) Map(name string) ([]byte, func() error, error) {
	if err := f.alive("mmap", name); err != nil {
		return nil, nil, err
	}
	if m, ok := f.inner.(vfs.Mapper); ok {
		return m.Map(name)
	}
	b, err := vfs.ReadFile(f, name)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}

type faultFile struct {
	vfs.File
	fs   *FaultFS
	path string
}

func (f *faultFile) Read(p []byte) (int, error) {
	if err := f.fs.alive("read", f.path); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.alive("read", f.path); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *faultFile) Write(p []byte) (int, error) {
	k, ferr := f.fs.write(f.path, len(p))
	n, err := f.File.Write(p[:k])
	if err == nil {
		err = ferr
	}
	return n, err
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	k, ferr := f.fs.write(f.path, len(p))
	n, err := f.File.WriteAt(p[:k], off)
	if err == nil {
		err = ferr
	}
	return n, err
}

func (f *faultFile) Truncate(size int64) error {
	if err := f.fs.alive("truncate", f.path); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *faultFile) Stat() (fs.FileInfo, error) {
	if err := f.fs.alive("stat", f.path); err != nil {
		return nil, err
	}
	return f.File.Stat()
}

func (f *faultFile) Sync() error {
	return f.fs.sync(f.path, f.File.Sync)
}
