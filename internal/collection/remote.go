package collection

import (
	"context"

	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// ShardID names a shard of a collection: 0..shard_number-1, and the ids of
// the shards of custom shard keys after them.
type ShardID = uint32

// WriteOrdering is Qdrant's write ordering of an update.
type WriteOrdering uint8

// The write orderings: weak (the receiving peer coordinates), medium (the
// highest alive peer holding a replica serialises), strong (the highest
// peer holding a replica serialises; if it is down the update fails).
const (
	OrderingWeak WriteOrdering = iota
	OrderingMedium
	OrderingStrong
)

// RemoteUpdate is how an update is sent to a replica on another peer.
type RemoteUpdate struct {
	Wait     bool
	Ordering WriteOrdering
	// Tag is the clock tag of one replica's copy of a fanned-out update;
	// nil asks the receiver to coordinate the update itself (it is the
	// ordering leader of the shard).
	Tag *ops.ClockTag
}

// RemoteUpdateResult is a remote replica's answer to an update.
type RemoteUpdateResult struct {
	OperationID uint64
	Completed   bool // applied, not only written to the WAL
	// Rejected: the replica had applied a newer tick of the clock; Tag is
	// then the newest it has, for the sender's retry.
	Rejected bool
	Tag      ops.ClockTag
}

// Remote is a peer of the cluster as the collection reaches the replicas
// it holds, over the P2P service. The node provides it (package
// cluster/p2p implements it); the collection never dials. Every call names
// the collection and the shard: one Remote serves every replica the peer
// holds. Errors of the peer's engine keep their kind (point.KindOf), so a
// remote refusal reads like a local one; a transport failure is any other
// error.
type Remote interface {
	Peer() uint64
	Update(ctx context.Context, collection string, shard ShardID, op *ops.Operation, opts RemoteUpdate) (RemoteUpdateResult, error)
	Search(ctx context.Context, collection string, shard ShardID, req ops.SearchRequest) ([]ScoredPoint, error)
	Scroll(ctx context.Context, collection string, shard ShardID, req ops.ScrollRequest) ([]Record, *point.ID, error)
	Count(ctx context.Context, collection string, shard ShardID, req ops.CountRequest) (int, error)
	Retrieve(ctx context.Context, collection string, shard ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]Record, error)
	Facet(ctx context.Context, collection string, shard ShardID, req ops.FacetRequest) ([]FacetHit, error)
}
