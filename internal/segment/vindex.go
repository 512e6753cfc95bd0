package segment

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/shoaldb/shoal/internal/index/hnsw"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// IndexParams configure the HNSW index of one vector column, from the
// collection's hnsw_config and optimizer_config.
type IndexParams struct {
	M, EfConstruct int
	// IndexingThreshold is the number of stored vectors from which the
	// column is indexed (Qdrant's indexing_threshold_kb over the vector
	// size); 0 disables indexing.
	IndexingThreshold int
	// FullScanThreshold is the filter cardinality below which a filtered
	// search scans the candidates exactly (full_scan_threshold_kb).
	FullScanThreshold int
	// PayloadM is the links per node among the points of one payload
	// value (hnsw_config.payload_m, see payload_links.go); 0 adds none.
	PayloadM int
	Seed     uint64
	// Quantization, when set, makes the graph build also quantize the
	// column (the collection's or the vector's quantization_config); the
	// codes are then used by searches unless they ask to ignore them.
	Quantization *quant.Config
}

// vectorIndex is the HNSW graph of one column and the offsets whose vector
// is stored but not (or no longer correctly) linked in it. Searches combine
// a graph walk over linked points with an exact scan of the pending ones.
//
// The graph and pending set change under two regimes: applies hold the
// store's write lock; the optimizer links points holding only the read
// lock, so pending has its own mutex and the graph its own writer lock.
type vectorIndex struct {
	params   IndexParams
	graph    atomic.Pointer[hnsw.Graph] // nil until the column passes the indexing threshold
	building atomic.Bool                // a first graph is being built from a snapshot
	codes    atomic.Pointer[quantized]  // nil until built with the graph

	mu      sync.Mutex
	pending map[uint32]struct{} // offsets to (re)link
	track   map[uint32]struct{} // while a build runs: offsets written since its snapshot

	failedQuant string // the quantization config (JSON) whose codes failed to build
}

// SetIndexParams configures (or, with IndexingThreshold 0, disables) the
// HNSW index of a column. An existing graph is kept.
func (s *Store) SetIndexParams(name string, p IndexParams) {
	if s.vindex == nil {
		s.vindex = map[string]*vectorIndex{}
	}
	vi, ok := s.vindex[name]
	if !ok {
		// Every stored vector waits to be linked.
		vi = &vectorIndex{pending: map[uint32]struct{}{}}
		if c, ok := s.columns[name]; ok {
			for off, l := range s.live {
				if l && c.has[off] {
					vi.pending[uint32(off)] = struct{}{}
				}
			}
		}
		s.vindex[name] = vi
	}
	vi.params = p
	if p.Quantization == nil {
		vi.codes.Store(nil) // quantization disabled
	}
}

// vectorChanged records that the vector of column name at off was written
// (under the write lock).
func (s *Store) vectorChanged(name string, off uint32) {
	vi, ok := s.vindex[name]
	if !ok {
		return
	}
	vi.mu.Lock()
	vi.pending[off] = struct{}{}
	if vi.track != nil {
		vi.track[off] = struct{}{}
	}
	vi.mu.Unlock()
	if q := vi.codes.Load(); q != nil {
		q.markStale(off)
	}
}

// vectorRemoved records that off no longer has a vector in column name.
func (s *Store) vectorRemoved(name string, off uint32) {
	vi, ok := s.vindex[name]
	if !ok {
		return
	}
	vi.mu.Lock()
	delete(vi.pending, off)
	if vi.track != nil {
		vi.track[off] = struct{}{}
	}
	vi.mu.Unlock()
	if q := vi.codes.Load(); q != nil {
		q.markStale(off)
	}
	if g := vi.graph.Load(); g != nil {
		g.Delete(off)
	}
}

func (vi *vectorIndex) isPending(off uint32) bool {
	vi.mu.Lock()
	_, ok := vi.pending[off]
	vi.mu.Unlock()
	return ok
}

// IndexWork reports, under the read lock, whether some column has points to
// link: a graph with pending points, or a column that passed its threshold.
func (s *Store) IndexWork() bool {
	for name, vi := range s.vindex {
		if vi.params.IndexingThreshold <= 0 {
			continue
		}
		vi.mu.Lock()
		n := len(vi.pending)
		vi.mu.Unlock()
		if n == 0 {
			continue
		}
		if vi.graph.Load() != nil || !vi.building.Load() && s.indexUnits(name) >= vi.params.IndexingThreshold {
			return true
		}
	}
	return false
}

// indexUnits is what a column's indexing threshold counts: its vectors,
// or a multivector column's sub-vectors (Qdrant's threshold is on the
// size of the stored vectors).
func (s *Store) indexUnits(name string) int {
	c, ok := s.columns[name]
	if !ok {
		return 0
	}
	return c.subVectors(s.live)
}

func (s *Store) vectorCount(name string) int {
	c, ok := s.columns[name]
	if !ok {
		return 0
	}
	n := 0
	for off, l := range s.live {
		if l && c.has[off] {
			n++
		}
	}
	return n
}

// LinkPending links up to max pending points into the graphs, creating a
// graph for a column that passed its threshold. It runs under the store's
// READ lock (searches go on; applies wait) and returns how many points it
// linked.
func (s *Store) LinkPending(max int) (int, error) {
	done := 0
	for name, vi := range s.vindex {
		if vi.params.IndexingThreshold <= 0 || done >= max {
			continue
		}
		c := s.columns[name]
		if c == nil {
			continue
		}
		g := vi.graph.Load()
		if g == nil {
			continue // the first graph comes from PrepareGraphBuild
		}
		batch := make([]uint32, 0, max-done)
		vi.mu.Lock()
		for off := range vi.pending {
			if len(batch) == cap(batch) {
				break
			}
			batch = append(batch, off)
		}
		vi.mu.Unlock()
		for _, off := range batch {
			if int(off) < len(s.live) && s.live[off] && c.has[off] {
				if err := g.Insert(off); err != nil {
					return done, fmt.Errorf("vector %q: link point: %w", name, err)
				}
			}
			vi.mu.Lock()
			delete(vi.pending, off)
			vi.mu.Unlock()
			done++
		}
	}
	return done, nil
}

// IndexedVectors counts the points linked in the graphs.
func (s *Store) IndexedVectors() int {
	n := 0
	for _, vi := range s.vindex {
		if g := vi.graph.Load(); g != nil {
			n += g.Len()
		}
	}
	return n
}

// loadGraph restores a persisted graph of column name with its pending
// offsets. Unreadable graph data is dropped and every vector of the column
// waits to be linked again (reported by RebuiltIndexes).
func (s *Store) loadGraph(name string, pending map[uint32]struct{}, data []byte) {
	c, ok := s.columns[name]
	if !ok {
		return
	}
	if s.vindex == nil {
		s.vindex = map[string]*vectorIndex{}
	}
	vi := &vectorIndex{pending: pending}
	g, err := hnsw.Decode(bytes.NewReader(data), vectorsOf(c))
	if err != nil {
		s.rebuilt = append(s.rebuilt, "vector:"+name)
		vi.pending = map[uint32]struct{}{}
		for off, l := range s.live {
			if l && c.has[off] {
				vi.pending[uint32(off)] = struct{}{}
			}
		}
	} else {
		vi.graph.Store(g)
	}
	s.vindex[name] = vi
}
