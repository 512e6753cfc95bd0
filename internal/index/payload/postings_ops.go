package payload

import (
	"math/bits"
	"slices"
)

// Intersect returns the offsets present in every set; with no sets it
// returns an empty set. Nil sets count as empty. The inputs are not
// modified.
func Intersect(ps ...*Postings) *Postings {
	if len(ps) == 0 {
		return &Postings{}
	}
	sorted := slices.Clone(ps)
	slices.SortFunc(sorted, func(a, b *Postings) int { return a.Len() - b.Len() })
	acc := sorted[0].Clone()
	for _, q := range sorted[1:] {
		if acc.n == 0 {
			break
		}
		acc = and(acc, q)
	}
	return acc
}

// and returns a ∩ b.
func and(a, b *Postings) *Postings {
	out := &Postings{}
	if a.Len() == 0 || b.Len() == 0 {
		return out
	}
	i, j := 0, 0
	for i < len(a.keys) && j < len(b.keys) {
		switch {
		case a.keys[i] < b.keys[j]:
			i++
		case a.keys[i] > b.keys[j]:
			j++
		default:
			c := andContainer(&a.conts[i], &b.conts[j])
			if c.n > 0 {
				out.keys = append(out.keys, a.keys[i])
				out.conts = append(out.conts, c)
				out.n += c.n
			}
			i++
			j++
		}
	}
	return out
}

func andContainer(x, y *container) container {
	switch {
	case x.bits == nil && y.bits == nil:
		var arr []uint16
		i, j := 0, 0
		for i < len(x.arr) && j < len(y.arr) {
			switch {
			case x.arr[i] < y.arr[j]:
				i++
			case x.arr[i] > y.arr[j]:
				j++
			default:
				arr = append(arr, x.arr[i])
				i++
				j++
			}
		}
		return container{arr: arr, n: len(arr)}
	case x.bits == nil || y.bits == nil:
		if x.bits != nil {
			x, y = y, x
		}
		var arr []uint16
		for _, lo := range x.arr {
			if y.bits[lo>>6]&(1<<(lo&63)) != 0 {
				arr = append(arr, lo)
			}
		}
		return container{arr: arr, n: len(arr)}
	default:
		words := make([]uint64, bitmapWords)
		n := 0
		for k := range words {
			words[k] = x.bits[k] & y.bits[k]
			n += bits.OnesCount64(words[k])
		}
		c := container{bits: words, n: n}
		c.normalize()
		return c
	}
}

// Union returns the offsets present in any of the sets. Nil sets count as
// empty. The inputs are not modified.
func Union(ps ...*Postings) *Postings {
	var live []*Postings
	for _, p := range ps {
		if p.Len() > 0 {
			live = append(live, p)
		}
	}
	switch len(live) {
	case 0:
		return &Postings{}
	case 1:
		return live[0].Clone()
	case 2:
		return or(live[0], live[1])
	}
	// Many sets: OR every container into a bitmap per key, then shrink the
	// small ones back to arrays; one pass over the inputs.
	byKey := map[uint16]*container{}
	var keys []uint16
	for _, p := range live {
		for i, k := range p.keys {
			acc, ok := byKey[k]
			if !ok {
				acc = &container{bits: make([]uint64, bitmapWords)}
				byKey[k] = acc
				keys = append(keys, k)
			}
			c := &p.conts[i]
			if c.bits == nil {
				for _, lo := range c.arr {
					acc.bits[lo>>6] |= 1 << (lo & 63)
				}
			} else {
				for w, word := range c.bits {
					acc.bits[w] |= word
				}
			}
		}
	}
	slices.Sort(keys)
	out := &Postings{keys: keys, conts: make([]container, len(keys))}
	for i, k := range keys {
		c := byKey[k]
		for _, w := range c.bits {
			c.n += bits.OnesCount64(w)
		}
		c.normalize()
		out.conts[i] = *c
		out.n += c.n
	}
	return out
}

// or returns a ∪ b.
func or(a, b *Postings) *Postings {
	out := &Postings{}
	i, j := 0, 0
	for i < len(a.keys) || j < len(b.keys) {
		var k uint16
		var c container
		switch {
		case j >= len(b.keys) || (i < len(a.keys) && a.keys[i] < b.keys[j]):
			k, c = a.keys[i], cloneContainer(&a.conts[i])
			i++
		case i >= len(a.keys) || b.keys[j] < a.keys[i]:
			k, c = b.keys[j], cloneContainer(&b.conts[j])
			j++
		default:
			k, c = a.keys[i], orContainer(&a.conts[i], &b.conts[j])
			i++
			j++
		}
		out.keys = append(out.keys, k)
		out.conts = append(out.conts, c)
		out.n += c.n
	}
	return out
}

func cloneContainer(c *container) container {
	return container{arr: slices.Clone(c.arr), bits: slices.Clone(c.bits), n: c.n}
}

func orContainer(x, y *container) container {
	if x.bits == nil && y.bits == nil {
		arr := make([]uint16, 0, len(x.arr)+len(y.arr))
		i, j := 0, 0
		for i < len(x.arr) || j < len(y.arr) {
			switch {
			case j >= len(y.arr) || (i < len(x.arr) && x.arr[i] < y.arr[j]):
				arr = append(arr, x.arr[i])
				i++
			case i >= len(x.arr) || y.arr[j] < x.arr[i]:
				arr = append(arr, y.arr[j])
				j++
			default:
				arr = append(arr, x.arr[i])
				i++
				j++
			}
		}
		c := container{arr: arr, n: len(arr)}
		c.normalize()
		return c
	}
	words := make([]uint64, bitmapWords)
	for _, c := range []*container{x, y} {
		if c.bits == nil {
			for _, lo := range c.arr {
				words[lo>>6] |= 1 << (lo & 63)
			}
		} else {
			for w, word := range c.bits {
				words[w] |= word
			}
		}
	}
	n := 0
	for _, w := range words {
		n += bits.OnesCount64(w)
	}
	c := container{bits: words, n: n}
	c.normalize()
	return c
}

// Difference returns the offsets of a that are not in b. The inputs are
// not modified.
func Difference(a, b *Postings) *Postings {
	out := &Postings{}
	if a.Len() == 0 {
		return out
	}
	if b.Len() == 0 {
		return a.Clone()
	}
	j := 0
	for i, k := range a.keys {
		for j < len(b.keys) && b.keys[j] < k {
			j++
		}
		var c container
		if j < len(b.keys) && b.keys[j] == k {
			c = andNotContainer(&a.conts[i], &b.conts[j])
		} else {
			c = cloneContainer(&a.conts[i])
		}
		if c.n > 0 {
			out.keys = append(out.keys, k)
			out.conts = append(out.conts, c)
			out.n += c.n
		}
	}
	return out
}

func andNotContainer(x, y *container) container {
	if x.bits == nil {
		var arr []uint16
		for _, lo := range x.arr {
			if !y.contains(lo) {
				arr = append(arr, lo)
			}
		}
		return container{arr: arr, n: len(arr)}
	}
	words := slices.Clone(x.bits)
	if y.bits == nil {
		for _, lo := range y.arr {
			words[lo>>6] &^= 1 << (lo & 63)
		}
	} else {
		for w := range words {
			words[w] &^= y.bits[w]
		}
	}
	n := 0
	for _, w := range words {
		n += bits.OnesCount64(w)
	}
	c := container{bits: words, n: n}
	c.normalize()
	return c
}
