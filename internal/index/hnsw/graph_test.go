package hnsw

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/shoaldb/shoal/internal/vector"
)

func TestDeletedNeverReturned(t *testing.T) {
	const seed = 21
	t.Logf("seed %d", seed)
	n := scale(4000, 2000)
	vecs := clustered(seed, n, 16, 20, vector.Euclid)
	g := mustBuild(t, Config{M: 8, EfConstruct: 64, Distance: vector.Euclid, Dim: 16, Seed: seed}, vecs, seq(n), 2)
	r := rand.New(rand.NewPCG(seed, 2))
	dead := map[uint32]bool{}
	ep, _ := unpackEntry(g.entry.Load())
	g.Delete(ep) // the entry point still routes
	dead[ep] = true
	for len(dead) < n*3/10 {
		off := uint32(r.IntN(n))
		g.Delete(off)
		g.Delete(off) // idempotent
		dead[off] = true
	}
	g.Delete(uint32(n + 100)) // absent: no effect
	if g.Len() != n-len(dead) {
		t.Fatalf("Len %d, want %d", g.Len(), n-len(dead))
	}
	var live []uint32
	for off := range uint32(n) {
		if g.Contains(off) == dead[off] {
			t.Fatalf("Contains(%d) = %v, deleted %v", off, g.Contains(off), dead[off])
		}
		if !dead[off] {
			live = append(live, off)
		}
	}
	qs := clustered(seed+1, 50, 16, 20, vector.Euclid)
	sum := 0.0
	for i := range uint32(50) {
		q := qs.Vector(i)
		got := must(g.Search(bg, q, 50, 64, nil))
		for _, res := range [][]Result{got, must(g.SearchExact(bg, q, 50, nil)), must(g.Search(bg, q, 5, 64, hashAllow(3)))} {
			for _, x := range res {
				if dead[x.Off] {
					t.Fatalf("deleted %d returned", x.Off)
				}
			}
		}
		sum += recallOf(got, bruteForce(vector.Euclid, vecs, live, q, 50, nil))
	}
	if rc := sum / 50; rc < 0.9 {
		t.Fatalf("recall with 30%% deleted %.4f", rc)
	}
}

func TestInsertIncremental(t *testing.T) {
	const seed = 31
	t.Logf("seed %d", seed)
	n := scale(4000, 1500)
	vecs := clustered(seed, 2*n, 16, 20, vector.Cosine)
	g, err := New(Config{M: 12, EfConstruct: 80, Distance: vector.Cosine, Dim: 16, Seed: seed}, vecs)
	if err != nil {
		t.Fatal(err)
	}
	// Even offsets only, in a shuffled order, so the layout grows in jumps.
	offs := make([]uint32, 0, n)
	for i := range n {
		offs = append(offs, uint32(2*i))
	}
	rand.New(rand.NewPCG(seed, 3)).Shuffle(len(offs), func(i, j int) { offs[i], offs[j] = offs[j], offs[i] })
	for _, off := range offs {
		if err := g.Insert(off); err != nil {
			t.Fatal(err)
		}
	}
	if g.Len() != n || g.Contains(1) {
		t.Fatalf("Len %d, Contains(1) %v", g.Len(), g.Contains(1))
	}
	qs := clustered(seed+1, 50, 16, 20, vector.Cosine)
	if r := meanRecall(t, g, vecs, offs, qs, 10, 64, nil); r < 0.95 {
		t.Fatalf("recall after incremental inserts %.4f", r)
	}

	// Re-inserting a deleted offset with a new vector: found at the new place.
	off := offs[0]
	g.Delete(off)
	copy(vecs.Vector(off), qs.Vector(7))
	if err := g.Insert(off); err != nil {
		t.Fatal(err)
	}
	if got := must(g.Search(bg, qs.Vector(7), 1, 64, nil)); len(got) != 1 || got[0].Off != off {
		t.Fatalf("re-inserted point not found first: %v", got)
	}
	if g.Len() != n {
		t.Fatalf("Len %d after re-insert", g.Len())
	}

	if err := g.Insert(noNode); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Insert(MaxUint32): %v", err)
	}
	short, err := New(Config{Distance: vector.Cosine, Dim: 8}, vecs) // vectors have 16
	if err != nil {
		t.Fatal(err)
	}
	if err := short.Insert(0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Insert with wrong dimension: %v", err)
	}
}

func TestBuildRejects(t *testing.T) {
	vecs := clustered(1, 10, 4, 2, vector.Dot)
	ok := Config{Distance: vector.Dot, Dim: 4}
	cases := map[string]struct {
		cfg  Config
		vecs Vectors
		offs []uint32
	}{
		"duplicate":     {ok, vecs, []uint32{1, 2, 1}},
		"reserved":      {ok, vecs, []uint32{noNode}},
		"dimension":     {Config{Distance: vector.Dot, Dim: 5}, vecs, []uint32{1}},
		"m":             {Config{M: 1, Distance: vector.Dot, Dim: 4}, vecs, nil},
		"ef_construct":  {Config{EfConstruct: -1, Distance: vector.Dot, Dim: 4}, vecs, nil},
		"distance":      {Config{Distance: "cosine", Dim: 4}, vecs, nil},
		"dim zero":      {Config{Distance: vector.Dot}, vecs, nil},
		"payload_m":     {Config{PayloadM: -1, Distance: vector.Dot, Dim: 4}, vecs, nil},
		"nil vectors":   {ok, nil, nil},
		"full_scan < 0": {Config{FullScanThreshold: -1, Distance: vector.Dot, Dim: 4}, vecs, nil},
	}
	for name, c := range cases {
		if _, err := Build(c.cfg, c.vecs, c.offs, 2, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	g, err := Build(ok, vecs, nil, 4, nil)
	if err != nil || g.Len() != 0 {
		t.Fatalf("empty build: %v", err)
	}
	if c := g.Config(); c.M != DefaultM || c.EfConstruct != DefaultEfConstruct {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

func TestBuildProgressAndCancel(t *testing.T) {
	vecs := clustered(8, 1000, 8, 5, vector.Euclid)
	cfg := Config{M: 8, EfConstruct: 32, Distance: vector.Euclid, Dim: 8}
	var mu sync.Mutex
	last, calls := 0, 0
	_, err := Build(cfg, vecs, seq(1000), 2, func(done, total int) {
		mu.Lock() // must never be concurrent: TryLock would fail otherwise
		defer mu.Unlock()
		if total != 1000 || done <= last {
			t.Errorf("progress(%d, %d) after %d", done, total, last)
		}
		last = done
		calls++
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != 1000 || calls > 101 {
		t.Fatalf("progress ended at %d after %d calls", last, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = BuildContext(ctx, cfg, vecs, seq(1000), 2, func(done, _ int) {
		if done >= 200 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled build: %v", err)
	}
}

func TestMemoryBytes(t *testing.T) {
	vecs := clustered(8, 1000, 8, 5, vector.Euclid)
	g := mustBuild(t, Config{M: 8, Distance: vector.Euclid, Dim: 8}, vecs, seq(1000), 1)
	if m, links := g.MemoryBytes(), 1000*17*4; m < links || m > 3*links {
		t.Fatalf("MemoryBytes %d for %d bytes of level-0 links", m, links)
	}
}
