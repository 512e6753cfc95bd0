// Package wal is a segmented, checksummed, append-only log. A shard writes
// every operation here before applying it, and replays the log after a
// restart; the raft log storage is built on it too.
//
// # Model
//
// A log holds the records with indices in [FirstIndex, NextIndex). Append
// hands a record to the operating system (one write syscall) and returns its
// index; indices are consecutive. AppendBatch does the same for several
// records in one write syscall, all or none of them, in one segment. Sync
// makes everything appended so far durable. A record is acknowledged once a Sync that started after its Append
// returned nil; acknowledged records survive kill -9 and power loss.
//
// Records live in segment files in one directory. A segment is named after
// the index of its first record, 20 decimal digits plus ".wal" (for example
// 00000000000000000042.wal), so the first index of the log survives
// TruncateFront without any other metadata. Only the newest segment, the
// active one, is written to; when a record would push it past
// Options.SegmentSize the log fsyncs it, creates the next segment, and fsyncs
// the directory. A record larger than SegmentSize gets a segment of its own.
//
// # On-disk format (all integers little endian)
//
// A segment file starts with a 16-byte header:
//
//	offset 0  [4]byte  magic "SWAL"
//	offset 4  uint32   format version (1)
//	offset 8  uint64   index of the first record (must match the file name)
//
// followed by records, back to back, each a 16-byte header and the data:
//
//	offset 0  uint32   CRC-32C (Castagnoli) of bytes 4..16 of this header
//	                   followed by the data, i.e. of length, index and data
//	offset 4  uint32   length of the data in bytes (at most MaxRecordSize)
//	offset 8  uint64   index of the record
//	offset 16 [length]byte data
//
// The index is inside the checksum so that a stale record left behind in a
// reused or preallocated file can never pass for the next one, and an
// all-zero header never checks out.
//
// # Recovery
//
// Open scans and verifies every segment in order. Damage in the newest
// segment after its last valid record (a short header, short data, a bad
// checksum, an unexpected index, zero-filled space) is what a crash leaves
// behind: the file is truncated to the last valid record and fsynced, and a
// warning is logged. A torn or zero-filled segment header in the newest
// segment is rewritten the same way. Anything else (damage in an older
// segment, a gap or overlap between segments, a segment header that belongs
// to another file or format) is not something a crash can produce, and Open
// fails with an error matching errors.Is(err, errkind.ErrCorrupt) that names the file
// and offset. Lengths read from disk are bounded by MaxRecordSize and by the
// file size before anything is allocated, so no input can make recovery
// panic or allocate without bound. Read errors are reported as such and never
// lead to truncation.
//
// # Files
//
// Every file operation goes through Options.FS (internal/vfs; vfs.Default,
// the operating system, when nil), so tests run the log on vfstest's
// in-memory FS, crash it at any fsync, and inject fsync errors, short
// writes and a full disk. Open creates the directory with vfs.EnsureDir,
// which fsyncs the parent of every directory it creates.
//
// # Failures
//
// A failed fsync leaves the state of the page cache unknown, so it poisons
// the log: every later Append, Sync and truncation returns the error, and the
// owner must Close and Open again (recovery then decides what survived). A
// failed write is undone by truncating the file back, and the log stays
// usable if that works.
//
// # Concurrency
//
// A *Log is safe for concurrent use. Appends are serialized. Sync runs
// concurrently with Append: the fsync happens outside the append lock, and
// concurrent callers are coalesced (group commit): one caller fsyncs, and the
// callers queued behind it whose records that fsync covered return without
// another one. Replay runs concurrently with Append and Sync and sees the
// records that existed when it started; TruncateFront, TruncateBack and
// Close wait for running replays. The callback of Replay must not call
// Replay, TruncateFront, TruncateBack or Close.
//
// Lock order: truncMu, then syncMu, then mu.
package wal
