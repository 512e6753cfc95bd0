package filter

import "encoding/json"

// ValuesCount is `values_count: {lt, gt, gte, lte}`. Each value found at
// the key is counted on its own (Qdrant's ValuesCount::check_count_from):
// null counts 0, an array its length, anything else 1; the condition holds
// when some value's count is within the bounds. A key that yields no value
// counts 0 (Qdrant issue 9586), so {"lt": 1} matches points without the
// key. A nil bound is no bound; with no bound every point matches.
type ValuesCount struct {
	LT, GT, GTE, LTE *uint64
}

// ContainsCount reports whether n is within the bounds.
func (c *ValuesCount) ContainsCount(n uint64) bool {
	return (c.LT == nil || n < *c.LT) && (c.GT == nil || n > *c.GT) &&
		(c.GTE == nil || n >= *c.GTE) && (c.LTE == nil || n <= *c.LTE)
}

// Count returns the number of values a payload value stands for.
func Count(v any) uint64 {
	switch a := v.(type) {
	case nil:
		return 0
	case []any:
		return uint64(len(a))
	}
	return 1
}

// MarshalJSON writes the bounds that are set.
func (c *ValuesCount) MarshalJSON() ([]byte, error) {
	m := map[string]uint64{}
	for name, b := range map[string]*uint64{"lt": c.LT, "gt": c.GT, "gte": c.GTE, "lte": c.LTE} {
		if b != nil {
			m[name] = *b
		}
	}
	return json.Marshal(m)
}
