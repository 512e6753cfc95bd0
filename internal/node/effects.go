package node

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// effect is the local part of a committed metadata operation (a
// collection's directory created, updated or removed), or the reconcile of
// every collection with a raft snapshot.
type effect struct {
	index uint64
	what  string
	run   func() error
}

// effectQueue holds the local effects not yet done, in log order. An
// effect that fails stays at the head and is tried again (RunEffects, and
// before every later effect); the ones behind it wait, so the persisted
// effects index only ever covers effects that were all done, in order, and
// a restart replays from the first one not done.
type effectQueue struct {
	queue   []effect
	lastErr error
	kick    chan struct{} // a token when a retry is due
}

// errEffectPending is returned to the proposer of an operation whose local
// effect waits behind an earlier one that failed.
var errEffectPending = errors.New("the local effect of an earlier metadata operation has not been applied yet")

// addEffect queues an effect and runs the queue; it returns the error of
// the new effect when it did not run to completion.
func (cl *clusterMode) addEffect(e effect) error {
	cl.effMu.Lock()
	defer cl.effMu.Unlock()
	cl.eff.queue = append(cl.eff.queue, e)
	cl.runEffectsLocked()
	for i, q := range cl.eff.queue {
		if q.index != e.index {
			continue
		}
		if i == 0 {
			return cl.eff.lastErr // it failed itself
		}
		return fmt.Errorf("%w: %w", errEffectPending, cl.eff.lastErr)
	}
	return nil
}

// resetEffects replaces the queue by one effect (a snapshot's reconcile
// supersedes everything before it).
func (cl *clusterMode) resetEffects(e effect) error {
	cl.effMu.Lock()
	defer cl.effMu.Unlock()
	cl.eff.queue = append(cl.eff.queue[:0], e)
	cl.runEffectsLocked()
	if len(cl.eff.queue) > 0 {
		return cl.eff.lastErr
	}
	return nil
}

// runEffectsLocked runs the queue in order until it is empty or an effect
// fails; every effect done advances the persisted effects index.
func (cl *clusterMode) runEffectsLocked() {
	for len(cl.eff.queue) > 0 {
		e := cl.eff.queue[0]
		err := e.run()
		if err == nil {
			err = cl.saveEffects(e.index)
		}
		if err != nil {
			if cl.eff.lastErr == nil {
				cl.n.log.Error("applying a consensus operation locally failed; it is retried", "op", e.what, "index", e.index, "err", err)
			}
			cl.eff.lastErr = fmt.Errorf("apply %s (raft index %d) locally: %w", e.what, e.index, err)
			select {
			case cl.eff.kick <- struct{}{}:
			default:
			}
			return
		}
		if cl.eff.lastErr != nil {
			cl.n.log.Info("consensus operation applied locally after retries", "op", e.what, "index", e.index)
			cl.eff.lastErr = nil
		}
		cl.eff.queue = cl.eff.queue[1:]
	}
}

// PendingEffects reports how many committed operations wait for their
// local effect, and the latest failure.
func (n *Node) PendingEffects() (int, error) {
	if n.cl == nil {
		return 0, nil
	}
	n.cl.effMu.Lock()
	defer n.cl.effMu.Unlock()
	return len(n.cl.eff.queue), n.cl.eff.lastErr
}

// RunEffects retries failed local effects of committed metadata operations,
// in order, with a backoff from minWait doubling to maxWait, until ctx
// ends. The caller owns the goroutine.
func (n *Node) RunEffects(ctx context.Context, minWait, maxWait time.Duration) {
	cl := n.cl
	wait := minWait
	for {
		select {
		case <-ctx.Done():
			return
		case <-cl.eff.kick:
		}
		for {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			cl.effMu.Lock()
			cl.runEffectsLocked()
			left := len(cl.eff.queue)
			cl.effMu.Unlock()
			// runEffectsLocked kicked again on failure; a token left
			// after success is harmless (one empty retry).
			if left == 0 {
				wait = minWait
				break
			}
			wait = min(2*wait, maxWait)
			select {
			case <-cl.eff.kick:
			default:
			}
		}
	}
}
