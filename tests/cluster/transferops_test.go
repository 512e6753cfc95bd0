package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
	"github.com/shoaldb/shoal/internal/testkit"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// The cluster operations around shard transfers, between real processes:
// restart_transfer and abort_transfer by an operator, transfers aborted
// when their source or target peer is removed, the refusal to remove a
// peer that holds shards, the limits of automatic recovery, and the
// progress a running transfer reports. Transfers are slowed down by
// delaying every Points/Update message into their target (its message
// proxy), so that they run long enough to be acted upon.

// transferOut is one entry of shard_transfers.
type transferOut struct {
	ShardID uint32 `json:"shard_id"`
	From    uint64 `json:"from"`
	To      uint64 `json:"to"`
	Sync    bool   `json:"sync"`
	Method  string `json:"method"`
	Comment string `json:"comment"`
}

func transfersOf(p *clustertest.Peer, coll string) ([]transferOut, error) {
	var ci struct {
		ShardTransfers []transferOut `json:"shard_transfers"`
	}
	err := p.Do(http.MethodGet, "/collections/"+coll+"/cluster", nil, &ci)
	return ci.ShardTransfers, err
}

// slowUpdates delays every Points/Update message into p by d (0: none):
// the batches of a transfer to p, and the updates forwarded to it.
func slowUpdates(p *clustertest.Peer, d time.Duration) {
	if d == 0 {
		p.Msgs.SetFilter(nil)
		return
	}
	p.Msgs.SetFilter(func(c clustertest.Call) clustertest.Verdict {
		if c.Method == p2pv1.Points_Update_FullMethodName {
			return clustertest.Verdict{Delay: d}
		}
		return clustertest.Verdict{}
	})
}

// progressRe reads "<sent>/<total> sent" from a transfer's comment.
var progressRe = regexp.MustCompile(`(\d+)/(\d+) sent`)

// waitProgress waits until the source peer shows the transfer into to
// part way: some sent, not all. It returns the comment.
func waitProgress(t *testing.T, src *clustertest.Peer, coll string, to uint64) string {
	t.Helper()
	var comment string
	testkit.Eventually(t, "the transfer shows its progress part way", 30*time.Second, func() error {
		trs, err := transfersOf(src, coll)
		if err != nil {
			return err
		}
		for _, tr := range trs {
			if tr.To != to {
				continue
			}
			m := progressRe.FindStringSubmatch(tr.Comment)
			if m == nil {
				return fmt.Errorf("comment %q", tr.Comment)
			}
			sent, _ := strconv.Atoi(m[1])
			total, _ := strconv.Atoi(m[2])
			if sent == 0 || sent >= total {
				return fmt.Errorf("comment %q", tr.Comment)
			}
			comment = tr.Comment
			return nil
		}
		return fmt.Errorf("no transfer to %d in %v", to, trs)
	})
	return comment
}

// apiError returns the status and the error text of a refused request.
func apiError(t *testing.T, err error) (int, string) {
	t.Helper()
	var ae *clustertest.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want a refusal, got %v", err)
	}
	var env struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(ae.Body), &env); err != nil {
		t.Fatalf("refusal %d: %v: %s", ae.Status, err, ae.Body)
	}
	return ae.Status, env.Status.Error
}

// logLines counts the lines of p's log that hold every one of parts.
func logLines(t *testing.T, p *clustertest.Peer, parts ...string) int {
	t.Helper()
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		all := true
		for _, part := range parts {
			all = all && strings.Contains(line, part)
		}
		if all {
			n++
		}
	}
	return n
}

// noFailureReports checks that no peer reported a replica of coll as
// failed: a transfer's target must not be refused updates on its way to
// Active (and marked Dead, and recovered again).
func noFailureReports(t *testing.T, peers []*clustertest.Peer, coll string) {
	t.Helper()
	for _, p := range peers {
		if n := logLines(t, p, `msg="replica failed an update, reporting it"`, "collection="+coll+" "); n > 0 {
			t.Errorf("peer %d reported %d failed updates of a replica of %s", p.Index, n, coll)
		}
	}
}

