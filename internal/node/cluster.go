package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/cluster/consensus"
	"github.com/shoaldb/shoal/internal/cluster/p2p"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vfs"
)

// Consensus is the raft driver as the node uses it.
type Consensus interface {
	Propose(ctx context.Context, data []byte) (any, error)
	ChangeMembership(ctx context.Context, ch consensus.Membership) error
	Status() consensus.Status
	// Barrier returns once this peer applied every entry committed before
	// the call (raft's ReadIndex).
	Barrier(ctx context.Context) error
}

// ClusterOptions configure cluster mode.
type ClusterOptions struct {
	PeerID uint64
	URI    string // this peer's P2P URI
	// Timeout bounds a metadata operation that does not carry its own
	// deadline (Qdrant's default: 30 s).
	Timeout time.Duration
	// Listener: this peer is a listener node (storage.node_type:
	// Listener): its replicas are activated as Listener replicas, which
	// take updates and serve no reads.
	Listener bool
}

// clusterMode is the node's cluster half: the metadata state machine that
// consensus applies to on every peer, and the local effects of its
// operations (collection directories).
type clusterMode struct {
	n    *Node
	opts ClusterOptions
	cons Consensus

	mu       sync.Mutex
	state    *cluster.State
	known    map[uint64]string // peers learned when joining, before the log says so
	effects  uint64            // raft index up to which local effects are done (persisted)
	effectsF string
	failures func() map[string]SendFailure

	effMu  sync.Mutex // held while effects run; before mu
	eff    effectQueue
	commit func() (uint64, bool) // the cluster's commit index, when known

	rt *peerRuntime // the running peer's goroutines (OpenPeer)

	// synced: the local collections follow the state (topology.go);
	// changed is closed at the next change of the state. Both under mu.
	synced  bool
	changed chan struct{}

	remotes remotePool   // the Remote of each peer (topology.go)
	act     *activation  // local replicas waiting in Initializing (activate.go)
	reports failReports  // failures being reported (failures.go)
	bg      *background  // proposals made in the background
	xfers   transferRuns // transfers driven from this peer (transfer.go)
	limits  transferLimits
	// health is the latest health of the other peers (nil: unknown).
	health func() map[uint64]p2p.PeerHealth
}

// enableCluster switches the node to cluster mode, before the consensus
// driver is opened (its Open restores the state through the node).
func (n *Node) enableCluster(opts ClusterOptions) error {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	cl := &clusterMode{n: n, opts: opts, state: cluster.New(), known: map[uint64]string{},
		effectsF: filepath.Join(n.opts.StoragePath, "cluster", "effects.json"), eff: effectQueue{kick: make(chan struct{}, 1)},
		act: newActivation(), bg: newBackground()}
	if err := vfs.EnsureDir(n.fs, filepath.Dir(cl.effectsF), 0o755); err != nil {
		return fmt.Errorf("create cluster dir: %w", err)
	}
	if b, err := vfs.ReadFile(n.fs, cl.effectsF); err == nil {
		if err := json.Unmarshal(b, &cl.effects); err != nil {
			return fmt.Errorf("read %s: %w", cl.effectsF, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", cl.effectsF, err)
	}
	n.cl = cl
	return nil
}

var _ consensus.StateMachine = (*clusterMode)(nil)

// Clustered reports whether the node runs in cluster mode.
func (n *Node) Clustered() bool { return n.cl != nil }

// propose submits an operation and waits for it to be applied here.
func (cl *clusterMode) propose(ctx context.Context, op cluster.Op) (any, error) {
	if cl.cons == nil {
		return nil, errors.New("consensus is not running")
	}
	data, err := cluster.Encode(op)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cl.opts.Timeout)
		defer cancel()
	}
	v, err := cl.cons.Propose(ctx, data)
	if errors.Is(err, consensus.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return nil, point.Errorf(point.KindTimeout, "Timeout: operation %s was not committed by consensus in time (no leader, or a majority of peers is unreachable)", cluster.OpName(op))
	}
	return v, err
}

