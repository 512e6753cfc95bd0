package cluster_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// keyedClusterInfo is GET /collections/{c}/cluster as a peer answers it.
type keyedClusterInfo struct {
	PeerID      uint64 `json:"peer_id"`
	ShardCount  int    `json:"shard_count"`
	LocalShards []struct {
		ShardID  uint32          `json:"shard_id"`
		ShardKey json.RawMessage `json:"shard_key"`
		State    string          `json:"state"`
	} `json:"local_shards"`
	RemoteShards []struct {
		ShardID  uint32          `json:"shard_id"`
		ShardKey json.RawMessage `json:"shard_key"`
		PeerID   uint64          `json:"peer_id"`
		State    string          `json:"state"`
	} `json:"remote_shards"`
}

// shardKeyPlacement reads where each key's replicas are, as p sees it:
// key -> "peer:state" of every replica.
func shardKeyPlacement(p *clustertest.Peer, coll string) (map[string][]string, error) {
	var ci keyedClusterInfo
	if err := p.Do(http.MethodGet, "/collections/"+coll+"/cluster", nil, &ci); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, l := range ci.LocalShards {
		out[string(l.ShardKey)] = append(out[string(l.ShardKey)], fmt.Sprintf("%d:%s", ci.PeerID, l.State))
	}
	for _, r := range ci.RemoteShards {
		out[string(r.ShardKey)] = append(out[string(r.ShardKey)], fmt.Sprintf("%d:%s", r.PeerID, r.State))
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out, nil
}

// countOn counts the points of coll through p, under a shard key (nil:
// all).
func countOn(p *clustertest.Peer, coll string, key any) (int, error) {
	body := map[string]any{"exact": true}
	if key != nil {
		body["shard_key"] = key
	}
	var res struct {
		Count int `json:"count"`
	}
	err := p.Do(http.MethodPost, "/collections/"+coll+"/points/count", body, &res)
	return res.Count, err
}

// scrollOn lists the ids of coll's points through p, under a shard key
// (nil: all).
func scrollOn(p *clustertest.Peer, coll string, key any) ([]string, error) {
	body := map[string]any{"limit": 1000, "with_payload": false}
	if key != nil {
		body["shard_key"] = key
	}
	var res struct {
		Points []struct {
			ID json.RawMessage `json:"id"`
		} `json:"points"`
	}
	if err := p.Do(http.MethodPost, "/collections/"+coll+"/points/scroll", body, &res); err != nil {
		return nil, err
	}
	var out []string
	for _, pt := range res.Points {
		out = append(out, string(pt.ID))
	}
	return out, nil
}

func idRange(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	slices.Sort(out)
	return out
}

// TestClusterShardKeys: custom sharding on three peers. A key created
// with its placement on one peer has its one replica there, Active, as
// every peer's GET /collections/{c}/cluster shows; points upserted under
// it through another peer are found under it, and without a key, through
// every peer (scroll and count); a second key on a third peer keeps its
// own points; every peer lists both keys; dropping one through a third
// peer removes its points from every peer's answers.
func TestClusterShardKeys(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	leaderPeer(t, c, c.Peers)
	a, b, d := c.Peers[0], c.Peers[1], c.Peers[2]
	ids := make([]uint64, len(c.Peers))
	for i, p := range c.Peers {
		st, err := p.Cluster()
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = st.PeerID
	}
	if err := b.Do(http.MethodPut, "/collections/sk", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}, "sharding_method": "custom"}, nil); err != nil {
		t.Fatal(err)
	}
	sameCollections(t, c.Peers, "sk")
	if err := b.Do(http.MethodPut, "/collections/sk/shards?timeout=20", map[string]any{"shard_key": "eu", "placement": []uint64{ids[0]}}, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{`"eu"`: {fmt.Sprintf("%d:Active", ids[0])}}
	testkit.Eventually(t, "key eu placed on peer 0 only, Active, seen by every peer", 30*time.Second, func() error {
		for _, p := range c.Peers {
			got, err := shardKeyPlacement(p, "sk")
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("peer %d: %v (%v), want %v", p.Index, got, err, want)
			}
		}
		return nil
	})

	var pts []any
	for i := 1; i <= 30; i++ {
		pts = append(pts, map[string]any{"id": i, "vector": []float32{1, float32(i)}})
	}
	if err := b.Do(http.MethodPut, "/collections/sk/points?wait=true", map[string]any{"points": pts, "shard_key": "eu"}, nil); err != nil {
		t.Fatalf("upsert under eu through peer 1: %v", err)
	}
	check := func(what string, key any, wantIDs []string) {
		t.Helper()
		wantIDs = slices.Sorted(slices.Values(wantIDs))
		testkit.Eventually(t, what, 20*time.Second, func() error {
			for _, p := range c.Peers {
				got, err := scrollOn(p, "sk", key)
				if err != nil {
					return fmt.Errorf("peer %d: scroll: %v", p.Index, err)
				}
				slices.Sort(got)
				if !slices.Equal(got, wantIDs) {
					return fmt.Errorf("peer %d: scroll under %v: %d points %v, want %d", p.Index, key, len(got), got, len(wantIDs))
				}
				n, err := countOn(p, "sk", key)
				if err != nil || n != len(wantIDs) {
					return fmt.Errorf("peer %d: count under %v: %d (%v), want %d", p.Index, key, n, err, len(wantIDs))
				}
			}
			return nil
		})
	}
	check("the points under eu through every peer", "eu", idRange(1, 30))
	check("the points without a key through every peer", nil, idRange(1, 30))

	if err := a.Do(http.MethodPut, "/collections/sk/shards?timeout=20", map[string]any{"shard_key": 9, "placement": []uint64{ids[2]}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Do(http.MethodPut, "/collections/sk/points?wait=true", map[string]any{"shard_key": 9, "points": []any{
		map[string]any{"id": 100, "vector": []float32{1, 1}}, map[string]any{"id": 101, "vector": []float32{1, 2}}}}, nil); err != nil {
		t.Fatalf("upsert under 9 through peer 0: %v", err)
	}
	check("the points under 9 through every peer", 9, []string{"100", "101"})
	check("the points under eu and 9 through every peer", []any{"eu", 9}, append(idRange(1, 30), "100", "101"))
	check("every point through every peer", nil, append(idRange(1, 30), "100", "101"))
	for _, p := range c.Peers {
		var keys struct {
			ShardKeys []struct {
				Key json.RawMessage `json:"key"`
			} `json:"shard_keys"`
		}
		if err := p.Do(http.MethodGet, "/collections/sk/shards", nil, &keys); err != nil {
			t.Fatal(err)
		}
		if len(keys.ShardKeys) != 2 || string(keys.ShardKeys[0].Key) != `"eu"` || string(keys.ShardKeys[1].Key) != "9" {
			t.Errorf("peer %d lists keys %+v, want eu and 9", p.Index, keys.ShardKeys)
		}
	}

	if err := d.Do(http.MethodPost, "/collections/sk/shards/delete", map[string]any{"shard_key": "eu"}, nil); err != nil {
		t.Fatal(err)
	}
	check("only the points under 9 left, through every peer", nil, []string{"100", "101"})
	testkit.Eventually(t, "key eu gone from every peer's cluster info", 20*time.Second, func() error {
		for _, p := range c.Peers {
			got, err := shardKeyPlacement(p, "sk")
			if err != nil || len(got) != 1 || got["9"] == nil {
				return fmt.Errorf("peer %d: %v (%v)", p.Index, got, err)
			}
		}
		return nil
	})
}

// TestClusterCreateDefaults: on three peers a collection created without
// shard_number has one shard per peer (Qdrant's default), and
// replication_factor from storage.collection; every peer's configuration
// and GET /collections/{c}/cluster say so.
func TestClusterCreateDefaults(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{Env: map[string]string{"QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR": "2"}})
	leaderPeer(t, c, c.Peers)
	if err := c.Peers[1].Do(http.MethodPut, "/collections/d", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}}, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "three shards of two replicas on every peer", 30*time.Second, func() error {
		for _, p := range c.Peers {
			var info struct {
				Config struct {
					Params struct {
						ShardNumber       int `json:"shard_number"`
						ReplicationFactor int `json:"replication_factor"`
					} `json:"params"`
				} `json:"config"`
			}
			if err := p.Do(http.MethodGet, "/collections/d", nil, &info); err != nil {
				return err
			}
			if pr := info.Config.Params; pr.ShardNumber != 3 || pr.ReplicationFactor != 2 {
				return fmt.Errorf("peer %d: params %+v", p.Index, pr)
			}
			var ci keyedClusterInfo
			if err := p.Do(http.MethodGet, "/collections/d/cluster", nil, &ci); err != nil {
				return err
			}
			if ci.ShardCount != 3 || len(ci.LocalShards)+len(ci.RemoteShards) != 6 {
				return fmt.Errorf("peer %d: %d shards, %d local and %d remote replicas, want 3 shards of 2", p.Index, ci.ShardCount, len(ci.LocalShards), len(ci.RemoteShards))
			}
		}
		return nil
	})
}
