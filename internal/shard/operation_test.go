package shard

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
)

// sampleOps has one operation of every kind, with the awkward values a WAL
// record must carry exactly: big integers, float text, UUIDs, filters.
func sampleOps(t testing.TB) []*Operation {
	ua := mustUUID(t, uuidA)
	return []*Operation{
		{Kind: OpUpsert, Points: []PointStruct{
			{ID: point.NumID(18446744073709551615), Vectors: point.Vectors{"": {1.5, -2}, "img": {0, 1e-30, 3.4e38}}, Payload: pl(t, `{"big":18446744073709551615,"f":1.0,"o":{"a":[1,"x",null]}}`)},
			{ID: ua},
		}},
		{Kind: OpDelete, IDs: []point.ID{point.NumID(0), ua}},
		{Kind: OpDelete, Filter: json.RawMessage(redFilter)},
		{Kind: OpSetPayload, IDs: []point.ID{point.NumID(1)}, Payload: point.Payload{"a": json.Number("2.50")}, Key: `nested."odd.key"[3]`},
		{Kind: OpOverwritePayload, Filter: json.RawMessage(`{"should":[{"has_id":[1,"` + uuidA + `"]}]}`), Payload: point.Payload{"x": nil}},
		{Kind: OpDeletePayload, IDs: []point.ID{point.NumID(1)}, Keys: []string{"a", "b.c"}},
		{Kind: OpClearPayload, IDs: []point.ID{point.NumID(1)}},
		{Kind: OpUpdateVectors, Vectors: []PointVectors{{ID: point.NumID(3), Vectors: point.Vectors{"img": {1, 2, 3}}}}},
		{Kind: OpDeleteVectors, IDs: []point.ID{point.NumID(3)}, Keys: []string{"", "img"}},
	}
}

func TestOperationRoundTrip(t *testing.T) {
	for _, op := range sampleOps(t) {
		t.Run(string(op.Kind), func(t *testing.T) {
			b, err := op.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeOperation(b)
			if err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			if !reflect.DeepEqual(got, op) {
				t.Fatalf("round trip of %s:\n got %#v\nwant %#v", b, got, op)
			}
		})
	}
}

func TestDecodeOperationErrors(t *testing.T) {
	cases := []struct{ name, in string }{
		{"empty", ``},
		{"not json", `{`},
		{"array", `[]`},
		{"null", `null`},
		{"missing kind", `{"ids":[1]}`},
		{"unknown kind", `{"k":"merge"}`},
		{"kind of wrong type", `{"k":1}`},
		{"bad id", `{"k":"delete","ids":[-1]}`},
		{"bad uuid", `{"k":"delete","ids":["not-a-uuid"]}`},
		{"vector not numbers", `{"k":"upsert","pts":[{"id":1,"v":{"":["a"]}}]}`},
		{"vector overflows float32", `{"k":"upsert","pts":[{"id":1,"v":{"":[1e39]}}]}`},
		{"payload not an object", `{"k":"set_payload","ids":[1],"pl":[1]}`},
		{"trailing data", `{"k":"delete","ids":[1]} {}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if op, err := DecodeOperation([]byte(c.in)); err == nil {
				t.Fatalf("decoded %q as %#v", c.in, op)
			}
		})
	}
}

// FuzzDecodeOperation checks that any WAL record either fails to decode or
// decodes to an operation whose encoding is stable and that apply accepts
// without panicking.
func FuzzDecodeOperation(f *testing.F) {
	for _, op := range sampleOps(f) {
		b, err := op.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"k":"set_payload","ids":[1],"key":"a[].b","pl":{"x":null}}`))
	f.Add([]byte(`{"k":"delete_payload","f":{"must":[{"key":"n","range":{"gte":1}}]},"keys":["n[]"]}`))
	f.Add([]byte(`{"k":"upsert","pts":[{"id":"` + uuidA + `","v":{"":[1,2],"img":[1,2,3]},"p":null}]}`))
	f.Add([]byte(`{"k":"delete","f":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := DecodeOperation(data)
		if err != nil {
			return
		}
		b1, err := op.Encode()
		if err != nil {
			t.Fatalf("encode a decoded operation: %v", err)
		}
		op2, err := DecodeOperation(b1)
		if err != nil {
			t.Fatalf("decode %s: %v", b1, err)
		}
		b2, err := op2.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b1, b2)
		}
		// Applying arbitrary (decoded) operations must not panic. Vectors
		// of the wrong size are the collection's job to reject, so only
		// well-sized ones go through.
		for _, p := range op.Points {
			if !sizedForTest(p.Vectors) {
				return
			}
		}
		for _, p := range op.Vectors {
			if !sizedForTest(p.Vectors) {
				return
			}
		}
		_ = apply(applyBase(t), 9, op)
	})
}

func sizedForTest(v point.Vectors) bool {
	for name, vec := range v {
		sp, ok := testSpecs()[name]
		if ok && len(vec) != sp.Dim {
			return false
		}
	}
	return true
}
