package payload

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The property test: random points with random values, random updates and
// random queries; every index answer must equal a brute-force scan over
// the values each point currently has, before and after a round trip
// through Encode/Decode.

type model map[uint32][]any

// scan returns the points having a value that satisfies ok.
func (m model) scan(ok func(v any) bool) []uint32 {
	var out []uint32
	for off, vals := range m {
		if slices.ContainsFunc(vals, ok) {
			out = append(out, off)
		}
	}
	slices.Sort(out)
	if out == nil {
		out = []uint32{}
	}
	return out
}

type gen struct {
	rng *rand.Rand
	// value returns a random payload value for the index under test.
	value func() any
}

func (g *gen) offset() uint32 {
	switch g.rng.IntN(20) {
	case 0:
		return 70000 + g.rng.Uint32N(100) // second container
	case 1:
		return 1<<31 + g.rng.Uint32N(10) // far offsets: the sparse path
	}
	return g.rng.Uint32N(300)
}

// values returns 0-4 random values, sometimes with junk of other types.
func (g *gen) values() []any {
	var vs []any
	for range g.rng.IntN(5) {
		vs = append(vs, g.value())
	}
	if g.rng.IntN(4) == 0 {
		junk := []any{nil, true, "junk", json.Number("3"), []any{"x"}, map[string]any{"a": 1.0}}
		vs = append(vs, junk[g.rng.IntN(len(junk))])
	}
	return vs
}

// run applies random updates to x and m, calling check after each batch.
func (g *gen) run(t *testing.T, x Index, check func(x Index, m model)) {
	t.Helper()
	m := model{}
	for batch := range 12 {
		for range 150 {
			off := g.offset()
			if g.rng.IntN(5) == 0 {
				x.Remove(off)
				delete(m, off)
				continue
			}
			vs := g.values()
			x.Add(off, vs)
			m[off] = vs
		}
		check(x, m)
		if batch%4 == 3 {
			x = roundTrip(t, x)
			check(x, m)
		}
	}
}

func same(t *testing.T, what string, got *Postings, want []uint32) {
	t.Helper()
	if g := offs(got); !slices.Equal(g, want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, g, want)
	}
}

// countPoints is Points() by scan, given the test for an indexable value.
func countPoints(m model, ok func(any) bool) int { return len(m.scan(ok)) }

func randRange(rng *rand.Rand, lo, hi float64) NumRange {
	var r NumRange
	pick := func() *float64 {
		v := lo + rng.Float64()*(hi-lo)
		if rng.IntN(2) == 0 {
			v = math.Round(v)
		}
		return &v
	}
	switch rng.IntN(3) {
	case 0:
		r.GT = pick()
	case 1:
		r.GTE = pick()
	}
	switch rng.IntN(3) {
	case 0:
		r.LT = pick()
	case 1:
		r.LTE = pick()
	}
	return r
}

func TestPropertyKeyword(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 10))
	words := []string{"a", "b", "c", "d", "e", "", "ü", "long value"}
	g := &gen{rng: rng, value: func() any { return words[rng.IntN(len(words))] }}
	isStr := func(v any) bool { _, ok := v.(string); return ok }
	g.run(t, NewKeywordIndex(mustSchema(t, `"keyword"`)), func(x Index, m model) {
		ix := x.(*KeywordIndex)
		if ix.Points() != countPoints(m, isStr) {
			t.Fatalf("points %d want %d", ix.Points(), countPoints(m, isStr))
		}
		for range 20 {
			q := []string{words[rng.IntN(len(words))], words[rng.IntN(len(words))]}[:1+rng.IntN(2)]
			same(t, fmt.Sprint("match ", q), ix.Match(q...), m.scan(func(v any) bool {
				s, ok := v.(string)
				return ok && slices.Contains(q, s)
			}))
			if n := ix.Count(q[0]); n != len(m.scan(func(v any) bool { return v == any(q[0]) })) {
				t.Fatalf("count %q = %d", q[0], n)
			}
		}
	})
}

