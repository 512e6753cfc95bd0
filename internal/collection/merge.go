package collection

import (
	"cmp"
	"slices"

	"github.com/shoaldb/shoal/internal/point"
)

// Merging the answers of a collection's shards: each shard answers its
// share as a whole collection would, and the merge orders them the same
// way one shard orders its segments' answers, so that a collection of N
// shards answers what it would with one.

// mergeHits merges the shards' best hits (each best first, each at most
// offset+limit long): best first by better, ties by id, a point once (a
// point met twice, as during a transfer, keeps its better hit), then
// skips offset and keeps limit. Empty: nil.
func mergeHits(parts [][]ScoredPoint, better func(a, b float32) bool, offset, limit int) []ScoredPoint {
	var all []ScoredPoint
	if len(parts) == 1 {
		all = parts[0]
	} else {
		for _, p := range parts {
			all = append(all, p...)
		}
		slices.SortStableFunc(all, func(a, b ScoredPoint) int {
			switch {
			case better(a.Score, b.Score):
				return -1
			case better(b.Score, a.Score):
				return 1
			}
			return a.ID.Compare(b.ID)
		})
		all = dedupHits(all)
	}
	if offset >= len(all) || limit <= 0 {
		return nil
	}
	all = all[offset:]
	return all[:min(limit, len(all))]
}

// dedupHits keeps the first hit of each point of a sorted list.
func dedupHits(all []ScoredPoint) []ScoredPoint {
	if len(all) < 2 {
		return all
	}
	seen := make(map[point.ID]struct{}, len(all))
	out := all[:0]
	for _, h := range all {
		if _, dup := seen[h.ID]; dup {
			continue
		}
		seen[h.ID] = struct{}{}
		out = append(out, h)
	}
	return out
}

// higher is better for scores compared by the dot product (sparse).
func higher(a, b float32) bool { return a > b }

// mergeScroll merges the shards' pages of a scroll (each in id order, at
// most limit long, next the id its shard would continue from): the first
// limit ids of all, each once, and the id the next page starts at, the
// lowest id of any shard that the page leaves out.
func mergeScroll(pages [][]Record, nexts []*point.ID, limit int) ([]Record, *point.ID) {
	if len(pages) == 1 {
		return pages[0], nexts[0]
	}
	all := []Record{}
	for _, p := range pages {
		all = append(all, p...)
	}
	slices.SortStableFunc(all, func(a, b Record) int { return a.ID.Compare(b.ID) })
	all = slices.CompactFunc(all, func(a, b Record) bool { return a.ID == b.ID })
	var next *point.ID
	lower := func(id point.ID) {
		if next == nil || id.Less(*next) {
			next = &id
		}
	}
	if len(all) > limit {
		lower(all[limit].ID)
		all = all[:limit]
	}
	for _, n := range nexts {
		if n != nil {
			lower(*n)
		}
	}
	return all, next
}

// mergeOrdered merges the shards' pages of an order_by scroll (each
// ordered): by value in the direction asked, ties by id, as one shard
// merges its segments; the first limit, each point once.
func mergeOrdered(parts [][]Record, desc bool, limit int) []Record {
	if len(parts) == 1 {
		return parts[0]
	}
	all := []Record{}
	for _, p := range parts {
		all = append(all, p...)
	}
	order := func(a, b Record) int {
		c := cmp.Compare(orderNumber(a.OrderValue), orderNumber(b.OrderValue))
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return a.ID.Compare(b.ID)
	}
	slices.SortStableFunc(all, order)
	all = slices.CompactFunc(all, func(a, b Record) bool { return order(a, b) == 0 })
	return all[:min(limit, len(all))]
}

// orderNumber is an order value on the index's number line.
func orderNumber(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}
