// Package fsutil holds the durable-state steps bound to the operating
// system, for the callers that have no vfs.FS of their own (the command's
// identity file, the node's cluster effects): writing a file atomically,
// fsyncing a directory, reading the free space. Each is the internal/vfs
// recipe on vfs.Default; code that takes an FS calls vfs directly.
// Stateless; safe for concurrent use on distinct paths.
package fsutil

import (
	"fmt"
	"io"

	"github.com/shoaldb/shoal/internal/vfs"
)

// WriteFileAtomic replaces path with what write produces: readers see
// either the old file or the complete new one, also after a crash.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	return vfs.WriteFileAtomic(vfs.Default, path, write)
}

// SyncDir fsyncs a directory, making renames and creations in it durable.
func SyncDir(dir string) error {
	if err := vfs.Default.SyncDir(dir); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// FreeSpace returns the bytes an unprivileged process may still write on
// the file system holding path; false when it cannot be read.
func FreeSpace(path string) (uint64, bool) { return vfs.Default.FreeSpace(path) }
