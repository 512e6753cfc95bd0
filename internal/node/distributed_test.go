package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/cluster/consensus"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
	"github.com/shoaldb/shoal/internal/testkit"
)

// startCluster starts n in-process peers (ids 1..n) that form one
// cluster; opts(id) configures each.
func startCluster(t *testing.T, net *memNet, n int, opts func(id uint64) ClusterOptions) []*clusterPeer {
	t.Helper()
	ctx := context.Background()
	if opts == nil {
		opts = func(uint64) ClusterOptions { return ClusterOptions{} }
	}
	p1 := startPeerOpts(t, net, 1, t.TempDir(), true, opts(1))
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.cons.Status().Role == "Leader" })
	peers := []*clusterPeer{p1}
	for id := uint64(2); id <= uint64(n); id++ {
		p := startPeerOpts(t, net, id, t.TempDir(), false, opts(id))
		if _, _, err := p1.node.AddPeer(ctx, id, fmt.Sprintf("http://peer-%d:6335", id)); err != nil {
			t.Fatalf("add peer %d: %v", id, err)
		}
		testkit.WaitFor(t, fmt.Sprintf("peer %d votes", id), 20*time.Second, func() bool { return p.cons.Status().IsVoter })
		peers = append(peers, p)
	}
	return peers
}

// committed returns a collection's replica states in a peer's metadata
// state.
func committed(n *Node, name string) map[cluster.ShardID]cluster.Replicas {
	n.cl.mu.Lock()
	defer n.cl.mu.Unlock()
	c, ok := n.cl.state.Collection(name)
	if !ok {
		return nil
	}
	return c.Shards
}

// followsState reports why a peer's collection does not follow the
// committed topology: every shard there, a local replica exactly where
// one is placed (with its shard directory, and no directory for the
// others), and the committed states.
func followsState(n *Node, name string) error {
	want := committed(n, name)
	if want == nil {
		return fmt.Errorf("no collection %s in the state", name)
	}
	c, err := n.localCollection(name)
	if err != nil {
		return err
	}
	self := n.cl.opts.PeerID
	sets := c.Shards()
	if len(sets) != len(want) {
		return fmt.Errorf("%d replica sets, want %d", len(sets), len(want))
	}
	for _, rs := range sets {
		r, ok := want[cluster.ShardID(rs.ID())]
		if !ok {
			return fmt.Errorf("shard %d is not in the state", rs.ID())
		}
		got := rs.States(self)
		wantStates := map[uint64]collection.ReplicaState{}
		for p, st := range r {
			wantStates[uint64(p)] = collection.ReplicaState(st)
		}
		if !maps.Equal(got, wantStates) {
			return fmt.Errorf("shard %d: states %v, want %v", rs.ID(), got, wantStates)
		}
		l, _ := rs.Local()
		_, placed := r[cluster.PeerID(self)]
		if (l != nil) != placed {
			return fmt.Errorf("shard %d: local replica %v, placed here %v", rs.ID(), l != nil, placed)
		}
		_, serr := os.Stat(filepath.Join(n.StoragePath(), "collections", name, "shards", strconv.Itoa(int(rs.ID()))))
		if placed != (serr == nil) {
			return fmt.Errorf("shard %d: directory present %v, placed here %v", rs.ID(), serr == nil, placed)
		}
	}
	return nil
}

func nodesOf(peers []*clusterPeer) []*Node {
	out := make([]*Node, len(peers))
	for i, p := range peers {
		out[i] = p.node
	}
	return out
}

// waitActive waits until every replica of a collection is Active in the
// state of every node, and each node's collection follows it.
func waitActive(t *testing.T, name string, nodes ...*Node) {
	t.Helper()
	testkit.Eventually(t, "every replica Active on every peer", 20*time.Second, func() error {
		for i, n := range nodes {
			if st := committed(n, name); !allStates(st, cluster.ReplicaActive) {
				return fmt.Errorf("node %d sees %v", i, st)
			}
			if err := followsState(n, name); err != nil {
				return fmt.Errorf("node %d: %w", i, err)
			}
		}
		return nil
	})
}

func allStates(shards map[cluster.ShardID]cluster.Replicas, want cluster.ReplicaState) bool {
	for _, r := range shards {
		for _, st := range r {
			if st != want {
				return false
			}
		}
	}
	return len(shards) > 0
}