func TestPropertyInteger(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 11))
	g := &gen{rng: rng, value: func() any {
		switch rng.IntN(6) {
		case 0:
			return json.Number(strconv.FormatFloat(rng.Float64()*20-10, 'f', 1, 64))
		case 1:
			return float64(rng.IntN(21) - 10)
		case 2:
			return json.Number(strconv.FormatInt(math.MaxInt64-rng.Int64N(3), 10))
		}
		return json.Number(strconv.Itoa(rng.IntN(21) - 10))
	}}
	isInt := func(v any) bool { _, ok := asInteger(v); return ok }
	g.run(t, NewIntegerIndex(mustSchema(t, `"integer"`)), func(x Index, m model) {
		ix := x.(*IntegerIndex)
		if ix.Points() != countPoints(m, isInt) {
			t.Fatalf("points %d", ix.Points())
		}
		for range 30 {
			q := []int64{int64(rng.IntN(21) - 10), int64(rng.IntN(21) - 10)}
			same(t, fmt.Sprint("match ", q), ix.Match(q...), m.scan(func(v any) bool {
				i, ok := asInteger(v)
				return ok && slices.Contains(q, i)
			}))
			r := randRange(rng, -12, 12)
			in := func(v any) bool { i, ok := asInteger(v); return ok && r.Contains(float64(i)) }
			same(t, fmt.Sprintf("range %+v", r), ix.Range(r), m.scan(in))
			checkOrdered(t, m, r, asInteger, func(asc bool, yield func(int64, uint32) bool) { ix.Ordered(asc, r, yield) }, func(v int64) float64 { return float64(v) })
		}
	})
}

func TestPropertyFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 12))
	g := &gen{rng: rng, value: func() any {
		switch rng.IntN(4) {
		case 0:
			return json.Number(strconv.Itoa(rng.IntN(21) - 10))
		case 1:
			return rng.Float64()*20 - 10
		}
		return json.Number(strconv.FormatFloat(rng.Float64()*20-10, 'f', 1, 64))
	}}
	isNum := func(v any) bool { _, ok := asFloat(v); return ok }
	g.run(t, NewFloatIndex(mustSchema(t, `"float"`)), func(x Index, m model) {
		ix := x.(*FloatIndex)
		if ix.Points() != countPoints(m, isNum) {
			t.Fatalf("points %d", ix.Points())
		}
		for range 30 {
			r := randRange(rng, -11, 11)
			same(t, fmt.Sprintf("range %+v", r), ix.Range(r), m.scan(func(v any) bool {
				f, ok := asFloat(v)
				return ok && r.Contains(f)
			}))
			checkOrdered(t, m, r, asFloat, func(asc bool, yield func(float64, uint32) bool) { ix.Ordered(asc, r, yield) }, func(v float64) float64 { return v })
		}
	})
}

// checkOrdered compares Ordered with the sorted (value, point) pairs in r.
func checkOrdered[T int64 | float64](t *testing.T, m model, r NumRange, conv func(any) (T, bool),
	ordered func(bool, func(T, uint32) bool), f func(T) float64) {
	t.Helper()
	type pair struct {
		v   T
		off uint32
	}
	var want []pair
	for off, vals := range m {
		var vs []T
		for _, v := range vals {
			if x, ok := conv(v); ok && r.Contains(f(x)) {
				if x == 0 {
					x = 0
				}
				vs = append(vs, x)
			}
		}
		for _, v := range sortedDistinct(vs) {
			want = append(want, pair{v, off})
		}
	}
	slices.SortFunc(want, func(a, b pair) int { return cmp.Or(cmp.Compare(a.v, b.v), cmp.Compare(a.off, b.off)) })
	for _, asc := range []bool{true, false} {
		var got []pair
		ordered(asc, func(v T, off uint32) bool { got = append(got, pair{v, off}); return true })
		w := slices.Clone(want)
		if !asc {
			slices.Reverse(w)
		}
		if !slices.Equal(got, w) {
			t.Fatalf("ordered asc=%v %+v:\n got %v\nwant %v", asc, r, got, w)
		}
	}
}

