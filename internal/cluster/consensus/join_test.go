package consensus

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"go.etcd.io/raft/v3/raftpb"
)

// TestSnapshotOvertakenByCompaction: a joining learner's snapshot is held
// back until the leader has compacted its log past it. Raft keeps the
// learner paused (StateSnapshot) until it hears how that snapshot went:
// with the transport's report the leader sends a newer one, and the learner
// catches up and becomes a voter. Without the report (the defect: only
// failures were reported, and a full report channel dropped even those)
// the learner stays behind for good.
func TestSnapshotOvertakenByCompaction(t *testing.T) {
	c := newTestCluster(t)
	p1 := c.start(1, true, "", 1) // compact after every entry
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.node.Status().Role == "Leader" })
	propose(t, p1.node, "before")

	c.net.mu.Lock()
	c.net.hold = func(_ uint64, m Message) bool { return m.To == 2 && m.Snapshot }
	c.net.mu.Unlock()
	p2 := c.start(2, false, "", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p1.node.ChangeMembership(ctx, Membership{Kind: AddLearner, Peer: 2, Context: []byte("uri-2")}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "a snapshot for the learner is sent (and held)", 20*time.Second, func() bool {
		c.net.mu.Lock()
		defer c.net.mu.Unlock()
		return len(c.net.held) > 0
	})
	for i := range 5 {
		propose(t, p1.node, fmt.Sprint("while-held-", i))
	}
	c.net.release()
	c.agree(6)
	testkit.WaitFor(t, "the learner is promoted", 20*time.Second, func() bool { return p2.node.Status().IsVoter })
}

// TestConcurrentMembershipChanges: learners added at the same moment
// through different peers (raft takes one conf change at a time and drops
// the others silently) are all added, each answered well before its
// deadline, and all promoted; a change asked twice is applied once.
func TestConcurrentMembershipChanges(t *testing.T) {
	c := newTestCluster(t)
	p1 := c.start(1, true, "", 0)
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.node.Status().Role == "Leader" })
	c.join(2, 0)
	c.join(3, 0)

	joiners := []uint64{4, 5, 6, 7, 8, 9}
	for _, id := range joiners {
		c.start(id, false, "", 0)
	}
	via := []*Node{c.peers[1].node, c.peers[2].node, c.peers[3].node}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(joiners))
	start := time.Now()
	for i, id := range joiners {
		for twice := range 2 { // every learner asked for twice, through two peers
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				n := via[(i+twice)%len(via)]
				if err := n.ChangeMembership(ctx, Membership{Kind: AddLearner, Peer: id, Context: fmt.Appendf(nil, "uri-%d", id)}); err != nil {
					errs <- fmt.Errorf("add learner %d: %w", id, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d concurrent membership changes answered in %v", 2*len(joiners), time.Since(start))
	for _, id := range joiners {
		testkit.WaitFor(t, fmt.Sprintf("peer %d promoted", id), 20*time.Second, func() bool { return c.peers[id].node.Status().IsVoter })
	}
	st := c.peers[1].node.Status()
	if len(st.Voters) != 9 || len(st.Learners) != 0 {
		t.Fatalf("voters %v learners %v, want 9 voters", st.Voters, st.Learners)
	}
	propose(t, c.peers[c.leader()].node, "after")
	c.agree(1)
}

// TestPendingConfTracksTheLog: the newest conf change in the log holds
// back membership proposals until applied; one overwritten by a new
// leader's entries no longer does.
func TestPendingConfTracksTheLog(t *testing.T) {
	conf := func(i uint64) raftpb.Entry { return raftpb.Entry{Index: i, Type: raftpb.EntryConfChange} }
	norm := func(i uint64) raftpb.Entry { return raftpb.Entry{Index: i, Type: raftpb.EntryNormal} }
	for _, tc := range []struct {
		name    string
		batches [][]raftpb.Entry
		want    uint64
	}{
		{"none", [][]raftpb.Entry{{norm(1), norm(2)}}, 0},
		{"appended", [][]raftpb.Entry{{norm(1), conf(2), norm(3)}}, 2},
		{"later batch keeps it", [][]raftpb.Entry{{conf(2)}, {norm(3), norm(4)}}, 2},
		{"overwritten tail drops it", [][]raftpb.Entry{{norm(1), conf(2), norm(3)}, {norm(2)}}, 0},
		{"overwritten by another", [][]raftpb.Entry{{conf(5)}, {norm(4), conf(5)}}, 5},
	} {
		n := &Node{}
		for _, b := range tc.batches {
			n.notePendingConf(b)
		}
		if n.pendingConf != tc.want {
			t.Errorf("%s: pendingConf %d, want %d", tc.name, n.pendingConf, tc.want)
		}
	}
}