func upsertOp(from, to int) *ops.Operation {
	op := &ops.Operation{Kind: ops.Upsert}
	for i := from; i < to; i++ {
		op.Points = append(op.Points, ops.PointStruct{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": {float32(i), 1, 0, 0}}})
	}
	return op
}

// TestDistributedCollection: a collection of 3 shards with 2 replicas
// each on 3 in-process peers. Its creation answers once every replica is
// Active; every peer's collection follows the committed topology (local
// shards exactly where placed, remote replicas with their states); points
// written through one peer are read back through the others; a failed
// replica reported by the collection turns Dead on every peer, except the
// last Active replica of a shard, which the state machine keeps.
func TestDistributedCollection(t *testing.T) {
	ctx := context.Background()
	net := newMemNet()
	peers := startCluster(t, net, 3, nil)
	if err := peers[0].node.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":4,"distance":"Dot"},"shard_number":3,"replication_factor":2}`)); err != nil {
		t.Fatal(err)
	}
	// The proposer waited for the activation of every replica.
	if st := committed(peers[0].node, "docs"); !allStates(st, cluster.ReplicaActive) || len(st) != 3 {
		t.Fatalf("right after the create, the replicas are %v; want 3 shards of Active replicas", st)
	}
	for _, r := range committed(peers[0].node, "docs") {
		if len(r) != 2 {
			t.Fatalf("a shard has %d replicas, want 2: %v", len(r), committed(peers[0].node, "docs"))
		}
	}
	// Every peer applies the activations in its own time: a client that
	// writes through another peer waits until that one has them too, as
	// Qdrant's tests do (a write through a peer that still sees its
	// replica Initializing has no Active replica to apply it).
	waitActive(t, "docs", nodesOf(peers)...)

	// Written through peer 2, read through every peer.
	c2, _ := peers[1].node.Collection("docs")
	if _, err := c2.Update(ctx, upsertOp(0, 60), true); err != nil {
		t.Fatalf("upsert through peer 2: %v", err)
	}
	ids := make([]point.ID, 60)
	for i := range ids {
		ids[i] = point.NumID(uint64(i))
	}
	for _, p := range peers {
		c, _ := p.node.Collection("docs")
		if n, err := c.Count(ctx, ops.CountRequest{Exact: true}); err != nil || n != 60 {
			t.Fatalf("count through peer %d: %d, %v", p.id, n, err)
		}
		recs, err := c.Retrieve(ctx, ids, ops.PayloadSelector{}, ops.VectorSelector{})
		if err != nil || len(recs) != 60 {
			t.Fatalf("retrieve through peer %d: %d records, %v", p.id, len(recs), err)
		}
		info, err := p.node.CollectionInfo(ctx, "docs")
		if err != nil || info.PointsCount != 60 {
			t.Fatalf("info through peer %d: %+v, %v", p.id, info, err)
		}
	}

	// A failure report: peer 1 says another peer's replica of a shard
	// they share failed.
	var shard cluster.ShardID
	var other cluster.PeerID
	for id, r := range committed(peers[0].node, "docs") {
		for p := range r {
			if p != 1 {
				shard, other = id, p
			}
		}
		if _, ok := r[1]; ok && other != 0 {
			break
		}
		other = 0
	}
	if other == 0 {
		t.Fatal("peer 1 shares no shard with another peer")
	}
	cause := errors.New("connection refused")
	peers[0].node.cl.ReplicaFailed("docs", collection.ShardID(shard), uint64(other), collection.ReplicaActive, cause)
	testkit.Eventually(t, "the reported replica is Dead on every peer", 20*time.Second, func() error {
		for _, p := range peers {
			if st := committed(p.node, "docs")[shard][other]; st != cluster.ReplicaDead {
				return fmt.Errorf("peer %d sees %s", p.id, st)
			}
			if err := followsState(p.node, "docs"); err != nil {
				return fmt.Errorf("peer %d: %w", p.id, err)
			}
		}
		return nil
	})
	// The last Active replica of the shard is never deactivated.
	last := cluster.PeerID(0)
	for p, st := range committed(peers[0].node, "docs")[shard] {
		if st == cluster.ReplicaActive {
			last = p
		}
	}
	from := cluster.ReplicaActive
	_, err := peers[0].node.cl.propose(ctx, cluster.SetReplicaState{Collection: "docs", Shard: shard, Peer: last, State: cluster.ReplicaDead, FromState: &from})
	if point.KindOf(err) != point.KindBadInput {
		t.Fatalf("marking the last Active replica Dead: %v", err)
	}
	peers[0].node.cl.ReplicaFailed("docs", collection.ShardID(shard), uint64(last), collection.ReplicaActive, cause)
	testkit.WaitFor(t, "the refused report is over", 20*time.Second, func() bool {
		if !peers[0].node.cl.reports.start(replicaKey{collection: "docs", shard: shard, peer: last}) {
			return false
		}
		peers[0].node.cl.reports.end(replicaKey{collection: "docs", shard: shard, peer: last})
		return true
	})
	if st := committed(peers[0].node, "docs")[shard][last]; st != cluster.ReplicaActive {
		t.Fatalf("the last Active replica became %s", st)
	}
}

// TestListenerNodeActivation: the replicas of a listener peer are
// activated as Listener replicas, the others as Active.
func TestListenerNodeActivation(t *testing.T) {
	ctx := context.Background()
	net := newMemNet()
	peers := startCluster(t, net, 3, func(id uint64) ClusterOptions { return ClusterOptions{Listener: id == 3} })
	if err := peers[1].node.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":4,"distance":"Dot"},"shard_number":3,"replication_factor":3}`)); err != nil {
		t.Fatal(err)
	}
	for id, r := range committed(peers[1].node, "docs") {
		for p, st := range r {
			want := cluster.ReplicaActive
			if p == 3 {
				want = cluster.ReplicaListener
			}
			if st != want {
				t.Errorf("shard %d on peer %d: %s, want %s", id, p, st, want)
			}
		}
	}
}

