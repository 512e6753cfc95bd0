package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/point"
)

// Parse reads a filter in Qdrant's JSON form. JSON null gives a nil filter,
// which matches every point. Errors wrap ErrFormat, ErrValidation or
// ErrUnsupported and name the offending part.
//
// Parse follows Qdrant's deserialisation: each clause takes one condition
// or an array, null counts as absent, a condition object with "key" is a
// field condition, other shapes are told apart by their one field. Errors
// Qdrant raises while deserialising (bad types, geo points out of range,
// polygons that are too short or not closed, unparseable datetimes, a
// slice total of 0) are ErrFormat, its 400; rules it checks afterwards
// (a field condition without a condition, min_count 0, a slice index out of
// range) are ErrValidation, its 422. Unlike Qdrant, unknown fields are
// rejected everywhere, not only in the Filter object itself: Shoal would
// rather refuse a field it does not know than silently ignore a condition.
// Like serde_json's recursion limit, nesting deeper than 128 arrays and
// objects is refused.
func Parse(raw []byte) (*Filter, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, formatErr("", "empty filter")
		}
		return nil, formatErr("", err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, formatErr("", "trailing data after the filter")
	}
	return ParseValue(v)
}

// ParseValue is Parse for a filter already decoded to generic JSON values
// (as point.DecodeJSON produces; Go numbers are accepted too).
func ParseValue(v any) (*Filter, error) {
	if v == nil {
		return nil, nil
	}
	if tooDeep(v, 1) {
		return nil, formatErr("", fmt.Sprintf("recursion limit exceeded: more than %d nested arrays and objects", maxDepth))
	}
	f, err := parseFilter("", v)
	if err != nil {
		return nil, err
	}
	if err := f.validate(""); err != nil {
		return nil, err
	}
	return f, nil
}

// UnmarshalJSON parses a filter, so a *Filter can sit in a request struct
// (a JSON null leaves the pointer nil without calling this).
func (f *Filter) UnmarshalJSON(b []byte) error {
	g, err := Parse(b)
	if err != nil {
		return err
	}
	if g == nil {
		g = &Filter{}
	}
	*f = *g
	return nil
}

// maxDepth bounds the nesting of arrays and objects in a filter, as
// serde_json's recursion limit does in Qdrant. It keeps parsing, matching and
// marshalling cheap on hostile input.
const maxDepth = 128

func tooDeep(v any, depth int) bool {
	if depth > maxDepth {
		return true
	}
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if tooDeep(e, depth+1) {
				return true
			}
		}
		return false
	}
	if m, ok := asObject(v); ok {
		for _, e := range m {
			if tooDeep(e, depth+1) {
				return true
			}
		}
	}
	return false
}

var filterFields = []string{"should", "min_should", "must", "must_not"}

func parseFilter(loc string, v any) (*Filter, error) {
	obj, ok := asObject(v)
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(v)+", expected a filter object")
	}
	if err := checkFields(loc, obj, filterFields); err != nil {
		return nil, err
	}
	f := &Filter{}
	var err error
	if f.Must, err = parseClause(join(loc, "must"), obj["must"]); err != nil {
		return nil, err
	}
	if f.Should, err = parseClause(join(loc, "should"), obj["should"]); err != nil {
		return nil, err
	}
	if f.MustNot, err = parseClause(join(loc, "must_not"), obj["must_not"]); err != nil {
		return nil, err
	}
	if ms := obj["min_should"]; ms != nil {
		if f.MinShould, err = parseMinShould(join(loc, "min_should"), ms); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// parseClause reads one condition or an array of them. Absent and null give
// nil; an empty array gives a non-nil empty slice.
func parseClause(loc string, v any) ([]Condition, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return parseConditions(loc, t)
	default:
		c, err := parseCondition(loc, v)
		if err != nil {
			return nil, err
		}
		return []Condition{c}, nil
	}
}

