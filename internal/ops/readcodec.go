package ops

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// ReadEncodingVersion is the first byte of an encoded read request (the
// body of a read a peer sends to a shard replica over P2P). A decoder
// refuses a version it does not know.
const ReadEncodingVersion = 1

// The kinds of read request, the second byte of their encoding; a decoder
// refuses a request of another kind, so a search sent as a count is
// refused rather than misread.
const (
	readSearch   = 1
	readScroll   = 2
	readCount    = 3
	readFacet    = 4
	readRetrieve = 5
)

var readKindNames = [...]string{readSearch: "search", readScroll: "scroll", readCount: "count", readFacet: "facet", readRetrieve: "retrieve"}

// Flags of the encoding.
const (
	searchHasVector = 1 << iota
	searchHasSparse
	searchHasID
	searchFlags = 1<<iota - 1
)

const (
	paramsExact = 1 << iota
	paramsIndexedOnly
	paramsHasQuantization
	paramsFlags = 1<<iota - 1
)

const (
	quantIgnore = 1 << iota
	quantHasRescore
	quantRescore
	quantHasOversampling
	quantFlags = 1<<iota - 1
)

// Encode returns the encoding of a search request (see the package
// documentation). It refuses a negative limit, offset or ef, and a filter
// that JSON cannot hold.
func (r SearchRequest) Encode() ([]byte, error) {
	e := readEncoder(readSearch, 64+4*len(r.Vector))
	e.str(r.Using)
	flags := byte(0)
	if r.Vector != nil {
		flags |= searchHasVector
	}
	if r.Sparse != nil {
		flags |= searchHasSparse
	}
	if r.QueryID != nil {
		flags |= searchHasID
	}
	e.b = append(e.b, flags)
	if r.Vector != nil {
		e.floats(r.Vector)
	}
	if r.Sparse != nil {
		e.sparseVector(*r.Sparse)
	}
	if r.QueryID != nil {
		e.id(*r.QueryID)
	}
	e.optFilter(r.Filter)
	e.nonNegative("limit", r.Limit)
	e.nonNegative("offset", r.Offset)
	e.optF32(r.ScoreThreshold)
	e.payloadSelector(r.WithPayload)
	e.vectorSelector(r.WithVector)
	e.searchParams(r.Params)
	return e.done("search")
}

// DecodeSearchRequest decodes a search request; input it does not accept
// gives an error wrapping ErrMalformed, never a panic.
func DecodeSearchRequest(b []byte) (SearchRequest, error) {
	var r SearchRequest
	d := readDecoder(b, readSearch)
	r.Using = d.str()
	flags := d.flags(searchFlags)
	if flags&searchHasVector != 0 {
		r.Vector = d.floats()
	}
	if flags&searchHasSparse != 0 {
		sv := d.sparseVector()
		r.Sparse = &sv
	}
	if flags&searchHasID != 0 {
		id := d.id()
		r.QueryID = &id
	}
	r.Filter = d.optFilter()
	r.Limit = d.int()
	r.Offset = d.int()
	r.ScoreThreshold = d.optF32()
	r.WithPayload = d.payloadSelector()
	r.WithVector = d.vectorSelector()
	r.Params = d.searchParams()
	if err := d.done("search"); err != nil {
		return SearchRequest{}, err
	}
	return r, nil
}

// Encode returns the encoding of a scroll request.
func (r ScrollRequest) Encode() ([]byte, error) {
	e := readEncoder(readScroll, 64)
	e.optFilter(r.Filter)
	e.optID(r.Offset)
	if r.OrderBy == nil {
		e.b = append(e.b, 0)
	} else {
		e.b = append(e.b, 1)
		e.str(r.OrderBy.Key)
		e.bool(r.OrderBy.Desc)
		switch s := r.OrderBy.StartFrom; {
		case s == nil:
			e.b = append(e.b, 0)
		case s.Number != nil && s.Datetime != nil:
			e.refuse("order_by start_from with both a number and a datetime")
		case s.Number != nil:
			e.b = binary.LittleEndian.AppendUint64(append(e.b, 1), math.Float64bits(*s.Number))
		case s.Datetime != nil:
			e.b = append(e.b, 2)
			e.str(*s.Datetime)
		default:
			e.b = append(e.b, 3) // a StartFrom with neither: kept as it is
		}
	}
	e.nonNegative("limit", r.Limit)
	e.payloadSelector(r.WithPayload)
	e.vectorSelector(r.WithVector)
	return e.done("scroll")
}

