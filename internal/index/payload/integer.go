package payload

import "io"

// IntegerIndex indexes JSON integers (see asInteger) in value order. It
// serves exact matches, ranges, facets and order_by from one ordered
// structure; the schema's lookup and range flags say which of those the
// caller should route to it (Qdrant builds a separate structure for each),
// they do not change the answers.
type IntegerIndex struct {
	schema Schema
	n      numIndex[int64]
}

// NewIntegerIndex returns an empty integer index.
func NewIntegerIndex(s Schema) *IntegerIndex { return &IntegerIndex{schema: s} }

// Schema implements Index.
func (x *IntegerIndex) Schema() Schema { return x.schema }

// Add implements Index.
func (x *IntegerIndex) Add(off uint32, values []any) {
	var vals []int64
	for _, v := range values {
		if i, ok := asInteger(v); ok {
			vals = append(vals, i)
		}
	}
	x.n.set(off, sortedDistinct(vals))
}

// Remove implements Index.
func (x *IntegerIndex) Remove(off uint32) { x.n.remove(off) }

// Points implements Index.
func (x *IntegerIndex) Points() int { return x.n.npoints }

// Values implements Index.
func (x *IntegerIndex) Values() int { return x.n.list.n }

func eqInt(v int64) (func(int64) bool, func(int64) bool) {
	return func(x int64) bool { return x >= v }, func(x int64) bool { return x <= v }
}

// Match returns the points with any of the values.
func (x *IntegerIndex) Match(values ...int64) *Postings {
	ps := make([]*Postings, 0, len(values))
	for _, v := range values {
		ps = append(ps, x.n.collect(eqInt(v)))
	}
	return Union(ps...)
}

// Count returns the number of points with the value.
func (x *IntegerIndex) Count(value int64) int { return x.n.count(eqInt(value)) }

// floatBounds turns a float range into predicates over integers, comparing
// as Qdrant's range check does: the integer converted to float64.
func floatBounds(r NumRange) (func(int64) bool, func(int64) bool) {
	return func(v int64) bool { return r.lo(float64(v)) }, func(v int64) bool { return r.hi(float64(v)) }
}

// Range returns the points with a value in r.
func (x *IntegerIndex) Range(r NumRange) *Postings { return x.n.collect(floatBounds(r)) }

// CountRange returns the number of (point, value) pairs in r: the number of
// matching points when points have one value, an upper bound otherwise.
func (x *IntegerIndex) CountRange(r NumRange) int { return x.n.count(floatBounds(r)) }

// Ordered calls yield with the (value, point) pairs in r in value order,
// ascending or descending, until yield returns false; a point with several
// values in r comes once per value. It serves scroll's order_by.
func (x *IntegerIndex) Ordered(asc bool, r NumRange, yield func(value int64, off uint32) bool) {
	lo, hi := floatBounds(r)
	x.n.ordered(asc, lo, hi, yield)
}

// Facet calls yield with each distinct value and its number of points, in
// increasing order, until yield returns false.
func (x *IntegerIndex) Facet(yield func(value int64, count int) bool) { x.n.facet(yield) }

// Encode implements Index.
func (x *IntegerIndex) Encode(w io.Writer) error {
	return encodeNum(x.schema, &x.n, w, func(e *encoder, v int64) { e.varint(v) })
}

func (x *IntegerIndex) decodeBody(d *decoder) error {
	return decodeNum(d, &x.n, 1, func() (int64, bool) { return d.varint(), true })
}

// encodeNum writes the points of a numeric index with their values.
func encodeNum[T int64 | float64](s Schema, n *numIndex[T], w io.Writer, put func(*encoder, T)) error {
	e, err := newEncoder(s)
	if err != nil {
		return err
	}
	e.uvarint(uint64(n.npoints))
	ow := offsetWriter{e: e}
	n.points.each(func(off uint32, vals []T) {
		ow.put(off)
		e.uvarint(uint64(len(vals)))
		for _, v := range vals {
			put(e, v)
		}
	})
	return writeAll(w, e.finish())
}

// decodeNum reads what encodeNum wrote; get reads one value and reports
// whether it is acceptable. Values must be strictly increasing per point.
func decodeNum[T int64 | float64](d *decoder, n *numIndex[T], size int, get func() (T, bool)) error {
	count := d.count(2)
	offs := make([]uint32, 0, min(count, 1024))
	vals := make([][]T, 0, min(count, 1024))
	for range count {
		off := d.offset()
		k := d.count(size)
		if d.err != nil {
			return d.err
		}
		if k == 0 {
			d.fail("point without values")
			return d.err
		}
		vs := make([]T, 0, min(k, 64))
		for range k {
			v, ok := get()
			if d.err != nil {
				return d.err
			}
			if !ok || (len(vs) > 0 && !(vs[len(vs)-1] < v)) {
				d.fail("bad value")
				return d.err
			}
			vs = append(vs, v)
		}
		offs = append(offs, off)
		vals = append(vals, vs)
	}
	if d.err != nil {
		return d.err
	}
	n.bulkLoad(offs, vals)
	return nil
}
