package filter

import (
	"fmt"
	"math"
)

// Parsers of the conditions beyond Qdrant's original set: values_count,
// has_vector, nested, slice and the geo conditions. Geo points are checked
// as Qdrant's GeoPoint deserialiser does, and polygons as its GeoPolygon
// deserialiser does, so both fail as format errors (400) with its texts.

func parseValuesCount(loc string, v any) (*ValuesCount, error) {
	obj, ok := asObject(v)
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(v)+", expected an object like {\"gt\": 1}")
	}
	if err := checkFields(loc, obj, []string{"lt", "gt", "gte", "lte"}); err != nil {
		return nil, err
	}
	c := &ValuesCount{}
	names := [...]string{"lt", "gt", "gte", "lte"}
	for i, dst := range [...]**uint64{&c.LT, &c.GT, &c.GTE, &c.LTE} {
		x := obj[names[i]]
		if x == nil {
			continue
		}
		n, ok := asUint(x)
		if !ok {
			return nil, formatErr(join(loc, names[i]), "invalid value "+describe(x)+", expected an unsigned integer")
		}
		*dst = &n
	}
	return c, nil
}

func parseHasVector(loc string, obj map[string]any) (Condition, error) {
	if err := checkFields(loc, obj, []string{"has_vector"}); err != nil {
		return nil, err
	}
	s, ok := obj["has_vector"].(string)
	if !ok {
		return nil, formatErr(join(loc, "has_vector"), "invalid type: "+describe(obj["has_vector"])+", expected a vector name")
	}
	return &HasVectorCondition{Name: s}, nil
}

func parseNested(loc string, obj map[string]any) (Condition, error) {
	if err := checkFields(loc, obj, []string{"nested"}); err != nil {
		return nil, err
	}
	loc = join(loc, "nested")
	inner, ok := asObject(obj["nested"])
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(obj["nested"])+`, expected an object like {"key": "field", "filter": {...}}`)
	}
	if err := checkFields(loc, inner, []string{"key", "filter"}); err != nil {
		return nil, err
	}
	key, err := parseKey(loc, inner)
	if err != nil {
		return nil, err
	}
	raw, present := inner["filter"]
	if !present {
		return nil, formatErr(join(loc, "filter"), "missing field `filter`")
	}
	f, err := parseFilter(join(loc, "filter"), raw)
	if err != nil {
		return nil, err
	}
	return &NestedCondition{Key: key, Filter: f}, nil
}

func parseSlice(loc string, obj map[string]any) (Condition, error) {
	if err := checkFields(loc, obj, []string{"slice"}); err != nil {
		return nil, err
	}
	loc = join(loc, "slice")
	inner, ok := asObject(obj["slice"])
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(obj["slice"])+`, expected an object like {"total": 4, "index": 0}`)
	}
	if err := checkFields(loc, inner, []string{"total", "index"}); err != nil {
		return nil, err
	}
	total, ok := asUint(inner["total"])
	if !ok || total > math.MaxUint32 {
		return nil, missingOr(join(loc, "total"), inner, "total", "an unsigned 32-bit integer")
	}
	if total == 0 {
		return nil, formatErr(join(loc, "total"), "invalid value 0, expected a nonzero u32")
	}
	index, ok := asUint(inner["index"])
	if !ok || index > math.MaxUint32 {
		return nil, missingOr(join(loc, "index"), inner, "index", "an unsigned 32-bit integer")
	}
	return &SliceCondition{Total: uint32(total), Index: uint32(index)}, nil
}

func parseGeoPoint(loc string, v any) (GeoPoint, error) {
	obj, ok := asObject(v)
	if !ok {
		return GeoPoint{}, formatErr(loc, "invalid type: "+describe(v)+`, expected a geo point like {"lon": 13.4, "lat": 52.5}`)
	}
	if err := checkFields(loc, obj, []string{"lon", "lat"}); err != nil {
		return GeoPoint{}, err
	}
	var p GeoPoint
	for _, c := range [...]struct {
		name string
		dst  *float64
	}{{"lon", &p.Lon}, {"lat", &p.Lat}} {
		f, ok := AsFloat(obj[c.name])
		if !ok || !isFinite(f) {
			return GeoPoint{}, missingOr(join(loc, c.name), obj, c.name, "a finite number")
		}
		*c.dst = f
	}
	if msg := p.check(); msg != "" {
		return GeoPoint{}, formatErr(loc, msg)
	}
	return p, nil
}

