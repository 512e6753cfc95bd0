package cluster_test

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/testkit"
)

func pointID(n uint64) point.ID { return point.NumID(n) }

// vec is a deterministic 4-dimensional vector of a point id.
func vec(id uint64, salt uint64) []float32 {
	r := rand.New(rand.NewPCG(id, salt))
	return []float32{r.Float32() - 0.5, r.Float32() - 0.5, r.Float32() - 0.5, r.Float32() - 0.5}
}

type hit struct {
	ID    uint64  `json:"id"`
	Score float64 `json:"score"`
}

// createDistributed creates a collection of 4-dimensional Dot vectors.
func createDistributed(t *testing.T, p *clustertest.Peer, name string, shards, rf, wcf int) {
	t.Helper()
	body := map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"},
		"shard_number": shards, "replication_factor": rf, "write_consistency_factor": wcf}
	if err := p.Do(http.MethodPut, "/collections/"+name, body, nil); err != nil {
		t.Fatalf("create %s through peer %d: %v", name, p.Index, err)
	}
}

func upsert(p *clustertest.Peer, coll string, ids []uint64, salt uint64, query string) error {
	var pts []any
	for _, id := range ids {
		pts = append(pts, map[string]any{"id": id, "vector": vec(id, salt), "payload": map[string]any{"salt": salt, "via": p.Index}})
	}
	return p.Do(http.MethodPut, "/collections/"+coll+"/points?wait=true"+query, map[string]any{"points": pts}, nil)
}

func count(p *clustertest.Peer, coll string) (int, error) {
	var res struct {
		Count int `json:"count"`
	}
	err := p.Do(http.MethodPost, "/collections/"+coll+"/points/count", map[string]any{"exact": true}, &res)
	return res.Count, err
}

func scrollIDs(p *clustertest.Peer, coll string) ([]uint64, error) {
	var ids []uint64
	var offset any
	for {
		var res struct {
			Points []struct {
				ID uint64 `json:"id"`
			} `json:"points"`
			Next *uint64 `json:"next_page_offset"`
		}
		body := map[string]any{"limit": 64}
		if offset != nil {
			body["offset"] = offset
		}
		if err := p.Do(http.MethodPost, "/collections/"+coll+"/points/scroll", body, &res); err != nil {
			return nil, err
		}
		for _, pt := range res.Points {
			ids = append(ids, pt.ID)
		}
		if res.Next == nil {
			return ids, nil
		}
		offset = *res.Next
	}
}