func parseConditions(loc string, items []any) ([]Condition, error) {
	out := make([]Condition, 0, len(items))
	for i, item := range items {
		c, err := parseCondition(fmt.Sprintf("%s[%d]", loc, i), item)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func parseMinShould(loc string, v any) (*MinShould, error) {
	obj, ok := asObject(v)
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(v)+`, expected an object with "conditions" and "min_count"`)
	}
	if err := checkFields(loc, obj, []string{"conditions", "min_count"}); err != nil {
		return nil, err
	}
	items, ok := obj["conditions"].([]any)
	if !ok {
		return nil, missingOr(join(loc, "conditions"), obj, "conditions", "an array of conditions")
	}
	conds, err := parseConditions(join(loc, "conditions"), items)
	if err != nil {
		return nil, err
	}
	n, ok := asUint(obj["min_count"])
	if !ok || n > math.MaxInt {
		return nil, missingOr(join(loc, "min_count"), obj, "min_count", "an unsigned integer")
	}
	return &MinShould{Conditions: conds, MinCount: int(n)}, nil
}

const conditionShapes = `expected some form of condition, which can be a field condition (like {"key": ..., "match": ...}), ` +
	`is_empty, is_null, has_id, has_vector, slice, nested or a filter`

// variants are the condition shapes told apart by a field, in the order of
// Qdrant's untagged Condition enum (a Filter is tried last).
var variants = [...]string{"is_empty", "is_null", "has_id", "has_vector", "slice", "nested"}

func parseVariant(field, loc string, obj map[string]any) (Condition, error) {
	switch field {
	case "is_empty":
		return parseIsEmpty(loc, obj)
	case "is_null":
		return parseIsNull(loc, obj)
	case "has_id":
		return parseHasID(loc, obj)
	case "has_vector":
		return parseHasVector(loc, obj)
	case "slice":
		return parseSlice(loc, obj)
	default:
		return parseNested(loc, obj)
	}
}

func parseCondition(loc string, v any) (Condition, error) {
	obj, ok := asObject(v)
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(v)+", "+conditionShapes)
	}
	if _, ok := obj["key"]; ok {
		return parseFieldCondition(loc, obj)
	}
	var firstErr error
	for _, field := range variants {
		if _, ok := obj[field]; !ok {
			continue
		}
		c, err := parseVariant(field, loc, obj)
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	f, err := parseFilter(loc, obj)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) && fe.Loc == loc {
			return nil, formatErr(loc, fe.Msg+"; "+conditionShapes)
		}
		return nil, err
	}
	return f, nil
}

func parseIsEmpty(loc string, obj map[string]any) (Condition, error) {
	k, err := parsePayloadField(loc, obj, "is_empty")
	if err != nil {
		return nil, err
	}
	return &IsEmptyCondition{Key: k}, nil
}

func parseIsNull(loc string, obj map[string]any) (Condition, error) {
	k, err := parsePayloadField(loc, obj, "is_null")
	if err != nil {
		return nil, err
	}
	return &IsNullCondition{Key: k}, nil
}

// parsePayloadField reads {"<field>": {"key": "<path>"}}.
func parsePayloadField(loc string, obj map[string]any, field string) (point.Path, error) {
	if err := checkFields(loc, obj, []string{field}); err != nil {
		return point.Path{}, err
	}
	loc = join(loc, field)
	inner, ok := asObject(obj[field])
	if !ok {
		return point.Path{}, formatErr(loc, "invalid type: "+describe(obj[field])+`, expected an object like {"key": "field"}`)
	}
	if err := checkFields(loc, inner, []string{"key"}); err != nil {
		return point.Path{}, err
	}
	return parseKey(loc, inner)
}

func parseKey(loc string, obj map[string]any) (point.Path, error) {
	loc = join(loc, "key")
	raw, present := obj["key"]
	if !present {
		return point.Path{}, formatErr(loc, "missing field `key`")
	}
	s, ok := raw.(string)
	if !ok {
		return point.Path{}, formatErr(loc, "invalid type: "+describe(raw)+", expected a string")
	}
	p, err := point.ParsePath(s)
	if err != nil {
		return point.Path{}, formatErr(loc, err.Error())
	}
	return p, nil
}

func parseHasID(loc string, obj map[string]any) (Condition, error) {
	if err := checkFields(loc, obj, []string{"has_id"}); err != nil {
		return nil, err
	}
	loc = join(loc, "has_id")
	items, ok := obj["has_id"].([]any)
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(obj["has_id"])+", expected an array of point ids")
	}
	ids := make([]point.ID, 0, len(items))
	for i, item := range items {
		id, err := parseID(item)
		if err != nil {
			return nil, formatErr(fmt.Sprintf("%s[%d]", loc, i), err.Error())
		}
		ids = append(ids, id)
	}
	return NewHasID(ids...), nil
}

