package ops

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

var updateRead = flag.Bool("update-read", false, "rewrite testdata/read_encoding.golden (the current read version's bytes)")

// readRequest is any of the encoded read requests.
type readRequest interface{ Encode() ([]byte, error) }

// decodeRead decodes b as a request of the same type as like.
func decodeRead(like readRequest, b []byte) (readRequest, error) {
	switch like.(type) {
	case SearchRequest:
		return DecodeSearchRequest(b)
	case ScrollRequest:
		return DecodeScrollRequest(b)
	case CountRequest:
		return DecodeCountRequest(b)
	case FacetRequest:
		return DecodeFacetRequest(b)
	case RetrieveRequest:
		return DecodeRetrieveRequest(b)
	}
	panic(fmt.Sprintf("no decoder for %T", like))
}

// readDecoders are the decoders by name, for the fuzz test.
var readDecoders = []struct {
	name   string
	decode func([]byte) (readRequest, error)
}{
	{"search", func(b []byte) (readRequest, error) { return DecodeSearchRequest(b) }},
	{"scroll", func(b []byte) (readRequest, error) { return DecodeScrollRequest(b) }},
	{"count", func(b []byte) (readRequest, error) { return DecodeCountRequest(b) }},
	{"facet", func(b []byte) (readRequest, error) { return DecodeFacetRequest(b) }},
	{"retrieve", func(b []byte) (readRequest, error) { return DecodeRetrieveRequest(b) }},
}

// sampleReads has requests of every kind with the values the encoding must
// carry exactly: the largest integer id, UUIDs, float32 and float64
// extremes, empty names, multivectors as their flat rows, every selector
// and every option set and unset. Each is in the form its decoder returns
// (empty lists nil), so that it decodes back deeply equal. NaN bits are in
// TestReadEncodingNaNBits, since NaN != NaN.
func sampleReads(t testing.TB) []readRequest {
	ua, err := point.ParseUUID(uuidA)
	if err != nil {
		t.Fatal(err)
	}
	maxID := point.NumID(math.MaxUint64)
	f := mustFilter(t, `{"must":[{"key":"color","match":{"value":"red"}}],"must_not":[{"has_id":[1,"`+uuidA+`"]}]}`)
	all := PayloadSelector{Enable: true}
	some := PayloadSelector{Enable: true, Include: []point.Path{point.MustParsePath("a.b[]"), point.MustParsePath(`"odd key".x`)}}
	except := PayloadSelector{Enable: true, Exclude: []point.Path{point.MustParsePath("c[0]")}}
	vecs := VectorSelector{Enable: true, Names: []string{"", "image", "image"}}
	return []readRequest{
		SearchRequest{},
		SearchRequest{Using: "image", Vector: []float32{0, -1.5, math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(-1))},
			Filter: f, Limit: 10, Offset: 3, ScoreThreshold: ptr(float32(0.25)), WithPayload: some, WithVector: vecs,
			Params: SearchParams{HnswEf: 128, Exact: true, IndexedOnly: true}},
		SearchRequest{Using: "text", Sparse: &point.SparseVector{Indices: []uint32{0, 7, math.MaxUint32}, Values: []float32{1, -2, 0.5}},
			Limit: 1, WithPayload: except, Params: SearchParams{Quantization: &QuantizationSearchParams{Ignore: true, Rescore: ptr(false), Oversampling: ptr(2.5)}}},
		SearchRequest{QueryID: &maxID, Limit: math.MaxInt64, WithVector: VectorSelector{Enable: true},
			Params: SearchParams{Quantization: &QuantizationSearchParams{Rescore: ptr(true)}}},
		SearchRequest{QueryID: &ua, Vector: []float32{}, Sparse: &point.SparseVector{Indices: []uint32{}, Values: []float32{}},
			Params: SearchParams{Quantization: &QuantizationSearchParams{}}},
		// A multivector query travels as its rows, flattened.
		SearchRequest{Using: "colbert", Vector: []float32{1, 2, 3, 4, 5, 6}, Limit: 5, WithPayload: all},
		ScrollRequest{},
		ScrollRequest{Filter: f, Offset: &ua, Limit: 100, WithPayload: all, WithVector: vecs},
		ScrollRequest{Offset: &maxID, OrderBy: &OrderBy{Key: "price"}, Limit: 1},
		ScrollRequest{OrderBy: &OrderBy{Key: "price", Desc: true, StartFrom: &StartFrom{Number: ptr(-0.125)}}},
		ScrollRequest{OrderBy: &OrderBy{Key: "t", StartFrom: &StartFrom{Datetime: ptr("2024-01-02T03:04:05Z")}}},
		ScrollRequest{OrderBy: &OrderBy{StartFrom: &StartFrom{}}},
		CountRequest{},
		CountRequest{Filter: f, Exact: true},
		FacetRequest{Key: "color"},
		FacetRequest{Key: "", Filter: f, Limit: 7, Exact: true},
		RetrieveRequest{},
		RetrieveRequest{IDs: []point.ID{point.NumID(0), maxID, ua, point.NumID(0)}, WithPayload: some, WithVector: vecs},
	}
}

