package shard

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// sampleOps has one operation of every kind, with the awkward values a WAL
// record must carry exactly: big integers, float text, UUIDs, filters.
func sampleOps(t testing.TB) []*ops.Operation {
	ua := mustUUID(t, uuidA)
	tenant := true
	return []*ops.Operation{
		{Kind: ops.Upsert, Points: []ops.PointStruct{
			{ID: point.NumID(18446744073709551615), Vectors: point.Vectors{"": {1.5, -2}, "img": {0, 1e-30, 3.4e38}}, Payload: pl(t, `{"big":18446744073709551615,"f":1.0,"o":{"a":[1,"x",null]}}`)},
			{ID: ua, Payload: point.Payload{}},
		}},
		{Kind: ops.Delete, IDs: []point.ID{point.NumID(0), ua}},
		{Kind: ops.Delete, Filter: mustFilter(t, redFilter)},
		{Kind: ops.SetPayload, IDs: []point.ID{point.NumID(1)}, Payload: point.Payload{"a": json.Number("2.50")}, Key: `nested."odd.key"[3]`},
		{Kind: ops.OverwritePayload, Filter: mustFilter(t, `{"should":[{"has_id":[1,"`+uuidA+`"]}]}`), Payload: point.Payload{"x": nil}},
		{Kind: ops.DeletePayload, IDs: []point.ID{point.NumID(1)}, Keys: []string{"a", "b.c"}},
		{Kind: ops.ClearPayload, IDs: []point.ID{point.NumID(1)}},
		{Kind: ops.UpdateVectors, Vectors: []ops.PointVectors{{ID: point.NumID(3), Vectors: point.Vectors{"img": {1, 2, 3}}}}},
		{Kind: ops.DeleteVectors, IDs: []point.ID{point.NumID(3)}, Keys: []string{"", "img"}},
		{Kind: ops.CreateIndex, Key: "color", Schema: &ops.FieldSchema{Type: ops.KeywordField, HasParams: true, IsTenant: &tenant}},
		{Kind: ops.DeleteIndex, Key: "color"},
	}
}

// sampleTags are clock tags with the extremes a record must carry.
var sampleTags = []*ops.ClockTag{
	nil,
	{PeerID: 1, ClockID: 0, Tick: 1, Token: 0},
	{PeerID: 1<<64 - 1, ClockID: 1<<32 - 1, Tick: 1<<64 - 1, Token: 1<<64 - 1, Force: true},
	{PeerID: 7, ClockID: 3, Tick: 0, Token: 0x0102030405060708},
}

