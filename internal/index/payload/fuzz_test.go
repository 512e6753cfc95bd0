package payload

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
)

// fuzzSchemas are the schemas each FuzzDecode target decodes with.
var fuzzSchemas = map[Type][]string{
	Keyword:  {`"keyword"`},
	Integer:  {`{"type":"integer","lookup":true}`},
	Float:    {`"float"`},
	Bool:     {`"bool"`},
	Datetime: {`"datetime"`},
	UUID:     {`"uuid"`},
	Geo:      {`"geo"`},
	Text:     {`{"type":"text","phrase_matching":true}`, `"text"`},
}

// seedIndex fills an index of the type with a few random points.
func seedIndex(t testing.TB, s Schema, seed uint64) Index {
	rng := rand.New(rand.NewPCG(seed, 99))
	x := New(s)
	for range 20 {
		off := rng.Uint32N(50)
		if rng.IntN(10) == 0 {
			off = 1 << 30
		}
		var vs []any
		for range 1 + rng.IntN(3) {
			switch s.Type {
			case Keyword:
				vs = append(vs, []string{"a", "bb", "ccc"}[rng.IntN(3)])
			case Integer:
				vs = append(vs, json.Number([]string{"-5", "0", "7", "9223372036854775807"}[rng.IntN(4)]))
			case Float:
				vs = append(vs, rng.Float64()*100-50)
			case Bool:
				vs = append(vs, rng.IntN(2) == 0)
			case Datetime:
				vs = append(vs, []string{"2023-02-08T10:49:00Z", "1969-01-01", "2024-02-29 23:59"}[rng.IntN(3)])
			case UUID:
				vs = append(vs, []string{"5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "00000000-0000-0000-0000-000000000001"}[rng.IntN(2)])
			case Geo:
				vs = append(vs, map[string]any{"lon": rng.Float64()*360 - 180, "lat": rng.Float64()*180 - 90})
			case Text:
				vs = append(vs, []string{"hello world", "the quick brown fox", "Привет мир"}[rng.IntN(3)])
			}
		}
		x.Add(off, vs)
	}
	return x
}

func fuzzDecode(f *testing.F, ty Type) {
	var schemas []Schema
	for _, js := range fuzzSchemas[ty] {
		schemas = append(schemas, mustSchema(f, js))
	}
	for _, s := range schemas {
		for seed := range uint64(4) {
			var buf bytes.Buffer
			if err := seedIndex(f, s, seed).Encode(&buf); err != nil {
				f.Fatal(err)
			}
			b := buf.Bytes()
			f.Add(b[:len(b)-4]) // the target appends the checksum
			f.Add(b)
		}
		var empty bytes.Buffer
		if err := New(s).Encode(&empty); err != nil {
			f.Fatal(err)
		}
		f.Add(empty.Bytes()[:empty.Len()-4])
	}
	f.Add([]byte{})
	f.Add([]byte("SHPI"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Decode the input as is (nearly always a checksum failure) and
		// with a valid checksum appended, so that mutations reach the
		// parser behind the checksum.
		fixed := binary.LittleEndian.AppendUint32(slices.Clone(data), crc32.Checksum(data, castagnoli))
		for _, in := range [][]byte{data, fixed} {
			for _, s := range schemas {
				x, err := Decode(s, bytes.NewReader(in))
				if err != nil {
					if !errors.Is(err, errkind.ErrCorrupt) {
						t.Fatalf("error not marked corrupt: %v", err)
					}
					continue
				}
				exercise(x)
				y := roundTrip(t, x)
				exercise(y)
			}
		}
	})
}

// exercise runs the queries and a few updates of an index; they must
// not panic.
func exercise(x Index) {
	exerciseReadOnly(x)
	x.Remove(1 << 30)
	x.Add(3, nil)
}

func FuzzDecodeKeyword(f *testing.F)  { fuzzDecode(f, Keyword) }
func FuzzDecodeInteger(f *testing.F)  { fuzzDecode(f, Integer) }
func FuzzDecodeFloat(f *testing.F)    { fuzzDecode(f, Float) }
func FuzzDecodeBool(f *testing.F)     { fuzzDecode(f, Bool) }
func FuzzDecodeDatetime(f *testing.F) { fuzzDecode(f, Datetime) }
func FuzzDecodeUUID(f *testing.F)     { fuzzDecode(f, UUID) }
func FuzzDecodeGeo(f *testing.F)      { fuzzDecode(f, Geo) }
func FuzzDecodeText(f *testing.F)     { fuzzDecode(f, Text) }

func FuzzParseSchema(f *testing.F) {
	for _, s := range []string{
		`"keyword"`, `{"type":"integer","lookup":false}`,
		`{"type":"text","tokenizer":"prefix","stopwords":{"languages":["en"],"custom":["a"]},"stemmer":{"type":"snowball","language":"en"}}`,
		`{"type":"keyword","is_tenant":true,"memory":"cold"}`, `null`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSchema(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSchema(out)
		if err != nil || !back.Equal(s) {
			t.Fatalf("%s -> %s: %v", data, out, err)
		}
		if s.Type == Text {
			NewTokenizer(s).Tokens("Hello wörld, ΣΑΣ 今天")
		}
	})
}

func FuzzTokenize(f *testing.F) {
	f.Add("hello, world! Привет, мир!", uint8(0))
	f.Add("İstanbul ΟΔΟΣ 今天是星期一 これはテスト", uint8(3))
	schemas := []Schema{
		mustSchema(f, `{"type":"text","ascii_folding":true,"stopwords":"english"}`),
		mustSchema(f, `{"type":"text","tokenizer":"whitespace","max_token_len":3}`),
		mustSchema(f, `{"type":"text","tokenizer":"prefix","min_token_len":0,"max_token_len":3}`),
		mustSchema(f, `{"type":"text","tokenizer":"multilingual"}`),
	}
	f.Fuzz(func(t *testing.T, text string, which uint8) {
		tk := NewTokenizer(schemas[int(which)%len(schemas)])
		for _, tok := range tk.Tokens(text) {
			_ = tok
		}
		tk.QueryTokens(text)
		ParseDatetime(text)
	})
}
