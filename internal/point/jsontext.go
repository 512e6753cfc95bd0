package point

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// TextError is JSON text that Qdrant's parser (serde_json) refuses but
// Go's encoding/json accepts and silently alters: invalid UTF-8 and lone
// UTF-16 surrogate escapes become U+FFFD, and a number beyond float64 is
// kept as text that no reader can use. Msg is serde_json's text; Line and
// Column are its position (lines from 1, columns in bytes since the last
// newline), so Error reads as serde_json's own message.
type TextError struct {
	Msg          string
	Line, Column int
}

func (e *TextError) Error() string {
	return fmt.Sprintf("%s at line %d column %d", e.Msg, e.Line, e.Column)
}

// serde_json's texts for the errors CheckText finds.
const (
	msgInvalidUTF8      = "invalid unicode code point"
	msgLoneSurrogate    = "lone leading surrogate in hex escape" // also for a lone low surrogate, as serde_json says
	msgUnexpectedEndHex = "unexpected end of hex escape"
	msgNumberRange      = "number out of range"
)

// CheckText reports the first text in b that serde_json refuses and Go's
// decoder would silently accept, as a *TextError; it returns nil for
// anything else, including JSON that is malformed in other ways (the
// decoder reports those). It makes one pass over b and allocates only for
// the error.
//
// It follows serde_json's rules and positions: invalid UTF-8 in a string is
// reported after the string's closing quote; a low surrogate escape
// (\uDC00-\uDFFF) not preceded by a high one is a "lone leading surrogate"
// right after its four digits; a high surrogate escape must be followed by
// "\u" ("unexpected end of hex escape" after the first byte that is not)
// and a low surrogate. A number whose value overflows float64 ("1e400", or
// 400 digits) is "number out of range" after its last byte. It is stricter
// than serde_json in one way: serde_json skips the strings of fields a type
// does not know without checking them, where CheckText checks every string.
func CheckText(b []byte) error {
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			next, err := checkString(b, i+1)
			if err != nil || next < 0 {
				return err
			}
			i = next
		case c == '-' || c >= '0' && c <= '9':
			next, err := checkNumber(b, i)
			if err != nil {
				return err
			}
			i = next
		default:
			i++
		}
	}
	return nil
}

// checkString checks a string whose text starts at i (after the opening
// quote) and returns the index after its closing quote, or -1 when b ends
// first or an escape is malformed (the decoder reports those).
func checkString(b []byte, i int) (int, error) {
	badUTF8 := false
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			if badUTF8 {
				// serde_json checks UTF-8 once the string is read.
				return 0, textError(b, i+1, msgInvalidUTF8)
			}
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return -1, nil
			}
			if b[i+1] != 'u' {
				i += 2
				continue
			}
			next, err := checkUnicodeEscape(b, i)
			if err != nil || next < 0 {
				return next, err
			}
			i = next
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				badUTF8 = true
			}
			i += size
		}
	}
	return -1, nil
}

// checkUnicodeEscape checks the \u escape at i (the backslash) and, for a
// high surrogate, the escape that must follow; it returns the index after
// them, or -1 when they are malformed or cut short.
func checkUnicodeEscape(b []byte, i int) (int, error) {
	u, ok := hex4(b, i+2)
	if !ok {
		return -1, nil
	}
	i += 6
	switch {
	case u >= 0xDC00 && u <= 0xDFFF:
		return 0, textError(b, i, msgLoneSurrogate)
	case u < 0xD800 || u > 0xDBFF:
		return i, nil
	}
	// A high surrogate: serde_json consumes the next byte before it
	// complains, hence the error positions one past it.
	switch {
	case i >= len(b):
		return -1, nil
	case b[i] != '\\':
		return 0, textError(b, i+1, msgUnexpectedEndHex)
	case i+1 >= len(b):
		return -1, nil
	case b[i+1] != 'u':
		return 0, textError(b, i+2, msgUnexpectedEndHex)
	}
	lo, ok := hex4(b, i+2)
	if !ok {
		return -1, nil
	}
	i += 6
	if lo < 0xDC00 || lo > 0xDFFF {
		return 0, textError(b, i, msgLoneSurrogate)
	}
	return i, nil
}

func hex4(b []byte, i int) (uint16, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var u uint16
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		u = u<<4 | uint16(c)
	}
	return u, true
}

// checkNumber reads the number at i and returns the index after it. Only a
// number whose decimal exponent may pass float64's (about 1.8e308) is
// parsed, so the common case costs a scan of its bytes.
func checkNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	digits := 0 // integer digits after leading zeros
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if digits > 0 || b[i] != '0' {
			digits++
		}
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	exp, neg := 0, false
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			neg = b[i] == '-'
			i++
		}
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if exp < 1<<20 {
				exp = exp*10 + int(b[i]-'0')
			}
		}
	}
	if neg {
		exp = -exp
	}
	if digits+exp <= 300 {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(b[start:i]), 64)
	if err == nil || !math.IsInf(f, 0) {
		return i, nil // malformed numbers are the decoder's to report
	}
	return 0, textError(b, i, msgNumberRange)
}

// textError places msg at byte offset off as serde_json does.
func textError(b []byte, off int, msg string) error {
	lineStart := bytes.LastIndexByte(b[:off], '\n') + 1
	return &TextError{Msg: msg, Line: 1 + bytes.Count(b[:lineStart], []byte{'\n'}), Column: off - lineStart}
}
