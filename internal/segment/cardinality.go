package segment

import (
	"math"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/index/payload"
)

// Cardinality is Qdrant's CardinalityEstimation: how many points of a
// segment a filter is expected to select, with the bounds the estimate is
// sure of (Min <= Exp <= Max).
type Cardinality struct {
	Min, Exp, Max int
}

// Add sums two estimates, as Qdrant sums the estimates of a shard's
// segments.
func (c Cardinality) Add(o Cardinality) Cardinality {
	return Cardinality{Min: c.Min + o.Min, Exp: c.Exp + o.Exp, Max: c.Max + o.Max}
}

func exactCard(n int) Cardinality { return Cardinality{n, n, n} }

// unknownCard is what Qdrant assumes of a condition no index answers: any
// number of points, half of them expected.
func unknownCard(total int) Cardinality { return Cardinality{Min: 0, Exp: total / 2, Max: total} }

// maxMinShouldCombinations bounds the intersections a min_should clause is
// estimated through (Qdrant enumerates all C(n, min_count) of them); past
// it the clause counts as unknown.
const maxMinShouldCombinations = 1 << 12

// EstimateCardinality estimates how many live points match f (all of them
// without one) the way Qdrant's query_estimator does, which is what
// `count` with `exact: false` answers: conditions combine under the
// independence assumption (must multiplies the selected shares, should and
// min_should take the complement of the product of the misses, must_not
// inverts), a condition no payload index answers selects an unknown number
// expected at half the points, has_id and has_vector count exactly.
//
// Where Qdrant's field indexes themselves estimate, Shoal's answer exactly
// (a numeric range counts its points instead of reading a histogram),
// except match any on a keyword, uuid or integer index, which Qdrant
// estimates from the count of each value as a should over them, and so
// does Shoal.
func (s *Store) EstimateCardinality(f *filter.Filter) Cardinality {
	total := len(s.offsets)
	if f == nil {
		return exactCard(total)
	}
	return s.estimateFilter(f, total, false)
}

// estimateFilter is Qdrant's estimate_filter. inNested marks the inner
// filter of a nested condition, whose field conditions no index answers
// here (Qdrant looks for an index on the joined path; Shoal's nested
// filters are checked on the payload).
func (s *Store) estimateFilter(f *filter.Filter, total int, inNested bool) Cardinality {
	var parts []Cardinality
	if len(f.Must) > 0 {
		parts = append(parts, combineMust(s.estimateAll(f.Must, total, inNested), total))
	}
	if len(f.Should) > 0 {
		parts = append(parts, combineShould(s.estimateAll(f.Should, total, inNested), total))
	}
	if m := f.MinShould; m != nil {
		parts = append(parts, combineMinShould(s.estimateAll(m.Conditions, total, inNested), m.MinCount, total))
	}
	if len(f.MustNot) > 0 {
		inv := s.estimateAll(f.MustNot, total, inNested)
		for i, c := range inv {
			inv[i] = Cardinality{Min: total - c.Max, Exp: total - c.Exp, Max: total - c.Min}
		}
		parts = append(parts, combineMust(inv, total))
	}
	return combineMust(parts, total)
}

func (s *Store) estimateAll(cs []filter.Condition, total int, inNested bool) []Cardinality {
	out := make([]Cardinality, len(cs))
	for i, c := range cs {
		out[i] = s.estimateCondition(c, total, inNested)
	}
	return out
}

func (s *Store) estimateCondition(c filter.Condition, total int, inNested bool) Cardinality {
	switch c := c.(type) {
	case *filter.Filter:
		return s.estimateFilter(c, total, inNested)
	case *filter.NestedCondition:
		return s.estimateFilter(c.Filter, total, true)
	case *filter.HasIDCondition:
		if inNested {
			break
		}
		n := 0
		for _, id := range c.IDs() {
			if _, ok := s.offsets[id]; ok {
				n++
			}
		}
		return exactCard(n)
	case *filter.HasVectorCondition:
		if inNested {
			break
		}
		return exactCard(min(s.VectorCount(c.Name), total))
	case *filter.FieldCondition:
		if inNested {
			break
		}
		if fi, ok := s.index(c.Key.String()); ok {
			if est, ok := s.estimateMatchAny(fi, c, total); ok {
				return est
			}
			if b, ok := s.lookup(fi, c); ok {
				return exactCard(b.count())
			}
		}
	}
	return unknownCard(total)
}

