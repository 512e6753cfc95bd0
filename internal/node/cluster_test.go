package node

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/testkit"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
	"github.com/shoaldb/shoal/internal/cluster/p2p"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// memNet connects in-process consensus drivers, and the peers' replicas
// (memRemote).
type memNet struct {
	mu    sync.Mutex
	nodes map[uint64]*consensus.Node
	peers map[uint64]*Node
	down  map[uint64]bool // peers whose replicas do not answer
}

type memTransport struct {
	net  *memNet
	from uint64
}

func (t memTransport) Send(msgs []consensus.Message) {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	for _, m := range msgs {
		self := t.net.nodes[t.from]
		to, ok := t.net.nodes[m.To]
		if !ok {
			if self != nil {
				self.Unreachable(m.To)
				if m.Snapshot {
					self.ReportSnapshot(m.To, false)
				}
			}
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		err := to.Step(ctx, m.Data)
		cancel()
		if m.Snapshot && self != nil {
			self.ReportSnapshot(m.To, err == nil)
		}
	}
}

// replicasOf returns the replicas a running peer serves to the others.
func (net *memNet) replicasOf(peer uint64) (p2p.LocalReplicas, error) {
	net.mu.Lock()
	defer net.mu.Unlock()
	n, ok := net.peers[peer]
	if !ok || net.down[peer] {
		return nil, fmt.Errorf("peer %d is down", peer)
	}
	return n.LocalReplicas(), nil
}

// memRemote reaches another in-process peer's replicas as the P2P
// service would: a peer that is down fails as a transport failure.
type memRemote struct {
	net  *memNet
	peer uint64
}

func (r memRemote) Peer() uint64 { return r.peer }

func (r memRemote) Update(ctx context.Context, c string, s collection.ShardID, op *ops.Operation, o collection.RemoteUpdate) (collection.RemoteUpdateResult, error) {
	l, err := r.net.replicasOf(r.peer)
	if err != nil {
		return collection.RemoteUpdateResult{}, err
	}
	return l.Update(ctx, c, s, op, o)
}

func (r memRemote) Search(ctx context.Context, c string, s collection.ShardID, req ops.SearchRequest) ([]collection.ScoredPoint, error) {
	l, err := r.net.replicasOf(r.peer)
	if err != nil {
		return nil, err
	}
	return l.Search(ctx, c, s, req)
}

func (r memRemote) Scroll(ctx context.Context, c string, s collection.ShardID, req ops.ScrollRequest) ([]collection.Record, *point.ID, error) {
	l, err := r.net.replicasOf(r.peer)
	if err != nil {
		return nil, nil, err
	}
	return l.Scroll(ctx, c, s, req)
}

func (r memRemote) Count(ctx context.Context, c string, s collection.ShardID, req ops.CountRequest) (int, error) {
	l, err := r.net.replicasOf(r.peer)
	if err != nil {
		return 0, err
	}
	return l.Count(ctx, c, s, req)
}

func (r memRemote) Retrieve(ctx context.Context, c string, s collection.ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]collection.Record, error) {
	l, err := r.net.replicasOf(r.peer)
	if err != nil {
		return nil, err
	}
	return l.Retrieve(ctx, c, s, ids, wp, wv)
}

func (r memRemote) Facet(ctx context.Context, c string, s collection.ShardID, req ops.FacetRequest) ([]collection.FacetHit, error) {
	l, err := r.net.replicasOf(r.peer)
	if err != nil {
		return nil, err
	}
	return l.Facet(ctx, c, s, req)
}

func newMemNet() *memNet {
	return &memNet{nodes: map[uint64]*consensus.Node{}, peers: map[uint64]*Node{}, down: map[uint64]bool{}}
}

