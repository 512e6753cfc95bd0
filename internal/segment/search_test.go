package segment

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

var distances = []vector.Distance{vector.Cosine, vector.Dot, vector.Euclid, vector.Manhattan}

// newRand returns a seeded generator and logs the seed, so a failure can be
// replayed by pinning it.
func newRand(t testing.TB, seed uint64) *rand.Rand {
	t.Helper()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// randomVector draws from a small grid when coarse, so that equal scores
// are common and tie-breaking gets exercised.
func randomVector(r *rand.Rand, dim int, coarse bool) []float32 {
	v := make([]float32, dim)
	for i := range v {
		if coarse {
			v[i] = float32(r.IntN(3) - 1)
		} else {
			v[i] = float32(r.NormFloat64())
		}
	}
	return v
}

type refHit struct {
	id    point.ID
	score float32
}

// bruteForce is the reference: score every live point with a vector,
// keep those passing the threshold, filter and exclusion, order by score
// then id, and cut at limit.
func bruteForce(s *Store, p SearchParams) []refHit {
	c := s.columns[p.Vector]
	var all []refHit
	for id, off := range s.offsets {
		if !c.has[off] {
			continue
		}
		v, _ := s.Vector(id, p.Vector)
		score := c.spec.Distance.Score(p.Query, v)
		if p.Threshold != nil && !c.spec.Distance.PassesThreshold(score, *p.Threshold) {
			continue
		}
		if _, ex := p.Exclude[id]; ex {
			continue
		}
		if p.Filter != nil && !p.Filter.Matches(id, s.payloads[off]) {
			continue
		}
		all = append(all, refHit{id, score})
	}
	d := c.spec.Distance
	slices.SortFunc(all, func(a, b refHit) int {
		switch {
		case d.Better(a.score, b.score):
			return -1
		case d.Better(b.score, a.score):
			return 1
		}
		return a.id.Compare(b.id)
	})
	if len(all) > p.Limit {
		all = all[:p.Limit]
	}
	return all
}

// randomSearchStore fills a store with n points, about a tenth of them
// without a vector and a tenth deleted, with a payload {"g": 0..3}.
func randomSearchStore(r *rand.Rand, d vector.Distance, dim, n int, coarse bool) *Store {
	s := NewStore(map[string]VectorSpec{"v": {Dim: dim, Distance: d}})
	for i := range n {
		var id point.ID
		if r.IntN(4) == 0 {
			var u [16]byte
			for j := range u {
				u[j] = byte(r.IntN(256))
			}
			id = point.UUIDID(u)
		} else {
			id = point.NumID(uint64(r.IntN(n * 4)))
		}
		vecs := point.Vectors{"v": d.Preprocess(randomVector(r, dim, coarse))}
		if r.IntN(10) == 0 {
			vecs = nil
		}
		s.Upsert(id, uint64(i), vecs, point.Payload{"g": r.IntN(4)})
		if r.IntN(10) == 0 {
			s.Delete(id)
		}
	}
	s.PrepareRead()
	return s
}

func fmtHits(s *Store, hits []Scored) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "%v:%v ", s.ids[h.Offset], h.Score)
	}
	return b.String()
}

func fmtRef(hits []refHit) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "%v:%v ", h.id, h.score)
	}
	return b.String()
}

