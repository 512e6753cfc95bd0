package hnsw

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shoaldb/shoal/internal/errkind"
	"github.com/shoaldb/shoal/internal/vector"
)

// tagged gives every point two payload values drawn independently of its
// vector (the hard case for a filtered walk: the matches of a value are
// spread over all clusters): a tag in [0, 100) (1% of the points each) and
// a group in [0, 10) (10% each). It returns the values and the blocks.
func tagged(seed uint64, offs []uint32) (tag, grp []int, blocks []PayloadBlock) {
	r := rand.New(rand.NewPCG(seed, 2))
	n := int(slices.Max(offs)) + 1
	tag, grp = make([]int, n), make([]int, n)
	byTag, byGrp := make([][]uint32, 100), make([][]uint32, 10)
	for _, off := range offs {
		tag[off], grp[off] = r.IntN(100), r.IntN(10)
		byTag[tag[off]] = append(byTag[tag[off]], off)
		byGrp[grp[off]] = append(byGrp[grp[off]], off)
	}
	for v, o := range byTag {
		blocks = append(blocks, PayloadBlock{Label: fmt.Sprintf("tag=%d", v), Offsets: o})
	}
	for v, o := range byGrp {
		blocks = append(blocks, PayloadBlock{Label: fmt.Sprintf("grp=%d", v), Offsets: o})
	}
	return tag, grp, blocks
}

// blockRecall runs every query with a filter on one value (query i on
// value i mod values) through search and returns mean recall@10 against
// brute force, the mean number of distance evaluations and the paths taken.
func blockRecall(t *testing.T, vecs *flat, offs []uint32, qs *flat, d vector.Distance, vals []int, values int,
	search func(q []float32, allow func(uint32) bool) ([]Result, path, int)) (float64, float64, map[path]int) {
	t.Helper()
	sum, evals, paths := 0.0, 0, map[path]int{}
	for i := range qs.len() {
		v := i % values
		allow := func(off uint32) bool { return vals[off] == v }
		q := qs.Vector(uint32(i))
		got, p, e := search(q, allow)
		paths[p]++
		evals += e
		checkOrder(t, d, got)
		sum += recallOf(got, bruteForce(d, vecs, offs, q, 10, allow))
	}
	return sum / float64(qs.len()), float64(evals) / float64(qs.len()), paths
}

// TestPayloadLinksRecall: with payload links, the Qdrant-style walk of
// SearchPayloadBlock keeps recall@10 at 1% and 10% selectivity; without
// them the same walk strands in islands of the filtered graph. Search's
// walk (rejected nodes expanded too, no exact fallback) is logged as a
// reference for recall and cost.
func TestPayloadLinksRecall(t *testing.T) {
	const seed, k, ef = 11, 10, 64
	t.Logf("seed %d", seed)
	n, dim, nq := scale(20000, 3000), 32, scale(200, 24)
	d := vector.Cosine
	vecs := clustered(seed, n, dim, 40, d)
	qs := clustered(seed+1, nq, dim, 40, d)
	offs := seq(n)
	g := mustBuild(t, Config{M: 16, EfConstruct: 100, PayloadM: 16, Distance: d, Dim: dim, Seed: seed}, vecs, offs, 2)
	tag, grp, blocks := tagged(seed, offs)
	if err := g.BuildPayloadLinks(context.Background(), blocks, 2, nil); err != nil {
		t.Fatal(err)
	}
	nl, nb := g.PayloadLinks()
	t.Logf("n=%d: %d payload links over %d blocks (largest linked block %d)", n, nl, nb, g.MaxPayloadBlock())
	if nb != len(blocks) || !g.HasPayloadBlock("tag=7") || !g.HasPayloadBlock("grp=3") || g.HasPayloadBlock("tag=100") {
		t.Fatalf("linked %d blocks, want all %d", nb, len(blocks))
	}
	linked := g.plinks.Load()
	block := func(q []float32, allow func(uint32) bool) ([]Result, path, int) {
		res, p := g.searchBlock(g.prepare(q), k, ef, allow)
		return res, p, g.lastEvals()
	}
	unlinked := func(q []float32, allow func(uint32) bool) ([]Result, path, int) {
		g.plinks.Store(&payloadLinks{labels: linked.labels, built: linked.built})
		defer g.plinks.Store(linked)
		return block(q, allow)
	}
	expandAll := func(q []float32, allow func(uint32) bool) ([]Result, path, int) {
		res, p := g.search(g.prepare(q), k, ef, allow, false)
		return res, p, g.lastEvals()
	}
	for _, c := range []struct {
		name   string
		vals   []int
		values int
		min    float64
	}{{"1%", tag, 100, 0.90}, {"10%", grp, 10, 0.95}} {
		on, onEvals, onPaths := blockRecall(t, vecs, offs, qs, d, c.vals, c.values, block)
		off, offEvals, _ := blockRecall(t, vecs, offs, qs, d, c.vals, c.values, unlinked)
		all, allEvals, _ := blockRecall(t, vecs, offs, qs, d, c.vals, c.values, expandAll)
		t.Logf("%s: recall@10 ef=%d payload_m=16 %.4f (%.0f evals), payload_m=0 %.4f (%.0f evals); Search's walk %.4f (%.0f evals)",
			c.name, ef, on, onEvals, off, offEvals, all, allEvals)
		// Under -race the graph is small enough (30 points a tag) that
		// seeding sometimes runs past its budget and scans exactly.
		if w := onPaths[walked]; w != nq && (!raceOn || w < nq*3/4) {
			t.Fatalf("%s: paths %v (0 walked, 2 gave up), want every search walked", c.name, onPaths)
		}
		if on < c.min {
			t.Fatalf("%s: recall %.4f with payload links < %.2f", c.name, on, c.min)
		}
		if c.name == "1%" && !raceOn && off > on-0.1 {
			t.Fatalf("1%%: recall without payload links %.4f, with %.4f: the links should matter", off, on)
		}
	}
	// Unfiltered search is untouched by payload links.
	if r := meanRecall(t, g, vecs, offs, qs, k, 2*ef, nil); r < 0.95 {
		t.Fatalf("unfiltered recall %.4f < 0.95", r)
	}
}

