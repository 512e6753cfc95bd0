package hnsw

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Payload links (Qdrant's payload_m). A filter that keeps a small fraction
// of the points cuts the graph into islands: a walk that only steps on
// passing nodes (SearchPayloadBlock) gets stuck in the first one. For every
// payload block (the points sharing one indexed payload value, chosen by
// the caller), BuildPayloadLinks builds a small HNSW over the block's
// points alone, with Config.PayloadM links per node above level 0 and
// 2*PayloadM on level 0, and keeps that graph's level-0 lists as extra
// links of the main graph's level 0. Qdrant merges the lists into the main
// ones; here they sit next to them, in one immutable CSR array, so the
// main graph's fixed-stride layout, its incremental Insert and the
// unfiltered walk are untouched. Like Qdrant's appendable path, Insert and
// Delete leave the payload links as they are: a deleted node stays in
// them (searches skip it) and a newly inserted one has none.

// PayloadBlock is a set of graph nodes that share one payload value.
// Label names it (for instance "keyword:color=red"); the graph keeps the
// labels with the links, so that a caller can tell after a restart which
// filters a block covers (HasPayloadBlock).
type PayloadBlock struct {
	Label   string
	Offsets []uint32
}

// payloadLinks is the immutable result of BuildPayloadLinks.
type payloadLinks struct {
	start  []uint32 // node off's links are links[start[off]:start[off+1]], off+1 < len(start)
	links  []uint32
	labels []string // sorted, distinct
	built  int      // the graph's node count when the links were built
}

// of returns off's payload links (nil when it has none).
func (p *payloadLinks) of(off uint32) []uint32 {
	if int(off)+1 >= len(p.start) {
		return nil
	}
	return p.links[p.start[off]:p.start[off+1]]
}

// maxPayloadLinks caps one node's payload links (the encoding stores the
// count in 16 bits); a node in more blocks than that allows keeps the
// links of the first ones.
const maxPayloadLinks = 1<<16 - 1

// PercolationMultiplier scales the largest block worth linking. A random
// graph with K links per node stays connected while more than about 1/K of
// its nodes are kept, so a block above PercolationMultiplier/K of the graph
// (K the mean level-0 degree) needs no links of its own: Qdrant's rule.
const PercolationMultiplier = 4

// MaxPayloadBlock is the largest block BuildPayloadLinks links:
// nodes*PercolationMultiplier over the mean level-0 degree.
func (g *Graph) MaxPayloadBlock() int {
	l := g.lay.Load()
	nodes, links := 0, 0
	for off := range l.cap {
		if l.has(uint32(off)) {
			nodes++
			links += int(atomic.LoadUint32(&g.block(l, uint32(off), 0)[0]))
		}
	}
	if nodes == 0 {
		return 0
	}
	avg := max(links/nodes, 1)
	return nodes / avg * PercolationMultiplier
}

// HasPayloadBlock reports whether BuildPayloadLinks linked a block of
// that label.
func (g *Graph) HasPayloadBlock(label string) bool {
	p := g.plinks.Load()
	if p == nil {
		return false
	}
	_, ok := slices.BinarySearch(p.labels, label)
	return ok
}

// PayloadLinks returns the number of payload links and of linked blocks.
func (g *Graph) PayloadLinks() (links, blocks int) {
	p := g.plinks.Load()
	if p == nil {
		return 0, 0
	}
	return len(p.links), len(p.labels)
}

func (g *Graph) payloadLinksBytes() int {
	p := g.plinks.Load()
	if p == nil {
		return 0
	}
	b := 4 * (len(p.start) + len(p.links))
	for _, s := range p.labels {
		b += 16 + len(s)
	}
	return b
}

// subVectors serves a block's vectors under dense local ids.
type subVectors struct {
	vecs Vectors
	offs []uint32
}

func (s subVectors) Vector(i uint32) []float32 { return s.vecs.Vector(s.offs[i]) }

// blockResult is one block's level-0 lists in graph offsets.
type blockResult struct {
	offs  []uint32 // local id -> offset
	start []uint32 // local id i's links are links[start[i]:start[i+1]]
	links []uint32
}

// bigBlock is the size from which a block is built by all threads; smaller
// blocks are built one per thread.
const bigBlock = 8192

// BuildPayloadLinks links every block among its own points (see the note
// at the top of this file) and replaces the graph's payload links with the
// result. Blocks of fewer than two nodes, or of more than MaxPayloadBlock
// nodes, are skipped; PayloadM 0 adds no links. Every offset must be in the
// graph. It runs up to threads goroutines, owned by the call; progress, if
// not nil, is called from them, never concurrently, with done growing to
// total (the summed size of the linked blocks). Searches may run meanwhile
// and see the new links once it returns. The result depends only on the
// graph, the vectors and the blocks, not on threads, except for blocks of
// bigBlock nodes or more, which are built in parallel like Build does.
func (g *Graph) BuildPayloadLinks(ctx context.Context, blocks []PayloadBlock, threads int, progress func(done, total int)) error {
	pm := g.cfg.PayloadM
	if pm == 0 {
		g.plinks.Store(nil)
		return nil
	}
	pm = max(pm, 2) // a graph needs two links a node to be navigable
	l := g.lay.Load()
	limit := g.MaxPayloadBlock()
	var todo []int
	total := 0
	for i, b := range blocks {
		for _, off := range b.Offsets {
			if !l.has(off) {
				return fmt.Errorf("%w: payload block %q: offset %d is not in the graph", ErrInvalid, b.Label, off)
			}
		}
		if len(b.Offsets) >= 2 && len(b.Offsets) <= limit {
			todo = append(todo, i)
			total += len(b.Offsets)
		}
	}
	threads = max(threads, 1)
	var pmu sync.Mutex
	done, last := 0, 0
	step := max(1, total/100)
	report := func(n int) {
		if progress == nil {
			return
		}
		pmu.Lock()
		defer pmu.Unlock()
		done += n
		if done-last >= step || done == total {
			last = done
			progress(done, total)
		}
	}
	results := make([]blockResult, len(blocks))
	build := func(i, t int) error {
		b := blocks[i]
		cfg := Config{
			M: pm, EfConstruct: g.cfg.EfConstruct, Distance: g.cfg.Distance, Dim: g.cfg.Dim,
			Seed: g.cfg.Seed ^ uint64(i+1)*0x9e3779b97f4a7c15,
		}
		sub, err := BuildContext(ctx, cfg, g.subVectors(b.Offsets), seq32(len(b.Offsets)), t, nil)
		if err != nil {
			return fmt.Errorf("hnsw: payload block %q: %w", b.Label, err)
		}
		results[i] = sub.level0(b.Offsets)
		report(len(b.Offsets))
		return nil
	}
	// Big blocks one after the other, each with every thread.
	var small []int
	for _, i := range todo {
		if len(blocks[i].Offsets) >= bigBlock {
			if err := build(i, threads); err != nil {
				return err
			}
		} else {
			small = append(small, i)
		}
	}
	// Small blocks in parallel, one thread each.
	var next atomic.Int64
	var errMu sync.Mutex
	var firstErr error
	work := func() {
		for {
			j := int(next.Add(1) - 1)
			if j >= len(small) || ctx.Err() != nil {
				return
			}
			if err := build(small[j], 1); err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
				return
			}
		}
	}
	var wg sync.WaitGroup
	for range min(threads, max(len(small), 1)) {
		wg.Go(work)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("hnsw: payload links interrupted: %w", err)
	}
	if len(todo) == 0 {
		g.plinks.Store(nil)
		return nil
	}
	labels := make([]string, 0, len(todo))
	for _, i := range todo {
		labels = append(labels, blocks[i].Label)
	}
	p := g.mergePayloadLinks(l, results, labels)
	p.built = int(g.nodes.Load())
	g.plinks.Store(p)
	return nil
}

