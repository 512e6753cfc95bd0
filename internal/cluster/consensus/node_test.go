package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/shoaldb/shoal/internal/testkit"
)

// listSM is a state machine that records what it applied.
type listSM struct {
	mu       sync.Mutex
	ops      []string
	members  []string
	restored int
}

func (s *listSM) Apply(_ uint64, data []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(data) == "fail" {
		return nil, errors.New("rejected")
	}
	s.ops = append(s.ops, string(data))
	return len(s.ops), nil
}

func (s *listSM) ApplyMembership(_ uint64, ch Membership) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members = append(s.members, fmt.Sprintf("%d:%d:%s", ch.Kind, ch.Peer, ch.Context))
	return nil
}

func (s *listSM) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(s.ops)
}

func (s *listSM) Restore(_ uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restored++
	return json.Unmarshal(data, &s.ops)
}

func (s *listSM) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ops)
}

// memNet delivers messages between in-process nodes; links can be cut,
// and messages held back until released.
type memNet struct {
	mu    sync.Mutex
	nodes map[uint64]*Node
	cut   map[[2]uint64]bool
	hold  func(from uint64, m Message) bool // holds the messages it accepts
	held  []held
	// noSnapReports leaves out the snapshot reports a real transport
	// makes, to show what raft does without them.
	noSnapReports bool
}

type held struct {
	from uint64
	m    Message
}

// deliver puts a message in the recipient's inbox and, for a snapshot,
// reports the delivery to the sender as the P2P transport does.
func (nt *memNet) deliver(self, to *Node, m Message) {
	rm, err := DecodeMessage(m.Data)
	if err != nil {
		panic(err)
	}
	ok := true
	select {
	case to.recv <- rm:
	default: // a full inbox drops, as a lossy network would
		ok = false
	}
	if m.Snapshot && self != nil && !nt.noSnapReports {
		self.ReportSnapshot(m.To, ok)
	}
}

// release stops holding messages and delivers the held ones.
func (nt *memNet) release() {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	nt.hold = nil
	for _, h := range nt.held {
		if to, ok := nt.nodes[h.m.To]; ok {
			nt.deliver(nt.nodes[h.from], to, h.m)
		}
	}
	nt.held = nil
}

type memTransport struct {
	net  *memNet
	from uint64
}

func (t memTransport) Send(msgs []Message) {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	for _, m := range msgs {
		self := t.net.nodes[t.from]
		to, ok := t.net.nodes[m.To]
		if !ok || t.net.cut[[2]uint64{t.from, m.To}] {
			if self != nil {
				self.Unreachable(m.To)
				if m.Snapshot {
					self.ReportSnapshot(m.To, false)
				}
			}
			continue
		}
		if t.net.hold != nil && t.net.hold(t.from, m) {
			t.net.held = append(t.net.held, held{t.from, m})
			continue
		}
		t.net.deliver(self, to, m)
	}
}

func (nt *memNet) partition(group ...uint64) {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	in := map[uint64]bool{}
	for _, g := range group {
		in[g] = true
	}
	for a := range nt.nodes {
		for b := range nt.nodes {
			if in[a] != in[b] {
				nt.cut[[2]uint64{a, b}] = true
			}
		}
	}
}

func (nt *memNet) heal() {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	clear(nt.cut)
}

type peer struct {
	node   *Node
	sm     *listSM
	dir    string
	cancel context.CancelFunc
	done   chan struct{}
}

type testCluster struct {
	t     *testing.T
	net   *memNet
	peers map[uint64]*peer
}

func newTestCluster(t *testing.T) *testCluster {
	return &testCluster{t: t, net: &memNet{nodes: map[uint64]*Node{}, cut: map[[2]uint64]bool{}}, peers: map[uint64]*peer{}}
}

func (c *testCluster) start(id uint64, bootstrap bool, dir string, compact uint64) *peer {
	c.t.Helper()
	if dir == "" {
		dir = c.t.TempDir()
	}
	sm := &listSM{}
	n, err := Open(Config{ID: id, Dir: dir, Bootstrap: bootstrap, CompactEntries: compact, Logger: quiet()}, sm, memTransport{c.net, id})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &peer{node: n, sm: sm, dir: dir, cancel: cancel, done: make(chan struct{})}
	c.net.mu.Lock()
	c.net.nodes[id] = n
	c.net.mu.Unlock()
	go func() {
		defer close(p.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		if err := n.Run(ctx, tick.C); err != nil {
			c.t.Errorf("peer %d: %v", id, err)
		}
	}()
	c.peers[id] = p
	c.t.Cleanup(func() { c.stop(id) })
	return p
}

func (c *testCluster) stop(id uint64) {
	p, ok := c.peers[id]
	if !ok {
		return
	}
	c.net.mu.Lock()
	delete(c.net.nodes, id)
	c.net.mu.Unlock()
	p.cancel()
	<-p.done
	delete(c.peers, id)
}

func (c *testCluster) leader() uint64 {
	for id, p := range c.peers {
		if p.node.Status().Role == "Leader" {
			return id
		}
	}
	return 0
}

func propose(t *testing.T, n *Node, op string) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := n.Propose(ctx, []byte(op))
	if err != nil {
		t.Fatalf("propose %q: %v", op, err)
	}
	return v
}

