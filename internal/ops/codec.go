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
// version is refused rather than misread. Version 2 added sparse vectors,
// version 3 the update mode and update filter of upserts and vector
// updates; versions 1 and 2 (the same without them) are still read.
const EncodingVersion = 3

// Earlier versions, still decoded.
const (
	encodingV1 = 1 // before sparse vectors
	encodingV2 = 2 // before update modes and update filters
)

// kindsV1 is the number of kinds version 1 knew: the named vector kinds
// came with version 2, and add no field to any other kind, so records of
// the kinds before them are unchanged (a decoder without them refuses
// their records as of an unknown kind).
const kindsV1 = 10

// ErrMalformed marks input that a decoder of this package refuses
// (DecodeOperation, the read request decoders); check it with errors.Is.
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
			e.sparse(p.Sparse)
			e.payload(p.Payload)
		}
	}
	if uses&fVectors != 0 {
		e.count(len(op.Vectors))
		for _, p := range op.Vectors {
			e.id(p.ID)
			e.vectors(p.Vectors)
			e.sparse(p.Sparse)
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
	if uses&fMode != 0 {
		code, _ := modeCode(op.UpdateMode) // Validate checked it
		e.b = append(e.b, code)
	}
	if uses&fCondition != 0 {
		if op.UpdateFilter == nil {
			e.b = append(e.b, 0)
		} else {
			e.b = append(e.b, 1)
			e.json(op.UpdateFilter)
		}
	}
	if uses&fVectorConfig != 0 {
		e.json(op.VectorConfig)
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
	add := func(v point.Vectors, sp point.SparseVectors) {
		for name, x := range v {
			n += len(name) + 8 + 4*len(x)
		}
		for name, x := range sp {
			n += len(name) + 8 + 8*len(x.Indices)
		}
	}
	for _, p := range op.Points {
		n += 24 + 32*len(p.Payload)
		add(p.Vectors, p.Sparse)
	}
	for _, p := range op.Vectors {
		n += 24
		add(p.Vectors, p.Sparse)
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

// sparse writes the sparse vectors by name in ascending order: each its
// entry count, the indices as varints, then the values.
func (e *encoder) sparse(v point.SparseVectors) {
	e.count(len(v))
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e.str(n)
		e.sparseVector(v[n])
	}
}

// sparseVector writes one sparse vector: its entry count, the indices as
// varints, then the values.
func (e *encoder) sparseVector(x point.SparseVector) {
	e.count(len(x.Indices))
	for _, d := range x.Indices {
		e.b = binary.AppendUvarint(e.b, uint64(d))
	}
	for _, f := range x.Values {
		e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(f))
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
	version := d.u8()
	if d.err == nil && (version < encodingV1 || version > EncodingVersion) {
		return nil, fmt.Errorf("%w: encoding version %d (this version reads %d to %d)", ErrMalformed, version, encodingV1, EncodingVersion)
	}
	withSparse := version >= encodingV2
	withConditions := version >= 3
	sparse := func() point.SparseVectors {
		if !withSparse {
			return nil
		}
		return d.sparse()
	}
	code := d.u8()
	if d.err != nil {
		return nil, d.err
	}
	if code == 0 || int(code) > len(kinds) || (version == encodingV1 && int(code) > kindsV1) {
		return nil, fmt.Errorf("%w: unknown kind %d", ErrMalformed, code)
	}
	op := &Operation{Kind: kinds[code-1]}
	uses := shape(op.Kind)
	if uses&fPoints != 0 {
		n := d.count(4) // id, vectors and payload tag: 4 bytes at least (5 with sparse)
		if n > 0 {
			op.Points = make([]PointStruct, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			op.Points[i] = PointStruct{ID: d.id(), Vectors: d.vectors(), Sparse: sparse(), Payload: d.payload()}
		}
	}
	if uses&fVectors != 0 {
		n := d.count(3)
		if n > 0 {
			op.Vectors = make([]PointVectors, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			op.Vectors[i] = PointVectors{ID: d.id(), Vectors: d.vectors(), Sparse: sparse()}
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
	if withConditions && uses&fMode != 0 {
		code := d.u8()
		if d.err == nil && int(code) >= len(modes) {
			d.fail("unknown update mode %d", code)
		}
		if code > 0 && d.err == nil {
			op.UpdateMode = modes[code]
		}
	}
	if withConditions && uses&fCondition != 0 {
		switch d.u8() {
		case 0:
		case 1:
			op.UpdateFilter = d.filter()
		default:
			d.fail("update filter tag")
		}
	}
	if uses&fVectorConfig != 0 {
		op.VectorConfig = d.vectorConfig()
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

// sparse reads sparse vectors: names ascending, indices that fit a u32.
// Duplicate indices are left to Validate.
func (d *decoder) sparse() point.SparseVectors {
	n := d.count(2) // a name and an entry count: 2 bytes at least
	if n == 0 {
		return nil
	}
	out := make(point.SparseVectors, n)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		name := d.str()
		if i > 0 && name <= prev {
			d.fail("sparse vector names out of order")
			return nil
		}
		prev = name
		v := d.sparseVector()
		if d.err != nil {
			return nil
		}
		out[name] = v
	}
	return out
}

// sparseVector reads one sparse vector: indices that fit a u32, then the
// values.
func (d *decoder) sparseVector() point.SparseVector {
	k := d.count(5) // a varint index and a 4-byte value: 5 bytes at least
	v := point.SparseVector{Indices: make([]uint32, k), Values: make([]float32, k)}
	for j := range v.Indices {
		x := d.uvarint()
		if x > math.MaxUint32 {
			d.fail("sparse index %d out of range", x)
			return point.SparseVector{}
		}
		v.Indices[j] = uint32(x)
	}
	raw := d.take(4 * k)
	if d.err != nil {
		return point.SparseVector{}
	}
	for j := range v.Values {
		v.Values[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
	}
	return v
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

func (d *decoder) vectorConfig() *VectorNameConfig {
	b := d.bytes()
	if d.err != nil {
		return nil
	}
	c, err := decodeVectorConfig(b)
	if err != nil {
		d.fail("vector config: %v", err)
		return nil
	}
	return c
}