func TestPropertyBool(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 13))
	g := &gen{rng: rng, value: func() any { return rng.IntN(2) == 0 }}
	g.run(t, NewBoolIndex(mustSchema(t, `"bool"`)), func(x Index, m model) {
		ix := x.(*BoolIndex)
		for _, b := range []bool{true, false} {
			same(t, fmt.Sprint("match ", b), ix.Match(b), m.scan(func(v any) bool { return v == any(b) }))
		}
		if ix.Points() != countPoints(m, func(v any) bool { _, ok := v.(bool); return ok }) {
			t.Fatalf("points %d", ix.Points())
		}
	})
}

func TestPropertyDatetime(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 14))
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	layouts := []string{time.RFC3339, time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05.000-07:00", "2006-01-02"}
	zones := []*time.Location{time.UTC, time.FixedZone("x", 3600), time.FixedZone("y", -5*3600-1800)}
	g := &gen{rng: rng, value: func() any {
		tm := base.Add(time.Duration(rng.IntN(200)-100) * time.Hour / 2).In(zones[rng.IntN(len(zones))])
		return tm.Format(layouts[rng.IntN(len(layouts))])
	}}
	parse := func(v any) (int64, bool) {
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		return ParseDatetime(s)
	}
	g.run(t, NewDatetimeIndex(mustSchema(t, `"datetime"`)), func(x Index, m model) {
		ix := x.(*DatetimeIndex)
		for range 30 {
			var r TimeRange
			at := func() *int64 {
				v := base.Add(time.Duration(rng.IntN(200)-100) * time.Hour / 2).UnixMicro()
				return &v
			}
			if rng.IntN(2) == 0 {
				r.GTE = at()
			} else {
				r.GT = at()
			}
			if rng.IntN(2) == 0 {
				r.LT = at()
			}
			same(t, fmt.Sprintf("range %+v", r), ix.Range(r), m.scan(func(v any) bool {
				us, ok := parse(v)
				return ok && r.Contains(us)
			}))
		}
	})
}

func TestPropertyUUID(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 15))
	ids := []string{"5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "00000000-0000-0000-0000-000000000001", "ffffffff-ffff-ffff-ffff-ffffffffffff"}
	forms := func(u string) string {
		switch rng.IntN(4) {
		case 0:
			return strings.ToUpper(u)
		case 1:
			return "{" + u + "}"
		case 2:
			return strings.ReplaceAll(u, "-", "")
		}
		return u
	}
	g := &gen{rng: rng, value: func() any { return forms(ids[rng.IntN(len(ids))]) }}
	g.run(t, NewUUIDIndex(mustSchema(t, `"uuid"`)), func(x Index, m model) {
		ix := x.(*UUIDIndex)
		for _, u := range ids {
			same(t, "match "+u, ix.Match(forms(u)), m.scan(func(v any) bool {
				s, ok := v.(string)
				return ok && strings.ToLower(strings.Trim(strings.ReplaceAll(s, "-", ""), "{}")) == strings.ReplaceAll(u, "-", "")
			}))
		}
	})
}

func TestPropertyGeo(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 16))
	randPoint := func() GeoPoint {
		if rng.IntN(3) == 0 { // clusters, near the antimeridian and a pole
			c := []GeoPoint{{179.5, 10}, {-179.5, 10}, {5, 89.5}, {13.4, 52.5}}[rng.IntN(4)]
			return GeoPoint{math.Max(-180, math.Min(180, c.Lon+rng.Float64()-0.5)), math.Max(-90, math.Min(90, c.Lat+rng.Float64()-0.5))}
		}
		return GeoPoint{rng.Float64()*360 - 180, rng.Float64()*180 - 90}
	}
	g := &gen{rng: rng, value: func() any {
		p := randPoint()
		return map[string]any{"lon": p.Lon, "lat": p.Lat}
	}}
	g.run(t, NewGeoIndex(mustSchema(t, `"geo"`)), func(x Index, m model) {
		ix := x.(*GeoIndex)
		scan := func(ok func(GeoPoint) bool) []uint32 {
			return m.scan(func(v any) bool { p, valid := asGeoPoint(v); return valid && ok(p) })
		}
		for range 20 {
			c := randPoint()
			meters := math.Pow(10, 2+rng.Float64()*5.5)
			same(t, fmt.Sprintf("radius %v %f", c, meters), ix.Radius(c, meters), scan(func(p GeoPoint) bool { return InRadius(c, meters, p) }))
			a, b := randPoint(), randPoint()
			tl, br := GeoPoint{a.Lon, math.Max(a.Lat, b.Lat)}, GeoPoint{b.Lon, math.Min(a.Lat, b.Lat)}
			same(t, fmt.Sprintf("box %v %v", tl, br), ix.BoundingBox(tl, br), scan(func(p GeoPoint) bool { return InBoundingBox(tl, br, p) }))
			var ring []GeoPoint
			for k := range 3 + rng.IntN(5) {
				ang := float64(k) / 5 * 2 * math.Pi
				rad := 1 + rng.Float64()*40
				ring = append(ring, GeoPoint{c.Lon/2 + rad*math.Cos(ang), c.Lat/2 + rad*math.Sin(ang)/2})
			}
			ring = append(ring, ring[0])
			holes := [][]GeoPoint{{{c.Lon / 2, c.Lat / 2}, {c.Lon/2 + 1, c.Lat / 2}, {c.Lon / 2, c.Lat/2 + 1}, {c.Lon / 2, c.Lat / 2}}}
			same(t, "polygon", ix.Polygon(ring, holes), scan(func(p GeoPoint) bool { return InPolygon(ring, holes, p) }))
		}
	})
}

