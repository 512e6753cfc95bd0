package payload

import (
	"encoding/binary"
	"hash/crc32"
	"math"

	"github.com/shoaldb/shoal/internal/errkind"
)

// The persisted form of an index:
//
//	magic "SHPI" | version u8 | type u8 | schema (uvarint length + JSON) |
//	body | CRC-32C (little endian) of everything before it
//
// The body lists the points in increasing offset order, each with the
// values it was indexed by, so Decode rebuilds the index by adding them:
// the format does not depend on in-memory layouts. Offsets are written as
// deltas; counts and lengths are checked against the remaining bytes
// before anything is allocated.

const (
	codecMagic   = "SHPI"
	codecVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type encoder struct{ b []byte }

func newEncoder(s Schema) (*encoder, error) {
	js, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	e := &encoder{b: []byte(codecMagic)}
	e.b = append(e.b, codecVersion, typeCode(s.Type))
	e.bytes(js)
	return e, nil
}

func (e *encoder) uvarint(x uint64) { e.b = binary.AppendUvarint(e.b, x) }
func (e *encoder) varint(x int64)   { e.b = binary.AppendVarint(e.b, x) }
func (e *encoder) u8(x byte)        { e.b = append(e.b, x) }
func (e *encoder) f64(f float64)    { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f)) }

func (e *encoder) bytes(b []byte) {
	e.uvarint(uint64(len(b)))
	e.b = append(e.b, b...)
}

// finish appends the checksum and returns the encoded form.
func (e *encoder) finish() []byte {
	return binary.LittleEndian.AppendUint32(e.b, crc32.Checksum(e.b, castagnoli))
}

// offsets writes point offsets as deltas from the previous one.
type offsetWriter struct {
	e     *encoder
	prev  uint32
	first bool
}

func (w *offsetWriter) put(off uint32) {
	if w.first {
		w.e.uvarint(uint64(off - w.prev))
	} else {
		w.e.uvarint(uint64(off))
		w.first = true
	}
	w.prev = off
}

type decoder struct {
	b    []byte
	err  error
	prev uint32
	any  bool
}

// newDecoder checks the envelope of data and returns a decoder positioned
// at the body.
func newDecoder(s Schema, data []byte) (*decoder, error) {
	if len(data) < len(codecMagic)+2+4 {
		return nil, errkind.Corruptf("payload index: corrupt data: too short")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, errkind.Corruptf("payload index: corrupt data: checksum mismatch")
	}
	if string(body[:4]) != codecMagic {
		return nil, errkind.Corruptf("payload index: corrupt data: bad magic")
	}
	if body[4] != codecVersion {
		return nil, errkind.Corruptf("payload index: corrupt data: unknown version %d", body[4])
	}
	if body[5] != typeCode(s.Type) || typeCode(s.Type) == 0 {
		return nil, errkind.Corruptf("payload index: corrupt data: index type %d does not match schema %q", body[5], s.Type)
	}
	d := &decoder{b: body[6:]}
	js := d.bytes()
	if d.err != nil {
		return nil, d.err
	}
	stored, err := ParseSchema(js)
	if err != nil {
		return nil, errkind.Corruptf("payload index: corrupt data: stored schema: %v", err)
	}
	if !stored.Equal(s) {
		return nil, errkind.Corruptf("payload index: corrupt data: stored schema %s does not match %s", js, mustJSON(s))
	}
	return d, nil
}

func mustJSON(s Schema) string {
	b, _ := s.MarshalJSON()
	return string(b)
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = errkind.Corruptf("payload index: corrupt data: %s", what)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return x
}

// count reads a count of items that take at least minSize bytes each.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/max(minSize, 1)) {
		d.fail("count beyond the data")
		return 0
	}
	return int(n)
}

func (d *decoder) u8() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) f64() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("truncated")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return f
}

func (d *decoder) bytes() []byte {
	n := d.count(1)
	if d.err != nil {
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

// offset reads the next point offset, which must be above the previous.
func (d *decoder) offset() uint32 {
	x := d.uvarint()
	if d.err != nil {
		return 0
	}
	if d.any {
		if x == 0 || x > uint64(math.MaxUint32-d.prev) {
			d.fail("offsets out of order")
			return 0
		}
		x += uint64(d.prev)
	} else if x > math.MaxUint32 {
		d.fail("offset out of range")
		return 0
	}
	d.prev, d.any = uint32(x), true
	return uint32(x)
}

// end checks that the body was consumed exactly.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}
