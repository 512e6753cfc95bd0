package shard

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"slices"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
)

// Reader reads across the shard's segments and merges their answers. It is
// valid only inside the View callback that handed it out (the shard's
// shared lock is held).
type Reader struct{ h *holder }

// View runs fn with a Reader under the shared lock.
func (s *Shard) View(fn func(*Reader)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(&Reader{h: s.mu.h})
}

// Reads show each point once, as its newest copy unless that one is
// deferred (deferred.go), and deferred points not at all.

// Len is the number of points reads see.
func (r *Reader) Len() int {
	n := 0
	for _, g := range r.h.segs {
		n += g.store.VisibleLen()
	}
	return n
}

// Has reports whether id is stored and visible.
func (r *Reader) Has(id point.ID) bool { return r.h.visible(id) != nil }

// Get returns the record of id.
func (r *Reader) Get(id point.ID, sel segment.VectorSelection) (segment.Record, bool) {
	if g := r.h.visible(id); g != nil {
		return g.store.Get(id, sel)
	}
	return segment.Record{}, false
}

// Vector returns a copy of the named vector of id.
func (r *Reader) Vector(id point.ID, name string) ([]float32, bool) {
	if g := r.h.visible(id); g != nil {
		return g.store.Vector(id, name)
	}
	return nil, false
}

// Scroll returns up to limit records with id >= from (all when from is nil)
// in id order that match f, and the id of the next matching record if any.
// Like every read of a Reader that may visit many points, it stops once ctx
// is done (the segments look at it every few thousand points) and returns
// ctx's error.
func (r *Reader) Scroll(ctx context.Context, f *filter.Filter, from *point.ID, limit int, sel segment.VectorSelection) ([]segment.Record, *point.ID, error) {
	if len(r.h.segs) == 1 {
		return r.h.segs[0].store.Scroll(ctx, f, from, limit, sel)
	}
	var all []segment.Record
	var next *point.ID
	for _, g := range r.h.segs {
		recs, n, err := g.store.Scroll(ctx, f, from, limit, sel)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, recs...)
		if n != nil && (next == nil || n.Less(*next)) {
			next = n
		}
	}
	slices.SortFunc(all, func(a, b segment.Record) int { return a.ID.Compare(b.ID) })
	if len(all) > limit {
		// Each segment gave its first limit matches, so the merged
		// first limit are exact and the one after them starts the
		// next page unless a segment's own next comes earlier.
		if next == nil || all[limit].ID.Less(*next) {
			n := all[limit].ID
			next = &n
		}
		all = all[:limit]
	}
	return all, next, nil
}

// Count returns the number of points matching f.
func (r *Reader) Count(ctx context.Context, f *filter.Filter) (int, error) {
	n := 0
	for _, g := range r.h.segs {
		c, err := g.store.Count(ctx, f)
		if err != nil {
			return 0, err
		}
		n += c
	}
	return n, nil
}

// EstimateCount sums the segments' expected cardinalities of f, as Qdrant
// sums the estimates of a shard's segments for count with exact=false.
func (r *Reader) EstimateCount(f *filter.Filter) int {
	n := 0
	for _, g := range r.h.segs {
		n += g.store.EstimateCount(f)
	}
	return n
}

// Hit is one search result with its record.
type Hit struct {
	segment.Record
	Score float32
}