// createCollection proposes a new collection of shardNumber shards (per
// shard key with custom sharding), each with rf replicas, of which wcf
// must apply an update. Every peer's collection has the cluster's
// shard_number in its configuration and opens the shards placed on it.
// Once committed, the proposer waits (bounded by ctx, else the cluster
// timeout) until every replica left Initializing, as Qdrant does, so that
// a client can write at once; a replica that is not activated in time is
// only logged.
func (cl *clusterMode) createCollection(ctx context.Context, name string, cfg *collection.Config, shardNumber, rf, wcf uint32, shardingMethod string) error {
	cfg.Params.ShardNumber = shardNumber
	cfg.Params.ReplicationFactor = rf
	cfg.Params.WriteConsistencyFactor = wcf
	if shardingMethod != "" {
		m := shardingMethod
		cfg.Params.ShardingMethod = &m
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode collection config: %w", err)
	}
	if _, err := cl.propose(ctx, cluster.CreateCollection{Name: name, Config: raw, ShardNumber: shardNumber,
		ReplicationFactor: rf, WriteConsistencyFactor: wcf, ShardingMethod: cluster.ShardingMethod(shardingMethod)}); err != nil {
		return err
	}
	cl.awaitActivation(ctx, name)
	return nil
}

// updateCollection proposes the change from cur to next as a JSON merge
// patch, so that it composes with changes other peers proposed from the
// same configuration (two vectors added at once keep both).
func (cl *clusterMode) updateCollection(ctx context.Context, name string, cur, next *collection.Config) error {
	patch, err := configPatch(cur, next)
	if err != nil {
		return err
	}
	op := cluster.UpdateCollection{Name: name, ConfigPatch: patch}
	// The factors are the cluster's too: the replica sets write with the
	// committed write_consistency_factor.
	if rf := next.Params.ReplicationFactor; rf != cur.Params.ReplicationFactor && rf > 0 {
		op.ReplicationFactor = &rf
	}
	if wcf := next.Params.WriteConsistencyFactor; wcf != cur.Params.WriteConsistencyFactor && wcf > 0 {
		op.WriteConsistencyFactor = &wcf
	}
	_, err = cl.propose(ctx, op)
	return err
}

func (cl *clusterMode) deleteCollection(ctx context.Context, name string) (bool, error) {
	v, err := cl.propose(ctx, cluster.DeleteCollection{Name: name})
	if err != nil {
		return false, err
	}
	changed, _ := v.(bool)
	return changed, nil
}

// Apply applies a committed operation to the metadata state and, unless a
// run before a restart already did, to the local collections (effects.go,
// topology.go): their directories, their shards and the topology they
// route by.
func (cl *clusterMode) Apply(index uint64, data []byte) (any, error) {
	op, err := cluster.Decode(data)
	if err != nil {
		return nil, point.Errorf(point.KindBadInput, "%v", err)
	}
	cl.mu.Lock()
	res, err := cl.state.Apply(op)
	var e *effect
	if err == nil {
		if _, ok := op.(cluster.SetQuota); ok {
			cl.n.applyQuota(cl.state)
		}
		e = cl.effectLocked(index, op, res.Changed)
	}
	cl.appliedLocked()
	cl.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Effects run in log order; one that fails is retried (RunEffects)
	// and holds back the ones after it, so none is skipped for good.
	if e != nil {
		if err := cl.addEffect(*e); err != nil {
			return nil, err
		}
	}
	return res.Changed, nil
}

func decodeConfig(raw json.RawMessage) (*collection.Config, error) {
	var cfg collection.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("decode collection config: %w", err)
	}
	return &cfg, nil
}

// createLocal creates a collection of the cluster here with the topology
// of coll, or, when it exists (from before a restart), brings its
// topology in line.
func (cl *clusterMode) createLocal(name string, coll cluster.Collection) error {
	if _, err := cl.n.localCollection(name); err == nil {
		return cl.setTopology(name, coll)
	}
	cfg, err := decodeConfig(coll.Config)
	if err != nil {
		return err
	}
	return cl.n.createLocal(name, cfg, func(c *collection.Collection) error { return cl.applyTopology(c, coll) })
}

// updateLocal applies a collection's committed configuration and
// topology.
func (cl *clusterMode) updateLocal(name string, coll cluster.Collection) error {
	cfg, err := decodeConfig(coll.Config)
	if err != nil {
		return err
	}
	if err := cl.n.updateLocal(name, cfg); err != nil {
		return err
	}
	return cl.setTopology(name, coll)
}

func (cl *clusterMode) saveEffects(index uint64) error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if index <= cl.effects {
		return nil
	}
	cl.effects = index
	return vfs.WriteFileAtomic(cl.n.fs, cl.effectsF, func(w io.Writer) error {
		_, err := io.WriteString(w, strconv.FormatUint(index, 10))
		return err
	})
}

