package point

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A payload key path addresses values inside a payload, with Qdrant's JsonPath
// syntax: `a`, `a.b`, `a[].b` (every element of the array a), `a[2].b` (one
// element) and `"a.b".c` (a quoted key holding characters that a bare key
// may not: anything but `"` and `\`). Bare keys are letters, digits, `_`
// and `-`. A key holding `"` or `\` cannot be written at all, as in Qdrant.
//
// Semantics follow Qdrant (lib/segment/src/json_path): a key step only
// enters objects and an index or `[]` step only enters arrays. A key step
// that meets an array does not descend into its elements; `a[].b` must be
// written for that.

// StepKind tells what one step of a Path does.
type StepKind uint8

const (
	// StepKey enters an object by key.
	StepKey StepKind = iota
	// StepIndex enters one element of an array.
	StepIndex
	// StepWildcard enters every element of an array (`[]`).
	StepWildcard
)

// Step is one step of a Path.
type Step struct {
	Kind  StepKind
	Key   string // for StepKey
	Index int    // for StepIndex
}

// Path is a parsed payload key path. The zero Path is empty and addresses
// nothing. A Path is immutable once built and safe for concurrent use.
type Path struct {
	steps []Step // steps[0] is always a StepKey
}

// ErrInvalidPath marks a key path that does not parse.
var ErrInvalidPath = errors.New("invalid json path")

// PathError describes a key path that does not parse.
type PathError struct {
	Path   string
	Offset int // byte offset of the problem
	Reason string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("Invalid json path: '%s' (%s at offset %d)", e.Path, e.Reason, e.Offset)
}

// Unwrap lets errors.Is(err, ErrInvalidPath) hold.
func (e *PathError) Unwrap() error { return ErrInvalidPath }

// KeyPath returns the path of the single top-level key k, taken verbatim.
func KeyPath(k string) Path { return Path{steps: []Step{{Kind: StepKey, Key: k}}} }

// MustParsePath is ParsePath for constant paths; it panics on bad syntax.
func MustParsePath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// ParsePath parses Qdrant's key path syntax.
func ParsePath(s string) (Path, error) {
	fail := func(off int, reason string) (Path, error) {
		return Path{}, &PathError{Path: s, Offset: off, Reason: reason}
	}
	key, i, ok := parseKey(s, 0)
	if !ok {
		return fail(0, "expected a key")
	}
	steps := []Step{{Kind: StepKey, Key: key}}
	for i < len(s) {
		switch s[i] {
		case '.':
			key, next, ok := parseKey(s, i+1)
			if !ok {
				return fail(i+1, "expected a key after '.'")
			}
			steps = append(steps, Step{Kind: StepKey, Key: key})
			i = next
		case '[':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j >= len(s) || s[j] != ']' {
				return fail(i, "expected '[]' or '[<index>]'")
			}
			if j == i+1 {
				steps = append(steps, Step{Kind: StepWildcard})
			} else {
				n, err := strconv.ParseUint(s[i+1:j], 10, strconv.IntSize-1)
				if err != nil {
					return fail(i+1, "array index out of range")
				}
				steps = append(steps, Step{Kind: StepIndex, Index: int(n)})
			}
			i = j + 1
		default:
			return fail(i, fmt.Sprintf("unexpected %q", s[i]))
		}
	}
	return Path{steps: steps}, nil
}

// parseKey reads a bare or quoted key at s[i:]; it returns the key and the
// offset after it.
func parseKey(s string, i int) (string, int, bool) {
	if i < len(s) && s[i] == '"' {
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '"':
				return s[i+1 : j], j + 1, true
			case '\\':
				return "", 0, false
			}
		}
		return "", 0, false
	}
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if r == utf8.RuneError && size <= 1 || !isBareKeyRune(r) {
			break
		}
		j += size
	}
	if j == i {
		return "", 0, false
	}
	return s[i:j], j, true
}

// isBareKeyRune mirrors Rust's char::is_alphanumeric plus '_' and '-'.
func isBareKeyRune(r rune) bool {
	return r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsNumber(r) ||
		unicode.Is(unicode.Other_Alphabetic, r)
}

func keyNeedsQuoting(k string) bool {
	if k == "" {
		return true
	}
	for _, r := range k {
		if r == utf8.RuneError || !isBareKeyRune(r) {
			return true
		}
	}
	return false
}

// String returns the canonical text of the path; keys that are not bare
// are quoted. The zero Path is "".
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p.steps {
		switch s.Kind {
		case StepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			if keyNeedsQuoting(s.Key) {
				b.WriteByte('"')
				b.WriteString(s.Key)
				b.WriteByte('"')
			} else {
				b.WriteString(s.Key)
			}
		case StepIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		case StepWildcard:
			b.WriteString("[]")
		}
	}
	return b.String()
}

