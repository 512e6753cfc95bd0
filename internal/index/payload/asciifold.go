package payload

import (
	"strings"
	"unicode/utf8"
)

// ASCII folding in the spirit of Lucene's ASCIIFoldingFilter, which Qdrant
// follows: accented Latin letters become their base letters, ligatures
// their letter pairs. Covered: Latin-1 Supplement, Latin Extended-A, the
// common letters of Latin Extended-B (Romanian, pinyin tones, Croatian
// digraphs), the Vietnamese block and the Latin ligatures; other
// characters are kept. Qdrant's table is longer (circled and full-width
// letters, phonetic extensions); those are left as they are here.

// latin1Fold maps U+00C0..U+00FF; "" keeps the character (× and ÷).
var latin1Fold = strings.Fields(`
	A A A A A A AE C E E E E I I I I D N O O O O O _ O U U U U Y TH ss
	a a a a a a ae c e e e e i i i i d n o o o o o _ o u u u u y th y`)

// latinExtAFold maps U+0100..U+017F.
var latinExtAFold = strings.Fields(`
	A a A a A a C c C c C c C c D d D d E e E e E e E e E e G g G g G g G g H h H h
	I i I i I i I i I i IJ ij J j K k q L l L l L l L l L l N n N n N n n N n
	O o O o O o OE oe R r R r R r S s S s S s S s T t T t T t
	U u U u U u U u U u U u W w Y y Y Z z Z z Z z s`)

var extraFold = map[rune]string{
	'ƀ': "b", 'Ɓ': "B", 'ƒ': "f", 'Ƒ': "F", 'Ɨ': "I", 'ƚ': "l", 'Ƶ': "Z", 'ƶ': "z",
	'Ǆ': "DZ", 'ǅ': "Dz", 'ǆ': "dz", 'Ǉ': "LJ", 'ǈ': "Lj", 'ǉ': "lj", 'Ǌ': "NJ", 'ǋ': "Nj", 'ǌ': "nj",
	'Ǎ': "A", 'ǎ': "a", 'Ǐ': "I", 'ǐ': "i", 'Ǒ': "O", 'ǒ': "o", 'Ǔ': "U", 'ǔ': "u",
	'Ǖ': "U", 'ǖ': "u", 'Ǘ': "U", 'ǘ': "u", 'Ǚ': "U", 'ǚ': "u", 'Ǜ': "U", 'ǜ': "u",
	'Ǧ': "G", 'ǧ': "g", 'Ǩ': "K", 'ǩ': "k", 'Ǫ': "O", 'ǫ': "o", 'ǰ': "j", 'Ǵ': "G", 'ǵ': "g",
	'Ǹ': "N", 'ǹ': "n", 'Ǻ': "A", 'ǻ': "a", 'Ǽ': "AE", 'ǽ': "ae", 'Ǿ': "O", 'ǿ': "o",
	'Ș': "S", 'ș': "s", 'Ț': "T", 'ț': "t", 'ȷ': "j", 'Ʉ': "U", 'ʉ': "u",
	'ẞ': "SS", 'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬆ': "st",
	'Ḃ': "B", 'ḃ': "b", 'Ḋ': "D", 'ḋ': "d", 'Ḟ': "F", 'ḟ': "f", 'Ṁ': "M", 'ṁ': "m",
	'Ṗ': "P", 'ṗ': "p", 'Ṡ': "S", 'ṡ': "s", 'Ṫ': "T", 'ṫ': "t", 'Ẁ': "W", 'ẁ': "w",
	'Ẃ': "W", 'ẃ': "w", 'Ẅ': "W", 'ẅ': "w",
}

// vietFold maps U+1EA0..U+1EF9 by runs of one base letter (upper, lower
// alternating).
var vietFold = []struct {
	n     int
	upper string
}{{24, "A"}, {16, "E"}, {4, "I"}, {24, "O"}, {14, "U"}, {8, "Y"}}

func foldRune(r rune) (string, bool) {
	switch {
	case r < 0xC0:
		return "", false
	case r <= 0xFF:
		if f := latin1Fold[r-0xC0]; f != "_" {
			return f, true
		}
		return "", false
	case r <= 0x17F:
		return latinExtAFold[r-0x100], true
	case r >= 0x1EA0 && r <= 0x1EF9:
		i := int(r - 0x1EA0)
		for _, run := range vietFold {
			if i < run.n {
				if i%2 == 0 {
					return run.upper, true
				}
				return strings.ToLower(run.upper), true
			}
			i -= run.n
		}
	}
	f, ok := extraFold[r]
	return f, ok
}

// foldASCII applies ASCII folding to s.
func foldASCII(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if f, ok := foldRune(r); ok {
			b.WriteString(f)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