// peerOf maps a peer id back to its process.
func peerOf(peers []*clustertest.Peer, ids map[int]uint64, id uint64) *clustertest.Peer {
	for _, p := range peers {
		if ids[p.Index] == id {
			return p
		}
	}
	return nil
}

// leaderOf is the leader's peer id as p sees it.
func leaderOf(t *testing.T, p *clustertest.Peer) uint64 {
	t.Helper()
	st, err := p.Cluster()
	if err != nil || st.RaftInfo.Leader == nil {
		t.Fatalf("leader as peer %d sees it: %v", p.Index, err)
	}
	return *st.RaftInfo.Leader
}

// startWriters starts recorded writes through peers and waits until some
// are under way; stop ends them and waits.
func startWriters(t *testing.T, peers []*clustertest.Peer, coll string) (*history.Recorder, func()) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("%s: writers seed %d", coll, seed)
	rec := history.NewRecorder()
	began := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	wait := writers(t, peers, coll, rec, seed, ctx)
	stop := func() { cancel(); wait() }
	t.Cleanup(stop)
	t.Cleanup(func() {
		if t.Failed() {
			// The writes, to set beside the peers' logs.
			t.Logf("%s: writes from %s", coll, began.UTC().Format("15:04:05.000"))
			for _, op := range rec.History() {
				t.Logf("%s", op)
			}
		}
	})
	testkit.Eventually(t, "writes under way", 10*time.Second, func() error {
		if n := len(rec.History()); n < 20 {
			return fmt.Errorf("%d writes", n)
		}
		return nil
	})
	return rec, stop
}

