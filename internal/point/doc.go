// Package point holds the shared vocabulary of Shoal: point ids (unsigned
// integers or UUIDs), vectors (dense float32, unnamed or named) and JSON
// payloads, plus the key paths that address values inside a payload, and
// CheckText, which finds the JSON text Qdrant's parser refuses but Go's
// decoder would silently alter.
//
// Everything here is a plain value type without I/O or goroutines; values are
// safe for concurrent reads, and callers copy before they mutate.
package point
