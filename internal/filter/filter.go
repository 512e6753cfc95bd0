package filter

import (
	"encoding/json"

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

// Condition is one condition of a clause. The set is closed:
// *FieldCondition, *IsEmptyCondition, *IsNullCondition, *HasIDCondition,
// *HasVectorCondition, *NestedCondition, *SliceCondition, and *Filter for
// a nested boolean expression. A planner walks the tree with a type switch.
type Condition interface {
	json.Marshaler
	// match evaluates the condition on one point.
	match(t target) bool
	// validate checks a condition built by hand; loc names it in errors.
	validate(loc string) error
}

// target is the point a condition is evaluated on. Inside a nested
// condition the payload is one element of the nested array and the point
// level conditions (has_id, has_vector, slice) do not hold, as in Qdrant,
// which checks a nested filter without an id tracker or vector storages.
type target struct {
	id        point.ID
	payload   point.Payload
	hasVector func(name string) bool
	nested    bool
}

// FieldCondition tests the values at a payload key. When several members
// are set, Qdrant's precedence applies (ValueChecker for FieldCondition):
// ValuesCount, then IsEmpty, then IsNull, and otherwise the condition holds
// if any of Match, Range, DatetimeRange, GeoBoundingBox, GeoRadius and
// GeoPolygon holds for some value (they are ORed, not ANDed). Kind names
// the test a condition performs, for planners.
//
// A key that yields no value (missing, or a path through a non-object)
// matches only through ValuesCount (as a count of 0), IsEmpty: true or
// IsNull: false.
type FieldCondition struct {
	Key   point.Path
	Match Match
	// Range is a numeric range; DatetimeRange is the same `range` member
	// with RFC 3339 bounds. At most one of the two is set.
	Range         *Range
	DatetimeRange *DatetimeRange
	// GeoBoundingBox, GeoRadius and GeoPolygon test geo points, payload
	// objects {"lon": x, "lat": y} (see ParseGeoPoint).
	GeoBoundingBox *GeoBoundingBox
	GeoRadius      *GeoRadius
	GeoPolygon     *GeoPolygon
	// ValuesCount counts the values at the key.
	ValuesCount *ValuesCount
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
// *MatchExcept, *MatchPrefix, *MatchText, *MatchPhrase or *MatchTextAny.
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
// null or an array holding null (Qdrant issue 10096). A missing key is not
// null.
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
