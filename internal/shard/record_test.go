package shard

import (
	"reflect"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	for i, op := range sampleOps(t) {
		for _, pos := range []batchPos{{}, {i: 0, n: 1}, {i: i, n: 9, stop: true}, {i: 8, n: 9}} {
			rec := record{op: op, pos: pos}
			b, err := rec.encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeRecord(b)
			if err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			if !reflect.DeepEqual(got, rec) {
				t.Fatalf("round trip of %s:\n got %#v\nwant %#v", b, got, rec)
			}
			// A lone operation's record is its plain encoding, as
			// written before batches existed.
			if pos == (batchPos{}) {
				plain, _ := op.Encode()
				if string(b) != string(plain) {
					t.Fatalf("lone record %s differs from the operation %s", b, plain)
				}
			}
		}
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	cases := []struct{ name, in, msg string }{
		{"batch of a later version", `{"k":"batch","v":2,"i":0,"n":1,"op":{"k":"delete","ids":[1]}}`, "version 2"},
		{"batch without version", `{"k":"batch","i":0,"n":1,"op":{"k":"delete","ids":[1]}}`, "version 0"},
		{"position past the batch", `{"k":"batch","v":1,"i":3,"n":3,"op":{"k":"delete","ids":[1]}}`, "position 3 of 3"},
		{"negative position", `{"k":"batch","v":1,"i":-1,"n":3,"op":{"k":"delete","ids":[1]}}`, "position -1"},
		{"empty batch", `{"k":"batch","v":1,"i":0,"n":0,"op":{"k":"delete","ids":[1]}}`, "position 0 of 0"},
		{"huge batch", `{"k":"batch","v":1,"i":0,"n":99999999999,"op":{"k":"delete","ids":[1]}}`, "position"},
		{"batch without operation", `{"k":"batch","v":1,"i":0,"n":1}`, "without an operation"},
		{"batch in a batch", `{"k":"batch","v":1,"i":0,"n":1,"op":{"k":"batch","v":1,"i":0,"n":1}}`, "without an operation"},
		{"batch with unknown operation", `{"k":"batch","v":1,"i":0,"n":1,"op":{"k":"merge"}}`, "without an operation"},
		{"batch with fields outside op", `{"k":"batch","v":1,"i":0,"n":1,"ids":[1],"op":{"k":"delete","ids":[1]}}`, "outside"},
		{"lone operation with batch fields", `{"k":"delete","ids":[1],"n":2}`, "batch fields"},
		{"lone operation with a nested one", `{"k":"delete","ids":[1],"op":{"k":"delete"}}`, "batch fields"},
		{"unknown kind", `{"k":"merge"}`, "unknown kind"},
		{"not json", `{"k":"batch"`, "decode operation"},
		{"position of the wrong type", `{"k":"batch","v":1,"i":"0","n":1,"op":{"k":"delete"}}`, "decode operation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, err := decodeRecord([]byte(c.in))
			if err == nil {
				t.Fatalf("decoded %q as %+v", c.in, rec)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q does not say %q", err, c.msg)
			}
		})
	}
}
