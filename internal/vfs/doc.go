// Package vfs is the file-system seam under every durable writer of Shoal
// (the WAL, the shard's manifest and segment files, consensus storage, the
// node's metadata files), in the spirit of pebble's vfs: an FS interface,
// Default for the operating system, and the few recipes durable state
// shares (WriteFileAtomic, EnsureDir, ReadFile, MkdirTemp, Map). Tests put
// internal/vfs/vfstest underneath instead: an in-memory FS that loses what
// was not fsynced when it crashes, and a wrapper that injects faults.
//
// The promise an FS makes is the operating system's: bytes written are
// visible at once and durable once the file's Sync returns nil; a created,
// renamed or removed entry is durable once SyncDir of its directory returns
// nil. Writers must not rely on more (vfstest's MemFS gives no more).
//
// A failed fsync is not a failed write that can be retried: the page cache
// may have dropped the bytes, and a later fsync may succeed without them.
// The recipes mark it (ErrSyncFailed, syncerr.go) so that the owner of the
// files can stop writing until a reopen reads what is really on disk.
//
// Mapped files. On-disk vector columns are mapped read-only. They stay
// inside the seam for everything that matters to durability: they are
// written with WriteFileAtomic and opened with Map, which maps through the
// FS when it is a Mapper (Default) and reads the file onto the heap
// otherwise, so a MemFS or a fault-injecting FS serves them too. What the
// seam cannot cover is an I/O error while a mapped page is read (SIGBUS);
// no FS interface can, which is why only write-once, fsynced files are
// mapped.
//
// Thread-safety: Default and the helpers are safe for concurrent use; a
// File is as safe as *os.File (concurrent ReadAt and WriteAt are fine,
// Read and Write share an offset).
package vfs
