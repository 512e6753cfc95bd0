package cluster_test

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
)

// TestP2PBindsItsHost: the P2P port (which has no authentication yet)
// listens on cluster.p2p.host when set, not on service.host; before the
// fix it always took service.host, so an API opened to the network opened
// the P2P port with it.
func TestP2PBindsItsHost(t *testing.T) {
	c := clustertest.New(t, 1, clustertest.Options{})
	p := c.Peers[0]
	p.Env["QDRANT__SERVICE__HOST"] = "127.0.0.1"
	p.Env["QDRANT__CLUSTER__P2P__HOST"] = "127.0.0.9"
	if err := p.Start(""); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(p, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(p.P2PPort)
	conn, err := net.DialTimeout("tcp", "127.0.0.9:"+port, 2*time.Second)
	if err != nil {
		t.Fatalf("P2P port not on cluster.p2p.host: %v", err)
	}
	conn.Close()
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 2*time.Second); err == nil {
		conn.Close()
		t.Fatal("P2P port also listens on service.host")
	}
}
