package node

import (
	"context"
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
)

// CreateShardKeyRequest is Qdrant's CreateShardingKey (PUT
// /collections/{name}/shards), decoded.
type CreateShardKeyRequest struct {
	Key collection.ShardKey
	// ShardsNumber is the number of shards of the key; nil: the
	// collection's shard_number.
	ShardsNumber *uint32
	// ReplicationFactor is the number of replicas of each shard; nil: the
	// collection's (1 with an InitialState, as in Qdrant: such shards are
	// filled by a transfer before they are replicated).
	ReplicationFactor *uint32
	// Placement lists the peers the shards may be placed on; nil: every
	// peer. An empty list is refused.
	Placement *[]uint64
	// InitialState is the state the new replicas start in (Active or
	// Partial); nil: Initializing until each peer has created its replica.
	InitialState *collection.ReplicaState
}

// The wording of Qdrant's refusals of shard key operations; a key is
// printed as Qdrant's Display prints it: a string quoted, a number bare
// (the key's canonical JSON).
const (
	msgAutoSharding  = "Shard Key cannot be created with Auto sharding method"
	msgKeyExists     = "Sharding key %s already exists for collection %s"
	msgKeyMissing    = "Sharding key %s does not exist for collection %s"
	msgEmptyPlace    = "Sharding key %s placement cannot be empty. If you want to use random placement, do not specify placement"
	msgPeerMissing   = "Peer %d does not exist"
	msgInitialState  = "Initial state cannot be %s, only Active or Partial are allowed"
	activationPeriod = 20 * time.Millisecond
)

// customSharding reports whether a collection was created with
// sharding_method custom.
func customSharding(c *collection.Collection) (bool, error) {
	cfg, err := c.Config()
	if err != nil {
		return false, err
	}
	return cfg.Params.ShardingMethod != nil && *cfg.Params.ShardingMethod == string(cluster.ShardingCustom), nil
}

// CreateShardKey creates the shards of a new shard key in a collection
// with custom sharding. In a cluster it proposes cluster.CreateShardKey and
// waits, bounded by ctx, until every new replica has left Initializing
// (each peer activates the replicas it creates), so that the key takes
// writes at once; past ctx's deadline it logs a warning and answers as
// Qdrant does, with success. Standalone, the collection creates the shards
// itself, Active.
func (n *Node) CreateShardKey(ctx context.Context, name string, req CreateShardKeyRequest) error {
	c, err := n.Collection(name)
	if err != nil {
		return err
	}
	custom, err := customSharding(c)
	if err != nil {
		return err
	}
	if !custom {
		return point.Errorf(point.KindBadRequest, msgAutoSharding)
	}
	if st := req.InitialState; st != nil && *st != collection.ReplicaActive && *st != collection.ReplicaPartial {
		return point.Errorf(point.KindBadRequest, msgInitialState, st.String())
	}
	if req.Placement != nil && len(*req.Placement) == 0 {
		return point.Errorf(point.KindBadRequest, msgEmptyPlace, string(req.Key))
	}
	if n.cl == nil {
		return n.createShardKeyLocal(c, req)
	}
	return n.cl.createShardKey(ctx, c.Name(), req)
}

func (n *Node) createShardKeyLocal(c *collection.Collection, req CreateShardKeyRequest) error {
	if slices.Contains(c.ShardKeys(), req.Key) {
		return point.Errorf(point.KindBadRequest, msgKeyExists, string(req.Key), c.Name())
	}
	if req.Placement != nil {
		self := n.peerID()
		for _, p := range *req.Placement {
			if p != self {
				return point.Errorf(point.KindBadRequest, msgPeerMissing, p)
			}
		}
	}
	cfg, err := c.Config()
	if err != nil {
		return err
	}
	shards := max(cfg.Params.ShardNumber, 1)
	if req.ShardsNumber != nil {
		shards = *req.ShardsNumber
	}
	return c.CreateShardKey(req.Key, int(shards))
}