func TestSearchMatchesBruteForce(t *testing.T) {
	seed := uint64(20261125)
	r := newRand(t, seed)
	type tc struct {
		name      string
		limit     int
		threshold bool
		exclude   bool
		filter    bool
	}
	cases := []tc{
		{name: "top1", limit: 1},
		{name: "top10", limit: 10},
		{name: "limit above count", limit: 10000},
		{name: "threshold", limit: 50, threshold: true},
		{name: "exclude", limit: 10, exclude: true},
		{name: "filter", limit: 10, filter: true},
		{name: "everything", limit: 25, threshold: true, exclude: true, filter: true},
	}
	for _, d := range distances {
		for _, coarse := range []bool{false, true} {
			grid := "continuous"
			if coarse {
				grid = "coarse"
			}
			s := randomSearchStore(r, d, 8, 600, coarse)
			live := s.MatchingIDs(nil)
			for _, c := range cases {
				t.Run(string(d)+"/"+grid+"/"+c.name, func(t *testing.T) {
					for range 5 {
						p := SearchParams{Vector: "v", Query: d.Preprocess(randomVector(r, 8, coarse)), Limit: c.limit}
						if c.threshold {
							// A threshold at the score of some stored point
							// keeps a good part of them, ties included.
							pick, _ := s.Vector(live[r.IntN(len(live))], "v")
							for pick == nil {
								pick, _ = s.Vector(live[r.IntN(len(live))], "v")
							}
							th := d.Score(p.Query, pick)
							p.Threshold = &th
						}
						if c.exclude {
							p.Exclude = map[point.ID]struct{}{}
							top := bruteForce(s, SearchParams{Vector: "v", Query: p.Query, Limit: 5})
							for _, h := range top[:3] {
								p.Exclude[h.id] = struct{}{}
							}
							p.Exclude[point.NumID(1<<62)] = struct{}{} // absent: harmless
						}
						if c.filter {
							g := r.IntN(4)
							p.Filter = payloadEq("g", fmt.Sprint(g))
						}
						want := bruteForce(s, p)
						got := must(s.Search(bg, p))
						if len(got) != len(want) {
							t.Fatalf("%d hits, want %d", len(got), len(want))
						}
						for i := range got {
							gid := s.ids[got[i].Offset]
							if gid != want[i].id || got[i].Score != want[i].score {
								t.Fatalf("hit %d = (%v, %v), want (%v, %v)\n got: %s\nwant: %s",
									i, gid, got[i].Score, want[i].id, want[i].score, fmtHits(s, got), fmtRef(want))
							}
						}
					}
				})
			}
		}
	}
}

// TestSearchTiesByID pins the order of equal scores to the id order, also
// at the cut: of many equally good points the smallest ids are kept,
// whatever their position in the store.
func TestSearchTiesByID(t *testing.T) {
	for _, d := range distances {
		t.Run(string(d), func(t *testing.T) {
			s := NewStore(map[string]VectorSpec{"": {Dim: 2, Distance: d}})
			same := d.Preprocess([]float32{1, 0})
			// Offsets in descending id order, then a reused slot.
			order := []uint64{50, 40, 30, 20, 10, 5, 99}
			for _, n := range order {
				s.Upsert(num(n), 1, point.Vectors{"": same}, nil)
			}
			s.Delete(num(99))
			s.Upsert(num(1), 1, point.Vectors{"": same}, nil)
			s.Upsert(uid(t, "00000000-0000-0000-0000-000000000009"), 1, point.Vectors{"": same}, nil)
			s.PrepareRead()
			q := d.Preprocess([]float32{1, 0})
			all := []point.ID{num(1), num(5), num(10), num(20), num(30), num(40), num(50), uid(t, "00000000-0000-0000-0000-000000000009")}
			for limit := 1; limit <= len(all)+1; limit++ {
				hits := must(s.Search(bg, SearchParams{Vector: "", Query: q, Limit: limit}))
				var got []point.ID
				for _, h := range hits {
					got = append(got, s.ids[h.Offset])
				}
				want := all[:min(limit, len(all))]
				if !slices.Equal(got, want) {
					t.Fatalf("limit %d: got %v, want %v", limit, got, want)
				}
			}
		})
	}
}

func TestSearchEdgeCases(t *testing.T) {
	s := NewStore(map[string]VectorSpec{"": {Dim: 2, Distance: vector.Euclid}})
	s.Upsert(num(1), 1, point.Vectors{"": {0, 0}}, nil)
	s.Upsert(num(2), 1, point.Vectors{"": {3, 4}}, nil)
	s.Upsert(num(3), 1, nil, nil)
	five, tooStrict := float32(5), float32(4.99)
	cases := []struct {
		name string
		p    SearchParams
		want []point.ID
	}{
		{"unknown column", SearchParams{Vector: "x", Query: []float32{0, 0}, Limit: 3}, nil},
		{"zero limit", SearchParams{Vector: "", Query: []float32{0, 0}, Limit: 0}, nil},
		{"negative limit", SearchParams{Vector: "", Query: []float32{0, 0}, Limit: -1}, nil},
		{"threshold inclusive", SearchParams{Vector: "", Query: []float32{0, 0}, Limit: 3, Threshold: &five}, []point.ID{num(1), num(2)}},
		{"threshold excludes", SearchParams{Vector: "", Query: []float32{0, 0}, Limit: 3, Threshold: &tooStrict}, []point.ID{num(1)}},
		{"point without vector skipped", SearchParams{Vector: "", Query: []float32{3, 4}, Limit: 3}, []point.ID{num(2), num(1)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []point.ID
			for _, h := range must(s.Search(bg, c.p)) {
				got = append(got, s.RecordAt(h.Offset, nil).ID)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
