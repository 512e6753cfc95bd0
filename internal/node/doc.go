// Package node is Shoal's table of contents: it owns the set of collections
// of this peer, their on-disk layout and configuration files, and
// dispatches metadata operations (create, update, delete) and data
// operations (to the collection). It takes plain Go types and a context, so
// that both the HTTP API and an in-process embedding drive it.
//
// Every file of the node (collection directories and configs, shards,
// aliases.json) goes through Options.FS (internal/vfs; the operating system
// when nil), so a test can run a whole node on vfstest's in-memory FS and
// crash it (crash_test.go). The cluster files (effects.json) are still
// written on the operating system's FS.
//
// Node is safe for concurrent use. Metadata operations are serialized by
// one lock; data operations only take it shared to look up the collection.
package node
