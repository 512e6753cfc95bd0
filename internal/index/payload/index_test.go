package payload

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// Table tests per index type: add, replace, remove, query, and the same
// queries after an Encode/Decode round trip.

func eq(t *testing.T, what string, got *Postings, want ...uint32) {
	t.Helper()
	if g := offs(got); !slices.Equal(g, append([]uint32{}, want...)) {
		t.Errorf("%s: got %v, want %v", what, g, want)
	}
}

func TestNewAllTypes(t *testing.T) {
	for _, ty := range types {
		s := mustSchema(t, `"`+string(ty)+`"`)
		x := New(s)
		if x.Schema().Type != ty || x.Points() != 0 || x.Values() != 0 {
			t.Errorf("%s: fresh index not empty", ty)
		}
		x.Add(1, []any{nil, []any{}, map[string]any{}})
		x.Remove(7)
		roundTrip(t, x)
	}
}

func TestKeywordIndex(t *testing.T) {
	for _, rt := range []bool{false, true} {
		x := NewKeywordIndex(mustSchema(t, `"keyword"`))
		x.Add(0, []any{"red", "blue", "red"})
		x.Add(1, []any{"blue", num("1"), true, nil, []any{"nested"}, map[string]any{"a": "b"}})
		x.Add(2, []any{"green"})
		x.Add(3, []any{num("5")}) // no keyword: not indexed
		x.Add(2, []any{"red"})    // replaces green
		x.Add(4, []any{""})
		var ix = x
		if rt {
			ix = roundTrip(t, x).(*KeywordIndex)
		}
		eq(t, "red", ix.Match("red"), 0, 2)
		eq(t, "blue", ix.Match("blue"), 0, 1)
		eq(t, "green", ix.Match("green"))
		eq(t, "any", ix.Match("green", "blue", "red", "nope"), 0, 1, 2)
		eq(t, "none", ix.Match())
		eq(t, "empty string", ix.Match(""), 4)
		eq(t, "nested not indexed", ix.Match("nested"))
		eq(t, "prefix", ix.Prefix("r"), 0, 2)
		if ix.Points() != 4 || ix.Values() != 5 || ix.Count("red") != 2 || ix.Count("x") != 0 {
			t.Errorf("counts: points %d values %d", ix.Points(), ix.Values())
		}
		var facet []string
		ix.Facet(func(v string, n int) bool {
			facet = append(facet, v+"="+string(rune('0'+n)))
			return true
		})
		if !slices.Equal(facet, []string{"=1", "blue=2", "red=2"}) {
			t.Errorf("facet %v", facet)
		}
		ix.Remove(0)
		ix.Remove(0)
		eq(t, "after remove", ix.Match("red", "blue"), 1, 2)
		if ix.Points() != 3 || ix.Values() != 3 {
			t.Errorf("after remove: points %d values %d", ix.Points(), ix.Values())
		}
	}
}

func TestIntegerIndex(t *testing.T) {
	for _, rt := range []bool{false, true} {
		x := NewIntegerIndex(mustSchema(t, `"integer"`))
		x.Add(0, []any{num("1"), num("5"), num("5")})
		x.Add(1, []any{num("1.5"), num("2e0"), "3", num("-7"), 9.0, int64(10)})
		x.Add(2, []any{num("9223372036854775807"), num("9223372036854775808")})
		x.Add(3, []any{num("3")})
		x.Add(3, []any{num("4")})
		x.Add(4, []any{true})
		ix := x
		if rt {
			ix = roundTrip(t, x).(*IntegerIndex)
		}
		if ix.Points() != 4 || ix.Values() != 7 {
			t.Errorf("points %d values %d", ix.Points(), ix.Values())
		}
		eq(t, "match 5", ix.Match(5), 0)
		eq(t, "match many", ix.Match(1, 9, 4, 100), 0, 1, 3)
		eq(t, "match max", ix.Match(9223372036854775807), 2)
		eq(t, "range", ix.Range(NumRange{GTE: fptr(1), LT: fptr(5)}), 0, 3)
		eq(t, "range fractional", ix.Range(NumRange{GT: fptr(4.5), LTE: fptr(9.5)}), 0, 1)
		eq(t, "range open", ix.Range(NumRange{}), 0, 1, 2, 3)
		eq(t, "range empty", ix.Range(NumRange{GT: fptr(5), LT: fptr(5)}))
		eq(t, "range negative", ix.Range(NumRange{LT: fptr(0)}), 1)
		if ix.CountRange(NumRange{GTE: fptr(1)}) != 6 || ix.Count(5) != 1 {
			t.Errorf("counts %d %d", ix.CountRange(NumRange{GTE: fptr(1)}), ix.Count(5))
		}
		var asc, desc []int64
		ix.Ordered(true, NumRange{LTE: fptr(9)}, func(v int64, _ uint32) bool { asc = append(asc, v); return true })
		ix.Ordered(false, NumRange{GT: fptr(1)}, func(v int64, _ uint32) bool { desc = append(desc, v); return len(desc) < 3 })
		if !slices.Equal(asc, []int64{-7, 1, 4, 5, 9}) || !slices.Equal(desc, []int64{9223372036854775807, 10, 9}) {
			t.Errorf("ordered %v %v", asc, desc)
		}
		var facet [][2]int64
		ix.Facet(func(v int64, n int) bool { facet = append(facet, [2]int64{v, int64(n)}); return true })
		if len(facet) != 7 || facet[0] != [2]int64{-7, 1} {
			t.Errorf("facet %v", facet)
		}
		ix.Remove(1)
		eq(t, "after remove", ix.Range(NumRange{}), 0, 2, 3)
	}
}

