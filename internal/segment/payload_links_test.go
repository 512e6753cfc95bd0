package segment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// clusteredVectors draws n unit vectors around `clusters` centres plus a
// shared 16-dimensional random subspace: a low intrinsic dimension, as real
// embeddings have, yet hard enough that a graph misses some neighbours.
func clusteredVectors(r *rand.Rand, n, dim, clusters int) [][]float32 {
	const latent, noise = 16, 0.1
	centres := make([][]float32, clusters)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range centres[i] {
			centres[i][j] = float32(r.NormFloat64())
		}
	}
	basis := make([]float32, dim*latent)
	for i := range basis {
		basis[i] = float32(r.NormFloat64() / 4)
	}
	out := make([][]float32, n)
	z := make([]float32, latent)
	for i := range out {
		c := centres[r.IntN(clusters)]
		for t := range z {
			z[t] = float32(r.NormFloat64())
		}
		v := make([]float32, dim)
		for j := range v {
			x := c[j] + noise*float32(r.NormFloat64())
			for t, zt := range z {
				x += basis[j*latent+t] * zt
			}
			v[j] = x
		}
		vector.Normalize(v)
		out[i] = v
	}
	return out
}

// taggedStore holds n clustered points, each with a keyword "tag" of 100
// values (1% of the points each) and a keyword "grp" of 10 values (10%),
// drawn independently of the vectors: a value's points are spread over
// every cluster, the hard case for a filtered walk. Both fields are
// indexed and the graph is built with the given payload_m and
// full_scan_threshold (in points).
func taggedStore(t testing.TB, seed uint64, n, dim, payloadM, fullScan int) (*Store, [][]float32) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 5))
	vecs := clusteredVectors(r, n+200, dim, 40)
	s := NewStore(map[string]VectorSpec{"": {Dim: dim, Distance: vector.Cosine}})
	for _, key := range []string{"tag", "grp"} {
		if err := s.CreateIndex(key, []byte(`"keyword"`)); err != nil {
			t.Fatal(err)
		}
	}
	s.SetIndexParams("", IndexParams{M: 16, EfConstruct: 100, IndexingThreshold: 100, FullScanThreshold: fullScan, PayloadM: payloadM, Seed: 1})
	for i := range n {
		pl := point.Payload{"tag": fmt.Sprintf("t%d", r.IntN(100)), "grp": fmt.Sprintf("g%d", r.IntN(10))}
		s.Upsert(point.NumID(uint64(i)), 1, point.Vectors{"": vecs[i]}, pl)
	}
	s.PrepareRead()
	b := s.PrepareGraphBuild()
	if b == nil {
		t.Fatal("no graph to build")
	}
	last := 0
	g, err := b.Run(context.Background(), 2, func(done, total int) {
		if done < last || done > total {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
	})
	if err != nil {
		t.Fatal(err)
	}
	s.InstallGraph(b, g)
	if want := payloadBuildTotal(n, b.blocks); last != want {
		t.Fatalf("progress ended at %d, want %d", last, want)
	}
	return s, vecs[n:] // queries: the same law, not in the store
}

// filteredRecall averages recall@10 (ef 64) of the queries, query i
// filtered on value i mod values of key, and counts the walks taken.
func filteredRecall(t *testing.T, s *Store, qs [][]float32, key, prefix string, values int) (float64, map[string]int) {
	t.Helper()
	walks := map[string]int{}
	traceWalk = func(w string) { walks[w]++ }
	defer func() { traceWalk = func(string) {} }()
	sum := 0.0
	for i, q := range qs {
		f := ""
		if key != "" {
			f = fmt.Sprintf(`{"must":[{"key":%q,"match":{"value":"%s%d"}}]}`, key, prefix, i%values)
		}
		p := SearchParams{Vector: "", Query: q, Limit: 10, HnswEf: 64}
		if f != "" {
			p.Filter = mustFilter(f)
		}
		approx := must(s.Search(bg, p))
		p.Exact = true
		exact := must(s.Search(bg, p))
		want := map[uint32]bool{}
		for _, h := range exact {
			want[h.Offset] = true
		}
		hit := 0
		for _, h := range approx {
			if want[h.Offset] {
				hit++
			}
		}
		sum += float64(hit) / float64(max(len(exact), 1))
	}
	return sum / float64(len(qs)), walks
}

