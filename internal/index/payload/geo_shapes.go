package payload

import "math"

// GeoPoint is a geo payload value or query point, in degrees.
type GeoPoint struct {
	Lon, Lat float64
}

// EarthRadiusMeters is the mean Earth radius Qdrant's haversine distance
// uses (the geo crate's MEAN_EARTH_RADIUS).
const EarthRadiusMeters = 6371008.8

// asGeoPoint returns v as a point when it is an object with numeric "lon"
// and "lat" within [-180, 180] and [-90, 90]; other keys are ignored, as
// serde does for Qdrant's GeoPoint.
func asGeoPoint(v any) (GeoPoint, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return GeoPoint{}, false
	}
	lon, ok1 := asFloat(m["lon"])
	lat, ok2 := asFloat(m["lat"])
	p := GeoPoint{Lon: lon, Lat: lat}
	return p, ok1 && ok2 && validGeo(p)
}

// validGeo reports whether p is within Qdrant's GeoPoint bounds.
func validGeo(p GeoPoint) bool {
	return p.Lon >= -180 && p.Lon <= 180 && p.Lat >= -90 && p.Lat <= 90
}

// InBoundingBox is Qdrant's GeoBoundingBox::check_point: strictly inside;
// when topLeft.Lon > bottomRight.Lon the box crosses the antimeridian.
func InBoundingBox(topLeft, bottomRight, p GeoPoint) bool {
	var lonOK bool
	if topLeft.Lon > bottomRight.Lon {
		lonOK = p.Lon > topLeft.Lon || p.Lon < bottomRight.Lon
	} else {
		lonOK = topLeft.Lon < p.Lon && p.Lon < bottomRight.Lon
	}
	return lonOK && bottomRight.Lat < p.Lat && p.Lat < topLeft.Lat
}

// HaversineMeters is the great-circle distance between a and b on a sphere
// of radius EarthRadiusMeters, computed as the geo crate does.
func HaversineMeters(a, b GeoPoint) float64 {
	const toRad = math.Pi / 180 // Rust's to_radians multiplies by this
	theta1 := a.Lat * toRad
	theta2 := b.Lat * toRad
	dTheta := (b.Lat - a.Lat) * toRad
	dLambda := (b.Lon - a.Lon) * toRad
	s1, s2 := math.Sin(dTheta/2), math.Sin(dLambda/2)
	h := s1*s1 + math.Cos(theta1)*math.Cos(theta2)*s2*s2
	return 2 * math.Asin(math.Sqrt(h)) * EarthRadiusMeters
}

// InRadius is Qdrant's GeoRadius::check_point: closer than meters.
func InRadius(center GeoPoint, meters float64, p GeoPoint) bool {
	return HaversineMeters(center, p) < meters
}

// InPolygon is Qdrant's polygon check (the geo crate's Contains on a
// planar polygon in lon/lat): p must be in the interior of exterior and
// neither inside nor on the boundary of any interior ring. Rings are
// treated as closed whether or not the last point repeats the first.
func InPolygon(exterior []GeoPoint, interiors [][]GeoPoint, p GeoPoint) bool {
	if ringPosition(exterior, p) != inside {
		return false
	}
	for _, hole := range interiors {
		if ringPosition(hole, p) != outside {
			return false
		}
	}
	return true
}

const (
	outside = iota
	inside
	onBoundary
)

// ringPosition locates p relative to a closed ring by the crossing rule,
// with points on an edge reported as onBoundary.
func ringPosition(ring []GeoPoint, p GeoPoint) int {
	n := len(ring)
	if n < 3 {
		if n > 0 && onSegment(ring[0], ring[n-1], p) {
			return onBoundary
		}
		return outside
	}
	in := false
	for i := range n {
		a, b := ring[i], ring[(i+1)%n]
		if onSegment(a, b, p) {
			return onBoundary
		}
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) {
			x := a.Lon + (p.Lat-a.Lat)*(b.Lon-a.Lon)/(b.Lat-a.Lat)
			if p.Lon < x {
				in = !in
			}
		}
	}
	if in {
		return inside
	}
	return outside
}