// DecodeScrollRequest decodes a scroll request.
func DecodeScrollRequest(b []byte) (ScrollRequest, error) {
	var r ScrollRequest
	d := readDecoder(b, readScroll)
	r.Filter = d.optFilter()
	r.Offset = d.optID()
	switch d.u8() {
	case 0:
	case 1:
		ob := &OrderBy{Key: d.str(), Desc: d.bool()}
		switch d.u8() {
		case 0:
		case 1:
			if raw := d.take(8); raw != nil {
				n := math.Float64frombits(binary.LittleEndian.Uint64(raw))
				ob.StartFrom = &StartFrom{Number: &n}
			}
		case 2:
			s := d.str()
			ob.StartFrom = &StartFrom{Datetime: &s}
		case 3:
			ob.StartFrom = &StartFrom{}
		default:
			d.fail("start_from tag")
		}
		r.OrderBy = ob
	default:
		d.fail("order_by tag")
	}
	r.Limit = d.int()
	r.WithPayload = d.payloadSelector()
	r.WithVector = d.vectorSelector()
	if err := d.done("scroll"); err != nil {
		return ScrollRequest{}, err
	}
	return r, nil
}

// Encode returns the encoding of a count request.
func (r CountRequest) Encode() ([]byte, error) {
	e := readEncoder(readCount, 16)
	e.optFilter(r.Filter)
	e.bool(r.Exact)
	return e.done("count")
}

// DecodeCountRequest decodes a count request.
func DecodeCountRequest(b []byte) (CountRequest, error) {
	var r CountRequest
	d := readDecoder(b, readCount)
	r.Filter = d.optFilter()
	r.Exact = d.bool()
	if err := d.done("count"); err != nil {
		return CountRequest{}, err
	}
	return r, nil
}

// Encode returns the encoding of a facet request.
func (r FacetRequest) Encode() ([]byte, error) {
	e := readEncoder(readFacet, 32+len(r.Key))
	e.str(r.Key)
	e.optFilter(r.Filter)
	e.nonNegative("limit", r.Limit)
	e.bool(r.Exact)
	return e.done("facet")
}

// DecodeFacetRequest decodes a facet request.
func DecodeFacetRequest(b []byte) (FacetRequest, error) {
	var r FacetRequest
	d := readDecoder(b, readFacet)
	r.Key = d.str()
	r.Filter = d.optFilter()
	r.Limit = d.int()
	r.Exact = d.bool()
	if err := d.done("facet"); err != nil {
		return FacetRequest{}, err
	}
	return r, nil
}

// Encode returns the encoding of a retrieve request.
func (r RetrieveRequest) Encode() ([]byte, error) {
	e := readEncoder(readRetrieve, 16+10*len(r.IDs))
	e.count(len(r.IDs))
	for _, id := range r.IDs {
		e.id(id)
	}
	e.payloadSelector(r.WithPayload)
	e.vectorSelector(r.WithVector)
	return e.done("retrieve")
}

// DecodeRetrieveRequest decodes a retrieve request.
func DecodeRetrieveRequest(b []byte) (RetrieveRequest, error) {
	var r RetrieveRequest
	d := readDecoder(b, readRetrieve)
	if n := d.count(2); n > 0 {
		r.IDs = make([]point.ID, n)
		for i := 0; i < n && d.err == nil; i++ {
			r.IDs[i] = d.id()
		}
	}
	r.WithPayload = d.payloadSelector()
	r.WithVector = d.vectorSelector()
	if err := d.done("retrieve"); err != nil {
		return RetrieveRequest{}, err
	}
	return r, nil
}

func readEncoder(kind byte, hint int) *encoder {
	e := &encoder{b: make([]byte, 0, hint)}
	e.b = append(e.b, ReadEncodingVersion, kind)
	return e
}

func (e *encoder) done(what string) ([]byte, error) {
	if e.err != nil {
		return nil, fmt.Errorf("encode %s request: %w", what, e.err)
	}
	return e.b, nil
}

func (e *encoder) refuse(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf(format, args...)
	}
}

func (e *encoder) nonNegative(name string, n int) {
	if n < 0 {
		e.refuse("negative %s %d", name, n)
		return
	}
	e.count(n)
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) floats(x []float32) {
	e.count(len(x))
	for _, f := range x {
		e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(f))
	}
}

func (e *encoder) optF32(f *float32) {
	if f == nil {
		e.b = append(e.b, 0)
		return
	}
	e.b = binary.LittleEndian.AppendUint32(append(e.b, 1), math.Float32bits(*f))
}

