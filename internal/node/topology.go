package node

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
)

// The consensus side of a distributed collection: every committed
// operation that changes a collection's shards, replicas or factors ends
// in the collection's SetTopology, run as a local effect (effects.go) so
// that shard directories are created and dropped in log order, once, and
// a crash in between is retried from the first effect not done.
//
// A restart replays the raft log from the last snapshot, but skips the
// effects of the operations done before (index <= the effects index): an
// old state must not drop a shard that a later operation, already done,
// put back. Once the replay reaches the effects index, every collection is
// brought in line with the state at that point (syncDueLocked): that sets
// the topology the collections lost with the process.

// topologyOf is a collection's topology as consensus committed it, seen
// from peer self.
func topologyOf(self uint64, c cluster.Collection, remote func(uint64) collection.Remote, cl *clusterMode) collection.Topology {
	t := collection.Topology{
		Self:                   self,
		Custom:                 c.ShardingMethod.Custom(),
		WriteConsistencyFactor: int(c.WriteConsistencyFactor),
		Remote:                 remote,
		Reporter:               cl,
		ReadBarrier:            cl.readBarrier,
		PayloadSchema:          c.PayloadSchema,
	}
	for _, id := range slices.Sorted(maps.Keys(c.Shards)) {
		key, _ := c.KeyOf(id)
		p := collection.ShardPlacement{ID: collection.ShardID(id), Key: collection.ShardKey(key), States: map[uint64]collection.ReplicaState{}}
		for peer, st := range c.Shards[id] {
			p.States[uint64(peer)] = collection.ReplicaState(st)
		}
		t.Shards = append(t.Shards, p)
	}
	return t
}

// localCollection returns the collection of that exact name (no alias).
func (n *Node) localCollection(name string) (*collection.Collection, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if c, ok := n.mu.collections[name]; ok {
		return c, nil
	}
	return nil, point.CollectionNotFound(name)
}

// setTopology hands a local collection its topology. A collection that is
// not here has nothing to follow: its creation, in log order, comes with
// its own topology.
func (cl *clusterMode) setTopology(name string, coll cluster.Collection) error {
	c, err := cl.n.localCollection(name)
	if err != nil {
		cl.n.log.Warn("no local collection to set the topology of", "collection", name)
		return nil
	}
	return cl.applyTopology(c, coll)
}

// applyTopology sets c's topology and asks for the activation of the
// local replicas that wait in Initializing (activate.go).
func (cl *clusterMode) applyTopology(c *collection.Collection, coll cluster.Collection) error {
	self := cl.opts.PeerID
	if err := c.SetTopology(topologyOf(self, coll, cl.remotes.get, cl)); err != nil {
		return fmt.Errorf("set the topology of collection %s: %w", c.Name(), err)
	}
	var init []replicaKey
	for id, r := range coll.Shards {
		if r[cluster.PeerID(self)] == cluster.ReplicaInitializing {
			init = append(init, replicaKey{collection: c.Name(), shard: id, peer: cluster.PeerID(self)})
		}
	}
	cl.act.want(init...)
	return nil
}

// collectionOf names the collection an operation changes the shards or
// replicas of ("" for the other operations).
func collectionOf(op cluster.Op) string {
	switch o := op.(type) {
	case cluster.SetReplicaState:
		return o.Collection
	case cluster.RemoveReplica:
		return o.Collection
	case cluster.StartTransfer:
		return o.Collection
	case cluster.FinishTransfer:
		return o.Collection
	case cluster.AbortTransfer:
		return o.Collection
	case cluster.RestartTransfer:
		return o.Collection
	case cluster.CreateShardKey:
		return o.Collection
	case cluster.DropShardKey:
		return o.Collection
	case cluster.CreatePayloadIndex:
		return o.Collection
	case cluster.DropPayloadIndex:
		return o.Collection
	}
	return ""
}

// effectLocked is the local effect of op, committed at index and just
// applied to the state (cl.mu held): nil when it has none, or when it was
// done before a restart. What it does is decided from the state of this
// index, captured now: effects run later, in order, while the state moves
// on.
func (cl *clusterMode) effectLocked(index uint64, op cluster.Op, changed bool) *effect {
	if cl.syncDueLocked(index) {
		st := cl.state.Clone()
		return &effect{index: index, what: "bring local collections in line after a restart", run: func() error { return cl.reconcile(st) }}
	}
	if index <= cl.effects {
		return nil
	}
	e := &effect{index: index, what: cluster.OpName(op)}
	switch o := op.(type) {
	case cluster.CreateCollection:
		coll, _ := cl.state.Collection(o.Name)
		e.run = func() error { return cl.createLocal(o.Name, coll) }
	case cluster.UpdateCollection:
		coll, _ := cl.state.Collection(o.Name)
		e.run = func() error { return cl.updateLocal(o.Name, coll) }
	case cluster.DeleteCollection:
		e.run = func() error { _, err := cl.n.deleteLocal(o.Name); return err }
	case cluster.DropPayloadIndex:
		coll, ok := cl.state.Collection(o.Collection)
		if !ok || !changed {
			return nil
		}
		e.run = func() error { return cl.dropIndexLocal(o.Collection, o.Field, coll) }
	case cluster.RemovePeer:
		if !changed {
			return nil
		}
		colls := map[string]cluster.Collection{}
		for _, name := range cl.state.CollectionNames() {
			colls[name], _ = cl.state.Collection(name)
		}
		e.run = func() error {
			for _, name := range slices.Sorted(maps.Keys(colls)) {
				if err := cl.setTopology(name, colls[name]); err != nil {
					return err
				}
			}
			return nil
		}
	default:
		name := collectionOf(op)
		coll, ok := cl.state.Collection(name)
		if name == "" || !ok || !changed {
			return nil
		}
		e.run = func() error { return cl.setTopology(name, coll) }
	}
	return e
}

// syncDueLocked reports, once, whether the local collections must be
// brought in line with the state at index: the first index a restart's
// replay reaches at or after the effects index. A peer that never did an
// effect has nothing to bring in line: every operation's effect is new.
func (cl *clusterMode) syncDueLocked(index uint64) bool {
	if cl.synced {
		return false
	}
	if cl.effects == 0 {
		cl.synced = true
		return false
	}
	if index < cl.effects {
		return false
	}
	cl.synced = true
	return true
}

// appliedLocked wakes whoever waits for the state to change (cl.mu
// held).
func (cl *clusterMode) appliedLocked() {
	if cl.changed != nil {
		close(cl.changed)
	}
	cl.changed = make(chan struct{})
}

// stateChanged returns a channel closed at the next change of the state.
func (cl *clusterMode) stateChanged() <-chan struct{} {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.changed == nil {
		cl.changed = make(chan struct{})
	}
	return cl.changed
}

// remotePool builds the Remote of each peer once and keeps it: a Remote
// holds no connection of its own (the transport does), so a peer that
// left costs nothing.
type remotePool struct {
	build func(peer uint64) collection.Remote // nil: peers are unreachable
	mu    sync.Mutex
	peers map[uint64]collection.Remote
}

func (p *remotePool) get(peer uint64) collection.Remote {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.peers[peer]; ok {
		return r
	}
	var r collection.Remote = unreachable(peer)
	if p.build != nil {
		r = p.build(peer)
	}
	if p.peers == nil {
		p.peers = map[uint64]collection.Remote{}
	}
	p.peers[peer] = r
	return r
}
