package filter

import (
	"math"
	"testing"
)

func TestGeoBoundingBox(t *testing.T) {
	berlin := `{"key": "loc", "geo_bounding_box": {"top_left": {"lon": 13.08835, "lat": 52.67551}, "bottom_right": {"lon": 13.76116, "lat": 52.33826}}}`
	across := `{"key": "loc", "geo_bounding_box": {"top_left": {"lon": 170, "lat": 10}, "bottom_right": {"lon": -170, "lat": -10}}}`
	runEval(t, []evalCase{
		{"inside", berlin, `{"loc": {"lon": 13.404954, "lat": 52.520008}}`, true},
		{"outside", berlin, `{"loc": {"lon": 37.6, "lat": 55.7}}`, false},
		{"on top edge", berlin, `{"loc": {"lon": 13.4, "lat": 52.67551}}`, false},
		{"on left edge", berlin, `{"loc": {"lon": 13.08835, "lat": 52.5}}`, false},
		{"corner", berlin, `{"loc": {"lon": 13.76116, "lat": 52.33826}}`, false},
		{"extra members", berlin, `{"loc": {"lon": 13.4, "lat": 52.5, "name": "Berlin"}}`, true},
		{"integers", `{"key": "loc", "geo_bounding_box": {"top_left": {"lon": 0, "lat": 2}, "bottom_right": {"lon": 2, "lat": 0}}}`, `{"loc": {"lon": 1, "lat": 1}}`, true},
		{"array any", berlin, `{"loc": [{"lon": 0, "lat": 0}, {"lon": 13.4, "lat": 52.5}]}`, true},
		{"array none", berlin, `{"loc": [{"lon": 0, "lat": 0}, "x", 5]}`, false},
		{"nested array not flattened", berlin, `{"loc": [[{"lon": 13.4, "lat": 52.5}]]}`, false},
		{"strings", berlin, `{"loc": {"lon": "13.4", "lat": "52.5"}}`, false},
		{"missing lat", berlin, `{"loc": {"lon": 13.4}}`, false},
		{"lat null", berlin, `{"loc": {"lon": 13.4, "lat": null}}`, false},
		{"not an object", berlin, `{"loc": [13.4, 52.5]}`, false},
		{"missing", berlin, `{}`, false},
		{"null", berlin, `{"loc": null}`, false},
		{"path", `{"key": "a[].loc", "geo_bounding_box": {"top_left": {"lon": 0, "lat": 2}, "bottom_right": {"lon": 2, "lat": 0}}}`,
			`{"a": [{"loc": {"lon": 5, "lat": 5}}, {"loc": {"lon": 1, "lat": 1}}]}`, true},
		{"antimeridian east", across, `{"loc": {"lon": 175, "lat": 0}}`, true},
		{"antimeridian west", across, `{"loc": {"lon": -175, "lat": 0}}`, true},
		{"antimeridian 180", across, `{"loc": {"lon": 180, "lat": 0}}`, true},
		{"antimeridian middle", across, `{"loc": {"lon": 0, "lat": 0}}`, false},
		{"antimeridian edge", across, `{"loc": {"lon": 170, "lat": 0}}`, false},
		{"payload not range checked", across, `{"loc": {"lon": 500, "lat": 0}}`, true},
	})
}