// TestReadEncodingRoundTrip: every sample decodes back deeply equal, and
// its encoding is the same bytes again.
func TestReadEncodingRoundTrip(t *testing.T) {
	for i, req := range sampleReads(t) {
		b, err := req.Encode()
		if err != nil {
			t.Fatalf("%d: encode %T: %v", i, req, err)
		}
		if b[0] != ReadEncodingVersion {
			t.Fatalf("%d: encoding starts with %d", i, b[0])
		}
		got, err := decodeRead(req, b)
		if err != nil {
			t.Fatalf("%d: decode %T %x: %v", i, req, b, err)
		}
		if !reflect.DeepEqual(got, req) {
			t.Fatalf("%d: round trip:\n got %#v\nwant %#v", i, got, req)
		}
		again, err := got.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%d: %T does not encode back to its bytes (%v):\n%x\n%x", i, req, err, b, again)
		}
	}
}

// TestReadEncodingNaNBits: floats travel as their bits, NaN payloads and
// negative zero included.
func TestReadEncodingNaNBits(t *testing.T) {
	nan := math.Float32frombits(0x7fc00001)
	nan64 := math.Float64frombits(0x7ff8000000000123)
	negZero := float32(math.Copysign(0, -1))
	b, err := SearchRequest{Vector: []float32{nan, negZero}, Sparse: &point.SparseVector{Indices: []uint32{1}, Values: []float32{nan}},
		ScoreThreshold: &nan, Params: SearchParams{Quantization: &QuantizationSearchParams{Oversampling: &nan64}}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSearchRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	bits := []uint32{math.Float32bits(got.Vector[0]), math.Float32bits(got.Vector[1]), math.Float32bits(got.Sparse.Values[0]), math.Float32bits(*got.ScoreThreshold)}
	if want := []uint32{0x7fc00001, 0x80000000, 0x7fc00001, 0x7fc00001}; !reflect.DeepEqual(bits, want) {
		t.Fatalf("bits %x, want %x", bits, want)
	}
	if o := math.Float64bits(*got.Params.Quantization.Oversampling); o != 0x7ff8000000000123 {
		t.Fatalf("oversampling bits %x", o)
	}
	sb, err := ScrollRequest{OrderBy: &OrderBy{Key: "k", StartFrom: &StartFrom{Number: &nan64}}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	sg, err := DecodeScrollRequest(sb)
	if err != nil {
		t.Fatal(err)
	}
	if o := math.Float64bits(*sg.OrderBy.StartFrom.Number); o != 0x7ff8000000000123 {
		t.Fatalf("start_from bits %x", o)
	}
}

// TestReadEncodingGolden holds the bytes of read encoding version 1: a
// change to them is a new version, not an edit (peers of one cluster may
// run two versions during an upgrade).
func TestReadEncodingGolden(t *testing.T) {
	var out strings.Builder
	for _, req := range sampleReads(t) {
		b, err := req.Encode()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%T %s\n", req, hex.EncodeToString(b))
	}
	path := filepath.Join("testdata", "read_encoding.golden")
	if *updateRead {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatalf("read encoding changed:\n got %s\nwant %s", out.String(), want)
	}
	// Every line keeps decoding, as the request of its type.
	byType := map[string]func([]byte) (readRequest, error){}
	for _, req := range sampleReads(t) {
		like := req
		byType[fmt.Sprintf("%T", req)] = func(b []byte) (readRequest, error) { return decodeRead(like, b) }
	}
	for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		typ, hx, _ := strings.Cut(line, " ")
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatal(err)
		}
		decode, ok := byType[typ]
		if !ok {
			t.Fatalf("golden line of unknown type %s", typ)
		}
		if _, err := decode(b); err != nil {
			t.Fatalf("golden %s %s: %v", typ, hx, err)
		}
	}
}

