package segment

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/shoaldb/shoal/internal/index/hnsw"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// A first graph is built in parallel from a copy of the vectors, without
// holding the store's lock, then installed; points changed meanwhile stay
// pending and are relinked by LinkPending. When the column's IndexParams
// ask for quantization, the same build also quantizes the copy; a column
// that has a graph but no codes for its current config gets a build of
// the codes alone. Offsets written while a build runs are recorded
// (vectorIndex.track) and marked stale in the codes it installs.

// switchVectors serves a graph's vectors from the build snapshot, then,
// once installed, from the live column.
type switchVectors struct {
	cur atomic.Pointer[vectorSource]
}

type vectorSource struct{ v hnsw.Vectors }

func (s *switchVectors) Vector(off uint32) []float32 { return s.cur.Load().v.Vector(off) }

// Flat is the current source's flat rows, nil when it has none: a search
// reads it once and falls back to Vector past its end.
func (s *switchVectors) Flat() []float32 {
	if f, ok := s.cur.Load().v.(hnsw.FlatVectors); ok {
		return f.Flat()
	}
	return nil
}

// switchSpace is switchVectors for a float16, uint8 or turbo4 column.
type switchSpace struct{ switchVectors }

func (s *switchSpace) space() hnsw.Space { return s.cur.Load().v.(hnsw.Space) }

func (s *switchSpace) Query(q []float32) hnsw.Scorer { return s.space().Query(q) }
func (s *switchSpace) Stored(off uint32) hnsw.Scorer { return s.space().Stored(off) }
func (s *switchSpace) Pair(a, b uint32) float32      { return s.space().Pair(a, b) }

// GraphBuild is a graph (and codes) build prepared under the read lock.
type GraphBuild struct {
	name    string
	cfg     hnsw.Config
	offsets []uint32
	vecs    *switchVectors
	graphV  hnsw.Vectors // vecs, or the switchSpace around it
	col     *column      // the live column
	snap    *column      // its copy, read by Run

	quant *quant.Config // codes to build, nil for none
	seed  uint64
	graph *hnsw.Graph // codes-only build: the installed graph
	codes *quantized  // Run's codes

	blocks []hnsw.PayloadBlock // payload_links.go
}

// PrepareGraphBuild picks a column that passed its indexing threshold and
// has no graph yet, copies its vectors and takes them out of pending; or a
// column whose graph lacks codes for its quantization config. It runs
// under the store's read lock; nil when there is nothing to build.
func (s *Store) PrepareGraphBuild() *GraphBuild {
	for name, vi := range s.vindex {
		if vi.params.IndexingThreshold <= 0 || vi.building.Load() {
			continue
		}
		c := s.columns[name]
		if c == nil {
			continue
		}
		if g := vi.graph.Load(); g != nil {
			if b := s.prepareCodes(name, vi, c, g); b != nil {
				return b
			}
			continue
		}
		if s.indexUnits(name) < vi.params.IndexingThreshold {
			continue
		}
		var offs []uint32
		inBuild := map[uint32]int{} // offset -> index in offs, for the payload blocks
		vi.mu.Lock()
		for off, l := range s.live {
			if l && c.has[off] {
				o := uint32(off)
				inBuild[o] = len(offs)
				offs = append(offs, o)
				delete(vi.pending, o)
			}
		}
		vi.track = map[uint32]struct{}{}
		vi.mu.Unlock()
		vi.building.Store(true)
		snap := c.clone()
		sw := &switchVectors{}
		var gv hnsw.Vectors = sw
		if c.spec.Datatype != Float32 || c.rows != nil {
			ss := &switchSpace{}
			sw, gv = &ss.switchVectors, ss
		}
		sw.cur.Store(&vectorSource{vectorsOf(snap)})
		return &GraphBuild{
			name: name, offsets: offs, vecs: sw, graphV: gv, col: c, snap: snap,
			cfg:   hnsw.Config{M: vi.params.M, EfConstruct: vi.params.EfConstruct, PayloadM: vi.params.PayloadM, Distance: c.spec.Distance, Dim: c.spec.Dim, Seed: vi.params.Seed},
			quant: vi.params.Quantization, seed: vi.params.Seed,
			blocks: s.payloadBlocks(inBuild, vi.params),
		}
	}
	return nil
}

