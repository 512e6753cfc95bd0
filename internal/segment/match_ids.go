package segment

import (
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// Matching returns those of ids that s holds and that match f (all of
// them when f is nil), in the order given. It decides conditional updates
// (Qdrant's update_filter), so it compiles f once for the whole list and
// sees every point the store holds, deferred ones included (a write
// addresses a point whether or not reads show it yet).
func (s *Store) Matching(f *filter.Filter, ids []point.ID) []point.ID {
	var m *matcher
	var out []point.ID
	for _, id := range ids {
		off, ok := s.offsets[id]
		if !ok {
			continue
		}
		if m == nil {
			m = s.newWriteMatcher(f)
		}
		if m.match(off) {
			out = append(out, id)
		}
	}
	return out
}

// newWriteMatcher is a matcher for the write path: it sees every live
// point, deferred ones included.
func (s *Store) newWriteMatcher(f *filter.Filter) *matcher {
	m := s.newMatcher(f)
	m.deferFrom = 0
	return m
}
