package consensus

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"
)

func barrier(n *Node, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return n.Barrier(ctx)
}

// TestBarrier: a barrier returns once the peer applied what was committed
// before it; a peer cut off from the majority (a follower, or the leader
// it deposed) cannot pass one, and passes it with the majority's
// operations applied once healed; concurrent callers all pass.
func TestBarrier(t *testing.T) {
	c := newTestCluster(t)
	p1 := c.start(1, true, "", 0)
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.node.Status().Role == "Leader" })
	c.join(2, 0)
	c.join(3, 0)
	propose(t, p1.node, "x")
	for id, p := range c.peers {
		if err := barrier(p.node, 5*time.Second); err != nil {
			t.Fatalf("peer %d: %v", id, err)
		}
		if !slices.Contains(p.sm.list(), "x") {
			t.Fatalf("peer %d passed the barrier without x: %v", id, p.sm.list())
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- barrier(c.peers[uint64(i%3+1)].node, 5*time.Second)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent barrier: %v", err)
		}
	}

	// The leader alone: it may still believe it leads, but no barrier
	// passes there while the others commit without it.
	c.net.partition(1)
	testkit.WaitFor(t, "majority elects a leader", 20*time.Second, func() bool {
		l := c.leader()
		return l == 2 || l == 3
	})
	propose(t, c.peers[2].node, "y")
	if err := barrier(p1.node, 300*time.Millisecond); err == nil {
		t.Fatalf("the cut-off peer passed a barrier; it applied %v", p1.sm.list())
	}
	c.net.heal()
	if err := barrier(p1.node, 10*time.Second); err != nil {
		t.Fatalf("after healing: %v", err)
	}
	if !slices.Contains(p1.sm.list(), "y") {
		t.Fatalf("peer 1 passed the barrier without y: %v", p1.sm.list())
	}
}
