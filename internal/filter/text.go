package filter

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Full-text matches. Without a full-text index Qdrant's condition checker
// falls back to substring tests on string values (Match::Text and
// Match::Phrase: stored.contains(text); Match::TextAny: any
// whitespace-separated word of the query is contained), byte-wise and
// case-sensitive; non-strings never match. That index-free meaning is what
// matchValue implements. With a text index Qdrant tokenizes both sides
// instead (so "good" no longer matches "goodness"): a planner that answers
// these conditions from a text index must do the same and not fall back to
// this evaluation for indexed keys.

// MatchText is `match: {text: "..."}`: index-free, the string contains
// Text. An empty Text matches every string.
type MatchText struct{ Text string }

// MatchPhrase is `match: {phrase: "..."}`: index-free, the string contains
// Phrase (with an index: the tokens appear consecutively).
type MatchPhrase struct{ Phrase string }

// MatchTextAny is `match: {text_any: "..."}`: index-free, the string
// contains at least one of the words of TextAny (split on Unicode white
// space, as Rust's split_whitespace). A query without words matches
// nothing.
type MatchTextAny struct{ TextAny string }

func (m *MatchText) matchValue(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, m.Text)
}

func (m *MatchPhrase) matchValue(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, m.Phrase)
}

func (m *MatchTextAny) matchValue(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	found := false
	EachWord(m.TextAny, func(w string) bool {
		found = strings.Contains(s, w)
		return !found
	})
	return found
}

// EachWord calls yield with each whitespace-separated word of s, in order,
// until yield returns false; it does not allocate.
func EachWord(s string, yield func(word string) bool) {
	start := -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			if start >= 0 {
				if !yield(s[start:i]) {
					return
				}
				start = -1
			}
		} else if start < 0 {
			start = i
		}
		i += size
	}
	if start >= 0 {
		yield(s[start:])
	}
}

// MarshalJSON writes {"text": t}.
func (m *MatchText) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"text": m.Text})
}

// MarshalJSON writes {"phrase": p}.
func (m *MatchPhrase) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"phrase": m.Phrase})
}

// MarshalJSON writes {"text_any": t}.
func (m *MatchTextAny) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"text_any": m.TextAny})
}
