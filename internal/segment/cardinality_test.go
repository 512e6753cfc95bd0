package segment

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// TestEstimateCardinality holds the estimator to Qdrant's formulas
// (lib/segment/src/index/query_estimator.rs), computed by hand for a
// segment of 100 live points: kw is indexed with four values of 25 points
// each, free is not indexed, and points 0..9 have a vector "v".
func TestEstimateCardinality(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"": {Dim: 1, Distance: "Dot"}, "v": {Dim: 1, Distance: "Dot"}})
	if err := s.CreateIndex("kw", json.RawMessage(`"keyword"`)); err != nil {
		t.Fatal(err)
	}
	for i := range 104 {
		vs := point.Vectors{"": {1}}
		if i < 10 {
			vs["v"] = []float32{1}
		}
		s.Upsert(point.NumID(uint64(i)), 1, vs, point.Payload{"kw": propWords[i%4], "free": json.Number(fmt.Sprint(i % 3))})
	}
	for i := 100; i < 104; i++ { // deleted points count nowhere
		s.Delete(point.NumID(uint64(i)))
	}
	s.PrepareRead()
	const (
		alpha = `{"key":"kw","match":{"value":"alpha"}}`
		free  = `{"key":"free","match":{"value":1}}`
	)
	cases := []struct {
		name string
		js   string
		want Cardinality
	}{
		{"indexed value is exact", `{"must":[` + alpha + `]}`, Cardinality{25, 25, 25}},
		{"unindexed is unknown: half expected", `{"must":[` + free + `]}`, Cardinality{0, 50, 100}},
		// Two unknowns under should: 1 - (1/2)^2 = 0.75 of 100. Qdrant's
		// test_count expects an approximate count under 10 for its 10
		// points (7.5 rounds to 8): a sum of the estimates would give 10.
		{"should of two unknowns", `{"should":[` + free + `,{"key":"free","match":{"value":2}}]}`, Cardinality{0, 75, 100}},
		// must: 25/100 * 50/100 of 100 = 12.5, rounded away from zero.
		{"must multiplies", `{"must":[` + alpha + `,` + free + `]}`, Cardinality{0, 13, 25}},
		{"must_not inverts", `{"must_not":[` + alpha + `]}`, Cardinality{75, 75, 75}},
		{"must_not of unknown", `{"must_not":[` + free + `]}`, Cardinality{0, 50, 100}},
		// Indexed should: 1 - (3/4)(3/4) = 0.4375 -> 44, min the larger
		// min, max the sum of maxes.
		{"should of two values", `{"should":[` + alpha + `,{"key":"kw","match":{"value":"bravo"}}]}`, Cardinality{25, 44, 50}},
		// match any on a keyword index: a should over the value counts,
		// out of the 100 points the index holds.
		{"match any", `{"must":[{"key":"kw","match":{"any":["alpha","bravo"]}}]}`, Cardinality{25, 44, 50}},
		{"match any of nothing known", `{"must":[{"key":"kw","match":{"any":["zzz"]}}]}`, Cardinality{0, 0, 0}},
		{"has_id counts present ids", `{"must":[{"has_id":[1,2,3,101,5000]}]}`, Cardinality{3, 3, 3}},
		{"has_vector counts vectors", `{"must":[{"has_vector":"v"}]}`, Cardinality{10, 10, 10}},
		// min_should 2 of three: a should over the three pairwise musts.
		// alpha&free: 12.5->13 (0..25), alpha&bravo: 6.25->6 (0..25),
		// free&bravo: 13 (0..25); 1-(87/100)(94/100)(87/100) = 0.288538
		{"min_should", `{"min_should":{"min_count":2,"conditions":[` + alpha + `,{"key":"kw","match":{"value":"bravo"}},` + free + `]}}`, Cardinality{0, 29, 75}},
		{"min_should above the count", `{"min_should":{"min_count":3,"conditions":[` + alpha + `,` + free + `]}}`, Cardinality{0, 0, 0}},
		{"nested filter", `{"must":[{"must":[` + alpha + `]},` + free + `]}`, Cardinality{0, 13, 25}},
		{"nested condition is unknown inside", `{"must":[{"nested":{"key":"arr","filter":{"must":[{"key":"x","match":{"value":1}}]}}}]}`, Cardinality{0, 50, 100}},
		// All the clauses of one filter combine as a must.
		{"clauses combine", `{"must":[` + alpha + `],"must_not":[` + free + `]}`, Cardinality{0, 13, 25}},
	}
	for _, tc := range cases {
		f, err := filter.Parse([]byte(tc.js))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := s.EstimateCardinality(f); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := s.EstimateCardinality(nil); got != (Cardinality{100, 100, 100}) {
		t.Errorf("no filter: %+v", got)
	}
	empty := NewStore(map[string]VectorSpec{"": {Dim: 1, Distance: "Dot"}})
	f, _ := filter.Parse([]byte(`{"should":[` + free + `]}`))
	if got := empty.EstimateCardinality(f); got != (Cardinality{}) {
		t.Errorf("empty segment: %+v, want zeros", got)
	}
}

// TestEstimateMinShouldBound: a min_should with more combinations than the
// estimator enumerates counts as unknown instead of taking exponential time.
func TestEstimateMinShouldBound(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"": {Dim: 1, Distance: "Dot"}})
	for i := range 10 {
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"": {1}}, nil)
	}
	s.PrepareRead()
	conds := ""
	for i := range 40 {
		if i > 0 {
			conds += ","
		}
		conds += fmt.Sprintf(`{"key":"f%d","match":{"value":1}}`, i)
	}
	f, err := filter.Parse([]byte(`{"min_should":{"min_count":20,"conditions":[` + conds + `]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.EstimateCardinality(f); got != (Cardinality{0, 5, 10}) {
		t.Errorf("%+v, want unknown", got)
	}
}
