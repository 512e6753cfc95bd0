package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shoaldb/shoal/internal/errkind"
)

const (
	// DefaultSegmentSize is the segment size used when Options.SegmentSize
	// is zero; it matches Qdrant's default wal_capacity_mb of 32.
	DefaultSegmentSize = 32 << 20

	// MaxRecordSize bounds the data of one record. Recovery treats a larger
	// length as damage, so garbage can never ask for a huge allocation.
	MaxRecordSize = 1 << 30

	segmentMagic      = "SWAL"
	formatVersion     = 1
	segmentHeaderSize = 16
	recordHeaderSize  = 16
	segmentExt        = ".wal"
	segmentNameDigits = 20 // enough for any uint64
)

var (
	// ErrClosed is returned by operations on a closed log.
	ErrClosed = errors.New("wal: closed")

	// ErrTooLarge is returned by Append for data above MaxRecordSize.
	ErrTooLarge = errors.New("wal: record too large")

	// ErrOutOfRange is returned by TruncateBack for an index outside
	// [FirstIndex, NextIndex].
	ErrOutOfRange = errors.New("wal: index out of range")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func corruptf(path string, off int64, format string, args ...any) error {
	return errkind.Corruptf("wal: corrupt: %s at offset %d: %s", path, off, fmt.Sprintf(format, args...))
}

func segmentName(first uint64) string {
	return fmt.Sprintf("%0*d%s", segmentNameDigits, first, segmentExt)
}

func segmentPath(dir string, first uint64) string {
	return filepath.Join(dir, segmentName(first))
}

// parseSegmentName returns the first index encoded in a segment file name.
// Names that are not exactly 20 digits and ".wal" are not segments.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != segmentNameDigits {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	first, err := strconv.ParseUint(digits, 10, 64)
	return first, err == nil
}

func encodeSegmentHeader(first uint64) []byte {
	b := make([]byte, segmentHeaderSize)
	copy(b, segmentMagic)
	binary.LittleEndian.PutUint32(b[4:], formatVersion)
	binary.LittleEndian.PutUint64(b[8:], first)
	return b
}

// checkSegmentHeader returns why b is not the header of the segment starting
// at first, or "" if it is.
func checkSegmentHeader(b []byte, first uint64) string {
	if string(b[:4]) != segmentMagic {
		return fmt.Sprintf("bad segment magic %q", b[:4])
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != formatVersion {
		return fmt.Sprintf("unsupported format version %d", v)
	}
	if got := binary.LittleEndian.Uint64(b[8:]); got != first {
		return fmt.Sprintf("segment header says first index %d, file name says %d", got, first)
	}
	return ""
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// appendRecord appends the encoded record to dst.
func appendRecord(dst []byte, index uint64, data []byte) []byte {
	start := len(dst)
	var h [recordHeaderSize]byte
	binary.LittleEndian.PutUint32(h[4:], uint32(len(data)))
	binary.LittleEndian.PutUint64(h[8:], index)
	dst = append(dst, h[:]...)
	dst = append(dst, data...)
	crc := crc32.Update(0, castagnoli, dst[start+4:])
	binary.LittleEndian.PutUint32(dst[start:], crc)
	return dst
}

// recordSize is the number of bytes a record with n bytes of data occupies.
func recordSize(n int) int64 { return recordHeaderSize + int64(n) }
