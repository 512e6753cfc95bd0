package strict

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// conditions lists a filter's clauses in Qdrant's iter_conditions order:
// must, must_not, should, min_should.
func conditions(f *filter.Filter) [][]filter.Condition {
	out := [][]filter.Condition{f.Must, f.MustNot, f.Should}
	if f.MinShould != nil {
		out = append(out, f.MinShould.Conditions)
	}
	return out
}

// conditionsCount is Qdrant's Filter::total_conditions_count: every
// condition counts one, a nested filter or a nested condition counts its
// own conditions (the nested condition itself not).
func conditionsCount(f *filter.Filter) uint64 {
	if f == nil {
		return 0
	}
	var n uint64
	for _, clause := range conditions(f) {
		for _, c := range clause {
			switch c := c.(type) {
			case *filter.Filter:
				n += conditionsCount(c)
			case *filter.NestedCondition:
				n += conditionsCount(c.Filter)
			default:
				n++
			}
		}
	}
	return n
}

// maxConditionSize is Qdrant's Filter::max_condition_input_size: the
// largest input of one condition, the values of a `match: {any}` or
// `match: {except}` list or the ids of a has_id; other conditions weigh
// nothing, nested filters count by their own largest.
func maxConditionSize(f *filter.Filter) uint64 {
	if f == nil {
		return 0
	}
	var m uint64
	for _, clause := range conditions(f) {
		for _, c := range clause {
			m = max(m, conditionSize(c))
		}
	}
	return m
}

func conditionSize(c filter.Condition) uint64 {
	switch c := c.(type) {
	case *filter.FieldCondition:
		switch mt := c.Match.(type) {
		case *filter.MatchAny:
			return uint64(mt.Any.Len())
		case *filter.MatchExcept:
			return uint64(mt.Except.Len())
		}
	case *filter.HasIDCondition:
		return uint64(len(c.IDs()))
	case *filter.Filter:
		return maxConditionSize(c)
	case *filter.NestedCondition:
		return maxConditionSize(c.Filter)
	}
	return 0
}

// Index is a payload index as strict mode sees it: its type and the
// parameters that change what it answers.
type Index struct {
	Type string // Qdrant's PayloadSchemaType name: keyword, integer, ...
	// Prefix is a keyword index's `prefix`: it answers `match: {prefix}`.
	Prefix bool
	// NoLookup and NoRange are an integer index's `lookup: false` and
	// `range: false`.
	NoLookup, NoRange bool
	// PhraseMatching is a text index's `phrase_matching`.
	PhraseMatching bool
	// Tenant is a keyword or uuid index's `is_tenant`.
	Tenant bool
}

// capability is one kind of condition an index answers (Qdrant's
// FieldIndexType in problems/unindexed_field.rs).
type capability uint16

const (
	intMatch capability = 1 << iota
	intRange
	keywordMatch
	keywordPrefix
	floatRange
	textMatch
	textPhrase
	boolMatch
	uuidMatch
	uuidRange
	datetimeRange
	geoMatch
	allCapabilities = geoMatch<<1 - 1
)

// schemaName is the index schema that gives a capability, as Qdrant
// displays it.
func (c capability) schemaName() string {
	switch c {
	case intMatch, intRange:
		return "integer"
	case keywordMatch, keywordPrefix:
		return "keyword"
	case floatRange:
		return "float"
	case textMatch:
		return "text"
	case textPhrase:
		return "text (with phrase_matching: true)"
	case boolMatch:
		return "bool"
	case uuidMatch, uuidRange:
		return "uuid"
	case datetimeRange:
		return "datetime"
	case geoMatch:
		return "geo"
	}
	return "unknown"
}

// capabilities is what an index answers (Qdrant's schema_capabilities).
func (ix Index) capabilities() capability {
	switch ix.Type {
	case "keyword":
		if ix.Prefix {
			return keywordMatch | keywordPrefix
		}
		return keywordMatch
	case "integer":
		var c capability
		if !ix.NoLookup {
			c |= intMatch
		}
		if !ix.NoRange {
			c |= intRange
		}
		return c
	case "uuid":
		return uuidMatch | uuidRange
	case "bool":
		return boolMatch
	case "float":
		return floatRange
	case "geo":
		return geoMatch
	case "text":
		if ix.PhraseMatching {
			return textMatch | textPhrase
		}
		return textMatch
	case "datetime":
		return datetimeRange
	}
	return 0
}