// prepareCodes returns a codes-only build when the column's graph has no
// codes for its current quantization config (and that config has not
// failed to build before).
func (s *Store) prepareCodes(name string, vi *vectorIndex, c *column, g *hnsw.Graph) *GraphBuild {
	cfg := vi.params.Quantization
	if cfg == nil {
		return nil
	}
	if q := vi.codes.Load(); q != nil && q.matches(cfg) {
		return nil
	}
	if raw, err := configJSON(cfg); err != nil || string(raw) == vi.failedQuant {
		return nil
	}
	vi.mu.Lock()
	vi.track = map[uint32]struct{}{}
	vi.mu.Unlock()
	vi.building.Store(true)
	return &GraphBuild{name: name, col: c, snap: c.clone(), quant: cfg, seed: vi.params.Seed, graph: g}
}

// Points is the number of vectors the build links.
func (b *GraphBuild) Points() int { return len(b.offsets) }

// Work is the total Run's progress counts to: the points, then the points
// of the payload blocks to link.
func (b *GraphBuild) Work() int { return payloadBuildTotal(len(b.offsets), b.blocks) }

// Name is the vector name the build is for.
func (b *GraphBuild) Name() string { return b.name }

// Run builds the graph with threads workers, then its payload links, then
// the quantized codes if configured; it holds no store lock. progress
// covers the graph and its links. A codes-only build returns the
// installed graph. When only the codes fail, it returns the graph and the
// error: InstallGraph then installs the graph without codes.
func (b *GraphBuild) Run(ctx context.Context, threads int, progress func(done, total int)) (*hnsw.Graph, error) {
	g := b.graph
	if g == nil {
		var err error
		g, err = hnsw.BuildContext(ctx, b.cfg, b.graphV, b.offsets, threads, b.mainProgress(progress))
		if err != nil {
			return nil, fmt.Errorf("build graph of vector %q: %w", b.name, err)
		}
		if err := b.linkBlocks(ctx, g, threads, progress); err != nil {
			return nil, err
		}
	}
	if b.quant == nil {
		return g, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("quantize vector %q: %w", b.name, err)
	}
	codes, err := buildCodes(b.snap, b.quant, b.seed)
	if err != nil {
		return g, fmt.Errorf("vector %q: %w", b.name, err)
	}
	b.codes = codes
	return g, nil
}

// InstallGraph publishes a built graph and its codes (under the store's
// read lock): it switches the graph to the live vectors and deletes the
// points removed while it was built. Points changed meanwhile are pending
// already, and stale in the codes. A nil graph (a failed build) puts every
// snapshotted point back to pending.
func (s *Store) InstallGraph(b *GraphBuild, g *hnsw.Graph) {
	vi := s.vindex[b.name]
	defer vi.building.Store(false)
	vi.mu.Lock()
	track := vi.track
	vi.track = nil
	if g == nil {
		for _, off := range b.offsets {
			vi.pending[off] = struct{}{}
		}
	}
	vi.mu.Unlock()
	if b.quant != nil {
		vi.failedQuant = ""
		if b.codes == nil && g != nil {
			raw, _ := configJSON(b.quant)
			vi.failedQuant = string(raw)
		}
	}
	if g == nil {
		return
	}
	if b.codes != nil {
		for off := range track {
			b.codes.markStale(off)
		}
		vi.codes.Store(b.codes)
	}
	if b.graph != nil {
		return // codes only
	}
	b.vecs.cur.Store(&vectorSource{vectorsOf(b.col)})
	for _, off := range b.offsets {
		if int(off) >= len(s.live) || !s.live[off] || !b.col.has[off] {
			g.Delete(off)
		}
	}
	vi.graph.Store(g)
}