// TestDistributedCollection: 3 peers, shard_number 3, replication_factor
// 2. Writes through each peer read back through every other; search from
// any peer equals brute force; concurrent writers with strong ordering
// leave every replica of every shard identical; after SIGKILL of a peer
// reads keep answering, wcf=1 writes keep succeeding, its replicas turn
// Dead, and strong ordering fails on the shards it leads while medium
// succeeds.
func TestDistributedCollection(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	peers := c.Peers
	ids := peerIDs(t, peers)
	createDistributed(t, peers[0], "d", 3, 2, 1)
	placement := waitReplicas(t, peers, "d", 3, 2, "Active")
	t.Logf("placement: %v (peer ids by index %v)", placement, ids)

	// Writes through each peer, read back through every other.
	const perPeer = 100
	salt := uint64(1)
	for i, p := range peers {
		var batch []uint64
		for k := range perPeer {
			batch = append(batch, uint64(i*perPeer+k+1))
		}
		if err := upsert(p, "d", batch, salt, ""); err != nil {
			t.Fatalf("upsert through peer %d: %v", i, err)
		}
	}
	all := perPeer * len(peers)
	for _, p := range peers {
		n, err := count(p, "d")
		if err != nil || n != all {
			t.Fatalf("count through peer %d = %d, %v; want %d", p.Index, n, err, all)
		}
		got, err := scrollIDs(p, "d")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != all || !slices.IsSorted(got) || got[0] != 1 || got[all-1] != uint64(all) {
			t.Fatalf("scroll through peer %d: %d ids, sorted %v", p.Index, len(got), slices.IsSorted(got))
		}
		// Retrieve the points another peer wrote.
		other := uint64((p.Index+1)%len(peers)*perPeer + 1)
		var recs []struct {
			ID      uint64         `json:"id"`
			Payload map[string]any `json:"payload"`
		}
		if err := p.Do(http.MethodPost, "/collections/d/points", map[string]any{"ids": []uint64{other, other + 1}, "with_payload": true}, &recs); err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].ID != other || int(recs[0].Payload["via"].(float64)) != (p.Index+1)%len(peers) {
			t.Fatalf("retrieve through peer %d of points written through peer %d: %+v", p.Index, (p.Index+1)%len(peers), recs)
		}
	}

	// Search from any peer equals brute force over all points.
	for q := range 5 {
		query := vec(uint64(10_000+q), 99)
		type sc struct {
			id    uint64
			score float64
		}
		var want []sc
		for id := uint64(1); id <= uint64(all); id++ {
			v := vec(id, salt)
			var s float64
			for i := range v {
				s += float64(v[i]) * float64(query[i])
			}
			want = append(want, sc{id, s})
		}
		slices.SortFunc(want, func(a, b sc) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		for _, p := range peers {
			var hits []hit
			if err := p.Do(http.MethodPost, "/collections/d/points/search", map[string]any{"vector": query, "limit": 10}, &hits); err != nil {
				t.Fatal(err)
			}
			if len(hits) != 10 {
				t.Fatalf("peer %d: %d hits", p.Index, len(hits))
			}
			for i, h := range hits {
				if h.ID != want[i].id || math.Abs(h.Score-want[i].score) > 1e-4 {
					t.Fatalf("query %d through peer %d: hit %d = %+v, brute force %+v", q, p.Index, i, h, want[i])
				}
			}
		}
	}

	// Concurrent writers on all peers overwrite the same ids with strong
	// ordering: every replica of every shard ends identical.
	var wg sync.WaitGroup
	errs := make(chan error, len(peers))
	for i, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for round := range 40 {
				batch := []uint64{uint64(r.IntN(30) + 1), uint64(r.IntN(30) + 1)}
				if batch[0] == batch[1] {
					batch = batch[:1]
				}
				if err := upsert(p, "d", batch, uint64(100+i*1000+round), "&ordering=strong"); err != nil {
					errs <- fmt.Errorf("writer %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	pc := newP2PConns(t, c)
	if n := compareAllReplicas(t, pc, "d", placement); n != all {
		t.Fatalf("replicas hold %d points in all, want %d", n, all)
	}

	// SIGKILL the peer with the highest id: the strong-ordering leader of
	// every shard it holds a replica of.
	vi := 0
	for i := range peers {
		if ids[i] > ids[vi] {
			vi = i
		}
	}
	victim, victimID := peers[vi], ids[vi]
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	var alive []*clustertest.Peer
	for i, p := range peers {
		if i != vi {
			alive = append(alive, p)
		}
	}
	for _, p := range alive {
		if n, err := count(p, "d"); err != nil || n != all {
			t.Fatalf("count through peer %d with peer %d down = %d, %v", p.Index, victim.Index, n, err)
		}
	}
	// wcf=1 writes keep succeeding (one point per shard, so every shard
	// with a replica on the victim notices it).
	perShard := map[uint32]uint64{}
	for id := uint64(1); len(perShard) < 3; id++ {
		if _, ok := perShard[shardOf(3, id)]; !ok {
			perShard[shardOf(3, id)] = id
		}
	}
	for _, id := range perShard {
		if err := upsert(alive[0], "d", []uint64{id}, 5, ""); err != nil {
			t.Fatalf("wcf=1 write of %d with a peer down: %v", id, err)
		}
	}
	testkit.Eventually(t, "the killed peer's replicas are Dead", 30*time.Second, func() error {
		ci, err := getClusterInfo(alive[0], "d")
		if err != nil {
			return err
		}
		for s, r := range ci.replicaStates() {
			if st, ok := r[victimID]; ok && st != "Dead" {
				return fmt.Errorf("shard %d: replica on %d is %s", s, victimID, st)
			}
		}
		return nil
	})
	// Strong ordering on a shard whose highest replica peer is the victim
	// fails; medium succeeds through the highest alive replica.
	led := 0
	for s, r := range placement {
		if highestPeer(r) != victimID {
			continue
		}
		led++
		id := perShard[s]
		err := upsert(alive[0], "d", []uint64{id}, 6, "&ordering=strong")
		var apiErr *clustertest.APIError
		if !errors.As(err, &apiErr) || apiErr.Status < 500 {
			t.Errorf("strong write to shard %d led by the dead peer %d: %v, want a 5xx", s, victimID, err)
		}
		if err := upsert(alive[0], "d", []uint64{id}, 7, "&ordering=medium"); err != nil {
			t.Errorf("medium write to shard %d with its strong leader down: %v", s, err)
		}
	}
	if led != 2 {
		t.Fatalf("the killed peer led %d shards, want the 2 it holds", led)
	}
	for _, p := range alive {
		var hits []hit
		if err := p.Do(http.MethodPost, "/collections/d/points/search", map[string]any{"vector": []float32{1, 0, 0, 0}, "limit": 3}, &hits); err != nil || len(hits) != 3 {
			t.Fatalf("search through peer %d with a peer down: %v %v", p.Index, hits, err)
		}
	}
}
