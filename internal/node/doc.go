// Package node is Shoal's table of contents: it owns the set of collections
// of this peer, their on-disk layout and configuration files, and
// dispatches metadata operations (create, update, delete) and data
// operations (to the collection). It takes plain Go types and a context, so
// that both the HTTP API and an in-process embedding drive it.
//
// Node is safe for concurrent use. Metadata operations are serialized by
// one lock; data operations only take it shared to look up the collection.
package node