func TestGeoRadius(t *testing.T) {
	near := `{"key": "loc", "geo_radius": {"center": {"lon": 13.413637, "lat": 52.521976}, "radius": 2000}}`
	berlinMoscow := `{"loc": [{"lat": 52.52197645, "lon": 13.413637435864272}, {"lat": 55.7536283, "lon": 37.62137960067377}]}`
	runEval(t, []evalCase{
		{"near Berlin", near, berlinMoscow, true},
		{"miss", `{"key": "loc", "geo_radius": {"center": {"lon": 20.423637, "lat": 52.511}, "radius": 2000}}`, berlinMoscow, false},
		{"negative radius", `{"key": "loc", "geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": -1}}`, `{"loc": {"lon": 0, "lat": 0}}`, false},
		{"zero radius center", `{"key": "loc", "geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": 0}}`, `{"loc": {"lon": 0, "lat": 0}}`, false},
		{"tiny radius center", `{"key": "loc", "geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": 1e-9}}`, `{"loc": {"lon": 0, "lat": 0}}`, true},
		{"across antimeridian", `{"key": "loc", "geo_radius": {"center": {"lon": 179.99, "lat": 0}, "radius": 3000}}`, `{"loc": {"lon": -179.99, "lat": 0}}`, true},
		{"not a point", near, `{"loc": "52.52,13.41"}`, false},
		{"missing", near, `{}`, false},
	})

	// One degree of latitude on the mean-radius sphere, and the strict
	// inequality at exactly that distance.
	a, b := GeoPoint{Lon: 0, Lat: 0}, GeoPoint{Lon: 0, Lat: 1}
	d := Haversine(a, b)
	if want := 6371008.8 * math.Pi / 180; math.Abs(d-want) > 1e-6 {
		t.Fatalf("one degree = %v m, want %v", d, want)
	}
	if (&GeoRadius{Center: a, Radius: d}).Contains(b) {
		t.Fatal("a point at exactly the radius must not match")
	}
	if !(&GeoRadius{Center: a, Radius: math.Nextafter(d, math.Inf(1))}).Contains(b) {
		t.Fatal("a point just inside the radius must match")
	}
}

func TestGeoPolygon(t *testing.T) {
	square := `{"lon": 0, "lat": 0}, {"lon": 10, "lat": 0}, {"lon": 10, "lat": 10}, {"lon": 0, "lat": 10}, {"lon": 0, "lat": 0}`
	hole := `{"lon": 2, "lat": 2}, {"lon": 4, "lat": 2}, {"lon": 4, "lat": 4}, {"lon": 2, "lat": 4}, {"lon": 2, "lat": 2}`
	withHole := `{"key": "loc", "geo_polygon": {"exterior": {"points": [` + square + `]}, "interiors": [{"points": [` + hole + `]}]}}`
	triangle := `{"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 10, "lat": 0}, {"lon": 0, "lat": 10}, {"lon": 0, "lat": 0}]}}}`
	// A U shape: the notch between x=3 and x=7 above y=3 is outside.
	u := `{"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 10, "lat": 0}, {"lon": 10, "lat": 10}, {"lon": 7, "lat": 10},
		{"lon": 7, "lat": 3}, {"lon": 3, "lat": 3}, {"lon": 3, "lat": 10}, {"lon": 0, "lat": 10}, {"lon": 0, "lat": 0}]}}}`
	// Clockwise winding matches the same points.
	clockwise := `{"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 0, "lat": 10}, {"lon": 10, "lat": 10}, {"lon": 10, "lat": 0}, {"lon": 0, "lat": 0}]}}}`
	pt := func(lon, lat string) string { return `{"loc": {"lon": ` + lon + `, "lat": ` + lat + `}}` }
	runEval(t, []evalCase{
		{"inside", withHole, pt("5", "5"), true},
		{"inside near corner", withHole, pt("1", "1"), true},
		{"in hole", withHole, pt("3", "3"), false},
		{"on hole edge", withHole, pt("2", "3"), false},
		{"on hole vertex", withHole, pt("4", "4"), false},
		{"on exterior edge", withHole, pt("0", "5"), false},
		{"on exterior vertex", withHole, pt("10", "10"), false},
		{"outside", withHole, pt("11", "5"), false},
		{"outside below", withHole, pt("5", "-0.0001"), false},
		{"array any", withHole, `{"loc": [{"lon": 3, "lat": 3}, {"lon": 6, "lat": 6}]}`, true},
		{"triangle inside", triangle, pt("4.9", "5"), true},
		{"triangle hypotenuse", triangle, pt("3", "7"), false},
		{"triangle near hypotenuse", triangle, pt("0.3", "9.7"), true},
		{"triangle outside", triangle, pt("5.1", "5"), false},
		{"u arm", u, pt("1", "8"), true},
		{"u notch", u, pt("5", "8"), false},
		{"u base", u, pt("5", "1"), true},
		{"u notch floor", u, pt("5", "3"), false},
		{"clockwise", clockwise, pt("5", "5"), true},
		{"missing", withHole, `{}`, false},
	})
}

