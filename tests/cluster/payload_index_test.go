package cluster_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/clustertest"
	"github.com/shoaldb/shoal/internal/testkit"
)

// Payload indexes are collection metadata committed through consensus,
// as in Qdrant 1.19 (docs/faults.md, finding 7): every peer lists them,
// and every replica a transfer creates comes with them.

// indexPoints upserts n points whose payload has a keyword "city".
func indexPoints(t *testing.T, p *clustertest.Peer, coll string, n int) {
	t.Helper()
	var pts []any
	for i := range n {
		id := uint64(i + 1)
		pts = append(pts, map[string]any{"id": id, "vector": vec(id, 1), "payload": map[string]any{"city": fmt.Sprintf("c%d", i%5)}})
	}
	if err := p.Do(http.MethodPut, "/collections/"+coll+"/points?wait=true", map[string]any{"points": pts}, nil); err != nil {
		t.Fatalf("upsert: %v", err)
	}
}

type schemaEntry struct {
	DataType string `json:"data_type"`
	Points   int    `json:"points"`
}

// payloadSchema reads payload_schema of GET /collections/{coll} on p.
func payloadSchema(p *clustertest.Peer, coll string) (map[string]schemaEntry, error) {
	var info struct {
		PayloadSchema map[string]schemaEntry `json:"payload_schema"`
	}
	err := p.Do(http.MethodGet, "/collections/"+coll, nil, &info)
	return info.PayloadSchema, err
}

// waitSchema waits until every peer of peers lists exactly the index
// field with points points on the peers of holders (their local replica
// holds the index) and 0 on the others; with field "" until none lists
// any index.
func waitSchema(t *testing.T, peers []*clustertest.Peer, ids map[int]uint64, coll, field string, holders map[uint64]bool, points int) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("every peer lists index %q of %s (holders %v)", field, coll, holders), 60*time.Second, func() error {
		for _, p := range peers {
			s, err := payloadSchema(p, coll)
			if err != nil {
				return fmt.Errorf("peer %d: %w", p.Index, err)
			}
			if field == "" {
				if len(s) != 0 {
					return fmt.Errorf("peer %d lists %v", p.Index, s)
				}
				continue
			}
			want := 0
			if holders[ids[p.Index]] {
				want = points
			}
			if e, ok := s[field]; len(s) != 1 || !ok || e.DataType != "keyword" || e.Points != want {
				return fmt.Errorf("peer %d (id %d) lists %v, want %s keyword with %d points", p.Index, ids[p.Index], s, field, want)
			}
		}
		return nil
	})
}

// TestPayloadIndexThroughConsensus: a keyword index created through a
// peer that holds no replica of a 1-shard, rf 1 collection is listed by
// every peer; a replica that replicate_shard creates, and the one a
// move_shard creates, build it (payload_schema counts the points of the
// local replicas); a restarted peer still lists it; deleting it removes
// it from every peer.
func TestPayloadIndexThroughConsensus(t *testing.T) {
	c := clustertest.Start(t, 3, clustertest.Options{})
	peers := c.Peers
	ids := peerIDs(t, peers)
	const coll, points = "pindex", 300
	createDistributed(t, peers[0], coll, 1, 1, 1)
	placement := waitReplicas(t, peers, coll, 1, 1, "Active")
	var src uint64
	for p := range placement[0] {
		src = p
	}
	var others []uint64
	for i := range peers {
		if ids[i] != src {
			others = append(others, ids[i])
		}
	}
	t.Logf("shard 0 on peer %d", src)
	indexPoints(t, peers[0], coll, points)

	// Through a peer without the replica.
	via := c.PeerByID(others[0])
	var res struct {
		Status string `json:"status"`
	}
	if err := via.Do(http.MethodPut, "/collections/"+coll+"/index?wait=true", map[string]any{"field_name": "city", "field_schema": "keyword"}, &res); err != nil {
		t.Fatalf("create index: %v", err)
	}
	if res.Status != "completed" {
		t.Fatalf("create index answered status %q", res.Status)
	}
	waitSchema(t, peers, ids, coll, "city", map[uint64]bool{src: true}, points)

	// replicate_shard (stream_records): the new replica is created with
	// the index.
	if err := clusterOp(peers[0], coll, map[string]any{"replicate_shard": map[string]any{
		"shard_id": 0, "from_peer_id": src, "to_peer_id": others[0]}}); err != nil {
		t.Fatalf("replicate_shard: %v", err)
	}
	waitShard(t, peers, coll, 0, map[uint64]string{src: "Active", others[0]: "Active"}, 60*time.Second)
	waitSchema(t, peers, ids, coll, "city", map[uint64]bool{src: true, others[0]: true}, points)

	// move_shard to the third peer.
	if err := clusterOp(peers[1], coll, map[string]any{"move_shard": map[string]any{
		"shard_id": 0, "from_peer_id": src, "to_peer_id": others[1]}}); err != nil {
		t.Fatalf("move_shard: %v", err)
	}
	waitShard(t, peers, coll, 0, map[uint64]string{others[0]: "Active", others[1]: "Active"}, 60*time.Second)
	waitSchema(t, peers, ids, coll, "city", map[uint64]bool{others[0]: true, others[1]: true}, points)

	// The peer without a replica now lists it after a restart too.
	victim := c.PeerByID(src)
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := victim.Start(""); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(victim, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	waitSchema(t, peers, ids, coll, "city", map[uint64]bool{others[0]: true, others[1]: true}, points)

	if err := peers[0].Do(http.MethodDelete, "/collections/"+coll+"/index/city?wait=true", nil, nil); err != nil {
		t.Fatalf("delete index: %v", err)
	}
	waitSchema(t, peers, ids, coll, "", nil, 0)
}