func (e *encoder) optID(id *point.ID) {
	if id == nil {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.id(*id)
}

func (e *encoder) optFilter(f *filter.Filter) {
	if f == nil {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.json(f)
}

func (e *encoder) paths(ps []point.Path) {
	e.count(len(ps))
	for _, p := range ps {
		e.str(p.String())
	}
}

func (e *encoder) payloadSelector(p PayloadSelector) {
	e.bool(p.Enable)
	e.paths(p.Include)
	e.paths(p.Exclude)
}

func (e *encoder) vectorSelector(v VectorSelector) {
	e.bool(v.Enable)
	e.count(len(v.Names))
	for _, n := range v.Names {
		e.str(n)
	}
}

func (e *encoder) searchParams(p SearchParams) {
	e.nonNegative("hnsw_ef", p.HnswEf)
	flags := byte(0)
	if p.Exact {
		flags |= paramsExact
	}
	if p.IndexedOnly {
		flags |= paramsIndexedOnly
	}
	q := p.Quantization
	if q != nil {
		flags |= paramsHasQuantization
	}
	e.b = append(e.b, flags)
	if q == nil {
		return
	}
	qf := byte(0)
	if q.Ignore {
		qf |= quantIgnore
	}
	if q.Rescore != nil {
		qf |= quantHasRescore
		if *q.Rescore {
			qf |= quantRescore
		}
	}
	if q.Oversampling != nil {
		qf |= quantHasOversampling
	}
	e.b = append(e.b, qf)
	if q.Oversampling != nil {
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(*q.Oversampling))
	}
}

// readDecoder starts decoding a read request of kind.
func readDecoder(b []byte, kind byte) *decoder {
	d := &decoder{b: b}
	version := d.u8()
	if d.err == nil && version != ReadEncodingVersion {
		d.err = fmt.Errorf("%w: read request encoding version %d (this version reads %d)", ErrMalformed, version, ReadEncodingVersion)
		return d
	}
	got := d.u8()
	if d.err == nil && got != kind {
		name := "unknown"
		if int(got) < len(readKindNames) && readKindNames[got] != "" {
			name = readKindNames[got]
		}
		d.fail("a %s request (kind %d) where a %s request was expected", name, got, readKindNames[kind])
	}
	return d
}

func (d *decoder) done(what string) error {
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the request", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("%s request: %w", what, d.err)
	}
	return nil
}

func (d *decoder) flags(known byte) byte {
	f := d.u8()
	if d.err == nil && f&^known != 0 {
		d.fail("unknown flags %#x", f&^known)
		return 0
	}
	return f
}

func (d *decoder) bool() bool {
	switch d.u8() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bool")
	return false
}

// int reads a count or limit that fits an int.
func (d *decoder) int() int {
	v := d.uvarint()
	if v > math.MaxInt {
		d.fail("integer %d out of range", v)
		return 0
	}
	return int(v)
}

func (d *decoder) floats() []float32 {
	raw := d.take(4 * d.count(4))
	if d.err != nil {
		return nil
	}
	x := make([]float32, len(raw)/4)
	for j := range x {
		x[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
	}
	return x
}

func (d *decoder) optF32() *float32 {
	switch d.u8() {
	case 0:
		return nil
	case 1:
		if raw := d.take(4); raw != nil {
			f := math.Float32frombits(binary.LittleEndian.Uint32(raw))
			return &f
		}
		return nil
	}
	d.fail("float tag")
	return nil
}

func (d *decoder) optID() *point.ID {
	switch d.u8() {
	case 0:
		return nil
	case 1:
		id := d.id()
		if d.err != nil {
			return nil
		}
		return &id
	}
	d.fail("id tag")
	return nil
}

func (d *decoder) optFilter() *filter.Filter {
	switch d.u8() {
	case 0:
		return nil
	case 1:
		return d.filter()
	}
	d.fail("filter tag")
	return nil
}

func (d *decoder) paths() []point.Path {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	out := make([]point.Path, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		s := d.str()
		if d.err != nil {
			return nil
		}
		p, err := point.ParsePath(s)
		if err != nil {
			d.fail("payload path %q: %v", s, err)
			return nil
		}
		out = append(out, p)
	}
	return out
}

func (d *decoder) payloadSelector() PayloadSelector {
	return PayloadSelector{Enable: d.bool(), Include: d.paths(), Exclude: d.paths()}
}

func (d *decoder) vectorSelector() VectorSelector {
	v := VectorSelector{Enable: d.bool()}
	if n := d.count(1); n > 0 {
		v.Names = make([]string, n)
		for i := 0; i < n && d.err == nil; i++ {
			v.Names[i] = d.str()
		}
	}
	return v
}

func (d *decoder) searchParams() SearchParams {
	p := SearchParams{HnswEf: d.int()}
	flags := d.flags(paramsFlags)
	p.Exact = flags&paramsExact != 0
	p.IndexedOnly = flags&paramsIndexedOnly != 0
	if flags&paramsHasQuantization == 0 {
		return p
	}
	qf := d.flags(quantFlags)
	if qf&quantRescore != 0 && qf&quantHasRescore == 0 {
		d.fail("rescore value without rescore")
	}
	q := &QuantizationSearchParams{Ignore: qf&quantIgnore != 0}
	if qf&quantHasRescore != 0 {
		r := qf&quantRescore != 0
		q.Rescore = &r
	}
	if qf&quantHasOversampling != 0 {
		if raw := d.take(8); raw != nil {
			o := math.Float64frombits(binary.LittleEndian.Uint64(raw))
			q.Oversampling = &o
		}
	}
	p.Quantization = q
	return p
}
