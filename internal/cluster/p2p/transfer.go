package p2p

import (
	"context"
	"errors"
	"fmt"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// The shard-transfer calls of the Points service: the source of a
// transfer asks the target to prepare its replica (InitiateTransfer); the
// data itself travels in batches of forced updates (TransferUpdates), the
// last of stream_records with the target's new cutoff.

// TransferReplicas is what the server needs of the local replicas to serve
// InitiateTransfer; LocalReplicas that do not implement it answer
// Unimplemented.
type TransferReplicas interface {
	InitiateTransfer(ctx context.Context, collection string, shard collection.ShardID, from uint64, reset bool) (collection.TargetState, error)
	TransferUpdates(ctx context.Context, collection string, shard collection.ShardID, from uint64, b collection.TransferBatch) (uint64, error)
	// ReplicaClocks returns the recovery point and cutoff of this peer's
	// replica of a shard.
	ReplicaClocks(ctx context.Context, collection string, shard collection.ShardID) (rp, cutoff ops.RecoveryPoint, err error)
	// ReplicaDigest returns the digest of this peer's replica of a shard.
	ReplicaDigest(ctx context.Context, collection string, shard collection.ShardID) (uint64, error)
}

// maxRecoveryClocks bounds the clocks of a recovery point on the wire: one
// per peer and clock, far below this in any real cluster.
const maxRecoveryClocks = 1 << 16

// transferReplicas are the local replicas as transfers need them.
func (p pointsService) transferReplicas() (TransferReplicas, error) {
	r, err := p.replicas()
	if err != nil {
		return nil, err
	}
	tr, ok := r.(TransferReplicas)
	if !ok {
		return nil, toStatus(point.Errorf(point.KindBadRequest, "this peer takes no shard transfers"))
	}
	return tr, nil
}

// InitiateTransfer prepares a replica to receive a transfer.
func (p pointsService) InitiateTransfer(ctx context.Context, req *p2pv1.InitiateTransferRequest) (*p2pv1.InitiateTransferResponse, error) {
	tr, err := p.transferReplicas()
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	ts, err := tr.InitiateTransfer(ctx, req.GetCollection(), req.GetShardId(), req.GetFromPeerId(), req.GetReset_())
	if err != nil {
		return nil, failed(ctx, err)
	}
	return &p2pv1.InitiateTransferResponse{Incomplete: ts.Incomplete, RecoveryPoint: recoveryPointToProto(ts.RecoveryPoint)}, nil
}

// InitiateTransfer asks the peer to prepare its replica of a shard for a
// transfer and returns its recovery point.
func (r *RemotePeer) InitiateTransfer(ctx context.Context, coll string, shard collection.ShardID, from uint64, reset bool) (collection.TargetState, error) {
	resp, err := call(ctx, r, "initiate transfer", p2pv1.PointsClient.InitiateTransfer, &p2pv1.InitiateTransferRequest{Collection: coll, ShardId: shard, Reset_: reset, FromPeerId: from})
	if err != nil {
		return collection.TargetState{}, err
	}
	rp, err := recoveryPointFromProto(resp.GetRecoveryPoint())
	if err != nil {
		return collection.TargetState{}, r.answer("initiate transfer", err)
	}
	return collection.TargetState{RecoveryPoint: rp, Incomplete: resp.GetIncomplete()}, nil
}

// ReplicaClocks answers a replica's recovery point and cutoff.
func (p pointsService) ReplicaClocks(ctx context.Context, req *p2pv1.ReplicaClocksRequest) (*p2pv1.ReplicaClocksResponse, error) {
	tr, err := p.transferReplicas()
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	rp, cutoff, err := tr.ReplicaClocks(ctx, req.GetCollection(), req.GetShardId())
	if err != nil {
		return nil, failed(ctx, err)
	}
	resp := &p2pv1.ReplicaClocksResponse{RecoveryPoint: recoveryPointToProto(rp), Cutoff: recoveryPointToProto(cutoff)}
	if req.GetWithDigest() {
		if resp.Digest, err = tr.ReplicaDigest(ctx, req.GetCollection(), req.GetShardId()); err != nil {
			return nil, failed(ctx, err)
		}
		resp.HasDigest = true
	}
	return resp, nil
}

// ReplicaDigest asks the peer for the digest of its replica of a shard,
// with its clocks read before it.
func (r *RemotePeer) ReplicaDigest(ctx context.Context, coll string, shard collection.ShardID) (rp, cutoff ops.RecoveryPoint, digest uint64, err error) {
	resp, err := call(ctx, r, "replica digest", p2pv1.PointsClient.ReplicaClocks, &p2pv1.ReplicaClocksRequest{Collection: coll, ShardId: shard, WithDigest: true})
	if err != nil {
		return nil, nil, 0, err
	}
	if !resp.GetHasDigest() {
		return nil, nil, 0, r.answer("replica digest", errors.New("the peer sent no digest"))
	}
	if rp, err = recoveryPointFromProto(resp.GetRecoveryPoint()); err == nil {
		cutoff, err = recoveryPointFromProto(resp.GetCutoff())
	}
	if err != nil {
		return nil, nil, 0, r.answer("replica digest", err)
	}
	return rp, cutoff, resp.GetDigest(), nil
}

// ReplicaClocks asks the peer for its replica of a shard's recovery point
// and cutoff.
func (r *RemotePeer) ReplicaClocks(ctx context.Context, coll string, shard collection.ShardID) (rp, cutoff ops.RecoveryPoint, err error) {
	resp, err := call(ctx, r, "replica clocks", p2pv1.PointsClient.ReplicaClocks, &p2pv1.ReplicaClocksRequest{Collection: coll, ShardId: shard})
	if err != nil {
		return nil, nil, err
	}
	if rp, err = recoveryPointFromProto(resp.GetRecoveryPoint()); err == nil {
		cutoff, err = recoveryPointFromProto(resp.GetCutoff())
	}
	if err != nil {
		return nil, nil, r.answer("replica clocks", err)
	}
	return rp, cutoff, nil
}

func recoveryPointToProto(rp ops.RecoveryPoint) []*p2pv1.RecoveryClock {
	var out []*p2pv1.RecoveryClock
	for k, tick := range rp {
		out = append(out, &p2pv1.RecoveryClock{PeerId: k.PeerID, ClockId: k.ClockID, Tick: tick})
	}
	return out
}

func recoveryPointFromProto(list []*p2pv1.RecoveryClock) (ops.RecoveryPoint, error) {
	if len(list) > maxRecoveryClocks {
		return nil, point.Errorf(point.KindBadInput, "recovery point of %d clocks is over the limit of %d", len(list), maxRecoveryClocks)
	}
	rp := make(ops.RecoveryPoint, len(list))
	for _, c := range list {
		k := ops.ClockKey{PeerID: c.GetPeerId(), ClockID: c.GetClockId()}
		if _, dup := rp[k]; dup {
			return nil, point.Errorf(point.KindBadInput, "recovery point lists clock %d/%d twice", k.PeerID, k.ClockID)
		}
		rp[k] = c.GetTick()
	}
	return rp, nil
}

// TransferUpdates applies a batch of a transfer to a receiving replica.
func (p pointsService) TransferUpdates(ctx context.Context, req *p2pv1.TransferUpdatesRequest) (*p2pv1.TransferUpdatesResponse, error) {
	tr, err := p.transferReplicas()
	if err != nil {
		return nil, err
	}
	b, err := transferBatchFromProto(req)
	if err != nil {
		return nil, toStatus(malformed("transfer updates", err))
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	id, err := tr.TransferUpdates(ctx, req.GetCollection(), req.GetShardId(), req.GetFromPeerId(), b)
	if err != nil {
		return nil, failed(ctx, err)
	}
	return &p2pv1.TransferUpdatesResponse{OperationId: id}, nil
}

// transferBatchFromProto decodes a batch, bounded before it allocates.
func transferBatchFromProto(req *p2pv1.TransferUpdatesRequest) (collection.TransferBatch, error) {
	list := req.GetUpdates()
	if len(list) > collection.MaxTransferBatch {
		return collection.TransferBatch{}, fmt.Errorf("a batch of %d updates is over the limit of %d", len(list), collection.MaxTransferBatch)
	}
	b := collection.TransferBatch{Wait: req.GetWait(), Updates: make([]collection.TaggedUpdate, 0, len(list))}
	for i, u := range list {
		op, err := ops.DecodeOperation(u.GetOperation())
		if err != nil {
			return collection.TransferBatch{}, fmt.Errorf("update %d: %w", i, err)
		}
		var tag ops.ClockTag
		if t := tagFromProto(u.GetClockTag()); t != nil {
			tag = *t
		}
		b.Updates = append(b.Updates, collection.TaggedUpdate{Op: op, Tag: tag})
	}
	if len(req.GetCutoff()) > 0 {
		rp, err := recoveryPointFromProto(req.GetCutoff())
		if err != nil {
			return collection.TransferBatch{}, err
		}
		b.Cutoff = rp
	}
	return b, nil
}

// TransferUpdates sends a batch of a transfer from peer from to the
// peer's receiving replica of a shard.
func (r *RemotePeer) TransferUpdates(ctx context.Context, coll string, shard collection.ShardID, from uint64, b collection.TransferBatch) (uint64, error) {
	req := &p2pv1.TransferUpdatesRequest{Collection: coll, ShardId: shard, FromPeerId: from, Wait: b.Wait}
	for _, u := range b.Updates {
		data := u.Encoded
		if data == nil {
			var err error
			if data, err = u.Op.Encode(); err != nil {
				return 0, fmt.Errorf("encode a transfer update: %w", err)
			}
		}
		tag := u.Tag
		req.Updates = append(req.Updates, &p2pv1.TransferUpdate{Operation: data, ClockTag: tagToProto(&tag)})
	}
	req.Cutoff = recoveryPointToProto(b.Cutoff)
	resp, err := call(ctx, r, "transfer updates", p2pv1.PointsClient.TransferUpdates, req)
	if err != nil {
		return 0, err
	}
	return resp.GetOperationId(), nil
}