// TestTransferOperatorOps: restart_transfer changes the method of a
// running transfer, which still finishes; abort_transfer ends a replicate
// with a Dead target that recovery brings back; meanwhile the source
// shows the progress in shard_transfers[].comment and its log, and no
// acknowledged write is lost.
func TestTransferOperatorOps(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	peers := c.Peers
	ids := peerIDs(t, peers)
	pc := newP2PConns(t, c)
	const points = 5000
	// prepare creates coll (1 shard, 1 replica), preloads it and returns
	// the source and a target peer.
	prepare := func(t *testing.T, coll string) (src, tgt *clustertest.Peer) {
		createDistributed(t, peers[0], coll, 1, 1, 1)
		placement := waitReplicas(t, peers, coll, 1, 1, "Active")
		preload(t, peers[0], coll, points)
		for _, p := range peers {
			if _, ok := placement[0][ids[p.Index]]; ok {
				src = p
			} else if tgt == nil {
				tgt = p
			}
		}
		return src, tgt
	}

	t.Run("restart", func(t *testing.T) {
		const coll = "xops_restart"
		src, tgt := prepare(t, coll)
		from, to := ids[src.Index], ids[tgt.Index]
		// Qdrant's answer to a transfer that does not exist.
		err := opOn(peers[0], coll, map[string]any{"restart_transfer": map[string]any{
			"shard_id": 0, "from_peer_id": from, "to_peer_id": to, "method": "wal_delta"}})
		status, body := apiError(t, err)
		want := fmt.Sprintf("Shard transfer %d -> %d for collection %s:0 does not exist", from, to, coll)
		if status != http.StatusNotFound || !strings.Contains(body, want) {
			t.Fatalf("restart of no transfer: %d %s, want 404 %q", status, body, want)
		}

		slowUpdates(tgt, 60*time.Millisecond)
		defer slowUpdates(tgt, 0)
		rec, stop := startWriters(t, peers, coll)
		if err := opOn(peers[1], coll, map[string]any{"replicate_shard": map[string]any{
			"shard_id": 0, "from_peer_id": from, "to_peer_id": to, "method": "stream_records"}}); err != nil {
			t.Fatalf("replicate_shard: %v", err)
		}
		comment := waitProgress(t, src, coll, to)
		t.Logf("progress on the source: %q", comment)

		if err := opOn(peers[2], coll, map[string]any{"restart_transfer": map[string]any{
			"shard_id": 0, "from_peer_id": from, "to_peer_id": to, "method": "wal_delta"}}); err != nil {
			t.Fatalf("restart_transfer: %v", err)
		}
		testkit.Eventually(t, "every peer shows the transfer as wal_delta", 10*time.Second, func() error {
			for _, p := range peers {
				trs, err := transfersOf(p, coll)
				if err != nil {
					return err
				}
				if len(trs) != 1 || trs[0].Method != "wal_delta" || trs[0].From != from || trs[0].To != to || !trs[0].Sync {
					return fmt.Errorf("peer %d: %+v", p.Index, trs)
				}
			}
			return nil
		})
		slowUpdates(tgt, 0)
		waitShard(t, peers, coll, 0, map[uint64]string{from: "Active", to: "Active"}, 60*time.Second)
		stop()
		checkHistory(t, peers[0], coll, rec, points)
		ci, err := getClusterInfo(peers[0], coll)
		if err != nil {
			t.Fatal(err)
		}
		compareAllReplicas(t, pc, coll, ci.replicaStates())

		noFailureReports(t, peers, coll)
		// The source logged its progress, and the restarted driver.
		progress := logLines(t, src, `msg="shard transfer progress"`, "collection="+coll+" ", "sent=", "total=")
		restarted := logLines(t, src, `msg="shard transfer started"`, "collection="+coll+" ", "method=wal_delta")
		if progress == 0 || restarted == 0 {
			t.Fatalf("source log: %d progress lines, %d starts of the wal_delta driver", progress, restarted)
		}
	})

	t.Run("finish", func(t *testing.T) {
		// A wal_delta transfer ends while clients write, and the target
		// applies the consensus log late (its MsgApp delayed): the source,
		// the ordering leader of the shard (the highest peer id), applies
		// the finish first. Its updates must not be refused by the target
		// (still receiving, by its own view) and the target reported Dead.
		const coll = "xops_finish"
		createDistributed(t, peers[0], coll, 3, 1, 1)
		placement := waitReplicas(t, peers, coll, 3, 1, "Active")
		preload(t, peers[0], coll, points)
		var shard uint32
		var from uint64
		for s, r := range placement {
			for p := range r {
				if p > from {
					shard, from = s, p
				}
			}
		}
		var tgt *clustertest.Peer
		for _, p := range peers {
			if ids[p.Index] != from {
				tgt = p
			}
		}
		to := ids[tgt.Index]
		tgt.Msgs.SetFilter(func(c clustertest.Call) clustertest.Verdict {
			if c.RaftType == "MsgApp" {
				return clustertest.Verdict{Delay: 300 * time.Millisecond}
			}
			return clustertest.Verdict{}
		})
		defer tgt.Msgs.SetFilter(nil)
		rec, stop := startWriters(t, peers, coll)
		if err := opOn(peers[0], coll, map[string]any{"replicate_shard": map[string]any{
			"shard_id": shard, "from_peer_id": from, "to_peer_id": to, "method": "wal_delta"}}); err != nil {
			t.Fatalf("replicate_shard: %v", err)
		}
		waitShard(t, peers, coll, shard, map[uint64]string{from: "Active", to: "Active"}, 60*time.Second)
		stop()
		tgt.Msgs.SetFilter(nil)
		noFailureReports(t, peers, coll)
		// The source switched the target to Partial before the finish,
		// and its driver ran to the end of the switch-over.
		src := peerOf(peers, ids, from)
		testkit.Eventually(t, "the source logs the switch to Partial and the end of the transfer", 20*time.Second, func() error {
			for _, msg := range []string{`msg="shard transfer target switched from Recovery to Partial"`, `msg="shard transfer finished"`} {
				if logLines(t, src, msg, "collection="+coll+" ") == 0 {
					return fmt.Errorf("no %s", msg)
				}
			}
			return nil
		})
		checkHistory(t, peers[0], coll, rec, points)
		ci, err := getClusterInfo(peers[0], coll)
		if err != nil {
			t.Fatal(err)
		}
		compareAllReplicas(t, pc, coll, ci.replicaStates())
	})

	t.Run("abort", func(t *testing.T) {
		const coll = "xops_abort"
		src, tgt := prepare(t, coll)
		from, to := ids[src.Index], ids[tgt.Index]
		slowUpdates(tgt, 60*time.Millisecond)
		defer slowUpdates(tgt, 0)
		rec, stop := startWriters(t, peers, coll)
		if err := opOn(peers[1], coll, map[string]any{"replicate_shard": map[string]any{
			"shard_id": 0, "from_peer_id": from, "to_peer_id": to, "method": "stream_records"}}); err != nil {
			t.Fatalf("replicate_shard: %v", err)
		}
		waitProgress(t, src, coll, to)
		if err := opOn(peers[2], coll, map[string]any{"abort_transfer": map[string]any{
			"shard_id": 0, "from_peer_id": from, "to_peer_id": to}}); err != nil {
			t.Fatalf("abort_transfer: %v", err)
		}
		// Qdrant: the target of an aborted replicate is Dead; a Dead
		// replica on a live peer is then recovered (wal_delta).
		ci, err := getClusterInfo(peers[2], coll)
		if err != nil {
			t.Fatal(err)
		}
		var trs []transferOut
		if trs, err = transfersOf(peers[2], coll); err != nil {
			t.Fatal(err)
		}
		st := ci.replicaStates()[0][to]
		recovering := len(trs) == 1 && trs[0].Method == "wal_delta"
		if st != "Dead" && !recovering || len(trs) > 1 || len(trs) == 1 && !recovering {
			t.Fatalf("right after the abort: target %s, transfers %+v", st, trs)
		}
		t.Logf("right after the abort: target %s, transfers %+v", st, trs)
		testkit.Eventually(t, "the aborted transfer is gone on every peer", 10*time.Second, func() error {
			for _, p := range peers {
				trs, err := transfersOf(p, coll)
				if err != nil {
					return err
				}
				for _, tr := range trs {
					if tr.Method == "stream_records" {
						return fmt.Errorf("peer %d: %+v", p.Index, trs)
					}
				}
			}
			return nil
		})
		slowUpdates(tgt, 0)
		waitShard(t, peers, coll, 0, map[uint64]string{from: "Active", to: "Active"}, 60*time.Second)
		stop()
		checkHistory(t, peers[0], coll, rec, points)
		ci, err = getClusterInfo(peers[0], coll)
		if err != nil {
			t.Fatal(err)
		}
		compareAllReplicas(t, pc, coll, ci.replicaStates())
	})
}

