package node

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
)

// Activation, Qdrant's initialize_replica: a replica is created
// Initializing (CreateCollection, CreateShardKey); once the peer that
// holds it has created its local shard, it proposes the replica Active
// (Listener on a listener node) from Initializing, and retries until that
// is committed or the replica is no longer Initializing (activated, marked
// Dead or dropped meanwhile). The proposer of the creation waits until
// every replica left Initializing, so that its client can write at once.

// replicaKey names one replica: a peer's copy of a collection's shard.
type replicaKey struct {
	collection string
	shard      cluster.ShardID
	peer       cluster.PeerID
}

// activation holds the local replicas to activate. Safe for concurrent
// use.
type activation struct {
	mu      sync.Mutex
	pending map[replicaKey]bool
	kick    chan struct{}
}

func newActivation() *activation {
	return &activation{pending: map[replicaKey]bool{}, kick: make(chan struct{}, 1)}
}

// want adds replicas to activate and wakes the activation loop.
func (a *activation) want(keys ...replicaKey) {
	if len(keys) == 0 {
		return
	}
	a.mu.Lock()
	for _, k := range keys {
		a.pending[k] = true
	}
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

func (a *activation) take() []replicaKey {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]replicaKey, 0, len(a.pending))
	for k := range a.pending {
		out = append(out, k)
	}
	return out
}

func (a *activation) done(k replicaKey) {
	a.mu.Lock()
	delete(a.pending, k)
	a.mu.Unlock()
}

// replicaState returns a replica's committed state (false: no such
// replica).
func (cl *clusterMode) replicaState(k replicaKey) (cluster.ReplicaState, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	c, ok := cl.state.Collection(k.collection)
	if !ok {
		return 0, false
	}
	st, ok := c.Shards[k.shard][k.peer]
	return st, ok
}

// activeState is the state this peer's replicas are activated to.
func (cl *clusterMode) activeState() cluster.ReplicaState {
	if cl.opts.Listener {
		return cluster.ReplicaListener
	}
	return cluster.ReplicaActive
}

// RunActivation activates the local replicas waiting in Initializing, as
// they come, retrying every retry until each is committed or gone, until
// ctx ends. The caller owns the goroutine (OpenPeer starts it).
func (n *Node) RunActivation(ctx context.Context, retry time.Duration) {
	cl := n.cl
	t := time.NewTimer(retry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-cl.act.kick:
		case <-t.C:
		}
		left := cl.activate(ctx)
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		if left > 0 {
			t.Reset(retry)
		}
	}
}

// activate proposes every pending activation at once and reports how many
// are left for a retry.
func (cl *clusterMode) activate(ctx context.Context) int {
	keys := cl.act.take()
	var wg sync.WaitGroup
	var mu sync.Mutex
	left := 0
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !cl.activateOne(ctx, k) {
				mu.Lock()
				left++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return left
}

// activateOne proposes one replica active; true when that is done with
// (committed, or the replica left Initializing otherwise).
func (cl *clusterMode) activateOne(ctx context.Context, k replicaKey) bool {
	if st, ok := cl.replicaState(k); !ok || st != cluster.ReplicaInitializing {
		cl.act.done(k)
		return true
	}
	from := cluster.ReplicaInitializing
	_, err := cl.propose(ctx, cluster.SetReplicaState{Collection: k.collection, Shard: k.shard, Peer: k.peer, State: cl.activeState(), FromState: &from})
	if st, ok := cl.replicaState(k); err == nil || !ok || st != cluster.ReplicaInitializing {
		cl.act.done(k)
		return true
	}
	if ctx.Err() == nil {
		cl.n.log.Debug("activating a replica failed; it is retried", "collection", k.collection, "shard", k.shard, "err", err)
	}
	return false
}

// initializing lists the replicas of a collection still Initializing;
// false when the collection does not exist.
func (cl *clusterMode) initializing(name string) ([]replicaKey, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	c, ok := cl.state.Collection(name)
	if !ok {
		return nil, false
	}
	var out []replicaKey
	for id, r := range c.Shards {
		for p, st := range r {
			if st == cluster.ReplicaInitializing {
				out = append(out, replicaKey{collection: name, shard: id, peer: p})
			}
		}
	}
	slices.SortFunc(out, func(a, b replicaKey) int {
		if a.shard != b.shard {
			return int(a.shard) - int(b.shard)
		}
		return cmpPeer(a.peer, b.peer)
	})
	return out, true
}

func cmpPeer(a, b cluster.PeerID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// awaitActivation waits until no replica of a collection is Initializing
// (or the collection is gone), bounded by ctx's deadline, else the
// cluster timeout. Running out of time is not the creation's failure: the
// replicas are activated later, and a warning says so (Qdrant's
// wait_collection_initiated).
func (cl *clusterMode) awaitActivation(ctx context.Context, name string) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cl.opts.Timeout)
		defer cancel()
	}
	for {
		changed := cl.stateChanged()
		waiting, ok := cl.initializing(name)
		if !ok || len(waiting) == 0 {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			peers := make([]cluster.PeerID, 0, len(waiting))
			for _, k := range waiting {
				if !slices.Contains(peers, k.peer) {
					peers = append(peers, k.peer)
				}
			}
			cl.n.log.Warn("collection created, but some of its replicas are not activated yet", "collection", name,
				"replicas", len(waiting), "peers", peers, "err", context.Cause(ctx))
			return
		}
	}
}

// background runs the proposals made on behalf of requests (failure
// reports), which must not hold the request up: each on its own
// goroutine, stopped by stop.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // orders do's wg.Add before stop's Wait
	done   bool
	wg     sync.WaitGroup
}

func newBackground() *background {
	ctx, cancel := context.WithCancel(context.Background())
	return &background{ctx: ctx, cancel: cancel}
}

// do runs f on a goroutine unless the background was stopped.
func (b *background) do(f func(ctx context.Context)) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f(b.ctx)
	}()
	return true
}

// stop cancels the goroutines and waits for them.
func (b *background) stop() {
	b.mu.Lock()
	b.done = true
	b.cancel()
	b.mu.Unlock()
	b.wg.Wait()
}
