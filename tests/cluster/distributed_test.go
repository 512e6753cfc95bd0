package cluster_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// collectionCluster is the part of GET /collections/{c}/cluster the tests
// read (Qdrant's CollectionClusterInfo).
type collectionCluster struct {
	PeerID      uint64 `json:"peer_id"`
	ShardCount  int    `json:"shard_count"`
	LocalShards []struct {
		ShardID     uint32 `json:"shard_id"`
		PointsCount int    `json:"points_count"`
		State       string `json:"state"`
	} `json:"local_shards"`
	RemoteShards []struct {
		ShardID uint32 `json:"shard_id"`
		PeerID  uint64 `json:"peer_id"`
		State   string `json:"state"`
	} `json:"remote_shards"`
}

// replicaStates reads a peer's view of a collection's replicas: shard ->
// peer -> state.
func replicaStates(p *clustertest.Peer, name string) (map[uint32]map[uint64]string, collectionCluster, error) {
	var cc collectionCluster
	if err := p.Do(http.MethodGet, "/collections/"+name+"/cluster", nil, &cc); err != nil {
		return nil, cc, err
	}
	out := map[uint32]map[uint64]string{}
	add := func(shard uint32, peer uint64, state string) {
		if out[shard] == nil {
			out[shard] = map[uint64]string{}
		}
		out[shard][peer] = state
	}
	for _, s := range cc.LocalShards {
		add(s.ShardID, cc.PeerID, s.State)
	}
	for _, s := range cc.RemoteShards {
		add(s.ShardID, s.PeerID, s.State)
	}
	return out, cc, nil
}

func peerID(t *testing.T, p *clustertest.Peer) uint64 {
	t.Helper()
	st, err := p.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	return st.PeerID
}

func upsertBody(from, to int) map[string]any {
	var pts []map[string]any
	for i := from; i < to; i++ {
		pts = append(pts, map[string]any{"id": i, "vector": []float32{float32(i), 1, 0, 0}, "payload": map[string]any{"n": i}})
	}
	return map[string]any{"points": pts}
}

// readsAll checks that a peer reads exactly the points 0..n-1 of a
// collection: by count, by retrieve, by scroll, and in its info.
func readsAll(p *clustertest.Peer, name string, n int) error {
	var cnt struct {
		Count int `json:"count"`
	}
	if err := p.Do(http.MethodPost, "/collections/"+name+"/points/count", map[string]any{"exact": true}, &cnt); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	if cnt.Count != n {
		return fmt.Errorf("count %d, want %d", cnt.Count, n)
	}
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	var recs []struct {
		ID      int            `json:"id"`
		Payload map[string]int `json:"payload"`
	}
	if err := p.Do(http.MethodPost, "/collections/"+name+"/points", map[string]any{"ids": ids, "with_payload": true}, &recs); err != nil {
		return fmt.Errorf("retrieve: %w", err)
	}
	if len(recs) != n {
		return fmt.Errorf("retrieve: %d points, want %d", len(recs), n)
	}
	for _, r := range recs {
		if r.Payload["n"] != r.ID {
			return fmt.Errorf("retrieve: point %d has payload %v", r.ID, r.Payload)
		}
	}
	var page struct {
		Points []struct {
			ID int `json:"id"`
		} `json:"points"`
		Next *int `json:"next_page_offset"`
	}
	var got []int
	body := map[string]any{"limit": 70}
	for {
		if err := p.Do(http.MethodPost, "/collections/"+name+"/points/scroll", body, &page); err != nil {
			return fmt.Errorf("scroll: %w", err)
		}
		for _, pt := range page.Points {
			got = append(got, pt.ID)
		}
		if page.Next == nil {
			break
		}
		body["offset"] = *page.Next
	}
	if !slices.Equal(got, ids) {
		return fmt.Errorf("scroll: %d ids (sorted %v), want 0..%d in order", len(got), slices.IsSorted(got), n-1)
	}
	var info struct {
		PointsCount int `json:"points_count"`
	}
	if err := p.Do(http.MethodGet, "/collections/"+name, nil, &info); err != nil {
		return fmt.Errorf("info: %w", err)
	}
	if info.PointsCount != n {
		return fmt.Errorf("info: points_count %d, want %d", info.PointsCount, n)
	}
	return nil
}

