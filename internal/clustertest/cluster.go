package clustertest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"
)

// Options configure a Cluster.
type Options struct {
	TickMS int               // consensus.tick_period_ms (default 20 for fast tests)
	Env    map[string]string // extra environment of every peer
	Race   bool              // build the binary with -race
}

// Cluster is N shoal processes forming one cluster on loopback.
type Cluster struct {
	t      testing.TB
	opts   Options
	bin    string
	root   string
	client *http.Client
	probe  *http.Client // short timeout, for status polls
	Peers  []*Peer
	spares []*Peer // prepared by Spare, not in Peers
}

// Binary builds ./cmd/shoal once per test process and returns its path.
func Binary(t testing.TB, race bool) string { return testkit.Binary(t, race) }

// Cleanup removes the built binary; call it from TestMain.
func Cleanup() { testkit.Cleanup() }

// New prepares n peers (nothing runs yet). Peer i gets loopback address
// 127.0.0.(i+2), free ports and its own directory; when the test fails,
// every peer's log is printed.
func New(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	if opts.TickMS == 0 {
		opts.TickMS = 20
	}
	c := &Cluster{t: t, opts: opts, bin: Binary(t, opts.Race), root: t.TempDir(), client: &http.Client{Timeout: 30 * time.Second},
		probe: &http.Client{Timeout: 2 * time.Second}}
	for i := range n {
		c.Peers = append(c.Peers, c.newPeer(i))
	}
	t.Cleanup(func() {
		for _, p := range slices.Concat(c.Peers, c.spares) {
			if p.Running() {
				_ = p.Resume()
				_ = p.Kill()
			}
			p.Proxy.Close()
			p.Msgs.Close()
		}
		if t.Failed() {
			for _, p := range slices.Concat(c.Peers, c.spares) {
				b, _ := os.ReadFile(p.LogPath)
				t.Logf("===== log of peer %d (%s) =====\n%s", p.Index, p.Host, b)
			}
		}
	})
	return c
}