// Search searches every segment and merges the best p.Limit hits, best
// first, ties by id. With IndexedOnly, segments without a graph for the
// vector are skipped unless they are small enough to scan (Qdrant's
// indexed_only: "only indexed or small segments").
func (r *Reader) Search(ctx context.Context, p segment.SearchParams, sel segment.VectorSelection) ([]Hit, error) {
	spec, ok := r.h.specs[p.Vector]
	if !ok || p.Limit <= 0 {
		return nil, nil
	}
	type found struct {
		g *seg
		segment.Scored
		id point.ID
	}
	var all []found
	for _, g := range r.h.segs {
		if p.IndexedOnly && !p.Exact && !g.indexed(p.Vector) && g.store.VectorCount(p.Vector) > r.h.vindex[p.Vector].FullScanThreshold {
			continue
		}
		hits, err := g.store.Search(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, sc := range hits {
			all = append(all, found{g: g, Scored: sc, id: g.store.RecordAt(sc.Offset, nil).ID})
		}
	}
	if len(r.h.segs) > 1 {
		slices.SortFunc(all, func(a, b found) int {
			switch {
			case spec.Distance.Better(a.Score, b.Score):
				return -1
			case spec.Distance.Better(b.Score, a.Score):
				return 1
			}
			return a.id.Compare(b.id)
		})
	}
	if len(all) > p.Limit {
		all = all[:p.Limit]
	}
	out := make([]Hit, len(all))
	for i, f := range all {
		out[i] = Hit{Record: f.g.store.RecordAt(f.Offset, sel), Score: f.Score}
	}
	return out, nil
}

func (g *seg) indexed(name string) bool { return g.store.HasGraph(name) }

// ScrollOrdered merges the segments' ordered scrolls: by value in the
// chosen direction, ties by id.
func (r *Reader) ScrollOrdered(ctx context.Context, f *filter.Filter, key string, desc bool, from *float64, limit int, sel segment.VectorSelection) ([]segment.OrderedRecord, error) {
	var all []segment.OrderedRecord
	for _, g := range r.h.segs {
		recs, err := g.store.ScrollOrdered(ctx, f, key, desc, from, limit, sel)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	slices.SortFunc(all, func(a, b segment.OrderedRecord) int {
		c := cmp.Compare(a.OrderValue, b.OrderValue)
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return a.ID.Compare(b.ID)
	})
	if len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// Facet adds up the value counts of the segments.
func (r *Reader) Facet(ctx context.Context, key string, f *filter.Filter, limit int) ([]segment.FacetHit, error) {
	parts := make([][]segment.FacetHit, 0, len(r.h.segs))
	for _, g := range r.h.segs {
		hits, err := g.store.Facet(ctx, key, f, int(^uint(0)>>1))
		if err != nil {
			return nil, err
		}
		parts = append(parts, hits)
	}
	return segment.MergeFacets(parts, limit), nil
}

// IndexedVectors counts the vectors linked in HNSW graphs.
func (r *Reader) IndexedVectors() int {
	n := 0
	for _, g := range r.h.segs {
		n += g.store.IndexedVectors()
	}
	return n
}

// Indexes lists the payload indexes with the points each covers.
func (r *Reader) Indexes() map[string]segment.IndexInfo {
	out := map[string]segment.IndexInfo{}
	for _, g := range r.h.segs {
		for k, ix := range g.store.Indexes() {
			if cur, ok := out[k]; ok {
				ix.Points += cur.Points
			}
			out[k] = ix
		}
	}
	return out
}

// SegmentInfo describes one segment for collection info and telemetry.
type SegmentInfo struct {
	ID             uint64
	Appendable     bool
	Points         int
	Deleted        int
	VectorBytes    int64
	IndexedVectors int
}

// Segments describes the segments.
func (r *Reader) Segments() []SegmentInfo {
	out := make([]SegmentInfo, len(r.h.segs))
	for i, g := range r.h.segs {
		out[i] = SegmentInfo{
			ID: g.id, Appendable: g.appendable, Points: g.store.Len(), Deleted: g.store.Deleted(),
			VectorBytes: g.store.VectorBytes(), IndexedVectors: g.store.IndexedVectors(),
		}
	}
	return out
}

// SegmentDetail is a segment as telemetry shows it.
type SegmentDetail struct {
	SegmentInfo
	Columns   map[string]segment.ColumnStats
	Indexes   map[string]segment.IndexInfo
	DiskBytes int64 // size of its files as of the last flush
}

// SegmentDetails describes the segments in depth (file sizes included).
func (r *Reader) SegmentDetails(dir string) []SegmentDetail {
	infos := r.Segments()
	out := make([]SegmentDetail, len(infos))
	for i, g := range r.h.segs {
		d := SegmentDetail{SegmentInfo: infos[i], Columns: g.store.Columns(), Indexes: g.store.Indexes()}
		for _, f := range []string{g.dataFile, g.deletesFile} {
			if f == "" {
				continue
			}
			if fi, err := os.Stat(filepath.Join(dir, segmentsDir, f)); err == nil {
				d.DiskBytes += fi.Size()
			}
		}
		out[i] = d
	}
	return out
}

// SparseVector returns a copy of the named sparse vector of id.
func (r *Reader) SparseVector(id point.ID, name string) (point.SparseVector, bool) {
	if g := r.h.visible(id); g != nil {
		return g.store.SparseVector(id, name)
	}
	return point.SparseVector{}, false
}

// SparseStats returns the number of points with a vector in sparse vector
// name and, for each of dims, how many of those vectors have it: the
// statistics of Qdrant's idf modifier, over every segment.
func (r *Reader) SparseStats(name string, dims []uint32) (int, []int) {
	df := make([]int, len(dims))
	n := 0
	for _, g := range r.h.segs {
		n += g.store.SparseStats(name, dims, df)
	}
	return n, df
}

// SearchSparse searches every segment by sparse vector and merges the best
// p.Limit hits, best first, ties by id.
func (r *Reader) SearchSparse(ctx context.Context, p segment.SparseSearchParams, sel segment.VectorSelection) ([]Hit, error) {
	if !r.h.HasSparse(p.Vector) || p.Limit <= 0 {
		return nil, nil
	}
	type found struct {
		g *seg
		segment.Scored
		id point.ID
	}
	var all []found
	for _, g := range r.h.segs {
		hits, err := g.store.SearchSparse(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, sc := range hits {
			all = append(all, found{g: g, Scored: sc, id: g.store.RecordAt(sc.Offset, nil).ID})
		}
	}
	slices.SortFunc(all, func(a, b found) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return a.id.Compare(b.id)
	})
	if len(all) > p.Limit {
		all = all[:p.Limit]
	}
	out := make([]Hit, len(all))
	for i, f := range all {
		out[i] = Hit{Record: f.g.store.RecordAt(f.Offset, sel), Score: f.Score}
	}
	return out, nil
}
