package filter

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// Geo conditions follow Qdrant's segment types (GeoBoundingBox, GeoRadius,
// GeoPolygon in lib/segment/src/types.rs) and its condition checker: a
// payload value is a geo point when it is an object with numeric "lon" and
// "lat" members (other members are ignored, the coordinates are not range
// checked); an array is matched element by element; anything else never
// matches.

// earthRadius is the mean Earth radius in meters (GRS80 R1) used by the
// haversine distance of the geo crate, which Qdrant's GeoRadius uses.
const earthRadius = 6371008.8

// GeoPoint is a point on Earth in degrees.
type GeoPoint struct {
	Lon, Lat float64
}

// ParseGeoPoint reads a payload value as a geo point: an object with
// numeric "lon" and "lat" members, as Qdrant's condition checker does. It
// does not range-check the coordinates and does not allocate.
func ParseGeoPoint(v any) (GeoPoint, bool) {
	m, ok := asObject(v)
	if !ok {
		return GeoPoint{}, false
	}
	lon, ok := AsFloat(m["lon"])
	if !ok {
		return GeoPoint{}, false
	}
	lat, ok := AsFloat(m["lat"])
	if !ok {
		return GeoPoint{}, false
	}
	return GeoPoint{Lon: lon, Lat: lat}, true
}

// check returns Qdrant's message for a point outside [-90, 90] x [-180,
// 180], or "".
func (p GeoPoint) check() string {
	if p.Lon >= -180 && p.Lon <= 180 && p.Lat >= -90 && p.Lat <= 90 {
		return ""
	}
	return fmt.Sprintf("Wrong format of GeoPoint payload: expected `lat` = %s within [-90;90] and `lon` = %s within [-180;180]",
		formatFloat(p.Lat), formatFloat(p.Lon))
}

// formatFloat writes f as Rust's f64 Display does for finite numbers: no
// exponent, no trailing ".0".
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// MarshalJSON writes {"lat": y, "lon": x}.
func (p GeoPoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]float64{"lon": p.Lon, "lat": p.Lat})
}

// GeoBoundingBox is `geo_bounding_box: {top_left, bottom_right}`. The box
// is open: a point on an edge does not match. When TopLeft.Lon is greater
// than BottomRight.Lon the box crosses the antimeridian.
type GeoBoundingBox struct {
	TopLeft, BottomRight GeoPoint
}

// Contains reports whether p lies strictly inside the box.
func (b *GeoBoundingBox) Contains(p GeoPoint) bool {
	var lonOK bool
	if b.TopLeft.Lon > b.BottomRight.Lon {
		lonOK = p.Lon > b.TopLeft.Lon || p.Lon < b.BottomRight.Lon
	} else {
		lonOK = b.TopLeft.Lon < p.Lon && p.Lon < b.BottomRight.Lon
	}
	return lonOK && b.BottomRight.Lat < p.Lat && p.Lat < b.TopLeft.Lat
}

// MarshalJSON writes {"bottom_right": ..., "top_left": ...}.
func (b *GeoBoundingBox) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]GeoPoint{"top_left": b.TopLeft, "bottom_right": b.BottomRight})
}

// GeoRadius is `geo_radius: {center, radius}`: points whose haversine
// distance from Center is less than Radius meters (strictly). Qdrant does
// not reject a negative radius; it matches nothing.
type GeoRadius struct {
	Center GeoPoint
	Radius float64
}

// Contains reports whether p is closer than Radius to Center.
func (r *GeoRadius) Contains(p GeoPoint) bool {
	return Haversine(r.Center, p) < r.Radius
}

// Haversine returns the great-circle distance between a and b in meters,
// on a sphere of the Earth's mean radius.
func Haversine(a, b GeoPoint) float64 {
	const rad = math.Pi / 180
	lat1, lat2 := a.Lat*rad, b.Lat*rad
	dLat, dLon := (b.Lat-a.Lat)*rad, (b.Lon-a.Lon)*rad
	s1, s2 := math.Sin(dLat/2), math.Sin(dLon/2)
	h := s1*s1 + math.Cos(lat1)*math.Cos(lat2)*s2*s2
	return earthRadius * 2 * math.Asin(math.Sqrt(h))
}

// MarshalJSON writes {"center": ..., "radius": r}.
func (r *GeoRadius) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"center": r.Center, "radius": r.Radius})
}

// GeoLineString is a ring of a polygon: at least 4 points, the first equal
// to the last.
type GeoLineString struct {
	Points []GeoPoint
}

// MarshalJSON writes {"points": [...]}.
func (l GeoLineString) MarshalJSON() ([]byte, error) {
	pts := l.Points
	if pts == nil {
		pts = []GeoPoint{}
	}
	return json.Marshal(map[string][]GeoPoint{"points": pts})
}

// GeoPolygon is `geo_polygon: {exterior, interiors}`: points in the
// interior of the exterior ring and in none of the interior rings (holes).
// As in the geo crate's Polygon::contains, which Qdrant uses, the boundary
// belongs to neither side: a point on the exterior ring or on a hole's ring
// does not match. Rings follow the winding-number rule.
type GeoPolygon struct {
	Exterior  GeoLineString
	Interiors []GeoLineString
}

