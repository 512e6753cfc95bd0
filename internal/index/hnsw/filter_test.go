package hnsw

import (
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

// hashAllow accepts about 1/mod of the offsets, uncorrelated with vectors.
func hashAllow(mod uint32) func(uint32) bool {
	return func(off uint32) bool { return (off*2654435761)>>7%mod == 0 }
}

func TestFilteredRecall(t *testing.T) {
	const seed = 11
	t.Logf("seed %d", seed)
	n, dim := scale(10000, 1000), 32
	vecs := clustered(seed, n, dim, 40, vector.Cosine)
	qs := clustered(seed+1, scale(60, 30), dim, 40, vector.Cosine)
	offs := seq(n)
	g := mustBuild(t, Config{M: 16, EfConstruct: 100, Distance: vector.Cosine, Dim: dim, Seed: seed}, vecs, offs, 2)
	cases := []struct {
		name  string
		allow func(uint32) bool
		want  int // path of most queries (-1: either) most queries should be answered
	}{
		{"99%", func(off uint32) bool { return off%100 != 0 }, int(walked)}, // the walk fills ef quickly
		{"50%", hashAllow(2), -1},           // near the crossover at this size
		{"10%", hashAllow(10), int(gaveUp)}, // 10% of a 10k graph: a scan is cheaper
		{"1%", hashAllow(100), int(gaveUp)},
		{"0.02%", hashAllow(5000), int(gaveUp)}, // a handful of points
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			allow := c.allow
			paths := map[path]int{}
			sum, walkSum := 0.0, 0.0
			for i := range qs.len() {
				q := qs.Vector(uint32(i))
				want := bruteForce(vector.Cosine, vecs, offs, q, 10, allow)
				got, p := g.search(g.prepare(q), 10, 64, allow, true)
				paths[p]++
				// The walk alone, with no scan to fall back on, must hold up too.
				walk, _ := g.search(g.prepare(q), 10, 64, allow, false)
				for _, res := range [][]Result{got, walk} {
					for _, r := range res {
						if !allow(r.Off) {
							t.Fatalf("returned %d, which the filter rejects", r.Off)
						}
					}
					checkOrder(t, vector.Cosine, res)
				}
				sum += recallOf(got, want)
				walkSum += recallOf(walk, want)
			}
			r, rw := sum/float64(qs.len()), walkSum/float64(qs.len())
			t.Logf("recall@10 %.4f (walk only %.4f), paths %v", r, rw, paths)
			if r < 0.9 || rw < 0.9 {
				t.Fatalf("filtered recall %.4f, walk only %.4f, want >= 0.9", r, rw)
			}
			if c.want >= 0 && paths[path(c.want)] < qs.len()*9/10 {
				t.Fatalf("paths %v, want mostly %d", paths, c.want)
			}
		})
	}
}

func TestGiveUp(t *testing.T) {
	cases := []struct {
		evals, checked, passed, ef, nodes int
		want                              bool
	}{
		{100, 100, 1, 64, 100000, false},      // too early to judge
		{300, 300, 150, 64, 100000, false},    // 50% pass: keep walking
		{300, 300, 30, 64, 100000, false},     // 10% of 100k: walking is cheaper
		{300, 300, 3, 64, 100000, true},       // 1%: scan
		{300, 300, 30, 64, 10000, true},       // 10% of 10k: scan
		{40000, 300, 150, 64, 100000, false},  // still below a 50% scan's cost
		{120000, 300, 280, 64, 100000, true},  // already costlier than a scan
		{500, 500, 500, 64, 1_000_000, false}, // no filter effect
	}
	for _, c := range cases {
		if got := giveUp(c.evals, c.checked, c.passed, c.ef, c.nodes); got != c.want {
			t.Errorf("giveUp%+v = %v", c, got)
		}
	}
}

func TestSmallGraphScansExactly(t *testing.T) {
	vecs := clustered(2, 50, 4, 3, vector.Euclid)
	g := mustBuild(t, Config{Distance: vector.Euclid, Dim: 4, Seed: 2}, vecs, seq(50), 1)
	q := vecs.Vector(7)
	got, p := g.search(g.prepare(q), 5, 64, nil, true)
	if p != small {
		t.Fatalf("path %d, want small", p)
	}
	want := bruteForce(vector.Euclid, vecs, seq(50), q, 5, nil)
	if recallOf(got, want) != 1 || got[0].Off != 7 || got[0].Score != 0 {
		t.Fatalf("got %v want %v", got, want)
	}
	// FullScanThreshold raises the cutoff.
	big := clustered(2, 500, 4, 3, vector.Euclid)
	g = mustBuild(t, Config{Distance: vector.Euclid, Dim: 4, Seed: 2, FullScanThreshold: 1000}, big, seq(500), 1)
	if _, p := g.search(g.prepare(q), 5, 16, nil, true); p != small {
		t.Fatalf("path %d with FullScanThreshold, want small", p)
	}
	if got := must(g.SearchExact(bg, q, 3, func(off uint32) bool { return off == 9 })); len(got) != 1 || got[0].Off != 9 {
		t.Fatalf("SearchExact with one allowed point: %v", got)
	}
}

func TestSearchEdgeCases(t *testing.T) {
	vecs := clustered(4, 200, 4, 3, vector.Dot)
	g := mustBuild(t, Config{Distance: vector.Dot, Dim: 4, Seed: 4}, vecs, seq(200), 1)
	q := vecs.Vector(0)
	for name, got := range map[string][]Result{
		"k=0":          must(g.Search(bg, q, 0, 10, nil)),
		"wrong dim":    must(g.Search(bg, q[:3], 5, 10, nil)),
		"none allowed": must(g.Search(bg, q, 5, 10, func(uint32) bool { return false })),
	} {
		if len(got) != 0 {
			t.Errorf("%s: %v", name, got)
		}
	}
	if got := must(g.Search(bg, q, 500, 10, nil)); len(got) != 200 {
		t.Errorf("k over size: %d results", len(got))
	}
	empty, err := New(Config{Distance: vector.Dot, Dim: 4}, vecs)
	if err != nil {
		t.Fatal(err)
	}
	if got := must(empty.Search(bg, q, 5, 10, nil)); got != nil {
		t.Errorf("empty graph: %v", got)
	}
}