// ApplyMembership records peers joining (with their URI) and leaving; a
// peer that leaves takes its replicas with it (a forced RemovePeer), which
// every collection's topology follows.
func (cl *clusterMode) ApplyMembership(index uint64, ch consensus.Membership) error {
	cl.mu.Lock()
	var op cluster.Op
	switch ch.Kind {
	case consensus.AddLearner, consensus.PromoteVoter:
		if len(ch.Context) == 0 {
			cl.mu.Unlock()
			return nil // a promotion
		}
		op = cluster.AddPeer{ID: cluster.PeerID(ch.Peer), URI: string(ch.Context)}
	case consensus.RemovePeer:
		op = cluster.RemovePeer{ID: cluster.PeerID(ch.Peer), Force: true}
	}
	// What the log says supersedes what joining taught.
	delete(cl.known, ch.Peer)
	res, err := cl.state.Apply(op)
	var e *effect
	if err == nil {
		e = cl.effectLocked(index, op, res.Changed)
	}
	cl.appliedLocked()
	cl.mu.Unlock()
	if err != nil {
		return err
	}
	if e != nil {
		if err := cl.addEffect(*e); err != nil {
			cl.n.log.Warn("local effect of a membership change waits", "index", index, "err", err)
		}
	}
	return nil
}

// Snapshot is the metadata state, for raft snapshots.
func (cl *clusterMode) Snapshot() ([]byte, error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.state.Snapshot()
}

// Restore replaces the metadata state with a snapshot's. A snapshot newer
// than the local effects (sent by the leader to a lagging peer) also brings
// the local collections in line with it; so does the first snapshot of a
// restart that reaches the effects index (topology.go).
func (cl *clusterMode) Restore(index uint64, data []byte) error {
	st, err := cluster.Restore(data)
	if err != nil {
		return err
	}
	cl.mu.Lock()
	cl.state = st
	fresh := index > cl.effects
	sync := cl.syncDueLocked(index)
	cl.n.applyQuota(st)
	want := st.Clone()
	cl.appliedLocked()
	cl.mu.Unlock()
	e := effect{index: index, what: "restore from raft snapshot", run: func() error { return cl.reconcile(want) }}
	switch {
	case fresh:
		// The snapshot supersedes every effect still waiting: reconcile
		// with it, and retry until that is done.
		if err := cl.resetEffects(e); err != nil {
			cl.n.log.Error("bringing local collections in line with a raft snapshot failed; it is retried", "index", index, "err", err)
		}
	case sync:
		e.what = "bring local collections in line after a restart"
		if err := cl.addEffect(e); err != nil {
			cl.n.log.Error("bringing local collections in line after a restart failed; it is retried", "index", index, "err", err)
		}
	}
	return nil
}

// reconcile makes the local collections, and their topologies, those of
// a metadata state.
func (cl *clusterMode) reconcile(st *cluster.State) error {
	names := st.CollectionNames()
	for _, name := range cl.n.Collections() {
		if !slices.Contains(names, name) {
			if _, err := cl.n.deleteLocal(name); err != nil {
				return err
			}
		}
	}
	for _, name := range names {
		coll, _ := st.Collection(name)
		if _, err := cl.n.localCollection(name); err != nil {
			if err := cl.createLocal(name, coll); err != nil {
				return err
			}
			continue
		}
		if err := cl.updateLocal(name, coll); err != nil {
			return err
		}
	}
	return nil
}

// PeerURI resolves a peer's P2P URI: from the metadata state, else from
// what this peer learned when it joined.
func (n *Node) PeerURI(id uint64) (string, bool) {
	cl := n.cl
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if uri, ok := cl.state.PeerURI(cluster.PeerID(id)); ok {
		return uri, true
	}
	uri, ok := cl.known[id]
	return uri, ok
}

// Peers returns every known peer and its URI.
func (n *Node) Peers() map[uint64]string {
	cl := n.cl
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := map[uint64]string{}
	for id, uri := range cl.known {
		out[id] = uri
	}
	for id, uri := range cl.state.Peers() {
		out[uint64(id)] = uri
	}
	return out
}

// learnPeers records peers a bootstrap peer told us about.
func (n *Node) learnPeers(peers map[uint64]string) {
	n.cl.mu.Lock()
	defer n.cl.mu.Unlock()
	for id, uri := range peers {
		n.cl.known[id] = uri
	}
}

