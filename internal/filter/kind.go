package filter

// FieldKind names the one test a FieldCondition performs once Qdrant's
// precedence is applied, so a planner can pick the payload index that
// answers it. The operands are the exported members of the condition:
//
//	KindValuesCount    c.ValuesCount (the other members are ignored)
//	KindIsEmpty        *c.IsEmpty
//	KindIsNull         *c.IsNull
//	KindMatch          c.Match: type-switch on *MatchValue (Value.Kind:
//	                   keyword, integer, bool), *MatchAny / *MatchExcept
//	                   (keywords or integers, ValueList.IsIntegers),
//	                   *MatchPrefix, *MatchText, *MatchPhrase, *MatchTextAny
//	KindRange          c.Range (numbers, float64 bounds)
//	KindDatetimeRange  c.DatetimeRange (ContainsMicros for an index)
//	KindGeoBoundingBox c.GeoBoundingBox (Contains)
//	KindGeoRadius      c.GeoRadius (Contains)
//	KindGeoPolygon     c.GeoPolygon (Contains)
//	KindAny            two or more of match, range, datetime range and the
//	                   geo members: the condition holds for a value that
//	                   passes any of them
type FieldKind uint8

// The kinds of FieldCondition.
const (
	KindNone FieldKind = iota // nothing set: not a valid condition
	KindValuesCount
	KindIsEmpty
	KindIsNull
	KindMatch
	KindRange
	KindDatetimeRange
	KindGeoBoundingBox
	KindGeoRadius
	KindGeoPolygon
	KindAny
)

var kindNames = [...]string{
	KindNone: "none", KindValuesCount: "values_count", KindIsEmpty: "is_empty", KindIsNull: "is_null",
	KindMatch: "match", KindRange: "range", KindDatetimeRange: "datetime_range",
	KindGeoBoundingBox: "geo_bounding_box", KindGeoRadius: "geo_radius", KindGeoPolygon: "geo_polygon", KindAny: "any",
}

func (k FieldKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Kind returns the test c performs.
func (c *FieldCondition) Kind() FieldKind {
	switch {
	case c.ValuesCount != nil:
		return KindValuesCount
	case c.IsEmpty != nil:
		return KindIsEmpty
	case c.IsNull != nil:
		return KindIsNull
	}
	kind, n := KindNone, 0
	for _, m := range [...]struct {
		set  bool
		kind FieldKind
	}{
		{c.Match != nil, KindMatch},
		{c.Range != nil, KindRange},
		{c.DatetimeRange != nil, KindDatetimeRange},
		{c.GeoBoundingBox != nil, KindGeoBoundingBox},
		{c.GeoRadius != nil, KindGeoRadius},
		{c.GeoPolygon != nil, KindGeoPolygon},
	} {
		if m.set {
			kind, n = m.kind, n+1
		}
	}
	if n > 1 {
		return KindAny
	}
	return kind
}