// TestDeleteWhileDown: a collection deleted while a peer is down is gone
// from that peer, files included, once it is back; a restarted peer's
// collections follow the committed topology again (they lost it with the
// process) without redoing effects it had done.
func TestDeleteWhileDown(t *testing.T) {
	ctx := context.Background()
	net := newMemNet()
	peers := startCluster(t, net, 3, nil)
	body := `{"vectors":{"size":4,"distance":"Dot"},"shard_number":3,"replication_factor":2}`
	for _, name := range []string{"gone", "kept"} {
		if err := peers[0].node.CreateCollection(ctx, name, createReq(t, body)); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := peers[0].node.Collection("kept")
	if _, err := c.Update(ctx, upsertOp(0, 30), true); err != nil {
		t.Fatal(err)
	}
	dir3 := peers[2].dir
	peers[2].stop(net)
	if ok, err := peers[0].node.DeleteCollection(ctx, "gone"); err != nil || !ok {
		t.Fatalf("delete: %v %v", ok, err)
	}
	p3 := startPeer(t, net, 3, dir3, false)
	testkit.Eventually(t, "peer 3 caught up", 20*time.Second, func() error {
		if got := p3.node.Collections(); !slices.Equal(got, []string{"kept"}) {
			return fmt.Errorf("peer 3 has %v", got)
		}
		if _, err := os.Stat(filepath.Join(dir3, "collections", "gone")); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("the directory of gone: %v", err)
		}
		return followsState(p3.node, "kept")
	})
	c3, _ := p3.node.Collection("kept")
	if n, err := c3.Count(ctx, ops.CountRequest{Exact: true}); err != nil || n != 30 {
		t.Fatalf("count through the restarted peer: %d, %v", n, err)
	}
}