// removePeer sends DELETE /cluster/peer/{id} through p.
func removePeer(p *clustertest.Peer, id uint64, force bool) error {
	q := ""
	if force {
		q = "?force=true"
	}
	return retryDropped(func() error {
		return p.Do(http.MethodDelete, "/cluster/peer/"+strconv.FormatUint(id, 10)+q, nil, nil)
	})
}

// retryDropped retries a metadata request for a while when consensus
// dropped its proposal without a leader (an election on a loaded
// machine): nothing was proposed, so trying again is safe.
func retryDropped(do func() error) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := do()
		var ae *clustertest.APIError
		if err == nil || !errors.As(err, &ae) || !strings.Contains(ae.Body, "proposal dropped") || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond) // a new leader is elected meanwhile
	}
}

// opOn posts a cluster operation through p, again when it was dropped.
func opOn(p *clustertest.Peer, coll string, op map[string]any) error {
	return retryDropped(func() error { return clusterOp(p, coll, op) })
}

// waitPeerGone waits until every peer of peers no longer lists id.
func waitPeerGone(t *testing.T, peers []*clustertest.Peer, id uint64) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("peer %d gone from every peer's view", id), 20*time.Second, func() error {
		for _, p := range peers {
			st, err := p.Cluster()
			if err != nil {
				return err
			}
			if _, ok := st.Peers[strconv.FormatUint(id, 10)]; ok {
				return fmt.Errorf("peer %d still lists %d", p.Index, id)
			}
		}
		return nil
	})
}

