package cluster_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/clustertest/history"
	"github.com/shoaldb/shoal/internal/testkit"
)

// Shard transfers between real processes, under concurrent writes
// recorded by history clients: every acknowledged write survives, every
// replica holds the same points, vectors and payloads afterwards, and the
// points loaded before are all there.

// preloadBase is the first id of the points loaded before the transfers;
// the history clients write ids below it.
const preloadBase = 100000

// preload upserts n points with ids from preloadBase, in batches.
func preload(t *testing.T, p *clustertest.Peer, coll string, n int) {
	t.Helper()
	for from := 0; from < n; from += 500 {
		var ids []uint64
		for i := from; i < min(from+500, n); i++ {
			ids = append(ids, uint64(preloadBase+i))
		}
		if err := upsert(p, coll, ids, 1, ""); err != nil {
			t.Fatalf("preload %s: %v", coll, err)
		}
	}
}

// clusterOp posts one operation to POST /collections/{c}/cluster.
func clusterOp(p *clustertest.Peer, coll string, op map[string]any) error {
	var ok bool
	return p.Do(http.MethodPost, "/collections/"+coll+"/cluster", op, &ok)
}

// waitShard waits until no transfer of coll runs and shard s has exactly
// the replicas want (peer -> state), as every peer of peers sees it. It
// returns a comment a source reported meanwhile ("" none seen).
func waitShard(t *testing.T, peers []*clustertest.Peer, coll string, s uint32, want map[uint64]string, timeout time.Duration) string {
	t.Helper()
	comment := ""
	testkit.Eventually(t, fmt.Sprintf("shard %d of %s is %v, no transfer", s, coll, want), timeout, func() error {
		for _, p := range peers {
			var ci struct {
				ShardTransfers []struct {
					Comment string `json:"comment"`
				} `json:"shard_transfers"`
			}
			if err := p.Do(http.MethodGet, "/collections/"+coll+"/cluster", nil, &ci); err != nil {
				return err
			}
			for _, tr := range ci.ShardTransfers {
				if tr.Comment != "" {
					comment = tr.Comment
				}
			}
			if len(ci.ShardTransfers) > 0 {
				return fmt.Errorf("peer %d: %d transfers running", p.Index, len(ci.ShardTransfers))
			}
			info, err := getClusterInfo(p, coll)
			if err != nil {
				return err
			}
			got := info.replicaStates()[s]
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("peer %d sees %v", p.Index, got)
			}
		}
		return nil
	})
	return comment
}

// writers runs a history client per peer, medium ordering, on keys
// [1, 48], until stop; it returns a wait for them.
func writers(t *testing.T, peers []*clustertest.Peer, coll string, rec *history.Recorder, seed uint64, ctx context.Context) func() {
	var wg sync.WaitGroup
	for i, p := range peers {
		cl := &history.Client{Rec: rec, BaseURL: p.BaseURL(), Peer: fmt.Sprintf("peer-%d", i),
			Collection: coll, Ordering: "medium", Timeout: 10 * time.Second, Dim: 4}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			for ctx.Err() == nil {
				key := uint64(r.IntN(48) + 1)
				var op history.Op
				if r.IntN(6) == 0 {
					op = cl.Delete(context.Background(), key)
				} else {
					op = cl.Upsert(context.Background(), key)
				}
				if strings.HasPrefix(op.Detail, "connection refused") {
					return
				}
			}
		}()
	}
	return wg.Wait
}

