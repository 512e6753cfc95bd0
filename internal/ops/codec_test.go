package ops

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

var update = flag.Bool("update", false, "rewrite testdata/encoding.golden (the current version's bytes)")

const uuidA = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"

func mustFilter(t testing.TB, js string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse([]byte(js))
	if err != nil {
		t.Fatalf("filter %s: %v", js, err)
	}
	return f
}

func mustPayload(t testing.TB, js string) point.Payload {
	t.Helper()
	p, err := point.DecodePayload([]byte(js))
	if err != nil {
		t.Fatalf("payload %s: %v", js, err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// sampleOps has one operation of every kind (and of each selector), with
// the values an encoding must carry exactly: the largest integer id, UUIDs,
// float32 extremes and NaN bits, numbers as written, {} apart from null,
// empty vector names and filters. Each value is in the form DecodeOperation
// returns (empty lists nil), so that it decodes back deeply equal.
func sampleOps(t testing.TB) []*Operation {
	ua, err := point.ParseUUID(uuidA)
	if err != nil {
		t.Fatal(err)
	}
	nan := math.Float32frombits(0x7fc00001)
	return []*Operation{
		{Kind: Upsert, Points: []PointStruct{
			{ID: point.NumID(math.MaxUint64), Vectors: point.Vectors{"": {1.5, -2, nan}, "img": {0, 1e-45, math.MaxFloat32}}, Payload: mustPayload(t, `{"big":18446744073709551615,"f":1.0,"o":{"a":[1,"x",null]},"s":"<&>"}`)},
			{ID: ua, Payload: point.Payload{}},
			{ID: point.NumID(0), Vectors: point.Vectors{"e": {}}},
		}},
		{Kind: Upsert},
		{Kind: Delete, IDs: []point.ID{point.NumID(0), ua, point.NumID(300)}},
		{Kind: Delete},
		{Kind: Delete, Filter: mustFilter(t, `{"must":[{"key":"color","match":{"value":"red"}}]}`)},
		{Kind: SetPayload, IDs: []point.ID{point.NumID(1)}, Payload: point.Payload{"a": json.Number("2.50")}, Key: `nested."odd.key"[3]`},
		{Kind: SetPayload, Filter: mustFilter(t, `{"must_not":[{"has_id":[7]}]}`), Payload: point.Payload{}},
		{Kind: OverwritePayload, Filter: mustFilter(t, `{"should":[{"has_id":[1,"`+uuidA+`"]}]}`), Payload: point.Payload{"x": nil}},
		{Kind: OverwritePayload, IDs: []point.ID{point.NumID(2)}},
		{Kind: DeletePayload, IDs: []point.ID{point.NumID(1)}, Keys: []string{"a", "b.c"}},
		{Kind: ClearPayload, IDs: []point.ID{point.NumID(1)}},
		{Kind: UpdateVectors, Vectors: []PointVectors{{ID: point.NumID(3), Vectors: point.Vectors{"img": {1, 2, 3}, "": {4}}}, {ID: ua}}},
		{Kind: DeleteVectors, Filter: mustFilter(t, `{"must":[{"key":"n","range":{"gte":1}}]}`), Keys: []string{"", "img"}},
		{Kind: CreateIndex, Key: "color", Schema: &FieldSchema{Type: KeywordField, HasParams: true, IsTenant: ptr(true)}},
		{Kind: CreateIndex, Key: "body", Schema: &FieldSchema{Type: TextField, HasParams: true, Tokenizer: WordTokenizer, MinTokenLen: ptr(2),
			Stopwords: &Stopwords{Languages: []string{"english"}, Custom: []string{}}, Stemmer: &Stemmer{Type: "snowball", Language: "english"}}},
		{Kind: CreateIndex, Key: "n", Schema: &FieldSchema{Type: IntegerField}},
		{Kind: DeleteIndex, Key: "color"},
		// Version 2: sparse vectors, sorted or not, empty, beside dense ones.
		{Kind: Upsert, Points: []PointStruct{
			{ID: point.NumID(5), Vectors: point.Vectors{"d": {1}}, Sparse: point.SparseVectors{
				"b": {Indices: []uint32{math.MaxUint32, 0, 300}, Values: []float32{-0.5, float32(math.Copysign(0, -1)), 1e-45}},
				"a": {Indices: []uint32{}, Values: []float32{}},
			}, Payload: point.Payload{}},
			{ID: ua, Sparse: point.SparseVectors{"": {Indices: []uint32{7}, Values: []float32{math.MaxFloat32}}}},
		}},
		{Kind: UpdateVectors, Vectors: []PointVectors{{ID: point.NumID(3), Sparse: point.SparseVectors{"s": {Indices: []uint32{1, 2}, Values: []float32{3, 4}}}}}},
		// Version 3: update modes and update filters.
		{Kind: Upsert, UpdateMode: ModeInsertOnly, Points: []PointStruct{{ID: point.NumID(8), Vectors: point.Vectors{"": {1, 2}}}}},
		{Kind: Upsert, UpdateMode: ModeUpdateOnly, UpdateFilter: mustFilter(t, `{"must":[{"key":"version","range":{"lt":4}}]}`),
			Points: []PointStruct{{ID: ua, Payload: point.Payload{"version": json.Number("4")}}}},
		{Kind: Upsert, UpdateFilter: mustFilter(t, `{"must_not":[{"has_id":[1]}]}`), Points: []PointStruct{{ID: point.NumID(1)}}},
		{Kind: UpdateVectors, UpdateFilter: mustFilter(t, `{"should":[{"key":"a","match":{"value":"b"}}]}`),
			Vectors: []PointVectors{{ID: point.NumID(6), Vectors: point.Vectors{"": {2.5}}}}},
	}
}

// v1Samples is how many of sampleOps encoding version 1 could hold (the
// ones before the sparse vectors); testdata/encoding_v1.golden has them.
// v2Samples are those of version 2 (before update modes and filters), in
// testdata/encoding_v2.golden.
const (
	v1Samples = 17
	v2Samples = 19
)

// TestEncodingRoundTrip: every sample decodes back to an equal operation
// (NaN bits included) whose encoding is the same bytes.
func TestEncodingRoundTrip(t *testing.T) {
	for i, op := range sampleOps(t) {
		b, err := op.Encode()
		if err != nil {
			t.Fatalf("%d: encode %s: %v", i, op.Kind, err)
		}
		if b[0] != EncodingVersion {
			t.Fatalf("%d: encoding starts with %d", i, b[0])
		}
		got, err := DecodeOperation(b)
		if err != nil {
			t.Fatalf("%d: decode %s: %v", i, op.Kind, err)
		}
		again, err := got.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%d: %s does not encode back to its bytes (%v):\n%x\n%x", i, op.Kind, err, b, again)
		}
		// NaN != NaN: compare the vectors by their bits, the rest deeply.
		if !sameVectorBits(op, got) {
			t.Fatalf("%d: vectors of %s changed bits", i, op.Kind)
		}
		if got.UpdateMode != op.UpdateMode || !reflect.DeepEqual(got.UpdateFilter, op.UpdateFilter) {
			t.Fatalf("%d: condition of %s changed: %q %v, want %q %v", i, op.Kind, got.UpdateMode, got.UpdateFilter, op.UpdateMode, op.UpdateFilter)
		}
		if op.Kind != Upsert && !reflect.DeepEqual(got, op) {
			t.Fatalf("%d: round trip of %s:\n got %#v\nwant %#v", i, op.Kind, got, op)
		}
	}
}

func sameVectorBits(a, b *Operation) bool {
	bits := func(op *Operation) string {
		var s strings.Builder
		for _, p := range op.Points {
			for _, n := range slices.Sorted(maps.Keys(p.Vectors)) {
				v := p.Vectors[n]
				s.WriteString(n)
				for _, f := range v {
					fmt.Fprintf(&s, " %08x", math.Float32bits(f))
				}
			}
			for _, n := range slices.Sorted(maps.Keys(p.Sparse)) {
				v := p.Sparse[n]
				fmt.Fprintf(&s, "%s %v", n, v.Indices)
				for _, f := range v.Values {
					fmt.Fprintf(&s, " %08x", math.Float32bits(f))
				}
			}
		}
		return s.String()
	}
	return len(a.Points) == len(b.Points) && bits(a) == bits(b)
}

// TestEncodingGolden holds the bytes of the current encoding version: a
// change to them is a new version (and a decoder for the old one), not an
// edit. Regenerate with -update only when EncodingVersion changes (and keep
// the previous file, as encoding_v1.golden is kept).
func TestEncodingGolden(t *testing.T) {
	var out strings.Builder
	for _, op := range sampleOps(t) {
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(string(op.Kind) + " " + hex.EncodeToString(b) + "\n")
	}
	path := filepath.Join("testdata", "encoding.golden")
	if *update {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatalf("encoding changed:\n got %s\nwant %s", out.String(), want)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		kind, hx, _ := strings.Cut(line, " ")
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatal(err)
		}
		op, err := DecodeOperation(b)
		if err != nil || string(op.Kind) != kind {
			t.Fatalf("golden %s: %v", kind, err)
		}
	}
}

// TestDecodesOldVersions: the records of versions 1 and 2
// (testdata/encoding_v1.golden and encoding_v2.golden, the bytes those
// versions wrote) still decode, each to the operation it held, which
// encodes in the current version as that operation does.
func TestDecodesOldVersions(t *testing.T) {
	for _, c := range []struct {
		version byte
		file    string
		samples int
	}{{1, "encoding_v1.golden", v1Samples}, {2, "encoding_v2.golden", v2Samples}} {
		t.Run(c.file, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			samples := sampleOps(t)
			lines := strings.Split(strings.TrimSpace(string(want)), "\n")
			if len(lines) != c.samples {
				t.Fatalf("%d version %d records, want %d", len(lines), c.version, c.samples)
			}
			for i, line := range lines {
				kind, hx, _ := strings.Cut(line, " ")
				b, err := hex.DecodeString(hx)
				if err != nil {
					t.Fatal(err)
				}
				if b[0] != c.version {
					t.Fatalf("record %d is of version %d", i, b[0])
				}
				op, err := DecodeOperation(b)
				if err != nil || string(op.Kind) != kind {
					t.Fatalf("version %d %s: %v", c.version, kind, err)
				}
				if op.UpdateMode != "" || op.UpdateFilter != nil {
					t.Fatalf("version %d %s decoded with a condition", c.version, kind)
				}
				got, err := op.Encode()
				if err != nil {
					t.Fatal(err)
				}
				wantNow, err := samples[i].Encode()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, wantNow) {
					t.Fatalf("version %d %s decodes to another operation:\n%x\n%x", c.version, kind, got, wantNow)
				}
			}
		})
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	f := mustFilter(t, `{"must":[]}`)
	cases := []struct {
		name string
		op   Operation
		msg  string
	}{
		{"unknown kind", Operation{Kind: "merge"}, "unknown kind"},
		{"no kind", Operation{}, "unknown kind"},
		{"points on a delete", Operation{Kind: Delete, Points: []PointStruct{{}}}, "delete operation with points"},
		{"ids on an upsert", Operation{Kind: Upsert, IDs: []point.ID{}}, "upsert operation with ids"},
		{"ids and a filter", Operation{Kind: Delete, IDs: []point.ID{point.NumID(1)}, Filter: f}, "both ids and a filter"},
		{"key on an overwrite", Operation{Kind: OverwritePayload, Key: "a"}, "overwrite_payload operation with a key"},
		{"payload on a clear", Operation{Kind: ClearPayload, Payload: point.Payload{}}, "clear_payload operation with a payload"},
		{"keys on a set", Operation{Kind: SetPayload, Keys: []string{"a"}}, "with keys"},
		{"schema on a delete_index", Operation{Kind: DeleteIndex, Key: "a", Schema: &FieldSchema{Type: KeywordField}}, "with a schema"},
		{"vectors on an upsert", Operation{Kind: Upsert, Vectors: []PointVectors{}}, "with vectors"},
		{"create_index without a schema", Operation{Kind: CreateIndex, Key: "a"}, "without a schema"},
		{"create_index without a key", Operation{Kind: CreateIndex, Schema: &FieldSchema{Type: KeywordField}}, "without a key"},
		{"create_index with a bad schema", Operation{Kind: CreateIndex, Key: "a", Schema: &FieldSchema{Type: "nope"}}, "PayloadFieldSchema"},
		{"a payload JSON cannot hold", Operation{Kind: Upsert, Points: []PointStruct{{Payload: point.Payload{"x": math.NaN()}}}}, "unsupported value"},
		{"sparse indices twice", Operation{Kind: Upsert, Points: []PointStruct{{Sparse: point.SparseVectors{"s": {Indices: []uint32{1, 1}, Values: []float32{1, 2}}}}}}, "indices: must be unique"},
		{"sparse lengths", Operation{Kind: UpdateVectors, Vectors: []PointVectors{{Sparse: point.SparseVectors{"s": {Indices: []uint32{1}, Values: []float32{1, 2}}}}}}, "values: must be the same length as indices"},
		{"update mode on update_vectors", Operation{Kind: UpdateVectors, UpdateMode: ModeInsertOnly}, "update_vectors operation with an update mode"},
		{"update filter on a delete", Operation{Kind: Delete, UpdateFilter: f}, "delete operation with an update filter"},
		{"update filter on set_payload", Operation{Kind: SetPayload, UpdateFilter: f}, "set_payload operation with an update filter"},
		{"unknown update mode", Operation{Kind: Upsert, UpdateMode: "replace"}, `unknown update mode "replace"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.op.Encode()
			if err == nil {
				t.Fatalf("encoded as %x", b)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q does not say %q", err, c.msg)
			}
		})
	}
}

// TestDecodeErrors: every strict prefix of every sample, and a table of
// damaged encodings, decode to an error wrapping ErrMalformed.
func TestDecodeErrors(t *testing.T) {
	for _, op := range sampleOps(t) {
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			if got, err := DecodeOperation(b[:n]); err == nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s cut at %d of %d: %+v, %v", op.Kind, n, len(b), got, err)
			}
		}
		if got, err := DecodeOperation(append(b[:len(b):len(b)], 0)); err == nil || !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s with a trailing byte: %+v, %v", op.Kind, got, err)
		}
	}
	del := func(body ...byte) []byte { return append([]byte{EncodingVersion, 2}, body...) }
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	upsert := func(body ...byte) []byte { return append([]byte{EncodingVersion, 1, 1, 0, 1}, body...) } // one point, id 1
	v1upsert := func(body ...byte) []byte { return append([]byte{1, 1, 1, 0, 1}, body...) }
	cases := []struct {
		name string
		in   []byte
		msg  string
	}{
		{"empty", nil, "truncated"},
		{"version 0", []byte{0, 2, 0, 0}, "encoding version 0"},
		{"a later version", []byte{4, 2, 0, 0}, "encoding version 4"},
		{"kind 0", []byte{1, 0}, "unknown kind 0"},
		{"kind past the list", []byte{1, 11}, "unknown kind 11"},
		{"selector tag", del(2), "selector tag"},
		{"id tag", del(0, 1, 2, 1), "id tag"},
		{"non-minimal varint", del(0, 1, 0, 0x81, 0x00), "non-minimal varint"},
		{"varint overflow", del(0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), "bad varint"},
		{"count larger than the input", del(0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 1), "count"},
		{"short uuid", del(0, 1, 1, 1, 2, 3), "truncated"},
		{"vector names out of order", upsert(2, 1, 'b', 0, 1, 'a', 0, 0), "out of order"},
		{"vector name twice", upsert(2, 1, 'a', 0, 1, 'a', 0, 0), "out of order"},
		{"dimension past the input", upsert(1, 0, 0xff, 0x01, 0), "count"},
		{"payload tag", upsert(0, 0, 2), "payload tag"},
		{"payload tag in version 1", v1upsert(0, 2), "payload tag"},
		{"payload null", upsert(cat([]byte{0, 0, 1}, str("null"))...), "payload"},
		{"payload an array", upsert(cat([]byte{0, 0, 1}, str("[1]"))...), "payload"},
		{"payload not JSON", upsert(cat([]byte{0, 0, 1}, str("{"))...), "payload"},
		{"sparse names out of order", upsert(0, 2, 1, 'b', 0, 1, 'a', 0, 0), "sparse vector names out of order"},
		{"sparse name twice", upsert(0, 2, 1, 'a', 0, 1, 'a', 0, 0), "sparse vector names out of order"},
		{"sparse entries past the input", upsert(0, 1, 1, 'a', 0x7f, 0), "count"},
		{"sparse index past u32", upsert(cat([]byte{0, 1, 1, 'a', 1}, []byte{0x80, 0x80, 0x80, 0x80, 0x10}, []byte{0, 0, 0, 0, 0})...), "out of range"},
		{"sparse index twice", upsert(0, 1, 1, 'a', 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "must be unique"},
		{"update mode past the list", upsert(0, 0, 0, 3, 0), "unknown update mode 3"},
		{"update filter tag", upsert(0, 0, 0, 0, 2), "update filter tag"},
		{"update filter not JSON", upsert(cat([]byte{0, 0, 0, 0, 1}, str("{"))...), "filter"},
		{"update filter null", upsert(cat([]byte{0, 0, 0, 0, 1}, str("null"))...), "filter: null"},
		{"update filter on update_vectors", cat([]byte{EncodingVersion, 7, 0, 1}, str(`{"must":[{"nope":1}]}`)), "filter"},
		{"version 2 upsert with a mode byte", []byte{2, 1, 0, 0}, "1 bytes after the operation"},
		{"filter not JSON", del(cat([]byte{1}, str("{"))...), "filter"},
		{"filter null", del(cat([]byte{1}, str("null"))...), "filter: null"},
		{"filter that breaks a rule", del(cat([]byte{1}, str(`{"must":[{"nope":1}]}`))...), "filter"},
		{"schema", cat([]byte{EncodingVersion, 9}, str("a"), str(`"nope"`)), "schema: unknown type"},
		{"create_index without a key", cat([]byte{EncodingVersion, 9}, str(""), str(`"keyword"`)), "without a key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op, err := DecodeOperation(c.in)
			if err == nil {
				t.Fatalf("decoded %x as %+v", c.in, op)
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q: want ErrMalformed saying %q", err, c.msg)
			}
		})
	}
}

// FuzzDecodeOperation: any input decodes to an error or to a valid
// operation whose encoding decodes and encodes again to the same bytes.
// The binary parts are canonical, so input that is made of them alone
// (no payload, filter or schema, whose JSON may be written other ways)
// encodes back to itself.
func FuzzDecodeOperation(f *testing.F) {
	for _, op := range append(sampleOps(f), vectorNameOps()...) {
		b, err := op.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := DecodeOperation(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error without ErrMalformed: %v", err)
			}
			return
		}
		if err := op.Validate(); err != nil {
			t.Fatalf("decoded an invalid operation: %v", err)
		}
		b1, err := op.Encode()
		if err != nil {
			t.Fatalf("encode a decoded operation: %v", err)
		}
		op2, err := DecodeOperation(b1)
		if err != nil {
			t.Fatalf("decode %x: %v", b1, err)
		}
		b2, err := op2.Encode()
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable (%v):\n%x\n%x", err, b1, b2)
		}
		// Version 1 input encodes in the current version.
		if !hasJSON(op) && data[0] == EncodingVersion && !bytes.Equal(data, b1) {
			t.Fatalf("%x encodes back as %x", data, b1)
		}
	})
}

// hasJSON reports whether op's encoding holds JSON text.
func hasJSON(op *Operation) bool {
	if op.Filter != nil || op.Payload != nil || op.Schema != nil || op.VectorConfig != nil {
		return true
	}
	for _, p := range op.Points {
		if p.Payload != nil {
			return true
		}
	}
	return false
}

// TestDecodeAllocation: a count read from the input never sizes an
// allocation past what the input holds.
func TestDecodeAllocation(t *testing.T) {
	for _, in := range [][]byte{
		{EncodingVersion, 2, 0, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 1},             // 2^28 ids
		{EncodingVersion, 1, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 1},                // 2^28 points
		{EncodingVersion, 1, 1, 0, 1, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0}, // a 2^28-d vector
		{EncodingVersion, 1, 1, 0, 1, 0, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x01, 0}, // a 2^28-entry sparse vector
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			if _, err := DecodeOperation(in); err == nil {
				t.Fatalf("decoded %x", in)
			}
		}
		runtime.ReadMemStats(&after)
		// A few small maps and slices (more under -race); the claimed
		// counts would take gigabytes.
		if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 64<<10 {
			t.Fatalf("%d bytes allocated per decode of the %d bytes %x", per, len(in), in)
		}
	}
}