// TestTransferPeerRemoved: removing a peer that holds shards is refused
// unless forced (Qdrant's 400); a forced removal of the target, then of
// the source, of a running transfer aborts it on every remaining peer:
// the source stays Active, and a replicate's target that lost its source
// is recovered from another replica. No acknowledged write is lost.
func TestTransferPeerRemoved(t *testing.T) {
	c := clustertest.Start(t, 4, clustertest.Options{})
	peers := c.Peers
	ids := peerIDs(t, peers)
	pc := newP2PConns(t, c)
	const points = 5000
	without := func(ps []*clustertest.Peer, gone *clustertest.Peer) []*clustertest.Peer {
		return slices.DeleteFunc(slices.Clone(ps), func(p *clustertest.Peer) bool { return p == gone })
	}

	// The target removed: the source's replica stays Active.
	const coll = "xops_rm_target"
	createDistributed(t, peers[0], coll, 1, 1, 1)
	placement := waitReplicas(t, peers, coll, 1, 1, "Active")
	preload(t, peers[0], coll, points)
	leader := leaderOf(t, peers[0])
	var src, tgt *clustertest.Peer
	for _, p := range peers {
		if _, ok := placement[0][ids[p.Index]]; ok {
			src = p
		} else if tgt == nil && ids[p.Index] != leader {
			tgt = p
		}
	}
	from, to := ids[src.Index], ids[tgt.Index]
	other := without(without(peers, src), tgt)[0]

	// Qdrant refuses to remove a peer holding shards without force.
	status, body := apiError(t, removePeer(other, from, false))
	want := fmt.Sprintf("Cannot remove peer %d as there are shards on it", from)
	if status != http.StatusBadRequest || !strings.Contains(body, want) {
		t.Fatalf("remove a peer with the only replica: %d %s, want 400 %q", status, body, want)
	}

	slowUpdates(tgt, 60*time.Millisecond)
	rec, stop := startWriters(t, without(peers, tgt), coll)
	if err := opOn(other, coll, map[string]any{"replicate_shard": map[string]any{
		"shard_id": 0, "from_peer_id": from, "to_peer_id": to, "method": "stream_records"}}); err != nil {
		t.Fatalf("replicate_shard: %v", err)
	}
	waitProgress(t, src, coll, to)
	status, body = apiError(t, removePeer(other, to, false))
	if want := fmt.Sprintf("Cannot remove peer %d as there are shards on it", to); status != http.StatusBadRequest || !strings.Contains(body, want) {
		t.Fatalf("remove the target without force: %d %s, want 400 %q", status, body, want)
	}
	if err := removePeer(other, to, true); err != nil {
		t.Fatalf("remove the target with force: %v", err)
	}
	live := without(peers, tgt)
	waitPeerGone(t, live, to)
	if _, err := c.WaitLeader(live, 30*time.Second); err != nil {
		t.Fatalf("after the target's removal: %v", err)
	}
	waitShard(t, live, coll, 0, map[uint64]string{from: "Active"}, 20*time.Second)
	stop()
	if err := tgt.Kill(); err != nil {
		t.Fatal(err)
	}
	slowUpdates(tgt, 0)
	checkHistory(t, src, coll, rec, points)

	// The source removed: it holds the only replica of a shard of
	// another collection too, and goes with force all the same.
	const coll2, only = "xops_rm_source", "xops_only"
	createDistributed(t, live[0], coll2, 1, 2, 1)
	placement = waitReplicas(t, live, coll2, 1, 2, "Active")
	createDistributed(t, live[0], only, len(live), 1, 1)
	onlyPlacement := waitReplicas(t, live, only, len(live), 1, "Active")
	preload(t, live[0], coll2, points)
	leader = leaderOf(t, live[0])
	var keep *clustertest.Peer
	src, tgt = nil, nil
	for _, p := range live {
		id := ids[p.Index]
		if _, ok := placement[0][id]; !ok {
			tgt = p
		} else if src == nil && id != leader {
			src = p
		} else {
			keep = p
		}
	}
	from, to = ids[src.Index], ids[tgt.Index]
	onlyOnSource := false
	for _, r := range onlyPlacement {
		if _, ok := r[from]; ok && len(r) == 1 {
			onlyOnSource = true
		}
	}
	t.Logf("%s on %v; replicating from %d to %d, then removing %d (holds the only replica of a shard of %s: %v)", coll2, placement[0], from, to, from, only, onlyOnSource)
	status, body = apiError(t, removePeer(keep, from, false))
	if want := fmt.Sprintf("Cannot remove peer %d as there are shards on it", from); status != http.StatusBadRequest || !strings.Contains(body, want) {
		t.Fatalf("remove the source without force: %d %s, want 400 %q", status, body, want)
	}

	slowUpdates(tgt, 60*time.Millisecond)
	defer slowUpdates(tgt, 0)
	rec, stop = startWriters(t, []*clustertest.Peer{keep, tgt}, coll2)
	if err := opOn(keep, coll2, map[string]any{"replicate_shard": map[string]any{
		"shard_id": 0, "from_peer_id": from, "to_peer_id": to, "method": "stream_records"}}); err != nil {
		t.Fatalf("replicate_shard: %v", err)
	}
	waitProgress(t, src, coll2, to)
	// The writes stop (the ones in flight answered) before the forced
	// removal: the source is the shard's medium leader for some of them,
	// and an update it sent before it was removed may still reach the
	// target after the target was recovered (a removed peer's process
	// goes on, as in Qdrant), leaving the replicas apart. Writes during
	// the transfer are what this test checks.
	stop()
	if err := removePeer(keep, from, true); err != nil {
		t.Fatalf("remove the source with force: %v", err)
	}
	live = without(live, src)
	waitPeerGone(t, live, from)
	if _, err := c.WaitLeader(live, 30*time.Second); err != nil {
		t.Fatalf("after the source's removal: %v", err)
	}
	testkit.Eventually(t, "the transfer from the removed source is gone", 20*time.Second, func() error {
		for _, p := range live {
			trs, err := transfersOf(p, coll2)
			if err != nil {
				return err
			}
			for _, tr := range trs {
				if tr.From == from {
					return fmt.Errorf("peer %d: %+v", p.Index, trs)
				}
			}
		}
		return nil
	})
	slowUpdates(tgt, 0)
	// The replicate's target, Dead, is recovered from the other replica.
	waitShard(t, live, coll2, 0, map[uint64]string{ids[keep.Index]: "Active", to: "Active"}, 60*time.Second)
	if err := src.Kill(); err != nil {
		t.Fatal(err)
	}
	checkHistory(t, keep, coll2, rec, points)
	ci, err := getClusterInfo(keep, coll2)
	if err != nil {
		t.Fatal(err)
	}
	compareAllReplicas(t, pc, coll2, ci.replicaStates())
	noFailureReports(t, live, coll2)
	// The collection that lost a shard still answers for its placement.
	ci, err = getClusterInfo(keep, only)
	if err != nil {
		t.Fatalf("cluster info of %s after its only replica's peer left: %v", only, err)
	}
	for s, r := range ci.replicaStates() {
		if _, ok := r[from]; ok {
			t.Errorf("%s: shard %d still placed on the removed peer: %v", only, s, r)
		}
	}
}