func TestGeoPolygonQdrantCases(t *testing.T) {
	// From Qdrant's tests/openapi/test_geo_filter.py, on the points of its
	// geo collection.
	points := map[int]GeoPoint{
		1: {50.52, 50.405}, 2: {60.52, 60.405}, 3: {-60.52, -60.405}, 4: {80.52, 80.405}, 5: {-72.52, -72.405},
	}
	ring := func(pts ...GeoPoint) GeoLineString { return GeoLineString{Points: append(pts, pts[0])} }
	sq := func(lo, hi float64) GeoLineString {
		return ring(GeoPoint{lo, lo}, GeoPoint{hi, lo}, GeoPoint{hi, hi}, GeoPoint{lo, hi})
	}
	cases := []struct {
		name string
		poly GeoPolygon
		want []int
	}{
		{"simple", GeoPolygon{Exterior: ring(GeoPoint{55.455868, 55.495862}, GeoPoint{86.455868, 55.495862}, GeoPoint{86.455868, 86.495862}, GeoPoint{55.455868, 86.495862})}, []int{2, 4}},
		{"negative to positive", GeoPolygon{Exterior: ring(GeoPoint{-70, -70}, GeoPoint{60, -70}, GeoPoint{60, 60}, GeoPoint{-70, 60})}, []int{1, 3}},
		{"whole world", GeoPolygon{Exterior: ring(GeoPoint{-180, -90}, GeoPoint{180, -90}, GeoPoint{180, 90}, GeoPoint{-180, 90})}, []int{1, 2, 3, 4, 5}},
		{"with interior", GeoPolygon{Exterior: ring(GeoPoint{-70, -70}, GeoPoint{60, -70}, GeoPoint{60, 60}, GeoPoint{-70, 60}),
			Interiors: []GeoLineString{ring(GeoPoint{-65, -65}, GeoPoint{0, -65}, GeoPoint{0, 0}, GeoPoint{-65, 0})}}, []int{1}},
		{"square", GeoPolygon{Exterior: sq(55, 65)}, []int{2}},
	}
	for _, c := range cases {
		if at, msg := c.poly.check(""); msg != "" {
			t.Fatalf("%s: invalid polygon at %s: %s", c.name, at, msg)
		}
		var got []int
		for id := 1; id <= 5; id++ {
			if c.poly.Contains(points[id]) {
				got = append(got, id)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
	}
}

func TestParseGeoPoint(t *testing.T) {
	p, ok := ParseGeoPoint(decodePayload(t, `{"x": {"lat": 1.5, "lon": -2}}`)["x"])
	if !ok || p != (GeoPoint{Lon: -2, Lat: 1.5}) {
		t.Fatalf("got %v %v", p, ok)
	}
	for _, v := range []any{nil, "x", 1, []any{1.0, 2.0}, map[string]any{"lat": 1.0}, map[string]any{"lat": 1.0, "lon": true}} {
		if _, ok := ParseGeoPoint(v); ok {
			t.Errorf("%#v parsed as a point", v)
		}
	}
}

func TestOrientExact(t *testing.T) {
	// 0.3 + 9.7 is just below 10 in binary, so the point is strictly left
	// of the segment (10,0) -> (0,10), though the float determinant is 0.
	a, b, c := GeoPoint{10, 0}, GeoPoint{0, 10}, GeoPoint{0.3, 9.7}
	if got := orient(a, b, c); got != -1 && got != 1 {
		t.Fatalf("orient = %d, want a side", got)
	}
	if orient(a, b, c) != orientExact(a, b, c) {
		t.Fatal("filtered and exact orientation disagree")
	}
	if got := orient(a, b, GeoPoint{3, 7}); got != 0 {
		t.Fatalf("collinear orient = %d", got)
	}
}
