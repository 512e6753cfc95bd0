package payload

import (
	"maps"
	"slices"
)

// perPoint maps a point offset to the values indexed for it, so that Remove
// knows what to take out. Offsets are dense in a segment, so the common
// case of one value per point costs sizeof(T)+1 bytes a point; points with
// several values, and offsets far beyond the dense range (which a corrupt
// or adversarial input could name), live in a map so memory follows data.
type perPoint[T any] struct {
	state []uint8 // per dense offset: stateNone, stateOne or stateMany
	one   []T     // the value, for stateOne
	many  map[uint32][]T
	count int // points with values
}

const (
	stateNone uint8 = iota
	stateOne
	stateMany
)

// get returns the values of off; the slice must not be modified or kept
// across a mutation.
func (p *perPoint[T]) get(off uint32) []T {
	if int(off) < len(p.state) {
		switch p.state[off] {
		case stateOne:
			return p.one[off : off+1 : off+1]
		case stateMany:
			return p.many[off]
		}
		return nil
	}
	return p.many[off]
}

// set replaces the values of off with a copy of vals; empty vals deletes.
func (p *perPoint[T]) set(off uint32, vals []T) {
	if len(vals) == 0 {
		p.del(off)
		return
	}
	if p.get(off) == nil {
		p.count++
	}
	// The dense range grows with the data: never beyond a few times the
	// number of points, so that sparse offsets cannot make it huge.
	if int(off) >= len(p.state) && uint64(off) < 4*uint64(p.count+1024) {
		p.grow(int(off) + 1)
	}
	if int(off) >= len(p.state) {
		p.putMany(off, vals)
		return
	}
	if len(vals) == 1 {
		if p.state[off] == stateMany {
			delete(p.many, off)
		}
		p.state[off] = stateOne
		p.one[off] = vals[0]
		return
	}
	p.state[off] = stateMany
	p.putMany(off, vals)
}

func (p *perPoint[T]) putMany(off uint32, vals []T) {
	if p.many == nil {
		p.many = map[uint32][]T{}
	}
	p.many[off] = slices.Clone(vals)
}

// grow extends the dense range to at least n offsets, moving far entries
// that now fall inside it.
func (p *perPoint[T]) grow(n int) {
	n = min(max(n, 2*len(p.state)), max(n, 4*(p.count+1024)))
	old := len(p.state)
	p.state = append(p.state, make([]uint8, n-old)...)
	p.one = append(p.one, make([]T, n-old)...)
	for off := range p.many {
		if int(off) >= old && int(off) < n {
			p.state[off] = stateMany
		}
	}
}

func (p *perPoint[T]) del(off uint32) {
	if p.get(off) != nil {
		p.count--
	}
	if int(off) < len(p.state) {
		if p.state[off] == stateMany {
			delete(p.many, off)
		}
		p.state[off] = stateNone
		var zero T
		p.one[off] = zero
		return
	}
	delete(p.many, off)
}

// each calls f for every point with values, in increasing offset order.
func (p *perPoint[T]) each(f func(off uint32, vals []T)) {
	for off, st := range p.state {
		switch st {
		case stateOne:
			f(uint32(off), p.one[off:off+1:off+1])
		case stateMany:
			f(uint32(off), p.many[uint32(off)])
		}
	}
	var far []uint32
	for off := range maps.Keys(p.many) {
		if int(off) >= len(p.state) {
			far = append(far, off)
		}
	}
	slices.Sort(far)
	for _, off := range far {
		f(off, p.many[off])
	}
}
