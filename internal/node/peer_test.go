package node

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/testkit"
)

// openTestPeer starts a peer of OpenPeer on a loopback port.
func openTestPeer(t *testing.T, bootstrap string) (*Node, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	uri := "http://" + lis.Addr().String()
	n, err := OpenPeer(testOptions(t.TempDir()), PeerConfig{URI: uri, Bootstrap: bootstrap, Listener: lis,
		TickPeriod: 20 * time.Millisecond, HealthInterval: 50 * time.Millisecond, ActivationRetry: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, uri
}

// TestCloseStopsPeer: Close ends a peer's goroutines before it closes the
// collections: its P2P server no longer accepts connections. (Before, Close
// left the server, consensus and every other goroutine running.)
func TestCloseStopsPeer(t *testing.T) {
	n, uri := openTestPeer(t, "")
	testkit.WaitFor(t, "the peer is ready", 20*time.Second, n.ClusterReady)
	addr := uri[len("http://"):]
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("the P2P server does not accept connections while running: %v", err)
	}
	c.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the P2P server still accepts connections after Close")
	}
	if err := n.ConsensusErr(); err != nil {
		t.Fatalf("consensus stopped with %v", err)
	}
}

// TestPeersOverP2P: two peers of OpenPeer wired through the real P2P
// service: a collection of 4 shards with one replica each, created through
// the first peer, written through the second, reads the same through
// both, each holding only its own shards.
func TestPeersOverP2P(t *testing.T) {
	ctx := context.Background()
	first, uri := openTestPeer(t, "")
	testkit.WaitFor(t, "the first peer is ready", 20*time.Second, first.ClusterReady)
	second, _ := openTestPeer(t, uri)
	testkit.WaitFor(t, "two peers", 20*time.Second, func() bool { return len(first.Peers()) == 2 && second.ClusterReady() })
	if err := first.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":4,"distance":"Dot"},"shard_number":4,"replication_factor":1}`)); err != nil {
		t.Fatal(err)
	}
	if st := committed(first, "docs"); !allStates(st, cluster.ReplicaActive) {
		t.Fatalf("replicas after the create: %v", st)
	}
	waitActive(t, "docs", first, second)
	c2, _ := second.Collection("docs")
	if _, err := c2.Update(ctx, upsertOp(0, 40), true); err != nil {
		t.Fatalf("upsert through the second peer: %v", err)
	}
	ids := make([]point.ID, 40)
	for i := range ids {
		ids[i] = point.NumID(uint64(i))
	}
	for i, n := range []*Node{first, second} {
		c, _ := n.Collection("docs")
		if cnt, err := c.Count(ctx, ops.CountRequest{Exact: true}); err != nil || cnt != 40 {
			t.Fatalf("count through peer %d: %d, %v", i+1, cnt, err)
		}
		recs, err := c.Retrieve(ctx, ids, ops.PayloadSelector{}, ops.VectorSelector{Enable: true})
		if err != nil || len(recs) != 40 {
			t.Fatalf("retrieve through peer %d: %d, %v", i+1, len(recs), err)
		}
		info, err := n.CollectionInfo(ctx, "docs")
		if err != nil || info.PointsCount != 40 {
			t.Fatalf("info through peer %d: %v, %v", i+1, info, err)
		}
		local := 0
		for _, rs := range c.Shards() {
			if l, _ := rs.Local(); l != nil {
				local++
			}
		}
		if local != 2 {
			t.Fatalf("peer %d holds %d local shards, want 2", i+1, local)
		}
	}
}