// checkHistory checks the final state read through p against the
// history (the preloaded points apart: they must all be there).
func checkHistory(t *testing.T, p *clustertest.Peer, coll string, rec *history.Recorder, preloaded int) {
	t.Helper()
	final, err := history.ReadFinal(context.Background(), &http.Client{Timeout: 30 * time.Second}, p.BaseURL(), coll, history.ScrollOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for id := range final {
		if id >= preloadBase {
			delete(final, id)
			n++
		}
	}
	if n != preloaded {
		t.Errorf("%d preloaded points read, want %d", n, preloaded)
	}
	rep := history.Check(rec.History(), final)
	t.Logf("%s: %s", coll, rep.String())
	if !rep.OK() {
		t.Errorf("%s: %s", coll, rep)
	}
	if rep.Acknowledged == 0 {
		t.Errorf("%s: no write was acknowledged", coll)
	}
}

// TestShardTransferMethods replicates and then moves a shard with each
// method while clients write, and checks the history and the replicas.
func TestShardTransferMethods(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	peers := c.Peers
	ids := peerIDs(t, peers)
	pc := newP2PConns(t, c)
	const points = 3000
	for _, method := range []string{"stream_records", "wal_delta", "snapshot"} {
		t.Run(method, func(t *testing.T) {
			coll := "xfer_" + method
			createDistributed(t, peers[0], coll, 2, 1, 1)
			placement := waitReplicas(t, peers, coll, 2, 1, "Active")
			preload(t, peers[0], coll, points)
			var src uint64
			for p := range placement[0] {
				src = p
			}
			var others []uint64
			for _, id := range ids {
				if id != src {
					others = append(others, id)
				}
			}
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d, shard 0 on peer %d", seed, src)
			rec := history.NewRecorder()
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			wait := writers(t, peers, coll, rec, seed, ctx)
			testkit.Eventually(t, "writes under way", 10*time.Second, func() error {
				if n := len(rec.History()); n < 50 {
					return fmt.Errorf("%d writes", n)
				}
				return nil
			})

			start := time.Now()
			if err := clusterOp(peers[0], coll, map[string]any{"replicate_shard": map[string]any{
				"shard_id": 0, "from_peer_id": src, "to_peer_id": others[0], "method": method}}); err != nil {
				t.Fatalf("replicate_shard: %v", err)
			}
			comment := waitShard(t, peers, coll, 0, map[uint64]string{src: "Active", others[0]: "Active"}, 60*time.Second)
			t.Logf("replicate_shard (%s): %s; a comment seen: %q", method, time.Since(start).Round(time.Millisecond), comment)

			start = time.Now()
			if err := clusterOp(peers[1], coll, map[string]any{"move_shard": map[string]any{
				"shard_id": 0, "from_peer_id": src, "to_peer_id": others[1], "method": method}}); err != nil {
				t.Fatalf("move_shard: %v", err)
			}
			waitShard(t, peers, coll, 0, map[uint64]string{others[0]: "Active", others[1]: "Active"}, 60*time.Second)
			t.Logf("move_shard (%s): %s", method, time.Since(start).Round(time.Millisecond))

			stop()
			wait()
			checkHistory(t, peers[0], coll, rec, points)
			ci, err := getClusterInfo(peers[0], coll)
			if err != nil {
				t.Fatal(err)
			}
			compareAllReplicas(t, pc, coll, ci.replicaStates())
			if method == "snapshot" {
				// Both transfers ran as snapshot transfers, not the
				// stream_records fallback.
				if n := countLogLines(t, peers, "shard snapshot recovered on the target", "collection="+coll); n != 2 {
					t.Errorf("%d sources logged a snapshot recovered on the target, want 2", n)
				}
				if n := countLogLines(t, peers, "shard replaced by a snapshot received from a transfer", "collection="+coll); n != 2 {
					t.Errorf("%d targets logged a replica replaced by a snapshot, want 2", n)
				}
				if n := countLogLines(t, peers, "runs as stream_records", "collection="+coll); n != 0 {
					t.Errorf("%d snapshot transfers fell back to stream_records", n)
				}
			}
		})
	}
}

// countLogLines counts the lines of the peers' logs that hold every one
// of parts.
func countLogLines(t *testing.T, peers []*clustertest.Peer, parts ...string) int {
	t.Helper()
	n := 0
	for _, p := range peers {
		b, err := os.ReadFile(p.LogPath)
		if err != nil {
			t.Fatal(err)
		}
	lines:
		for _, line := range strings.Split(string(b), "\n") {
			for _, part := range parts {
				if !strings.Contains(line, part) {
					continue lines
				}
			}
			n++
		}
	}
	return n
}
