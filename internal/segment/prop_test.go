package segment

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// The property: for random payloads and random filters, every read gives
// the same answer with and without payload indexes, for each index type.

var propWords = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}

var propIndexes = map[string]string{
	"kw":       `"keyword"`,
	"int":      `"integer"`,
	"flt":      `"float"`,
	"flag":     `"bool"`,
	"dt":       `"datetime"`,
	"loc":      `"geo"`,
	"txt":      `{"type":"text","tokenizer":"word","lowercase":true}`,
	"uid":      `"uuid"`,
	"nest[].a": `"integer"`,
}

func propPayload(r *rand.Rand, uuids []string) point.Payload {
	p := point.Payload{}
	maybe := func(key string, gen func() any) {
		switch r.IntN(8) {
		case 0: // missing
		case 1:
			p[key] = nil
		case 2:
			p[key] = []any{gen(), gen()}
		default:
			p[key] = gen()
		}
	}
	maybe("kw", func() any { return propWords[r.IntN(4)] })
	maybe("int", func() any { return json.Number(fmt.Sprint(r.IntN(20) - 5)) })
	maybe("flt", func() any { return json.Number(fmt.Sprintf("%.2f", r.Float64()*10-2)) })
	maybe("flag", func() any { return r.IntN(2) == 0 })
	maybe("dt", func() any {
		return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(1000)) * time.Hour).Format(time.RFC3339)
	})
	maybe("loc", func() any {
		return map[string]any{"lon": json.Number(fmt.Sprintf("%.3f", r.Float64()*20)), "lat": json.Number(fmt.Sprintf("%.3f", r.Float64()*20))}
	})
	maybe("txt", func() any {
		n := 1 + r.IntN(4)
		w := make([]string, n)
		for i := range w {
			w[i] = propWords[r.IntN(len(propWords))]
		}
		return strings.Join(w, " ")
	})
	maybe("uid", func() any { return uuids[r.IntN(len(uuids))] })
	if r.IntN(3) > 0 {
		nest := []any{}
		for range r.IntN(3) {
			nest = append(nest, map[string]any{"a": json.Number(fmt.Sprint(r.IntN(5))), "b": propWords[r.IntN(3)]})
		}
		p["nest"] = nest
	}
	return p
}

func propCondition(r *rand.Rand, uuids []string, depth int) string {
	num := func(lo, span float64) string { return fmt.Sprintf("%.2f", lo+r.Float64()*span) }
	switch k := r.IntN(16); {
	case k < 2 && depth < 3:
		return propFilter(r, uuids, depth+1)
	case k == 2:
		return fmt.Sprintf(`{"key":"kw","match":{"value":%q}}`, propWords[r.IntN(5)])
	case k == 3:
		return fmt.Sprintf(`{"key":"kw","match":{"any":[%q,%q]}}`, propWords[r.IntN(5)], propWords[r.IntN(5)])
	case k == 4:
		return fmt.Sprintf(`{"key":"int","match":{"value":%d}}`, r.IntN(20)-5)
	case k == 5:
		return fmt.Sprintf(`{"key":"int","range":{"gte":%s,"lt":%s}}`, num(-6, 10), num(2, 15))
	case k == 6:
		return fmt.Sprintf(`{"key":"flt","range":{"gt":%s}}`, num(-2, 10))
	case k == 7:
		return fmt.Sprintf(`{"key":"flag","match":{"value":%v}}`, r.IntN(2) == 0)
	case k == 8:
		from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(1000)) * time.Hour)
		return fmt.Sprintf(`{"key":"dt","range":{"gte":%q,"lte":%q}}`, from.Format(time.RFC3339), from.Add(300*time.Hour).Format(time.RFC3339))
	case k == 9:
		return fmt.Sprintf(`{"key":"loc","geo_radius":{"center":{"lon":%s,"lat":%s},"radius":%s}}`, num(0, 20), num(0, 20), num(50000, 500000))
	case k == 10:
		lon, lat := r.Float64()*15, r.Float64()*15
		return fmt.Sprintf(`{"key":"loc","geo_bounding_box":{"top_left":{"lon":%.3f,"lat":%.3f},"bottom_right":{"lon":%.3f,"lat":%.3f}}}`, lon, lat+5, lon+5, lat)
	case k == 11:
		return fmt.Sprintf(`{"key":"txt","match":{"text":%q}}`, propWords[r.IntN(len(propWords))])
	case k == 12:
		return fmt.Sprintf(`{"key":"uid","match":{"value":%q}}`, uuids[r.IntN(len(uuids))])
	case k == 13:
		return fmt.Sprintf(`{"key":"nest[].a","match":{"value":%d}}`, r.IntN(5))
	case k == 14:
		return fmt.Sprintf(`{"has_id":[%d,%d,%d]}`, r.IntN(300), r.IntN(300), r.IntN(300))
	default:
		return fmt.Sprintf(`{"is_empty":{"key":%q}}`, []string{"kw", "int", "txt"}[r.IntN(3)])
	}
}