// TestTopologyOf: the topology handed to a collection is the committed
// collection seen from one peer: every shard by id with its key and its
// replica states (the same numbers), the write consistency factor, the
// remotes and the reporter.
func TestTopologyOf(t *testing.T) {
	rep := &clusterMode{}
	remote := func(p uint64) collection.Remote { return unreachable(p) }
	for _, tc := range []struct {
		name string
		coll cluster.Collection
		want collection.Topology
	}{
		{"auto", cluster.Collection{WriteConsistencyFactor: 2, Shards: map[cluster.ShardID]cluster.Replicas{
			1: {1: cluster.ReplicaActive, 3: cluster.ReplicaDead},
			0: {2: cluster.ReplicaInitializing, 1: cluster.ReplicaListener},
		}}, collection.Topology{Self: 1, WriteConsistencyFactor: 2, Shards: []collection.ShardPlacement{
			{ID: 0, States: map[uint64]collection.ReplicaState{2: collection.ReplicaInitializing, 1: collection.ReplicaListener}},
			{ID: 1, States: map[uint64]collection.ReplicaState{1: collection.ReplicaActive, 3: collection.ReplicaDead}},
		}}},
		{"custom", cluster.Collection{WriteConsistencyFactor: 1, ShardingMethod: cluster.ShardingCustom,
			ShardKeys: []cluster.KeyShards{{Key: `"eu"`, Shards: []cluster.ShardID{1, 2}}, {Key: `7`, Shards: []cluster.ShardID{3}}},
			Shards: map[cluster.ShardID]cluster.Replicas{
				3: {2: cluster.ReplicaPartial}, 1: {1: cluster.ReplicaActive}, 2: {2: cluster.ReplicaActive},
			}}, collection.Topology{Self: 1, Custom: true, WriteConsistencyFactor: 1, Shards: []collection.ShardPlacement{
			{ID: 1, Key: `"eu"`, States: map[uint64]collection.ReplicaState{1: collection.ReplicaActive}},
			{ID: 2, Key: `"eu"`, States: map[uint64]collection.ReplicaState{2: collection.ReplicaActive}},
			{ID: 3, Key: `7`, States: map[uint64]collection.ReplicaState{2: collection.ReplicaPartial}},
		}}},
		{"custom without keys", cluster.Collection{WriteConsistencyFactor: 1, ShardingMethod: cluster.ShardingCustom},
			collection.Topology{Self: 1, Custom: true, WriteConsistencyFactor: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := topologyOf(1, tc.coll, remote, rep)
			if got.Remote == nil || got.Remote(5).Peer() != 5 || got.Reporter != collection.FailureReporter(rep) || got.ReadBarrier == nil {
				t.Fatalf("remote, reporter or read barrier not passed on: %+v", got)
			}
			got.Remote, got.Reporter, got.ReadBarrier = nil, nil, nil
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("topology\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestLocalReplicasRefuse: the P2P service refuses a collection or a shard
// this peer does not have as not found, and serves the ones it has.
func TestLocalReplicasRefuse(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, t.TempDir())
	if err := n.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":4,"distance":"Dot"},"shard_number":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := n.ChangeAliases(ctx, []cluster.AliasAction{{Create: &cluster.CreateAlias{CollectionName: "docs", AliasName: "alias"}}}); err != nil {
		t.Fatal(err)
	}
	c, _ := n.Collection("docs")
	if _, err := c.Update(ctx, upsertOp(0, 10), true); err != nil {
		t.Fatal(err)
	}
	r := n.LocalReplicas()
	for _, tc := range []struct {
		coll  string
		shard collection.ShardID
	}{{"nope", 0}, {"alias", 0}, {"docs", 2}} {
		if _, err := r.Count(ctx, tc.coll, tc.shard, ops.CountRequest{}); point.KindOf(err) != point.KindNotFound {
			t.Errorf("count %s/%d: %v, want not found", tc.coll, tc.shard, err)
		}
		if _, err := r.Update(ctx, tc.coll, tc.shard, upsertOp(0, 1), collection.RemoteUpdate{}); point.KindOf(err) != point.KindNotFound {
			t.Errorf("update %s/%d: %v, want not found", tc.coll, tc.shard, err)
		}
	}
	total := 0
	for s := range 2 {
		cnt, err := r.Count(ctx, "docs", collection.ShardID(s), ops.CountRequest{Exact: true})
		if err != nil {
			t.Fatalf("count shard %d: %v", s, err)
		}
		total += cnt
	}
	if total != 10 {
		t.Fatalf("the shards count %d points, want 10", total)
	}
}

// TestReplayKeepsLaterShardData: a restart replays the raft log from the
// start, but the effects done before are not done again: a local replica
// dropped (RemoveReplica) and then brought back by a transfer, with points
// written into it, keeps its points through the replay; once the replay
// reaches the effects index, the collection follows the latest state.
// Redoing the old drop would have deleted the points written since.
func TestReplayKeepsLaterShardData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg, err := createReq(t, `{"vectors":{"size":4,"distance":"Dot"},"shard_number":2}`).Build(testOptions(dir).Defaults)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(cfg)
	active := cluster.ReplicaActive
	transfer := cluster.Transfer{Shard: 0, From: 2, To: 1, Sync: true}
	log := []cluster.Op{
		cluster.CreateCollection{Name: "c", Config: raw, ShardNumber: 2, ReplicationFactor: 2, WriteConsistencyFactor: 1,
			Placement: map[cluster.ShardID][]cluster.PeerID{0: {1, 2}, 1: {1, 2}}},
		cluster.SetReplicaState{Collection: "c", Shard: 0, Peer: 1, State: active},
		cluster.SetReplicaState{Collection: "c", Shard: 0, Peer: 2, State: active},
		cluster.SetReplicaState{Collection: "c", Shard: 1, Peer: 1, State: active},
		cluster.SetReplicaState{Collection: "c", Shard: 1, Peer: 2, State: active},
		cluster.RemoveReplica{Collection: "c", Shard: 0, Peer: 1},
		cluster.StartTransfer{Collection: "c", Transfer: transfer},
		cluster.FinishTransfer{Collection: "c", Key: transfer.Key()},
	}
	open := func() *Node {
		n := openNode(t, dir)
		if err := n.enableCluster(ClusterOptions{PeerID: 1, URI: "http://peer-1:6335"}); err != nil {
			t.Fatal(err)
		}
		for i, uri := range []string{"http://peer-1:6335", "http://peer-2:6335"} {
			if err := n.cl.ApplyMembership(uint64(i+1), consensus.Membership{Kind: consensus.AddLearner, Peer: uint64(i + 1), Context: []byte(uri)}); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	apply := func(n *Node, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			data, err := cluster.Encode(log[i])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.cl.Apply(uint64(i+3), data); err != nil {
				t.Fatalf("apply %s: %v", cluster.OpName(log[i]), err)
			}
		}
	}
	localShard := func(n *Node, id collection.ShardID) (*collection.ReplicaSet, int) {
		t.Helper()
		c, err := n.localCollection("c")
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range c.Shards() {
			if rs.ID() != id {
				continue
			}
			l, _ := rs.Local()
			if l == nil {
				return rs, -1
			}
			cnt := 0
			l.View(func(r *shard.Reader) { cnt = r.Len() })
			return rs, cnt
		}
		t.Fatalf("no shard %d", id)
		return nil, 0
	}
	n := open()
	apply(n, 0, 6) // up to the drop
	if _, cnt := localShard(n, 0); cnt != -1 {
		t.Fatalf("shard 0 is still local after its replica was removed (%d points)", cnt)
	}
	apply(n, 6, 7) // the transfer brings it back, empty; points arrive
	rs, _ := localShard(n, 0)
	l, _ := rs.Local()
	if l == nil {
		t.Fatal("the transfer's target has no local shard")
	}
	if _, err := l.Update(ctx, upsertOp(0, 5), true); err != nil {
		t.Fatal(err)
	}
	apply(n, 7, 8)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n = open()
	apply(n, 0, len(log)) // the replay
	if _, cnt := localShard(n, 0); cnt != 5 {
		t.Fatalf("after the replay shard 0 holds %d points, want the 5 written after the transfer", cnt)
	}
	if err := followsState(n, "c"); err != nil {
		t.Fatalf("after the replay: %v", err)
	}
}

// TestPatchFactors: a PATCH of replication_factor and
// write_consistency_factor changes the cluster's factors on every peer
// (the topology's write consistency factor), not only the configuration.
func TestPatchFactors(t *testing.T) {
	ctx := context.Background()
	net := newMemNet()
	peers := startCluster(t, net, 2, nil)
	if err := peers[0].node.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":4,"distance":"Dot"},"shard_number":2,"replication_factor":2}`)); err != nil {
		t.Fatal(err)
	}
	var patch collection.UpdateRequest
	if err := point.DecodeJSON([]byte(`{"params":{"write_consistency_factor":2,"replication_factor":3}}`), &patch); err != nil {
		t.Fatal(err)
	}
	if err := peers[1].node.UpdateCollection(ctx, "docs", &patch); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the factors on every peer", 20*time.Second, func() error {
		for _, p := range peers {
			p.node.cl.mu.Lock()
			c, _ := p.node.cl.state.Collection("docs")
			p.node.cl.mu.Unlock()
			if c.WriteConsistencyFactor != 2 || c.ReplicationFactor != 3 {
				return fmt.Errorf("peer %d: replication_factor %d, write_consistency_factor %d", p.id, c.ReplicationFactor, c.WriteConsistencyFactor)
			}
			coll, _ := p.node.Collection("docs")
			if cfg, _ := coll.Config(); cfg.Params.WriteConsistencyFactor != 2 {
				return fmt.Errorf("peer %d: configuration's write_consistency_factor %d", p.id, cfg.Params.WriteConsistencyFactor)
			}
		}
		return nil
	})
}

