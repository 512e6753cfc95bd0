package point

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func TestCheckText(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string // "" for nil
	}{
		{"empty", ``, ""},
		{"plain", `{"a":"b","c":[1,-2.5e3,true,null]}`, ""},
		{"valid pair", `{"a":"\ud83d\ude00"}`, ""},
		{"valid pair upper case", `["\uD83D\uDE00"]`, ""},
		{"literal replacement char", "[\"\xef\xbf\xbd\\ufffd\"]", ""},
		{"multibyte", `["é€😀"]`, ""},
		{"escaped backslash then u", `["\\ud800"]`, ""},
		{"escaped quote", `["\"\ud800"]`, "unexpected end of hex escape at line 1 column 11"},
		{"invalid byte", "[\"a\xffb\"]", "invalid unicode code point at line 1 column 6"},
		{"invalid byte in a key", "{\"\xc3\x28\":1}", "invalid unicode code point at line 1 column 5"},
		{"truncated sequence", "[\"\xe2\x82\"]", "invalid unicode code point at line 1 column 5"},
		{"encoded surrogate", "[\"\xed\xa0\x80\"]", "invalid unicode code point at line 1 column 6"},
		{"overlong", "[\"\xc0\xaf\"]", "invalid unicode code point at line 1 column 5"},
		{"invalid byte then lone escape", "[\"\xff\\udc00\"]", "lone leading surrogate in hex escape at line 1 column 9"},
		{"high at end of string", `["\ud800"]`, "unexpected end of hex escape at line 1 column 9"},
		{"high then other escape", `["\ud800\n"]`, "unexpected end of hex escape at line 1 column 10"},
		{"high then high", `["\ud800\ud800"]`, "lone leading surrogate in hex escape at line 1 column 14"},
		{"high then letter", `["\ud800\u0041"]`, "lone leading surrogate in hex escape at line 1 column 14"},
		{"low alone", `["x\udc00"]`, "lone leading surrogate in hex escape at line 1 column 9"},
		{"low alone upper", `["\uDFFF"]`, "lone leading surrogate in hex escape at line 1 column 8"},
		{"second line", "{\n \"a\": \"\\udc00\"}", "lone leading surrogate in hex escape at line 2 column 13"},
		{"third line", "[\n1,\n\"\xff\"]", "invalid unicode code point at line 3 column 3"},
		{"number out of range", `{"n":1e400}`, "number out of range at line 1 column 10"},
		{"negative out of range", `[-1.5E+309]`, "number out of range at line 1 column 10"},
		{"long integer", "[" + strings.Repeat("9", 400) + "]", "number out of range at line 1 column 401"},
		{"large but finite", `[1.7e308, 0.00001e312, 1e-400, 0e999999]`, ""},
		{"huge exponent", `[1e99999999999999999999]`, "number out of range at line 1 column 23"},
		{"long fraction", "[0." + strings.Repeat("0", 400) + "1e400]", ""},
		{"integers beyond u64 but finite", `[18446744073709551616, -99999999999999999999999]`, ""},
		{"unterminated string", `["\ud800`, ""},
		{"malformed escape", `["\uzzzz\ud800"]`, ""},
		{"cut escape", `["\u12`, ""},
		{"high then cut", `["\ud800\`, ""},
		{"high then cut u", `["\ud800\u12`, ""},
		{"not json", `{{{]]]]`, ""},
		{"stray bytes outside strings", "[\xff, 1]", ""},
		{"digits in a string", `["1e999"]`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckText([]byte(c.in))
			got := ""
			if err != nil {
				got = err.Error()
				var te *TextError
				if !errors.As(err, &te) {
					t.Errorf("error %T, want *TextError", err)
				}
			}
			if got != c.want {
				t.Errorf("CheckText(%q) = %q, want %q", c.in, got, c.want)
			}
			if json.Valid([]byte(c.in)) {
				if ref := referenceCheck([]byte(c.in)); ref != got {
					t.Errorf("reference checker says %q", ref)
				}
			}
		})
	}
}