func propFilter(r *rand.Rand, uuids []string, depth int) string {
	list := func() string {
		n := 1 + r.IntN(3)
		c := make([]string, n)
		for i := range c {
			c[i] = propCondition(r, uuids, depth)
		}
		return "[" + strings.Join(c, ",") + "]"
	}
	var parts []string
	if r.IntN(3) > 0 {
		parts = append(parts, `"must":`+list())
	}
	if r.IntN(2) == 0 {
		parts = append(parts, `"should":`+list())
	}
	if r.IntN(3) == 0 {
		parts = append(parts, `"must_not":`+list())
	}
	if r.IntN(5) == 0 {
		parts = append(parts, fmt.Sprintf(`"min_should":{"conditions":%s,"min_count":%d}`, list(), 1+r.IntN(2)))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestIndexesDoNotChangeResults(t *testing.T) {
	seed := uint64(20261125)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	uuids := make([]string, 6)
	for i := range uuids {
		uuids[i] = uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(i)}).String()
	}
	specs := map[string]VectorSpec{"": {Dim: 4, Distance: "Dot"}}
	plain, indexed := NewStore(specs), NewStore(specs)
	for key, schema := range propIndexes {
		if err := indexed.CreateIndex(key, json.RawMessage(schema)); err != nil {
			t.Fatalf("index %s: %v", key, err)
		}
	}
	for i := range 300 {
		id := point.NumID(uint64(i))
		v := []float32{r.Float32(), r.Float32(), r.Float32(), r.Float32()}
		p := propPayload(r, uuids)
		plain.Upsert(id, 1, point.Vectors{"": v}, p)
		indexed.Upsert(id, 1, point.Vectors{"": v}, p)
	}
	// Deletes and payload changes after the index exists.
	for i := 0; i < 300; i += 7 {
		plain.Delete(point.NumID(uint64(i)))
		indexed.Delete(point.NumID(uint64(i)))
	}
	for i := 3; i < 300; i += 11 {
		p := propPayload(r, uuids)
		plain.SetPayload(point.NumID(uint64(i)), 2, p)
		indexed.SetPayload(point.NumID(uint64(i)), 2, p)
	}
	plain.PrepareRead()
	indexed.PrepareRead()

	for k := range 400 {
		js := propFilter(r, uuids, 0)
		f, err := filter.Parse([]byte(js))
		if err != nil {
			t.Fatalf("filter %d %s: %v", k, js, err)
		}
		want, got := plain.MatchingIDs(f), indexed.MatchingIDs(f)
		if !slices.Equal(want, got) {
			t.Fatalf("filter %s:\nwithout indexes %v\nwith indexes    %v", js, want, got)
		}
		if n := must(indexed.Count(bg, f)); n != len(want) {
			t.Fatalf("filter %s: count %d, scroll %d", js, n, len(want))
		}
		page, next := scroll(indexed, f, nil, 5, nil)
		if len(want) > 5 && (len(page) != 5 || next == nil || *next != want[5]) {
			t.Fatalf("filter %s: first page %v next %v, want %v", js, page, next, want[:6])
		}
		q := []float32{r.Float32(), r.Float32(), r.Float32(), r.Float32()}
		a := must(plain.Search(bg, SearchParams{Vector: "", Query: q, Filter: f, Limit: 7}))
		b := must(indexed.Search(bg, SearchParams{Vector: "", Query: q, Filter: f, Limit: 7}))
		if !slices.EqualFunc(a, b, func(x, y Scored) bool { return plain.ids[x.Offset] == indexed.ids[y.Offset] && x.Score == y.Score }) {
			t.Fatalf("filter %s: search differs", js)
		}
	}
}

