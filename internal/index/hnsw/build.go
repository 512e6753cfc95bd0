package hnsw

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Build links the given offsets into a new graph with threads workers.
// See BuildContext.
func Build(cfg Config, vecs Vectors, offsets []uint32, threads int, progress func(done, total int)) (*Graph, error) {
	return BuildContext(context.Background(), cfg, vecs, offsets, threads, progress)
}

// BuildContext links the given offsets into a new graph. Levels are drawn
// from cfg.Seed in the order of offsets, so one thread gives the same graph
// for the same input; more threads give the same levels but links that
// depend on scheduling. The workers are goroutines owned by the call and
// finished when it returns. progress, if not nil, is called from those
// workers, never concurrently, with done growing to total; it must be quick.
// A cancelled ctx stops the build with an error wrapping ctx.Err().
func BuildContext(ctx context.Context, cfg Config, vecs Vectors, offsets []uint32, threads int, progress func(done, total int)) (*Graph, error) {
	g, err := New(cfg, vecs)
	if err != nil {
		return nil, err
	}
	if len(offsets) == 0 {
		return g, nil
	}
	var hi uint32
	for _, off := range offsets {
		if off > maxOffset {
			return nil, fmt.Errorf("%w: offset %d is above %d", ErrInvalid, off, maxOffset)
		}
		hi = max(hi, off)
	}
	l := g.newLayout(int(hi) + 1)
	seen := make([]uint32, len(l.present))
	for _, off := range offsets {
		w, b := off>>5, uint32(1)<<(off&31)
		if seen[w]&b != 0 {
			return nil, fmt.Errorf("%w: offset %d given twice", ErrInvalid, off)
		}
		seen[w] |= b
		if n := len(vecs.Vector(off)); n != g.cfg.Dim {
			return nil, fmt.Errorf("%w: offset %d has %d dimensions, want %d", ErrInvalid, off, n, g.cfg.Dim)
		}
	}

	// Levels up front, in input order: deterministic whatever the threads,
	// and every upper block exists before any worker can reach it.
	levels := make([]uint8, len(offsets))
	words := 0
	for i := range offsets {
		lv := g.randomLevel()
		levels[i] = uint8(lv)
		words += lv * g.strideU
	}
	slab := make([]uint32, words)
	for i, off := range offsets {
		if n := int(levels[i]) * g.strideU; n > 0 {
			l.upper[off] = slab[:n:n]
			slab = slab[n:]
		}
	}
	g.lay.Store(l)
	g.locks = make([]sync.Mutex, l.cap)

	total := len(offsets)
	step := max(1, total/100)
	var next, done atomic.Int64
	var pmu sync.Mutex
	last := 0
	report := func(d int) {
		if progress == nil || (d%step != 0 && d != total) {
			return
		}
		pmu.Lock()
		if d > last {
			last = d
			progress(d, total)
		}
		pmu.Unlock()
	}
	work := func() {
		s := &searcher{}
		s.fit(l.cap)
		for ctx.Err() == nil {
			i := int(next.Add(1) - 1)
			if i >= total {
				return
			}
			off := offsets[i]
			atomic.OrUint32(&l.present[off>>5], 1<<(off&31))
			g.nodes.Add(1)
			g.link(s, l, off, int(levels[i]))
			report(int(done.Add(1)))
		}
	}
	threads = min(max(threads, 1), total)
	if threads == 1 {
		work()
	} else {
		var wg sync.WaitGroup
		for range threads {
			wg.Go(work)
		}
		wg.Wait()
	}
	g.locks = nil
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("hnsw: build interrupted: %w", err)
	}
	return g, nil
}
