package vfs

import (
	"io"
	"io/fs"
)

// FS is the file system under every durable writer. Default is the
// operating system's; tests substitute an in-memory or fault-injecting one
// (internal/vfs/vfstest).
//
// Paths are the caller's, passed through unchanged; errors are
// *fs.PathError values where the operating system's would be, so
// errors.Is(err, fs.ErrNotExist) works on every implementation.
type FS interface {
	// OpenFile opens name with os.OpenFile's flags (O_RDONLY, O_WRONLY,
	// O_RDWR, O_CREATE, O_EXCL, O_TRUNC, O_APPEND).
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes name and everything below it; a missing name is
	// not an error.
	RemoveAll(name string) error
	// Rename replaces newname by oldname atomically (a file, or a
	// directory onto a missing name).
	Rename(oldname, newname string) error
	// Mkdir creates one directory; it fails if name exists.
	Mkdir(name string, perm fs.FileMode) error
	// MkdirAll creates dir and any missing parents. It does not make the
	// new entries durable: see the package function MkdirAll.
	MkdirAll(dir string, perm fs.FileMode) error
	// ReadDir returns the names of the entries in dir, sorted.
	ReadDir(dir string) ([]string, error)
	// Stat describes name.
	Stat(name string) (fs.FileInfo, error)
	// SyncDir makes the creations, renames and removals of entries in dir
	// durable. Until then a crash may undo them.
	SyncDir(dir string) error
	// FreeSpace returns the bytes an unprivileged writer may still add on
	// the file system holding path; false when it cannot be known.
	FreeSpace(path string) (bytes uint64, ok bool)
}

// File is an open file; *os.File implements it. Bytes written reach the
// file system at once but are durable only after Sync returns nil.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Closer
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
	Sync() error
}

// Mapper is implemented by a file system that can map a file read-only into
// memory (the operating system's). Map falls back to reading the file on
// others.
type Mapper interface {
	// Map maps the whole of name; unmap releases it, after which the
	// bytes must not be touched.
	Map(name string) (data []byte, unmap func() error, err error)
}