func (cl *clusterMode) createShardKey(ctx context.Context, name string, req CreateShardKeyRequest) error {
	key := cluster.ShardKey(req.Key)
	cc, ok := cl.clusterCollection(name)
	if !ok {
		return point.CollectionNotFound(name)
	}
	if _, ok := cc.ShardsOf(key); ok {
		return point.Errorf(point.KindBadRequest, msgKeyExists, string(req.Key), name)
	}
	op := cluster.CreateShardKey{Collection: name, Key: key}
	if req.Placement != nil {
		known := cl.peerSet()
		for _, p := range *req.Placement {
			if !known[cluster.PeerID(p)] {
				return point.Errorf(point.KindBadRequest, msgPeerMissing, p)
			}
			op.Peers = append(op.Peers, cluster.PeerID(p))
		}
	}
	if req.ShardsNumber != nil {
		op.ShardNumber = *req.ShardsNumber
	}
	switch {
	case req.ReplicationFactor != nil:
		op.ReplicationFactor = *req.ReplicationFactor
	case req.InitialState != nil:
		op.ReplicationFactor = 1
	}
	if req.InitialState != nil {
		st := cluster.ReplicaState(*req.InitialState)
		op.InitialState = &st
	}
	if _, err := cl.propose(ctx, op); err != nil {
		return err
	}
	cl.awaitKeyActivation(ctx, name, key)
	return nil
}

// awaitKeyActivation waits until no replica of the key's shards is
// Initializing, or the key is gone, or ctx ends (then it logs a warning,
// as Qdrant does when a new shard key is not active in time).
func (cl *clusterMode) awaitKeyActivation(ctx context.Context, name string, key cluster.ShardKey) {
	tick := time.NewTicker(activationPeriod)
	defer tick.Stop()
	for {
		if !cl.keyInitializing(name, key) {
			return
		}
		select {
		case <-ctx.Done():
			cl.n.log.Warn("shard key created, but its replicas are not all active yet", "collection", name, "shard_key", key.String(), "err", ctx.Err())
			return
		case <-tick.C:
		}
	}
}

// keyInitializing reports whether a replica of the key's shards is still
// Initializing.
func (cl *clusterMode) keyInitializing(name string, key cluster.ShardKey) bool {
	cc, ok := cl.clusterCollection(name)
	if !ok {
		return false
	}
	shards, _ := cc.ShardsOf(key)
	for _, s := range shards {
		for _, st := range cc.Shards[s] {
			if st == cluster.ReplicaInitializing {
				return true
			}
		}
	}
	return false
}

// peerSet is the set of peers consensus knows.
func (cl *clusterMode) peerSet() map[cluster.PeerID]bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := map[cluster.PeerID]bool{}
	for _, p := range cl.state.PeerIDs() {
		out[p] = true
	}
	return out
}

// DropShardKey removes a shard key and its shards from a collection with
// custom sharding (on every peer through consensus in a cluster).
func (n *Node) DropShardKey(ctx context.Context, name string, key collection.ShardKey) error {
	c, err := n.Collection(name)
	if err != nil {
		return err
	}
	custom, err := customSharding(c)
	if err != nil {
		return err
	}
	if !custom {
		// Qdrant's words, "created" included.
		return point.Errorf(point.KindBadRequest, msgAutoSharding)
	}
	keys, err := n.shardKeys(c)
	if err != nil {
		return err
	}
	if !slices.Contains(keys, key) {
		return point.Errorf(point.KindBadRequest, msgKeyMissing, string(key), c.Name())
	}
	if n.cl == nil {
		return c.DropShardKey(key)
	}
	_, err = n.cl.propose(ctx, cluster.DropShardKey{Collection: c.Name(), Key: cluster.ShardKey(key)})
	return err
}

// ShardKeys lists a collection's shard keys, sorted; custom is false (and
// keys nil) for a collection with auto sharding, which has none.
func (n *Node) ShardKeys(name string) (keys []collection.ShardKey, custom bool, err error) {
	c, err := n.Collection(name)
	if err != nil {
		return nil, false, err
	}
	if custom, err = customSharding(c); err != nil || !custom {
		return nil, false, err
	}
	keys, err = n.shardKeys(c)
	if keys == nil {
		keys = []collection.ShardKey{}
	}
	return keys, true, err
}

// shardKeys are the keys consensus committed in a cluster, the
// collection's own standalone.
func (n *Node) shardKeys(c *collection.Collection) ([]collection.ShardKey, error) {
	if n.cl == nil {
		return c.ShardKeys(), nil
	}
	cc, ok := n.cl.clusterCollection(c.Name())
	if !ok {
		return nil, point.CollectionNotFound(c.Name())
	}
	keys := make([]collection.ShardKey, 0, len(cc.ShardKeys))
	for _, ks := range cc.ShardKeys {
		keys = append(keys, collection.ShardKey(ks.Key))
	}
	slices.Sort(keys)
	return keys, nil
}
