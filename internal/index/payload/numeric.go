package payload

import (
	"cmp"
	"slices"
)

// numIndex is the ordered core of the integer, float and datetime indexes:
// every (value, point) pair in a sorted list, and each point's values for
// removal. A range is given as two monotone predicates over values: lo is
// false then true (the lower bound holds from some value on), hi is true
// then false.
type numIndex[T int64 | float64] struct {
	list    sortedList[T]
	points  perPoint[T]
	npoints int
}

// set replaces the values of off; vals must be sorted and distinct.
func (x *numIndex[T]) set(off uint32, vals []T) {
	x.remove(off)
	if len(vals) == 0 {
		return
	}
	for _, v := range vals {
		x.list.insert(entry[T]{v, off})
	}
	x.points.set(off, vals)
	x.npoints++
}

func (x *numIndex[T]) remove(off uint32) {
	old := x.points.get(off)
	if len(old) == 0 {
		return
	}
	for _, v := range old {
		x.list.remove(entry[T]{v, off})
	}
	x.points.del(off)
	x.npoints--
}

// bounds returns the positions [from, to) of the entries in range.
func (x *numIndex[T]) bounds(lo, hi func(T) bool) (pos, pos) {
	from := x.list.seekFirst(lo)
	to := x.list.seekFirst(func(v T) bool { return !hi(v) })
	return from, to
}

// collect returns the points with a value in range.
func (x *numIndex[T]) collect(lo, hi func(T) bool) *Postings {
	var offs []uint32
	sorted := true
	x.list.ascend(x.list.seekFirst(lo), func(e entry[T]) bool {
		if !hi(e.v) {
			return false
		}
		if n := len(offs); n > 0 && offs[n-1] >= e.off {
			sorted = false
		}
		offs = append(offs, e.off)
		return true
	})
	if sorted {
		return FromSorted(offs)
	}
	return fromUnsorted(offs)
}

// count returns the number of (value, point) pairs in range: the number of
// points when each has one value, an upper bound otherwise.
func (x *numIndex[T]) count(lo, hi func(T) bool) int {
	from, to := x.bounds(lo, hi)
	return x.list.countBetween(from, to)
}

// ordered calls yield with the pairs in range in value order (then offset
// order; reversed when descending).
func (x *numIndex[T]) ordered(asc bool, lo, hi func(T) bool, yield func(T, uint32) bool) {
	from, to := x.bounds(lo, hi)
	if asc {
		x.list.ascend(from, func(e entry[T]) bool {
			return hi(e.v) && yield(e.v, e.off)
		})
		return
	}
	x.list.descend(to, func(e entry[T]) bool {
		return lo(e.v) && yield(e.v, e.off)
	})
}

// facet calls yield with each distinct value and its number of points, in
// increasing value order.
func (x *numIndex[T]) facet(yield func(T, int) bool) {
	var cur T
	n := 0
	stopped := false
	x.list.ascend(pos{}, func(e entry[T]) bool {
		if n > 0 && e.v != cur {
			if !yield(cur, n) {
				stopped = true
				return false
			}
			n = 0
		}
		cur = e.v
		n++
		return true
	})
	if !stopped && n > 0 {
		yield(cur, n)
	}
}

// bulkLoad fills an empty index from per-point sorted, distinct values.
func (x *numIndex[T]) bulkLoad(offs []uint32, vals [][]T) {
	var es []entry[T]
	for i, off := range offs {
		for _, v := range vals[i] {
			es = append(es, entry[T]{v, off})
		}
		x.points.set(off, vals[i])
		x.npoints++
	}
	slices.SortFunc(es, compareEntry[T])
	x.list.bulkLoad(es)
}

// sortedDistinct sorts vals in place and drops repeats.
func sortedDistinct[T cmp.Ordered](vals []T) []T {
	slices.Sort(vals)
	return slices.Compact(vals)
}

// NumRange is a range over numbers (Qdrant's Range); nil bounds are open.
// A value is in range when it satisfies every given bound; no bounds at
// all hold every value.
type NumRange struct {
	GT, GTE, LT, LTE *float64
}

func (r NumRange) lo(v float64) bool {
	return (r.GT == nil || v > *r.GT) && (r.GTE == nil || v >= *r.GTE)
}

func (r NumRange) hi(v float64) bool {
	return (r.LT == nil || v < *r.LT) && (r.LTE == nil || v <= *r.LTE)
}

// Contains reports whether v is in the range.
func (r NumRange) Contains(v float64) bool { return r.lo(v) && r.hi(v) }

// TimeRange is a range over datetimes in microseconds since the epoch
// (Qdrant's DatetimeRange); nil bounds are open.
type TimeRange struct {
	GT, GTE, LT, LTE *int64
}

func (r TimeRange) lo(v int64) bool {
	return (r.GT == nil || v > *r.GT) && (r.GTE == nil || v >= *r.GTE)
}

func (r TimeRange) hi(v int64) bool {
	return (r.LT == nil || v < *r.LT) && (r.LTE == nil || v <= *r.LTE)
}

// Contains reports whether v is in the range.
func (r TimeRange) Contains(v int64) bool { return r.lo(v) && r.hi(v) }
