package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// bg is the context of the reads that are never cancelled.
var bg = context.Background()

// must is the answer of a read under bg, which cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// scroll is Scroll under bg.
func scroll(s *Store, f *filter.Filter, from *point.ID, limit int, sel VectorSelection) ([]Record, *point.ID) {
	recs, next, err := s.Scroll(bg, f, from, limit, sel)
	if err != nil {
		panic(err)
	}
	return recs, next
}

// mustFilter parses a filter in Qdrant's JSON form.
func mustFilter(js string) *filter.Filter {
	f, err := filter.Parse([]byte(js))
	if err != nil {
		panic(fmt.Sprintf("filter %s: %v", js, err))
	}
	return f
}

// payloadEq matches points whose payload key k holds the JSON value v.
func payloadEq(k, v string) *filter.Filter {
	return mustFilter(fmt.Sprintf(`{"must":[{"key":%q,"match":{"value":%s}}]}`, k, v))
}

func num(n uint64) point.ID { return point.NumID(n) }

func uid(t testing.TB, s string) point.ID {
	t.Helper()
	id, err := point.ParseUUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func pl(t testing.TB, js string) point.Payload {
	t.Helper()
	p, err := point.DecodePayload([]byte(js))
	if err != nil {
		t.Fatalf("payload %s: %v", js, err)
	}
	return p
}

func all(string) bool { return true }

// twoColumns has an unnamed 2-d Dot column and a named 3-d Euclid one.
func twoColumns() map[string]VectorSpec {
	return map[string]VectorSpec{
		"":    {Dim: 2, Distance: vector.Dot},
		"img": {Dim: 3, Distance: vector.Euclid},
	}
}

func ids(recs []Record) []point.ID {
	out := make([]point.ID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func TestUpsertReplacesEverything(t *testing.T) {
	cases := []struct {
		name        string
		second      point.Vectors
		secondPL    string
		wantVectors point.Vectors
		wantPayload string
	}{
		{
			name:        "both vectors given",
			second:      point.Vectors{"": {5, 6}, "img": {7, 8, 9}},
			secondPL:    `{"b":2}`,
			wantVectors: point.Vectors{"": {5, 6}, "img": {7, 8, 9}},
			wantPayload: `{"b":2}`,
		},
		{
			name:        "named vector not given is dropped",
			second:      point.Vectors{"": {5, 6}},
			secondPL:    `{"a":1}`,
			wantVectors: point.Vectors{"": {5, 6}},
			wantPayload: `{"a":1}`,
		},
		{
			name:        "unnamed vector not given is dropped",
			second:      point.Vectors{"img": {7, 8, 9}},
			secondPL:    `null`,
			wantVectors: point.Vectors{"img": {7, 8, 9}},
			wantPayload: `null`,
		},
		{
			name:        "no vectors at all",
			second:      nil,
			secondPL:    `{}`,
			wantVectors: point.Vectors{},
			wantPayload: `{}`,
		},
		{
			name:        "unknown vector name is ignored",
			second:      point.Vectors{"nope": {1}, "": {1, 1}},
			secondPL:    `{"c":[1,2]}`,
			wantVectors: point.Vectors{"": {1, 1}},
			wantPayload: `{"c":[1,2]}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewStore(twoColumns())
			s.Upsert(num(7), 1, point.Vectors{"": {1, 2}, "img": {3, 4, 5}}, pl(t, `{"a":1,"z":true}`))
			s.Upsert(num(7), 2, c.second, pl(t, c.secondPL))
			if s.Len() != 1 {
				t.Fatalf("Len = %d, want 1", s.Len())
			}
			r, ok := s.Get(num(7), all)
			if !ok {
				t.Fatal("point vanished")
			}
			if r.Version != 2 {
				t.Errorf("version = %d, want 2", r.Version)
			}
			if !reflect.DeepEqual(r.Vectors, c.wantVectors) {
				t.Errorf("vectors = %v, want %v", r.Vectors, c.wantVectors)
			}
			if got, _ := json.Marshal(r.Payload); string(got) != c.wantPayload {
				t.Errorf("payload = %s, want %s", got, c.wantPayload)
			}
		})
	}
}

func TestUpsertCopiesVectors(t *testing.T) {
	s := NewStore(twoColumns())
	v := []float32{1, 2}
	s.Upsert(num(1), 1, point.Vectors{"": v}, nil)
	v[0] = 100
	got, _ := s.Vector(num(1), "")
	if got[0] != 1 {
		t.Fatalf("store shares the caller's slice: %v", got)
	}
	got[1] = 100
	again, _ := s.Vector(num(1), "")
	if again[1] != 2 {
		t.Fatalf("Vector returned the store's slice: %v", again)
	}
	r, _ := s.Get(num(1), all)
	r.Vectors[""][0] = 55
	again, _ = s.Vector(num(1), "")
	if again[0] != 1 {
		t.Fatalf("Get returned the store's slice: %v", again)
	}
}

func TestDeleteAndSlotReuse(t *testing.T) {
	s := NewStore(twoColumns())
	for i := range uint64(4) {
		s.Upsert(num(i), i, point.Vectors{"": {float32(i), 0}, "img": {float32(i), 0, 0}}, pl(t, fmt.Sprintf(`{"i":%d}`, i)))
	}
	if !s.Delete(num(1)) {
		t.Fatal("Delete(1) = false")
	}
	if s.Delete(num(1)) {
		t.Fatal("second Delete(1) = true")
	}
	if s.Delete(num(99)) {
		t.Fatal("Delete of a missing id = true")
	}
	if s.Has(num(1)) || s.Len() != 3 {
		t.Fatalf("after delete: Has=%v Len=%d", s.Has(num(1)), s.Len())
	}
	if _, ok := s.Get(num(1), all); ok {
		t.Fatal("Get finds a deleted point")
	}
	if _, ok := s.Payload(num(1)); ok {
		t.Fatal("Payload finds a deleted point")
	}
	slots := len(s.ids)

	// The freed slot is reused, and nothing of the old point leaks into
	// the new one: the new point has only the unnamed vector.
	s.Upsert(num(10), 5, point.Vectors{"": {9, 9}}, nil)
	if len(s.ids) != slots {
		t.Fatalf("slot not reused: %d slots, had %d", len(s.ids), slots)
	}
	r, ok := s.Get(num(10), all)
	if !ok {
		t.Fatal("new point missing")
	}
	if want := (point.Vectors{"": {9, 9}}); !reflect.DeepEqual(r.Vectors, want) || r.Payload != nil || r.Version != 5 {
		t.Fatalf("reused slot holds %+v", r)
	}
	if _, ok := s.Vector(num(10), "img"); ok {
		t.Fatal("reused slot kept the deleted point's named vector")
	}
	s.PrepareRead()
	got, _ := scroll(s, nil, nil, 10, nil)
	if want := []point.ID{num(0), num(2), num(3), num(10)}; !slices.Equal(ids(got), want) {
		t.Fatalf("scroll after reuse = %v, want %v", ids(got), want)
	}
	// Deleted points are invisible to search.
	hits := must(s.Search(bg, SearchParams{Vector: "img", Query: []float32{1, 0, 0}, Limit: 10}))
	for _, h := range hits {
		if s.ids[h.Offset] == num(1) || s.ids[h.Offset] == num(10) {
			t.Fatalf("search returned %v, which has no img vector", s.ids[h.Offset])
		}
	}
	if len(hits) != 3 {
		t.Fatalf("search found %d hits, want 3", len(hits))
	}
}

func TestPointUpdatesOnMissingIDs(t *testing.T) {
	s := NewStore(twoColumns())
	s.Upsert(num(1), 1, point.Vectors{"": {1, 1}}, nil)
	cases := []struct {
		name string
		do   func() bool
	}{
		{"SetPayload", func() bool { return s.SetPayload(num(2), 9, point.Payload{"a": "b"}) }},
		{"UpdateVectors", func() bool { return s.UpdateVectors(num(2), 9, point.Vectors{"": {2, 2}}) }},
		{"DeleteVectors", func() bool { return s.DeleteVectors(num(2), 9, []string{""}) }},
		{"Delete", func() bool { return s.Delete(num(2)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.do() {
				t.Fatal("reported success on a missing id")
			}
			if s.Has(num(2)) || s.Len() != 1 {
				t.Fatal("created the missing id")
			}
		})
	}
}

func TestPointUpdates(t *testing.T) {
	base := func(t *testing.T) *Store {
		s := NewStore(twoColumns())
		s.Upsert(num(1), 1, point.Vectors{"": {1, 2}, "img": {3, 4, 5}}, pl(t, `{"a":1}`))
		return s
	}
	cases := []struct {
		name        string
		do          func(*Store) bool
		wantVectors point.Vectors
		wantPayload string
	}{
		{
			name:        "SetPayload replaces the payload",
			do:          func(s *Store) bool { return s.SetPayload(num(1), 2, point.Payload{"b": "x"}) },
			wantVectors: point.Vectors{"": {1, 2}, "img": {3, 4, 5}},
			wantPayload: `{"b":"x"}`,
		},
		{
			name:        "SetPayload nil clears it",
			do:          func(s *Store) bool { return s.SetPayload(num(1), 2, nil) },
			wantVectors: point.Vectors{"": {1, 2}, "img": {3, 4, 5}},
			wantPayload: `null`,
		},
		{
			name:        "UpdateVectors keeps the vectors not given",
			do:          func(s *Store) bool { return s.UpdateVectors(num(1), 2, point.Vectors{"img": {0, 0, 1}}) },
			wantVectors: point.Vectors{"": {1, 2}, "img": {0, 0, 1}},
			wantPayload: `{"a":1}`,
		},
		{
			name: "UpdateVectors restores a deleted vector",
			do: func(s *Store) bool {
				return s.DeleteVectors(num(1), 2, []string{""}) && s.UpdateVectors(num(1), 2, point.Vectors{"": {8, 8}})
			},
			wantVectors: point.Vectors{"": {8, 8}, "img": {3, 4, 5}},
			wantPayload: `{"a":1}`,
		},
		{
			name:        "DeleteVectors removes named and unnamed",
			do:          func(s *Store) bool { return s.DeleteVectors(num(1), 2, []string{"img", ""}) },
			wantVectors: point.Vectors{},
			wantPayload: `{"a":1}`,
		},
		{
			name:        "DeleteVectors ignores unknown names",
			do:          func(s *Store) bool { return s.DeleteVectors(num(1), 2, []string{"nope"}) },
			wantVectors: point.Vectors{"": {1, 2}, "img": {3, 4, 5}},
			wantPayload: `{"a":1}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base(t)
			if !c.do(s) {
				t.Fatal("update reported a missing point")
			}
			r, _ := s.Get(num(1), all)
			if r.Version != 2 {
				t.Errorf("version = %d, want 2", r.Version)
			}
			if !reflect.DeepEqual(r.Vectors, c.wantVectors) {
				t.Errorf("vectors = %v, want %v", r.Vectors, c.wantVectors)
			}
			if got, _ := json.Marshal(r.Payload); string(got) != c.wantPayload {
				t.Errorf("payload = %s, want %s", got, c.wantPayload)
			}
		})
	}
}

func TestGetVectorSelection(t *testing.T) {
	s := NewStore(twoColumns())
	s.Upsert(num(1), 1, point.Vectors{"": {1, 2}, "img": {3, 4, 5}}, nil)
	cases := []struct {
		name string
		sel  VectorSelection
		want point.Vectors
	}{
		{"nil returns none", nil, nil},
		{"all", all, point.Vectors{"": {1, 2}, "img": {3, 4, 5}}},
		{"only img", func(n string) bool { return n == "img" }, point.Vectors{"img": {3, 4, 5}}},
		{"unknown name", func(n string) bool { return n == "x" }, point.Vectors{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, ok := s.Get(num(1), c.sel)
			if !ok {
				t.Fatal("missing")
			}
			if !reflect.DeepEqual(r.Vectors, c.want) {
				t.Fatalf("vectors = %#v, want %#v", r.Vectors, c.want)
			}
		})
	}
	if _, ok := s.Vector(num(1), "x"); ok {
		t.Fatal("Vector of an unknown column")
	}
	if _, ok := s.Vector(num(2), ""); ok {
		t.Fatal("Vector of a missing point")
	}
}

func TestAddColumn(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"": {Dim: 2, Distance: vector.Dot}})
	s.Upsert(num(1), 1, point.Vectors{"": {1, 2}}, nil)
	s.AddColumn("new", VectorSpec{Dim: 3, Distance: vector.Euclid})
	s.AddColumn("", VectorSpec{Dim: 5, Distance: vector.Euclid}) // existing: no-op
	if _, ok := s.Vector(num(1), "new"); ok {
		t.Fatal("old point got a vector in the new column")
	}
	if !s.UpdateVectors(num(1), 2, point.Vectors{"new": {1, 1, 1}}) {
		t.Fatal("UpdateVectors failed")
	}
	s.Upsert(num(2), 3, point.Vectors{"": {3, 4}, "new": {2, 2, 2}}, nil)
	if v, _ := s.Vector(num(1), "new"); !slices.Equal(v, []float32{1, 1, 1}) {
		t.Fatalf("new column of point 1 = %v", v)
	}
	if v, _ := s.Vector(num(2), ""); !slices.Equal(v, []float32{3, 4}) {
		t.Fatalf("old column of point 2 = %v (existing column was replaced?)", v)
	}
}