// TestRemovePeerDropsItsReplicas: a peer removed with force takes its
// replicas with it; the other peers' collections stop counting on them.
func TestRemovePeerDropsItsReplicas(t *testing.T) {
	ctx := context.Background()
	net := newMemNet()
	peers := startCluster(t, net, 3, nil)
	if err := peers[0].node.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":4,"distance":"Dot"},"shard_number":3,"replication_factor":2}`)); err != nil {
		t.Fatal(err)
	}
	waitActive(t, "docs", nodesOf(peers)...)
	if err := peers[0].node.RemovePeer(ctx, 3, false); point.KindOf(err) != point.KindBadRequest {
		t.Fatalf("removing a peer with replicas without force: %v", err)
	}
	if err := peers[0].node.RemovePeer(ctx, 3, true); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "peer 3's replicas gone", 20*time.Second, func() error {
		for _, p := range peers[:2] {
			for id, r := range committed(p.node, "docs") {
				if _, ok := r[3]; ok {
					return fmt.Errorf("peer %d: shard %d still has a replica on peer 3", p.id, id)
				}
			}
			if err := followsState(p.node, "docs"); err != nil {
				return fmt.Errorf("peer %d: %w", p.id, err)
			}
		}
		return nil
	})
}

// proposals is a Consensus that records the operations proposed and
// holds each proposal until released.
type proposals struct {
	mu      sync.Mutex
	ops     []cluster.Op
	release chan struct{}
}