// FuzzCheckText holds CheckText against a recursive-descent reference on
// valid JSON, and against what Go's decoder does: text that passes comes
// out of the decoder unaltered (no U+FFFD the input did not hold, no
// number that overflows). It must never panic on any input.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{
		`{"a":"b"}`, `["\ud83d\ude00"]`, `["\ud800"]`, `["\udc00"]`, "[\"\xff\"]", `[1e400]`,
		`{"a":[1,2,{"b":"\ud800\u0041"}]}`, "[\"\xef\xbf\xbd\"]", `["\\ud800"]`, `[-0.5e-400]`,
		"{\n\"k\":\n\"\\udfff\"}", `["\u00e9\uD834\uDD1E"]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckText(b)
		if !json.Valid(b) {
			return
		}
		got := ""
		if err != nil {
			got = err.Error()
		}
		if ref := referenceCheck(b); ref != got {
			t.Fatalf("CheckText(%q) = %q, reference %q", b, got, ref)
		}
		if err == nil && alteredByGo(b) {
			t.Fatalf("CheckText(%q) = nil, but Go's decoder alters it", b)
		}
	})
}

// alteredByGo reports whether decoding valid JSON b with encoding/json
// loses anything: a U+FFFD in a decoded string that the strict reference
// decoding does not have, or a number beyond float64.
func alteredByGo(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var goStrings []string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case string:
			goStrings = append(goStrings, v)
		case json.Number:
			if f, err := strconv.ParseFloat(string(v), 64); err != nil && math.IsInf(f, 0) {
				return true
			}
		}
	}
	r := &refParser{b: b}
	r.value()
	if r.err != "" || len(r.strings) != len(goStrings) {
		return true
	}
	for i := range goStrings {
		if goStrings[i] != r.strings[i] {
			return true
		}
	}
	return false
}

// referenceCheck is a slow, independent CheckText for valid JSON: a
// recursive-descent parser that decodes every string rune by rune with
// unicode/utf16 and parses every number.
func referenceCheck(b []byte) string {
	r := &refParser{b: b}
	r.value()
	return r.err
}

type refParser struct {
	b       []byte
	i       int
	err     string
	strings []string
}

func (r *refParser) fail(off int, msg string) {
	if r.err != "" {
		return
	}
	line, col := 1, 0
	for _, c := range r.b[:off] {
		col++
		if c == '\n' {
			line, col = line+1, 0
		}
	}
	r.err = fmt.Sprintf("%s at line %d column %d", msg, line, col)
}

func (r *refParser) ws() {
	for r.i < len(r.b) && strings.IndexByte(" \t\r\n", r.b[r.i]) >= 0 {
		r.i++
	}
}

func (r *refParser) value() {
	r.ws()
	if r.err != "" || r.i >= len(r.b) {
		return
	}
	switch c := r.b[r.i]; {
	case c == '{' || c == '[':
		r.i++
		for r.err == "" {
			r.ws()
			if r.b[r.i] == '}' || r.b[r.i] == ']' {
				r.i++
				return
			}
			if r.b[r.i] == ',' {
				r.i++
				continue
			}
			if c == '{' {
				r.str()
				r.ws()
				r.i++ // ':'
			}
			r.value()
		}
	case c == '"':
		r.str()
	case c == 't' || c == 'n':
		r.i += 4
	case c == 'f':
		r.i += 5
	default:
		start := r.i
		for r.i < len(r.b) && strings.IndexByte("+-.eE0123456789", r.b[r.i]) >= 0 {
			r.i++
		}
		if f, _ := strconv.ParseFloat(string(r.b[start:r.i]), 64); math.IsInf(f, 0) {
			r.fail(r.i, "number out of range")
		}
	}
}

// str decodes the string at r.i (its opening quote).
func (r *refParser) str() {
	r.i++
	var units []uint16 // pending UTF-16 units of consecutive \u escapes
	var out []rune
	flush := func() {
		out = append(out, utf16.Decode(units)...)
		units = units[:0]
	}
	bad := false
	for r.err == "" {
		c := r.b[r.i]
		if c == '"' {
			r.i++
			if bad {
				r.fail(r.i, "invalid unicode code point")
			}
			flush()
			r.strings = append(r.strings, string(out))
			return
		}
		if c != '\\' {
			flush()
			ru, size := utf8.DecodeRune(r.b[r.i:])
			if ru == utf8.RuneError && size == 1 {
				bad = true
			}
			out = append(out, ru)
			r.i += size
			continue
		}
		esc := r.b[r.i+1]
		if esc != 'u' {
			flush()
			out = append(out, rune(map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}[esc]))
			r.i += 2
			continue
		}
		n, _ := strconv.ParseUint(string(r.b[r.i+2:r.i+6]), 16, 16)
		u := uint16(n)
		r.i += 6
		switch {
		case utf16.IsSurrogate(rune(u)) && u >= 0xDC00:
			if len(units) == 0 || units[len(units)-1] < 0xD800 || units[len(units)-1] >= 0xDC00 {
				r.fail(r.i, "lone leading surrogate in hex escape")
			}
			units = append(units, u)
			flush()
		case utf16.IsSurrogate(rune(u)):
			flush()
			units = append(units, u)
			if r.b[r.i] != '\\' {
				r.fail(r.i+1, "unexpected end of hex escape")
			} else if r.b[r.i+1] != 'u' {
				r.fail(r.i+2, "unexpected end of hex escape")
			} else if lo, _ := strconv.ParseUint(string(r.b[r.i+2:r.i+6]), 16, 16); lo < 0xDC00 || lo > 0xDFFF {
				r.fail(r.i+6, "lone leading surrogate in hex escape")
			}
		default:
			flush()
			out = append(out, rune(u))
		}
	}
}

func BenchmarkCheckText(b *testing.B) {
	// An upsert body: 256 points of 128 floats and a small payload.
	var buf bytes.Buffer
	buf.WriteString(`{"points":[`)
	for p := range 256 {
		if p > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"id":%d,"vector":[`, p)
		for j := range 128 {
			if j > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, "%.7f", float32(p*j%97)/97-0.5)
		}
		fmt.Fprintf(&buf, `],"payload":{"city":"Zürich","tags":["a","b\u00e9"],"n":%d}}`, p)
	}
	buf.WriteString(`]}`)
	body := buf.Bytes()
	b.SetBytes(int64(len(body)))
	b.Run("CheckText", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := CheckText(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodeJSON", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var v any
			if err := DecodeJSON(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
