package vfs

import (
	"io/fs"
	"os"
	"runtime"
	"slices"
)

// Default is the operating system's file system.
var Default FS = osFS{}

// OrDefault returns fsys, or Default when fsys is nil: the zero value of an
// options struct with an FS field means the operating system.
func OrDefault(fsys FS) FS {
	if fsys == nil {
		return Default
	}
	return fsys
}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFS) Remove(name string) error                    { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                 { return os.RemoveAll(name) }
func (osFS) Rename(oldname, newname string) error        { return os.Rename(oldname, newname) }
func (osFS) Mkdir(name string, perm fs.FileMode) error   { return os.Mkdir(name, perm) }
func (osFS) MkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }
func (osFS) Stat(name string) (fs.FileInfo, error)       { return os.Stat(name) }
func (osFS) FreeSpace(path string) (uint64, bool)        { return freeSpace(path) }

func (osFS) ReadDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	slices.Sort(names)
	return names, nil
}

// SyncDir fsyncs the directory. Windows cannot fsync a directory and does
// not need to, so it is a no-op there.
func (osFS) SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return &fs.PathError{Op: "fsync", Path: dir, Err: err}
	}
	return d.Close()
}

func (osFS) Map(name string) ([]byte, func() error, error) { return mapFile(name) }