// TestDistributedReplicas: 3 peers, a collection of 3 shards with 2
// replicas each created through peer 0: every replica turns Active on
// every peer's view; 300 points written through peer 1 are read back
// through peers 0 and 2 (count, retrieve, scroll, info). A peer killed
// with SIGKILL: reads through the others keep answering, writes (write
// consistency factor 1) succeed, and its replicas turn Dead; restarted,
// its replicas are recovered by themselves and it reads every point.
func TestDistributedReplicas(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	p0, p1, p2 := c.Peers[0], c.Peers[1], c.Peers[2]
	ids := map[*clustertest.Peer]uint64{}
	for _, p := range c.Peers {
		ids[p] = peerID(t, p)
	}
	create := map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}, "shard_number": 3, "replication_factor": 2}
	if err := p0.Do(http.MethodPut, "/collections/dist", create, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "every replica Active on every peer", 30*time.Second, func() error {
		for _, p := range c.Peers {
			states, cc, err := replicaStates(p, "dist")
			if err != nil {
				return fmt.Errorf("peer %d: %w", p.Index, err)
			}
			if cc.ShardCount != 3 || len(states) != 3 {
				return fmt.Errorf("peer %d: shard_count %d, %d shards", p.Index, cc.ShardCount, len(states))
			}
			for s, r := range states {
				if len(r) != 2 {
					return fmt.Errorf("peer %d: shard %d has replicas %v", p.Index, s, r)
				}
				for peer, st := range r {
					if st != "Active" {
						return fmt.Errorf("peer %d: shard %d on peer %d is %s", p.Index, s, peer, st)
					}
				}
			}
		}
		return nil
	})
	for i := 0; i < 300; i += 100 {
		if err := p1.Do(http.MethodPut, "/collections/dist/points?wait=true", upsertBody(i, i+100), nil); err != nil {
			t.Fatalf("upsert through peer 1: %v", err)
		}
	}
	for _, p := range []*clustertest.Peer{p0, p2} {
		if err := readsAll(p, "dist", 300); err != nil {
			t.Fatalf("peer %d: %v", p.Index, err)
		}
	}
	// Each peer holds the points of its own shards only.
	_, cc, err := replicaStates(p2, "dist")
	if err != nil {
		t.Fatal(err)
	}
	local := 0
	for _, s := range cc.LocalShards {
		local += s.PointsCount
	}
	if len(cc.LocalShards) != 2 || local >= 300 {
		t.Fatalf("peer 2 holds %d local shards with %d points; want 2 shards, fewer than all 300 points", len(cc.LocalShards), local)
	}

	killed := ids[p2]
	if err := p2.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*clustertest.Peer{p0, p1} {
		if err := readsAll(p, "dist", 300); err != nil {
			t.Fatalf("peer %d, with peer 2 killed: %v", p.Index, err)
		}
	}
	if err := p0.Do(http.MethodPut, "/collections/dist/points?wait=true", upsertBody(300, 350), nil); err != nil {
		t.Fatalf("upsert with peer 2 killed: %v", err)
	}
	testkit.Eventually(t, "the killed peer's replicas Dead", 30*time.Second, func() error {
		for _, p := range []*clustertest.Peer{p0, p1} {
			states, _, err := replicaStates(p, "dist")
			if err != nil {
				return err
			}
			for s, r := range states {
				if st, ok := r[killed]; ok && st != "Dead" {
					return fmt.Errorf("peer %d sees shard %d of the killed peer %s", p.Index, s, st)
				}
			}
		}
		return nil
	})
	for _, p := range []*clustertest.Peer{p0, p1} {
		if err := readsAll(p, "dist", 350); err != nil {
			t.Fatalf("peer %d after the write: %v", p.Index, err)
		}
	}

	if err := p2.Start(""); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(p2, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// Its replicas, Dead meanwhile, are recovered by themselves (automatic
	// recovery) and it reads every point, the ones written while it was
	// down included.
	testkit.Eventually(t, "the restarted peer's replicas Active again, reading every point", 30*time.Second, func() error {
		states, _, err := replicaStates(p2, "dist")
		if err != nil {
			return err
		}
		for s, r := range states {
			if st := r[killed]; st != "" && st != "Active" {
				return fmt.Errorf("the restarted peer's replica of shard %d is %s", s, st)
			}
		}
		return readsAll(p2, "dist", 350)
	})
}

