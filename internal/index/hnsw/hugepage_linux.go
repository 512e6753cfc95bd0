package hnsw

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back the 2 MiB-aligned interior of a large
// link array with transparent huge pages (MADV_HUGEPAGE). Searches hop
// between random nodes, so with 4 KiB pages nearly every hop misses the TLB;
// huge pages remove most of those page walks. Best effort: errors (THP off,
// old kernels) are ignored, and small arrays are left alone.
func adviseHuge(words []uint32) {
	const huge = 2 << 20
	if len(words)*4 < 2*huge {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(words)))
	end := start + uintptr(len(words))*4
	a, b := (start+huge-1)&^(huge-1), end&^(huge-1)
	if a >= b {
		return
	}
	_ = madvise(a, b-a)
}

func madvise(addr, n uintptr) error {
	const madvHugepage = 14
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, n, madvHugepage)
	if errno != 0 {
		return errno
	}
	return nil
}