func onSegment(a, b, p GeoPoint) bool {
	cross := (b.Lon-a.Lon)*(p.Lat-a.Lat) - (b.Lat-a.Lat)*(p.Lon-a.Lon)
	if cross != 0 {
		return false
	}
	return math.Min(a.Lon, b.Lon) <= p.Lon && p.Lon <= math.Max(a.Lon, b.Lon) &&
		math.Min(a.Lat, b.Lat) <= p.Lat && p.Lat <= math.Max(a.Lat, b.Lat)
}

// geoRect is a lon/lat rectangle, closed, not crossing the antimeridian.
type geoRect struct{ latLo, latHi, lonLo, lonHi float64 }

// margin widens candidate rectangles past rounding error; the exact check
// decides.
const margin = 1e-9

// radiusRects returns rectangles covering every point closer than meters
// to center (the bounding box of a spherical cap).
func radiusRects(center GeoPoint, meters float64) []geoRect {
	if !(meters > 0) {
		return nil
	}
	d := meters / EarthRadiusMeters // radians
	if d >= math.Pi {
		return []geoRect{{-90, 90, -180, 180}}
	}
	lat := center.Lat * math.Pi / 180
	latLo, latHi := lat-d, lat+d
	deg := 180 / math.Pi
	if latHi >= math.Pi/2 || latLo <= -math.Pi/2 {
		return []geoRect{{max(latLo*deg-margin, -90), min(latHi*deg+margin, 90), -180, 180}}
	}
	dLon := math.Asin(math.Sin(d)/math.Cos(lat)) * deg
	if math.IsNaN(dLon) || dLon >= 180 {
		return []geoRect{{latLo*deg - margin, latHi*deg + margin, -180, 180}}
	}
	dLon += margin
	return lonRects(latLo*deg-margin, latHi*deg+margin, center.Lon-dLon, center.Lon+dLon)
}

// lonRects splits a longitude interval that may wrap past ±180.
func lonRects(latLo, latHi, lonLo, lonHi float64) []geoRect {
	switch {
	case lonLo < -180 && lonHi > 180:
		return []geoRect{{latLo, latHi, -180, 180}}
	case lonLo < -180:
		return []geoRect{{latLo, latHi, lonLo + 360, 180}, {latLo, latHi, -180, lonHi}}
	case lonHi > 180:
		return []geoRect{{latLo, latHi, lonLo, 180}, {latLo, latHi, -180, lonHi - 360}}
	}
	return []geoRect{{latLo, latHi, lonLo, lonHi}}
}

// boxRects returns rectangles covering a bounding-box query.
func boxRects(topLeft, bottomRight GeoPoint) []geoRect {
	latLo, latHi := bottomRight.Lat, topLeft.Lat
	if !(latLo <= latHi) {
		return nil
	}
	if topLeft.Lon > bottomRight.Lon {
		return []geoRect{{latLo, latHi, topLeft.Lon, 180}, {latLo, latHi, -180, bottomRight.Lon}}
	}
	return []geoRect{{latLo, latHi, topLeft.Lon, bottomRight.Lon}}
}

// polygonRects returns the bounding rectangle of the exterior ring.
func polygonRects(exterior []GeoPoint) []geoRect {
	if len(exterior) == 0 {
		return nil
	}
	r := geoRect{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	for _, p := range exterior {
		r.latLo, r.latHi = math.Min(r.latLo, p.Lat), math.Max(r.latHi, p.Lat)
		r.lonLo, r.lonHi = math.Min(r.lonLo, p.Lon), math.Max(r.lonHi, p.Lon)
	}
	if math.IsNaN(r.latLo) || math.IsNaN(r.latHi) || math.IsNaN(r.lonLo) || math.IsNaN(r.lonHi) {
		return nil
	}
	return []geoRect{r}
}
