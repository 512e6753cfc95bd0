package segment

import (
	"encoding/json"
	"slices"

	"github.com/shoaldb/shoal/internal/index/hnsw"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector/quant"
)

// What a shard needs to run several segments (Qdrant's model): copying the
// points of sealed segments into a new one, learning which of them were
// deleted meanwhile, persisting deletes of a sealed segment apart from its
// immutable data, and the sizes its optimizer plans with.

// CopyLive upserts every live point of s into dst, with its version,
// payload and vectors (dst keeps its own copies). Turbo4 rows are copied
// as they are, not decoded and quantized again (turbo4.go).
func (s *Store) CopyLive(dst *Store) {
	turbo := s.turboNames()
	sel := func(name string) bool { return !turbo[name] }
	for off, l := range s.live {
		if !l {
			continue
		}
		r := s.record(uint32(off), sel)
		dst.UpsertPoint(r.ID, r.Version, r.Vectors, r.Sparse, r.Payload)
		if turbo != nil {
			s.copyRows(dst, uint32(off), r.ID, turbo)
		}
	}
}

// DeleteMark is a position in the store's history of deletes; DeletedSince
// returns the points deleted after it. Valid only while the store gets no
// new points (a sealed or frozen segment), as new points reuse free slots.
func (s *Store) DeleteMark() int { return len(s.free) }

// DeletedSince returns the ids of the points deleted after mark.
func (s *Store) DeletedSince(mark int) []point.ID {
	if mark < 0 || mark > len(s.free) {
		return nil
	}
	out := make([]point.ID, 0, len(s.free)-mark)
	for _, off := range s.free[mark:] {
		out = append(out, s.ids[off])
	}
	return out
}

// DeletedOffsets lists the free slots in ascending order: for a sealed
// segment, the points deleted since it was built.
func (s *Store) DeletedOffsets() []uint32 {
	out := slices.Clone(s.free)
	slices.Sort(out)
	return out
}

// DeleteOffsets deletes the points at the given slots (slots already free
// or out of range are skipped): the replay of a sealed segment's deletes.
func (s *Store) DeleteOffsets(offs []uint32) {
	for _, off := range offs {
		if int(off) < len(s.live) && s.live[off] {
			s.Delete(s.ids[off])
		}
	}
}

// Slots is the number of slots, live and free.
func (s *Store) Slots() int { return len(s.ids) }

// Deleted is the number of free slots.
func (s *Store) Deleted() int { return len(s.free) }

// VectorCount is the number of live points with a vector in column name.
func (s *Store) VectorCount(name string) int { return s.vectorCount(name) }

// IndexUnits is what the indexing threshold of column name counts: its
// vectors, or a multivector column's sub-vectors.
func (s *Store) IndexUnits(name string) int { return s.indexUnits(name) }

// VectorBytes is the size of the stored vectors counted as float32, the
// unit of Qdrant's size thresholds (1 KB = one 256-dimensional vector);
// every sub-vector of a multivector counts.
func (s *Store) VectorBytes() int64 {
	var n int64
	for _, c := range s.columns {
		n += int64(c.subVectors(s.live)) * int64(c.spec.Dim) * 4
	}
	// A sparse entry is an index and a value.
	return n + 8*int64(s.SparseEntries())
}

// HasGraph reports whether column name has an HNSW graph.
func (s *Store) HasGraph(name string) bool {
	vi, ok := s.vindex[name]
	return ok && vi.graph.Load() != nil
}

// GraphMatches reports whether column name has a graph and whether it was
// built with the settings of p (those that shape the graph).
func (s *Store) GraphMatches(name string, p IndexParams) (built, matches bool) {
	vi, ok := s.vindex[name]
	if !ok {
		return false, false
	}
	g := vi.graph.Load()
	if g == nil {
		return false, false
	}
	want := hnsw.Config{M: p.M, EfConstruct: p.EfConstruct}
	if want.M == 0 {
		want.M = hnsw.DefaultM
	}
	if want.EfConstruct == 0 {
		want.EfConstruct = hnsw.DefaultEfConstruct
	}
	c := g.Config()
	return true, c.M == want.M && c.EfConstruct == want.EfConstruct && vi.codesMatch(p.Quantization)
}

// codesMatch reports whether the column's quantized codes are those cfg
// asks for (none for nil). A config whose codes failed to build counts as
// matching, so that the optimizer does not rebuild the segment forever.
func (vi *vectorIndex) codesMatch(cfg *quant.Config) bool {
	q := vi.codes.Load()
	switch {
	case cfg == nil:
		return q == nil
	case q != nil && q.matches(cfg):
		return true
	}
	raw, err := configJSON(cfg)
	return err == nil && vi.failedQuant != "" && string(raw) == vi.failedQuant
}

// IndexSchemas returns the payload indexes as key -> field_schema, as
// CreateIndex took them.
func (s *Store) IndexSchemas() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(s.indexes))
	for k, fi := range s.indexes {
		out[k] = fi.raw
	}
	return out
}

// MergeFacets adds up the facet counts of several segments and keeps the
// limit most frequent values, ties by value, as Facet orders them.
func MergeFacets(parts [][]FacetHit, limit int) []FacetHit {
	counts := map[any]int{}
	for _, p := range parts {
		for _, h := range p {
			counts[h.Value] += h.Count
		}
	}
	hits := make([]FacetHit, 0, len(counts))
	for v, n := range counts {
		hits = append(hits, FacetHit{Value: v, Count: n})
	}
	slices.SortFunc(hits, func(a, b FacetHit) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return compareFacetValues(a.Value, b.Value)
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

// ColumnStats describes one vector column of a segment.
type ColumnStats struct {
	Vectors        int   // live points with this vector
	Indexed        int   // of them, linked in the HNSW graph
	VectorBytes    int64 // the stored vectors, in their datatype
	GraphBytes     int64 // heap held by the HNSW graph
	QuantizedBytes int64 // quantized codes
	Datatype       Datatype
	Quantization   string // kind of the codes, "" without
	OnDisk         bool   // the vectors are in a mapped file, not the heap
}

// Columns describes every vector column.
func (s *Store) Columns() map[string]ColumnStats {
	mem := s.VectorMemory()
	out := make(map[string]ColumnStats, len(s.columns))
	for name := range s.columns {
		m := mem[name]
		st := ColumnStats{Vectors: s.vectorCount(name), VectorBytes: m.VectorBytes, GraphBytes: m.GraphBytes,
			QuantizedBytes: m.QuantizedBytes, Datatype: m.Datatype, Quantization: string(m.Quantization), OnDisk: s.External(name)}
		if vi, ok := s.vindex[name]; ok {
			if g := vi.graph.Load(); g != nil {
				st.Indexed = g.Len()
			}
		}
		out[name] = st
	}
	return out
}
