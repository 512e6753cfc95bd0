package segment

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/shoaldb/shoal/internal/index/hnsw"
)

// A first graph is built in parallel from a copy of the vectors, without
// holding the store's lock, then installed; points changed meanwhile stay
// pending and are relinked by LinkPending.

// switchVectors serves a graph's vectors from the build snapshot, then,
// once installed, from the live column.
type switchVectors struct {
	cur atomic.Pointer[vectorSource]
}

type vectorSource struct{ v hnsw.Vectors }

func (s *switchVectors) Vector(off uint32) []float32 { return s.cur.Load().v.Vector(off) }

type snapshotVectors struct {
	dim  int
	data []float32
	pos  map[uint32]int // offset -> index in data
}

func (s snapshotVectors) Vector(off uint32) []float32 {
	i, ok := s.pos[off]
	if !ok {
		return nil
	}
	return s.data[i*s.dim : (i+1)*s.dim]
}

// GraphBuild is a first graph build prepared under the read lock.
type GraphBuild struct {
	name    string
	cfg     hnsw.Config
	offsets []uint32
	vecs    *switchVectors
	col     *column
	blocks  []hnsw.PayloadBlock // payload_links.go
}

// PrepareGraphBuild picks a column that passed its indexing threshold and
// has no graph yet, copies its vectors and takes them out of pending. It
// runs under the store's read lock; nil when there is nothing to build.
func (s *Store) PrepareGraphBuild() *GraphBuild {
	for name, vi := range s.vindex {
		if vi.params.IndexingThreshold <= 0 || vi.graph.Load() != nil || vi.building.Load() {
			continue
		}
		c := s.columns[name]
		if c == nil || s.vectorCount(name) < vi.params.IndexingThreshold {
			continue
		}
		snap := snapshotVectors{dim: c.spec.Dim, pos: map[uint32]int{}}
		var offs []uint32
		vi.mu.Lock()
		for off, l := range s.live {
			if l && c.has[off] {
				o := uint32(off)
				snap.pos[o] = len(offs)
				offs = append(offs, o)
				snap.data = append(snap.data, c.data[off*c.spec.Dim:(off+1)*c.spec.Dim]...)
				delete(vi.pending, o)
			}
		}
		vi.mu.Unlock()
		vi.building.Store(true)
		sw := &switchVectors{}
		sw.cur.Store(&vectorSource{snap})
		return &GraphBuild{
			name: name, offsets: offs, vecs: sw, col: c,
			cfg:    hnsw.Config{M: vi.params.M, EfConstruct: vi.params.EfConstruct, PayloadM: vi.params.PayloadM, Distance: c.spec.Distance, Dim: c.spec.Dim, Seed: vi.params.Seed},
			blocks: s.payloadBlocks(snap.pos, vi.params),
		}
	}
	return nil
}

// Points is the number of vectors the build links.
func (b *GraphBuild) Points() int { return len(b.offsets) }

// Work is the total Run's progress counts to: the points, then the points
// of the payload blocks to link.
func (b *GraphBuild) Work() int { return payloadBuildTotal(len(b.offsets), b.blocks) }

// Name is the vector name the build is for.
func (b *GraphBuild) Name() string { return b.name }

// Run builds the graph with threads workers, then its payload links; it
// holds no store lock. progress covers both.
func (b *GraphBuild) Run(ctx context.Context, threads int, progress func(done, total int)) (*hnsw.Graph, error) {
	g, err := hnsw.BuildContext(ctx, b.cfg, b.vecs, b.offsets, threads, b.mainProgress(progress))
	if err != nil {
		return nil, fmt.Errorf("build graph of vector %q: %w", b.name, err)
	}
	if err := b.linkBlocks(ctx, g, threads, progress); err != nil {
		return nil, err
	}
	return g, nil
}

// InstallGraph publishes a built graph (under the store's read lock): it
// switches the graph to the live vectors and deletes the points removed
// while it was built. Points changed meanwhile are pending already. A nil
// graph (a failed build) puts every snapshotted point back to pending.
func (s *Store) InstallGraph(b *GraphBuild, g *hnsw.Graph) {
	vi := s.vindex[b.name]
	defer vi.building.Store(false)
	if g == nil {
		vi.mu.Lock()
		for _, off := range b.offsets {
			vi.pending[off] = struct{}{}
		}
		vi.mu.Unlock()
		return
	}
	b.vecs.cur.Store(&vectorSource{columnVectors{b.col}})
	for _, off := range b.offsets {
		if int(off) >= len(s.live) || !s.live[off] || !b.col.has[off] {
			g.Delete(off)
		}
	}
	vi.graph.Store(g)
}
