package quant

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vector"
)

// The stream Encode writes, little-endian:
//
//	"SHQZ" | version u16 | kind u8 | distance u8 | dim u32 | n u64
//	kind-specific fields and arrays (each array: u64 element count, data)
//	CRC-32C of everything before it, u32
//
// Decode reads the whole stream before allocating anything from its
// header, so a lying header costs no more memory than the stream itself;
// the stored codes are then used in place.

const (
	magic         = "SHQZ"
	formatVersion = 1
	headerLen     = 4 + 2 + 1 + 1 + 4 + 8
)

const (
	kindScalar  = 1
	kindBinary  = 2
	kindProduct = 3
	kindTurbo   = 4
)

var distCodes = []vector.Distance{vector.Cosine, vector.Dot, vector.Euclid, vector.Manhattan}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrConfigMismatch is a well-formed stream encoded for another config
// (other kind, binary encoding, PQ compression or turbo bits): rebuild it.
var ErrConfigMismatch = errors.New("quant: encoded vectors do not match the config")

// corruptf reports a stream Decode cannot trust: truncated, bad checksum,
// unknown version or impossible fields. It matches errkind.ErrCorrupt.
func corruptf(format string, args ...any) error {
	return errkind.Corruptf("quant: corrupt encoded vectors: "+format, args...)
}

type encoder struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf [8]byte
	err error
}

func newEncoder(w io.Writer, kind uint8, dist vector.Distance, dim, n int) *encoder {
	e := &encoder{w: bufio.NewWriterSize(w, 64<<10), crc: crc32.New(castagnoli)}
	e.raw([]byte(magic))
	e.u16(formatVersion)
	e.u8(kind)
	var dc uint8
	for i, d := range distCodes {
		if d == dist {
			dc = uint8(i + 1)
		}
	}
	e.u8(dc)
	e.u32(uint32(dim))
	e.u64(uint64(n))
	return e
}

func (e *encoder) raw(b []byte) {
	if e.err != nil {
		return
	}
	e.crc.Write(b)
	_, e.err = e.w.Write(b)
}

func (e *encoder) u8(v uint8) { e.raw([]byte{v}) }

func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:], v)
	e.raw(e.buf[:2])
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:], v)
	e.raw(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.raw(e.buf[:8])
}

func (e *encoder) f32(v float32) { e.u32(math.Float32bits(v)) }

func (e *encoder) bytes(b []byte) {
	e.u64(uint64(len(b)))
	e.raw(b)
}

func (e *encoder) f32s(a []float32) {
	e.u64(uint64(len(a)))
	var chunk [4096]byte
	for len(a) > 0 {
		k := min(len(a), len(chunk)/4)
		for i, x := range a[:k] {
			binary.LittleEndian.PutUint32(chunk[4*i:], math.Float32bits(x))
		}
		e.raw(chunk[:4*k])
		a = a[k:]
	}
}

// finish writes the checksum and flushes.
func (e *encoder) finish() error {
	if e.err != nil {
		return fmt.Errorf("quant: encode: %w", e.err)
	}
	binary.LittleEndian.PutUint32(e.buf[:], e.crc.Sum32())
	if _, err := e.w.Write(e.buf[:4]); err != nil {
		return fmt.Errorf("quant: encode: %w", err)
	}
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("quant: encode: %w", err)
	}
	return nil
}

// decoder reads fields from the checksummed body; the first short read
// sticks in err and later reads return zeros.
type decoder struct {
	b   []byte
	err error

	kind uint8
	dist vector.Distance
	dim  int
	n    int
}

func (d *decoder) take(k int) []byte {
	if d.err != nil {
		return nil
	}
	if k < 0 || k > len(d.b) {
		d.err = corruptf("truncated: need %d bytes, have %d", k, len(d.b))
		return nil
	}
	out := d.b[:k:k]
	d.b = d.b[k:]
	return out
}

func (d *decoder) u8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if b := d.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) f32() float32 { return math.Float32frombits(d.u32()) }