func TestFloatIndex(t *testing.T) {
	for _, rt := range []bool{false, true} {
		x := NewFloatIndex(mustSchema(t, `{"type":"float"}`))
		x.Add(0, []any{num("1.5"), num("-0.0"), num("0")})
		x.Add(1, []any{num("2"), int64(3), "4", float32(2.5)})
		x.Add(2, []any{num("1e400")})
		x.Add(3, []any{num("-1e400"), num("not a number")})
		ix := x
		if rt {
			ix = roundTrip(t, x).(*FloatIndex)
		}
		if ix.Points() != 4 || ix.Values() != 7 {
			t.Errorf("points %d values %d", ix.Points(), ix.Values())
		}
		eq(t, "zero", ix.Range(NumRange{GTE: fptr(0), LTE: fptr(0)}), 0)
		eq(t, "range", ix.Range(NumRange{GT: fptr(1.5), LT: fptr(3)}), 1)
		eq(t, "inf", ix.Range(NumRange{GT: fptr(1e308)}), 2)
		eq(t, "-inf", ix.Range(NumRange{LT: fptr(-1e308)}), 3)
		var desc []float64
		ix.Ordered(false, NumRange{GTE: fptr(0), LT: fptr(1e300)}, func(v float64, _ uint32) bool { desc = append(desc, v); return true })
		if !slices.Equal(desc, []float64{3, 2.5, 2, 1.5, 0}) {
			t.Errorf("desc %v", desc)
		}
		ix.Remove(0)
		eq(t, "after remove", ix.Range(NumRange{LT: fptr(2)}), 3)
	}
}

func TestBoolIndex(t *testing.T) {
	for _, rt := range []bool{false, true} {
		x := NewBoolIndex(mustSchema(t, `"bool"`))
		x.Add(0, []any{true})
		x.Add(1, []any{false, true})
		x.Add(2, []any{"true", num("1")})
		x.Add(3, []any{false})
		x.Add(3, []any{true})
		ix := x
		if rt {
			ix = roundTrip(t, x).(*BoolIndex)
		}
		eq(t, "true", ix.Match(true), 0, 1, 3)
		eq(t, "false", ix.Match(false), 1)
		if ix.Points() != 3 || ix.Values() != 4 {
			t.Errorf("points %d values %d", ix.Points(), ix.Values())
		}
		var facet []int
		ix.Facet(func(_ bool, n int) bool { facet = append(facet, n); return true })
		if !slices.Equal(facet, []int{1, 3}) {
			t.Errorf("facet %v", facet)
		}
		ix.Remove(1)
		eq(t, "after remove", ix.Match(false))
		if ix.Points() != 2 {
			t.Errorf("points %d", ix.Points())
		}
	}
}

func TestUUIDIndex(t *testing.T) {
	const u = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
	for _, rt := range []bool{false, true} {
		x := NewUUIDIndex(mustSchema(t, `"uuid"`))
		x.Add(0, []any{u})
		x.Add(1, []any{"{5C56C793-69F3-4FBF-87E6-C4BF54C28C26}", "not-a-uuid"})
		x.Add(2, []any{"00000000-0000-0000-0000-000000000001"})
		x.Add(3, []any{"nope"})
		ix := x
		if rt {
			ix = roundTrip(t, x).(*UUIDIndex)
		}
		eq(t, "canonical", ix.Match(u), 0, 1)
		eq(t, "other forms", ix.Match("urn:uuid:"+u, "5c56c79369f34fbf87e6c4bf54c28c26"), 0, 1)
		eq(t, "garbage query", ix.Match("nope"))
		if ix.Points() != 3 || ix.Count(u) != 2 {
			t.Errorf("points %d", ix.Points())
		}
		var facet []string
		ix.Facet(func(v string, _ int) bool { facet = append(facet, v); return true })
		if !slices.Equal(facet, []string{"00000000-0000-0000-0000-000000000001", u}) {
			t.Errorf("facet %v", facet)
		}
	}
}