func TestReadEncodeRefuses(t *testing.T) {
	for _, c := range []struct {
		req  readRequest
		want string
	}{
		{SearchRequest{Limit: -1}, "negative limit"},
		{SearchRequest{Offset: -1}, "negative offset"},
		{SearchRequest{Params: SearchParams{HnswEf: -1}}, "negative hnsw_ef"},
		{ScrollRequest{Limit: -5}, "negative limit"},
		{FacetRequest{Limit: -5}, "negative limit"},
		{ScrollRequest{OrderBy: &OrderBy{StartFrom: &StartFrom{Number: ptr(1.0), Datetime: ptr("x")}}}, "both a number and a datetime"},
	} {
		if _, err := c.req.Encode(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%#v: %v, want %q", c.req, err, c.want)
		}
	}
}

// TestReadDecodeErrors: input the decoders refuse, each with the reason.
func TestReadDecodeErrors(t *testing.T) {
	v := byte(ReadEncodingVersion)
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	sel := []byte{0, 0, 0, 0, 0} // payload off, no paths, vectors off, no names
	for _, c := range []struct {
		name   string
		decode func([]byte) (readRequest, error)
		in     []byte
		want   string
	}{
		{"empty", readDecoders[2].decode, nil, "truncated"},
		{"version 0", readDecoders[2].decode, []byte{0, readCount, 0, 0}, "read request encoding version 0"},
		{"version 2", readDecoders[2].decode, []byte{2, readCount, 0, 0}, "read request encoding version 2"},
		{"a search as a count", readDecoders[2].decode, []byte{v, readSearch, 0, 0}, "a search request (kind 1) where a count request was expected"},
		{"unknown kind", readDecoders[2].decode, []byte{v, 9, 0, 0}, "unknown request (kind 9)"},
		{"trailing bytes", readDecoders[2].decode, []byte{v, readCount, 0, 0, 0}, "1 bytes after the request"},
		{"bool 2", readDecoders[2].decode, []byte{v, readCount, 0, 2}, "bool"},
		{"filter tag", readDecoders[2].decode, []byte{v, readCount, 2, 0}, "filter tag"},
		{"filter not JSON", readDecoders[2].decode, cat([]byte{v, readCount, 1}, str("{"), []byte{0}), "filter"},
		{"filter null", readDecoders[2].decode, cat([]byte{v, readCount, 1}, str("null"), []byte{0}), "filter: null"},
		{"search flags", readDecoders[0].decode, []byte{v, readSearch, 0, 0x08}, "unknown flags 0x8"},
		{"vector past the input", readDecoders[0].decode, []byte{v, readSearch, 0, searchHasVector, 9, 0, 0, 0, 0}, "count 9 larger than the input"},
		{"sparse index past u32", readDecoders[0].decode, []byte{v, readSearch, 0, searchHasSparse, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0, 0}, "sparse index"},
		{"non-minimal varint", readDecoders[4].decode, cat([]byte{v, readRetrieve, 0x81, 0x00}, sel), "non-minimal varint"},
		{"id tag", readDecoders[4].decode, cat([]byte{v, readRetrieve, 1, 2, 0}, sel), "id tag"},
		{"limit past int", readDecoders[3].decode, cat([]byte{v, readFacet}, str("k"), []byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0}), "out of range"},
		{"bad payload path", readDecoders[4].decode, cat([]byte{v, readRetrieve, 0, 1, 1}, str("a..b"), []byte{0, 0, 0}), "payload path"},
		{"rescore value alone", readDecoders[0].decode, cat([]byte{v, readSearch, 0, 0, 0, 0, 0, 0}, sel, []byte{0, paramsHasQuantization, quantRescore}), "rescore value without rescore"},
		{"quantization flags", readDecoders[0].decode, cat([]byte{v, readSearch, 0, 0, 0, 0, 0, 0}, sel, []byte{0, paramsHasQuantization, 0x10}), "unknown flags"},
		{"params flags", readDecoders[0].decode, cat([]byte{v, readSearch, 0, 0, 0, 0, 0, 0}, sel, []byte{0, 0x08}), "unknown flags"},
		{"order_by tag", readDecoders[1].decode, cat([]byte{v, readScroll, 0, 0, 2, 0}, sel), "order_by tag"},
		{"start_from tag", readDecoders[1].decode, cat([]byte{v, readScroll, 0, 0, 1}, str("k"), []byte{0, 4, 0}, sel), "start_from tag"},
		{"start_from truncated", readDecoders[1].decode, cat([]byte{v, readScroll, 0, 0, 1}, str("k"), []byte{0, 1, 0, 0}), "truncated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.decode(c.in)
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("decode %x: %v, want ErrMalformed with %q", c.in, err, c.want)
			}
		})
	}
}