// MarshalText writes the canonical text, so a Path is a JSON string.
func (p Path) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses a path.
func (p *Path) UnmarshalText(b []byte) error {
	q, err := ParsePath(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// IsZero reports whether the path is empty.
func (p Path) IsZero() bool { return len(p.steps) == 0 }

// Steps returns the steps of the path; the first is always a StepKey. The
// slice is shared: callers must not modify it.
func (p Path) Steps() []Step { return p.steps }

// FirstKey returns the top-level key the path starts with.
func (p Path) FirstKey() string {
	if len(p.steps) == 0 {
		return ""
	}
	return p.steps[0].Key
}

// Equal reports whether two paths have the same steps.
func (p Path) Equal(o Path) bool {
	if len(p.steps) != len(o.steps) {
		return false
	}
	for i := range p.steps {
		if p.steps[i] != o.steps[i] {
			return false
		}
	}
	return true
}

// Extend returns p followed by the steps of o (Qdrant's JsonPath::extend,
// used to address a nested condition's keys from the payload root).
func (p Path) Extend(o Path) Path {
	steps := make([]Step, 0, len(p.steps)+len(o.steps))
	steps = append(append(steps, p.steps...), o.steps...)
	return Path{steps: steps}
}

// ArrayKey returns p with a trailing `[]` unless it already has one.
func (p Path) ArrayKey() Path {
	if n := len(p.steps); n == 0 || p.steps[n-1].Kind == StepWildcard {
		return p
	}
	return p.Extend(Path{steps: []Step{{Kind: StepWildcard}}})
}

// Each calls yield with every value at the path, in document order, until
// yield returns false; it reports whether it ran to the end. A value that is
// itself an array is passed whole (see FlatValues). A key holding JSON null
// yields nil; a missing key yields nothing. Each does not allocate.
func (p Path) Each(payload Payload, yield func(v any) bool) bool {
	if len(p.steps) == 0 || payload == nil {
		return true
	}
	v, ok := payload[p.steps[0].Key]
	if !ok {
		return true
	}
	return eachValue(p.steps[1:], v, yield)
}

func eachValue(steps []Step, v any, yield func(any) bool) bool {
	for len(steps) > 0 {
		s := steps[0]
		switch s.Kind {
		case StepKey:
			m, ok := asObject(v)
			if !ok {
				return true
			}
			if v, ok = m[s.Key]; !ok {
				return true
			}
		case StepIndex:
			a, ok := v.([]any)
			if !ok || s.Index >= len(a) {
				return true
			}
			v = a[s.Index]
		case StepWildcard:
			a, ok := v.([]any)
			if !ok {
				return true
			}
			for _, e := range a {
				if !eachValue(steps[1:], e, yield) {
					return false
				}
			}
			return true
		}
		steps = steps[1:]
	}
	return yield(v)
}

// Values returns every value at the path (Qdrant's value_get): arrays met
// by `[]` are entered, a final array is returned whole.
func (p Path) Values(payload Payload) []any {
	var out []any
	p.Each(payload, func(v any) bool {
		out = append(out, v)
		return true
	})
	return out
}

// FlatValues is Values with each final array replaced by its elements, one
// level deep: the values a match or range condition compares against.
func (p Path) FlatValues(payload Payload) []any {
	var out []any
	p.Each(payload, func(v any) bool {
		if a, ok := v.([]any); ok {
			out = append(out, a...)
		} else {
			out = append(out, v)
		}
		return true
	})
	return out
}

func asObject(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, m != nil
	case Payload:
		return m, m != nil
	}
	return nil, false
}

// SetAt merges the top-level keys of value into the object(s) at path, as
// Qdrant's set_payload with a `key` does, and returns the payload (a new one
// when p is nil). It mutates p. Along the path, a missing key or a value of
// the wrong kind is replaced by an empty object (key step) or an empty array
// (index or `[]` step); an index past the end changes nothing. A key whose
// new value is null is removed, as in Qdrant's merge. An empty path merges
// at the top level.
func SetAt(p Payload, path Path, value Payload) Payload {
	if p == nil {
		p = Payload{}
	}
	if len(path.steps) == 0 {
		mergeObject(p, value)
		return p
	}
	setInObject(p, path.steps[0].Key, path.steps[1:], value)
	return p
}

func setInObject(m map[string]any, key string, rest []Step, src Payload) {
	m[key] = setValue(rest, m[key], src)
}

// setValue returns dest with src merged at steps below it.
func setValue(steps []Step, dest any, src Payload) any {
	if len(steps) == 0 {
		obj, ok := asObject(dest)
		if !ok {
			obj = map[string]any{}
		}
		mergeObject(obj, src)
		return obj
	}
	switch s := steps[0]; s.Kind {
	case StepKey:
		obj, ok := asObject(dest)
		if !ok {
			obj = map[string]any{}
		}
		setInObject(obj, s.Key, steps[1:], src)
		return obj
	case StepIndex:
		a, ok := dest.([]any)
		if !ok {
			return []any{}
		}
		if s.Index < len(a) {
			a[s.Index] = setValue(steps[1:], a[s.Index], src)
		}
		return a
	default: // StepWildcard
		a, ok := dest.([]any)
		if !ok {
			return []any{}
		}
		for i := range a {
			a[i] = setValue(steps[1:], a[i], src)
		}
		return a
	}
}

// mergeObject sets each key of src in dst, deep-copied; a null removes it.
func mergeObject(dst map[string]any, src Payload) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		dst[k] = cloneValue(v)
	}
}