// mixedIDs returns numeric and UUID ids in the scroll order Qdrant uses.
func mixedIDs(t testing.TB) []point.ID {
	return []point.ID{
		num(0), num(1), num(2), num(10), num(1 << 40), num(18446744073709551615),
		uid(t, "00000000-0000-0000-0000-000000000000"),
		uid(t, "00000000-0000-0000-0000-000000000001"),
		uid(t, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"),
		uid(t, "ffffffff-ffff-ffff-ffff-fffffffffffe"),
	}
}

func TestScroll(t *testing.T) {
	want := mixedIDs(t)
	s := NewStore(twoColumns())
	// Insert in a scrambled order, with a deleted point in the middle.
	for _, i := range []int{7, 3, 9, 0, 5, 1, 8, 4, 2, 6} {
		s.Upsert(want[i], 1, nil, point.Payload{"even": i%2 == 0})
	}
	s.Upsert(num(5), 1, nil, nil)
	s.Delete(num(5))
	s.PrepareRead()

	even := payloadEq("even", "true")
	uuid5 := uid(t, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26")
	absent := num(3)
	cases := []struct {
		name     string
		m        *filter.Filter
		from     *point.ID
		limit    int
		wantIDs  []point.ID
		wantNext *point.ID
	}{
		{"all", nil, nil, 100, want, nil},
		{"exact page", nil, nil, len(want), want, nil},
		{"first page", nil, nil, 3, want[:3], &want[3]},
		{"from an existing id", nil, &want[3], 2, want[3:5], &want[5]},
		{"from an absent id", nil, &absent, 2, want[3:5], &want[5]},
		{"from the largest number reaches the uuids", nil, &want[5], 2, want[5:7], &want[7]},
		{"from a uuid", nil, &uuid5, 10, want[8:], nil},
		{"from past the end", nil, &want[9], 10, want[9:], nil},
		{"filtered", even, nil, 3, []point.ID{want[0], want[2], want[4]}, &want[6]},
		{"filtered from", even, &want[5], 10, []point.ID{want[6], want[8]}, nil},
		{"filter matching nothing", mustFilter(`{"should":[]}`), nil, 3, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, next := scroll(s, c.m, c.from, c.limit, nil)
			if !slices.Equal(ids(got), c.wantIDs) {
				t.Errorf("ids = %v, want %v", ids(got), c.wantIDs)
			}
			switch {
			case (next == nil) != (c.wantNext == nil):
				t.Errorf("next = %v, want %v", next, c.wantNext)
			case next != nil && *next != *c.wantNext:
				t.Errorf("next = %v, want %v", *next, *c.wantNext)
			}
			for _, r := range got {
				if r.Vectors != nil {
					t.Errorf("vectors returned without a selection")
				}
			}
		})
	}

	// Paging with next visits every point once, in order.
	var paged []point.ID
	var from *point.ID
	for range 20 {
		page, next := scroll(s, nil, from, 3, nil)
		paged = append(paged, ids(page)...)
		if next == nil {
			break
		}
		from = next
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged scroll = %v, want %v", paged, want)
	}
	if got := s.MatchingIDs(nil); !slices.Equal(got, want) {
		t.Fatalf("MatchingIDs = %v, want %v", got, want)
	}
	if got := s.MatchingIDs(even); !slices.Equal(got, []point.ID{want[0], want[2], want[4], want[6], want[8]}) {
		t.Fatalf("MatchingIDs(even) = %v", got)
	}
}

func TestScrollEmptyStore(t *testing.T) {
	s := NewStore(nil)
	if got, next := scroll(s, nil, nil, 10, nil); len(got) != 0 || next != nil {
		t.Fatalf("empty scroll = %v, %v", got, next)
	}
	s.PrepareRead()
	from := num(3)
	if got, next := scroll(s, nil, &from, 10, nil); len(got) != 0 || next != nil {
		t.Fatalf("empty scroll from = %v, %v", got, next)
	}
	if got := s.MatchingIDs(nil); got != nil {
		t.Fatalf("MatchingIDs = %v", got)
	}
}

func TestCount(t *testing.T) {
	s := NewStore(nil)
	for i := range uint64(20) {
		s.Upsert(num(i), 1, nil, point.Payload{"mod3": json.Number(fmt.Sprint(i % 3))})
	}
	s.Delete(num(0))
	s.Delete(num(4))
	cases := []struct {
		name string
		m    *filter.Filter
		want int
	}{
		{"nil counts all", nil, 18},
		{"mod3 = 0", payloadEq("mod3", "0"), 6}, // 3,6,...,18 (0 deleted)
		{"mod3 = 1", payloadEq("mod3", "1"), 6}, // 1,7,10,13,16,19 (4 deleted)
		{"mod3 = 2", payloadEq("mod3", "2"), 6},
		{"by id", mustFilter(`{"must":[{"has_id":[0,1,2,3,4]}]}`), 3},
		{"none", payloadEq("mod3", "7"), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := must(s.Count(bg, c.m)); got != c.want {
				t.Fatalf("Count = %d, want %d", got, c.want)
			}
			s.PrepareRead()
			if got := len(s.MatchingIDs(c.m)); got != c.want {
				t.Fatalf("len(MatchingIDs) = %d, want %d", got, c.want)
			}
		})
	}
}
