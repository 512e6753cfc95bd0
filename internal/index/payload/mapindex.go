package payload

import "slices"

// mapIndex is the core of the keyword and uuid indexes: each distinct value
// is interned to a small id with its posting list, and each point keeps
// the ids of its values for removal.
type mapIndex[K comparable] struct {
	ids     map[K]uint32
	vals    []K
	posts   []Postings
	free    []uint32
	points  perPoint[uint32]
	npoints int
	nvalues int
}

func newMapIndex[K comparable]() mapIndex[K] {
	return mapIndex[K]{ids: map[K]uint32{}}
}

func (m *mapIndex[K]) intern(k K) uint32 {
	if id, ok := m.ids[k]; ok {
		return id
	}
	var id uint32
	if n := len(m.free); n > 0 {
		id = m.free[n-1]
		m.free = m.free[:n-1]
		m.vals[id] = k
	} else {
		id = uint32(len(m.vals))
		m.vals = append(m.vals, k)
		m.posts = append(m.posts, Postings{})
	}
	m.ids[k] = id
	return id
}

// set replaces the values of off with keys, which must be distinct.
func (m *mapIndex[K]) set(off uint32, keys []K) {
	m.remove(off)
	if len(keys) == 0 {
		return
	}
	ids := make([]uint32, len(keys))
	for i, k := range keys {
		id := m.intern(k)
		m.posts[id].Add(off)
		ids[i] = id
	}
	m.points.set(off, ids)
	m.npoints++
	m.nvalues += len(ids)
}

func (m *mapIndex[K]) remove(off uint32) {
	ids := m.points.get(off)
	if len(ids) == 0 {
		return
	}
	for _, id := range ids {
		p := &m.posts[id]
		p.Remove(off)
		if p.Len() == 0 {
			delete(m.ids, m.vals[id])
			var zero K
			m.vals[id] = zero
			*p = Postings{}
			m.free = append(m.free, id)
		}
	}
	m.nvalues -= len(ids)
	m.points.del(off)
	m.npoints--
}

// match returns the points with any of the keys.
func (m *mapIndex[K]) match(keys ...K) *Postings {
	ps := make([]*Postings, 0, len(keys))
	for _, k := range keys {
		if id, ok := m.ids[k]; ok {
			ps = append(ps, &m.posts[id])
		}
	}
	return Union(ps...)
}

func (m *mapIndex[K]) count(k K) int {
	if id, ok := m.ids[k]; ok {
		return m.posts[id].Len()
	}
	return 0
}

// facet calls yield with each value and its number of points, in the order
// of compare.
func (m *mapIndex[K]) facet(compare func(a, b K) int, yield func(K, int) bool) {
	keys := make([]K, 0, len(m.ids))
	for k := range m.ids {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compare)
	for _, k := range keys {
		if !yield(k, m.posts[m.ids[k]].Len()) {
			return
		}
	}
}

// encode writes the dictionary with putKey, then each point's value ids.
func (m *mapIndex[K]) encode(e *encoder, putKey func(K)) {
	dense := make(map[uint32]uint64, len(m.ids))
	var order []uint32
	for id := range m.vals {
		if cur, live := m.ids[m.vals[id]]; live && cur == uint32(id) {
			dense[uint32(id)] = uint64(len(order))
			order = append(order, uint32(id))
		}
	}
	e.uvarint(uint64(len(order)))
	for _, id := range order {
		putKey(m.vals[id])
	}
	e.uvarint(uint64(m.npoints))
	w := offsetWriter{e: e}
	m.points.each(func(off uint32, ids []uint32) {
		w.put(off)
		e.uvarint(uint64(len(ids)))
		for _, id := range ids {
			e.uvarint(dense[id])
		}
	})
}

// decode reads what encode wrote; getKey reads one dictionary entry and
// reports whether it is valid.
func (m *mapIndex[K]) decode(d *decoder, keySize int, getKey func() (K, bool)) error {
	n := d.count(keySize)
	dict := make([]K, 0, min(n, 1024))
	seen := make(map[K]struct{}, min(n, 1024))
	for range n {
		k, ok := getKey()
		if d.err != nil {
			return d.err
		}
		if _, dup := seen[k]; !ok || dup {
			d.fail("bad dictionary entry")
			return d.err
		}
		seen[k] = struct{}{}
		dict = append(dict, k)
	}
	points := d.count(2)
	var keys []K
	for range points {
		off := d.offset()
		k := d.count(1)
		if d.err != nil {
			return d.err
		}
		if k == 0 {
			d.fail("point without values")
			return d.err
		}
		keys = keys[:0]
		for range k {
			i := d.uvarint()
			if d.err != nil {
				return d.err
			}
			if i >= uint64(len(dict)) {
				d.fail("value id out of range")
				return d.err
			}
			keys = append(keys, dict[i])
		}
		if len(distinct(keys)) != len(keys) {
			d.fail("repeated value")
			return d.err
		}
		m.set(off, keys)
	}
	return d.err
}

// distinct returns the keys with repeats removed, keeping first
// occurrences in order; it reuses the input when there are none.
func distinct[K comparable](keys []K) []K {
	if len(keys) < 2 {
		return keys
	}
	if len(keys) < 16 {
		for i := 1; i < len(keys); i++ {
			if slices.Contains(keys[:i], keys[i]) {
				return distinctSlow(keys)
			}
		}
		return keys
	}
	return distinctSlow(keys)
}

func distinctSlow[K comparable](keys []K) []K {
	seen := make(map[K]struct{}, len(keys))
	out := make([]K, 0, len(keys))
	for _, k := range keys {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			out = append(out, k)
		}
	}
	return out
}