// TestTransferLimits: with the default limits (one incoming, one
// outgoing transfer per peer), a restarted peer's two Dead replicas are
// recovered one after the other, never two recoveries into it at once,
// while an operator's transfer into the same peer is not limited.
func TestTransferLimits(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	peers := c.Peers
	ids := peerIDs(t, peers)
	const coll = "xops_limits"
	createDistributed(t, peers[0], coll, 3, 2, 1)
	placement := waitReplicas(t, peers, coll, 3, 2, "Active")
	preload(t, peers[0], coll, 3000)
	// The victim holds two shards (3 shards x 2 replicas on 3 peers);
	// the third shard goes to it by an operator's transfer.
	var victim *clustertest.Peer
	var held []uint32
	var free uint32
	for _, p := range peers[1:] {
		held = nil
		for s, r := range placement {
			if _, ok := r[ids[p.Index]]; ok {
				held = append(held, s)
			} else {
				free = s
			}
		}
		if len(held) == 2 {
			victim = p
			break
		}
	}
	if victim == nil {
		t.Fatalf("no peer holds two shards: %v", placement)
	}
	x := ids[victim.Index]
	var freeFrom uint64
	for p := range placement[free] {
		freeFrom = p
	}
	live := slices.DeleteFunc(slices.Clone(peers), func(p *clustertest.Peer) bool { return p == victim })
	t.Logf("placement %v; peer %d holds shards %v, shard %d will be replicated to it from %d", placement, x, held, free, freeFrom)

	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	// Many small writes: many WAL operations for wal_delta to send.
	for i := range 300 {
		batch := make([]uint64, 5)
		for j := range batch {
			batch[j] = uint64(preloadBase + 3000 + i*5 + j)
		}
		if err := upsert(live[i%2], coll, batch, 2, ""); err != nil {
			t.Fatalf("write %d while peer %d is down: %v", i, x, err)
		}
	}
	testkit.Eventually(t, "the victim's replicas are Dead", 30*time.Second, func() error {
		ci, err := getClusterInfo(live[0], coll)
		if err != nil {
			return err
		}
		for _, s := range held {
			if st := ci.replicaStates()[s][x]; st != "Dead" {
				return fmt.Errorf("shard %d on %d: %s", s, x, st)
			}
		}
		return nil
	})
	slowUpdates(victim, 15*time.Millisecond)
	defer slowUpdates(victim, 0)
	if err := victim.Start(""); err != nil {
		t.Fatal(err)
	}

	// Sample shard_transfers until both replicas are back.
	recovered := map[uint32]bool{}
	maxRecoveries, overlap := 0, false
	operator := false
	var order []uint32
	deadline := time.Now().Add(90 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond) // the sampling period
	defer tick.Stop()
	for ; ; <-tick.C {
		trs, err := transfersOf(live[0], coll)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tr := range trs {
			if tr.To != x {
				continue
			}
			if tr.Method == "wal_delta" {
				n++
				if !slices.Contains(order, tr.ShardID) {
					order = append(order, tr.ShardID)
				}
			}
		}
		maxRecoveries = max(maxRecoveries, n)
		if n > 0 && !operator {
			// An operator's transfer into the peer while a recovery runs.
			if err := opOn(live[1], coll, map[string]any{"replicate_shard": map[string]any{
				"shard_id": free, "from_peer_id": freeFrom, "to_peer_id": x, "method": "stream_records"}}); err != nil {
				t.Fatalf("an operator's replicate_shard during a recovery: %v", err)
			}
			operator = true
		}
		if n > 0 && len(trs) > n {
			for _, tr := range trs {
				if tr.To == x && tr.Method == "stream_records" && tr.ShardID == free {
					overlap = true
				}
			}
		}
		ci, err := getClusterInfo(live[0], coll)
		if err != nil {
			t.Fatal(err)
		}
		st := ci.replicaStates()
		done := len(trs) == 0
		for _, s := range held {
			if st[s][x] == "Active" {
				recovered[s] = true
			} else {
				done = false
			}
		}
		if done && operator && st[free][x] == "Active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recovery not done: transfers %+v, states %v", trs, st)
		}
	}
	t.Logf("recoveries into peer %d in the order %v, at most %d at once; an operator's transfer overlapped one: %v", x, order, maxRecoveries, overlap)
	if maxRecoveries != 1 || len(order) != 2 {
		t.Fatalf("recoveries into peer %d: at most %d at once (want 1), shards %v (want both of %v)", x, maxRecoveries, order, held)
	}
	if !overlap {
		t.Errorf("the operator's transfer into peer %d was never seen running beside a recovery", x)
	}
	slowUpdates(victim, 0)
	states := allActive(t, peers, coll, 30*time.Second)
	if n := compareAllReplicas(t, newP2PConns(t, c), coll, states); n != 3000+1500 {
		t.Fatalf("%d points in the shards, want %d", n, 4500)
	}
}
