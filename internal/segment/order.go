package segment

import (
	"cmp"
	"context"
	"slices"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/index/payload"
)

// ErrNoRangeIndex is returned by ScrollOrdered for a key without an
// integer (with range), float or datetime index.
type ErrNoRangeIndex struct{ Key string }

func (e *ErrNoRangeIndex) Error() string {
	return "No range index for `order_by` key: " + e.Key + ". Please create one to use `order_by`. Integer, float, and datetime payloads can have range indexes, see https://qdrant.tech/documentation/concepts/indexing/#payload-index."
}

// OrderedRecord is a record with the value it was ordered by.
type OrderedRecord struct {
	Record
	OrderValue float64
	Integer    bool // OrderValue is an integer (integer and datetime keys)
}

// ScrollOrdered returns up to limit entries for the points matching f,
// ordered by their values at key (ascending, or descending with desc), ties
// by id. As in Qdrant, a point appears once per value it holds (a point
// with [7, 30] appears at 7 and at 30); points without a value are left
// out. from, when set, skips values before it in the chosen direction. Once
// ctx is done it stops and returns ctx's error.
func (s *Store) ScrollOrdered(ctx context.Context, f *filter.Filter, key string, desc bool, from *float64, limit int, sel VectorSelection) ([]OrderedRecord, error) {
	fi, ok := s.index(key)
	if !ok {
		return nil, &ErrNoRangeIndex{Key: key}
	}
	conv, integer := orderValue(fi.schema)
	if conv == nil {
		return nil, &ErrNoRangeIndex{Key: key}
	}
	type item struct {
		off uint32
		v   float64
	}
	var items []item
	var seen []float64
	m := s.newMatcher(f)
	err := m.each(ctx, s, func(off uint32) {
		if !m.match(off) {
			return
		}
		seen = seen[:0]
		fi.key.Each(s.payloads[off], func(v any) bool {
			each(v, func(x any) {
				fv, ok := conv(x)
				if !ok || (from != nil && ((!desc && fv < *from) || (desc && fv > *from))) || slices.Contains(seen, fv) {
					return
				}
				seen = append(seen, fv)
				items = append(items, item{off, fv})
			})
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(items, func(a, b item) int {
		c := cmp.Compare(a.v, b.v)
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return s.ids[a.off].Compare(s.ids[b.off])
	})
	if len(items) > limit {
		items = items[:limit]
	}
	out := make([]OrderedRecord, len(items))
	for i, it := range items {
		out[i] = OrderedRecord{Record: s.record(it.off, sel), OrderValue: it.v, Integer: integer}
	}
	return out, nil
}

// orderValue converts payload values as the key's range index sees them.
func orderValue(sc payload.Schema) (func(any) (float64, bool), bool) {
	switch sc.Type {
	case payload.Integer:
		if !sc.RangeEnabled() {
			return nil, false
		}
		return func(v any) (float64, bool) {
			n, ok := filter.AsInteger(v)
			return float64(n), ok
		}, true
	case payload.Float:
		return filter.AsFloat, false
	case payload.Datetime:
		return func(v any) (float64, bool) {
			s, ok := v.(string)
			if !ok {
				return 0, false
			}
			t, err := filter.ParseDateTime(s)
			if err != nil {
				return 0, false
			}
			return float64(t.UnixMicro()), true
		}, true
	}
	return nil, false
}
