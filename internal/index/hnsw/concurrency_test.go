package hnsw

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

// TestConcurrentSearchDuringInsert runs searches while one writer inserts
// (growing the layout) and deletes; -race checks the lock-free reads.
func TestConcurrentSearchDuringInsert(t *testing.T) {
	const seed = 41
	t.Logf("seed %d", seed)
	n := scale(4000, 800)
	vecs := clustered(seed, 2*n, 16, 10, vector.Dot)
	qs := clustered(seed+1, 64, 16, 10, vector.Dot)
	g := mustBuild(t, Config{M: 8, EfConstruct: 40, Distance: vector.Dot, Dim: 16, Seed: seed}, vecs, seq(n/4), 2)

	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done.Store(true)
		for off := uint32(n / 4); off < uint32(2*n); off++ {
			if err := g.Insert(off); err != nil {
				t.Error(err)
				return
			}
			if off%5 == 0 {
				g.Delete(off - 3)
			}
		}
	})
	var searches atomic.Int64
	for w := range 2 {
		wg.Go(func() {
			for i := w; !done.Load(); i++ {
				q := qs.Vector(uint32(i % 64))
				var allow func(uint32) bool
				if i%3 == 0 {
					allow = hashAllow(4)
				}
				got, p := g.search(g.prepare(q), 10, 32, allow, true)
				if len(got) == 0 {
					t.Errorf("no results from a non-empty graph: path %d nodes %d dead %d allow %v", p, g.nodes.Load(), g.dead.Load(), allow != nil)
					return
				}
				for _, r := range got {
					if int(r.Off) >= 2*n || (allow != nil && !allow(r.Off)) {
						t.Errorf("bad result %d", r.Off)
						return
					}
				}
				checkOrder(t, vector.Dot, got)
				searches.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("%d searches during %d inserts", searches.Load(), 2*n-n/4)
	if g.Len() == 0 || searches.Load() == 0 {
		t.Fatal("nothing happened")
	}
	// After the writer is done every live point is findable by itself.
	for off := uint32(0); off < uint32(2*n); off += 97 {
		if !g.Contains(off) {
			continue
		}
		got := must(g.Search(bg, vecs.Vector(off), 1, 64, nil))
		if len(got) == 0 {
			t.Fatalf("nothing for point %d", off)
		}
	}
}
