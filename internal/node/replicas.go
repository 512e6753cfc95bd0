package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/shoaldb/shoal/internal/cluster"
	"github.com/shoaldb/shoal/internal/cluster/p2p"
	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// localReplicas serves this peer's shard replicas to the other peers (the
// P2P Points service): each call goes to the named collection's replica
// entry points. A collection this peer does not have (by its real name:
// peers never address an alias) or a shard the collection does not have
// is refused as not found.
type localReplicas struct{ n *Node }

var _ p2p.LocalReplicas = localReplicas{}

// LocalReplicas are this peer's replicas as the P2P service serves them.
func (n *Node) LocalReplicas() p2p.LocalReplicas { return localReplicas{n} }

func (r localReplicas) lookup(name string, shard collection.ShardID) (*collection.Collection, error) {
	c, err := r.n.localCollection(name)
	if err != nil {
		return nil, err
	}
	for _, rs := range c.Shards() {
		if rs.ID() == shard {
			return c, nil
		}
	}
	return nil, point.Errorf(point.KindNotFound, "Shard %d of collection `%s` does not exist", shard, name)
}

func (r localReplicas) Update(ctx context.Context, name string, shard collection.ShardID, op *ops.Operation, opts collection.RemoteUpdate) (collection.RemoteUpdateResult, error) {
	c, err := r.lookup(name, shard)
	if err != nil {
		return collection.RemoteUpdateResult{}, err
	}
	return c.ReplicaUpdate(ctx, shard, op, opts)
}

func (r localReplicas) Search(ctx context.Context, name string, shard collection.ShardID, req ops.SearchRequest) ([]collection.ScoredPoint, error) {
	c, err := r.lookup(name, shard)
	if err != nil {
		return nil, err
	}
	return c.ReplicaSearch(ctx, shard, req)
}

func (r localReplicas) Scroll(ctx context.Context, name string, shard collection.ShardID, req ops.ScrollRequest) ([]collection.Record, *point.ID, error) {
	c, err := r.lookup(name, shard)
	if err != nil {
		return nil, nil, err
	}
	return c.ReplicaScroll(ctx, shard, req)
}

func (r localReplicas) Count(ctx context.Context, name string, shard collection.ShardID, req ops.CountRequest) (int, error) {
	c, err := r.lookup(name, shard)
	if err != nil {
		return 0, err
	}
	return c.ReplicaCount(ctx, shard, req)
}

func (r localReplicas) Retrieve(ctx context.Context, name string, shard collection.ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]collection.Record, error) {
	c, err := r.lookup(name, shard)
	if err != nil {
		return nil, err
	}
	return c.ReplicaRetrieve(ctx, shard, ids, wp, wv)
}

func (r localReplicas) Facet(ctx context.Context, name string, shard collection.ShardID, req ops.FacetRequest) ([]collection.FacetHit, error) {
	c, err := r.lookup(name, shard)
	if err != nil {
		return nil, err
	}
	return c.ReplicaFacet(ctx, shard, req)
}

// errUnreachable is the transport failure of a peer this node has no way
// to reach (a node without a P2P transport).
var errUnreachable = errors.New("peer unreachable: this node has no P2P transport")

// unreachable is the Remote of a peer that cannot be reached: every call
// fails as a transport failure (not a refusal of the peer's engine).
type unreachable uint64

func (u unreachable) Peer() uint64 { return uint64(u) }

func (u unreachable) err() error { return fmt.Errorf("peer %d: %w", uint64(u), errUnreachable) }

func (u unreachable) Update(context.Context, string, collection.ShardID, *ops.Operation, collection.RemoteUpdate) (collection.RemoteUpdateResult, error) {
	return collection.RemoteUpdateResult{}, u.err()
}

func (u unreachable) Search(context.Context, string, collection.ShardID, ops.SearchRequest) ([]collection.ScoredPoint, error) {
	return nil, u.err()
}

func (u unreachable) Scroll(context.Context, string, collection.ShardID, ops.ScrollRequest) ([]collection.Record, *point.ID, error) {
	return nil, nil, u.err()
}

func (u unreachable) Count(context.Context, string, collection.ShardID, ops.CountRequest) (int, error) {
	return 0, u.err()
}

func (u unreachable) Retrieve(context.Context, string, collection.ShardID, []point.ID, ops.PayloadSelector, ops.VectorSelector) ([]collection.Record, error) {
	return nil, u.err()
}

