package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// An in-process cluster: each peer is a Collection with its own directory,
// and the peers reach one another through memNet, a Remote that calls the
// other collection's Replica* methods (operations go through their binary
// encoding, as over P2P) and can be told to fail as a transport would, to
// refuse, or to delay. Consensus is the test: it holds the placement and
// hands every peer its Topology (commit).

// errUnreachable is a transport failure: no *point.Error in it.
var errUnreachable = errors.New("connection refused")

type memNet struct {
	mu      sync.Mutex
	peers   map[uint64]*Collection
	down    map[uint64]bool
	refuse  map[uint64]error
	delay   map[uint64]time.Duration
	jitter  time.Duration  // every call waits a random time up to it
	updates map[uint64]int // update calls received, by peer
	reads   map[uint64]int // read calls received, by peer
	// mangleSnapshot, when set, rewrites the archive of a snapshot
	// transfer and its announced size (transfer_snapshot_test.go).
	mangleSnapshot func(b []byte, size int64) ([]byte, int64)
}

func newMemNet() *memNet {
	return &memNet{peers: map[uint64]*Collection{}, down: map[uint64]bool{}, refuse: map[uint64]error{},
		delay: map[uint64]time.Duration{}, updates: map[uint64]int{}, reads: map[uint64]int{}}
}

func (n *memNet) setDown(peer uint64, down bool) {
	n.mu.Lock()
	n.down[peer] = down
	n.mu.Unlock()
}

func (n *memNet) setRefuse(peer uint64, err error) {
	n.mu.Lock()
	n.refuse[peer] = err
	n.mu.Unlock()
}

func (n *memNet) counts(peer uint64) (updates, reads int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.updates[peer], n.reads[peer]
}

// memRemote is peer as the others reach it.
type memRemote struct {
	net  *memNet
	peer uint64
}

func (r *memRemote) Peer() uint64 { return r.peer }

// gate is what the network does to a call to r's peer.
func (r *memRemote) gate(ctx context.Context, update bool) (*Collection, error) {
	r.net.mu.Lock()
	c, down, refuse, delay := r.net.peers[r.peer], r.net.down[r.peer], r.net.refuse[r.peer], r.net.delay[r.peer]
	if r.net.jitter > 0 {
		delay += rand.N(r.net.jitter)
	}
	if update {
		r.net.updates[r.peer]++
	} else {
		r.net.reads[r.peer]++
	}
	r.net.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	switch {
	case down || c == nil:
		return nil, fmt.Errorf("peer %d: %w", r.peer, errUnreachable)
	case refuse != nil:
		return nil, refuse
	}
	return c, nil
}

func (r *memRemote) Update(ctx context.Context, coll string, s ShardID, op *ops.Operation, opts RemoteUpdate) (RemoteUpdateResult, error) {
	c, err := r.gate(ctx, true)
	if err != nil {
		return RemoteUpdateResult{}, err
	}
	b, err := op.Encode()
	if err != nil {
		return RemoteUpdateResult{}, err
	}
	wire, err := ops.DecodeOperation(b)
	if err != nil {
		return RemoteUpdateResult{}, err
	}
	if opts.Tag != nil {
		tag := *opts.Tag
		opts.Tag = &tag
	}
	res, err := c.ReplicaUpdate(ctx, s, wire, opts)
	return res, overWire(err)
}

// overWire is an engine error as the P2P client returns it: its kind and
// text, the rest of its chain lost.
func overWire(err error) error {
	var pe *point.Error
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	return &point.Error{Kind: pe.Kind, Description: point.DescriptionOf(err)}
}

func (r *memRemote) Search(ctx context.Context, coll string, s ShardID, req ops.SearchRequest) ([]ScoredPoint, error) {
	c, err := r.gate(ctx, false)
	if err != nil {
		return nil, err
	}
	v, err := c.ReplicaSearch(ctx, s, req)
	return v, overWire(err)
}

