package payload

import (
	"io"
	"math"
)

// FloatIndex indexes JSON numbers as float64 in value order, for ranges
// and order_by.
type FloatIndex struct {
	schema Schema
	n      numIndex[float64]
}

// NewFloatIndex returns an empty float index.
func NewFloatIndex(s Schema) *FloatIndex { return &FloatIndex{schema: s} }

// Schema implements Index.
func (x *FloatIndex) Schema() Schema { return x.schema }

// Add implements Index.
func (x *FloatIndex) Add(off uint32, values []any) {
	var vals []float64
	for _, v := range values {
		if f, ok := asFloat(v); ok {
			if f == 0 {
				f = 0 // one zero: -0 and 0 are the same value
			}
			vals = append(vals, f)
		}
	}
	x.n.set(off, sortedDistinct(vals))
}

// Remove implements Index.
func (x *FloatIndex) Remove(off uint32) { x.n.remove(off) }

// Points implements Index.
func (x *FloatIndex) Points() int { return x.n.npoints }

// Values implements Index.
func (x *FloatIndex) Values() int { return x.n.list.n }

// Range returns the points with a value in r.
func (x *FloatIndex) Range(r NumRange) *Postings { return x.n.collect(r.lo, r.hi) }

// CountRange returns the number of (point, value) pairs in r.
func (x *FloatIndex) CountRange(r NumRange) int { return x.n.count(r.lo, r.hi) }

// Ordered calls yield with the (value, point) pairs in r in value order,
// ascending or descending, until yield returns false.
func (x *FloatIndex) Ordered(asc bool, r NumRange, yield func(value float64, off uint32) bool) {
	x.n.ordered(asc, r.lo, r.hi, yield)
}

// Encode implements Index.
func (x *FloatIndex) Encode(w io.Writer) error {
	return encodeNum(x.schema, &x.n, w, func(e *encoder, v float64) { e.f64(v) })
}

func (x *FloatIndex) decodeBody(d *decoder) error {
	return decodeNum(d, &x.n, 8, func() (float64, bool) {
		f := d.f64()
		return f, !math.IsNaN(f) && !(f == 0 && math.Signbit(f))
	})
}
