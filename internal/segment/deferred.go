package segment

import (
	"math"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// Deferred points (Qdrant's prevent_unoptimized): an appendable segment
// made while the setting is on shows reads only the points at its first
// n offsets; the ones after them are stored, updated and deleted like any
// other, but every read (scroll, count, search, facet, the id lookups of
// the shard) passes them by until the optimizer rebuilds the segment, which
// then shows them all. New points take fresh offsets at the end (free
// slots are not reused), so that the first n offsets keep the first n
// points, as Qdrant's internal ids do, and the same points are deferred
// after a restart (offsets are persisted).

// SetDeferFrom hides from reads the points at offsets n and after (n <= 0:
// none). Offsets past 2^32-1 do not exist, so a larger n hides nothing.
func (s *Store) SetDeferFrom(n int) {
	switch {
	case n <= 0:
		s.deferFrom = 0
	case uint64(n) >= math.MaxUint32:
		s.deferFrom = math.MaxUint32
	default:
		s.deferFrom = uint32(n)
	}
}

// DeferFrom returns the offset from which points are deferred (0: none).
func (s *Store) DeferFrom() int { return int(s.deferFrom) }

// IsDeferred reports whether s holds id at a deferred offset.
func (s *Store) IsDeferred(id point.ID) bool {
	off, ok := s.offsets[id]
	return ok && s.deferFrom != 0 && off >= s.deferFrom
}

// DeferredCount is the number of deferred points.
func (s *Store) DeferredCount() int {
	if s.deferFrom == 0 || int(s.deferFrom) >= len(s.live) {
		return 0
	}
	n := 0
	for _, l := range s.live[s.deferFrom:] {
		if l {
			n++
		}
	}
	return n
}

// DeferredIDs returns the ids of the deferred points, in offset order.
func (s *Store) DeferredIDs() []point.ID {
	if s.deferFrom == 0 || int(s.deferFrom) >= len(s.live) {
		return nil
	}
	var out []point.ID
	for off := int(s.deferFrom); off < len(s.live); off++ {
		if s.live[off] {
			out = append(out, s.ids[off])
		}
	}
	return out
}

// VisibleLen is the number of points reads see.
func (s *Store) VisibleLen() int { return len(s.offsets) - s.DeferredCount() }

// MatchingAll returns the ids of every point matching f in id order,
// deferred ones included: the points a filtered update addresses. Like
// MatchingIDs it runs under the write lock.
func (s *Store) MatchingAll(f *filter.Filter) []point.ID {
	s.PrepareRead()
	m := s.newWriteMatcher(f)
	var out []point.ID
	for _, off := range s.sorted {
		if m.match(off) {
			out = append(out, s.ids[off])
		}
	}
	return out
}