func TestPropertyText(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 17))
	words := []string{"alpha", "Beta", "gamma", "the", "of", "delta", "ÉPSILON", "zeta"}
	sentence := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(ws, []string{" ", ", ", "-"}[rng.IntN(3)])
	}
	schemas := []string{
		`{"type":"text","phrase_matching":true,"stopwords":"english"}`,
		`{"type":"text","tokenizer":"prefix","min_token_len":2,"max_token_len":4,"phrase_matching":true}`,
		`{"type":"text","tokenizer":"whitespace","lowercase":false,"ascii_folding":true}`,
		`{"type":"text","tokenizer":"multilingual","min_token_len":4,"phrase_matching":true}`,
	}
	for _, js := range schemas {
		s := mustSchema(t, js)
		tk := NewTokenizer(s)
		g := &gen{rng: rng, value: func() any { return sentence(1 + rng.IntN(4)) }}
		docOf := func(vals []any) ([]string, bool) {
			var toks []string
			has := false
			for _, v := range vals {
				if str, ok := v.(string); ok {
					has = true
					toks = append(toks, tk.Tokens(str)...)
				}
			}
			return toks, has
		}
		g.run(t, NewTextIndex(s), func(x Index, m model) {
			ix := x.(*TextIndex)
			present := 0
			for _, vals := range m {
				if _, has := docOf(vals); has {
					present++
				}
			}
			if ix.Points() != present {
				t.Fatalf("%s: points %d want %d", js, ix.Points(), present)
			}
			for range 20 {
				q := sentence(1 + rng.IntN(3))
				qt := tk.QueryTokens(q)
				var match, anyOf, phrase []uint32
				pt := tk.Tokens(q)
				for off, vals := range m {
					doc, has := docOf(vals)
					if !has {
						continue
					}
					if len(qt) > 0 && !slices.ContainsFunc(qt, func(t string) bool { return !slices.Contains(doc, t) }) {
						match = append(match, off)
					}
					if slices.ContainsFunc(qt, func(t string) bool { return slices.Contains(doc, t) }) {
						anyOf = append(anyOf, off)
					}
					if len(pt) > 0 && s.PhraseEnabled() && containsRun(doc, pt) {
						phrase = append(phrase, off)
					}
				}
				for _, l := range []*[]uint32{&match, &anyOf, &phrase} {
					slices.Sort(*l)
					if *l == nil {
						*l = []uint32{}
					}
				}
				same(t, js+" match "+q, ix.Match(q), match)
				same(t, js+" any "+q, ix.Any(q), anyOf)
				same(t, js+" phrase "+q, ix.Phrase(q), phrase)
			}
		})
	}
}

func containsRun(doc, run []string) bool {
	for i := 0; i+len(run) <= len(doc); i++ {
		if slices.Equal(doc[i:i+len(run)], run) {
			return true
		}
	}
	return false
}
