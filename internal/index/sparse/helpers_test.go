package sparse

import (
	"hash/crc32"
	"unsafe"
)

func unsafeBytes(w []uint64) []byte {
	if len(w) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), 8*len(w))
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
