package p2p

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

const waitLong = 15 * time.Second

// TestThreePeers forms a cluster of three consensus nodes connected only
// through Transport and Server: the first bootstraps, two join, a proposal
// through a follower commits everywhere; a peer whose server stops is seen
// failing by the others' transports and health checkers, and recovers when
// it serves again on the same port.
func TestThreePeers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p1 := startPeer(t, 1, "127.0.0.11", true)
	testkit.WaitFor(t, "peer 1 to lead", waitLong, func() bool { return p1.node.Status().Leader == 1 })
	p2 := startPeer(t, 2, "127.0.0.12", false)
	p2.join(ctx, p1)
	testkit.WaitFor(t, "peer 2 to be a voter", waitLong, func() bool { return slices.Contains(p1.node.Status().Voters, 2) })
	p3 := startPeer(t, 3, "127.0.0.13", false)
	p3.join(ctx, p2) // through a follower
	peers := []*testPeer{p1, p2, p3}
	testkit.WaitFor(t, "three voters", waitLong, func() bool {
		for _, p := range peers {
			if len(p.node.Status().Voters) != 3 {
				return false
			}
		}
		return true
	})
	for _, p := range peers {
		for _, q := range peers {
			if uri, _ := p.PeerURI(q.id); uri != q.uri {
				t.Fatalf("peer %d knows peer %d at %q, want %q", p.id, q.id, uri, q.uri)
			}
		}
	}

	follower := p2
	if p2.node.Status().Leader == 2 {
		follower = p3
	}
	if _, err := follower.node.Propose(ctx, []byte("through a follower")); err != nil {
		t.Fatalf("propose through follower %d: %v", follower.id, err)
	}
	waitApplied(t, peers, "through a follower")

	health1, health2 := p1.runHealth(t), p2.runHealth(t)
	testkit.WaitFor(t, "healthy peers", waitLong, func() bool {
		return health1.Snapshot()[3].Healthy() && health2.Snapshot()[3].Healthy() && health2.Snapshot()[1].Healthy()
	})

	// Stop peer 3's server (its node keeps running). The leader sends to
	// it on every heartbeat, so its transport counts the failures.
	p3.stopServer()
	leader := leaderOf(t, p1, p2)
	testkit.WaitFor(t, "send failures to peer 3", waitLong, func() bool {
		f, ok := leader.tr.SendFailures()[p3.uri]
		return ok && f.Count > 0 && f.LatestError != "" && !f.LatestAt.IsZero()
	})
	testkit.WaitFor(t, "health checkers to see peer 3 down", waitLong, func() bool {
		a, b := health1.Snapshot()[3], health2.Snapshot()[3]
		return a.ConsecutiveFailures > 0 && b.ConsecutiveFailures > 0 && a.LatestError != ""
	})
	if _, err := leader.node.Propose(ctx, []byte("without peer 3")); err != nil {
		t.Fatalf("propose with peer 3 down: %v", err)
	}
	waitApplied(t, []*testPeer{p1, p2}, "without peer 3")

	p3.restartServer()
	testkit.WaitFor(t, "send failures to clear", waitLong, func() bool {
		_, failing := leaderOf(t, p1, p2).tr.SendFailures()[p3.uri]
		return !failing
	})
	waitApplied(t, []*testPeer{p3}, "without peer 3")
	testkit.WaitFor(t, "health checkers to see peer 3 up", waitLong, func() bool {
		return health1.Snapshot()[3].Healthy() && health2.Snapshot()[3].Healthy()
	})
}

func waitApplied(t *testing.T, peers []*testPeer, op string) {
	t.Helper()
	for _, p := range peers {
		testkit.WaitFor(t, fmt.Sprintf("%q applied on peer %d", op, p.id), waitLong, func() bool {
			return slices.Contains(p.sm.applied(), op)
		})
	}
}

func leaderOf(t *testing.T, peers ...*testPeer) *testPeer {
	t.Helper()
	var leader *testPeer
	testkit.WaitFor(t, "a leader among the running peers", waitLong, func() bool {
		for _, p := range peers {
			if p.node.Status().Role == "Leader" {
				leader = p
				return true
			}
		}
		return false
	})
	return leader
}

// TestMalformedSend: garbage in a raft message is InvalidArgument, over
// Send and SendStream alike, and the node keeps working.
func TestMalformedSend(t *testing.T) {
	p := startPeer(t, 1, "127.0.0.21", true)
	cc, err := grpc.NewClient("passthrough:///"+p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := p2pv1.NewRaftClient(cc)
	for _, data := range [][]byte{nil, {0xff, 0xff, 0xff}, []byte("not a raft message at all")} {
		_, err := client.Send(ctx, &p2pv1.RaftMessage{Message: data})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("Send(%q) = %v, want InvalidArgument", data, err)
		}
	}
	stream, err := client.SendStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&p2pv1.RaftMessage{Message: []byte{0x08}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CloseAndRecv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("SendStream(garbage) = %v, want InvalidArgument", err)
	}
	testkit.WaitFor(t, "the node to lead", waitLong, func() bool { return p.node.Status().Leader == 1 })
	if _, err := p.node.Propose(ctx, []byte("still alive")); err != nil {
		t.Fatalf("propose after garbage: %v", err)
	}
}