// lastEvals returns the distance evaluations of the last walk of the
// searcher the pool hands out next (tests run searches one at a time).
func (g *Graph) lastEvals() int {
	s := g.getSearcher(0)
	defer g.putSearcher(s)
	return s.evals
}

func TestPayloadLinksDeterministicAndPersisted(t *testing.T) {
	const seed = 3
	n, dim := scale(3000, 1000), 16
	vecs := clustered(seed, n, dim, 10, vector.Euclid)
	offs := seq(n)
	_, _, blocks := tagged(seed, offs)
	blocks = append(blocks, PayloadBlock{Label: "tiny", Offsets: offs[:1]}, PayloadBlock{Label: "all", Offsets: offs})
	var encs [][]byte
	for _, threads := range []int{1, 3} {
		g := mustBuild(t, Config{M: 8, EfConstruct: 40, PayloadM: 6, Distance: vector.Euclid, Dim: dim, Seed: seed}, vecs, offs, 1)
		var calls, last int
		err := g.BuildPayloadLinks(context.Background(), blocks, threads, func(done, total int) {
			if done <= last || done > total {
				t.Errorf("progress %d/%d after %d", done, total, last)
			}
			last = done
			calls++
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls == 0 {
			t.Fatal("no progress reported")
		}
		if g.HasPayloadBlock("tiny") || g.HasPayloadBlock("all") || !g.HasPayloadBlock("grp=0") {
			t.Fatal("blocks of one node or past MaxPayloadBlock must be skipped")
		}
		var buf bytes.Buffer
		if err := g.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		encs = append(encs, buf.Bytes())
		h, err := Decode(bytes.NewReader(buf.Bytes()), vecs)
		if err != nil {
			t.Fatal(err)
		}
		p, q := g.plinks.Load(), h.plinks.Load()
		if !slices.Equal(p.labels, q.labels) || !slices.Equal(p.links, q.links) || !slices.Equal(p.start[:len(q.start)], q.start) {
			t.Fatal("payload links changed in a round trip")
		}
		for _, s := range p.start[len(q.start):] {
			if s != p.start[len(q.start)-1] {
				t.Fatal("round trip lost payload links")
			}
		}
	}
	if !bytes.Equal(encs[0], encs[1]) {
		t.Fatal("payload links depend on the number of threads")
	}
}

func TestPayloadLinksOff(t *testing.T) {
	vecs := clustered(1, 500, 8, 4, vector.Cosine)
	offs := seq(500)
	g := mustBuild(t, Config{Distance: vector.Cosine, Dim: 8, Seed: 1}, vecs, offs, 1)
	_, _, blocks := tagged(1, offs)
	if err := g.BuildPayloadLinks(context.Background(), blocks, 2, nil); err != nil {
		t.Fatal(err)
	}
	if n, b := g.PayloadLinks(); n != 0 || b != 0 {
		t.Fatalf("payload_m 0 built %d links over %d blocks", n, b)
	}
	g.cfg.PayloadM = 4
	bad := []PayloadBlock{{Label: "x", Offsets: []uint32{1, 600}}}
	if err := g.BuildPayloadLinks(context.Background(), bad, 1, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("offset outside the graph: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.BuildPayloadLinks(ctx, blocks, 2, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestDecodeVersion1 reads a graph written before payload links existed.
func TestDecodeVersion1(t *testing.T) {
	g, vecs, b := encoded(t)
	if g.plinks.Load() != nil {
		t.Fatal("encoded graph has payload links")
	}
	v1 := slices.Clone(b[:len(b)-12]) // drop the two empty payload words and the CRC
	binary.LittleEndian.PutUint32(v1[len(magic):], 1)
	v1 = resum(append(v1, 0, 0, 0, 0))
	h, err := Decode(bytes.NewReader(v1), vecs)
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() != g.Len() {
		t.Fatalf("Len %d, want %d", h.Len(), g.Len())
	}
}

// encodedWithPayload is encoded's graph with payload links (a fuzz seed).
func encodedWithPayload(t testing.TB) []byte {
	g, _, _ := encoded(t)
	g.cfg.PayloadM = 3
	var blocks []PayloadBlock
	for v := range 3 {
		var o []uint32
		for off := uint32(v); off < 600; off += 3 {
			if g.lay.Load().has(off) {
				o = append(o, off)
			}
		}
		blocks = append(blocks, PayloadBlock{Label: fmt.Sprint("v", v), Offsets: o[:60]})
	}
	if err := g.BuildPayloadLinks(context.Background(), blocks, 1, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeRejectsBadPayloadLinks(t *testing.T) {
	b := encodedWithPayload(t)
	g, err := Decode(bytes.NewReader(b), anyVectors{make([]float32, 8)})
	if err != nil {
		t.Fatal(err)
	}
	if n, blocks := g.PayloadLinks(); n == 0 || blocks != 3 {
		t.Fatalf("decoded %d links in %d blocks", n, blocks)
	}
	// The last link word points past every node.
	bad := slices.Clone(b)
	binary.LittleEndian.PutUint32(bad[len(bad)-8:], 1<<30)
	if _, err := Decode(bytes.NewReader(resum(bad)), anyVectors{make([]float32, 8)}); !errors.Is(err, errkind.ErrCorrupt) {
		t.Fatalf("link to an absent node: %v", err)
	}
	if _, err := Decode(bytes.NewReader(b[:len(b)-20]), anyVectors{make([]float32, 8)}); !errors.Is(err, errkind.ErrCorrupt) {
		t.Fatalf("truncated payload links: %v", err)
	}
}

// TestSearchPayloadBlockAfterGrowth: once the graph has grown by more
// than 1/8 since its payload links were built, the new nodes have none and
// the block walk could miss them, so SearchPayloadBlock searches as Search.
func TestSearchPayloadBlockAfterGrowth(t *testing.T) {
	const n = 2000
	vecs := clustered(4, n+400, 16, 8, vector.Euclid)
	offs := seq(n)
	g := mustBuild(t, Config{M: 8, EfConstruct: 40, PayloadM: 8, Distance: vector.Euclid, Dim: 16, Seed: 4}, vecs, offs, 1)
	_, grp, blocks := tagged(4, seq(n+400))
	for i := range blocks {
		blocks[i].Offsets = slices.DeleteFunc(blocks[i].Offsets, func(off uint32) bool { return off >= n })
	}
	if err := g.BuildPayloadLinks(context.Background(), blocks, 2, nil); err != nil {
		t.Fatal(err)
	}
	q := vecs.Vector(n + 399)
	allow := func(off uint32) bool { return grp[off] == 3 }
	if _, p := g.searchBlock(g.prepare(q), 10, 32, allow); p != walked {
		t.Fatalf("path %v, want the block walk", p)
	}
	for off := uint32(n); off < n+n/8+1; off++ {
		if err := g.Insert(off); err != nil {
			t.Fatal(err)
		}
	}
	got, p := g.searchBlock(g.prepare(q), 10, 32, allow)
	if want, wp := g.search(g.prepare(q), 10, 32, allow, true); p != wp || !slices.Equal(got, want) {
		t.Fatalf("after growth: path %v, results differ from Search's (path %v)", p, wp)
	}
}