func parseGeoBoundingBox(loc string, v any) (*GeoBoundingBox, error) {
	obj, ok := asObject(v)
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(v)+`, expected an object with "top_left" and "bottom_right"`)
	}
	if err := checkFields(loc, obj, []string{"top_left", "bottom_right"}); err != nil {
		return nil, err
	}
	b := &GeoBoundingBox{}
	var err error
	if b.TopLeft, err = parseRequiredPoint(loc, obj, "top_left"); err != nil {
		return nil, err
	}
	if b.BottomRight, err = parseRequiredPoint(loc, obj, "bottom_right"); err != nil {
		return nil, err
	}
	return b, nil
}

func parseRequiredPoint(loc string, obj map[string]any, field string) (GeoPoint, error) {
	v, present := obj[field]
	if !present {
		return GeoPoint{}, formatErr(join(loc, field), "missing field `"+field+"`")
	}
	return parseGeoPoint(join(loc, field), v)
}

func parseGeoRadius(loc string, v any) (*GeoRadius, error) {
	obj, ok := asObject(v)
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(v)+`, expected an object with "center" and "radius"`)
	}
	if err := checkFields(loc, obj, []string{"center", "radius"}); err != nil {
		return nil, err
	}
	center, err := parseRequiredPoint(loc, obj, "center")
	if err != nil {
		return nil, err
	}
	radius, ok := AsFloat(obj["radius"])
	if !ok || !isFinite(radius) {
		return nil, missingOr(join(loc, "radius"), obj, "radius", "a finite number of meters")
	}
	return &GeoRadius{Center: center, Radius: radius}, nil
}

func parseGeoPolygon(loc string, v any) (*GeoPolygon, error) {
	obj, ok := asObject(v)
	if !ok {
		return nil, formatErr(loc, "invalid type: "+describe(v)+`, expected an object with "exterior" and optional "interiors"`)
	}
	if err := checkFields(loc, obj, []string{"exterior", "interiors"}); err != nil {
		return nil, err
	}
	ext, present := obj["exterior"]
	if !present {
		return nil, formatErr(join(loc, "exterior"), "missing field `exterior`")
	}
	g := &GeoPolygon{}
	var err error
	if g.Exterior, err = parseLineString(join(loc, "exterior"), ext); err != nil {
		return nil, err
	}
	if raw := obj["interiors"]; raw != nil {
		items, ok := raw.([]any)
		if !ok {
			return nil, formatErr(join(loc, "interiors"), "invalid type: "+describe(raw)+", expected an array of line strings")
		}
		g.Interiors = make([]GeoLineString, len(items))
		for i, item := range items {
			if g.Interiors[i], err = parseLineString(fmt.Sprintf("%s.interiors[%d]", loc, i), item); err != nil {
				return nil, err
			}
		}
	}
	if at, msg := g.check(loc); msg != "" {
		return nil, formatErr(at, msg)
	}
	return g, nil
}

func parseLineString(loc string, v any) (GeoLineString, error) {
	obj, ok := asObject(v)
	if !ok {
		return GeoLineString{}, formatErr(loc, "invalid type: "+describe(v)+`, expected an object like {"points": [...]}`)
	}
	if err := checkFields(loc, obj, []string{"points"}); err != nil {
		return GeoLineString{}, err
	}
	items, ok := obj["points"].([]any)
	if !ok {
		return GeoLineString{}, missingOr(join(loc, "points"), obj, "points", "an array of geo points")
	}
	pts := make([]GeoPoint, len(items))
	for i, item := range items {
		p, err := parseGeoPoint(fmt.Sprintf("%s.points[%d]", loc, i), item)
		if err != nil {
			return GeoLineString{}, err
		}
		pts[i] = p
	}
	return GeoLineString{Points: pts}, nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
