package segment

import (
	"context"
	"fmt"
	"strconv"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/index/hnsw"
	"github.com/shoaldb/shoal/internal/index/payload"
)

// Payload blocks (Qdrant's payload_m). When a column's first graph is
// built, every value of a keyword, integer (with lookup) or bool payload
// index that more than FullScanThreshold of the build's points share is a
// block, and the graph gets extra links among each block's points
// (hnsw.Graph.BuildPayloadLinks, which also skips blocks so large that the
// graph stays connected without them). A filtered search whose matches lie
// in a linked block, and fill at least half of it, then walks only the
// matching points (hnsw.Graph.SearchPayloadBlock) instead of expanding
// every point it meets; smaller filtered sets are scanned exactly (see
// fewMatches), as in Qdrant.

// blockLabel names the block of one value of the index on key; the graph
// persists the labels of the blocks it linked.
func blockLabel(kind, key, value string) string {
	return kind + "\x00" + key + "\x00" + value
}

// payloadBlocks lists, under the store's read lock, the blocks of the
// values shared by more than p.FullScanThreshold of the points in build
// (offset -> anything; the points the graph will hold), in a
// deterministic order; none when p.PayloadM is 0.
func (s *Store) payloadBlocks(build map[uint32]int, p IndexParams) []hnsw.PayloadBlock {
	if p.PayloadM <= 0 {
		return nil
	}
	threshold := p.FullScanThreshold
	var out []hnsw.PayloadBlock
	add := func(label string, p *payload.Postings) {
		var offs []uint32
		p.ForEach(func(off uint32) bool {
			if _, ok := build[off]; ok {
				offs = append(offs, off)
			}
			return true
		})
		if len(offs) > threshold {
			out = append(out, hnsw.PayloadBlock{Label: label, Offsets: offs})
		}
	}
	for _, key := range s.indexKeys() {
		switch x := s.indexes[key].idx.(type) {
		case *payload.KeywordIndex:
			x.Facet(func(v string, n int) bool {
				if n > threshold {
					add(blockLabel("keyword", key, v), x.Match(v))
				}
				return true
			})
		case *payload.IntegerIndex:
			if !x.Schema().LookupEnabled() {
				continue
			}
			x.Facet(func(v int64, n int) bool {
				if n > threshold {
					add(blockLabel("integer", key, strconv.FormatInt(v, 10)), x.Match(v))
				}
				return true
			})
		case *payload.BoolIndex:
			x.Facet(func(v bool, n int) bool {
				if n > threshold {
					add(blockLabel("bool", key, strconv.FormatBool(v)), x.Match(v))
				}
				return true
			})
		}
	}
	return out
}

// conditionBlock returns the label of the block a match condition selects
// and the number of points the index holds for its value.
func (s *Store) conditionBlock(c *filter.FieldCondition) (string, int, bool) {
	mv, ok := c.Match.(*filter.MatchValue)
	if c.Kind() != filter.KindMatch || !ok {
		return "", 0, false
	}
	key := c.Key.String()
	fi, ok := s.index(key)
	if !ok {
		return "", 0, false
	}
	v := mv.Value
	switch x := fi.idx.(type) {
	case *payload.KeywordIndex:
		if v.Kind == filter.KeywordKind {
			return blockLabel("keyword", key, v.Keyword), x.Count(v.Keyword), true
		}
	case *payload.IntegerIndex:
		if v.Kind == filter.IntegerKind && x.Schema().LookupEnabled() {
			return blockLabel("integer", key, strconv.FormatInt(v.Integer, 10)), x.Count(v.Integer), true
		}
	case *payload.BoolIndex:
		if v.Kind == filter.BoolKind {
			return blockLabel("bool", key, strconv.FormatBool(v.Bool)), x.Count(v.Bool), true
		}
	}
	return "", 0, false
}

// inLinkedBlock reports whether the filter's matches, known exactly from
// the payload indexes, lie in one block linked in g and number at least
// half of its points: the walk restricted to matching points then stays
// connected through the block's links. A filter that keeps a small part of
// a block could strand that walk, and is left to the ordinary one.
func (s *Store) inLinkedBlock(g *hnsw.Graph, f *filter.Filter, m *matcher) bool {
	if f == nil || m.cand == nil || !m.exact {
		return false
	}
	n := -1
	for _, c := range f.Must {
		fc, ok := c.(*filter.FieldCondition)
		if !ok {
			continue
		}
		label, size, ok := s.conditionBlock(fc)
		if !ok || !g.HasPayloadBlock(label) {
			continue
		}
		if n < 0 {
			n = m.cand.count()
		}
		if 2*n >= size {
			return true
		}
	}
	return false
}

// searchWalk is the graph half of searchGraph: the payload-block walk for
// a filter inLinkedBlock accepts, else Search's.
func (s *Store) searchWalk(ctx context.Context, g *hnsw.Graph, p SearchParams, m *matcher, ef int, allow func(uint32) bool) ([]hnsw.Result, error) {
	// A multivector query is not one vector of the graph's dimension: it
	// walks with the column's max_sim scorer.
	var sc hnsw.Scorer
	if c := s.columns[p.Vector]; c.rows != nil {
		sc = c.scorer(p.Query)
	}
	if allow != nil && s.inLinkedBlock(g, p.Filter, m) {
		traceWalk("block")
		if sc != nil {
			return g.SearchPayloadBlockScorer(ctx, sc, p.Limit, ef, allow)
		}
		return g.SearchPayloadBlock(ctx, p.Query, p.Limit, ef, allow)
	}
	traceWalk("graph")
	if sc != nil {
		return g.SearchScorer(ctx, sc, p.Limit, ef, allow)
	}
	return g.Search(ctx, p.Query, p.Limit, ef, allow)
}

// traceWalk, when set by a test, learns which walk each search took.
var traceWalk = func(string) {}

// payloadBuildTotal is the progress total of a build: its points, then the
// points of its payload blocks.
func payloadBuildTotal(points int, blocks []hnsw.PayloadBlock) int {
	for _, b := range blocks {
		points += len(b.Offsets)
	}
	return points
}

// mainProgress maps the main build's progress onto the whole build's.
func (b *GraphBuild) mainProgress(progress func(done, total int)) func(done, total int) {
	if progress == nil {
		return nil
	}
	total := payloadBuildTotal(len(b.offsets), b.blocks)
	return func(done, _ int) { progress(done, total) }
}

// linkBlocks adds the payload links to a graph just built (not yet
// shared), reporting progress after the main build's points.
func (b *GraphBuild) linkBlocks(ctx context.Context, g *hnsw.Graph, threads int, progress func(done, total int)) error {
	if len(b.blocks) == 0 || b.cfg.PayloadM == 0 {
		return nil
	}
	total := payloadBuildTotal(len(b.offsets), b.blocks)
	var report func(done, total int)
	if progress != nil {
		report = func(done, _ int) { progress(len(b.offsets)+done, total) }
	}
	if err := g.BuildPayloadLinks(ctx, b.blocks, threads, report); err != nil {
		return fmt.Errorf("payload links of vector %q: %w", b.name, err)
	}
	if progress != nil {
		progress(total, total) // blocks skipped as too large never reported
	}
	return nil
}
