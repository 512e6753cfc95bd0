package payload

import (
	"cmp"
	"slices"
)

// entry is one (value, point) pair of an ordered index.
type entry[T cmp.Ordered] struct {
	v   T
	off uint32
}

func compareEntry[T cmp.Ordered](a, b entry[T]) int {
	if c := cmp.Compare(a.v, b.v); c != 0 {
		return c
	}
	return cmp.Compare(a.off, b.off)
}

// sortedList is an ordered set of entries, kept as a list of sorted chunks
// of at most chunkMax entries (a one-level B-tree). Insert and delete cost
// a binary search plus a move within one chunk; seeking is two binary
// searches; iteration walks the chunks in order. Values must not be NaN.
type sortedList[T cmp.Ordered] struct {
	chunks [][]entry[T]
	n      int
}

const chunkMax = 512

// chunkFor returns the index of the chunk that holds or would hold e.
func (l *sortedList[T]) chunkFor(e entry[T]) int {
	i, _ := slices.BinarySearchFunc(l.chunks, e, func(c []entry[T], e entry[T]) int {
		return compareEntry(c[len(c)-1], e)
	})
	return min(i, len(l.chunks)-1)
}

func (l *sortedList[T]) insert(e entry[T]) bool {
	if len(l.chunks) == 0 {
		l.chunks = append(l.chunks, []entry[T]{e})
		l.n++
		return true
	}
	ci := l.chunkFor(e)
	c := l.chunks[ci]
	i, ok := slices.BinarySearchFunc(c, e, compareEntry[T])
	if ok {
		return false
	}
	c = slices.Insert(c, i, e)
	if len(c) > chunkMax {
		half := len(c) / 2
		right := slices.Clone(c[half:])
		c = slices.Clip(c[:half])
		l.chunks = slices.Insert(l.chunks, ci+1, right)
	}
	l.chunks[ci] = c
	l.n++
	return true
}

func (l *sortedList[T]) remove(e entry[T]) bool {
	if len(l.chunks) == 0 {
		return false
	}
	ci := l.chunkFor(e)
	c := l.chunks[ci]
	i, ok := slices.BinarySearchFunc(c, e, compareEntry[T])
	if !ok {
		return false
	}
	c = slices.Delete(c, i, i+1)
	l.n--
	switch {
	case len(c) == 0:
		l.chunks = slices.Delete(l.chunks, ci, ci+1)
		return true
	case len(c) < chunkMax/4 && ci+1 < len(l.chunks) && len(c)+len(l.chunks[ci+1]) <= chunkMax:
		c = append(c, l.chunks[ci+1]...)
		l.chunks = slices.Delete(l.chunks, ci+1, ci+2)
	}
	l.chunks[ci] = c
	return true
}

// bulkLoad replaces the contents with sorted, distinct entries.
func (l *sortedList[T]) bulkLoad(es []entry[T]) {
	l.chunks, l.n = nil, len(es)
	for len(es) > 0 {
		k := min(len(es), chunkMax/2)
		l.chunks = append(l.chunks, slices.Clone(es[:k]))
		es = es[k:]
	}
}

// pos is a position in the list: chunk ci, index i.
type pos struct{ ci, i int }

// seekFirst returns the position of the first entry whose value satisfies
// ok, which must be false for a prefix of the values and true after it.
func (l *sortedList[T]) seekFirst(ok func(T) bool) pos {
	ci, _ := slices.BinarySearchFunc(l.chunks, true, func(c []entry[T], _ bool) int {
		if ok(c[len(c)-1].v) {
			return 1
		}
		return -1
	})
	if ci == len(l.chunks) {
		return pos{ci, 0}
	}
	c := l.chunks[ci]
	i, _ := slices.BinarySearchFunc(c, true, func(e entry[T], _ bool) int {
		if ok(e.v) {
			return 1
		}
		return -1
	})
	return pos{ci, i}
}

// ascend calls yield for the entries from p on, in increasing order.
func (l *sortedList[T]) ascend(p pos, yield func(entry[T]) bool) {
	for ci := p.ci; ci < len(l.chunks); ci++ {
		start := 0
		if ci == p.ci {
			start = p.i
		}
		for _, e := range l.chunks[ci][start:] {
			if !yield(e) {
				return
			}
		}
	}
}

// descend calls yield for the entries before p, in decreasing order.
func (l *sortedList[T]) descend(p pos, yield func(entry[T]) bool) {
	for ci := min(p.ci, len(l.chunks)-1); ci >= 0; ci-- {
		c := l.chunks[ci]
		end := len(c)
		if ci == p.ci {
			end = p.i
		}
		for i := end - 1; i >= 0; i-- {
			if !yield(c[i]) {
				return
			}
		}
	}
}

// countBetween returns the number of entries in [a, b).
func (l *sortedList[T]) countBetween(a, b pos) int {
	if a.ci > b.ci || (a.ci == b.ci && a.i >= b.i) {
		return 0
	}
	if a.ci == b.ci {
		return b.i - a.i
	}
	n := len(l.chunks[a.ci]) - a.i
	for ci := a.ci + 1; ci < b.ci; ci++ {
		n += len(l.chunks[ci])
	}
	return n + b.i
}
