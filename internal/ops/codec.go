package ops

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/google/uuid"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// EncodingVersion is the first byte of an encoded operation. A decoder
// refuses a version it does not know, so a peer or a WAL written by a later
// version is refused rather than misread.
const EncodingVersion = 1

// ErrMalformed marks input that DecodeOperation refuses; check it with
// errors.Is.
var ErrMalformed = errors.New("malformed operation")

// Encode returns the encoding of op (see the package documentation). It
// refuses an operation that fails Validate, whose fields the encoding
// would not carry, and a payload that JSON cannot hold (a NaN).
func (op *Operation) Encode() ([]byte, error) { return op.AppendEncoding(nil) }

// AppendEncoding appends the encoding of op to dst.
func (op *Operation) AppendEncoding(dst []byte) ([]byte, error) {
	if err := op.Validate(); err != nil {
		return dst, fmt.Errorf("encode %s operation: %w", op.Kind, err)
	}
	e := encoder{b: slices.Grow(dst, op.sizeHint())}
	e.b = append(e.b, EncodingVersion, kindCode(op.Kind))
	uses := shape(op.Kind)
	if uses&fPoints != 0 {
		e.count(len(op.Points))
		for _, p := range op.Points {
			e.id(p.ID)
			e.vectors(p.Vectors)
			e.payload(p.Payload)
		}
	}
	if uses&fVectors != 0 {
		e.count(len(op.Vectors))
		for _, p := range op.Vectors {
			e.id(p.ID)
			e.vectors(p.Vectors)
		}
	}
	if uses&fSelector != 0 {
		if op.Filter != nil {
			e.b = append(e.b, 1)
			e.json(op.Filter)
		} else {
			e.b = append(e.b, 0)
			e.count(len(op.IDs))
			for _, id := range op.IDs {
				e.id(id)
			}
		}
	}
	if uses&fPayload != 0 {
		e.payload(op.Payload)
	}
	if uses&fKey != 0 {
		e.str(op.Key)
	}
	if uses&fKeys != 0 {
		e.count(len(op.Keys))
		for _, k := range op.Keys {
			e.str(k)
		}
	}
	if uses&fSchema != 0 {
		e.json(op.Schema)
	}
	if e.err != nil {
		return dst, fmt.Errorf("encode %s operation: %w", op.Kind, e.err)
	}
	return e.b, nil
}

// sizeHint is about the size of op's encoding, vectors included, so that
// encoding a large upsert allocates once.
func (op *Operation) sizeHint() int {
	n := 16 + 20*len(op.IDs)
	add := func(v point.Vectors) {
		for name, x := range v {
			n += len(name) + 8 + 4*len(x)
		}
	}
	for _, p := range op.Points {
		n += 24 + 32*len(p.Payload)
		add(p.Vectors)
	}
	for _, p := range op.Vectors {
		n += 24
		add(p.Vectors)
	}
	return n
}

type encoder struct {
	b   []byte
	err error
}

func (e *encoder) count(n int) { e.b = binary.AppendUvarint(e.b, uint64(n)) }

func (e *encoder) str(s string) {
	e.count(len(s))
	e.b = append(e.b, s...)
}

func (e *encoder) id(id point.ID) {
	if id.IsUUID() {
		u := id.UUID()
		e.b = append(append(e.b, 1), u[:]...)
		return
	}
	e.b = binary.AppendUvarint(append(e.b, 0), id.Num())
}

// vectors writes the vectors by name in ascending order, so that a map
// has one encoding.
func (e *encoder) vectors(v point.Vectors) {
	e.count(len(v))
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e.str(n)
		x := v[n]
		e.count(len(x))
		for _, f := range x {
			e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(f))
		}
	}
}

func (e *encoder) payload(p point.Payload) {
	if p == nil {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.json(map[string]any(p))
}

// json writes v's JSON: encoding/json writes maps with sorted keys, and
// filters and schemas write their canonical form.
func (e *encoder) json(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return
	}
	e.count(len(b))
	e.b = append(e.b, b...)
}

