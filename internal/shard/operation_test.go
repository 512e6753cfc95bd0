package shard

import (
	"bytes"
	"encoding/json"
	"errors"
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
// or refuses without panicking. Both decoders run on every input: the one
// of lone operations and the one of records (lone or batched).
func FuzzDecodeOperation(f *testing.F) {
	for i, op := range sampleOps(f) {
		b, err := op.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		b, err = encodeBatchRecord(op, i, 20, i%2 == 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"k":"set_payload","ids":[1],"key":"a[].b","pl":{"x":null}}`))
	f.Add([]byte(`{"k":"delete_payload","f":{"must":[{"key":"n","range":{"gte":1}}]},"keys":["n[]"]}`))
	f.Add([]byte(`{"k":"upsert","pts":[{"id":"` + uuidA + `","v":{"":[1,2],"img":[1,2,3]},"p":null}]}`))
	f.Add([]byte(`{"k":"upsert","pts":[{"id":1,"v":{"":[1,2,3],"nope":[1]},"p":null}]}`))
	f.Add([]byte(`{"k":"delete","f":null}`))
	f.Add([]byte(`{"k":"batch","v":1,"i":0,"n":1,"op":{"k":"batch"}}`))
	f.Add([]byte(`{"k":"batch","v":2,"i":3,"n":2,"stop":true,"op":{"k":"delete","ids":[1]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, rerr := decodeRecord(data)
		op, err := DecodeOperation(data)
		if err == nil {
			checkStable(t, op)
			// The record decoder is the stricter one (it reads the batch
			// fields a lone operation must not have); where both accept,
			// they agree.
			if rerr == nil && (rec.pos != (batchPos{}) || !reflect.DeepEqual(rec.op, op)) {
				t.Fatalf("a lone operation decodes as the record %+v", rec)
			}
		}
		if rerr != nil {
			return
		}
		b1, err := rec.encode()
		if err != nil {
			t.Fatalf("encode a decoded record: %v", err)
		}
		rec2, err := decodeRecord(b1)
		if err != nil {
			t.Fatalf("decode %s: %v", b1, err)
		}
		if b2, err := rec2.encode(); err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("record encoding not stable (%v):\n%s\n%s", err, b1, b2)
		}
		checkStable(t, rec.op)
		// Applying any decoded operation refuses it or performs it; it
		// never panics, vectors of the wrong size included.
		if err := apply(applyBase(t), 9, rec.op); err != nil && !errors.Is(err, ErrRefused) {
			t.Fatalf("apply of a decoded operation: %v", err)
		}
	})
}

// checkStable checks that op's encoding decodes back to the same encoding.
func checkStable(t *testing.T, op *Operation) {
	t.Helper()
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
}