type clusterPeer struct {
	id     uint64
	dir    string
	node   *Node
	cons   *consensus.Node
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startPeer(t *testing.T, net *memNet, id uint64, dir string, bootstrap bool) *clusterPeer {
	return startPeerOpts(t, net, id, dir, bootstrap, ClusterOptions{})
}

// startPeerOpts starts an in-process peer as OpenPeer would, on memNet:
// consensus, the effects retrier and the activation loop; its replicas
// reach the other peers through memRemote.
func startPeerOpts(t *testing.T, net *memNet, id uint64, dir string, bootstrap bool, opts ClusterOptions) *clusterPeer {
	t.Helper()
	uri := fmt.Sprintf("http://peer-%d:6335", id)
	n := openNode(t, dir)
	opts.PeerID, opts.URI = id, uri
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if err := n.enableCluster(opts); err != nil {
		t.Fatal(err)
	}
	n.cl.remotes.build = func(peer uint64) collection.Remote { return memRemote{net: net, peer: peer} }
	cons, err := consensus.Open(consensus.Config{ID: id, Dir: dir + "/raft", Bootstrap: bootstrap,
		BootstrapContext: []byte(uri), CompactEntries: 4, Logger: n.log}, n.cl, memTransport{net, id})
	if err != nil {
		t.Fatal(err)
	}
	n.cl.cons = cons
	ctx, cancel := context.WithCancel(context.Background())
	p := &clusterPeer{id: id, dir: dir, node: n, cons: cons, cancel: cancel}
	net.mu.Lock()
	net.nodes[id] = cons
	net.peers[id] = n
	net.mu.Unlock()
	p.wg.Add(3)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		if err := cons.Run(ctx, tick.C); err != nil {
			t.Errorf("peer %d consensus: %v", id, err)
		}
	}()
	go func() {
		defer p.wg.Done()
		n.RunEffects(ctx, 10*time.Millisecond, 100*time.Millisecond)
	}()
	go func() {
		defer p.wg.Done()
		n.RunActivation(ctx, 20*time.Millisecond)
	}()
	t.Cleanup(func() { p.stop(net) })
	return p
}

func (p *clusterPeer) stop(net *memNet) {
	if p.cancel == nil {
		return
	}
	net.mu.Lock()
	delete(net.nodes, p.id)
	delete(net.peers, p.id)
	net.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	p.node.Close()
	p.cancel = nil
}