func (p *proposals) Propose(ctx context.Context, data []byte) (any, error) {
	op, err := cluster.Decode(data)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.ops = append(p.ops, op)
	p.mu.Unlock()
	select {
	case <-p.release:
		return true, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *proposals) ChangeMembership(context.Context, consensus.Membership) error { return nil }
func (p *proposals) Status() consensus.Status                                     { return consensus.Status{} }
func (p *proposals) Barrier(context.Context) error                                { return nil }

func (p *proposals) proposed() []cluster.Op {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ops)
}

// TestFailureReportsDeduplicated: a replica reported failed is proposed
// Dead from the state it had, in the background; reports of the same
// replica while one is in flight propose nothing more; once it is done,
// a new failure is reported again.
func TestFailureReportsDeduplicated(t *testing.T) {
	n := openNode(t, t.TempDir())
	if err := n.enableCluster(ClusterOptions{PeerID: 1, URI: "http://peer-1:6335"}); err != nil {
		t.Fatal(err)
	}
	cons := &proposals{release: make(chan struct{})}
	n.cl.cons = cons
	cause := errors.New("connection refused")
	for range 3 {
		n.cl.ReplicaFailed("docs", 2, 7, collection.ReplicaActive, cause)
	}
	n.cl.ReplicaFailed("docs", 2, 8, collection.ReplicaPartial, cause)
	testkit.WaitFor(t, "two proposals", 20*time.Second, func() bool { return len(cons.proposed()) == 2 })
	close(cons.release)
	k7 := replicaKey{collection: "docs", shard: 2, peer: 7}
	testkit.WaitFor(t, "the first report of peer 7 done", 20*time.Second, func() bool {
		n.cl.reports.mu.Lock()
		defer n.cl.reports.mu.Unlock()
		return !n.cl.reports.inFlight[k7]
	})
	// Reported again once done; then every report ends with the stop.
	n.cl.ReplicaFailed("docs", 2, 7, collection.ReplicaActive, cause)
	n.cl.bg.stop()
	got := cons.proposed()
	if len(got) != 3 {
		t.Fatalf("proposed %d operations, want 3: %v", len(got), got)
	}
	got = got[:2]
	slices.SortFunc(got, func(a, b cluster.Op) int {
		return int(a.(cluster.SetReplicaState).Peer) - int(b.(cluster.SetReplicaState).Peer)
	})
	active, partial := cluster.ReplicaActive, cluster.ReplicaPartial
	want := []cluster.Op{
		cluster.SetReplicaState{Collection: "docs", Shard: 2, Peer: 7, State: cluster.ReplicaDead, FromState: &active},
		cluster.SetReplicaState{Collection: "docs", Shard: 2, Peer: 8, State: cluster.ReplicaDead, FromState: &partial},
	}
	if fmt.Sprintf("%+v", deref(got)) != fmt.Sprintf("%+v", deref(want)) {
		t.Fatalf("proposed %+v, want %+v", deref(got), deref(want))
	}
	// Stopped, the node proposes nothing more, and no report stays in
	// flight.
	n.cl.ReplicaFailed("docs", 2, 7, collection.ReplicaActive, cause)
	if len(cons.proposed()) != 3 || !n.cl.reports.start(k7) {
		t.Fatal("a report after the stop was proposed or stays in flight")
	}
}

