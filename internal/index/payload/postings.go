package payload

import (
	"iter"
	"math/bits"
	"slices"
)

// Postings is a set of point offsets, kept as a compressed bitmap in the
// style of Roaring: offsets are grouped by their upper 16 bits, and each
// group is a sorted array of the lower 16 bits while it is small and a
// 65536-bit bitmap once it is large. Adding or removing one offset costs at
// most one 8 KiB move, whatever the size of the set; membership is two
// binary searches; iteration is in increasing order.
//
// The zero value is an empty set ready to use. Query methods of the indexes
// return Postings the caller owns. A Postings is not safe for concurrent
// mutation; concurrent reads are fine.
type Postings struct {
	keys  []uint16
	conts []container
	n     int
}

const (
	arrayMax    = 4096 // an array container above this many becomes a bitmap
	arrayMin    = 2048 // a bitmap container below this many becomes an array
	bitmapWords = 1 << 16 / 64
)

// container holds the low 16 bits of the offsets sharing one high half:
// arr (sorted) when bits is nil, else the bitmap bits with n set.
type container struct {
	arr  []uint16
	bits []uint64
	n    int
}

// Of returns the set of the given offsets, in any order, with duplicates.
func Of(offs ...uint32) *Postings {
	s := slices.Clone(offs)
	slices.Sort(s)
	return FromSorted(s)
}

// FromSorted returns the set of offs, which must be in non-decreasing order
// (duplicates are dropped).
func FromSorted(offs []uint32) *Postings {
	p := &Postings{}
	for i := 0; i < len(offs); {
		hi := uint16(offs[i] >> 16)
		j := i
		var arr []uint16
		for j < len(offs) && uint16(offs[j]>>16) == hi {
			lo := uint16(offs[j])
			if len(arr) == 0 || arr[len(arr)-1] != lo {
				arr = append(arr, lo)
			}
			j++
		}
		c := container{arr: arr, n: len(arr)}
		if c.n > arrayMax {
			c.toBitmap()
		}
		p.keys = append(p.keys, hi)
		p.conts = append(p.conts, c)
		p.n += c.n
		i = j
	}
	return p
}

// fromUnsorted builds a set from offsets in any order, choosing between a
// sort and a flat bitmap by which is cheaper.
func fromUnsorted(offs []uint32) *Postings {
	if len(offs) < 1024 {
		slices.Sort(offs)
		return FromSorted(offs)
	}
	maxOff := slices.Max(offs)
	if uint64(maxOff)/64 > 4*uint64(len(offs)) {
		slices.Sort(offs)
		return FromSorted(offs)
	}
	flat := make([]uint64, uint64(maxOff)/64+1)
	for _, o := range offs {
		flat[o>>6] |= 1 << (o & 63)
	}
	p := &Postings{}
	for base := 0; base < len(flat); base += bitmapWords {
		end := min(base+bitmapWords, len(flat))
		n := 0
		for _, w := range flat[base:end] {
			n += bits.OnesCount64(w)
		}
		if n == 0 {
			continue
		}
		words := make([]uint64, bitmapWords)
		copy(words, flat[base:end])
		c := container{bits: words, n: n}
		c.normalize()
		p.keys = append(p.keys, uint16(base/bitmapWords))
		p.conts = append(p.conts, c)
		p.n += n
	}
	return p
}

// Len returns the number of offsets in the set.
func (p *Postings) Len() int {
	if p == nil {
		return 0
	}
	return p.n
}

