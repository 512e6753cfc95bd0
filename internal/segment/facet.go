package segment

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/index/payload"
)

// FacetHit is one value of a facet and the number of matching points
// holding it.
type FacetHit struct {
	Value any `json:"value"` // string, int64 or bool
	Count int `json:"count"`
}

// ErrNoFacetIndex is returned by Facet for a key without a keyword,
// integer (with lookup), bool or uuid index.
type ErrNoFacetIndex struct{ Key string }

func (e *ErrNoFacetIndex) Error() string {
	return "No appropriate index for faceting: `" + e.Key + "`. Please create one to facet on this field. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Match conditions"
}

// Facet counts, over the points matching f, how many hold each value at
// key, as the key's index sees values (keyword, integer, bool or uuid). The
// most frequent come first, ties by value; at most limit hits. Once ctx is
// done it stops and returns ctx's error.
func (s *Store) Facet(ctx context.Context, key string, f *filter.Filter, limit int) ([]FacetHit, error) {
	fi, ok := s.index(key)
	if !ok {
		return nil, &ErrNoFacetIndex{Key: key}
	}
	canon := facetValue(fi.schema.Type)
	if canon == nil || (fi.schema.Type == payload.Integer && !fi.schema.LookupEnabled()) {
		// An integer index without lookup is a range index only, which
		// Qdrant does not facet on.
		return nil, &ErrNoFacetIndex{Key: key}
	}
	counts := map[any]int{}
	seen := map[any]struct{}{}
	m := s.newMatcher(f)
	err := m.each(ctx, s, func(off uint32) {
		if !m.match(off) {
			return
		}
		clear(seen)
		fi.key.Each(s.payloads[off], func(v any) bool {
			each(v, func(x any) {
				if c, ok := canon(x); ok {
					if _, dup := seen[c]; !dup {
						seen[c] = struct{}{}
						counts[c]++
					}
				}
			})
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	hits := make([]FacetHit, 0, len(counts))
	for v, n := range counts {
		hits = append(hits, FacetHit{Value: v, Count: n})
	}
	slices.SortFunc(hits, func(a, b FacetHit) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return compareFacetValues(a.Value, b.Value)
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

// each calls fn for v, or for each element when v is an array.
func each(v any, fn func(any)) {
	if a, ok := v.([]any); ok {
		for _, x := range a {
			fn(x)
		}
		return
	}
	fn(v)
}

func facetValue(t payload.Type) func(any) (any, bool) {
	switch t {
	case payload.Keyword:
		return func(v any) (any, bool) { s, ok := v.(string); return s, ok }
	case payload.Integer:
		return func(v any) (any, bool) { return filter.AsInteger(v) }
	case payload.Bool:
		return func(v any) (any, bool) { b, ok := v.(bool); return b, ok }
	case payload.UUID:
		return func(v any) (any, bool) {
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			u, err := uuid.Parse(s)
			if err != nil {
				return nil, false
			}
			return u.String(), true
		}
	}
	return nil
}

func compareFacetValues(a, b any) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case int64:
		return cmp.Compare(x, b.(int64))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	return 0
}
