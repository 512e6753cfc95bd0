package segment

import "math/bits"

// bitset is a dense set of offsets, sized to the store's slot count. The
// planner combines index answers with it; at 100k points one set is 12.5 KB.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i uint32)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i uint32) bool { return int(i/64) < len(b) && b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) and(o bitset) {
	for i := range b {
		b[i] &= word(o, i)
	}
}
func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= word(o, i)
	}
}
func (b bitset) andNot(o bitset) {
	for i := range b {
		b[i] &^= word(o, i)
	}
}
func (b bitset) clone() bitset { return append(bitset(nil), b...) }
func word(b bitset, i int) uint64 {
	if i < len(b) {
		return b[i]
	}
	return 0
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// each calls fn for every member in increasing order until fn returns false.
func (b bitset) each(fn func(off uint32) bool) {
	for i, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			if !fn(uint32(i*64 + t)) {
				return
			}
			w &= w - 1
		}
	}
}
