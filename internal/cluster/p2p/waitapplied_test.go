package p2p

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
)

// TestRemoteWaitApplied: WaitApplied answers true once the peer applied
// the index (at once, or when it gets there), false when the peer's wait
// times out, and a transport error when the peer is down.
func TestRemoteWaitApplied(t *testing.T) {
	fc := &fakeConsensus{status: consensus.Status{ID: 2, Term: 3, Commit: 10, Applied: 8, Leader: 2}}
	addr := serveFake(t, "127.0.0.1", ServerConfig{Consensus: fc, Membership: &fakeMembership{}, PollInterval: time.Millisecond})
	tr := NewTransport(TransportConfig{ID: 1, Resolver: func(uint64) (string, bool) { return "http://" + addr, true },
		Timeout: 5 * time.Second, ConnectTimeout: time.Second, Logger: quiet})
	t.Cleanup(func() { tr.Close() })
	r := NewRemotePeer(tr, 2, RemoteConfig{Timeout: 5 * time.Second})
	ctx := context.Background()

	for _, tc := range []struct {
		name         string
		commit, term uint64
		want         bool
	}{
		{"applied", 8, 3, true},
		{"not yet applied", 9, 3, false},
		{"a later term", 8, 4, false},
	} {
		ok, err := r.WaitApplied(ctx, tc.commit, tc.term, 20*time.Millisecond)
		if err != nil || ok != tc.want {
			t.Errorf("%s: WaitApplied(%d, %d) = %v, %v, want %v", tc.name, tc.commit, tc.term, ok, err, tc.want)
		}
	}

	got := make(chan bool, 1)
	go func() {
		ok, err := r.WaitApplied(ctx, 10, 3, waitLong)
		if err != nil {
			t.Errorf("WaitApplied: %v", err)
		}
		got <- ok
	}()
	fc.setStatus(consensus.Status{ID: 2, Term: 3, Commit: 10, Applied: 10, Leader: 2})
	if !<-got {
		t.Fatal("WaitApplied did not see the applied index advance")
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := lis.Addr().String()
	lis.Close()
	tr2 := NewTransport(TransportConfig{ID: 1, Resolver: func(uint64) (string, bool) { return "http://" + gone, true },
		ConnectTimeout: 200 * time.Millisecond, Logger: quiet})
	defer tr2.Close()
	if _, err := NewRemotePeer(tr2, 3, RemoteConfig{Timeout: time.Second}).WaitApplied(ctx, 1, 1, 10*time.Millisecond); !errors.Is(err, ErrTransport) {
		t.Fatalf("WaitApplied on a peer that is down: %v, want a transport error", err)
	}
}
