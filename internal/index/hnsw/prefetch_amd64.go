package hnsw

import "unsafe"

// prefetchRows issues a PREFETCHT0 for the first lines cache lines of row
// id (at base + id*rowBytes) of every id. A prefetch never faults and
// never waits for its line, so the misses of a node's whole neighbourhood
// overlap instead of each stalling the distance that needs it: Go has no
// prefetch intrinsic, and a plain load that misses holds up the reorder
// buffer. Ids past the end of the rows are harmless (nothing is read).
//
//go:noescape
func prefetchRows(base unsafe.Pointer, rowBytes uintptr, lines int, ids []uint32)
