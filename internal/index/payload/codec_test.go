package payload

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
)

func TestDecodeErrors(t *testing.T) {
	kw := mustSchema(t, `"keyword"`)
	x := seedIndex(t, kw, 1)
	var buf bytes.Buffer
	if err := x.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	cases := []struct {
		name   string
		schema Schema
		data   []byte
	}{
		{"empty", kw, nil},
		{"short", kw, []byte("SHPI")},
		{"truncated", kw, good[:len(good)-1]},
		{"bit flip in body", kw, flip(len(good) / 2)},
		{"bit flip in checksum", kw, flip(len(good) - 1)},
		{"other type", mustSchema(t, `"integer"`), good},
		{"other params", mustSchema(t, `{"type":"keyword","is_tenant":true}`), good},
		{"garbage", kw, bytes.Repeat([]byte{0xff}, 64)},
	}
	for _, c := range cases {
		_, err := Decode(c.schema, bytes.NewReader(c.data))
		if !errors.Is(err, errkind.ErrCorrupt) {
			t.Errorf("%s: got %v, want errkind.ErrCorrupt", c.name, err)
		}
	}
	if _, err := Decode(kw, iotestErr{}); err == nil || errors.Is(err, errkind.ErrCorrupt) {
		t.Errorf("read error: %v", err)
	}
	y, err := Decode(kw, bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := y.Encode(&again); err != nil || again.Len() != len(good) {
		t.Fatalf("re-encode: %v, %d bytes vs %d", err, again.Len(), len(good))
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestRoundTripLarge checks a round trip of indexes big enough to have
// bitmap containers and many chunks.
func TestRoundTripLarge(t *testing.T) {
	for _, js := range []string{`"keyword"`, `"integer"`, `"float"`, `"geo"`, `{"type":"text","phrase_matching":true}`} {
		s := mustSchema(t, js)
		x := New(s)
		vals := benchValuesN(s.Type, 20000)
		for i, v := range vals {
			x.Add(uint32(i), v)
		}
		y := roundTrip(t, x)
		var a, b bytes.Buffer
		if err := x.Encode(&a); err != nil {
			t.Fatal(err)
		}
		if err := y.Encode(&b); err != nil {
			t.Fatal(err)
		}
		if s.Type != Keyword && s.Type != Text && !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: re-encoding differs", js)
		}
	}
}
