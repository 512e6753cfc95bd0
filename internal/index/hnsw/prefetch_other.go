//go:build !amd64

package hnsw

import "unsafe"

// prefetchRows is a no-op where no prefetch instruction is wired in.
func prefetchRows(base unsafe.Pointer, rowBytes uintptr, lines int, ids []uint32) {}