// DeleteAt removes the values at path from p (Qdrant's delete_payload with
// a key path) and returns them. `a[].b` removes b from every element of a;
// a trailing `[]` empties the array; a trailing index removes nothing (it
// would not be idempotent). It mutates p.
func DeleteAt(p Payload, path Path) []any {
	if p == nil || len(path.steps) == 0 {
		return nil
	}
	first := path.steps[0].Key
	v, ok := p[first]
	if !ok {
		return nil
	}
	if len(path.steps) == 1 {
		delete(p, first)
		return []any{v}
	}
	var removed []any
	p[first] = removeAt(path.steps[1:], v, &removed)
	return removed
}

// removeAt removes steps' target below v and returns v's new value.
func removeAt(steps []Step, v any, removed *[]any) any {
	s, last := steps[0], len(steps) == 1
	switch s.Kind {
	case StepKey:
		m, ok := asObject(v)
		if !ok {
			return v
		}
		child, ok := m[s.Key]
		if !ok {
			return v
		}
		if last {
			delete(m, s.Key)
			*removed = append(*removed, child)
		} else {
			m[s.Key] = removeAt(steps[1:], child, removed)
		}
	case StepIndex:
		a, ok := v.([]any)
		if !ok || last || s.Index >= len(a) {
			return v
		}
		a[s.Index] = removeAt(steps[1:], a[s.Index], removed)
	case StepWildcard:
		a, ok := v.([]any)
		if !ok {
			return v
		}
		if last {
			*removed = append(*removed, a)
			return []any{}
		}
		for i := range a {
			a[i] = removeAt(steps[1:], a[i], removed)
		}
	}
	return v
}

// Select returns a copy of p holding only the given paths and what leads to
// them (with_payload include). A path also keeps everything below it. The
// match is Qdrant's: a node is kept when its path and a pattern agree on
// their common steps, where array elements count as `[]`, so an index
// pattern such as `a[0]` keeps `a` but none of its elements.
func Select(p Payload, include []Path) Payload {
	return filterPayload(p, func(path []Step) bool {
		for _, pat := range include {
			if len(pat.steps) > 0 && commonStepsEqual(path, pat.steps) {
				return true
			}
		}
		return false
	})
}

// Exclude returns a copy of p without the given paths (with_payload
// exclude). As in Qdrant, array elements count as `[]`, so `a[]` empties
// the array a and an index pattern removes nothing.
func Exclude(p Payload, exclude []Path) Payload {
	return filterPayload(p, func(path []Step) bool {
		for _, pat := range exclude {
			if len(pat.steps) > 0 && len(pat.steps) <= len(path) && commonStepsEqual(path, pat.steps) {
				return false
			}
		}
		return true
	})
}

func commonStepsEqual(a, b []Step) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// filterPayload rebuilds p keeping the nodes whose path satisfies keep.
func filterPayload(p Payload, keep func(path []Step) bool) Payload {
	if p == nil {
		return nil
	}
	out := make(Payload, len(p))
	path := make([]Step, 1, 8)
	for k, v := range p {
		path[0] = Step{Kind: StepKey, Key: k}
		if keep(path) {
			out[k] = filterValue(&path, v, keep)
		}
	}
	return out
}

func filterValue(path *[]Step, v any, keep func([]Step) bool) any {
	switch t := v.(type) {
	case []any:
		*path = append(*path, Step{Kind: StepWildcard})
		defer func() { *path = (*path)[:len(*path)-1] }()
		if !keep(*path) {
			return []any{}
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = filterValue(path, e, keep)
		}
		return out
	case map[string]any:
		return filterObject(path, t, keep)
	case Payload:
		return filterObject(path, t, keep)
	default:
		return v
	}
}

func filterObject(path *[]Step, m map[string]any, keep func([]Step) bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		*path = append(*path, Step{Kind: StepKey, Key: k})
		if keep(*path) {
			out[k] = filterValue(path, e, keep)
		}
		*path = (*path)[:len(*path)-1]
	}
	return out
}