func TestRecordRoundTrip(t *testing.T) {
	for i, op := range sampleOps(t) {
		for _, pos := range []batchPos{{}, {i: 0, n: 1}, {i: i, n: 19, stop: true}, {i: 18, n: 19}} {
			for _, tag := range sampleTags {
				rec := record{op: op, pos: pos, tag: tag}
				b, err := rec.encode()
				if err != nil {
					t.Fatal(err)
				}
				// Untagged records keep the format older versions read.
				want := byte(recordFormat)
				if tag != nil {
					want = taggedFormat
				}
				if b[0] != want {
					t.Fatalf("record starts with %d, want the format %d", b[0], want)
				}
				got, err := decodeRecord(b)
				if err != nil {
					t.Fatalf("decode %x: %v", b, err)
				}
				if got.pos != pos {
					t.Fatalf("position %+v, want %+v", got.pos, pos)
				}
				if (got.tag == nil) != (tag == nil) || (tag != nil && *got.tag != *tag) {
					t.Fatalf("tag %+v read back as %+v", tag, got.tag)
				}
				again, err := got.encode()
				if err != nil || !bytes.Equal(again, b) {
					t.Fatalf("%s record does not encode back to itself (%v):\n%x\n%x", op.Kind, err, b, again)
				}
			}
		}
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	del, err := (&ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(1)}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	rec := func(header ...byte) string { return string(append(header, del...)) }
	cases := []struct{ name, in, msg string }{
		{"empty", "", "empty record"},
		{"unknown format", rec(4, 0), "record format 4"},
		{"format 0", rec(0, 0), "record format 0"},
		{"no batch size", "\x02", "bad batch size"},
		{"position past the batch", rec(2, 3, 3, 0), "bad position in a batch of 3"},
		{"stop not a boolean", rec(2, 3, 1, 2), "bad position"},
		{"huge batch", rec(2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0), "bad batch size"},
		{"non-minimal batch size", rec(2, 0x83, 0x00, 0, 0), "bad batch size"},
		{"no operation", "\x02\x00", "decode operation: malformed operation"},
		{"operation of a later version", "\x02\x00\x07\x02\x00\x00", "encoding version 7"},
		// Format 3: a tag after the position.
		{"tag without flags", "\x03\x00", "bad clock tag flags"},
		{"tag with unknown flags", rec(3, 0, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), "bad clock tag flags"},
		{"tag without peer", "\x03\x00\x00", "bad clock tag"},
		{"tag with non-minimal peer", rec(3, 0, 0, 0x81, 0x00, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), "bad clock tag"},
		{"clock past 32 bits", rec(3, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0), "bad clock tag"},
		{"tag without tick", "\x03\x00\x00\x01\x01", "bad clock tag"},
		{"tag with a short token", "\x03\x00\x00\x01\x01\x01\x00\x00\x00", "bad clock tag"},
		{"tag without operation", "\x03\x00\x00\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00", "decode operation: malformed operation"},
		{"tagged batch past its size", rec(3, 2, 2, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), "bad position in a batch of 2"},
		// Format 1 (JSON), as versions before this one wrote it.
		{"batch of a later version", `{"k":"batch","v":2,"i":0,"n":1,"op":{"k":"delete","ids":[1]}}`, "version 2"},
		{"batch without version", `{"k":"batch","i":0,"n":1,"op":{"k":"delete","ids":[1]}}`, "version 0"},
		{"legacy position past the batch", `{"k":"batch","v":1,"i":3,"n":3,"op":{"k":"delete","ids":[1]}}`, "position 3 of 3"},
		{"negative position", `{"k":"batch","v":1,"i":-1,"n":3,"op":{"k":"delete","ids":[1]}}`, "position -1"},
		{"empty batch", `{"k":"batch","v":1,"i":0,"n":0,"op":{"k":"delete","ids":[1]}}`, "position 0 of 0"},
		{"legacy huge batch", `{"k":"batch","v":1,"i":0,"n":99999999999,"op":{"k":"delete","ids":[1]}}`, "position"},
		{"batch without operation", `{"k":"batch","v":1,"i":0,"n":1}`, "without an operation"},
		{"batch in a batch", `{"k":"batch","v":1,"i":0,"n":1,"op":{"k":"batch","v":1,"i":0,"n":1}}`, "without an operation"},
		{"batch with unknown operation", `{"k":"batch","v":1,"i":0,"n":1,"op":{"k":"merge"}}`, "without an operation"},
		{"batch with fields outside op", `{"k":"batch","v":1,"i":0,"n":1,"ids":[1],"op":{"k":"delete","ids":[1]}}`, "outside"},
		{"lone operation with batch fields", `{"k":"delete","ids":[1],"n":2}`, "batch fields"},
		{"lone operation with a nested one", `{"k":"delete","ids":[1],"op":{"k":"delete"}}`, "batch fields"},
		{"unknown kind", `{"k":"merge"}`, "unknown kind"},
		{"missing kind", `{"ids":[1]}`, "unknown kind"},
		{"not json", `{"k":"batch"`, "decode operation"},
		{"trailing data", `{"k":"delete","ids":[1]} {}`, "decode operation"},
		{"bad id", `{"k":"delete","ids":[-1]}`, "decode operation"},
		{"vector overflows float32", `{"k":"upsert","pts":[{"id":1,"v":{"":[1e39]}}]}`, "decode operation"},
		{"payload not an object", `{"k":"set_payload","ids":[1],"pl":[1]}`, "decode operation"},
		{"position of the wrong type", `{"k":"batch","v":1,"i":"0","n":1,"op":{"k":"delete"}}`, "decode operation"},
		{"filter that does not parse", `{"k":"delete","f":{"must":[{"nope":1}]}}`, "delete filter"},
		{"schema that does not parse", `{"k":"create_index","key":"a","schema":"nope"}`, "create_index schema"},
		{"field the kind does not use", `{"k":"delete","ids":[1],"keys":["a"]}`, "delete operation with keys"},
		{"ids and a filter", `{"k":"delete","ids":[1],"f":{"must":[]}}`, "both ids and a filter"},
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

// TestLegacyRecords: records of format 1 decode to the operations the
// vocabulary holds for them: filters and schemas parsed from the text the
// user sent, and the key an overwrite_payload carried (which apply always
// ignored) dropped.
func TestLegacyRecords(t *testing.T) {
	cases := []struct {
		in   string
		want *ops.Operation
		pos  batchPos
	}{
		{
			in:   `{"k":"set_payload","f":{ "must" : [ {"match": {"value": "red"}, "key": "color"} ] },"pl":{"tag":"t"}}`,
			want: &ops.Operation{Kind: ops.SetPayload, Filter: mustFilter(t, redFilter), Payload: point.Payload{"tag": "t"}},
		},
		{
			in:   `{"k":"overwrite_payload","ids":[2],"pl":{"a":1},"key":"nested.x"}`,
			want: &ops.Operation{Kind: ops.OverwritePayload, IDs: []point.ID{point.NumID(2)}, Payload: point.Payload{"a": json.Number("1")}},
		},
		{
			in:   `{"k":"create_index","pl":null,"key":"color","schema":{"type": "keyword", "is_tenant": true, "not_a_param": 1}}`,
			want: &ops.Operation{Kind: ops.CreateIndex, Key: "color", Schema: &ops.FieldSchema{Type: ops.KeywordField, HasParams: true, IsTenant: ptr(true)}},
		},
		{
			in:   `{"k":"delete","f":null,"pl":null}`,
			want: &ops.Operation{Kind: ops.Delete},
		},
		{
			in:   `{"k":"batch","v":1,"i":1,"n":3,"stop":true,"op":{"k":"upsert","pts":[{"id":11,"v":{"":[11,11]},"p":null}],"pl":null}}`,
			want: &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(11), Vectors: point.Vectors{"": {11, 11}}}}},
			pos:  batchPos{i: 1, n: 3, stop: true},
		},
	}
	for _, c := range cases {
		rec, err := decodeRecord([]byte(c.in))
		if err != nil {
			t.Fatalf("decode %s: %v", c.in, err)
		}
		got, _ := rec.op.Encode()
		want, _ := c.want.Encode()
		if !bytes.Equal(got, want) || rec.pos != c.pos {
			t.Fatalf("%s decodes as %+v at %+v, want %+v at %+v", c.in, rec.op, rec.pos, c.want, c.pos)
		}
	}
}