func seq32(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i)
	}
	return out
}

// level0 returns a block graph's level-0 lists, local ids mapped to offs.
func (g *Graph) level0(offs []uint32) blockResult {
	l := g.lay.Load()
	r := blockResult{offs: offs, start: make([]uint32, len(offs)+1)}
	for i := range offs {
		blk := g.block(l, uint32(i), 0)
		for _, nb := range blk[1 : 1+blk[0]] {
			r.links = append(r.links, offs[nb])
		}
		r.start[i+1] = uint32(len(r.links))
	}
	return r
}

// mergePayloadLinks gathers each node's lists from every block in block
// order, dropping duplicates and links its level-0 list already has.
func (g *Graph) mergePayloadLinks(l *layout, results []blockResult, labels []string) *payloadLinks {
	hi := -1
	for _, r := range results {
		for _, off := range r.offs {
			hi = max(hi, int(off))
		}
	}
	p := &payloadLinks{start: make([]uint32, hi+2)}
	slices.Sort(labels)
	p.labels = slices.Compact(labels)
	if hi < 0 {
		return p
	}
	// Per node, the (block, local id) pairs it appears under, in order.
	counts := make([]uint32, hi+2)
	for _, r := range results {
		for i, off := range r.offs {
			counts[off+1] += r.start[i+1] - r.start[i]
		}
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	raw := make([]uint32, counts[len(counts)-1])
	fill := slices.Clone(counts)
	for _, r := range results {
		for i, off := range r.offs {
			n := copy(raw[fill[off]:], r.links[r.start[i]:r.start[i+1]])
			fill[off] += uint32(n)
		}
	}
	out := raw[:0] // compacts in place: a node's output never overtakes its input
	for off := 0; off <= hi; off++ {
		list := raw[counts[off]:counts[off+1]]
		blk := g.block(l, uint32(off), 0)
		main := blk[1 : 1+atomic.LoadUint32(&blk[0])]
		begin := len(out)
		for _, nb := range list {
			if nb == uint32(off) || slices.Contains(main, nb) || slices.Contains(out[begin:], nb) {
				continue
			}
			if len(out)-begin == maxPayloadLinks {
				break
			}
			out = append(out, nb)
		}
		p.start[off+1] = uint32(len(out))
	}
	p.links = slices.Clip(out)
	return p
}