// find returns the index of the container for hi, or where it would go.
func (p *Postings) find(hi uint16) (int, bool) {
	if n := len(p.keys); n > 0 && p.keys[n-1] <= hi {
		return n - 1 + boolInt(p.keys[n-1] < hi), p.keys[n-1] == hi
	}
	return slices.BinarySearch(p.keys, hi)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Contains reports whether off is in the set.
func (p *Postings) Contains(off uint32) bool {
	if p == nil {
		return false
	}
	i, ok := p.find(uint16(off >> 16))
	return ok && p.conts[i].contains(uint16(off))
}

// Add inserts off and reports whether it was absent.
func (p *Postings) Add(off uint32) bool {
	hi, lo := uint16(off>>16), uint16(off)
	i, ok := p.find(hi)
	if !ok {
		p.keys = slices.Insert(p.keys, i, hi)
		p.conts = slices.Insert(p.conts, i, container{arr: []uint16{lo}, n: 1})
		p.n++
		return true
	}
	if p.conts[i].add(lo) {
		p.n++
		return true
	}
	return false
}

// Remove deletes off and reports whether it was present.
func (p *Postings) Remove(off uint32) bool {
	if p == nil {
		return false
	}
	i, ok := p.find(uint16(off >> 16))
	if !ok || !p.conts[i].remove(uint16(off)) {
		return false
	}
	p.n--
	if p.conts[i].n == 0 {
		p.keys = slices.Delete(p.keys, i, i+1)
		p.conts = slices.Delete(p.conts, i, i+1)
	}
	return true
}

// Clone returns an independent copy.
func (p *Postings) Clone() *Postings {
	q := &Postings{}
	if p == nil {
		return q
	}
	q.keys = slices.Clone(p.keys)
	q.conts = make([]container, len(p.conts))
	for i, c := range p.conts {
		q.conts[i] = container{arr: slices.Clone(c.arr), bits: slices.Clone(c.bits), n: c.n}
	}
	q.n = p.n
	return q
}

// All iterates the offsets in increasing order.
func (p *Postings) All() iter.Seq[uint32] {
	return func(yield func(uint32) bool) { p.ForEach(yield) }
}

// ForEach calls yield with each offset in increasing order until it
// returns false; it reports whether it ran to the end.
func (p *Postings) ForEach(yield func(uint32) bool) bool {
	if p == nil {
		return true
	}
	for i, c := range p.conts {
		base := uint32(p.keys[i]) << 16
		if c.bits == nil {
			for _, lo := range c.arr {
				if !yield(base | uint32(lo)) {
					return false
				}
			}
			continue
		}
		for w, word := range c.bits {
			for word != 0 {
				t := bits.TrailingZeros64(word)
				if !yield(base | uint32(w*64+t)) {
					return false
				}
				word &= word - 1
			}
		}
	}
	return true
}

// AppendTo appends the offsets in increasing order to dst.
func (p *Postings) AppendTo(dst []uint32) []uint32 {
	dst = slices.Grow(dst, p.Len())
	p.ForEach(func(o uint32) bool {
		dst = append(dst, o)
		return true
	})
	return dst
}

// ToArray returns the offsets in increasing order.
func (p *Postings) ToArray() []uint32 { return p.AppendTo(nil) }

// Equal reports whether p and q hold the same offsets.
func (p *Postings) Equal(q *Postings) bool {
	if p.Len() != q.Len() {
		return false
	}
	return slices.Equal(p.ToArray(), q.ToArray())
}

func (c *container) contains(lo uint16) bool {
	if c.bits != nil {
		return c.bits[lo>>6]&(1<<(lo&63)) != 0
	}
	_, ok := slices.BinarySearch(c.arr, lo)
	return ok
}

func (c *container) add(lo uint16) bool {
	if c.bits != nil {
		w, m := lo>>6, uint64(1)<<(lo&63)
		if c.bits[w]&m != 0 {
			return false
		}
		c.bits[w] |= m
		c.n++
		return true
	}
	if n := len(c.arr); n == 0 || c.arr[n-1] < lo {
		c.arr = append(c.arr, lo)
	} else {
		i, ok := slices.BinarySearch(c.arr, lo)
		if ok {
			return false
		}
		c.arr = slices.Insert(c.arr, i, lo)
	}
	c.n++
	if c.n > arrayMax {
		c.toBitmap()
	}
	return true
}

func (c *container) remove(lo uint16) bool {
	if c.bits != nil {
		w, m := lo>>6, uint64(1)<<(lo&63)
		if c.bits[w]&m == 0 {
			return false
		}
		c.bits[w] &^= m
		c.n--
		if c.n < arrayMin {
			c.toArray()
		}
		return true
	}
	i, ok := slices.BinarySearch(c.arr, lo)
	if !ok {
		return false
	}
	c.arr = slices.Delete(c.arr, i, i+1)
	c.n--
	return true
}

func (c *container) toBitmap() {
	words := make([]uint64, bitmapWords)
	for _, lo := range c.arr {
		words[lo>>6] |= 1 << (lo & 63)
	}
	c.bits, c.arr = words, nil
}

func (c *container) toArray() {
	arr := make([]uint16, 0, c.n)
	for w, word := range c.bits {
		for word != 0 {
			arr = append(arr, uint16(w*64+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	c.arr, c.bits = arr, nil
}

// normalize picks the representation a fresh result container should have.
func (c *container) normalize() {
	if c.bits != nil && c.n <= arrayMax {
		c.toArray()
	} else if c.bits == nil && c.n > arrayMax {
		c.toBitmap()
	}
}