// FuzzDecodeRecord checks that any WAL record, of either format, fails to
// decode or decodes to an operation whose record encodes stably and that
// apply accepts or refuses without panicking.
func FuzzDecodeRecord(f *testing.F) {
	for i, op := range sampleOps(f) {
		for _, pos := range []batchPos{{}, {i: i, n: 20, stop: i%2 == 0}} {
			b, err := record{op: op, pos: pos, tag: sampleTags[i%len(sampleTags)]}.encode()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(`{"k":"set_payload","ids":[1],"key":"a[].b","pl":{"x":null}}`))
	f.Add([]byte(`{"k":"delete_payload","f":{"must":[{"key":"n","range":{"gte":1}}]},"keys":["n[]"]}`))
	f.Add([]byte(`{"k":"upsert","pts":[{"id":"` + uuidA + `","v":{"":[1,2],"img":[1,2,3]},"p":null}]}`))
	f.Add([]byte(`{"k":"upsert","pts":[{"id":1,"v":{"":[1,2,3],"nope":[1]},"p":null}]}`))
	f.Add([]byte(`{"k":"delete","f":null}`))
	f.Add([]byte(`{"k":"create_index","key":"t","schema":{"type":"text","stopwords":"english"}}`))
	f.Add([]byte(`{"k":"batch","v":1,"i":0,"n":1,"op":{"k":"batch"}}`))
	f.Add([]byte(`{"k":"batch","v":2,"i":3,"n":2,"stop":true,"op":{"k":"delete","ids":[1]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := decodeRecord(data)
		if err != nil {
			return
		}
		b1, err := rec.encode()
		if err != nil {
			t.Fatalf("encode a decoded record: %v", err)
		}
		rec2, err := decodeRecord(b1)
		if err != nil {
			t.Fatalf("decode %x: %v", b1, err)
		}
		if b2, err := rec2.encode(); err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("record encoding not stable (%v):\n%x\n%x", err, b1, b2)
		}
		if rec2.pos != rec.pos {
			t.Fatalf("position %+v read back as %+v", rec.pos, rec2.pos)
		}
		if (rec.tag == nil) != (rec2.tag == nil) || (rec.tag != nil && *rec.tag != *rec2.tag) {
			t.Fatalf("tag %+v read back as %+v", rec.tag, rec2.tag)
		}
		// A record of these formats holding an operation of the current
		// encoding reads back to itself, byte for byte, but for the JSON
		// text of payloads, filters and schemas, which may be written
		// other ways. (The header is canonical, so the operation starts
		// at the same offset in data as in b1; an operation of an older
		// encoding version is written back in the current one.)
		enc, err := rec.op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		current := len(b1) >= len(enc) && len(data) > len(b1)-len(enc) && data[len(b1)-len(enc)] == ops.EncodingVersion
		if (data[0] == recordFormat || data[0] == taggedFormat) && current && !hasJSON(rec.op) && !bytes.Equal(data, b1) {
			t.Fatalf("record %x encodes back as %x", data, b1)
		}
		// Applying any decoded operation refuses it or performs it; it
		// never panics, vectors of the wrong size included.
		if err := apply(applyBase(t), 9, rec.op); err != nil && !errors.Is(err, ErrRefused) {
			t.Fatalf("apply of a decoded operation: %v", err)
		}
	})
}

func hasJSON(op *ops.Operation) bool {
	if op.Filter != nil || op.Payload != nil || op.Schema != nil {
		return true
	}
	for _, p := range op.Points {
		if p.Payload != nil {
			return true
		}
	}
	return false
}

// walState is what TestLegacyWALReplay compares: the operations applied,
// every point and the payload indexes.
type walState struct {
	Applied uint64            `json:"applied"`
	Points  map[string]string `json:"points"`
	Indexes map[string]string `json:"indexes"`
}

func stateOf(sh *Shard) walState {
	st := walState{Applied: sh.Applied(), Points: state(sh), Indexes: map[string]string{}}
	sh.View(func(r *Reader) {
		for k, ix := range r.Indexes() {
			b, _ := json.Marshal(ix.Schema.Info(ix.Points))
			st.Indexes[k] = string(b)
		}
	})
	return st
}

// TestLegacyWALReplay opens a shard from a WAL written in format 1 by the
// version before this one (testdata/legacy_wal/wal: updates of every kind
// made through Shard.Update and UpdateBatch, with user-formatted filters
// and schemas, lone and batched, with and without wait, refused ones
// included) and checks that the replay rebuilds the state that version
// had applied (testdata/legacy_wal/state.json, dumped by it at the time).
func TestLegacyWALReplay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	copyDir(t, filepath.Join("testdata", "legacy_wal", "wal"), filepath.Join(dir, "wal"))
	b, err := os.ReadFile(filepath.Join("testdata", "legacy_wal", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want walState
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Optimizer.Disabled = true
	sh, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("open a shard with a format 1 WAL: %v", err)
	}
	defer sh.Close()
	got := stateOf(sh)
	if got.Applied != want.Applied || !reflect.DeepEqual(got.Indexes, want.Indexes) {
		t.Fatalf("applied %d with indexes %v, want %d with %v", got.Applied, got.Indexes, want.Applied, want.Indexes)
	}
	if d := diffStates(want.Points, got.Points); d != "" {
		t.Fatalf("replayed points differ:%s", d)
	}
}

// TestTaggedRecordLayout pins format 3 byte for byte: logs written by this
// version must decode in every later one.
func TestTaggedRecordLayout(t *testing.T) {
	op := &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(1)}}
	enc, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tag := &ops.ClockTag{PeerID: 300, ClockID: 2, Tick: 5, Token: 0x0807060504030201, Force: true}
	want := append([]byte{
		3,       // format: tagged
		2, 1, 1, // batch of 2, position 1, stop
		1,          // flags: force
		0xac, 0x02, // peer 300
		2,                      // clock 2
		5,                      // tick 5
		1, 2, 3, 4, 5, 6, 7, 8, // token, little endian
	}, enc...)
	got, err := record{op: op, pos: batchPos{i: 1, n: 2, stop: true}, tag: tag}.encode()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("tagged record %x (%v), want %x", got, err, want)
	}
	rec, err := decodeRecord(want)
	if err != nil || rec.tag == nil || *rec.tag != *tag || rec.pos != (batchPos{i: 1, n: 2, stop: true}) {
		t.Fatalf("decoded %+v (tag %+v), %v", rec, rec.tag, err)
	}
}
