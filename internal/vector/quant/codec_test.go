package quant

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vector"
)

func encodeBytes(t testing.TB, e Encoded) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := e.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRoundTrip: Decode(Encode(e)) scores every offset exactly as e does
// and encodes to the same bytes.
func TestRoundTrip(t *testing.T) {
	const n, dim = 300, 37
	for _, c := range allConfigs {
		for _, dist := range distances {
			vecs := gaussian(19, dist, n, dim)
			cfg := mustConfig(t, c)
			enc, err := Build(cfg, dist, dim, n, at(vecs), 3)
			if err != nil {
				t.Fatal(err)
			}
			raw := encodeBytes(t, enc)
			dec, err := Decode(cfg, bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s %s: Decode: %v", c, dist, err)
			}
			if dec.Len() != enc.Len() || dec.MemoryBytes() != enc.MemoryBytes() {
				t.Fatalf("%s %s: Len %d/%d MemoryBytes %d/%d", c, dist, dec.Len(), enc.Len(), dec.MemoryBytes(), enc.MemoryBytes())
			}
			for _, q := range vecs[:4] {
				a, b := enc.Scorer(q), dec.Scorer(q)
				for i := range n {
					if x, y := a.Score(uint32(i)), b.Score(uint32(i)); x != y {
						t.Fatalf("%s %s: Score(%d) %v before, %v after the round trip", c, dist, i, x, y)
					}
				}
			}
			if again := encodeBytes(t, dec); !bytes.Equal(again, raw) {
				t.Fatalf("%s %s: re-encoding differs", c, dist)
			}
		}
	}
}

