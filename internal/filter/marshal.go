package filter

import (
	"encoding/json"

	"github.com/shoaldb/shoal/internal/point"
)

// The JSON written here is Qdrant's canonical form: Parse reads it back to
// an equal filter, so filters can be logged, stored in the WAL and
// forwarded to peers as JSON. Keys come out sorted.

// MarshalJSON writes the filter object; a nil filter is null.
func (f *Filter) MarshalJSON() ([]byte, error) {
	if f == nil {
		return []byte("null"), nil
	}
	m := map[string]any{}
	if f.Must != nil {
		m["must"] = f.Must
	}
	if f.Should != nil {
		m["should"] = f.Should
	}
	if f.MustNot != nil {
		m["must_not"] = f.MustNot
	}
	if ms := f.MinShould; ms != nil {
		conds := ms.Conditions
		if conds == nil {
			conds = []Condition{}
		}
		m["min_should"] = map[string]any{"conditions": conds, "min_count": ms.MinCount}
	}
	return json.Marshal(m)
}

// String returns the filter as JSON.
func (f *Filter) String() string {
	b, err := f.MarshalJSON()
	if err != nil {
		return "<invalid filter: " + err.Error() + ">"
	}
	return string(b)
}

// MarshalJSON writes {"key": ..., "match"|"range"|...: ...} with the
// members that are set.
func (c *FieldCondition) MarshalJSON() ([]byte, error) {
	m := map[string]any{"key": c.Key}
	if c.Match != nil {
		m["match"] = c.Match
	}
	if c.Range != nil {
		m["range"] = c.Range
	} else if c.DatetimeRange != nil {
		m["range"] = c.DatetimeRange
	}
	if c.GeoBoundingBox != nil {
		m["geo_bounding_box"] = c.GeoBoundingBox
	}
	if c.GeoRadius != nil {
		m["geo_radius"] = c.GeoRadius
	}
	if c.GeoPolygon != nil {
		m["geo_polygon"] = c.GeoPolygon
	}
	if c.ValuesCount != nil {
		m["values_count"] = c.ValuesCount
	}
	if c.IsEmpty != nil {
		m["is_empty"] = *c.IsEmpty
	}
	if c.IsNull != nil {
		m["is_null"] = *c.IsNull
	}
	return json.Marshal(m)
}

// MarshalJSON writes {"value": v}.
func (m *MatchValue) MarshalJSON() ([]byte, error) {
	var v any
	switch m.Value.Kind {
	case KeywordKind:
		v = m.Value.Keyword
	case IntegerKind:
		v = m.Value.Integer
	case BoolKind:
		v = m.Value.Bool
	}
	return json.Marshal(map[string]any{"value": v})
}

// MarshalJSON writes {"any": [...]}.
func (m *MatchAny) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"any": m.Any})
}

// MarshalJSON writes {"except": [...]}.
func (m *MatchExcept) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"except": m.Except})
}

// MarshalJSON writes {"prefix": p}.
func (m *MatchPrefix) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"prefix": m.Prefix})
}

// MarshalJSON writes the bounds that are set.
func (r *Range) MarshalJSON() ([]byte, error) {
	m := map[string]float64{}
	for name, b := range map[string]*float64{"gt": r.GT, "gte": r.GTE, "lt": r.LT, "lte": r.LTE} {
		if b != nil {
			m[name] = *b
		}
	}
	return json.Marshal(m)
}

// MarshalJSON writes {"is_empty": {"key": k}}.
func (c *IsEmptyCondition) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"is_empty": map[string]point.Path{"key": c.Key}})
}

// MarshalJSON writes {"is_null": {"key": k}}.
func (c *IsNullCondition) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"is_null": map[string]point.Path{"key": c.Key}})
}

// MarshalJSON writes {"has_id": [...]}.
func (c *HasIDCondition) MarshalJSON() ([]byte, error) {
	ids := c.ids
	if ids == nil {
		ids = []point.ID{}
	}
	return json.Marshal(map[string]any{"has_id": ids})
}
