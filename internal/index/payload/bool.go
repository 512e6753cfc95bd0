package payload

import "io"

// BoolIndex indexes JSON booleans: one posting list per value.
type BoolIndex struct {
	schema          Schema
	trues, falses   Postings
	npoints, nvalue int
}

// NewBoolIndex returns an empty bool index.
func NewBoolIndex(s Schema) *BoolIndex { return &BoolIndex{schema: s} }

// Schema implements Index.
func (x *BoolIndex) Schema() Schema { return x.schema }

// Add implements Index.
func (x *BoolIndex) Add(off uint32, values []any) {
	x.Remove(off)
	var t, f bool
	for _, v := range values {
		if b, ok := v.(bool); ok {
			t, f = t || b, f || !b
		}
	}
	x.set(off, t, f)
}

func (x *BoolIndex) set(off uint32, t, f bool) {
	if t {
		x.trues.Add(off)
		x.nvalue++
	}
	if f {
		x.falses.Add(off)
		x.nvalue++
	}
	if t || f {
		x.npoints++
	}
}

// Remove implements Index.
func (x *BoolIndex) Remove(off uint32) {
	t, f := x.trues.Remove(off), x.falses.Remove(off)
	if t {
		x.nvalue--
	}
	if f {
		x.nvalue--
	}
	if t || f {
		x.npoints--
	}
}

// Points implements Index.
func (x *BoolIndex) Points() int { return x.npoints }

// Values implements Index.
func (x *BoolIndex) Values() int { return x.nvalue }

func (x *BoolIndex) postings(b bool) *Postings {
	if b {
		return &x.trues
	}
	return &x.falses
}

// Match returns the points with the value b.
func (x *BoolIndex) Match(b bool) *Postings { return x.postings(b).Clone() }

// Count returns the number of points with the value b.
func (x *BoolIndex) Count(b bool) int { return x.postings(b).Len() }

// Facet calls yield for false and then true with their numbers of points,
// skipping a value no point has, until yield returns false.
func (x *BoolIndex) Facet(yield func(value bool, count int) bool) {
	for _, b := range []bool{false, true} {
		if n := x.Count(b); n > 0 && !yield(b, n) {
			return
		}
	}
}

// Encode implements Index.
func (x *BoolIndex) Encode(w io.Writer) error {
	e, err := newEncoder(x.schema)
	if err != nil {
		return err
	}
	all := Union(&x.trues, &x.falses)
	e.uvarint(uint64(all.Len()))
	ow := offsetWriter{e: e}
	all.ForEach(func(off uint32) bool {
		ow.put(off)
		var flags byte
		if x.trues.Contains(off) {
			flags |= 1
		}
		if x.falses.Contains(off) {
			flags |= 2
		}
		e.u8(flags)
		return true
	})
	return writeAll(w, e.finish())
}

func (x *BoolIndex) decodeBody(d *decoder) error {
	n := d.count(2)
	for range n {
		off := d.offset()
		flags := d.u8()
		if d.err != nil {
			return d.err
		}
		if flags == 0 || flags > 3 {
			d.fail("bad bool flags")
			return d.err
		}
		x.set(off, flags&1 != 0, flags&2 != 0)
	}
	return d.err
}