func (u unreachable) Facet(context.Context, string, collection.ShardID, ops.FacetRequest) ([]collection.FacetHit, error) {
	return nil, u.err()
}

// InitiateTransfer prepares this peer's replica of a shard to receive a
// transfer (p2p.TransferReplicas).
func (r localReplicas) InitiateTransfer(ctx context.Context, name string, shard collection.ShardID, from uint64, reset bool) (collection.TargetState, error) {
	c, err := r.transferTarget(name, shard, from)
	if err != nil {
		return collection.TargetState{}, err
	}
	return c.ReplicaInitiateTransfer(ctx, shard, reset)
}

// ReplicaClocks returns the recovery point and cutoff of this peer's
// replica of a shard (p2p.TransferReplicas).
func (r localReplicas) ReplicaClocks(_ context.Context, name string, shard collection.ShardID) (rp, cutoff ops.RecoveryPoint, err error) {
	c, err := r.n.localCollection(name)
	if err != nil {
		return nil, nil, err
	}
	return c.ReplicaClocks(shard)
}

// ReplicaDigest returns the digest of this peer's replica of a shard
// (p2p.TransferReplicas).
func (r localReplicas) ReplicaDigest(ctx context.Context, name string, shard collection.ShardID) (uint64, error) {
	c, err := r.n.localCollection(name)
	if err != nil {
		return 0, err
	}
	return c.ReplicaDigest(ctx, shard)
}

// TransferUpdates applies a batch of a transfer from peer from to this
// peer's replica of a shard (p2p.TransferReplicas).
func (r localReplicas) TransferUpdates(ctx context.Context, name string, shard collection.ShardID, from uint64, b collection.TransferBatch) (uint64, error) {
	c, err := r.transferTarget(name, shard, from)
	if err != nil {
		return 0, err
	}
	return c.ReplicaTransferUpdates(ctx, shard, b)
}

// transferTarget is the collection of a shard this peer receives by a
// transfer from peer from, as its cluster state records it: a source
// whose transfer ended (it restarted with an older state, or has not
// applied the abort yet) is refused, so it cannot reset or write a
// replica another transfer fills.
func (r localReplicas) transferTarget(name string, shard collection.ShardID, from uint64) (*collection.Collection, error) {
	c, err := r.lookup(name, shard)
	if err != nil {
		return nil, err
	}
	cl := r.n.cl
	if cl == nil {
		return nil, errDistributedDisabled
	}
	want := cluster.TransferKey{Shard: cluster.ShardID(shard), From: cluster.PeerID(from), To: cluster.PeerID(cl.opts.PeerID)}
	if !cl.transferExists(name, want) {
		return nil, point.Errorf(point.KindUnavailable, "There is no transfer of shard %d of collection %s from peer %d to this peer", shard, name, from)
	}
	return c, nil
}

var _ p2p.TransferReplicas = localReplicas{}

// ReceiveShardSnapshot replaces this peer's replica of a shard by the
// archive read from r (p2p.SnapshotReplicas), if the cluster state
// records a snapshot transfer of that shard from peer from to this one
// (transferTarget).
func (r localReplicas) ReceiveShardSnapshot(ctx context.Context, name string, shard collection.ShardID, from uint64, size int64, src io.Reader) error {
	c, err := r.transferTarget(name, shard, from)
	if err != nil {
		return err
	}
	cc, _ := r.n.cl.clusterCollection(c.Name())
	if err := snapshotTransferTo(cc, shard, from, r.n.cl.opts.PeerID); err != nil {
		return err
	}
	return c.ReplicaReceiveSnapshot(ctx, shard, size, src)
}

// snapshotTransferTo checks that c records a snapshot transfer of shard
// from peer from to peer self (a transfer restarted with another method
// takes no archive from the driver of the old one).
func snapshotTransferTo(c cluster.Collection, shard collection.ShardID, from, self uint64) error {
	for _, t := range c.Transfers {
		if uint32(t.Shard) == shard && uint64(t.From) == from && uint64(t.To) == self && t.Method == cluster.TransferSnapshot {
			return nil
		}
	}
	return point.Errorf(point.KindUnavailable, "There is no snapshot transfer of shard %d from peer %d to this peer", shard, from)
}

var _ p2p.SnapshotReplicas = localReplicas{}
