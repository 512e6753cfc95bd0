package hnsw

import (
	"fmt"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

// scale picks the data size: full in normal runs, smaller under -race.
func scale(full, race int) int {
	if raceOn {
		return race
	}
	return full
}

func TestRecall(t *testing.T) {
	const seed = 42
	t.Logf("seed %d", seed)
	n, dim := scale(10000, 1000), 64
	for _, d := range []vector.Distance{vector.Cosine, vector.Euclid, vector.Dot, vector.Manhattan} {
		name := string(d)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			vecs := clustered(seed, n, dim, 50, d)
			qs := clustered(seed+1, 100, dim, 50, d)
			offs := seq(n)
			g := mustBuild(t, Config{M: 16, EfConstruct: 100, Distance: d, Dim: dim, Seed: seed}, vecs, offs, 2)
			if g.Len() != n {
				t.Fatalf("Len %d, want %d", g.Len(), n)
			}
			r := meanRecall(t, g, vecs, offs, qs, 10, 64, nil)
			t.Logf("%s n=%d recall@10 ef=64: %.4f", name, n, r)
			if r < 0.95 {
				t.Fatalf("recall %.4f < 0.95", r)
			}
		})
	}
}

func TestScoresMatchDistance(t *testing.T) {
	for _, d := range []vector.Distance{vector.Cosine, vector.Euclid, vector.Dot, vector.Manhattan} {
		vecs := clustered(3, 500, 16, 5, d)
		g := mustBuild(t, Config{Distance: d, Dim: 16, Seed: 3}, vecs, seq(500), 1)
		q := clustered(4, 1, 16, 5, d).Vector(0)
		for _, r := range must(g.Search(bg, q, 10, 32, nil)) {
			if want := d.Score(q, vecs.Vector(r.Off)); abs32(r.Score-want) > 1e-5*max(1, abs32(want)) {
				t.Fatalf("%s: score %v for %d, Distance.Score says %v", d, r.Score, r.Off, want)
			}
		}
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func TestDeterministicSingleThread(t *testing.T) {
	n := scale(2000, 800)
	vecs := clustered(9, n, 8, 10, vector.Euclid)
	cfg := Config{M: 8, EfConstruct: 32, Distance: vector.Euclid, Dim: 8, Seed: 77}
	a := mustBuild(t, cfg, vecs, seq(n), 1)
	b := mustBuild(t, cfg, vecs, seq(n), 1)
	if sa, sb := dump(a), dump(b); sa != sb {
		t.Fatal("same input, seed and one thread gave different graphs")
	}
	cfg.Seed++
	c := mustBuild(t, cfg, vecs, seq(n), 1)
	if dump(a) == dump(c) {
		t.Fatal("a different seed gave the same graph")
	}
}

// dump renders every node's links on every level.
func dump(g *Graph) string {
	l := g.lay.Load()
	s := fmt.Sprint(g.entry.Load())
	for off := range uint32(l.cap) {
		if !l.has(off) {
			continue
		}
		for lev := 0; lev <= g.level(l, off); lev++ {
			blk := g.block(l, off, lev)
			s += fmt.Sprint(off, lev, blk[1:1+blk[0]])
		}
	}
	return s
}
