package sparse

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"unsafe"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vector"
)

const (
	fileMagic   = "SHOALSPX"
	fileVersion = 1
	headerSize  = 32
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func pad8(n uint64) uint64 { return (n + 7) &^ 7 }

// layout is where each section of a file with d dimensions and p postings
// of datatype dt starts, and the file's total size.
type layout struct {
	dims, starts, quant, offs, weights, crc, size uint64
}

func layoutOf(dt Datatype, d, p uint64) layout {
	var l layout
	l.dims = headerSize
	l.starts = l.dims + pad8(4*d)
	l.quant = l.starts + 8*(d+1)
	l.offs = l.quant
	if dt == Uint8 {
		l.offs += 8 * d
	}
	l.weights = l.offs + pad8(4*p)
	l.crc = l.weights + pad8(uint64(dt.size())*p)
	l.size = l.crc + 4
	return l
}

// Encode writes the index in the file format of the package documentation.
func (ix *Index) Encode(w io.Writer) error {
	d, p := uint64(len(ix.dims)), uint64(len(ix.offs))
	l := layoutOf(ix.dt, d, p)
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<20)
	var b [8]byte
	n := uint64(0) // bytes written, for the padding
	put := func(x []byte) { bw.Write(x); n += uint64(len(x)) }
	u32 := func(v uint32) { binary.LittleEndian.PutUint32(b[:4], v); put(b[:4]) }
	u64 := func(v uint64) { binary.LittleEndian.PutUint64(b[:], v); put(b[:]) }
	padTo := func(at uint64) {
		for n < at {
			bw.WriteByte(0)
			n++
		}
	}
	put([]byte(fileMagic))
	put([]byte{fileVersion, byte(ix.dt), 0, 0})
	u32(uint32(ix.vectors))
	u32(uint32(d))
	u32(0)
	u64(p)
	for _, x := range ix.dims {
		u32(x)
	}
	padTo(l.starts)
	for _, x := range ix.starts {
		u64(x)
	}
	for _, x := range ix.quant {
		u32(math.Float32bits(x))
	}
	for _, x := range ix.offs {
		u32(x)
	}
	padTo(l.weights)
	switch ix.dt {
	case Float16:
		for _, x := range ix.w16 {
			binary.LittleEndian.PutUint16(b[:2], x)
			put(b[:2])
		}
	case Uint8:
		put(ix.w8)
	default:
		for _, x := range ix.w32 {
			u32(math.Float32bits(x))
		}
	}
	padTo(l.crc)
	if err := bw.Flush(); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:4], crc.Sum32())
	_, err := w.Write(b[:4])
	return err
}

func corrupt(format string, args ...any) error {
	return errkind.Corruptf("corrupt sparse index: "+format, args...)
}