func parseID(v any) (point.ID, error) {
	if s, ok := v.(string); ok {
		if id, err := point.ParseUUID(s); err == nil {
			return id, nil
		}
	} else if n, ok := asUint(v); ok {
		return point.NumID(n), nil
	}
	return point.ID{}, fmt.Errorf("value %s is not a valid point ID, valid values are either an unsigned integer or a UUID", describe(v))
}

var fieldConditionFields = []string{
	"key", "match", "range", "geo_bounding_box", "geo_radius", "geo_polygon", "values_count", "is_empty", "is_null",
}

func parseFieldCondition(loc string, obj map[string]any) (Condition, error) {
	if err := checkFields(loc, obj, fieldConditionFields); err != nil {
		return nil, err
	}
	key, err := parseKey(loc, obj)
	if err != nil {
		return nil, err
	}
	c := &FieldCondition{Key: key}
	if m := obj["match"]; m != nil {
		if c.Match, err = parseMatch(join(loc, "match"), m); err != nil {
			return nil, err
		}
	}
	if r := obj["range"]; r != nil {
		if c.Range, c.DatetimeRange, err = parseRange(join(loc, "range"), r); err != nil {
			return nil, err
		}
	}
	if v := obj["geo_bounding_box"]; v != nil {
		if c.GeoBoundingBox, err = parseGeoBoundingBox(join(loc, "geo_bounding_box"), v); err != nil {
			return nil, err
		}
	}
	if v := obj["geo_radius"]; v != nil {
		if c.GeoRadius, err = parseGeoRadius(join(loc, "geo_radius"), v); err != nil {
			return nil, err
		}
	}
	if v := obj["geo_polygon"]; v != nil {
		if c.GeoPolygon, err = parseGeoPolygon(join(loc, "geo_polygon"), v); err != nil {
			return nil, err
		}
	}
	if v := obj["values_count"]; v != nil {
		if c.ValuesCount, err = parseValuesCount(join(loc, "values_count"), v); err != nil {
			return nil, err
		}
	}
	if c.IsEmpty, err = parseOptBool(join(loc, "is_empty"), obj["is_empty"]); err != nil {
		return nil, err
	}
	if c.IsNull, err = parseOptBool(join(loc, "is_null"), obj["is_null"]); err != nil {
		return nil, err
	}
	return c, nil
}

func parseOptBool(loc string, v any) (*bool, error) {
	switch b := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return &b, nil
	}
	return nil, formatErr(loc, "invalid type: "+describe(v)+", expected a boolean")
}

var matchFields = []string{"value", "text", "text_any", "phrase", "prefix", "any", "except"}

func parseMatch(loc string, v any) (Match, error) {
	obj, ok := asObject(v)
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(v)+", expected an object like {\"value\": ...}")
	}
	if err := checkFields(loc, obj, matchFields); err != nil {
		return nil, err
	}
	field, n := "", 0
	for f, x := range obj {
		if x != nil {
			field, n = f, n+1
		}
	}
	if n != 1 {
		return nil, formatErr(loc, "expected exactly one of "+quoteList(matchFields))
	}
	x, at := obj[field], join(loc, field)
	switch field {
	case "value":
		val, err := parseMatchValue(at, x)
		if err != nil {
			return nil, err
		}
		return &MatchValue{Value: val}, nil
	case "any", "except":
		l, err := parseValueList(at, x)
		if err != nil {
			return nil, err
		}
		if field == "any" {
			return &MatchAny{Any: l}, nil
		}
		return &MatchExcept{Except: l}, nil
	}
	s, ok := x.(string)
	if !ok {
		return nil, formatErr(at, "invalid type: "+describe(x)+", expected a string")
	}
	switch field {
	case "prefix":
		return &MatchPrefix{Prefix: s}, nil
	case "text":
		return &MatchText{Text: s}, nil
	case "phrase":
		return &MatchPhrase{Phrase: s}, nil
	default: // text_any
		return &MatchTextAny{TextAny: s}, nil
	}
}

func parseMatchValue(loc string, v any) (Value, error) {
	switch x := v.(type) {
	case string:
		return Keyword(x), nil
	case bool:
		return Bool(x), nil
	}
	if i, ok := AsInteger(v); ok {
		return Integer(i), nil
	}
	return Value{}, formatErr(loc, "invalid value "+describe(v)+", expected a string, an integer or a boolean")
}