// estimateMatchAny is Qdrant's map index estimate of match any: a should
// over the exact count of each value, out of the points the index holds.
func (s *Store) estimateMatchAny(fi *fieldIndex, c *filter.FieldCondition, total int) (Cardinality, bool) {
	any, ok := c.Match.(*filter.MatchAny)
	if !ok || c.Kind() != filter.KindMatch {
		return Cardinality{}, false
	}
	var values []filter.Value
	switch x := fi.idx.(type) {
	case *payload.KeywordIndex, *payload.UUIDIndex:
		if any.Any.IsIntegers() {
			return Cardinality{}, false
		}
		for _, k := range any.Any.Keywords() {
			values = append(values, filter.Keyword(k))
		}
	case *payload.IntegerIndex:
		if !any.Any.IsIntegers() || !x.Schema().LookupEnabled() {
			return Cardinality{}, false
		}
		for _, n := range any.Any.Integers() {
			values = append(values, filter.Integer(n))
		}
	default:
		return Cardinality{}, false
	}
	if len(values) == 0 {
		return exactCard(0), true
	}
	ests := make([]Cardinality, 0, len(values))
	for _, v := range values {
		one := &filter.FieldCondition{Key: c.Key, Match: &filter.MatchValue{Value: v}}
		b, ok := s.lookup(fi, one)
		if !ok {
			return Cardinality{}, false
		}
		ests = append(ests, exactCard(b.count()))
	}
	// The index's points are those with a value for the field; a point
	// deleted since may still be counted there, never more than the live
	// points the segment has.
	return combineShould(ests, min(max(fi.idx.Points(), 0), total)), true
}

// combineMust is Qdrant's combine_must_estimations.
func combineMust(ests []Cardinality, total int) Cardinality {
	lo := total
	hi := total
	prob := 1.0
	for i, e := range ests {
		lo = max(0, lo+e.Min-total)
		if i == 0 || e.Max < hi {
			hi = e.Max
		}
		prob *= ratio(e.Exp, total)
	}
	return Cardinality{Min: lo, Exp: roundCount(prob * float64(total)), Max: hi}
}

// combineShould is Qdrant's combine_should_estimations.
func combineShould(ests []Cardinality, total int) Cardinality {
	miss := 1.0
	lo, sum := 0, 0
	for _, e := range ests {
		miss *= ratio(max(total-e.Exp, 0), total)
		lo = max(lo, e.Min)
		sum += e.Max
	}
	return Cardinality{Min: lo, Exp: roundCount((1 - miss) * float64(total)), Max: min(sum, total)}
}

// combineMinShould is Qdrant's combine_min_should_estimations: a should
// over the musts of every choice of minCount conditions.
func combineMinShould(ests []Cardinality, minCount, total int) Cardinality {
	if binomialOver(len(ests), minCount, maxMinShouldCombinations) {
		return unknownCard(total)
	}
	var inter []Cardinality
	pick := make([]Cardinality, 0, minCount)
	var rec func(from int)
	rec = func(from int) {
		if len(pick) == minCount {
			inter = append(inter, combineMust(pick, total))
			return
		}
		for i := from; i < len(ests); i++ {
			pick = append(pick, ests[i])
			rec(i + 1)
			pick = pick[:len(pick)-1]
		}
	}
	if minCount <= len(ests) {
		rec(0)
	}
	return combineShould(inter, total)
}

// binomialOver reports whether C(n, k) exceeds limit.
func binomialOver(n, k, limit int) bool {
	if k < 0 || k > n {
		return false
	}
	k = min(k, n-k)
	c := 1.0
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
		if c > float64(limit) {
			return true
		}
	}
	return false
}

// ratio is a/total as Qdrant computes it in f64; an empty segment makes it
// NaN there, which rounds to 0 points when cast back.
func ratio(a, total int) float64 { return float64(a) / float64(total) }

// roundCount rounds half away from zero as Rust's f64::round, and casts as
// Rust's `as usize`: NaN and negatives are 0.
func roundCount(x float64) int {
	if math.IsNaN(x) || x <= 0 {
		return 0
	}
	return int(math.Round(x))
}
