package cluster_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/clustertest"
)

// readyz answers the peer's GET /readyz status code (0 when unreachable).
func readyz(p *clustertest.Peer) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(p.BaseURL() + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLaggingPeerNotReady: a joining peer that never receives a raft
// snapshot (every one is dropped on the way) knows the leader through its
// heartbeats but has none of the cluster's log. Its /readyz answers 503
// (before the fix it compared only with its own, stale commit index and
// answered 200), a metadata request sent to it answers within its
// ?timeout=, and once snapshots pass again it catches up and is ready.
func TestLaggingPeerNotReady(t *testing.T) {
	c := clustertest.New(t, 3, clustertest.Options{})
	first, lagging := c.Peers[0], c.Peers[2]
	if err := first.Start(""); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(first, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := first.Do(http.MethodPut, "/collections/before", vectors, nil); err != nil {
		t.Fatal(err)
	}
	lagging.Msgs.SetFilter(func(call clustertest.Call) clustertest.Verdict {
		return clustertest.Verdict{Drop: call.RaftType == "MsgSnap"}
	})
	for _, p := range c.Peers[1:] {
		if err := p.Start(first.URI()); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitReady(c.Peers[1], 30*time.Second); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the lagging peer knows the leader and has been sent snapshots", 30*time.Second, func() error {
		st, err := lagging.Cluster()
		if err != nil {
			return err
		}
		if st.RaftInfo.Leader == nil {
			return errors.New("no leader known")
		}
		if lagging.Msgs.Seen("Raft/MsgSnap") < 3 {
			return errors.New("fewer than 3 snapshots dropped so far")
		}
		return nil
	})
	// Through several health rounds (1 s apart) it stays not ready.
	for until := time.Now().Add(3 * time.Second); time.Now().Before(until); time.Sleep(50 * time.Millisecond) {
		if code := readyz(lagging); code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz of a peer with none of the log: %d, want 503", code)
		}
	}

	start := time.Now()
	err := lagging.Do(http.MethodPut, "/collections/late?timeout=2", vectors, nil)
	took := time.Since(start)
	var apiErr *clustertest.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusRequestTimeout {
		t.Fatalf("a metadata request to the lagging peer answered %v; want 408", err)
	}
	// Liveness, not speed: it answers, within its timeout and slack.
	if took > 15*time.Second {
		t.Fatalf("the request with ?timeout=2 answered after %v", took)
	}

	lagging.Msgs.SetFilter(nil)
	if err := c.WaitReady(lagging, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitLeader(c.Peers, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	sameCollections(t, c.Peers, "before", "late")
}