// Decode reads an index written by Encode. With inPlace its lists are
// views of b (b must then stay alive and unchanged while the index is
// used: a mapped file); otherwise they are copies. Anything Encode cannot
// have written gives an error matching errkind.ErrCorrupt.
func Decode(b []byte, inPlace bool) (*Index, error) {
	if len(b) < headerSize+4 {
		return nil, corrupt("%d bytes", len(b))
	}
	if string(b[:8]) != fileMagic {
		return nil, corrupt("bad magic")
	}
	if b[8] != fileVersion {
		return nil, corrupt("version %d (this version reads %d)", b[8], fileVersion)
	}
	dt := Datatype(b[9])
	if dt > Uint8 || b[10] != 0 || b[11] != 0 {
		return nil, corrupt("bad datatype %d", b[9])
	}
	le := binary.LittleEndian
	vectors := le.Uint32(b[12:])
	d := uint64(le.Uint32(b[16:]))
	p := le.Uint64(b[24:])
	if le.Uint32(b[20:]) != 0 || p > uint64(len(b)) || d > uint64(len(b)) {
		return nil, corrupt("bad counts: %d dimensions, %d postings in %d bytes", d, p, len(b))
	}
	l := layoutOf(dt, d, p)
	if l.size != uint64(len(b)) {
		return nil, corrupt("%d bytes, want %d for %d dimensions and %d postings", len(b), l.size, d, p)
	}
	if crc32.Checksum(b[:l.crc], castagnoli) != le.Uint32(b[l.crc:]) {
		return nil, corrupt("checksum mismatch")
	}
	for _, gap := range [][2]uint64{{l.dims + 4*d, l.starts}, {l.offs + 4*p, l.weights}, {l.weights + uint64(dt.size())*p, l.crc}} {
		for _, x := range b[gap[0]:gap[1]] {
			if x != 0 {
				return nil, corrupt("padding is not zero")
			}
		}
	}
	ix := &Index{dt: dt, vectors: int(vectors)}
	// Views need the sections aligned in memory, which they are in a
	// mapped file; a misaligned buffer is read by copying.
	inPlace = inPlace && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8 == 0
	ix.dims = u32s(b[l.dims:l.dims+4*d], inPlace)
	ix.starts = u64s(b[l.starts:l.starts+8*(d+1)], inPlace)
	ix.offs = u32s(b[l.offs:l.offs+4*p], inPlace)
	if dt == Uint8 {
		ix.quant = f32s(b[l.quant:l.quant+8*d], inPlace)
	}
	w := b[l.weights:]
	switch dt {
	case Float16:
		ix.w16 = u16s(w[:2*p], inPlace)
	case Uint8:
		ix.w8 = w[:p:p]
		if !inPlace {
			ix.w8 = append([]uint8(nil), ix.w8...)
		}
	default:
		ix.w32 = f32s(w[:4*p], inPlace)
	}
	if err := ix.check(); err != nil {
		return nil, err
	}
	return ix, nil
}

// check verifies what the checksum cannot: the lists' order and bounds,
// finite weights.
func (ix *Index) check() error {
	d := len(ix.dims)
	for i := 1; i < d; i++ {
		if ix.dims[i] <= ix.dims[i-1] {
			return corrupt("dimensions out of order at %d", i)
		}
	}
	if ix.starts[0] != 0 || ix.starts[d] != uint64(len(ix.offs)) {
		return corrupt("list starts do not cover the postings")
	}
	for i := range d {
		lo, hi := ix.starts[i], ix.starts[i+1]
		if hi <= lo || hi > uint64(len(ix.offs)) {
			return corrupt("bad list %d: [%d, %d)", i, lo, hi)
		}
		for p := lo + 1; p < hi; p++ {
			if ix.offs[p] <= ix.offs[p-1] {
				return corrupt("offsets out of order in list %d", i)
			}
		}
		ix.maxOff = max(ix.maxOff, ix.offs[hi-1])
		if uint64(ix.vectors) < hi-lo {
			return corrupt("list %d longer than the %d vectors", i, ix.vectors)
		}
	}
	for _, x := range ix.quant {
		if !finite(x) {
			return corrupt("weight quantization is not finite")
		}
	}
	for _, x := range ix.w32 {
		if !finite(x) {
			return corrupt("weight is not finite")
		}
	}
	for _, h := range ix.w16 {
		if !finite(vector.Float16ToFloat32(h)) {
			return corrupt("weight is not finite")
		}
	}
	return nil
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// The section readers: views of b (little endian in the file and in
// memory: every platform this engine targets is little endian), or copies.

func u32s(b []byte, view bool) []uint32 {
	n := len(b) / 4
	if n == 0 {
		return nil
	}
	if view {
		return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

func u64s(b []byte, view bool) []uint64 {
	n := len(b) / 8
	if view {
		return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out
}

func u16s(b []byte, view bool) []uint16 {
	n := len(b) / 2
	if n == 0 {
		return nil
	}
	if view {
		return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]uint16, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return out
}

func f32s(b []byte, view bool) []float32 {
	n := len(b) / 4
	if n == 0 {
		return nil
	}
	if view {
		return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}