// count reads an array length and checks it is want.
func (d *decoder) count(want int) bool {
	got := d.u64()
	if d.err == nil && got != uint64(want) {
		d.err = corruptf("array of %d elements, want %d", got, want)
	}
	return d.err == nil
}

// bytes reads an array of exactly k bytes, in place.
func (d *decoder) bytes(k int) []byte {
	if !d.count(k) {
		return nil
	}
	return d.take(k)
}

// f32s reads an array of exactly k float32s into a new slice.
func (d *decoder) f32s(k int) []float32 {
	if !d.count(k) || k > len(d.b)/4 {
		if d.err == nil {
			d.err = corruptf("truncated float array of %d", k)
		}
		return nil
	}
	b := d.take(4 * k)
	out := make([]float32, k)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// end reports the first error, or trailing bytes.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = corruptf("%d trailing bytes", len(d.b))
	}
	return d.err
}

// Decode reads what Encoded.Encode wrote. cfg is the collection's current
// config: a stream of another kind, binary encoding or PQ compression gives
// ErrConfigMismatch; the binary query encoding, a query-time setting, is
// taken from cfg. Settings that only shape training (the scalar quantile)
// are not recorded: a caller that changes them rebuilds. Damaged input
// gives an error wrapping errkind.ErrCorrupt, never a panic.
func Decode(cfg *Config, r io.Reader) (Encoded, error) {
	if cfg == nil {
		return nil, errors.New("quant: decode: no quantization config")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("quant: decode: %w", err)
	}
	if len(data) < headerLen+4 {
		return nil, corruptf("%d bytes is too short", len(data))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, corruptf("checksum mismatch")
	}
	d := &decoder{b: body}
	if string(d.take(4)) != magic {
		return nil, corruptf("bad magic")
	}
	if v := d.u16(); v != formatVersion {
		return nil, corruptf("unknown format version %d", v)
	}
	d.kind = d.u8()
	dc := d.u8()
	if dc < 1 || int(dc) > len(distCodes) {
		return nil, corruptf("unknown distance %d", dc)
	}
	d.dist = distCodes[dc-1]
	dim, n := d.u32(), d.u64()
	if dim < 1 || dim > maxDim || n > 1<<32 {
		return nil, corruptf("dimension %d, %d vectors", dim, n)
	}
	d.dim, d.n = int(dim), int(n)

	want := map[Kind]uint8{Scalar: kindScalar, Binary: kindBinary, Product: kindProduct, Turbo: kindTurbo}[cfg.Kind]
	if d.kind < kindScalar || d.kind > kindTurbo {
		return nil, corruptf("unknown kind %d", d.kind)
	}
	if d.kind != want {
		return nil, fmt.Errorf("%w: stream kind %d, config %q", ErrConfigMismatch, d.kind, cfg.Kind)
	}
	switch d.kind {
	case kindScalar:
		return decodeScalar(d)
	case kindBinary:
		return decodeBinary(d, cfg)
	case kindTurbo:
		return decodeTurbo(d, cfg)
	default:
		return decodePQ(d, cfg)
	}
}

// StreamInfo reads the header of a stream Encode wrote: the distance, the
// dimension and the number of encoded offsets, so that a caller can check
// decoded codes against its column before scoring (a Scorer panics on a
// query of another dimension). It does not verify the checksum; Decode does.
func StreamInfo(data []byte) (vector.Distance, int, int, error) {
	if len(data) < headerLen+4 || string(data[:4]) != magic {
		return "", 0, 0, corruptf("no stream header")
	}
	d := &decoder{b: data[4:headerLen]}
	d.u16()
	d.u8()
	dc := d.u8()
	dim, n := d.u32(), d.u64()
	if dc < 1 || int(dc) > len(distCodes) || dim < 1 || dim > maxDim || n > 1<<32 {
		return "", 0, 0, corruptf("bad stream header")
	}
	return distCodes[dc-1], int(dim), int(n), nil
}
