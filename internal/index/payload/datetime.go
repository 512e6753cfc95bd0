package payload

import "io"

// DatetimeIndex indexes strings that parse as datetimes (see
// ParseDatetime), as microseconds since the epoch, in time order.
type DatetimeIndex struct {
	schema Schema
	n      numIndex[int64]
}

// NewDatetimeIndex returns an empty datetime index.
func NewDatetimeIndex(s Schema) *DatetimeIndex { return &DatetimeIndex{schema: s} }

// Schema implements Index.
func (x *DatetimeIndex) Schema() Schema { return x.schema }

// Add implements Index.
func (x *DatetimeIndex) Add(off uint32, values []any) {
	var vals []int64
	for _, v := range values {
		if s, ok := v.(string); ok {
			if t, ok := ParseDatetime(s); ok {
				vals = append(vals, t)
			}
		}
	}
	x.n.set(off, sortedDistinct(vals))
}

// Remove implements Index.
func (x *DatetimeIndex) Remove(off uint32) { x.n.remove(off) }

// Points implements Index.
func (x *DatetimeIndex) Points() int { return x.n.npoints }

// Values implements Index.
func (x *DatetimeIndex) Values() int { return x.n.list.n }

// Range returns the points with a datetime in r.
func (x *DatetimeIndex) Range(r TimeRange) *Postings { return x.n.collect(r.lo, r.hi) }

// CountRange returns the number of (point, value) pairs in r.
func (x *DatetimeIndex) CountRange(r TimeRange) int { return x.n.count(r.lo, r.hi) }

// Ordered calls yield with the (microseconds, point) pairs in r in time
// order, ascending or descending, until yield returns false.
func (x *DatetimeIndex) Ordered(asc bool, r TimeRange, yield func(micros int64, off uint32) bool) {
	x.n.ordered(asc, r.lo, r.hi, yield)
}

// Encode implements Index.
func (x *DatetimeIndex) Encode(w io.Writer) error {
	return encodeNum(x.schema, &x.n, w, func(e *encoder, v int64) { e.varint(v) })
}

func (x *DatetimeIndex) decodeBody(d *decoder) error {
	return decodeNum(d, &x.n, 1, func() (int64, bool) { return d.varint(), true })
}
