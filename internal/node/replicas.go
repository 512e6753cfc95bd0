package node

import (
	"context"
	"errors"
	"fmt"

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
func (r localReplicas) InitiateTransfer(ctx context.Context, name string, shard collection.ShardID, reset bool) (collection.TargetState, error) {
	c, err := r.lookup(name, shard)
	if err != nil {
		return collection.TargetState{}, err
	}
	return c.ReplicaInitiateTransfer(ctx, shard, reset)
}

// UpdateCutoff raises the cutoff of this peer's replica of a shard being
// filled by a transfer (p2p.CutoffReplicas).
func (r localReplicas) UpdateCutoff(ctx context.Context, name string, shard collection.ShardID, cutoff ops.RecoveryPoint) error {
	c, err := r.lookup(name, shard)
	if err != nil {
		return err
	}
	return c.ReplicaUpdateCutoff(ctx, shard, cutoff)
}

var _ p2p.TransferReplicas = localReplicas{}
