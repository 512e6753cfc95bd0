package node

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"
)

// TestEffectsRetriedInOrder: the local effect of a committed operation
// fails (the collection's directory cannot be made); the effect of the
// next operation waits behind it instead of advancing the persisted
// effects index past it. A restart replays both; once the cause is gone
// the retrier applies both, in order. Before the fix the second effect
// succeeded, moved the index on, and the first collection never appeared.
func TestEffectsRetriedInOrder(t *testing.T) {
	net := newMemNet()
	ctx := context.Background()
	dir := t.TempDir()
	p1 := startPeer(t, net, 1, dir, true)
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.cons.Status().Role == "Leader" })

	// A file where the collection's directory must go.
	blocker := filepath.Join(dir, "collections", "first")
	if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p1.node.CreateCollection(ctx, "first", createReq(t, `{"vectors":{"size":2,"distance":"Dot"}}`)); err == nil {
		t.Fatal("creating over a file succeeded")
	}
	err := p1.node.CreateCollection(ctx, "second", createReq(t, `{"vectors":{"size":2,"distance":"Dot"}}`))
	if err == nil || !strings.Contains(err.Error(), "earlier metadata operation") {
		t.Fatalf("the second create answered %v; want it held behind the first", err)
	}
	if n, perr := p1.node.PendingEffects(); n != 2 || perr == nil {
		t.Fatalf("pending effects %d (%v), want 2", n, perr)
	}
	effectsIndex := func() uint64 {
		b, err := os.ReadFile(filepath.Join(dir, "cluster", "effects.json"))
		if err != nil {
			return 0
		}
		v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return v
	}
	before := effectsIndex()

	// A restart replays both operations and fails the same way.
	p1.stop(net)
	p1 = startPeer(t, net, 1, dir, false)
	testkit.WaitFor(t, "the restarted peer applied the log", 20*time.Second, func() bool {
		st := p1.cons.Status()
		return st.Leader != 0 && st.Applied >= st.Commit && st.Commit > 0
	})
	// Replayed from the log the two effects wait in order; restored from
	// a raft snapshot (the log compacts every 4 entries) one reconcile
	// waits, which may have made "second" already.
	if got := p1.node.Collections(); slices.Contains(got, "first") {
		t.Fatalf("collections after restart %v", got)
	}
	if n, _ := p1.node.PendingEffects(); n == 0 {
		t.Fatal("no pending effect after restart")
	}
	if got := effectsIndex(); got != before {
		t.Fatalf("effects index moved from %d to %d while effects failed", before, got)
	}

	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p1.node.RunEffects(rctx, time.Millisecond, 20*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "both collections created by the retrier", 20*time.Second, func() bool {
		return slices.Equal(p1.node.Collections(), []string{"first", "second"})
	})
	if n, perr := p1.node.PendingEffects(); n != 0 || perr != nil {
		t.Fatalf("pending effects %d (%v) after the retry", n, perr)
	}
	if got := effectsIndex(); got <= before {
		t.Fatalf("effects index %d not advanced past %d", got, before)
	}
}
