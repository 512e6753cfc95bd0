package payload

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPerPoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 4))
	var p perPoint[int64]
	m := map[uint32][]int64{}
	for step := range 60000 {
		var off uint32
		switch rng.IntN(10) {
		case 0:
			off = 1<<31 + rng.Uint32N(100) // far
		case 1:
			off = 20000 + rng.Uint32N(100) // far at first, dense later
		default:
			off = uint32(step / 2)
		}
		if rng.IntN(4) == 0 {
			p.del(off)
			delete(m, off)
			continue
		}
		vals := make([]int64, rng.IntN(3))
		for i := range vals {
			vals[i] = rng.Int64()
		}
		p.set(off, vals)
		if len(vals) > 0 {
			m[off] = vals
		} else {
			delete(m, off)
		}
	}
	if p.count != len(m) {
		t.Fatalf("count %d want %d", p.count, len(m))
	}
	for off, want := range m {
		if got := p.get(off); !slices.Equal(got, want) {
			t.Fatalf("get(%d) = %v want %v", off, got, want)
		}
	}
	var prev int64 = -1
	n := 0
	p.each(func(off uint32, vals []int64) {
		if int64(off) <= prev || !slices.Equal(vals, m[off]) {
			t.Fatalf("each: %d after %d", off, prev)
		}
		prev = int64(off)
		n++
	})
	if n != len(m) {
		t.Fatalf("each visited %d, want %d", n, len(m))
	}
	if len(p.state) > 4*(len(m)+1024)*2 {
		t.Fatalf("dense range %d for %d points", len(p.state), len(m))
	}
}

func TestPerPointSparseStaysSmall(t *testing.T) {
	var p perPoint[uint32]
	for i := range uint32(1000) {
		p.set(i*65535, []uint32{i})
	}
	if len(p.state) > 1<<16 {
		t.Fatalf("sparse offsets grew the dense range to %d", len(p.state))
	}
	for i := range uint32(1000) {
		if got := p.get(i * 65535); len(got) != 1 || got[0] != i {
			t.Fatalf("get(%d) = %v", i*65535, got)
		}
	}
}
