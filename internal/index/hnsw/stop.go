package hnsw

import (
	"context"
	"math"
)

// checkEvery is how much work a search does between two looks at its
// context: distance evaluations in a walk, nodes considered in an exact
// scan. At 128 dimensions that is a few microseconds, so a cancelled search
// stops soon after, while the look itself (context.Err takes a mutex) costs
// nothing measurable.
const checkEvery = 1024

// stopCheck lets a search notice that its context is done. The zero value
// never stops (builds and links use it), and costs one extra call per
// search before it learns so.
type stopCheck struct {
	ctx  context.Context // nil: never stops
	work int             // work done so far
	next int             // work at which to look again
	err  error           // the context's error, once seen
}

// newStopCheck watches ctx; a context that can never be done (Done is nil,
// as for context.Background) is not looked at.
func newStopCheck(ctx context.Context) stopCheck {
	if ctx == nil || ctx.Done() == nil {
		return stopCheck{next: math.MaxInt}
	}
	return stopCheck{ctx: ctx} // next 0: the first spend looks at once
}

// spend adds n units of work and reports whether the search must stop. It
// is small enough to inline into the walks; look is the rare call.
func (c *stopCheck) spend(n int) bool {
	c.work += n
	return c.work >= c.next && c.look()
}

func (c *stopCheck) look() bool {
	if c.ctx == nil {
		c.next = math.MaxInt
		return false
	}
	c.next = c.work + checkEvery
	c.err = c.ctx.Err()
	return c.err != nil
}

// answer is what a public search entry point returns: the results, or the
// context's error if the search stopped for it (the partial results are
// dropped).
func (q *query) answer(res []Result) ([]Result, error) {
	if q.stop.err != nil {
		return nil, q.stop.err
	}
	return res, nil
}
