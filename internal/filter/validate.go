package filter

import (
	"fmt"
	"reflect"

	"github.com/shoaldb/shoal/internal/point"
)

// Validate checks a filter built by hand; Parse already did for parsed
// ones. A nil filter is valid. Every error wraps ErrValidation.
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
	if c.Kind() == KindNone {
		return validationErr(loc, "At least one field condition must be specified")
	}
	if c.Range != nil && c.DatetimeRange != nil {
		return validationErr(join(loc, "range"), "a range is numeric or datetime, not both")
	}
	if c.Match != nil {
		if v := reflect.ValueOf(c.Match); v.Kind() == reflect.Pointer && v.IsNil() {
			return validationErr(join(loc, "match"), "match is a nil pointer")
		}
	}
	if m, ok := c.Match.(*MatchValue); ok && (m.Value.Kind < KeywordKind || m.Value.Kind > BoolKind) {
		return validationErr(join(loc, "match.value"), "value has no kind; build it with Keyword, Integer or Bool")
	}
	if r := c.Range; r != nil {
		for _, b := range []*float64{r.GT, r.GTE, r.LT, r.LTE} {
			if b != nil && !isFinite(*b) {
				return validationErr(join(loc, "range"), "bounds must be finite numbers")
			}
		}
	}
	if b := c.GeoBoundingBox; b != nil {
		at := join(loc, "geo_bounding_box")
		if msg := b.TopLeft.check(); msg != "" {
			return validationErr(join(at, "top_left"), msg)
		}
		if msg := b.BottomRight.check(); msg != "" {
			return validationErr(join(at, "bottom_right"), msg)
		}
	}
	if r := c.GeoRadius; r != nil {
		if msg := r.Center.check(); msg != "" {
			return validationErr(join(loc, "geo_radius.center"), msg)
		}
		if !isFinite(r.Radius) {
			return validationErr(join(loc, "geo_radius.radius"), "radius must be a finite number")
		}
	}
	if p := c.GeoPolygon; p != nil {
		if at, msg := p.check(join(loc, "geo_polygon")); msg != "" {
			return validationErr(at, msg)
		}
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

func (c *HasVectorCondition) validate(string) error { return nil }

func (c *NestedCondition) validate(loc string) error {
	loc = join(loc, "nested")
	if err := validateKey(loc, c.Key); err != nil {
		return err
	}
	if c.Filter == nil {
		return validationErr(join(loc, "filter"), "filter is missing")
	}
	return c.Filter.validate(join(loc, "filter"))
}

func (c *SliceCondition) validate(loc string) error {
	if c.Total == 0 {
		return validationErr(join(loc, "slice.total"), "total must be at least 1")
	}
	if c.Index >= c.Total {
		return validationErr(join(loc, "slice.index"), fmt.Sprintf("index %d out of range, must be less than total %d", c.Index, c.Total))
	}
	return nil
}
