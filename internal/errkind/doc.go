// Package errkind holds the error markers that every layer shares and
// checks with errors.Is, whatever package produced the error. It is a leaf:
// it imports the standard library only, so that the lowest packages
// (vector, index/*, wal, vfs) may use it without pointing an import arrow
// upwards.
//
// ErrCorrupt is the one corruption marker: bytes read back from a file (a
// WAL segment, a segment checkpoint, an HNSW graph, a payload index, a
// quantization codec, a deletes file, a manifest, the raft state) that fail
// their checks. Each layer keeps its own wording through Corruptf, and the
// caller asks one question: errors.Is(err, errkind.ErrCorrupt).
//
// Stateless; safe for concurrent use.
package errkind
