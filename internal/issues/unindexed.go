package issues

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"

	"github.com/google/uuid"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// unindexedName is Qdrant's name of the UnindexedField problem.
const unindexedName = "UNINDEXED_FIELD"

// UnindexedFieldID is the id of the issue of field in collection.
func UnindexedFieldID(collection, field string) string {
	return unindexedName + "/" + collection + "/" + field
}

// schemaKinds are Qdrant's payload schema types in their declaration
// order (PayloadSchemaType), the order solutions are offered in.
var schemaKinds = []string{"keyword", "integer", "float", "geo", "text", "bool", "datetime", "uuid"}

// UnindexedFields returns the UNINDEXED_FIELD issues of a filter run on
// collection, whose payload indexes are indexed (key -> schema type), as
// Qdrant's IssueExtractor finds them: every field a condition tests with
// no index of a type that could answer it. The solution of each creates
// the index (or offers a choice of them); uuid is never suggested, as in
// Qdrant, which finds it too specialised to guess.
func UnindexedFields(collection string, f *filter.Filter, indexed map[string]string) []Issue {
	if f == nil {
		return nil
	}
	e := extractor{indexed: indexed, found: map[string][]string{}}
	e.filter(point.Path{}, f)
	var keys []string
	for k := range e.found {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []Issue
	for _, key := range keys {
		var kinds []string
		for _, k := range schemaKinds {
			if k != "uuid" && slices.Contains(e.found[key], k) {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) == 0 {
			continue
		}
		out = append(out, unindexedField(collection, key, kinds))
	}
	return out
}

func unindexedField(collection, field string, kinds []string) Issue {
	name := collection
	is := Issue{
		ID:                UnindexedFieldID(collection, field),
		Description:       fmt.Sprintf("Unindexed field '%s' might be slowing queries down in collection '%s'", field, collection),
		RelatedCollection: &name,
	}
	var sols []ImmediateSolution
	for _, k := range kinds {
		schema, _ := json.Marshal(k)
		sols = append(sols, ImmediateSolution{
			Message: fmt.Sprintf("Create an index on field '%s' of schema %s in collection '%s'. "+
				"Check the documentation for more details: https://qdrant.tech/documentation/concepts/indexing/#payload-index", field, schema, collection),
			Action: Action{
				Method:  "PUT",
				URI:     "/collections/" + url.PathEscape(collection) + "/index",
				Headers: map[string]string{"content-type": "application/json"},
				Body:    map[string]any{"field_name": field, "field_schema": k},
			},
		})
	}
	if len(sols) == 1 {
		is.Solution.Immediate = &sols[0]
	} else {
		is.Solution.ImmediateChoice = sols
	}
	return is
}

// extractor is Qdrant's Extractor: it walks a filter and records, per
// field, the index types that would serve its conditions.
type extractor struct {
	indexed map[string]string
	found   map[string][]string
}

func (e *extractor) filter(prefix point.Path, f *filter.Filter) {
	for _, c := range f.Must {
		e.condition(prefix, c)
	}
	for _, c := range f.Should {
		e.condition(prefix, c)
	}
	if f.MinShould != nil {
		for _, c := range f.MinShould.Conditions {
			e.condition(prefix, c)
		}
	}
	for _, c := range f.MustNot {
		e.condition(prefix, c)
	}
}

func (e *extractor) condition(prefix point.Path, c filter.Condition) {
	var key point.Path
	var kinds []string
	switch c := c.(type) {
	case *filter.Filter:
		e.filter(prefix, c)
		return
	case *filter.NestedCondition:
		e.filter(join(prefix, c.ArrayKey()), c.Filter)
		return
	case *filter.IsEmptyCondition:
		key, kinds = c.Key, schemaKinds
	case *filter.IsNullCondition:
		key, kinds = c.Key, schemaKinds
	case *filter.FieldCondition:
		key, kinds = c.Key, inferKinds(c)
	default: // has_id, has_vector, slice: no index serves them
		return
	}
	full := join(prefix, key).String()
	if len(kinds) == 0 || !e.needsIndex(full, kinds) {
		return
	}
	e.found[full] = append(e.found[full], kinds...)
}

// needsIndex: a field needs an index unless it has one of a kind that
// could answer the condition.
func (e *extractor) needsIndex(key string, kinds []string) bool {
	have, ok := e.indexed[key]
	return !ok || !slices.Contains(kinds, have)
}

func join(prefix, key point.Path) point.Path {
	if prefix.String() == "" {
		return key
	}
	return prefix.Extend(key)
}

// inferKinds is Qdrant's infer_schema_from_field_condition.
func inferKinds(c *filter.FieldCondition) []string {
	var kinds []string
	switch m := c.Match.(type) {
	case *filter.MatchValue:
		switch m.Value.Kind {
		case filter.KeywordKind:
			if _, err := uuid.Parse(m.Value.Keyword); err == nil {
				kinds = append(kinds, "uuid")
			}
			kinds = append(kinds, "keyword")
		case filter.IntegerKind:
			kinds = append(kinds, "integer")
		case filter.BoolKind:
			kinds = append(kinds, "bool")
		}
	case *filter.MatchAny:
		kinds = append(kinds, anyKinds(m.Any)...)
	case *filter.MatchExcept:
		kinds = append(kinds, anyKinds(m.Except)...)
	case *filter.MatchText, *filter.MatchPhrase, *filter.MatchTextAny:
		kinds = append(kinds, "text")
	case *filter.MatchPrefix:
		kinds = append(kinds, "keyword")
	}
	switch {
	case c.DatetimeRange != nil:
		kinds = append(kinds, "datetime")
	case c.Range != nil:
		kinds = append(kinds, "float", "integer")
	}
	if c.GeoBoundingBox != nil || c.GeoRadius != nil || c.GeoPolygon != nil {
		kinds = append(kinds, "geo")
	}
	if c.ValuesCount != nil || c.IsEmpty != nil || c.IsNull != nil {
		kinds = append(kinds, schemaKinds...)
	}
	return kinds
}

func anyKinds(l filter.ValueList) []string {
	if l.IsIntegers() {
		return []string{"integer"}
	}
	all := true
	for _, k := range l.Keywords() {
		if _, err := uuid.Parse(k); err != nil {
			all = false
			break
		}
	}
	if all {
		return []string{"uuid", "keyword"}
	}
	return []string{"keyword"}
}