// DecodeOperation decodes an encoded operation. Input it does not accept
// (another version, a truncation, trailing bytes, a count larger than the
// input could hold, a non-minimal varint, vector names out of order, JSON
// parts that do not parse, a shape that fails Validate) gives an error
// wrapping ErrMalformed, never a panic.
func DecodeOperation(b []byte) (*Operation, error) {
	d := decoder{b: b}
	if v := d.u8(); d.err == nil && v != EncodingVersion {
		return nil, fmt.Errorf("%w: encoding version %d (this version reads %d)", ErrMalformed, v, EncodingVersion)
	}
	code := d.u8()
	if d.err != nil {
		return nil, d.err
	}
	if code == 0 || int(code) > len(kinds) {
		return nil, fmt.Errorf("%w: unknown kind %d", ErrMalformed, code)
	}
	op := &Operation{Kind: kinds[code-1]}
	uses := shape(op.Kind)
	if uses&fPoints != 0 {
		n := d.count(4) // id, vectors and payload tag: 4 bytes at least
		if n > 0 {
			op.Points = make([]PointStruct, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			op.Points[i] = PointStruct{ID: d.id(), Vectors: d.vectors(), Payload: d.payload()}
		}
	}
	if uses&fVectors != 0 {
		n := d.count(3)
		if n > 0 {
			op.Vectors = make([]PointVectors, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			op.Vectors[i] = PointVectors{ID: d.id(), Vectors: d.vectors()}
		}
	}
	if uses&fSelector != 0 {
		switch d.u8() {
		case 0:
			n := d.count(2)
			if n > 0 {
				op.IDs = make([]point.ID, n)
			}
			for i := 0; i < n && d.err == nil; i++ {
				op.IDs[i] = d.id()
			}
		case 1:
			op.Filter = d.filter()
		default:
			d.fail("selector tag")
		}
	}
	if uses&fPayload != 0 {
		op.Payload = d.payload()
	}
	if uses&fKey != 0 {
		op.Key = d.str()
	}
	if uses&fKeys != 0 {
		n := d.count(1)
		if n > 0 {
			op.Keys = make([]string, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			op.Keys[i] = d.str()
		}
	}
	if uses&fSchema != 0 {
		op.Schema = d.schema()
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the operation", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("%s operation: %w", op.Kind, d.err)
	}
	if err := op.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return op, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("truncated")
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) u8() byte {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

// uvarint reads a minimal varint: one value, one encoding.
func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n <= 0:
		d.fail("bad varint")
		return 0
	case n > 1 && d.b[n-1] == 0:
		d.fail("non-minimal varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a number of items of at least minSize bytes each, refusing
// one that the rest of the input cannot hold (so a count never sizes an
// allocation beyond the input).
func (d *decoder) count(minSize int) int {
	v := d.uvarint()
	if d.err == nil && v > uint64(len(d.b)/minSize) {
		d.fail("count %d larger than the input", v)
		return 0
	}
	return int(v)
}

func (d *decoder) bytes() []byte { return d.take(d.count(1)) }

func (d *decoder) str() string { return string(d.bytes()) }

func (d *decoder) id() point.ID {
	switch d.u8() {
	case 0:
		return point.NumID(d.uvarint())
	case 1:
		var u uuid.UUID
		copy(u[:], d.take(16))
		return point.UUIDID(u)
	}
	d.fail("id tag")
	return point.ID{}
}

func (d *decoder) vectors() point.Vectors {
	n := d.count(2) // a name and a dimension: 2 bytes at least
	if n == 0 {
		return nil
	}
	out := make(point.Vectors, n)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		name := d.str()
		if i > 0 && name <= prev {
			d.fail("vector names out of order")
			return nil
		}
		prev = name
		raw := d.take(4 * d.count(4))
		x := make([]float32, len(raw)/4)
		for j := range x {
			x[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		out[name] = x
	}
	return out
}

func (d *decoder) payload() point.Payload {
	switch d.u8() {
	case 0:
		return nil
	case 1:
		b := d.bytes()
		if d.err != nil {
			return nil
		}
		p, err := point.DecodePayload(b)
		if err != nil || p == nil {
			d.fail("payload: not a JSON object")
		}
		return p
	}
	d.fail("payload tag")
	return nil
}

func (d *decoder) filter() *filter.Filter {
	b := d.bytes()
	if d.err != nil {
		return nil
	}
	f, err := filter.Parse(b)
	if err != nil {
		d.fail("filter: %v", err)
		return nil
	}
	if f == nil {
		d.fail("filter: null")
	}
	return f
}

func (d *decoder) schema() *FieldSchema {
	b := d.bytes()
	if d.err != nil {
		return nil
	}
	s, err := ParseFieldSchema(b)
	if err != nil {
		var se *SchemaError
		if errors.As(err, &se) {
			err = fmt.Errorf("%s", se.Reason)
		}
		d.fail("schema: %v", err)
		return nil
	}
	return &s
}
