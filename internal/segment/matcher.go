package segment

import (
	"context"
	"slices"

	"github.com/shoaldb/shoal/internal/filter"
)

// matcher is a filter compiled against the store for one read. It is not
// safe for concurrent use; each read makes its own.
type matcher struct {
	// deferFrom, when not 0, refuses the offsets from it on: the deferred
	// points that reads do not see (a write matcher sees them).
	deferFrom uint32
	p         *plan // nil: no filter
	cand      bitset
	exact     bool
	cur       uint32
	hv        func(name string) bool // has_vector for the point at cur
}

func (s *Store) newMatcher(f *filter.Filter) *matcher {
	m := &matcher{deferFrom: s.deferFrom}
	if f == nil {
		return m
	}
	m.p = s.compile(f)
	m.cand, m.exact = m.p.candidates()
	m.hv = func(name string) bool {
		if c, ok := s.columns[name]; ok {
			return c.has[m.cur]
		}
		c, ok := s.sparse[name]
		return ok && c.has[m.cur]
	}
	return m
}

// match decides one live point.
func (m *matcher) match(off uint32) bool {
	if m.deferFrom != 0 && off >= m.deferFrom {
		return false
	}
	if m.p == nil {
		return true
	}
	if m.cand != nil && !m.cand.has(off) {
		return false
	}
	if m.exact {
		return true
	}
	m.cur = off
	return m.p.matches(off, m.hv)
}

// selective reports whether walking the candidates beats a full scan.
func (m *matcher) selective(live int) bool {
	return m.cand != nil && m.cand.count()*4 < live
}

// each calls fn for every live offset that may match: the candidates when
// they are few, else every live point. fn still has to call match. Once ctx
// is done it stops within checkEvery offsets and returns ctx's error.
func (m *matcher) each(ctx context.Context, s *Store, fn func(off uint32)) error {
	p := newPoll(ctx)
	if m.selective(len(s.offsets)) {
		m.cand.each(func(off uint32) bool {
			if p.tick() {
				return false
			}
			if int(off) < len(s.live) && s.live[off] {
				fn(off)
			}
			return true
		})
		return p.err
	}
	for off, l := range s.live {
		if off%checkEvery == 0 && p.look() { // the hottest loop: no counter
			return p.err
		}
		if l {
			fn(uint32(off))
		}
	}
	return nil
}

// sortedCandidates returns the live candidates in id order.
func (m *matcher) sortedCandidates(s *Store) []uint32 {
	var out []uint32
	m.cand.each(func(off uint32) bool {
		if int(off) < len(s.live) && s.live[off] {
			out = append(out, off)
		}
		return true
	})
	slices.SortFunc(out, func(a, b uint32) int { return s.ids[a].Compare(s.ids[b]) })
	return out
}
