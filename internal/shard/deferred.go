package shard

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/shoaldb/shoal/internal/point"
)

// Deferred points (Qdrant's optimizers_config.prevent_unoptimized): an
// appendable segment made while OptimizerParams.DeferFrom is set shows
// reads only the points at its first DeferFrom offsets (segment.Store's
// SetDeferFrom); the others are deferred: stored and written like any
// point, passed over by every read until the optimizer rebuilds their
// segment into a sealed one, which shows them all. The setting applies to
// appendable segments made (or loaded) after it, as in Qdrant.
//
// A point whose newest copy is deferred may keep an older copy in another
// segment that reads still show, its shadow: when an update moves a point
// out of a sealed segment (copy on write) and the new copy lands deferred,
// the old copy stays where it is, as Qdrant keeps "the source of the CoW
// operation as the deferred point is invisible until indexing". So every
// point has one newest copy, which writes address (holder.owner), and at
// most one shadow (holder.shadows), and reads show exactly one copy of a
// point: its newest copy when that is not deferred, else its shadow if it
// has one. settle keeps this true whenever copies appear or become
// visible: after a copy on write, after an optimization, and on open.

// ErrDeferredTimeout is returned by an update sent with wait that was
// applied but whose context ended while deferred points were still
// waiting for the optimizer (Qdrant answers status wait_timeout). Check it
// with errors.Is.
var ErrDeferredTimeout = errors.New("timed out waiting for deferred points to be optimized")

// settle enforces the invariant above for id: the newest copy stays; when
// it is deferred the newest visible older copy stays as its shadow; every
// other copy is deleted.
func (h *holder) settle(id point.ID) {
	type copyOf struct {
		g        *seg
		version  uint64
		deferred bool
	}
	var copies []copyOf
	for _, g := range h.segs {
		if r, ok := g.store.Get(id, nil); ok {
			copies = append(copies, copyOf{g, r.Version, g.store.IsDeferred(id)})
		}
	}
	delete(h.shadows, id)
	if len(copies) < 2 {
		return
	}
	// Newest first; between equal versions the segment listed first.
	slices.SortStableFunc(copies, func(a, b copyOf) int { return cmp.Compare(b.version, a.version) })
	newest := copies[0]
	var shadow *seg
	for _, c := range copies[1:] {
		if newest.deferred && shadow == nil && !c.deferred {
			shadow = c.g
			continue
		}
		c.g.store.Delete(id)
		c.g.deleted()
	}
	if shadow != nil {
		if h.shadows == nil {
			h.shadows = map[point.ID]*seg{}
		}
		h.shadows[id] = shadow
	}
}

// visible returns the segment whose copy of id reads show, or nil.
func (h *holder) visible(id point.ID) *seg {
	g := h.owner(id)
	if g != nil && g.store.IsDeferred(id) {
		return h.shadows[id] // nil: the point is not visible yet
	}
	return g
}

// settleAll settles every point that may have several copies: those with
// a shadow (after an optimization made deferred copies visible), and, on
// open, every point of an appendable segment held elsewhere too (copies
// left by a previous run, whose deferred offsets may now differ).
func (h *holder) settleAll(appendables bool) {
	var ids []point.ID
	for id := range h.shadows {
		ids = append(ids, id)
	}
	if appendables {
		for _, g := range h.segs {
			if !g.appendable {
				continue
			}
			for _, id := range g.store.MatchingAll(nil) {
				for _, o := range h.segs {
					if o != g && o.store.Has(id) {
						ids = append(ids, id)
						break
					}
				}
			}
		}
	}
	slices.SortFunc(ids, point.ID.Compare)
	for _, id := range slices.Compact(ids) {
		h.settle(id)
	}
}

// deferredPoints counts the deferred copies: the points reads do not see
// yet (a point with a shadow counts, its shadow being an older version).
func (h *holder) deferredPoints() int {
	n := 0
	for _, g := range h.segs {
		n += g.store.DeferredCount()
	}
	return n
}

// DeferredPoints is the number of deferred points (Qdrant's
// update_queue.deferred_points).
func (s *Shard) DeferredPoints() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.h.deferredPoints()
}

// QueueLength is the number of operations logged and queued but not yet
// applied (Qdrant's update_queue.length).
func (s *Shard) QueueLength() int { return int(s.queued.Load()) }

// waitDeferred waits, after an update sent with wait was applied, until
// no point is deferred, as Qdrant answers such an update only once the
// points it deferred are visible: the optimizer is asked to run and every
// optimization it finishes is a new look. It returns ErrDeferredTimeout
// when ctx ends first, and nothing when the setting is off.
func (s *Shard) waitDeferred(ctx context.Context) error {
	for {
		s.mu.RLock()
		on := s.mu.h.opt.DeferFrom > 0
		pending := on && s.mu.h.deferredPoints() > 0
		next := s.optimized.Load()
		s.mu.RUnlock()
		if !pending {
			return nil
		}
		s.wake()
		select {
		case <-*next:
		case <-ctx.Done():
			return ErrDeferredTimeout
		case <-s.stopOpt:
			return ErrDeferredTimeout
		}
	}
}

// optimizationDone tells the waiters of waitDeferred that an optimization
// changed the segments (called after the swap, out of the lock).
func (s *Shard) optimizationDone() {
	ch := make(chan struct{})
	old := s.optimized.Swap(&ch)
	close(*old)
}