// TestListenerNode: a peer started with storage.node_type Listener holds
// Listener replicas: they take the updates (the listener's shard holds
// every point) and serve no reads (with the other peers killed, a read
// through the listener finds no readable replica, though its own shard
// holds the points).
func TestListenerNode(t *testing.T) {
	c := clustertest.New(t, 3, clustertest.Options{})
	c.Peers[2].Env["QDRANT__STORAGE__NODE_TYPE"] = "Listener"
	for i, p := range c.Peers {
		boot := ""
		if i > 0 {
			boot = c.Peers[0].URI()
		}
		if err := p.Start(boot); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReady(p, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	p0, listener := c.Peers[0], c.Peers[2]
	lid := peerID(t, listener)
	create := map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}, "shard_number": 1, "replication_factor": 3}
	if err := p0.Do(http.MethodPut, "/collections/lst", create, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "replicas activated on every peer", 30*time.Second, func() error {
		for _, p := range c.Peers {
			states, _, err := replicaStates(p, "lst")
			if err != nil {
				return err
			}
			if len(states[0]) != 3 {
				return fmt.Errorf("peer %d: replicas %v", p.Index, states)
			}
			for peer, st := range states[0] {
				want := "Active"
				if peer == lid {
					want = "Listener"
				}
				if st != want {
					return fmt.Errorf("peer %d sees peer %d's replica %s, want %s", p.Index, peer, st, want)
				}
			}
		}
		return nil
	})
	if err := p0.Do(http.MethodPut, "/collections/lst/points?wait=true", upsertBody(0, 20), nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the listener's shard takes the points", 30*time.Second, func() error {
		_, cc, err := replicaStates(listener, "lst")
		if err != nil {
			return err
		}
		if len(cc.LocalShards) != 1 || cc.LocalShards[0].PointsCount != 20 || cc.LocalShards[0].State != "Listener" {
			return fmt.Errorf("the listener's local shards: %+v", cc.LocalShards)
		}
		return nil
	})
	if err := readsAll(listener, "lst", 20); err != nil {
		t.Fatalf("reads through the listener (served by the others): %v", err)
	}
	for _, p := range c.Peers[:2] {
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	var cnt struct {
		Count int `json:"count"`
	}
	err := listener.Do(http.MethodPost, "/collections/lst/points/count", map[string]any{"exact": true}, &cnt)
	if err == nil {
		t.Fatalf("the listener answered a read alone: count %d", cnt.Count)
	}
}

// TestDeleteWhileDown: a collection deleted while a peer was down is gone
// from that peer, files included, once it is back (the log it replays, or
// the snapshot it receives, deletes it).
func TestDeleteWhileDown(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{Env: map[string]string{"QDRANT__CLUSTER__CONSENSUS__COMPACT_WAL_ENTRIES": "5"}})
	p0, p2 := c.Peers[0], c.Peers[2]
	create := map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}, "shard_number": 3, "replication_factor": 2}
	for _, name := range []string{"gone", "kept"} {
		if err := p0.Do(http.MethodPut, "/collections/"+name, create, nil); err != nil {
			t.Fatal(err)
		}
	}
	sameCollections(t, c.Peers, "gone", "kept")
	if err := p2.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := p0.Do(http.MethodDelete, "/collections/gone", nil, nil); err != nil {
		t.Fatal(err)
	}
	// Enough operations after the delete to compact the log past it.
	for i := range 6 {
		if err := p0.Do(http.MethodPut, fmt.Sprintf("/cluster/metadata/keys/k%d", i), map[string]any{"v": i}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p2.Start(""); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(p2, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	sameCollections(t, c.Peers, "kept")
	if _, err := os.Stat(filepath.Join(p2.Dir, "storage", "collections", "gone")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the deleted collection's directory on the restarted peer: %v", err)
	}
}
