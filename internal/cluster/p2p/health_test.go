package p2p

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
)

// One round at a time, without Run: results, a peer answering under
// another id, an unreachable peer, and forgetting peers that left.
func TestHealthCheckRounds(t *testing.T) {
	fc := &fakeConsensus{status: consensus.Status{ID: 2, Term: 4, Commit: 9, Leader: 2}}
	addr := serveFake(t, "127.0.0.80", ServerConfig{Consensus: fc, Membership: &fakeMembership{}})
	var mu sync.Mutex
	peers := map[uint64]string{1: "http://127.0.0.81:1", 2: "http://" + addr, 3: "http://" + addr, 4: "http://127.0.0.82:1"}
	known := func() map[uint64]string {
		mu.Lock()
		defer mu.Unlock()
		out := map[uint64]string{}
		for k, v := range peers {
			out[k] = v
		}
		return out
	}
	tr, _ := newTestTransport(t, "", func(id uint64) (string, bool) { u, ok := known()[id]; return u, ok }, 0)
	h := NewHealthChecker(tr, HealthConfig{Self: 1, Peers: known})
	ctx := context.Background()

	round, done := h.Rounds()
	h.CheckAll(ctx)
	<-done
	if r, _ := h.Rounds(); r != round+1 {
		t.Fatalf("round %d after one round from %d", r, round)
	}
	h.CheckAll(ctx)
	snap := h.Snapshot()
	if _, ok := snap[1]; ok {
		t.Fatal("checked itself")
	}
	if p := snap[2]; !p.Healthy() || p.Term != 4 || p.Commit != 9 || p.Leader != 2 || p.URI != peers[2] || p.Latency <= 0 {
		t.Fatalf("peer 2: %+v", p)
	}
	if p := snap[3]; p.Healthy() || p.ConsecutiveFailures != 2 || !strings.Contains(p.LatestError, "it is peer 2") {
		t.Fatalf("peer 3 answering as 2: %+v", p)
	}
	if p := snap[4]; p.Healthy() || p.ConsecutiveFailures != 2 || p.LatestErrorAt.IsZero() {
		t.Fatalf("unreachable peer 4: %+v", p)
	}

	mu.Lock()
	delete(peers, 4)
	mu.Unlock()
	h.CheckAll(ctx)
	if _, ok := h.Snapshot()[4]; ok {
		t.Fatal("a peer that left is still reported")
	}
}
