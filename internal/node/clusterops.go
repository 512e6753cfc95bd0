package node

import (
	"context"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/point"
)

// ClusterOperation is one operation of POST /collections/{name}/cluster
// (Qdrant's ClusterOperations): Kind is move_shard, replicate_shard,
// abort_transfer, drop_replica or restart_transfer.
type ClusterOperation struct {
	Kind     string
	Shard    uint32
	From, To uint64 // transfers
	Peer     uint64 // drop_replica
	Method   string // "" : stream_records
}

// UpdateCollectionCluster validates op as Qdrant's
// do_update_collection_cluster and proposes it to consensus: a transfer
// starts (its driver runs on the source peer), is aborted or restarted,
// or a replica is dropped. It returns once the operation is applied here.
func (n *Node) UpdateCollectionCluster(ctx context.Context, name string, op ClusterOperation) error {
	cl := n.cl
	if cl == nil {
		return errDistributedDisabled
	}
	c, err := n.Collection(name)
	if err != nil {
		return err
	}
	name = c.Name()
	coll, ok := cl.clusterCollection(name)
	if !ok {
		return point.CollectionNotFound(name)
	}
	shard := cluster.ShardID(op.Shard)
	shardExists := func() error {
		if _, ok := coll.Shards[shard]; !ok {
			return point.Errorf(point.KindBadRequest, "Shard %d of %s does not exist", op.Shard, name)
		}
		return nil
	}
	peerExists := func(p uint64) error {
		cl.mu.Lock()
		_, ok := cl.state.PeerURI(cluster.PeerID(p))
		cl.mu.Unlock()
		if !ok {
			return point.Errorf(point.KindBadRequest, "Peer %d does not exist", p)
		}
		return nil
	}
	key := cluster.TransferKey{Shard: shard, From: cluster.PeerID(op.From), To: cluster.PeerID(op.To)}
	transferExists := func() error {
		if !cl.transferExists(name, key) {
			return point.Errorf(point.KindNotFound, "Shard transfer %d -> %d for collection %s:%d does not exist", op.From, op.To, name, op.Shard)
		}
		return nil
	}
	method := cluster.TransferMethod(op.Method)
	if method == "" {
		method = cluster.TransferStreamRecords
	}
	var cop cluster.Op
	switch op.Kind {
	case "move_shard", "replicate_shard":
		if err := shardExists(); err != nil {
			return err
		}
		if err := peerExists(op.To); err != nil {
			return err
		}
		if err := peerExists(op.From); err != nil {
			return err
		}
		cop = cluster.StartTransfer{Collection: name, Transfer: cluster.Transfer{Shard: shard, From: key.From, To: key.To, Sync: op.Kind == "replicate_shard", Method: method}}
	case "abort_transfer":
		if err := transferExists(); err != nil {
			return err
		}
		cop = cluster.AbortTransfer{Collection: name, Key: key}
	case "restart_transfer":
		if err := transferExists(); err != nil {
			return err
		}
		cop = cluster.RestartTransfer{Collection: name, Key: key, Method: method}
	case "drop_replica":
		if err := shardExists(); err != nil {
			return err
		}
		if err := peerExists(op.Peer); err != nil {
			return err
		}
		cop = cluster.RemoveReplica{Collection: name, Shard: shard, Peer: cluster.PeerID(op.Peer)}
	default:
		return point.Errorf(point.KindBadRequest, "Unknown cluster operation %q", op.Kind)
	}
	_, err = cl.propose(ctx, cop)
	return err
}
