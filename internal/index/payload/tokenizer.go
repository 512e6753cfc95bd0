package payload

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenizer splits text into the tokens of a full-text index, following
// Qdrant's tokenizers (lib/segment/src/index/field_index/full_text_index/
// tokenizers): each raw token is ASCII-folded (if enabled), lowercased (by
// default), dropped if it is a stopword, then dropped if shorter than
// min_token_len or longer than max_token_len characters. Stemming is not
// implemented: a configured stemmer is stored but not applied.
//
// The tokenizers:
//   - word: split on every character that is neither alphabetic nor
//     numeric (Rust's char::is_alphanumeric);
//   - whitespace: split on Unicode white space;
//   - prefix: like word, but a document word is indexed as all its
//     prefixes from min_token_len (default 1) to max_token_len characters
//     (the whole word once it is shorter); a query word is used whole,
//     cut to max_token_len, without the stopword filter;
//   - multilingual: an approximation of Qdrant's charabia/vaporetto
//     segmentation: words as for word, but split where the script changes
//     between Han, Hiragana, Katakana, Hangul, Thai and the rest; each Han
//     character is a token of its own (Qdrant segments with dictionaries);
//     tokens without a letter are dropped, and tokens are lowercased and
//     their Latin diacritics removed, as charabia's lossy normaliser does.
//
// A Tokenizer is immutable and safe for concurrent use.
type Tokenizer struct {
	kind      TokenizerType
	lowercase bool
	fold      bool
	stop      map[string]struct{}
	minLen    int // 0 when unset
	maxLen    int // math.MaxInt when unset
	hasMin    bool
}

// NewTokenizer returns the tokenizer of a text index schema.
func NewTokenizer(s Schema) *Tokenizer {
	t := &Tokenizer{
		kind:      s.TokenizerKind(),
		lowercase: s.LowercaseEnabled(),
		fold:      s.ASCIIFolding != nil && *s.ASCIIFolding,
		maxLen:    math.MaxInt,
	}
	t.stop = stopwordSet(s.Stopwords, t.lowercase)
	if s.MinTokenLen != nil {
		t.minLen, t.hasMin = *s.MinTokenLen, true
	}
	if s.MaxTokenLen != nil {
		t.maxLen = *s.MaxTokenLen
	}
	return t
}

// Tokenize calls yield with each token of a document, in order.
func (t *Tokenizer) Tokenize(text string, yield func(token string)) {
	switch t.kind {
	case TokenizerWhitespace:
		for _, w := range strings.Fields(text) {
			t.emit(w, true, yield)
		}
	case TokenizerPrefix:
		for _, w := range strings.FieldsFunc(text, notAlnum) {
			w, ok := t.process(w, false)
			if !ok {
				continue
			}
			n := utf8.RuneCountInString(w)
			start := 1
			if t.hasMin {
				start = t.minLen
			}
			for k := start; k <= t.maxLen; k++ {
				if k >= n {
					yield(w)
					break
				}
				yield(prefixRunes(w, k))
			}
		}
	case TokenizerMultilingual:
		multilingualWords(text, func(w string) { t.emit(w, true, yield) })
	default:
		for _, w := range strings.FieldsFunc(text, notAlnum) {
			t.emit(w, true, yield)
		}
	}
}

// TokenizeQuery calls yield with each token of a query. It differs from
// Tokenize only for the prefix tokenizer.
func (t *Tokenizer) TokenizeQuery(text string, yield func(token string)) {
	if t.kind != TokenizerPrefix {
		t.Tokenize(text, yield)
		return
	}
	for _, w := range strings.FieldsFunc(text, notAlnum) {
		if t.fold {
			w = foldASCII(w)
		}
		if t.lowercase {
			w = toLowerRust(w)
		}
		n := utf8.RuneCountInString(w)
		if t.hasMin && n < t.minLen {
			continue // shorter than any indexed prefix
		}
		if n > t.maxLen {
			w = prefixRunes(w, t.maxLen)
		}
		yield(w)
	}
}

// Tokens returns the document tokens of text.
func (t *Tokenizer) Tokens(text string) []string {
	var out []string
	t.Tokenize(text, func(s string) { out = append(out, s) })
	return out
}

// QueryTokens returns the query tokens of text.
func (t *Tokenizer) QueryTokens(text string) []string {
	var out []string
	t.TokenizeQuery(text, func(s string) { out = append(out, s) })
	return out
}

func (t *Tokenizer) emit(w string, checkMax bool, yield func(string)) {
	if w, ok := t.process(w, checkMax); ok {
		yield(w)
	}
}

// process is Qdrant's TokensProcessor::process_token.
func (t *Tokenizer) process(w string, checkMax bool) (string, bool) {
	if w == "" {
		return "", false
	}
	if t.fold {
		w = foldASCII(w)
	}
	if t.lowercase {
		w = toLowerRust(w)
	}
	if _, stop := t.stop[w]; stop {
		return "", false
	}
	n := utf8.RuneCountInString(w)
	if (t.hasMin && n < t.minLen) || (checkMax && n > t.maxLen) {
		return "", false
	}
	return w, true
}

// notAlnum is the complement of Rust's char::is_alphanumeric: alphabetic
// (letters, letter numbers, Other_Alphabetic marks) or numeric.
func notAlnum(r rune) bool { return !isAlnum(r) }

func isAlnum(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Other_Alphabetic, r)
}

func isAlphabetic(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r)
}

// prefixRunes returns the first n characters of s.
func prefixRunes(s string, n int) string {
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

// toLowerRust lowercases like Rust's str::to_lowercase: the Unicode
// mapping of each character, with İ becoming "i̇" and Σ becoming final ς
// at the end of a word.
func toLowerRust(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma applies Unicode's Final_Sigma condition to the Σ at s[i]: a
// cased letter before it and none after it, skipping case-ignorables.
func finalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if caseIgnorable(r) {
			continue
		}
		before = isCased(r)
		break
	}
	if !before {
		return false
	}
	for _, r := range s[i+len("Σ"):] {
		if caseIgnorable(r) {
			continue
		}
		return !isCased(r)
	}
	return true
}

func isCased(r rune) bool { return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) }

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', '\u00b7', '\u2019':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// script classes at which the multilingual tokenizer splits words.
const (
	scriptOther = iota
	scriptHan
	scriptHiragana
	scriptKatakana
	scriptHangul
	scriptThai
)

func scriptOf(r rune) int {
	switch {
	case r < 0x0E00:
		return scriptOther
	case unicode.Is(unicode.Han, r):
		return scriptHan
	case unicode.Is(unicode.Hiragana, r):
		return scriptHiragana
	case unicode.Is(unicode.Katakana, r) || r == 'ー':
		return scriptKatakana
	case unicode.Is(unicode.Hangul, r):
		return scriptHangul
	case unicode.Is(unicode.Thai, r):
		return scriptThai
	}
	return scriptOther
}

// multilingualWords yields the raw words of the multilingual tokenizer,
// already normalised (lowercased, Latin diacritics removed).
func multilingualWords(text string, yield func(string)) {
	for _, w := range strings.FieldsFunc(text, notAlnum) {
		start, prev := 0, -1
		flush := func(end int) {
			seg := w[start:end]
			start = end
			if !strings.ContainsFunc(seg, isAlphabetic) {
				return
			}
			yield(toLowerRust(foldASCII(seg)))
		}
		for i, r := range w {
			sc := scriptOf(r)
			if i > start && (sc != prev || sc == scriptHan) {
				flush(i)
			}
			prev = sc
		}
		flush(len(w))
	}
}