// Contains reports whether p lies inside the polygon.
func (g *GeoPolygon) Contains(p GeoPoint) bool {
	if ringPosition(g.Exterior.Points, p) != posInside {
		return false
	}
	for _, hole := range g.Interiors {
		if ringPosition(hole.Points, p) != posOutside {
			return false
		}
	}
	return true
}

// MarshalJSON writes {"exterior": ..., "interiors": [...]}, leaving out
// an empty interiors list.
func (g *GeoPolygon) MarshalJSON() ([]byte, error) {
	m := map[string]any{"exterior": g.Exterior}
	if len(g.Interiors) > 0 {
		m["interiors"] = g.Interiors
	}
	return json.Marshal(m)
}

// check applies Qdrant's GeoPolygon rules (validate_line_string): each ring
// has at least 4 points and is closed, first and last point equal within
// f64::EPSILON; coordinates are in range. It returns where and what is
// wrong, or "" for the message.
func (g *GeoPolygon) check(loc string) (string, string) {
	if at, msg := checkRing(join(loc, "exterior"), g.Exterior); msg != "" {
		return at, msg
	}
	for i, r := range g.Interiors {
		if at, msg := checkRing(fmt.Sprintf("%s.interiors[%d]", loc, i), r); msg != "" {
			return at, msg
		}
	}
	return "", ""
}

func checkRing(loc string, r GeoLineString) (string, string) {
	for i, p := range r.Points {
		if msg := p.check(); msg != "" {
			return fmt.Sprintf("%s.points[%d]", loc, i), msg
		}
	}
	n := len(r.Points)
	if n <= 3 {
		return loc, fmt.Sprintf("polygon invalid, the size must be at least 4, got %d", n)
	}
	first, last := r.Points[0], r.Points[n-1]
	if math.Abs(first.Lat-last.Lat) > epsilon || math.Abs(first.Lon-last.Lon) > epsilon {
		return loc, "polygon invalid, the first and the last points should be the same to form a closed line"
	}
	return "", ""
}

// epsilon is Rust's f64::EPSILON.
const epsilon = 0x1p-52

// Positions of a point relative to a ring.
const (
	posOutside = iota
	posBoundary
	posInside
)

// ringPosition locates p relative to a ring by its winding number. A ring
// whose last point is not exactly its first is closed implicitly, as the
// geo crate does.
func ringPosition(ring []GeoPoint, p GeoPoint) int {
	n := len(ring)
	if n == 0 {
		return posOutside
	}
	winding := 0
	for i := range n {
		a, b := ring[i], ring[0]
		if i+1 < n {
			b = ring[i+1]
		} else if a == b {
			break
		}
		o := orient(a, b, p)
		if o == 0 && between(a.Lon, b.Lon, p.Lon) && between(a.Lat, b.Lat, p.Lat) {
			return posBoundary
		}
		if a.Lat <= p.Lat {
			if b.Lat > p.Lat && o > 0 {
				winding++
			}
		} else if b.Lat <= p.Lat && o < 0 {
			winding--
		}
	}
	if winding != 0 {
		return posInside
	}
	return posOutside
}

func between(a, b, x float64) bool {
	return math.Min(a, b) <= x && x <= math.Max(a, b)
}

// orient returns the sign of the turn a -> b -> c: positive when c is to
// the left of a -> b, 0 when the three are collinear. The floating-point
// determinant is trusted when it is clear of its error bound (Shewchuk's
// orient2d filter); near zero it is recomputed exactly, which allocates,
// but only for points on or within rounding distance of a line.
func orient(a, b, c GeoPoint) int {
	detLeft := (a.Lon - c.Lon) * (b.Lat - c.Lat)
	detRight := (a.Lat - c.Lat) * (b.Lon - c.Lon)
	det := detLeft - detRight
	var detSum float64
	switch {
	case detLeft > 0:
		if detRight <= 0 {
			return sign(det)
		}
		detSum = detLeft + detRight
	case detLeft < 0:
		if detRight >= 0 {
			return sign(det)
		}
		detSum = -detLeft - detRight
	default:
		return sign(det)
	}
	const errBound = (3 + 16*0x1p-53) * 0x1p-53
	if math.Abs(det) > errBound*detSum {
		return sign(det)
	}
	return orientExact(a, b, c)
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func orientExact(a, b, c GeoPoint) int {
	r := func(f float64) *big.Rat { return new(big.Rat).SetFloat64(f) }
	sub := func(x, y float64) *big.Rat { return new(big.Rat).Sub(r(x), r(y)) }
	left := new(big.Rat).Mul(sub(a.Lon, c.Lon), sub(b.Lat, c.Lat))
	right := new(big.Rat).Mul(sub(a.Lat, c.Lat), sub(b.Lon, c.Lon))
	return left.Cmp(right)
}

func isFinite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }
