// Package snapshot owns Shoal's snapshot archive format: writing an
// archive to a stream, and reading one back into a directory with every
// check a file from a client or a peer needs.
//
// # Format (version 1)
//
// An archive is a POSIX tar stream (archive/tar, USTAR or PAX headers) of
// regular files only, followed by one last entry, the manifest, named
// "shoal-snapshot.json":
//
//	{
//	  "format": 1,                      // this layout; readers refuse others
//	  "kind": "shard" | "collection" | "storage",
//	  "created": "2026-12-05T15:24:00Z",
//	  "meta": { ... },                  // the kind's own description, opaque here
//	  "files": [                        // every other entry, in archive order
//	    {"name": "segments/1-2.seg", "size": 1234, "sha256": "hex"}
//	  ]
//	}
//
// The manifest comes last so that the writer streams: it learns each
// file's size and digest while copying it. Names are slash-separated,
// relative and clean (no "..", no leading "/", no "." parts, no
// backslashes or NULs), at most 255 bytes, each at most once.
//
// The reader (Extract) writes every file under the target directory while
// hashing it, then checks the manifest against what it read: the same
// names in the same order, sizes and SHA-256 digests. It refuses, with an
// error matching ErrInvalid and a marker saying why: a name that escapes
// the target or is not clean (ErrUnsafePath), an entry that is not a
// regular file or directory: symlinks, hard links, devices, FIFOs
// (ErrUnsupportedEntry), a name seen twice (ErrDuplicate), more files or
// bytes than Limits allow (ErrTooLarge), a stream that ends early or lacks
// its manifest (ErrTruncated), a digest or size that does not match, or
// data after the manifest (ErrChecksum, ErrManifest). A failed Extract may
// leave partial files in the target: callers extract into a fresh
// temporary directory and move it into place only once Extract succeeded.
//
// Verify makes every check of Extract and writes nothing (the fuzz
// target, FuzzReadArchive, runs it).
//
// Beside an archive written to disk sits "<name>.checksum" holding the
// archive's own hex digest (Qdrant's checksum file), which WriteChecksum
// and ReadChecksum handle.
//
// Thread-safety: a Writer is used by one goroutine at a time; Extract and
// the helpers hold no shared state.
package snapshot
