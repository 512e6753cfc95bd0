package vfstest

import (
	"path/filepath"
	"strings"
)

// Scopes of the fault rules (FailSync, ShortWrite, FailCreate): the files
// of one durable writer, told apart by the paths its package writes.
var (
	// WALFiles matches a shard's write-ahead log: its segments and its
	// directory (<shard>/wal/...).
	WALFiles = underDir("wal")
	// SegmentFiles matches a shard's segment files: data, deletes, vector
	// and sparse index files (<shard>/segments/...).
	SegmentFiles = underDir("segments")
	// ManifestFiles matches a shard's manifest (segments.json and its
	// temporary file) and the shard directory's fsync that makes its
	// rename durable.
	ManifestFiles = func(p string) bool {
		base := filepath.Base(p)
		return base == "segments.json" || base == "segments.json.tmp" || isShardDir(p)
	}
	// RaftFiles matches the consensus storage: its log (raft-wal) and
	// snapshots.
	RaftFiles = func(p string) bool {
		return underDir("raft-wal")(p) || strings.HasPrefix(filepath.Base(p), "raft-")
	}
	// MetadataFiles matches the node's own metadata: collection
	// configurations and the files of the node's storage root that are
	// not a shard's.
	MetadataFiles = func(p string) bool {
		base := filepath.Base(p)
		return base == "config.json" || base == "config.json.tmp" || strings.HasSuffix(base, "aliases.json") || strings.HasSuffix(base, "aliases.json.tmp")
	}
)

// underDir matches the paths with a directory called name among their
// elements (the directory itself included).
func underDir(name string) func(string) bool {
	return func(p string) bool {
		for _, e := range strings.Split(filepath.ToSlash(p), "/") {
			if e == name {
				return true
			}
		}
		return false
	}
}

// isShardDir reports whether p is a shard's directory, the one holding
// wal/, segments/ and segments.json: a collection puts its shards under
// shards/<shard number>.
func isShardDir(p string) bool {
	base := filepath.Base(p)
	return base != "" && strings.Trim(base, "0123456789") == "" && filepath.Base(filepath.Dir(p)) == "shards"
}

// Or matches the paths any of ms matches.
func Or(ms ...func(string) bool) func(string) bool {
	return func(p string) bool {
		for _, m := range ms {
			if m(p) {
				return true
			}
		}
		return false
	}
}