func (r *memRemote) Scroll(ctx context.Context, coll string, s ShardID, req ops.ScrollRequest) ([]Record, *point.ID, error) {
	c, err := r.gate(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	recs, next, err := c.ReplicaScroll(ctx, s, req)
	return recs, next, overWire(err)
}

func (r *memRemote) Count(ctx context.Context, coll string, s ShardID, req ops.CountRequest) (int, error) {
	c, err := r.gate(ctx, false)
	if err != nil {
		return 0, err
	}
	v, err := c.ReplicaCount(ctx, s, req)
	return v, overWire(err)
}

func (r *memRemote) Retrieve(ctx context.Context, coll string, s ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]Record, error) {
	c, err := r.gate(ctx, false)
	if err != nil {
		return nil, err
	}
	v, err := c.ReplicaRetrieve(ctx, s, ids, wp, wv)
	return v, overWire(err)
}

func (r *memRemote) Facet(ctx context.Context, coll string, s ShardID, req ops.FacetRequest) ([]FacetHit, error) {
	c, err := r.gate(ctx, false)
	if err != nil {
		return nil, err
	}
	v, err := c.ReplicaFacet(ctx, s, req)
	return v, overWire(err)
}

// report is one ReplicaFailed call.
type report struct {
	by    uint64 // the reporting peer
	shard ShardID
	peer  uint64
	from  ReplicaState
}

// memCluster is the peers, the network and the placement consensus
// committed.
type memCluster struct {
	t     *testing.T
	net   *memNet
	peers []uint64
	wcf   int
	mu    sync.Mutex
	// states: shard -> peer -> state
	states  map[ShardID]map[uint64]ReplicaState
	reports []report
	// deadOnReport: a report commits the replica Dead (as consensus
	// would), asynchronously.
	deadOnReport bool
	wg           sync.WaitGroup
	// barrier, when set, is every peer's read barrier.
	barrier func(peer uint64) error
}

// peerReporter is the FailureReporter of peer by.
type peerReporter struct {
	m  *memCluster
	by uint64
}

func (r peerReporter) ReplicaFailed(coll string, s ShardID, peer uint64, from ReplicaState, cause error) {
	r.m.replicaFailed(r.by, s, peer, from)
}

// replicaFailed records a report of peer by.
func (m *memCluster) replicaFailed(by uint64, s ShardID, peer uint64, from ReplicaState) {
	m.mu.Lock()
	m.reports = append(m.reports, report{by, s, peer, from})
	dead := m.deadOnReport
	m.mu.Unlock()
	if dead {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.setState(s, peer, ReplicaDead)
		}()
	}
}

func (m *memCluster) reported() []report {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]report(nil), m.reports...)
}

// newMemCluster opens len(peers) collections of shards shards (body is
// the creation request, without shard_number) and places shard s on rf
// peers from peers[s%len(peers)] on, every replica Active.
func newMemCluster(t *testing.T, peers []uint64, shards, rf, wcf int, body string) *memCluster {
	t.Helper()
	m := &memCluster{t: t, net: newMemNet(), peers: peers, wcf: wcf, states: map[ShardID]map[uint64]ReplicaState{}}
	for s := range shards {
		st := map[uint64]ReplicaState{}
		for i := range rf {
			st[peers[(s+i)%len(peers)]] = ReplicaActive
		}
		m.states[ShardID(s)] = st
	}
	var req map[string]any
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	req["shard_number"] = shards
	b, _ := json.Marshal(req)
	for _, p := range peers {
		c, _ := openCollection(t, string(b))
		m.net.peers[p] = c
	}
	t.Cleanup(m.wg.Wait)
	m.commit()
	return m
}

func (m *memCluster) peer(p uint64) *Collection {
	m.net.mu.Lock()
	defer m.net.mu.Unlock()
	return m.net.peers[p]
}

