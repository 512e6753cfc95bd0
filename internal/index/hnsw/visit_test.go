package hnsw

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"unsafe"
)

// TestVisitSet checks gather and add against a map over random batches,
// across resets that take both the dirty-list and the full-clear path.
func TestVisitSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var v visitSet
	const capacity = 5000
	v.fit(capacity)
	for round := range 40 {
		v.reset()
		seen := map[uint32]bool{}
		batches := 1 + rng.IntN(3)
		if round%4 == 0 {
			batches = 200 // enough words dirty for reset to clear it all
		}
		for range batches {
			nbs := make([]uint32, rng.IntN(40))
			for i := range nbs {
				nbs[i] = uint32(rng.IntN(capacity + 100)) // some past the limit
			}
			var want []uint32
			for _, nb := range nbs {
				if nb < capacity && !seen[nb] {
					seen[nb] = true
					want = append(want, nb)
				}
			}
			prefix := []uint32{99999}
			got := v.gather(prefix, nbs, capacity)
			if got[0] != 99999 || len(got) != 1+len(want) {
				t.Fatalf("round %d: gather kept %v, want prefix + %v", round, got, want)
			}
			for i, id := range want {
				if got[1+i] != id {
					t.Fatalf("round %d: gather = %v, want prefix + %v", round, got, want)
				}
			}
			id := uint32(rng.IntN(capacity))
			if v.add(id) == seen[id] {
				t.Fatalf("round %d: add(%d) reported new=%v with seen=%v", round, id, !seen[id], seen[id])
			}
			seen[id] = true
		}
		for id := range uint32(capacity) {
			if v.bits[id>>6]&(1<<(id&63)) != 0 != seen[id] {
				t.Fatalf("round %d: bit %d = %v, want %v", round, id, !seen[id], seen[id])
			}
		}
	}
}

// TestRowPrefetch: prefetching never reads, so ids past the rows, an
// empty list and the zero value are all harmless.
func TestRowPrefetch(t *testing.T) {
	rows := make([]float32, 10*128)
	r := newRowPrefetch(unsafe.Pointer(unsafe.SliceData(rows)), 128*4)
	if r.lines != 8 || r.ahead != prefetchLines/8 {
		t.Fatalf("128 float32 rows: %d lines, %d ahead", r.lines, r.ahead)
	}
	ids := []uint32{0, 9, 1 << 30, 3, 4, 5, 6}
	r.start(ids)
	for i := range ids {
		r.step(ids, i)
	}
	r.start(nil)
	r.one(1 << 31)
	var zero rowPrefetch
	zero.start(ids)
	zero.step(ids, 0)
	zero.one(1)
	if long := newRowPrefetch(unsafe.Pointer(unsafe.SliceData(rows)), 784*4); long.lines != prefetchRowLines || long.ahead != 2 {
		t.Fatalf("784 float32 rows: %d lines, %d ahead", long.lines, long.ahead)
	}
	if odd := newRowPrefetch(unsafe.Pointer(unsafe.SliceData(rows)), 132); odd.lines != 4 {
		t.Fatalf("132-byte rows: %d lines, want 4 (a row may straddle)", odd.lines)
	}
}

// TestUpperBound checks the branch-free search against sort.Search on
// sorted pools with runs of equal distances.
func TestUpperBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 500 {
		a := make([]item, rng.IntN(70))
		for i := range a {
			a[i].d = float32(rng.IntN(20))
		}
		slices.SortFunc(a, func(x, y item) int { return cmp.Compare(x.d, y.d) })
		d := float32(rng.IntN(22)) - 1
		want := sort.Search(len(a), func(i int) bool { return a[i].d > d })
		if got := upperBound(a, d); got != want {
			t.Fatalf("upperBound(%v, %v) = %d, want %d", a, d, got, want)
		}
	}
}

// TestPool checks the beam pool against a sorted reference: contents,
// expansion order (closest unexpanded first, also after an insert lands
// before the expanded prefix) and ids coming back without the done flag.
func TestPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 13))
	for _, ef := range []int{1, 5, smallPool, smallPool + 1, 300} {
		var p pool
		p.reset(ef)
		var ref []item
		done := map[uint32]bool{}
		next := uint32(0)
		for step := range 3000 {
			if step%3 == 2 {
				id, ok := p.next()
				var want uint32
				wantOK := false
				for _, it := range ref {
					if !done[it.id] {
						want, wantOK = it.id, true
						break
					}
				}
				if ok != wantOK || ok && id != want {
					t.Fatalf("ef %d step %d: next = %d, %v; want %d, %v", ef, step, id, ok, want, wantOK)
				}
				if ok {
					done[id] = true
				}
				continue
			}
			d := float32(rng.IntN(1000))
			id := next
			next++
			p.insert(d, id)
			i := sort.Search(len(ref), func(i int) bool { return ref[i].d > d })
			ref = slices.Insert(ref, i, item{d, id})
			if len(ref) > ef {
				ref = ref[:ef]
			}
			if got := p.items(nil); !slices.Equal(got, ref) {
				t.Fatalf("ef %d step %d: pool %v, want %v", ef, step, got, ref)
			}
		}
	}
}