// TestPlannerUsesIndexes checks the plan shape: indexed conditions become
// exact sets (so counts need no payload reads), others stay predicates.
func TestPlannerUsesIndexes(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"": {Dim: 1, Distance: "Dot"}})
	if err := s.CreateIndex("kw", json.RawMessage(`"keyword"`)); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"": {1}}, point.Payload{"kw": propWords[i%4], "n": json.Number(fmt.Sprint(i))})
	}
	s.PrepareRead()
	cases := []struct {
		js       string
		exact    bool
		hasCands bool
		est      int
	}{
		{`{"must":[{"key":"kw","match":{"value":"alpha"}}]}`, true, true, 25},
		{`{"must_not":[{"key":"kw","match":{"value":"alpha"}}]}`, true, true, 75},
		{`{"should":[{"key":"kw","match":{"value":"alpha"}},{"key":"kw","match":{"value":"bravo"}}]}`, true, true, 50},
		{`{"must":[{"key":"kw","match":{"value":"alpha"}},{"key":"n","range":{"lt":50}}]}`, false, true, 12},
		{`{"must":[{"key":"n","range":{"lt":50}}]}`, false, false, 50},
	}
	for _, c := range cases {
		f, err := filter.Parse([]byte(c.js))
		if err != nil {
			t.Fatal(err)
		}
		p := s.compile(f)
		cands, exact := p.candidates()
		if exact != c.exact || (cands != nil) != c.hasCands || p.estimate() != c.est {
			t.Errorf("%s: exact %v candidates %v estimate %d; want %v %v %d", c.js, exact, cands != nil, p.estimate(), c.exact, c.hasCands, c.est)
		}
	}
	if n := s.EstimateCount(nil); n != 100 {
		t.Fatalf("estimate without filter %d", n)
	}
}

// TestIndexPersistence: a checkpoint carries the index data, so a reload
// does not rebuild; unreadable data is rebuilt, not fatal.
func TestIndexPersistence(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"": {Dim: 1, Distance: "Dot"}})
	for i := range 50 {
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"": {1}}, point.Payload{"kw": propWords[i%4]})
	}
	s.Delete(point.NumID(3))
	if err := s.CreateIndex("kw", json.RawMessage(`"keyword"`)); err != nil {
		t.Fatal(err)
	}
	s.PrepareRead()
	var buf strings.Builder
	if err := s.WriteCheckpoint(&buf, 9); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadCheckpoint([]byte(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RebuiltIndexes()) != 0 {
		t.Fatalf("rebuilt %v after a clean reload", got.RebuiltIndexes())
	}
	f, _ := filter.Parse([]byte(`{"must":[{"key":"kw","match":{"value":"alpha"}}]}`))
	if a, b := must(s.Count(bg, f)), must(got.Count(bg, f)); a != b || a != 13 {
		t.Fatalf("count before %d after %d, want 13", a, b)
	}
	if info := got.Indexes()["kw"]; info.Points != 49 {
		t.Fatalf("index points %d, want 49", info.Points)
	}
	// Unreadable index data: the index is rebuilt from the points.
	bad := NewStore(map[string]VectorSpec{"": {Dim: 1, Distance: "Dot"}})
	bad.Upsert(point.NumID(1), 1, point.Vectors{"": {1}}, point.Payload{"kw": "alpha"})
	if rebuilt, err := bad.loadIndex("kw", json.RawMessage(`"keyword"`), []byte("garbage")); err != nil || !rebuilt {
		t.Fatalf("loadIndex on garbage: rebuilt %v err %v", rebuilt, err)
	}
	if must(bad.Count(bg, f)) != 1 {
		t.Fatal("rebuilt index does not answer")
	}
}
