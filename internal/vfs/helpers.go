package vfs

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Create creates or truncates name for reading and writing.
func Create(fsys FS, name string) (File, error) {
	return fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// Open opens name for reading.
func Open(fsys FS, name string) (File, error) {
	return fsys.OpenFile(name, os.O_RDONLY, 0)
}

// ReadFile returns the contents of name.
func ReadFile(fsys FS, name string) ([]byte, error) {
	f, err := Open(fsys, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(int(min(fi.Size(), 1<<40)) + bytes.MinRead)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFileAtomic replaces path with what write produces: readers see
// either the old file or the complete new one, also after a crash. It
// writes path+".tmp", fsyncs it, renames it over path and fsyncs the
// directory; on failure the temporary file is removed. A failed fsync is
// marked ErrSyncFailed; when it is the directory's, path has been replaced
// already (the rename is done) but may come back after a crash.
func WriteFileAtomic(fsys FS, path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	err = write(f)
	if err == nil {
		if err = f.Sync(); err != nil {
			err = MarkSync(fmt.Errorf("fsync %s: %w", tmp, err))
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", tmp, cerr)
	}
	if err != nil {
		fsys.Remove(tmp)
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if err := fsys.SyncDir(filepath.Dir(path)); err != nil {
		// The rename may or may not survive a crash: the caller must
		// treat path as possibly replaced (ErrSyncFailed).
		return MarkSync(fmt.Errorf("fsync dir of %s: %w", path, err))
	}
	return nil
}

// EnsureDir creates dir and its missing parents, as MkdirAll does, and makes
// them durable: the parent of every directory it creates is fsynced, so
// that a crash cannot take away a directory that files were then fsynced
// in. A dir that exists is left as it is.
func EnsureDir(fsys FS, dir string, perm fs.FileMode) error {
	dir = filepath.Clean(dir)
	var created []string // deepest first
	for d := dir; ; {
		fi, err := fsys.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return &fs.PathError{Op: "mkdir", Path: d, Err: errors.New("not a directory")}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		created = append(created, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if len(created) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(dir, perm); err != nil {
		return err
	}
	for _, d := range created {
		if parent := filepath.Dir(d); parent != d {
			if err := fsys.SyncDir(parent); err != nil {
				return MarkSync(fmt.Errorf("fsync dir %s: %w", parent, err))
			}
		}
	}
	return nil
}

// MkdirTemp creates a new directory in dir whose name starts with prefix
// and returns its path. Unlike os.MkdirTemp it uses mode 0o755; the entry
// is not durable until dir is fsynced.
func MkdirTemp(fsys FS, dir, prefix string) (string, error) {
	for range 100 {
		var b [8]byte
		rand.Read(b[:])
		name := filepath.Join(dir, prefix+hex.EncodeToString(b[:]))
		err := fsys.Mkdir(name, 0o755)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", &fs.PathError{Op: "mkdirtemp", Path: filepath.Join(dir, prefix+"*"), Err: fs.ErrExist}
}

// Map returns the contents of name read-only: mapped into memory when
// fsys is a Mapper (the operating system), read onto the heap otherwise.
// Call unmap once the bytes are no longer used.
func Map(fsys FS, name string) (data []byte, unmap func() error, err error) {
	if m, ok := fsys.(Mapper); ok {
		return m.Map(name)
	}
	b, err := ReadFile(fsys, name)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