// topology is what peer p is told.
func (m *memCluster) topology(p uint64) Topology {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := Topology{Self: p, WriteConsistencyFactor: m.wcf, Reporter: peerReporter{m, p},
		Remote: func(peer uint64) Remote { return &memRemote{net: m.net, peer: peer} }}
	if b := m.barrier; b != nil {
		t.ReadBarrier = func(context.Context) error { return b(p) }
	}
	for s := ShardID(0); int(s) < len(m.states); s++ {
		st := map[uint64]ReplicaState{}
		for peer, x := range m.states[s] {
			st[peer] = x
		}
		t.Shards = append(t.Shards, ShardPlacement{ID: s, States: st})
	}
	return t
}

// commit hands every peer the placement.
func (m *memCluster) commit() {
	for _, p := range m.peers {
		if err := m.peer(p).SetTopology(m.topology(p)); err != nil {
			m.t.Errorf("peer %d: SetTopology: %v", p, err)
		}
	}
}

// setState commits a replica's new state.
func (m *memCluster) setState(s ShardID, peer uint64, st ReplicaState) {
	m.mu.Lock()
	m.states[s][peer] = st
	m.mu.Unlock()
	m.commit()
}

// write upserts pts through peer p with the routing r.
func (m *memCluster) write(p uint64, r Routing, wait bool, pts ...ops.PointStruct) (UpdateResult, error) {
	return m.peer(p).Update(WithRouting(context.Background(), r), &ops.Operation{Kind: ops.Upsert, Points: pts}, wait)
}

// dump is every point of peer p's replica of shard s, with payload and
// vectors, by id.
func (m *memCluster) dump(p uint64, s ShardID) []Record {
	m.t.Helper()
	sh, _ := m.peer(p).layout().set(s).Local()
	if sh == nil {
		m.t.Fatalf("peer %d holds no replica of shard %d", p, s)
	}
	recs, _, err := scrollLocal(context.Background(), sh, ops.ScrollRequest{Limit: 1 << 20,
		WithPayload: ops.PayloadSelector{Enable: true}, WithVector: ops.VectorSelector{Enable: true}})
	if err != nil {
		m.t.Fatal(err)
	}
	for i := range recs {
		recs[i].Version = 0 // operation numbers differ by replica
	}
	return recs
}

// sameReplicas fails unless every replica of every shard holds the same
// points, vectors and payloads; it returns the points per shard.
func (m *memCluster) sameReplicas() map[ShardID]int {
	m.t.Helper()
	out := map[ShardID]int{}
	m.mu.Lock()
	states := map[ShardID][]uint64{}
	for s, st := range m.states {
		for p := range st {
			states[s] = append(states[s], p)
		}
	}
	m.mu.Unlock()
	for s, peers := range states {
		var first []Record
		for i, p := range peers {
			d := m.dump(p, s)
			if i == 0 {
				first = d
				out[s] = len(d)
				continue
			}
			if !reflect.DeepEqual(first, d) {
				for j := range min(len(d), len(first)) {
					if !reflect.DeepEqual(first[j], d[j]) {
						m.t.Logf("first difference: %#v\n vs %#v", first[j], d[j])
						break
					}
				}
				m.t.Fatalf("shard %d: replica on peer %d (%d points) differs from the one on peer %d (%d points)", s, p, len(d), peers[0], len(first))
			}
		}
	}
	return out
}

// vecPoint is point id with vector v and payload {"w": w}.
// The payload is decoded from JSON, as an API hands it over, so that it
// compares equal with its copy decoded from the wire.
func vecPoint(id uint64, v []float32, w int) ops.PointStruct {
	var pl point.Payload
	if err := point.DecodeJSON([]byte(fmt.Sprintf(`{"w":%d}`, w)), &pl); err != nil {
		panic(err)
	}
	return ops.PointStruct{ID: point.NumID(id), Vectors: point.Vectors{"": v}, Payload: pl}
}

// tempReopen opens the collection at dir again (after Close) with cfg.
func reopen(t *testing.T, c *Collection, dir string) *Collection {
	t.Helper()
	cfg, err := c.Config()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(nil, dir, "c", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	return again
}

var _ = filepath.Join
