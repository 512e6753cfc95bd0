package payload

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func modelArray(m map[uint32]bool) []uint32 {
	var out []uint32
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func checkPostings(t *testing.T, p *Postings, m map[uint32]bool) {
	t.Helper()
	want := modelArray(m)
	got := p.ToArray()
	if !slices.Equal(got, want) {
		t.Fatalf("postings: got %d offsets, want %d (first diff near %v)", len(got), len(want), firstDiff(got, want))
	}
	if p.Len() != len(want) {
		t.Fatalf("Len %d, want %d", p.Len(), len(want))
	}
	for _, c := range p.conts {
		if c.n == 0 || (c.bits == nil && c.n != len(c.arr)) {
			t.Fatalf("container invariant broken: n=%d len(arr)=%d", c.n, len(c.arr))
		}
	}
}

func firstDiff(a, b []uint32) any {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return [2]uint32{a[i], b[i]}
		}
	}
	return nil
}

func TestPostingsRandomOps(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, universe := range []uint32{100, 70000, 300000, 1 << 31} {
		p := &Postings{}
		m := map[uint32]bool{}
		for step := range 40000 {
			off := rng.Uint32N(universe)
			if universe == 300000 && step > 20000 {
				off = rng.Uint32N(8000) // dense region: bitmap containers
			}
			if rng.IntN(3) == 0 {
				if p.Remove(off) != m[off] {
					t.Fatalf("Remove(%d) disagrees", off)
				}
				delete(m, off)
			} else {
				if p.Add(off) == m[off] {
					t.Fatalf("Add(%d) disagrees", off)
				}
				m[off] = true
			}
			if step%5000 == 0 {
				checkPostings(t, p, m)
			}
		}
		checkPostings(t, p, m)
		for k := range m {
			if !p.Contains(k) {
				t.Fatalf("Contains(%d) false", k)
			}
		}
		if p.Contains(universe + 1) {
			t.Fatal("Contains of absent offset")
		}
		checkPostings(t, p.Clone(), m)
	}
}

func randomSet(rng *rand.Rand, n int, universe uint32) ([]uint32, map[uint32]bool) {
	m := map[uint32]bool{}
	for range n {
		m[rng.Uint32N(universe)] = true
	}
	return modelArray(m), m
}

func TestPostingsSetOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 2))
	sizes := []int{0, 1, 50, 3000, 9000, 60000}
	for _, na := range sizes {
		for _, nb := range sizes {
			universe := uint32(200000)
			a, ma := randomSet(rng, na, universe)
			b, mb := randomSet(rng, nb, universe)
			pa, pb := FromSorted(a), Of(b...)
			and, or, diff := map[uint32]bool{}, map[uint32]bool{}, map[uint32]bool{}
			for k := range ma {
				or[k] = true
				if mb[k] {
					and[k] = true
				} else {
					diff[k] = true
				}
			}
			for k := range mb {
				or[k] = true
			}
			checkPostings(t, Intersect(pa, pb), and)
			checkPostings(t, Union(pa, pb), or)
			checkPostings(t, Difference(pa, pb), diff)
			// inputs unchanged
			checkPostings(t, pa, ma)
			checkPostings(t, pb, mb)
		}
	}
	// many-way union and intersection
	var ps []*Postings
	all := map[uint32]bool{}
	common := map[uint32]bool{}
	for i := range 7 {
		s, m := randomSet(rng, 5000*(i+1), 100000)
		for k := range m {
			all[k] = true
		}
		if i == 0 {
			for k := range m {
				common[k] = true
			}
		} else {
			for k := range common {
				if !m[k] {
					delete(common, k)
				}
			}
		}
		ps = append(ps, FromSorted(s))
	}
	checkPostings(t, Union(ps...), all)
	checkPostings(t, Intersect(ps...), common)
	checkPostings(t, Union(), nil)
	checkPostings(t, Intersect(), nil)
	checkPostings(t, Union(nil, nil), nil)
	checkPostings(t, Difference(ps[0], nil), modelMap(ps[0].ToArray()))
	checkPostings(t, Difference(nil, ps[0]), nil)
}

func modelMap(s []uint32) map[uint32]bool {
	m := map[uint32]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

func TestPostingsFromUnsorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 3))
	for _, n := range []int{0, 10, 2000, 100000} {
		for _, universe := range []uint32{1000, 500000, 1<<32 - 1} {
			offs := make([]uint32, n)
			for i := range offs {
				offs[i] = rng.Uint32N(universe)
			}
			m := modelMap(offs)
			checkPostings(t, fromUnsorted(slices.Clone(offs)), m)
			checkPostings(t, Of(offs...), m)
		}
	}
}

func TestPostingsIteration(t *testing.T) {
	p := Of(5, 1, 70000, 3, 1<<31)
	var got []uint32
	for off := range p.All() {
		got = append(got, off)
		if len(got) == 3 {
			break
		}
	}
	if !slices.Equal(got, []uint32{1, 3, 5}) {
		t.Fatalf("All with break: %v", got)
	}
	if !p.Equal(Of(1, 3, 5, 70000, 1<<31)) || p.Equal(Of(1, 3)) {
		t.Fatal("Equal")
	}
	var zero Postings
	if zero.Len() != 0 || zero.Contains(0) || zero.Remove(1) || len(zero.ToArray()) != 0 {
		t.Fatal("zero value not empty")
	}
	var nilp *Postings
	if nilp.Len() != 0 || nilp.Contains(1) || nilp.Clone().Len() != 0 {
		t.Fatal("nil postings not empty")
	}
}