// TestPayloadMRecall: with payload_m, a filtered search keeps recall@10 at
// 1% and 10% selectivity when the filter value is uncorrelated with the
// vectors, by walking only the matching points over the payload links. With
// full_scan_threshold at n/200 points (100 of 20000) both the 1% (about 200
// points) and the 10% sets are above the threshold, so both take the graph
// (the "block" walk); below the threshold (the 1% sets with the threshold
// raised tenfold) the matches are scanned exactly and no walk is taken. With payload_m=0 the
// same searches take Search's walk, which expands rejected points too and
// scans exactly once that costs more (logged for comparison).
func TestPayloadMRecall(t *testing.T) {
	const seed = 20261125
	t.Logf("seed %d", seed)
	n, dim, nq := 20000, 32, 100
	if raceOn {
		n, nq = 3000, 20
	}
	fullScan := n / 200 // half the points of a 1% value
	on, qs := taggedStore(t, seed, n, dim, 16, fullScan)
	off, _ := taggedStore(t, seed, n, dim, 0, fullScan)
	if _, g := on.graphFor(""); g == nil || !g.HasPayloadBlock(blockLabel("keyword", "tag", "t7")) {
		t.Fatal("the 1% value t7 has no payload links")
	}
	if _, g := off.graphFor(""); g.HasPayloadBlock(blockLabel("keyword", "grp", "g1")) {
		t.Fatal("payload_m=0 linked a block")
	}
	for _, c := range []struct {
		name, key, prefix string
		values            int
		min               float64
	}{
		{"1%", "tag", "t", 100, 0.90},
		{"10%", "grp", "g", 10, 0.95},
		{"unfiltered", "", "", 0, 0.95},
	} {
		rOn, wOn := filteredRecall(t, on, qs[:nq], c.key, c.prefix, c.values)
		rOff, wOff := filteredRecall(t, off, qs[:nq], c.key, c.prefix, c.values)
		t.Logf("%s (n=%d): recall@10 ef=64 payload_m=16 %.4f walks %v; payload_m=0 %.4f walks %v", c.name, n, rOn, wOn, rOff, wOff)
		if rOn < c.min {
			t.Errorf("%s: recall %.4f < %.2f", c.name, rOn, c.min)
		}
		wantWalk := "block"
		if c.key == "" {
			wantWalk = "graph"
		}
		if wOn[wantWalk] != nq {
			t.Errorf("%s: walks %v, want %d %q", c.name, wOn, nq, wantWalk)
		}
	}
	// Below full_scan_threshold the 1% sets are scanned exactly.
	vi := on.vindex[""]
	p := vi.params
	p.FullScanThreshold = 10 * fullScan
	on.SetIndexParams("", p)
	r, walks := filteredRecall(t, on, qs[:nq], "tag", "t", 100)
	if len(walks) != 0 || r != 1 {
		t.Errorf("1%% below full_scan_threshold: recall %.4f walks %v, want an exact scan", r, walks)
	}
}

// TestPayloadBlockChoice: the block walk is taken only for a filter whose
// exact matches lie in a linked block and fill at least half of it.
func TestPayloadBlockChoice(t *testing.T) {
	n := 3000
	if raceOn {
		n = 1200
	}
	s, qs := taggedStore(t, 7, n, 16, 8, n/30) // groups (10%) linked, tags (1%) not
	for _, c := range []struct {
		filter string
		block  bool
	}{
		{`{"must":[{"key":"grp","match":{"value":"g3"}}]}`, true},
		{`{"must":[{"key":"grp","match":{"value":"g3"}},{"key":"tag","match":{"value":"t5"}}]}`, false}, // a tenth of the block
		{`{"must":[{"key":"grp","match":{"value":"g3"}},{"key":"grp","match":{"any":["g3","g4"]}}]}`, true},
		{`{"must":[{"key":"grp","match":{"value":"g3"}},{"key":"tag","match":{"except":["t5"]}}]}`, false}, // except: not from the index
		{`{"should":[{"key":"grp","match":{"value":"g3"}}]}`, false},
		{`{"must":[{"key":"grp","match":{"value":"nope"}}]}`, false},
		{`{"must":[{"key":"grp","match":{"value":"g3"}},{"key":"x","match":{"value":1}}]}`, false}, // not exact
	} {
		var walk string
		traceWalk = func(w string) { walk = w }
		must(s.Search(bg, SearchParams{Vector: "", Query: qs[0], Limit: 5, HnswEf: 32, Filter: mustFilter(c.filter)}))
		traceWalk = func(string) {}
		if got := walk == "block"; got != c.block {
			t.Errorf("%s: walk %q, want block=%v", c.filter, walk, c.block)
		}
	}
}

// TestPayloadLinksCheckpoint: the payload links and their block labels
// survive a checkpoint, so a restarted segment still takes the block walk.
func TestPayloadLinksCheckpoint(t *testing.T) {
	n := 3000
	if raceOn {
		n = 1200
	}
	s, qs := taggedStore(t, 9, n, 16, 8, n/30) // groups (10%) linked, tags (1%) not
	got, _, err := ReadCheckpoint(checkpointBytes(t, s, 1))
	if err != nil {
		t.Fatal(err)
	}
	got.SetIndexParams("", s.vindex[""].params)
	got.PrepareRead()
	_, g := got.graphFor("")
	if g == nil {
		t.Fatal("graph lost")
	}
	if links, blocks := g.PayloadLinks(); links == 0 || blocks != 10 {
		t.Fatalf("%d payload links over %d blocks after a restart, want the 10 groups", links, blocks)
	}
	r, walks := filteredRecall(t, got, qs[:20], "grp", "g", 10)
	if walks["block"] != 20 || r < 0.9 {
		t.Fatalf("after a restart: recall %.4f, walks %v", r, walks)
	}
}
