package payload

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortedList(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 5))
	var l sortedList[int64]
	var model []entry[int64]
	for step := range 30000 {
		e := entry[int64]{int64(rng.IntN(2000)), rng.Uint32N(50)}
		i, found := slices.BinarySearchFunc(model, e, compareEntry[int64])
		if step > 15000 && rng.IntN(2) == 0 || rng.IntN(4) == 0 {
			if l.remove(e) != found {
				t.Fatalf("remove %v: disagree", e)
			}
			if found {
				model = slices.Delete(model, i, i+1)
			}
		} else {
			if l.insert(e) == found {
				t.Fatalf("insert %v: disagree", e)
			}
			if !found {
				model = slices.Insert(model, i, e)
			}
		}
	}
	var all []entry[int64]
	l.ascend(pos{}, func(e entry[int64]) bool { all = append(all, e); return true })
	if !slices.Equal(all, model) || l.n != len(model) {
		t.Fatalf("contents differ: %d vs %d", len(all), len(model))
	}
	for _, c := range l.chunks {
		if len(c) == 0 || len(c) > chunkMax {
			t.Fatalf("chunk of %d", len(c))
		}
	}
	for range 200 {
		lo, hi := int64(rng.IntN(2100)-50), int64(rng.IntN(2100)-50)
		from := l.seekFirst(func(v int64) bool { return v >= lo })
		to := l.seekFirst(func(v int64) bool { return v > hi })
		var want []entry[int64]
		for _, e := range model {
			if e.v >= lo && e.v <= hi {
				want = append(want, e)
			}
		}
		if n := l.countBetween(from, to); n != len(want) {
			t.Fatalf("count [%d,%d] = %d want %d", lo, hi, n, len(want))
		}
		var down []entry[int64]
		l.descend(to, func(e entry[int64]) bool {
			if e.v < lo {
				return false
			}
			down = append(down, e)
			return true
		})
		slices.Reverse(down)
		if !slices.Equal(down, want) {
			t.Fatalf("descend [%d,%d]: %d entries want %d", lo, hi, len(down), len(want))
		}
	}
	var bulk sortedList[int64]
	bulk.bulkLoad(model)
	var got []entry[int64]
	bulk.ascend(pos{}, func(e entry[int64]) bool { got = append(got, e); return true })
	if !slices.Equal(got, model) {
		t.Fatal("bulkLoad")
	}
}
