package consensus

import (
	"context"
	"encoding/binary"
	"fmt"
)

// Read barriers (raft's ReadIndex, the safe kind: the leader confirms it
// still leads with a heartbeat round before it answers): Barrier returns
// once this peer has applied every entry committed before the call, so a
// state read after it is at least as new as any decision a client saw
// acknowledged before it called. Concurrent callers share one request;
// a caller never joins a request sent before it arrived.

// readRetryTicks is how many ticks a read request waits for its answer
// before it is sent again: raft drops one silently when no leader is
// known, or when the leader it went to has just lost its place.
const readRetryTicks = 5

// readBatch is one ReadIndex request and the callers waiting for it.
type readBatch struct {
	id      uint64
	sentAt  uint64 // tick
	waiters []chan error
}

// readAt are callers whose read index is known, waiting to apply up to it.
type readAt struct {
	index   uint64
	waiters []chan error
}

// Barrier waits until this peer has applied every entry committed before
// the call (confirmed by the current leader), or until ctx ends.
func (n *Node) Barrier(ctx context.Context) error {
	w := make(chan error, 1)
	select {
	case n.readReqs <- w:
	case <-ctx.Done():
		return fmt.Errorf("consensus read barrier: %w", ctx.Err())
	case <-n.done:
		return ErrStopped
	}
	select {
	case err := <-w:
		return err
	case <-ctx.Done():
		return fmt.Errorf("consensus read barrier (no leader confirmed this peer's state): %w", ctx.Err())
	case <-n.done:
		return ErrStopped
	}
}

// queueRead takes a caller of Barrier; Run's goroutine.
func (n *Node) queueRead(w chan error) {
	n.readQueue = append(n.readQueue, w)
}

// sendReads sends the queued callers' request when none is in flight, and
// sends the one in flight again when its answer is late; Run's goroutine.
func (n *Node) sendReads() {
	if n.readInFlight != nil && n.ticks-n.readInFlight.sentAt >= readRetryTicks {
		n.readQueue = append(n.readInFlight.waiters, n.readQueue...)
		n.readInFlight = nil
	}
	if n.readInFlight != nil || len(n.readQueue) == 0 {
		return
	}
	n.readSeq++
	b := &readBatch{id: n.readSeq, sentAt: n.ticks, waiters: n.readQueue}
	n.readQueue = nil
	var rctx [8]byte
	binary.BigEndian.PutUint64(rctx[:], b.id)
	n.readInFlight = b
	n.rn.ReadIndex(rctx[:])
}

// readAnswered matches raft's read states to the request in flight;
// Run's goroutine, from handleReady.
func (n *Node) readAnswered(index uint64, rctx []byte) {
	b := n.readInFlight
	if b == nil || len(rctx) != 8 || binary.BigEndian.Uint64(rctx) != b.id {
		return // an answer to a request sent again since
	}
	n.readInFlight = nil
	n.readWaiting = append(n.readWaiting, readAt{index: index, waiters: b.waiters})
}

// releaseReads answers the callers whose read index is applied; Run's
// goroutine.
func (n *Node) releaseReads() {
	kept := n.readWaiting[:0]
	for _, r := range n.readWaiting {
		if r.index > n.applied {
			kept = append(kept, r)
			continue
		}
		for _, w := range r.waiters {
			w <- nil
		}
	}
	clear(n.readWaiting[len(kept):])
	n.readWaiting = kept
}

// failReads answers every caller with err (Run is returning).
func (n *Node) failReads(err error) {
	var all []chan error
	all = append(all, n.readQueue...)
	if n.readInFlight != nil {
		all = append(all, n.readInFlight.waiters...)
	}
	for _, r := range n.readWaiting {
		all = append(all, r.waiters...)
	}
	for _, w := range all {
		w <- err
	}
	n.readQueue, n.readInFlight, n.readWaiting = nil, nil, nil
}