func geo(lon, lat float64) map[string]any {
	return map[string]any{"lon": json.Number(ftoa(lon)), "lat": lat}
}

func ftoa(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestGeoIndex(t *testing.T) {
	berlin, moscow, london := GeoPoint{13.405, 52.52}, GeoPoint{37.6173, 55.7558}, GeoPoint{-0.1278, 51.5074}
	for _, rt := range []bool{false, true} {
		x := NewGeoIndex(mustSchema(t, `"geo"`))
		x.Add(0, []any{geo(berlin.Lon, berlin.Lat)})
		x.Add(1, []any{geo(moscow.Lon, moscow.Lat), geo(london.Lon, london.Lat)})
		x.Add(2, []any{geo(179.9, 0), map[string]any{"lon": 200.0, "lat": 0.0}})
		x.Add(3, []any{map[string]any{"lon": 1.0}, "x", map[string]any{"lat": "1", "lon": 1.0}})
		x.Add(4, []any{geo(-179.9, 0.5)})
		x.Add(5, []any{geo(0, 90)})
		ix := x
		if rt {
			ix = roundTrip(t, x).(*GeoIndex)
		}
		if ix.Points() != 5 || ix.Values() != 6 {
			t.Errorf("points %d values %d", ix.Points(), ix.Values())
		}
		eq(t, "radius berlin 1000km", ix.Radius(berlin, 1_000_000), 0, 1)
		eq(t, "radius berlin 10m", ix.Radius(berlin, 10), 0)
		eq(t, "radius zero", ix.Radius(berlin, 0))
		eq(t, "radius world", ix.Radius(berlin, 30_000_000), 0, 1, 2, 4, 5)
		eq(t, "radius across antimeridian", ix.Radius(GeoPoint{180, 0}, 100_000), 2, 4)
		eq(t, "radius around pole", ix.Radius(GeoPoint{100, 89.9}, 20_000), 5)
		eq(t, "box europe", ix.BoundingBox(GeoPoint{-10, 60}, GeoPoint{20, 45}), 0, 1)
		eq(t, "box antimeridian", ix.BoundingBox(GeoPoint{179, 1}, GeoPoint{-179, -1}), 2, 4)
		eq(t, "box edge is outside", ix.BoundingBox(GeoPoint{13.405, 60}, GeoPoint{20, 45}))
		square := []GeoPoint{{0, 40}, {40, 40}, {40, 60}, {0, 60}, {0, 40}}
		eq(t, "polygon", ix.Polygon(square, nil), 0, 1)
		hole := []GeoPoint{{10, 50}, {20, 50}, {20, 55}, {10, 55}, {10, 50}}
		eq(t, "polygon with hole", ix.Polygon(square, [][]GeoPoint{hole}), 1)
		eq(t, "polygon empty", ix.Polygon(nil, nil))
		ix.Remove(1)
		eq(t, "after remove", ix.Radius(berlin, 30_000_000), 0, 2, 4, 5)
	}
}

func TestGeoShapes(t *testing.T) {
	sq := []GeoPoint{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	cases := []struct {
		p    GeoPoint
		want bool
	}{
		{GeoPoint{5, 5}, true}, {GeoPoint{0, 5}, false}, {GeoPoint{10, 10}, false},
		{GeoPoint{5, 0}, false}, {GeoPoint{-1, 5}, false}, {GeoPoint{5, 10.000001}, false},
	}
	for _, c := range cases {
		if got := InPolygon(sq, nil, c.p); got != c.want {
			t.Errorf("InPolygon(%v) = %v", c.p, got)
		}
	}
	hole := []GeoPoint{{2, 2}, {4, 2}, {4, 4}, {2, 4}}
	if InPolygon(sq, [][]GeoPoint{hole}, GeoPoint{3, 3}) || InPolygon(sq, [][]GeoPoint{hole}, GeoPoint{2, 3}) ||
		!InPolygon(sq, [][]GeoPoint{hole}, GeoPoint{5, 5}) {
		t.Error("holes")
	}
	// Qdrant's own example: London to Berlin is ~930 km.
	if d := HaversineMeters(GeoPoint{-0.1278, 51.5074}, GeoPoint{13.405, 52.52}); d < 925_000 || d > 935_000 {
		t.Errorf("haversine %f", d)
	}
}

func TestTextIndex(t *testing.T) {
	s := mustSchema(t, `{"type":"text","phrase_matching":true,"stopwords":"english"}`)
	for _, rt := range []bool{false, true} {
		x := NewTextIndex(s)
		x.Add(0, []any{"The celebration had a long way to go and even in the silent depths of Multivac's underground chambers"})
		x.Add(1, []any{"For the first time in a decade, technicians were not scurrying about the vitals of the giant", "computer, the soft lights did not wink"})
		x.Add(2, []any{"Yet now, for a day, perhaps for a week, even Multivac might celebrate the great time"})
		x.Add(3, []any{"the and of"}) // only stopwords: indexed, no tokens
		x.Add(4, []any{num("5")})     // not a string: not indexed
		ix := x
		if rt {
			ix = roundTrip(t, x).(*TextIndex)
		}
		if ix.Points() != 4 {
			t.Errorf("points %d", ix.Points())
		}
		eq(t, "multivac", ix.Match("MULTIVAC"), 0, 2)
		eq(t, "two tokens", ix.Match("giant computer"), 1)
		eq(t, "stopwords dropped from the query", ix.Match("the great time"), 2)
		eq(t, "unknown token", ix.Match("multivac zebra"))
		eq(t, "empty query", ix.Match(""))
		eq(t, "only stopwords", ix.Match("the"))
		eq(t, "any", ix.Any("zebra celebration week"), 0, 2)
		eq(t, "any none", ix.Any("zebra"))
		eq(t, "phrase", ix.Phrase("silent depths"), 0)
		eq(t, "phrase across strings", ix.Phrase("giant computer"), 1)
		eq(t, "phrase out of order", ix.Phrase("depths silent"))
		eq(t, "phrase skips stopwords", ix.Phrase("depths of Multivac"), 0)
		if ix.MatchEstimate("multivac") != 2 || ix.MatchEstimate("zebra") != 0 {
			t.Errorf("estimate %d", ix.MatchEstimate("multivac"))
		}
		ix.Remove(0)
		ix.Add(2, []any{"giant"})
		eq(t, "after remove and replace", ix.Match("giant"), 1, 2)
		eq(t, "after replace", ix.Match("multivac"))
	}
	noPhrase := NewTextIndex(mustSchema(t, `{"type":"text"}`))
	noPhrase.Add(0, []any{"silent depths"})
	eq(t, "phrase disabled", noPhrase.Phrase("silent depths"))
	eq(t, "match without phrase", noPhrase.Match("depths silent"), 0)

	prefix := NewTextIndex(mustSchema(t, `{"type":"text","tokenizer":"prefix","max_token_len":6}`))
	prefix.Add(0, []any{"Robot Dreams"})
	prefix.Add(1, []any{"Robotics"})
	prefix.Add(2, []any{"Rob"})
	eq(t, "prefix ROBO", prefix.Match("ROBO"), 0, 1)
	eq(t, "prefix beyond max", prefix.Match("robotically"), 1)
	eq(t, "prefix whole", prefix.Match("rob dre"), 0)
}

// TestConcurrentQueries runs queries from several goroutines at once; with
// -race it checks that queries do not write shared state.
func TestConcurrentQueries(t *testing.T) {
	var xs []Index
	for _, js := range []string{`"keyword"`, `"integer"`, `"float"`, `"geo"`, `{"type":"text","phrase_matching":true}`, `"bool"`, `"uuid"`, `"datetime"`} {
		xs = append(xs, seedIndex(t, mustSchema(t, js), 3))
	}
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 20 {
				for _, x := range xs {
					exerciseReadOnly(x)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// exerciseReadOnly runs every query method of x.
func exerciseReadOnly(x Index) {
	switch ix := x.(type) {
	case *KeywordIndex:
		ix.Match("a", "bb")
		ix.Prefix("b")
		ix.Count("a")
		ix.Facet(func(string, int) bool { return true })
	case *IntegerIndex:
		ix.Match(0, 7)
		ix.Range(NumRange{GT: fptr(-1)})
		ix.CountRange(NumRange{})
		ix.Ordered(false, NumRange{}, func(int64, uint32) bool { return true })
		ix.Facet(func(int64, int) bool { return true })
	case *FloatIndex:
		ix.Range(NumRange{LTE: fptr(0)})
		ix.Ordered(true, NumRange{}, func(float64, uint32) bool { return true })
	case *BoolIndex:
		ix.Match(true)
		ix.Facet(func(bool, int) bool { return true })
	case *DatetimeIndex:
		ix.Range(TimeRange{GT: iptr(0)})
		ix.Ordered(true, TimeRange{}, func(int64, uint32) bool { return true })
	case *UUIDIndex:
		ix.Match("00000000-0000-0000-0000-000000000001")
		ix.Facet(func(string, int) bool { return true })
	case *GeoIndex:
		ix.Radius(GeoPoint{0, 0}, 5_000_000)
		ix.BoundingBox(GeoPoint{-100, 80}, GeoPoint{100, -80})
		ix.Polygon([]GeoPoint{{0, 0}, {50, 0}, {50, 50}, {0, 0}}, nil)
	case *TextIndex:
		ix.Match("hello world")
		ix.Phrase("quick brown")
		ix.Any("мир fox")
		ix.MatchEstimate("fox")
	}
	var buf bytes.Buffer
	_ = x.Encode(&buf)
}