// FuzzDecodeReadRequest: any input decodes, with every decoder, to an
// error wrapping ErrMalformed or to a request whose encoding decodes and
// encodes again to the same bytes.
func FuzzDecodeReadRequest(f *testing.F) {
	for _, req := range sampleReads(f) {
		b, err := req.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dec := range readDecoders {
			req, err := dec.decode(data)
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("%s: error without ErrMalformed: %v", dec.name, err)
				}
				continue
			}
			b1, err := req.Encode()
			if err != nil {
				t.Fatalf("%s: encode a decoded request: %v", dec.name, err)
			}
			req2, err := dec.decode(b1)
			if err != nil {
				t.Fatalf("%s: decode %x: %v", dec.name, b1, err)
			}
			b2, err := req2.Encode()
			if err != nil || !bytes.Equal(b1, b2) {
				t.Fatalf("%s: encoding not stable (%v):\n%x\n%x", dec.name, err, b1, b2)
			}
		}
	})
}

// TestReadDecodeAllocation: a count read from the input never sizes an
// allocation past what the input holds.
func TestReadDecodeAllocation(t *testing.T) {
	v := byte(ReadEncodingVersion)
	huge := []byte{0x80, 0x80, 0x80, 0x80, 0x01} // 2^28
	for _, c := range []struct {
		decode func([]byte) (readRequest, error)
		in     []byte
	}{
		{readDecoders[4].decode, append([]byte{v, readRetrieve}, append(huge, 0, 1)...)},                            // 2^28 ids
		{readDecoders[0].decode, append([]byte{v, readSearch, 0, searchHasVector}, append(huge, 0, 0, 0, 0)...)},    // a 2^28-d query
		{readDecoders[0].decode, append([]byte{v, readSearch, 0, searchHasSparse}, append(huge, 0, 0, 0, 0, 0)...)}, // a 2^28-entry sparse query
		{readDecoders[4].decode, append([]byte{v, readRetrieve, 0, 1}, append(huge, 0)...)},                         // 2^28 include paths
		{readDecoders[4].decode, append([]byte{v, readRetrieve, 0, 0, 0, 0, 1}, append(huge, 0)...)},                // 2^28 vector names
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			if _, err := c.decode(c.in); err == nil {
				t.Fatalf("decoded %x", c.in)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 64<<10 {
			t.Fatalf("%d bytes allocated per decode of the %d bytes %x", per, len(c.in), c.in)
		}
	}
}
