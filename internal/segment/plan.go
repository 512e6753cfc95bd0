package segment

import (
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// A plan is a filter compiled against the store's payload indexes: every
// condition an index can answer becomes an exact set of offsets, every other
// condition stays a predicate on the payload. The plan yields a candidate
// set (a superset of the matches, or all points) with a cardinality
// estimate, and decides each candidate with set lookups before payload
// checks. Results never depend on which indexes exist, except for full-text
// conditions, whose meaning with a text index is token-based (as in
// Qdrant) and without one a substring test.
type plan struct {
	root  *node
	store *Store
	live  int
}

type nodeKind uint8

const (
	nodeAll  nodeKind = iota // matches every point
	nodeNone                 // matches no point
	nodeBits                 // exact answer from an index or has_id
	nodePred                 // condition checked on the payload
	nodeAnd
	nodeOr
	nodeNot
	nodeMin // at least min of kids
)

type node struct {
	kind nodeKind
	bits bitset
	pred *filter.Filter // a one-condition filter, for nodePred
	kids []*node
	min  int
	est  int // estimated number of matching points
}

// compile builds the plan of f (nil matches everything).
func (s *Store) compile(f *filter.Filter) *plan {
	p := &plan{store: s, live: len(s.offsets)}
	if f == nil {
		p.root = &node{kind: nodeAll, est: p.live}
	} else {
		p.root = p.filter(f)
	}
	return p
}

func (p *plan) filter(f *filter.Filter) *node {
	and := &node{kind: nodeAnd}
	for _, c := range f.Must {
		and.kids = append(and.kids, p.condition(c))
	}
	if f.Should != nil {
		or := &node{kind: nodeOr}
		for _, c := range f.Should {
			or.kids = append(or.kids, p.condition(c))
		}
		and.kids = append(and.kids, p.finish(or))
	}
	for _, c := range f.MustNot {
		and.kids = append(and.kids, p.finish(&node{kind: nodeNot, kids: []*node{p.condition(c)}}))
	}
	if m := f.MinShould; m != nil {
		mn := &node{kind: nodeMin, min: m.MinCount}
		for _, c := range m.Conditions {
			mn.kids = append(mn.kids, p.condition(c))
		}
		and.kids = append(and.kids, p.finish(mn))
	}
	return p.finish(and)
}

func (p *plan) condition(c filter.Condition) *node {
	switch c := c.(type) {
	case *filter.Filter:
		return p.filter(c)
	case *filter.HasIDCondition:
		b := newBitset(len(p.store.ids))
		for _, id := range c.IDs() {
			if off, ok := p.store.offsets[id]; ok {
				b.set(off)
			}
		}
		return p.finish(&node{kind: nodeBits, bits: b})
	case *filter.FieldCondition:
		if fi, ok := p.store.index(c.Key.String()); ok {
			if b, ok := p.store.lookup(fi, c); ok {
				return p.finish(&node{kind: nodeBits, bits: b})
			}
		}
	}
	// Unknown selectivity: half the points, as Qdrant's estimator assumes.
	return &node{kind: nodePred, pred: &filter.Filter{Must: []filter.Condition{c}}, est: p.live / 2}
}

// finish simplifies a node and sets its estimate.
func (p *plan) finish(n *node) *node {
	switch n.kind {
	case nodeBits:
		n.est = n.bits.count()
	case nodeAnd:
		kept := n.kids[:0]
		n.est = p.live
		for _, k := range n.kids {
			switch k.kind {
			case nodeNone:
				return &node{kind: nodeNone}
			case nodeAll:
				continue
			}
			// Independence assumption, as Qdrant's estimator makes.
			n.est = int(float64(n.est) * float64(k.est) / float64(max(p.live, 1)))
			kept = append(kept, k)
		}
		n.kids = kept
		switch len(kept) {
		case 0:
			return &node{kind: nodeAll, est: p.live}
		case 1:
			return kept[0]
		}
		// Fold the exact sets into one.
		var sets []*node
		rest := n.kids[:0:0]
		for _, k := range n.kids {
			if k.kind == nodeBits {
				sets = append(sets, k)
			} else {
				rest = append(rest, k)
			}
		}
		if len(sets) > 1 {
			b := sets[0].bits.clone()
			for _, k := range sets[1:] {
				b.and(k.bits)
			}
			merged := &node{kind: nodeBits, bits: b, est: b.count()}
			n.kids = append([]*node{merged}, rest...)
			if len(rest) == 0 {
				return merged
			}
			n.est = min(n.est, merged.est)
		}
	case nodeOr:
		if len(n.kids) == 0 {
			return &node{kind: nodeNone}
		}
		n.est = 0
		allBits := true
		for _, k := range n.kids {
			if k.kind == nodeAll {
				return &node{kind: nodeAll, est: p.live}
			}
			n.est += k.est
			allBits = allBits && (k.kind == nodeBits || k.kind == nodeNone)
		}
		n.est = min(n.est, p.live)
		if allBits {
			b := newBitset(len(p.store.ids))
			for _, k := range n.kids {
				if k.kind == nodeBits {
					b.or(k.bits)
				}
			}
			return &node{kind: nodeBits, bits: b, est: b.count()}
		}
	case nodeNot:
		k := n.kids[0]
		switch k.kind {
		case nodeAll:
			return &node{kind: nodeNone}
		case nodeNone:
			return &node{kind: nodeAll, est: p.live}
		case nodeBits:
			b := p.store.liveBits()
			b.andNot(k.bits)
			return &node{kind: nodeBits, bits: b, est: b.count()}
		}
		n.est = p.live - min(k.est, p.live)
	case nodeMin:
		if n.min <= 1 {
			n.kind = nodeOr
			return p.finish(n)
		}
		n.est = p.live
		if len(n.kids) < n.min {
			return &node{kind: nodeNone}
		}
	}
	return n
}

func (s *Store) liveBits() bitset {
	b := newBitset(len(s.ids))
	for off, l := range s.live {
		if l {
			b.set(uint32(off))
		}
	}
	return b
}

// candidates returns a superset of the matching offsets (nil: all live
// points) and whether it is exactly the matching set.
func (p *plan) candidates() (bitset, bool) {
	switch n := p.root; n.kind {
	case nodeAll:
		return nil, true
	case nodeNone:
		return newBitset(0), true
	case nodeBits:
		return n.bits, true
	case nodeAnd:
		for _, k := range n.kids {
			if k.kind == nodeBits {
				return k.bits, false
			}
		}
	}
	return nil, false
}

// estimate is the expected number of matching points.
func (p *plan) estimate() int { return p.root.est }

// matches decides one live point.
func (p *plan) matches(off uint32, hasVector func(string) bool) bool {
	return p.eval(p.root, off, p.store.ids[off], p.store.payloads[off], hasVector)
}

func (p *plan) eval(n *node, off uint32, id point.ID, pl point.Payload, hv func(string) bool) bool {
	switch n.kind {
	case nodeAll:
		return true
	case nodeNone:
		return false
	case nodeBits:
		return n.bits.has(off)
	case nodePred:
		return n.pred.MatchesPoint(id, pl, hv)
	case nodeAnd:
		for _, k := range n.kids {
			if !p.eval(k, off, id, pl, hv) {
				return false
			}
		}
		return true
	case nodeOr:
		for _, k := range n.kids {
			if p.eval(k, off, id, pl, hv) {
				return true
			}
		}
		return false
	case nodeNot:
		return !p.eval(n.kids[0], off, id, pl, hv)
	case nodeMin:
		c := 0
		for _, k := range n.kids {
			if p.eval(k, off, id, pl, hv) {
				if c++; c >= n.min {
					return true
				}
			}
		}
		return false
	}
	return false
}
