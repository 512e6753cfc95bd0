package filter

import (
	"strings"

	"github.com/shoaldb/shoal/internal/point"
)

// Matches reports whether the point passes the filter, for callers that
// have no vectors at hand: it is MatchesPoint with no vectors, so a
// has_vector condition never holds (and fails a must, passes a must_not).
// A nil filter matches every point. It does not allocate for parsed
// filters.
func (f *Filter) Matches(id point.ID, payload point.Payload) bool {
	return f.MatchesPoint(id, payload, nil)
}

// MatchesPoint reports whether the point passes the filter. hasVector
// answers has_vector conditions: whether the point has a vector of that
// name ("" is the unnamed vector); nil means it has none. Create the func
// once per scan, not per point: MatchesPoint itself does not allocate for
// parsed filters (except near-degenerate geo polygon tests).
func (f *Filter) MatchesPoint(id point.ID, payload point.Payload, hasVector func(name string) bool) bool {
	if f == nil {
		return true
	}
	return f.match(target{id: id, payload: payload, hasVector: hasVector})
}

// match checks the clauses cheapest-to-fail first; the result is the same
// in any order.
func (f *Filter) match(t target) bool {
	for _, c := range f.Must {
		if !c.match(t) {
			return false
		}
	}
	for _, c := range f.MustNot {
		if c.match(t) {
			return false
		}
	}
	if f.Should != nil && !anyMatch(f.Should, t) {
		return false
	}
	if ms := f.MinShould; ms != nil {
		n := 0
		for _, c := range ms.Conditions {
			if n >= ms.MinCount {
				break
			}
			if c.match(t) {
				n++
			}
		}
		if n < ms.MinCount {
			return false
		}
	}
	return true
}

func anyMatch(conds []Condition, t target) bool {
	for _, c := range conds {
		if c.match(t) {
			return true
		}
	}
	return false
}

func (c *FieldCondition) match(t target) bool {
	found, ok := false, false
	c.Key.Each(t.payload, func(v any) bool {
		found = true
		ok = c.matchOne(v)
		return !ok
	})
	if !found {
		return c.matchMissing()
	}
	return ok
}

// matchMissing is the result when the key yields no value (Qdrant's
// FieldCondition::check_empty).
func (c *FieldCondition) matchMissing() bool {
	switch {
	case c.ValuesCount != nil:
		return c.ValuesCount.ContainsCount(0)
	case c.IsEmpty != nil:
		return *c.IsEmpty
	case c.IsNull != nil:
		return !*c.IsNull
	}
	return false
}

// matchOne tests one value found at the key (Qdrant's ValueChecker::check).
func (c *FieldCondition) matchOne(v any) bool {
	switch {
	case c.ValuesCount != nil:
		return c.ValuesCount.ContainsCount(Count(v))
	case c.IsEmpty != nil:
		return isEmptyValue(v) == *c.IsEmpty
	case c.IsNull != nil:
		return hasNull(v) == *c.IsNull
	}
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if c.matchElem(e) {
				return true
			}
		}
		return false
	}
	return c.matchElem(v)
}

// matchElem ORs the value tests that are set.
func (c *FieldCondition) matchElem(v any) bool {
	if c.Match != nil && c.Match.matchValue(v) ||
		c.Range != nil && c.Range.contains(v) ||
		c.DatetimeRange != nil && c.DatetimeRange.matchValue(v) {
		return true
	}
	if c.GeoBoundingBox == nil && c.GeoRadius == nil && c.GeoPolygon == nil {
		return false
	}
	p, ok := ParseGeoPoint(v)
	return ok && (c.GeoBoundingBox != nil && c.GeoBoundingBox.Contains(p) ||
		c.GeoRadius != nil && c.GeoRadius.Contains(p) ||
		c.GeoPolygon != nil && c.GeoPolygon.Contains(p))
}

func isEmptyValue(v any) bool {
	switch a := v.(type) {
	case nil:
		return true
	case []any:
		return len(a) == 0
	}
	return false
}

// hasNull reports whether v is null or an array with a null element.
func hasNull(v any) bool {
	switch a := v.(type) {
	case nil:
		return true
	case []any:
		for _, e := range a {
			if e == nil {
				return true
			}
		}
	}
	return false
}

func (m *MatchValue) matchValue(v any) bool {
	switch m.Value.Kind {
	case KeywordKind:
		s, ok := v.(string)
		return ok && s == m.Value.Keyword
	case IntegerKind:
		i, ok := AsInteger(v)
		return ok && i == m.Value.Integer
	case BoolKind:
		b, ok := v.(bool)
		return ok && b == m.Value.Bool
	}
	return false
}

func (m *MatchAny) matchValue(v any) bool {
	if s, ok := v.(string); ok {
		return m.Any.HasKeyword(s)
	}
	i, ok := AsInteger(v)
	return ok && m.Any.HasInteger(i)
}

func (m *MatchExcept) matchValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return m.Except.IsIntegers() || !m.Except.HasKeyword(x)
	}
	if !m.Except.IsIntegers() || !isNumber(v) {
		return true
	}
	i, ok := AsInteger(v)
	return !ok || !m.Except.HasInteger(i)
}

func (m *MatchPrefix) matchValue(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, m.Prefix)
}

func (r *Range) contains(v any) bool {
	x, ok := AsFloat(v)
	if !ok {
		return false
	}
	return (r.GT == nil || x > *r.GT) && (r.GTE == nil || x >= *r.GTE) &&
		(r.LT == nil || x < *r.LT) && (r.LTE == nil || x <= *r.LTE)
}

func (c *IsEmptyCondition) match(t target) bool {
	return c.Key.Each(t.payload, isEmptyValue)
}

// An array holding null counts as null, as in Qdrant (issue 10096).
func (c *IsNullCondition) match(t target) bool {
	return !c.Key.Each(t.payload, func(v any) bool { return !hasNull(v) })
}

func (c *HasIDCondition) match(t target) bool { return !t.nested && c.Contains(t.id) }
