package filter

import (
	"encoding/json"
	"fmt"

	"github.com/shoaldb/shoal/internal/point"
)

// Filter is Qdrant's Filter: clauses combined with AND. The zero Filter
// and a nil *Filter match every point.
type Filter struct {
	// Must holds conditions that must all match.
	Must []Condition
	// Should holds conditions of which at least one must match. Nil means
	// the clause is absent; a non-nil empty slice matches no point, as
	// `"should": []` does in Qdrant.
	Should []Condition
	// MustNot holds conditions that must all fail.
	MustNot []Condition
	// MinShould, if set, requires at least MinCount of its conditions.
	MinShould *MinShould
}

// MinShould is Qdrant's min_should clause.
type MinShould struct {
	Conditions []Condition
	MinCount   int // at least 1
}

// Condition is one condition of a clause. The set is closed: FieldCondition,
// IsEmptyCondition, IsNullCondition, HasIDCondition, and *Filter for a
// nested boolean expression.
type Condition interface {
	json.Marshaler
	// match evaluates the condition on one point.
	match(t target) bool
	// validate checks a condition built by hand; loc names it in errors.
	validate(loc string) error
}

// target is the point a condition is evaluated on.
type target struct {
	id      point.ID
	payload point.Payload
}

// FieldCondition tests the values at a payload key. When several members
// are set, Qdrant's precedence applies: IsEmpty, then IsNull, and otherwise
// the condition holds if Match or Range holds (they are ORed, not ANDed).
type FieldCondition struct {
	Key   point.Path
	Match Match
	Range *Range
	// IsEmpty is `{"key": k, "is_empty": b}`: true holds when the key is
	// missing or some value at it is null or []; false is its negation per
	// value. Note it differs from IsEmptyCondition when a path yields
	// several values: this form needs one empty value, that one needs all.
	IsEmpty *bool
	// IsNull is `{"key": k, "is_null": b}`: true holds when some value is
	// null or an array holding null; false holds when the key is missing or
	// some value is not null and has no null element.
	IsNull *bool
}

// Match is the `match` member of a FieldCondition: *MatchValue, *MatchAny,
// *MatchExcept or *MatchPrefix.
type Match interface {
	json.Marshaler
	// matchValue tests one (non-array) payload value.
	matchValue(v any) bool
}

// MatchValue is `match: {value: v}`: a string equal to a keyword value, an
// integer equal to an integer value (3 matches 3, not 3.0), or a boolean.
type MatchValue struct{ Value Value }

// MatchAny is `match: {any: [...]}`: a string or integer in the list.
type MatchAny struct{ Any ValueList }

// MatchExcept is `match: {except: [...]}`. Per value: null never matches; a
// string matches unless it is in a keyword list; an integer matches unless
// it is in an integer list; every other value (a float, a string against an
// integer list, a bool, an object, a nested array) matches. A missing key
// and an empty array do not match.
type MatchExcept struct{ Except ValueList }

// MatchPrefix is `match: {prefix: p}`: a string starting with p, byte-wise
// and case-sensitive.
type MatchPrefix struct{ Prefix string }

// Range is `range: {gt, gte, lt, lte}` over numbers, integer or float; a
// non-number never matches and a nil bound is no bound.
type Range struct {
	GT, GTE, LT, LTE *float64
}

// IsEmptyCondition is `{"is_empty": {"key": k}}`: the key is missing or
// every value at it is null or an empty array. [null] is not empty.
type IsEmptyCondition struct{ Key point.Path }

// IsNullCondition is `{"is_null": {"key": k}}`: some value at the key is
// null. An array of nulls is not null, nor is a missing key.
type IsNullCondition struct{ Key point.Path }

// HasIDCondition is `{"has_id": [...]}`: the point id is in the set. Build
// one with NewHasID.
type HasIDCondition struct {
	ids []point.ID
	set map[point.ID]struct{}
}

// NewHasID returns a has_id condition for ids (deduplicated).
func NewHasID(ids ...point.ID) *HasIDCondition {
	c := &HasIDCondition{set: make(map[point.ID]struct{}, len(ids)), ids: make([]point.ID, 0, len(ids))}
	for _, id := range ids {
		if _, dup := c.set[id]; !dup {
			c.set[id] = struct{}{}
			c.ids = append(c.ids, id)
		}
	}
	return c
}

// IDs returns the ids in first-seen order (shared; do not modify).
func (c *HasIDCondition) IDs() []point.ID { return c.ids }

// Contains reports whether id is in the set.
func (c *HasIDCondition) Contains(id point.ID) bool {
	_, ok := c.set[id]
	return ok
}

// Validate checks a filter built by hand; Parse already did for parsed
// ones. A nil filter is valid.
func (f *Filter) Validate() error {
	if f == nil {
		return nil
	}
	return f.validate("")
}

func (f *Filter) validate(loc string) error {
	clauses := []struct {
		name  string
		conds []Condition
	}{{"must", f.Must}, {"should", f.Should}, {"must_not", f.MustNot}}
	for _, cl := range clauses {
		if err := validateList(join(loc, cl.name), cl.conds); err != nil {
			return err
		}
	}
	if ms := f.MinShould; ms != nil {
		msLoc := join(loc, "min_should")
		if ms.MinCount < 1 {
			return validationErr(join(msLoc, "min_count"), fmt.Sprintf("value %d invalid, must be 1 or more", ms.MinCount))
		}
		return validateList(join(msLoc, "conditions"), ms.Conditions)
	}
	return nil
}

func validateList(loc string, conds []Condition) error {
	for i, c := range conds {
		at := fmt.Sprintf("%s[%d]", loc, i)
		if c == nil {
			return validationErr(at, "condition is nil")
		}
		if err := c.validate(at); err != nil {
			return err
		}
	}
	return nil
}

func validateKey(loc string, k point.Path) error {
	if k.IsZero() {
		return validationErr(join(loc, "key"), "key is empty")
	}
	return nil
}

func (c *FieldCondition) validate(loc string) error {
	if err := validateKey(loc, c.Key); err != nil {
		return err
	}
	if c.Match == nil && c.Range == nil && c.IsEmpty == nil && c.IsNull == nil {
		return validationErr(loc, "At least one field condition must be specified")
	}
	if m, ok := c.Match.(*MatchValue); ok && (m.Value.Kind < KeywordKind || m.Value.Kind > BoolKind) {
		return validationErr(join(loc, "match.value"), "value has no kind; build it with Keyword, Integer or Bool")
	}
	return nil
}

func (c *IsEmptyCondition) validate(loc string) error {
	return validateKey(join(loc, "is_empty"), c.Key)
}

func (c *IsNullCondition) validate(loc string) error {
	return validateKey(join(loc, "is_null"), c.Key)
}

func (c *HasIDCondition) validate(loc string) error {
	if c.set == nil && len(c.ids) > 0 {
		return validationErr(join(loc, "has_id"), "build has_id conditions with NewHasID")
	}
	return nil
}