// required is the capabilities of which an index needs one to serve a
// field condition (Qdrant's infer_index_from_field_condition); 0 when no
// index is needed (an empty any or except list matches regardless).
func required(c *filter.FieldCondition) capability {
	var need capability
	switch m := c.Match.(type) {
	case *filter.MatchValue:
		switch m.Value.Kind {
		case filter.KeywordKind:
			need |= keywordMatch
			if isUUID(m.Value.Keyword) {
				need |= uuidMatch
			}
		case filter.IntegerKind:
			need |= intMatch
		case filter.BoolKind:
			need |= boolMatch
		}
	case *filter.MatchAny:
		need |= listRequired(m.Any)
	case *filter.MatchExcept:
		need |= listRequired(m.Except)
	case *filter.MatchText, *filter.MatchTextAny:
		need |= textMatch
	case *filter.MatchPhrase:
		need |= textPhrase
	case *filter.MatchPrefix:
		need |= keywordPrefix
	}
	if c.Range != nil {
		need |= floatRange | intRange
	}
	if c.DatetimeRange != nil {
		need |= datetimeRange
	}
	if c.GeoBoundingBox != nil || c.GeoRadius != nil || c.GeoPolygon != nil {
		need |= geoMatch
	}
	if c.ValuesCount != nil || c.IsEmpty != nil || c.IsNull != nil {
		need |= allCapabilities // any index will do
	}
	return need
}

func listRequired(l filter.ValueList) capability {
	switch {
	case l.Len() == 0:
		return 0
	case l.IsIntegers():
		return intMatch
	}
	for _, k := range l.Keywords() {
		if !isUUID(k) {
			return keywordMatch
		}
	}
	return keywordMatch | uuidMatch
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

// unindexed is a payload key a filter uses without an index that serves
// it, and the schemas an index would need.
type unindexed struct {
	key  string
	need capability
}

// unindexedKey finds the first key of f whose condition no payload index
// answers (Qdrant's Extractor::update_from_filter_once: the top-level
// conditions in order, each with everything nested in it), or false.
func unindexedKey(f *filter.Filter, indexes map[string]Index) (unindexed, bool) {
	var found []unindexed
	for _, clause := range conditions(f) {
		for _, c := range clause {
			found = walkCondition(found, nil, c, indexes)
			if len(found) > 0 {
				return found[0], true
			}
		}
	}
	return unindexed{}, false
}

func walkFilter(found []unindexed, prefix *point.Path, f *filter.Filter, indexes map[string]Index) []unindexed {
	for _, clause := range conditions(f) {
		for _, c := range clause {
			found = walkCondition(found, prefix, c, indexes)
		}
	}
	return found
}

func walkCondition(found []unindexed, prefix *point.Path, c filter.Condition, indexes map[string]Index) []unindexed {
	var key point.Path
	var need capability
	switch c := c.(type) {
	case *filter.FieldCondition:
		key, need = c.Key, required(c)
	case *filter.IsEmptyCondition:
		key, need = c.Key, allCapabilities
	case *filter.IsNullCondition:
		key, need = c.Key, allCapabilities
	case *filter.Filter:
		return walkFilter(found, prefix, c, indexes)
	case *filter.NestedCondition:
		inner := c.ArrayKey()
		if prefix != nil {
			inner = prefix.Extend(inner)
		}
		return walkFilter(found, &inner, c.Filter, indexes)
	default: // has_id, has_vector, slice: no index needed
		return found
	}
	if need == 0 {
		return found
	}
	if prefix != nil {
		key = prefix.Extend(key)
	}
	text := key.String()
	if ix, ok := indexes[text]; ok && ix.capabilities()&need != 0 {
		return found
	}
	return append(found, unindexed{key: text, need: need})
}

// schemas lists the schemas of need, sorted and without repeats, as
// Qdrant's error lists them.
func (u unindexed) schemas() string {
	var names []string
	for c := capability(1); c <= geoMatch; c <<= 1 {
		if u.need&c != 0 {
			names = append(names, c.schemaName())
		}
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ", ")
}

func (u unindexed) error(solution string) error {
	return forbidden(fmt.Sprintf("Index required but not found for \"%s\" of one of the following types: [%s]", u.key, u.schemas()), solution)
}
