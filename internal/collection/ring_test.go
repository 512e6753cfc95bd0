package collection

import (
	"math"
	"testing"

	"github.com/google/uuid"
	"github.com/shoaldb/shoal/internal/point"
)

func ringOf(n int) *Ring {
	ids := make([]ShardID, n)
	for i := range ids {
		ids[i] = ShardID(i)
	}
	return NewRing(ids, RingScale)
}

// TestRingGolden pins the ring: where points live depends on it, so a
// change here moves data already stored and must not happen by accident.
func TestRingGolden(t *testing.T) {
	u := point.UUIDID(uuid.MustParse("5c56c793-69f3-4fbf-87e6-c4bf54c28c26"))
	hashes := []struct {
		id   point.ID
		want uint64
	}{
		{point.NumID(0), 5857343971789713213},
		{point.NumID(1), 14123694239820124332},
		{point.NumID(1 << 40), 16864256327459996842},
		{u, 4875850704782887507},
	}
	for _, h := range hashes {
		if got := HashID(h.id); got != h.want {
			t.Errorf("HashID(%v) = %d, want %d", h.id, got, h.want)
		}
	}
	placement := []struct {
		shards int
		id     point.ID
		want   ShardID
	}{
		{1, point.NumID(7), 0},
		{4, point.NumID(0), 2},
		{4, point.NumID(1), 2},
		{4, point.NumID(2), 1},
		{4, point.NumID(3), 0},
		{4, point.NumID(1000), 3},
		{4, u, 2},
		{3, point.NumID(42), 2},
		{7, point.NumID(42), 5},
	}
	for _, p := range placement {
		if got := ringOf(p.shards).Shard(p.id); got != p.want {
			t.Errorf("%d shards: %v -> shard %d, want %d", p.shards, p.id, got, p.want)
		}
	}
}

// TestRingFair: each of N shards owns 1/N of 100k ids, within 2
// percentage points.
func TestRingFair(t *testing.T) {
	const ids = 100_000
	for _, n := range []int{2, 3, 4, 6, 8} {
		r := ringOf(n)
		count := make([]int, n)
		for i := range ids {
			count[r.Shard(point.NumID(uint64(i)))]++
		}
		worst := 0.0
		for s, c := range count {
			share := float64(c) / ids
			dev := math.Abs(share - 1/float64(n))
			worst = max(worst, dev)
			if dev > 0.02 {
				t.Errorf("%d shards: shard %d owns %.4f of the ids, fair is %.4f", n, s, share, 1/float64(n))
			}
		}
		t.Logf("%d shards: %v (worst %.2f points off 1/N = %.2f%%)", n, count, worst*100, 100/float64(n))
	}
}

// TestRingConsistent: going from N to N+1 shards moves 1/(N+1) of the
// ids (within 2 percentage points), and only to the new shard.
func TestRingConsistent(t *testing.T) {
	const ids = 100_000
	for _, n := range []int{1, 2, 3, 4, 7} {
		before, after := ringOf(n), ringOf(n+1)
		moved := 0
		for i := range ids {
			id := point.NumID(uint64(i))
			a, b := before.Shard(id), after.Shard(id)
			if a == b {
				continue
			}
			moved++
			if b != ShardID(n) {
				t.Fatalf("%d -> %d shards: id %d moved from shard %d to old shard %d", n, n+1, i, a, b)
			}
		}
		share, fair := float64(moved)/ids, 1/float64(n+1)
		t.Logf("%d -> %d shards: %.4f of the ids moved (1/(N+1) = %.4f)", n, n+1, share, fair)
		if math.Abs(share-fair) > 0.02 {
			t.Errorf("%d -> %d shards: %.4f of the ids moved, want about %.4f", n, n+1, share, fair)
		}
	}
}

// TestRingOrderFree: the ring does not depend on the order shards are
// given in, nor does an empty ring panic.
func TestRingOrderFree(t *testing.T) {
	a, b := NewRing([]ShardID{0, 1, 2, 3}, RingScale), NewRing([]ShardID{3, 1, 0, 2}, RingScale)
	for i := range 1000 {
		id := point.NumID(uint64(i))
		if a.Shard(id) != b.Shard(id) {
			t.Fatalf("id %d: shard %d and %d", i, a.Shard(id), b.Shard(id))
		}
	}
	if got := NewRing(nil, RingScale).Shard(point.NumID(1)); got != 0 {
		t.Fatalf("empty ring: shard %d", got)
	}
}
