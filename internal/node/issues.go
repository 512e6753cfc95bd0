package node

import (
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/issues"
	"github.com/shoaldb/shoal/internal/point"
)

// DefaultSlowQuery is Qdrant's slow query threshold when
// service.slow_query_secs is not set (UnindexedField's
// DEFAULT_SLOW_QUERY_SECS).
const DefaultSlowQuery = 1200 * time.Millisecond

// Issues returns the node's issues dashboard (GET /issues): unindexed
// fields found in slow reads, and too many collections.
func (n *Node) Issues() *issues.Dashboard { return n.issues }

// observe makes the node hear of c's slow reads and index creations.
func (n *Node) observe(c *collection.Collection) {
	slow := n.opts.SlowQuery
	if slow <= 0 {
		slow = DefaultSlowQuery
	}
	c.Observe(issueObserver{n.issues}, slow)
	c.GuardUpdates(n.guardUpdate)
}

// checkCollections looks for too many collections, as Qdrant does when one
// is created or deleted (createLocal and deleteLocal, which hold n.mu, use
// sizesLocked).
func (n *Node) checkCollections() {
	n.mu.RLock()
	sizes := n.sizesLocked()
	n.mu.RUnlock()
	n.issues.CheckCollections(sizes)
}

// sizesLocked returns the points of each collection; the caller holds n.mu.
func (n *Node) sizesLocked() []int {
	sizes := make([]int, 0, len(n.mu.collections))
	for _, c := range n.mu.collections {
		sizes = append(sizes, c.Len())
	}
	return sizes
}

type issueObserver struct{ d *issues.Dashboard }

func (o issueObserver) SlowRead(name string, filters []*filter.Filter, indexed map[string]string) {
	for _, f := range filters {
		for _, is := range issues.UnindexedFields(name, f, indexed) {
			o.d.Submit(is)
		}
	}
}

func (o issueObserver) IndexCreated(name, field string) {
	if p, err := point.ParsePath(field); err == nil {
		field = p.String()
	}
	o.d.Solve(issues.UnindexedFieldID(name, field))
}
