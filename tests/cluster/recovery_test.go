package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
	"github.com/shoaldb/shoal/internal/testkit"
)

// Automatic recovery and transfers interrupted by SIGKILL, between real
// processes.

// allActive waits until every replica of coll is Active, as every peer of
// peers sees it, with no transfer running.
func allActive(t *testing.T, peers []*clustertest.Peer, coll string, timeout time.Duration) map[uint32]map[uint64]string {
	t.Helper()
	var states map[uint32]map[uint64]string
	testkit.Eventually(t, coll+": every replica Active, no transfer", timeout, func() error {
		for _, p := range peers {
			ci, err := getClusterInfo(p, coll)
			if err != nil {
				return err
			}
			if len(ci.ShardTransfers) > 0 {
				return fmt.Errorf("peer %d: %d transfers", p.Index, len(ci.ShardTransfers))
			}
			states = ci.replicaStates()
			for s, r := range states {
				for peer, st := range r {
					if st != "Active" {
						return fmt.Errorf("peer %d sees shard %d on %d %s", p.Index, s, peer, st)
					}
				}
			}
		}
		return nil
	})
	return states
}

// TestRestartedPeerHeals: a peer is killed, misses 10k writes, is
// restarted, and its replicas (Dead meanwhile) come back Active by
// themselves, holding what the others hold. The time from the restart to
// Active is logged for the closing note.
func TestRestartedPeerHeals(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	peers := c.Peers
	ids := peerIDs(t, peers)
	const coll = "heal"
	createDistributed(t, peers[0], coll, 2, 3, 1)
	waitReplicas(t, peers, coll, 2, 3, "Active")
	preload(t, peers[0], coll, 2000)

	victim := peers[2]
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	const missed = 10000
	for from := 0; from < missed; from += 500 {
		var batch []uint64
		for i := from; i < from+500; i++ {
			batch = append(batch, uint64(preloadBase+2000+i))
		}
		// Through both live peers; the first writes report the dead
		// replicas.
		if err := upsert(peers[from/500%2], coll, batch, 2, ""); err != nil {
			t.Fatalf("write %d while peer 2 is down: %v", from, err)
		}
	}
	testkit.Eventually(t, "the killed peer's replicas are Dead", 30*time.Second, func() error {
		ci, err := getClusterInfo(peers[0], coll)
		if err != nil {
			return err
		}
		for s, r := range ci.replicaStates() {
			if r[ids[2]] != "Dead" {
				return fmt.Errorf("shard %d: %v", s, r)
			}
		}
		return nil
	})
	restarted := time.Now()
	if err := victim.Start(""); err != nil {
		t.Fatal(err)
	}
	states := allActive(t, peers, coll, 90*time.Second)
	t.Logf("a peer that missed %d writes was Active again %s after its restart (2 shards, 3 replicas each)", missed, time.Since(restarted).Round(time.Millisecond))
	pc := newP2PConns(t, c)
	if n := compareAllReplicas(t, pc, coll, states); n != 2000+missed {
		t.Fatalf("%d points in the shards, want %d", n, 2000+missed)
	}
}

// TestTransferKilled: SIGKILL of the target, then of the source, in the
// middle of a replicate_shard under recorded writes ends in an abort (or
// a retry) and loses no acknowledged write; once the killed peer is back,
// every replica is Active again and they agree.
func TestTransferKilled(t *testing.T) {
	for _, tc := range []struct{ name, method, who string }{
		{"target", "stream_records", "target"},
		{"source", "stream_records", "source"},
		{"snapshot_target", "snapshot", "target"},
		{"snapshot_source", "snapshot", "source"},
	} {
		who := tc.who
		t.Run(tc.name, func(t *testing.T) {
			c := clustertest.Start(t, 3, clustertest.Options{})
			peers := c.Peers
			ids := peerIDs(t, peers)
			const coll = "killed"
			createDistributed(t, peers[0], coll, 1, 2, 1)
			placement := waitReplicas(t, peers, coll, 1, 2, "Active")
			preload(t, peers[0], coll, 20000)
			var target int
			var source uint64
			for i, id := range ids {
				if _, ok := placement[0][id]; !ok {
					target = i
				} else {
					source = id
				}
			}
			srcIdx := 0
			for i, id := range ids {
				if id == source {
					srcIdx = i
				}
			}
			victim := peers[target]
			if who == "source" {
				victim = peers[srcIdx]
			}
			var writersOn []*clustertest.Peer
			for _, p := range peers {
				if p != victim {
					writersOn = append(writersOn, p)
				}
			}
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d; shard 0 on %v, replicated from %d to %d; killing the %s", seed, placement[0], source, ids[target], who)
			rec := history.NewRecorder()
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			wait := writers(t, writersOn, coll, rec, seed, ctx)
			if err := clusterOp(peers[0], coll, map[string]any{"replicate_shard": map[string]any{
				"shard_id": 0, "from_peer_id": source, "to_peer_id": ids[target], "method": tc.method}}); err != nil {
				t.Fatalf("replicate_shard: %v", err)
			}
			// Kill once the transfer runs; a snapshot transfer once the
			// source has taken its snapshot (its comment names the
			// method): the archive is then on its way, being restored,
			// or followed by the queued updates.
			testkit.Eventually(t, "the transfer runs", 20*time.Second, func() error {
				ci, err := getClusterInfo(peers[srcIdx], coll)
				if err != nil {
					return err
				}
				if len(ci.ShardTransfers) == 0 {
					return fmt.Errorf("no transfer yet")
				}
				if tc.method == "snapshot" && !strings.Contains(string(ci.ShardTransfers[0]), "(snapshot)") {
					return fmt.Errorf("the snapshot is not taken yet: %s", ci.ShardTransfers[0])
				}
				return nil
			})
			if err := victim.Kill(); err != nil {
				t.Fatal(err)
			}
			var live []*clustertest.Peer
			for _, p := range peers {
				if p != victim {
					live = append(live, p)
				}
			}
			testkit.Eventually(t, "the transfer ends", 60*time.Second, func() error {
				for _, p := range live {
					ci, err := getClusterInfo(p, coll)
					if err != nil {
						return err
					}
					if len(ci.ShardTransfers) > 0 {
						return fmt.Errorf("peer %d: a transfer still runs", p.Index)
					}
				}
				return nil
			})
			stop()
			wait()
			if err := victim.Start(""); err != nil {
				t.Fatal(err)
			}
			states := allActive(t, peers, coll, 90*time.Second)
			checkHistory(t, peers[0], coll, rec, 20000)
			compareAllReplicas(t, newP2PConns(t, c), coll, states)
			// The killed peer's temporary files of a snapshot transfer
			// are gone once it is back.
			entries, err := os.ReadDir(filepath.Join(victim.Dir, "storage", "collections", coll))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".snapshot-transfer-") {
					t.Errorf("the restarted %s keeps %s", who, e.Name())
				}
			}
		})
	}
}