// deref shows SetReplicaState ops with their FromState's value.
func deref(ops []cluster.Op) []string {
	var out []string
	for _, op := range ops {
		o := op.(cluster.SetReplicaState)
		out = append(out, fmt.Sprintf("%s/%d peer %d: %s from %s", o.Collection, o.Shard, o.Peer, o.State, *o.FromState))
	}
	return out
}

// lossyConsensus loses the first lose proposals (as raft does with a
// proposal forwarded to a leader that just died: no answer until the
// caller gives up), then answers with err.
type lossyConsensus struct {
	proposals
	lose int
	err  error
}

func (l *lossyConsensus) Propose(ctx context.Context, data []byte) (any, error) {
	l.mu.Lock()
	n := len(l.ops)
	l.mu.Unlock()
	if _, err := l.proposals.Propose(ctx, data); err != nil && n >= l.lose {
		return nil, err
	}
	if n < l.lose {
		<-ctx.Done()
		return nil, consensus.ErrTimeout
	}
	return true, l.err
}

// TestFailureReportRetried: a report whose proposal is lost (a leader died
// with it) is proposed again until it commits, within the time a
// coordinator waits for the replica to turn Dead; one the state machine
// refuses is not.
func TestFailureReportRetried(t *testing.T) {
	defer func(a time.Duration) { reportAttempt = a }(reportAttempt)
	reportAttempt = 100 * time.Millisecond
	for _, tc := range []struct {
		name  string
		lose  int
		err   error
		tries int
	}{
		{"lost twice", 2, nil, 3},
		{"refused", 0, point.Errorf(point.KindBadInput, "Cannot deactivate the last active replica"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := openNode(t, t.TempDir())
			if err := n.enableCluster(ClusterOptions{PeerID: 1, URI: "http://peer-1:6335"}); err != nil {
				t.Fatal(err)
			}
			cons := &lossyConsensus{proposals: proposals{release: make(chan struct{})}, lose: tc.lose, err: tc.err}
			close(cons.release)
			n.cl.cons = cons
			n.cl.ReplicaFailed("docs", 0, 7, collection.ReplicaActive, errors.New("connection refused"))
			k := replicaKey{collection: "docs", shard: 0, peer: 7}
			testkit.WaitFor(t, "the report done", 20*time.Second, func() bool {
				n.cl.reports.mu.Lock()
				defer n.cl.reports.mu.Unlock()
				return !n.cl.reports.inFlight[k]
			})
			n.cl.bg.stop()
			if got := len(cons.proposed()); got != tc.tries {
				t.Fatalf("proposed %d times, want %d", got, tc.tries)
			}
		})
	}
}