// AddPeer adds a joining peer as a raft learner with its URI (Qdrant's
// AddPeerToKnown) and returns the peers known once it is applied here.
func (n *Node) AddPeer(ctx context.Context, id uint64, uri string) (map[uint64]string, uint64, error) {
	cl := n.cl
	if id == 0 || uri == "" {
		return nil, 0, point.Errorf(point.KindBadInput, "peer id and uri are required")
	}
	cl.mu.Lock()
	for pid, puri := range cl.state.Peers() {
		if puri == uri && uint64(pid) != id {
			cl.mu.Unlock()
			return nil, 0, point.Errorf(point.KindBadRequest, "peer with URI %s already exists with id %d", uri, pid)
		}
	}
	known, _ := cl.state.PeerURI(cluster.PeerID(id))
	cl.mu.Unlock()
	if known != uri {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, cl.opts.Timeout)
			defer cancel()
		}
		err := cl.cons.ChangeMembership(ctx, consensus.Membership{Kind: consensus.AddLearner, Peer: id, Context: []byte(uri)})
		if err != nil {
			return nil, 0, fmt.Errorf("add peer %d: %w", id, err)
		}
	}
	st := cl.cons.Status()
	first := st.Leader
	if len(st.Voters) > 0 {
		first = slices.Min(st.Voters)
	}
	return n.Peers(), first, nil
}

// RemovePeer removes a peer from the cluster; one that holds shard
// replicas only with force, as in Qdrant.
func (n *Node) RemovePeer(ctx context.Context, id uint64, force bool) error {
	cl := n.cl
	cl.mu.Lock()
	_, known := cl.state.PeerURI(cluster.PeerID(id))
	load := cl.state.PeerLoad()[cluster.PeerID(id)]
	cl.mu.Unlock()
	if !known {
		return point.Errorf(point.KindNotFound, "Peer %d doesn't exist", id)
	}
	if load > 0 && !force {
		return point.Errorf(point.KindBadRequest, "Cannot remove peer %d as there are shards on it", id)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cl.opts.Timeout)
		defer cancel()
	}
	if err := cl.cons.ChangeMembership(ctx, consensus.Membership{Kind: consensus.RemovePeer, Peer: id}); err != nil {
		if errors.Is(err, consensus.ErrTimeout) {
			return point.Errorf(point.KindTimeout, "Timeout: removing peer %d was not committed in time", id)
		}
		return err
	}
	return nil
}

// ClusterStatus is what GET /cluster shows.
type ClusterStatus struct {
	PeerID       uint64
	Peers        map[uint64]string
	Raft         consensus.Status
	SendFailures map[string]SendFailure // by peer URI
}

// SendFailure counts consecutive failures to send to one peer.
type SendFailure struct {
	Count       int
	LatestError string
	LatestAt    time.Time
}

// ClusterStatus describes this peer's view of the cluster.
func (n *Node) ClusterStatus() ClusterStatus {
	st := ClusterStatus{PeerID: n.cl.opts.PeerID, Peers: n.Peers(), SendFailures: map[string]SendFailure{}}
	if n.cl.cons != nil {
		st.Raft = n.cl.cons.Status()
	}
	if n.cl.failures != nil {
		st.SendFailures = n.cl.failures()
	}
	return st
}

// ClusterReady reports whether this peer knows a leader and has applied
// everything the cluster has committed, as far as the other peers say
// (Qdrant's /readyz): a peer that raft left behind (a learner waiting for
// a snapshot) sees only its own, stale commit index, so that alone does
// not make it ready.
func (n *Node) ClusterReady() bool {
	if n.cl == nil {
		return true
	}
	if n.cl.cons == nil {
		return false
	}
	st := n.cl.cons.Status()
	if st.Leader == 0 || st.Applied < st.Commit {
		return false
	}
	if n.cl.commit == nil {
		return true
	}
	commit, ok := n.cl.commit()
	return ok && st.Applied >= commit
}

// MetadataKeys lists the cluster metadata keys.
func (n *Node) MetadataKeys() []string {
	n.cl.mu.Lock()
	defer n.cl.mu.Unlock()
	return n.cl.state.MetadataKeys()
}

// MetadataKey returns a cluster metadata value.
func (n *Node) MetadataKey(key string) (json.RawMessage, bool) {
	n.cl.mu.Lock()
	defer n.cl.mu.Unlock()
	return n.cl.state.Metadata(key)
}

// SetMetadataKey sets a cluster metadata key through consensus.
func (n *Node) SetMetadataKey(ctx context.Context, key string, value json.RawMessage) error {
	_, err := n.cl.propose(ctx, cluster.SetMetadataKey{Key: key, Value: value})
	return err
}

// DeleteMetadataKey deletes a cluster metadata key through consensus.
func (n *Node) DeleteMetadataKey(ctx context.Context, key string) error {
	_, err := n.cl.propose(ctx, cluster.DeleteMetadataKey{Key: key})
	return err
}

// updatePeerURI announces this peer's new URI (a restart on another
// address).
func (cl *clusterMode) updatePeerURI(ctx context.Context, id uint64, uri string) error {
	_, err := cl.propose(ctx, cluster.UpdatePeerURI{ID: cluster.PeerID(id), URI: uri})
	return err
}