func (c *testCluster) join(id uint64, compact uint64) *peer {
	c.t.Helper()
	p := c.start(id, false, "", compact)
	l := c.peers[c.leader()]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.node.ChangeMembership(ctx, Membership{Kind: AddLearner, Peer: id, Context: []byte(fmt.Sprintf("uri-%d", id))}); err != nil {
		c.t.Fatalf("add learner %d: %v", id, err)
	}
	testkit.WaitFor(c.t, fmt.Sprintf("peer %d promoted", id), 20*time.Second, func() bool { return p.node.Status().IsVoter })
	return p
}

func (c *testCluster) agree(n int) {
	c.t.Helper()
	testkit.WaitFor(c.t, "every peer applied the same operations", 20*time.Second, func() bool {
		var first []string
		for _, p := range c.peers {
			l := p.sm.list()
			if len(l) != n {
				return false
			}
			if first != nil && !slices.Equal(first, l) {
				c.t.Fatalf("peers disagree: %v vs %v", first, l)
			}
			first = l
		}
		return true
	})
}

func TestClusterFormsProposesAndFailsOver(t *testing.T) {
	c := newTestCluster(t)
	p1 := c.start(1, true, "", 0)
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.node.Status().Role == "Leader" })
	if v := propose(t, p1.node, "a"); v != 1 {
		t.Fatalf("result %v", v)
	}
	c.join(2, 0)
	p3 := c.join(3, 0)
	st := p3.node.Status()
	if len(st.Voters) != 3 || st.Leader != 1 {
		t.Fatalf("status on peer 3: %+v", st)
	}
	// A proposal through a follower is answered after it applied there.
	propose(t, p3.node, "b")
	if l := p3.sm.list(); !slices.Equal(l, []string{"a", "b"}) {
		t.Fatalf("peer 3 applied %v right after its proposal returned", l)
	}
	// Errors of the state machine reach the proposer.
	if _, err := p3.node.Propose(context.Background(), []byte("fail")); err == nil || err.Error() != "rejected" {
		t.Fatalf("failing op: %v", err)
	}
	c.agree(2)
	p3.sm.mu.Lock()
	members := len(p3.sm.members)
	p3.sm.mu.Unlock()
	if members == 0 {
		t.Fatal("no membership changes applied")
	}

	// The leader dies: another takes over and operations commit again.
	c.stop(1)
	testkit.WaitFor(t, "a new leader", 20*time.Second, func() bool { l := c.leader(); return l != 0 && l != 1 })
	propose(t, c.peers[c.leader()].node, "c")
	c.agree(3)
}

func TestMinorityCannotCommit(t *testing.T) {
	c := newTestCluster(t)
	p1 := c.start(1, true, "", 0)
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.node.Status().Role == "Leader" })
	c.join(2, 0)
	c.join(3, 0)
	propose(t, p1.node, "x")
	c.net.partition(1) // the leader alone
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := p1.node.Propose(ctx, []byte("lost")); !errors.Is(err, ErrTimeout) {
		t.Fatalf("minority proposal: %v, want ErrTimeout", err)
	}
	testkit.WaitFor(t, "majority elects a leader", 20*time.Second, func() bool {
		l := c.leader()
		return l == 2 || l == 3
	})
	majority := c.peers[2].node
	propose(t, majority, "y")
	c.net.heal()
	c.agree(2)
	if l := c.peers[1].sm.list(); slices.Contains(l, "lost") {
		t.Fatalf("the minority's proposal was applied: %v", l)
	}
}

func TestRestartAndSnapshotCatchUp(t *testing.T) {
	c := newTestCluster(t)
	p1 := c.start(1, true, "", 5)
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.node.Status().Role == "Leader" })
	p2 := c.join(2, 5)
	c.join(3, 5)
	for i := range 12 {
		propose(t, p1.node, fmt.Sprint(i))
	}
	c.agree(12)

	// Peer 2 restarts from its directory and keeps its state.
	dir2 := p2.dir
	c.stop(2)
	propose(t, p1.node, "while-2-was-down")
	p2 = c.start(2, false, dir2, 5)
	c.agree(13)
	if !p2.node.Status().IsVoter {
		t.Fatal("restarted peer lost its vote")
	}

	// A peer joining after compaction starts from the leader's snapshot.
	for i := range 10 {
		propose(t, p1.node, fmt.Sprint("more", i))
	}
	p4 := c.join(4, 5)
	c.agree(23)
	p4.sm.mu.Lock()
	restored := p4.sm.restored
	p4.sm.mu.Unlock()
	if restored == 0 {
		t.Fatal("the new peer did not start from a snapshot")
	}
	// All peers restarted keep the state.
	dirs := map[uint64]string{}
	for id, p := range c.peers {
		dirs[id] = p.dir
	}
	for id := range dirs {
		c.stop(id)
	}
	for id, d := range dirs {
		c.start(id, id == 1, d, 5)
	}
	c.agree(23)
	testkit.WaitFor(t, "a leader after the full restart", 20*time.Second, func() bool { return c.leader() != 0 })
	propose(t, c.peers[c.leader()].node, "after")
	c.agree(24)
}

func FuzzDecodeMessage(f *testing.F) {
	m := raftpb.Message{Type: raftpb.MsgApp, To: 2, From: 1, Term: 3, Entries: []raftpb.Entry{{Index: 1, Term: 1, Data: []byte("x")}}}
	b, _ := m.Marshal()
	f.Add(b)
	f.Add([]byte{0x08, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeMessage(data)
	})
}
