package filter

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// ValueKind is the type of a match value.
type ValueKind uint8

const (
	// KeywordKind matches strings.
	KeywordKind ValueKind = iota + 1
	// IntegerKind matches integer numbers.
	IntegerKind
	// BoolKind matches booleans.
	BoolKind
)

// Value is the operand of `match: {value: ...}`: a keyword, an integer or a
// boolean (Qdrant's ValueVariants; a float is not a valid match value).
type Value struct {
	Kind    ValueKind
	Keyword string
	Integer int64
	Bool    bool
}

// Keyword returns a keyword Value.
func Keyword(s string) Value { return Value{Kind: KeywordKind, Keyword: s} }

// Integer returns an integer Value.
func Integer(i int64) Value { return Value{Kind: IntegerKind, Integer: i} }

// Bool returns a boolean Value.
func Bool(b bool) Value { return Value{Kind: BoolKind, Bool: b} }

// setThreshold is the list length from which membership uses a hash set;
// Qdrant measured linear scans to be faster below it (INDEXSET_ITER_THRESHOLD).
const setThreshold = 13

// ValueList is the operand of `any` and `except`: a set of keywords or a set
// of integers (Qdrant's AnyVariants), deduplicated, in first-seen order. An
// empty list holds keywords. Build one with KeywordList or IntegerList; it
// is immutable afterwards.
type ValueList struct {
	keywords []string
	integers []int64
	kwSet    map[string]struct{}
	intSet   map[int64]struct{}
}

// KeywordList returns a list of keywords.
func KeywordList(ks ...string) ValueList {
	var l ValueList
	seen := make(map[string]struct{}, len(ks))
	l.keywords = make([]string, 0, len(ks))
	for _, k := range ks {
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			l.keywords = append(l.keywords, k)
		}
	}
	if len(l.keywords) >= setThreshold {
		l.kwSet = seen
	}
	return l
}

// IntegerList returns a list of integers.
func IntegerList(is ...int64) ValueList {
	var l ValueList
	seen := make(map[int64]struct{}, len(is))
	l.integers = make([]int64, 0, len(is))
	for _, i := range is {
		if _, dup := seen[i]; !dup {
			seen[i] = struct{}{}
			l.integers = append(l.integers, i)
		}
	}
	if len(l.integers) >= setThreshold {
		l.intSet = seen
	}
	return l
}

// Keywords returns the keywords (shared; do not modify).
func (l ValueList) Keywords() []string { return l.keywords }

// Integers returns the integers (shared; do not modify).
func (l ValueList) Integers() []int64 { return l.integers }

// IsIntegers reports whether the list holds integers.
func (l ValueList) IsIntegers() bool { return len(l.integers) > 0 }

// Len returns the number of values.
func (l ValueList) Len() int { return len(l.keywords) + len(l.integers) }

// HasKeyword reports whether s is in the list.
func (l ValueList) HasKeyword(s string) bool {
	if l.kwSet != nil {
		_, ok := l.kwSet[s]
		return ok
	}
	return slices.Contains(l.keywords, s)
}

// HasInteger reports whether i is in the list.
func (l ValueList) HasInteger(i int64) bool {
	if l.intSet != nil {
		_, ok := l.intSet[i]
		return ok
	}
	return slices.Contains(l.integers, i)
}

// MarshalJSON writes the list as a JSON array.
func (l ValueList) MarshalJSON() ([]byte, error) {
	if l.IsIntegers() {
		return json.Marshal(l.integers)
	}
	if l.keywords == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(l.keywords)
}

// AsInteger returns the payload value v as an int64 when it is an integer
// number, the test Qdrant's integer match and except use (serde_json's
// as_i64). For JSON numbers that is the literal text: "3" is an integer,
// "3.0" and "3e0" are not, nor is anything beyond the int64 range. Go
// numbers are accepted too; a float64 counts when it is integral, because
// it serialises as an integer literal and must match the same after a round
// trip through storage.
func AsInteger(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint:
		return int64(n), uint64(n) <= math.MaxInt64
	case uint64:
		return int64(n), n <= math.MaxInt64
	case uint32:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint8:
		return int64(n), true
	case float64:
		return floatAsInteger(n)
	case float32:
		return floatAsInteger(float64(n))
	}
	return 0, false
}

func floatAsInteger(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// AsFloat returns the payload value v as a float64 when it is a number, the
// test Qdrant's range uses (serde_json's as_f64: every number converts).
func AsFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil && !math.IsInf(f, 0) {
			return 0, false
		}
		return f, true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case int16:
		return float64(n), true
	case int8:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint8:
		return float64(n), true
	}
	return 0, false
}

// isNumber reports whether v is a number of any representation.
func isNumber(v any) bool {
	_, ok := AsFloat(v)
	return ok
}
