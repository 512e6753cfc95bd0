package collection

import "github.com/shoaldb/shoal/internal/shard"

// The shard's error markers, re-exported so that the APIs map them to
// their statuses without importing the shard.
var (
	// ErrClosed is returned by an update after the collection was closed.
	ErrClosed = shard.ErrClosed
	// ErrOutOfDisk marks an update refused for lack of disk space; the
	// error is an *OutOfDiskError, whose text is Qdrant's.
	ErrOutOfDisk = shard.ErrOutOfDisk
)

// OutOfDiskError is an update refused for lack of disk space.
type OutOfDiskError = shard.OutOfDiskError