// TestClusterMetadata: collections created, updated and deleted through
// any peer appear on every peer; metadata keys replicate; a restarted peer
// keeps its collections and their points (entries it acted on before are
// not acted on twice); a peer joining after compaction catches up.
func TestClusterMetadata(t *testing.T) {
	net := newMemNet()
	ctx := context.Background()
	p1 := startPeer(t, net, 1, t.TempDir(), true)
	testkit.WaitFor(t, "first peer leads", 20*time.Second, func() bool { return p1.cons.Status().Role == "Leader" })
	peers := map[uint64]*clusterPeer{1: p1}
	join := func(id uint64) *clusterPeer {
		p := startPeer(t, net, id, t.TempDir(), false)
		if _, _, err := p1.node.AddPeer(ctx, id, fmt.Sprintf("http://peer-%d:6335", id)); err != nil {
			t.Fatalf("add peer %d: %v", id, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !p.cons.Status().IsVoter {
			if time.Now().After(deadline) {
				t.Fatalf("peer %d never votes: its status %+v; leader %+v", id, p.cons.Status(), p1.cons.Status())
			}
			time.Sleep(5 * time.Millisecond)
		}
		peers[id] = p
		return p
	}
	p2, p3 := join(2), join(3)
	if got := p3.node.Peers(); len(got) != 3 || got[1] != "http://peer-1:6335" {
		t.Fatalf("peers on peer 3: %v", got)
	}
	// A URI already taken by another peer is refused.
	if _, _, err := p1.node.AddPeer(ctx, 9, "http://peer-2:6335"); point.KindOf(err) != point.KindBadRequest {
		t.Fatalf("URI clash: %v", err)
	}

	everywhere := func(what string, cond func(n *Node) bool) {
		t.Helper()
		testkit.WaitFor(t, what, 20*time.Second, func() bool {
			for _, p := range peers {
				if !cond(p.node) {
					return false
				}
			}
			return true
		})
	}
	// Created through a follower: answered once applied there, with the
	// cluster's shard_number in every peer's configuration.
	if err := p3.node.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":2,"distance":"Dot"},"shard_number":4}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := p3.node.Collection("docs"); err != nil {
		t.Fatalf("collection missing on the proposing peer right after the answer: %v", err)
	}
	everywhere("docs on every peer", func(n *Node) bool { return slices.Equal(n.Collections(), []string{"docs"}) })
	for _, p := range peers {
		c, _ := p.node.Collection("docs")
		if cfg, _ := c.Config(); cfg.Params.ShardNumber != 4 || len(c.Shards()) != 4 {
			t.Fatalf("cluster collection: shard_number %d, %d shards; want 4", cfg.Params.ShardNumber, len(c.Shards()))
		}
	}
	if err := p2.node.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":2,"distance":"Dot"}}`)); point.KindOf(err) != point.KindAlreadyExists {
		t.Fatalf("duplicate create: %v", err)
	}
	seven := uint64(7)
	if err := p2.node.UpdateCollection(ctx, "docs", &collection.UpdateRequest{OptimizersConfig: &collection.OptimizersConfigDiff{IndexingThreshold: &seven}}); err != nil {
		t.Fatal(err)
	}
	everywhere("update on every peer", func(n *Node) bool {
		c, err := n.Collection("docs")
		if err != nil {
			return false
		}
		cfg, _ := c.Config()
		return cfg.OptimizerConfig.IndexingThreshold != nil && *cfg.OptimizerConfig.IndexingThreshold == 7
	})
	if err := p1.node.SetMetadataKey(ctx, "owner", json.RawMessage(`{"team":"search"}`)); err != nil {
		t.Fatal(err)
	}
	everywhere("metadata key on every peer", func(n *Node) bool { v, ok := n.MetadataKey("owner"); return ok && string(v) == `{"team":"search"}` })

	// Delete and recreate, then write a point through peer 2: a restart
	// of peer 2 replays the log but must not delete and recreate the
	// collection again (its point stays).
	if ok, err := p1.node.DeleteCollection(ctx, "docs"); err != nil || !ok {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if err := p1.node.CreateCollection(ctx, "docs", createReq(t, `{"vectors":{"size":3,"distance":"Cosine"}}`)); err != nil {
		t.Fatal(err)
	}
	everywhere("recreated docs on every peer", func(n *Node) bool {
		c, err := n.Collection("docs")
		if err != nil {
			return false
		}
		cfg, _ := c.Config()
		return cfg.Params.Vectors.Named[""].Size == 3
	})
	var nodes []*Node
	for _, p := range peers {
		nodes = append(nodes, p.node)
	}
	waitActive(t, "docs", nodes...)
	c2, _ := p2.node.Collection("docs")
	op := &ops.Operation{Kind: ops.Upsert, Points: []ops.PointStruct{{ID: point.NumID(1), Vectors: point.Vectors{"": {1, 0, 0}}}}}
	if _, err := c2.Update(ctx, op, true); err != nil {
		t.Fatal(err)
	}
	dir2 := p2.dir
	p2.stop(net)
	p2 = startPeer(t, net, 2, dir2, false)
	peers[2] = p2
	testkit.WaitFor(t, "peer 2 caught up", 20*time.Second, func() bool { return p2.cons.Status().Applied >= p1.cons.Status().Commit })
	testkit.Eventually(t, "the point through peer 2 after its restart", 20*time.Second, func() error {
		c2, err := p2.node.Collection("docs")
		if err != nil {
			return err
		}
		n, err := c2.Count(ctx, ops.CountRequest{Exact: true})
		if err == nil && n != 1 {
			err = fmt.Errorf("%d points", n)
		}
		return err
	})

	// A fourth peer joins after compaction and starts from the snapshot.
	for i := range 6 {
		if err := p1.node.SetMetadataKey(ctx, fmt.Sprint("k", i), json.RawMessage(`1`)); err != nil {
			t.Fatal(err)
		}
	}
	p4 := join(4)
	everywhere("peer 4 has docs and keys", func(n *Node) bool {
		return slices.Equal(n.Collections(), []string{"docs"}) && len(n.MetadataKeys()) == 7
	})
	_ = p4

	// Removing a peer.
	if err := p1.node.RemovePeer(ctx, 4, false); err != nil {
		t.Fatalf("remove peer 4: %v", err)
	}
	testkit.WaitFor(t, "peer 4 gone", 20*time.Second, func() bool { _, ok := p1.node.Peers()[4]; return !ok })
	if err := p1.node.RemovePeer(ctx, 99, false); point.KindOf(err) != point.KindNotFound {
		t.Fatalf("removing an unknown peer: %v", err)
	}
}
