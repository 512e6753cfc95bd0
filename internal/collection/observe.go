package collection

import (
	"sync/atomic"
	"time"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/shard"
)

// Observer hears of what users of a collection did that the node reports
// as issues (Qdrant's SlowQueryEvent and IndexCreatedEvent). Its methods
// run on the request's goroutine and must not block.
type Observer interface {
	// SlowRead follows a read slower than the threshold given to
	// Observe, with its filters and the payload indexes (key -> schema
	// type) the collection had.
	SlowRead(collection string, filters []*filter.Filter, indexed map[string]string)
	// IndexCreated follows an accepted create_index operation.
	IndexCreated(collection, field string)
}

type observation struct {
	o    Observer
	slow time.Duration
}

// observer holds the collection's Observer; the zero value observes
// nothing.
type observer = atomic.Pointer[observation]

// Observe sets the observer, and the time a read must take to be reported
// as slow (Qdrant's service.slow_query_secs).
func (c *Collection) Observe(o Observer, slow time.Duration) {
	c.obs.Store(&observation{o: o, slow: slow})
}

// observeRead reports a read that started at start, if it was slow.
func (c *Collection) observeRead(start time.Time, filters ...*filter.Filter) {
	ob := c.obs.Load()
	if ob == nil || time.Since(start) <= ob.slow {
		return
	}
	var fs []*filter.Filter
	for _, f := range filters {
		if f != nil {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return
	}
	indexed := map[string]string{}
	c.viewAll(func(r *shard.Reader) {
		for k, ix := range r.Indexes() {
			indexed[k] = string(ix.Schema.Type)
		}
	})
	ob.o.SlowRead(c.name, fs, indexed)
}

// observeUpdate reports the index creations among accepted operations.
func (c *Collection) observeUpdate(batch ...*ops.Operation) {
	ob := c.obs.Load()
	if ob == nil {
		return
	}
	for _, op := range batch {
		if op.Kind == ops.CreateIndex {
			ob.o.IndexCreated(c.name, op.Key)
		}
	}
}

// UpdateGuard may refuse an operation before it is written (the node's
// resource quota); its error is the answer.
type UpdateGuard func(op *ops.Operation) error

// GuardUpdates sets the guard every update passes first.
func (c *Collection) GuardUpdates(g UpdateGuard) { c.quota.Store(&g) }

// checkGuard asks the guard about every operation of a batch.
func (c *Collection) checkGuard(batch ...*ops.Operation) error {
	g := c.quota.Load()
	if g == nil {
		return nil
	}
	for _, op := range batch {
		if err := (*g)(op); err != nil {
			return err
		}
	}
	return nil
}