func parseValueList(loc string, v any) (ValueList, error) {
	items, ok := v.([]any)
	if !ok {
		return ValueList{}, formatErr(loc, "invalid type: "+describe(v)+", expected an array of strings or of integers")
	}
	if len(items) == 0 {
		return KeywordList(), nil
	}
	if _, ok := items[0].(string); ok {
		ks := make([]string, len(items))
		for i, item := range items {
			if ks[i], ok = item.(string); !ok {
				return ValueList{}, formatErr(fmt.Sprintf("%s[%d]", loc, i), "invalid value "+describe(item)+", expected a string like the first element")
			}
		}
		return KeywordList(ks...), nil
	}
	is := make([]int64, len(items))
	for i, item := range items {
		if is[i], ok = AsInteger(item); !ok {
			return ValueList{}, formatErr(fmt.Sprintf("%s[%d]", loc, i), "invalid value "+describe(item)+", expected an array of strings or of integers")
		}
	}
	return IntegerList(is...), nil
}

// parseRange reads Qdrant's RangeInterface: a numeric range when every
// bound is a number or null (an empty range included), a datetime range
// when every bound is a date/time string or null.
func parseRange(loc string, v any) (*Range, *DatetimeRange, error) {
	obj, ok := asObject(v)
	if !ok {
		return nil, nil, formatErr(loc, "invalid type: "+describe(v)+", expected an object like {\"gte\": 1}")
	}
	if err := checkFields(loc, obj, []string{"lt", "gt", "gte", "lte"}); err != nil {
		return nil, nil, err
	}
	names := [...]string{"gt", "gte", "lt", "lte"}
	datetime := false
	for _, name := range names {
		if _, ok := obj[name].(string); ok {
			datetime = true
		}
	}
	if datetime {
		r := &DatetimeRange{}
		for i, dst := range [...]**time.Time{&r.GT, &r.GTE, &r.LT, &r.LTE} {
			x := obj[names[i]]
			if x == nil {
				continue
			}
			s, ok := x.(string)
			if !ok {
				return nil, nil, formatErr(join(loc, names[i]), "invalid value "+describe(x)+", expected a date/time string like the other bounds")
			}
			t, ok := parseDateTime(s)
			if !ok {
				return nil, nil, formatErr(join(loc, names[i]), "'"+truncate(s)+"' is not in a supported date/time format, please use RFC 3339")
			}
			*dst = &t
		}
		return nil, r, nil
	}
	r := &Range{}
	for i, dst := range [...]**float64{&r.GT, &r.GTE, &r.LT, &r.LTE} {
		x := obj[names[i]]
		if x == nil {
			continue
		}
		f, ok := AsFloat(x)
		if !ok || !isFinite(f) {
			return nil, nil, formatErr(join(loc, names[i]), "invalid value "+describe(x)+", expected a finite number")
		}
		*dst = &f
	}
	return r, nil, nil
}

// asObject accepts a decoded JSON object, or a point.Payload from Go.
func asObject(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, m != nil
	case point.Payload:
		return m, m != nil
	}
	return nil, false
}

// asUint returns v as a uint64 when it is an unsigned integer.
func asUint(v any) (uint64, bool) {
	if n, ok := v.(json.Number); ok {
		u, err := strconv.ParseUint(string(n), 10, 64)
		return u, err == nil
	}
	if i, ok := AsInteger(v); ok && i >= 0 {
		return uint64(i), true
	}
	if u, ok := v.(uint64); ok {
		return u, true
	}
	return 0, false
}

// checkFields rejects a field not in allowed, naming it and the choices.
func checkFields(loc string, obj map[string]any, allowed []string) error {
	var unknown []string
	for k := range obj {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return formatErr(loc, fmt.Sprintf("unknown field `%s`, expected one of %s", unknown[0], quoteList(allowed)))
}

// missingOr reports a required field as missing or of the wrong type.
func missingOr(loc string, obj map[string]any, field, want string) error {
	v, present := obj[field]
	if !present {
		return formatErr(loc, "missing field `"+field+"`")
	}
	return formatErr(loc, "invalid value "+describe(v)+", expected "+want)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

// describe names a JSON value in an error, briefly.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return strconv.Quote(x)
	case []any:
		return "an array"
	case map[string]any, point.Payload:
		return "an object"
	}
	if isNumber(v) {
		s := fmt.Sprint(v)
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return s
	}
	return fmt.Sprintf("%T", v)
}