// TestBuildDeterministic: the same seed gives the same bytes (PQ training
// runs on several goroutines).
func TestBuildDeterministic(t *testing.T) {
	const n, dim = 600, 32
	vecs := gaussian(23, vector.Euclid, n, dim)
	for _, c := range allConfigs {
		cfg := mustConfig(t, c)
		a, err := Build(cfg, vector.Euclid, dim, n, at(vecs), 9)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Build(cfg, vector.Euclid, dim, n, at(vecs), 9)
		if !bytes.Equal(encodeBytes(t, a), encodeBytes(t, b)) {
			t.Fatalf("%s: two builds with one seed differ", c)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	const n, dim = 50, 16
	vecs := gaussian(29, vector.Dot, n, dim)
	build := func(c string) []byte {
		e, err := Build(mustConfig(t, c), vector.Dot, dim, n, at(vecs), 1)
		if err != nil {
			t.Fatal(err)
		}
		return encodeBytes(t, e)
	}
	scalar := build(`{"scalar":{"type":"int8"}}`)
	binary2 := build(`{"binary":{"encoding":"two_bits"}}`)
	pq := build(`{"product":{"compression":"x8"}}`)
	turbo2 := build(`{"turbo":{"bits":"bits2"}}`)
	// The turbo section starts after the header: bits, rotated dimension,
	// then the shift array (u64 count, floats) and the scale array.
	turboScale := headerLen + 1 + 4 + 8 + 4*16 + 8

	flipped := bytes.Clone(scalar)
	flipped[len(flipped)/2] ^= 0x10
	cases := []struct {
		name string
		cfg  string
		data []byte
		want error
	}{
		{"other kind", `{"binary":{}}`, scalar, ErrConfigMismatch},
		{"other binary encoding", `{"binary":{}}`, binary2, ErrConfigMismatch},
		{"other compression", `{"product":{"compression":"x4"}}`, pq, ErrConfigMismatch},
		{"other turbo bits", `{"turbo":{}}`, turbo2, ErrConfigMismatch},
		{"unknown turbo bits", `{"turbo":{"bits":"bits2"}}`, resum(patch(turbo2, headerLen, 3)), errkind.ErrCorrupt},
		{"wrong rotated dimension", `{"turbo":{"bits":"bits2"}}`, resum(patch(turbo2, headerLen+1, 17)), errkind.ErrCorrupt},
		{"turbo scale NaN", `{"turbo":{"bits":"bits2"}}`, resum(patch(patch(turbo2, turboScale+2, 0xc0), turboScale+3, 0x7f)), errkind.ErrCorrupt},
		{"turbo scale zero", `{"turbo":{"bits":"bits2"}}`, resum(patch(patch(patch(patch(turbo2, turboScale, 0), turboScale+1, 0), turboScale+2, 0), turboScale+3, 0)), errkind.ErrCorrupt},
		{"turbo truncated", `{"turbo":{"bits":"bits2"}}`, resum(bytes.Clone(turbo2[:len(turbo2)-40])), errkind.ErrCorrupt},
		{"truncated", `{"scalar":{"type":"int8"}}`, scalar[:len(scalar)-9], errkind.ErrCorrupt},
		{"bit flip", `{"scalar":{"type":"int8"}}`, flipped, errkind.ErrCorrupt},
		{"empty", `{"scalar":{"type":"int8"}}`, nil, errkind.ErrCorrupt},
		{"garbage", `{"product":{"compression":"x8"}}`, bytes.Repeat([]byte{0xAB}, 100), errkind.ErrCorrupt},
		{"bad version", `{"scalar":{"type":"int8"}}`, resum(patch(scalar, 4, 9)), errkind.ErrCorrupt},
		{"bad distance", `{"scalar":{"type":"int8"}}`, resum(patch(scalar, 7, 9)), errkind.ErrCorrupt},
		{"more vectors than bytes", `{"scalar":{"type":"int8"}}`, resum(patch(scalar, 12, 0xff)), errkind.ErrCorrupt},
		{"huge count", `{"scalar":{"type":"int8"}}`, resum(patch(scalar, 19, 0xff)), errkind.ErrCorrupt},
		{"huge dimension", `{"scalar":{"type":"int8"}}`, resum(patch(scalar, 10, 0xff)), errkind.ErrCorrupt},
	}
	for _, tc := range cases {
		_, err := Decode(mustConfig(t, tc.cfg), bytes.NewReader(tc.data))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := Decode(nil, bytes.NewReader(scalar)); err == nil {
		t.Error("nil config accepted")
	}
}

func patch(b []byte, at int, v byte) []byte {
	b = bytes.Clone(b)
	b[at] = v
	return b
}

// resum fixes the trailing checksum after a patch, so the parser sees it.
func resum(b []byte) []byte {
	body := b[:len(b)-4]
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(body, castagnoli))
	return b
}

// FuzzDecode feeds Decode arbitrary streams, as they are and with a valid
// checksum so the parser behind it is reached: it must fail cleanly or
// give an Encoded whose every method works.
func FuzzDecode(f *testing.F) {
	const n, dim = 20, 12
	vecs := gaussian(31, vector.Cosine, n, dim)
	for _, c := range allConfigs {
		e, err := Build(mustConfig(f, c), vector.Cosine, dim, n, at(vecs), 1)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(encodeBytes(f, e))
	}
	f.Add([]byte("SHQZ"))
	cfgs := make([]*Config, len(allConfigs))
	for i, c := range allConfigs {
		cfgs[i] = mustConfig(f, c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inputs := [][]byte{data}
		if len(data) >= 4 {
			inputs = append(inputs, resum(bytes.Clone(data)))
		}
		for _, in := range inputs {
			for _, cfg := range cfgs {
				e, err := Decode(cfg, bytes.NewReader(in))
				if err != nil {
					if !errors.Is(err, errkind.ErrCorrupt) && !errors.Is(err, ErrConfigMismatch) {
						t.Fatalf("unmarked error: %v", err)
					}
					continue
				}
				exercise(t, e)
			}
		}
	})
}

// exercise calls every method of a decoded Encoded.
func exercise(t *testing.T, e Encoded) {
	var dim int
	switch x := e.(type) {
	case *scalarEncoded:
		dim = x.dim
	case *binaryEncoded:
		dim = x.dim
	case *pqEncoded:
		dim = x.dim
	case *turboEncoded:
		dim = x.p.dim
	default:
		t.Fatalf("unknown Encoded %T", e)
	}
	q := make([]float32, dim)
	for i := range q {
		q[i] = float32(i%7) - 3
	}
	s := e.Scorer(q)
	for i := range min(e.Len(), 64) {
		s.Score(uint32(i))
	}
	if e.Len() > 0 {
		s.Score(uint32(e.Len() - 1))
	}
	_ = e.MemoryBytes()
	var buf bytes.Buffer
	if err := e.Encode(&buf); err != nil {
		t.Fatal(err)
	}
}