// newPeer prepares peer i: loopback address 127.0.0.(i+2), free ports,
// its own directory and proxies.
func (c *Cluster) newPeer(i int) *Peer {
	t := c.t
	p := &Peer{c: c, Index: i, Host: "127.0.0." + strconv.Itoa(i+2), HTTPPort: FreePort(t), P2PPort: FreePort(t),
		Dir: filepath.Join(c.root, fmt.Sprintf("peer-%d", i)), Env: map[string]string{}}
	p.LogPath = filepath.Join(p.Dir, "shoal.log")
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	msgs, err := NewMsgProxy("127.0.0.1", "127.0.0.1:"+strconv.Itoa(p.P2PPort))
	if err != nil {
		t.Fatal(err)
	}
	p.Msgs = msgs
	proxy, err := NewProxy(p.Host, msgs.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p.Proxy = proxy
	return p
}

// Spare prepares one more peer (nothing runs yet), with the next index,
// its own address, ports, directory and proxies, but not in Peers: a
// test starts it with Start(bootstrap) to join the cluster, and stops
// and wipes it when it removed it. It is killed, and its log printed on
// failure, like the others. Not safe for concurrent use with itself.
func (c *Cluster) Spare() *Peer {
	p := c.newPeer(len(c.Peers) + len(c.spares))
	c.spares = append(c.spares, p)
	return p
}

// Start starts a cluster of n peers the way an operator would: the first
// with --uri only, the others with --bootstrap pointing at it, and waits
// until every peer agrees on one leader and knows all n peers.
func Start(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	c := New(t, n, opts)
	if err := c.Peers[0].Start(""); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(c.Peers[0], 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Peers[1:] {
		if err := p.Start(c.Peers[0].URI()); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReady(p, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.WaitLeader(c.Peers, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

// StartTogether starts a cluster the way Qdrant's own test harness does:
// the first peer alone, and once it is ready every other peer at the same
// moment with --bootstrap pointing at it. It waits until every peer is
// ready, a voter, and agrees on one leader that knows all n peers.
func StartTogether(t testing.TB, n int, opts Options, timeout time.Duration) *Cluster {
	t.Helper()
	c := New(t, n, opts)
	if err := c.FormTogether(timeout); err != nil {
		t.Fatal(err)
	}
	return c
}

// FormTogether is StartTogether on a prepared cluster: it returns an error
// instead of failing the test, so that a loop can count failed starts.
func (c *Cluster) FormTogether(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if err := c.Peers[0].Start(""); err != nil {
		return err
	}
	if err := c.WaitReady(c.Peers[0], time.Until(deadline)); err != nil {
		return err
	}
	for _, p := range c.Peers[1:] {
		if err := p.Start(c.Peers[0].URI()); err != nil {
			return err
		}
	}
	for _, p := range c.Peers[1:] {
		if err := c.WaitReady(p, time.Until(deadline)); err != nil {
			return err
		}
	}
	_, err := c.WaitLeader(c.Peers, time.Until(deadline))
	return err
}

// WaitReady polls the peer's /readyz until it answers 200.
func (c *Cluster) WaitReady(p *Peer, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := c.probe.Get(p.BaseURL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if !p.Running() {
			return fmt.Errorf("peer %d exited before it was ready", p.Index)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("peer %d not ready after %v: %v", p.Index, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitLeader waits until every given peer reports the same leader, one of
// them, knows at least as many peers as given and is a voter; it returns
// the leader's peer id.
func (c *Cluster) WaitLeader(peers []*Peer, timeout time.Duration) (uint64, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		leader, err := c.agree(peers)
		if err == nil {
			return leader, nil
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("no agreed leader after %v: %v", timeout, last)
}

func (c *Cluster) agree(peers []*Peer) (uint64, error) {
	var leader uint64
	ids := map[uint64]bool{}
	for _, p := range peers {
		st, err := p.Cluster()
		if err != nil {
			return 0, fmt.Errorf("peer %d: %w", p.Index, err)
		}
		if st.RaftInfo.Leader == nil || !st.RaftInfo.IsVoter || len(st.Peers) < len(peers) {
			return 0, fmt.Errorf("peer %d: leader %v voter %v peers %d", p.Index, st.RaftInfo.Leader, st.RaftInfo.IsVoter, len(st.Peers))
		}
		if leader != 0 && *st.RaftInfo.Leader != leader {
			return 0, fmt.Errorf("peers disagree on the leader: %d vs %d", leader, *st.RaftInfo.Leader)
		}
		leader = *st.RaftInfo.Leader
		ids[st.PeerID] = true
	}
	if !ids[leader] {
		return 0, fmt.Errorf("the agreed leader %d is not among the given peers", leader)
	}
	return leader, nil
}

// PeerByID finds the peer whose GET /cluster says id.
func (c *Cluster) PeerByID(id uint64) *Peer {
	for _, p := range c.Peers {
		if !p.Running() {
			continue
		}
		if st, err := p.Cluster(); err == nil && st.PeerID == id {
			return p
		}
	}
	return nil
}

// Partition cuts every link between peers of different groups (by index),
// in both directions; peers in no group keep all their links.
func (c *Cluster) Partition(groups ...[]int) {
	group := map[int]int{}
	for g, members := range groups {
		for _, i := range members {
			group[i] = g + 1
		}
	}
	for _, a := range c.Peers {
		for _, b := range c.Peers {
			ga, gb := group[a.Index], group[b.Index]
			if a != b && ga != 0 && gb != 0 && ga != gb {
				b.Proxy.Set(a.Host, Rule{Mode: Cut})
			}
		}
	}
}

// Heal restores every link.
func (c *Cluster) Heal() {
	for _, p := range c.Peers {
		p.Proxy.Heal()
	}
}
