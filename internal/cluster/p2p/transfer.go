package p2p

import (
	"context"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// The shard-transfer calls of the Points service: the source of a
// transfer asks the target to prepare its replica (InitiateTransfer); the
// data itself travels as forced updates (Update with a forced clock tag).

// TransferReplicas is what the server needs of the local replicas to serve
// InitiateTransfer; LocalReplicas that do not implement it answer
// Unimplemented.
type TransferReplicas interface {
	InitiateTransfer(ctx context.Context, collection string, shard collection.ShardID, reset bool) (collection.TargetState, error)
}

// CutoffReplicas is what the server needs of the local replicas to serve
// UpdateCutoff; LocalReplicas that do not implement it answer a refusal.
type CutoffReplicas interface {
	UpdateCutoff(ctx context.Context, collection string, shard collection.ShardID, cutoff ops.RecoveryPoint) error
}

// maxRecoveryClocks bounds the clocks of a recovery point on the wire: one
// per peer and clock, far below this in any real cluster.
const maxRecoveryClocks = 1 << 16

// InitiateTransfer prepares a replica to receive a transfer.
func (p pointsService) InitiateTransfer(ctx context.Context, req *p2pv1.InitiateTransferRequest) (*p2pv1.InitiateTransferResponse, error) {
	r, err := p.replicas()
	if err != nil {
		return nil, err
	}
	tr, ok := r.(TransferReplicas)
	if !ok {
		return nil, toStatus(point.Errorf(point.KindBadRequest, "this peer takes no shard transfers"))
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	ts, err := tr.InitiateTransfer(ctx, req.GetCollection(), req.GetShardId(), req.GetReset_())
	if err != nil {
		return nil, failed(ctx, err)
	}
	out := &p2pv1.InitiateTransferResponse{Incomplete: ts.Incomplete}
	for k, tick := range ts.RecoveryPoint {
		out.RecoveryPoint = append(out.RecoveryPoint, &p2pv1.RecoveryClock{PeerId: k.PeerID, ClockId: k.ClockID, Tick: tick})
	}
	return out, nil
}

// UpdateCutoff raises the cutoff of a replica being filled by a transfer.
func (p pointsService) UpdateCutoff(ctx context.Context, req *p2pv1.UpdateCutoffRequest) (*p2pv1.UpdateCutoffResponse, error) {
	r, err := p.replicas()
	if err != nil {
		return nil, err
	}
	cr, ok := r.(CutoffReplicas)
	if !ok {
		return nil, toStatus(point.Errorf(point.KindBadRequest, "this peer takes no shard transfers"))
	}
	rp, err := recoveryPointFromProto(req.GetCutoff())
	if err != nil {
		return nil, toStatus(err)
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	if err := cr.UpdateCutoff(ctx, req.GetCollection(), req.GetShardId(), rp); err != nil {
		return nil, failed(ctx, err)
	}
	return &p2pv1.UpdateCutoffResponse{}, nil
}

// UpdateCutoff asks the peer to raise the cutoff of its replica of a
// shard being filled by a transfer (Qdrant's update_shard_cutoff_point).
func (r *RemotePeer) UpdateCutoff(ctx context.Context, coll string, shard collection.ShardID, cutoff ops.RecoveryPoint) error {
	req := &p2pv1.UpdateCutoffRequest{Collection: coll, ShardId: shard}
	for k, tick := range cutoff {
		req.Cutoff = append(req.Cutoff, &p2pv1.RecoveryClock{PeerId: k.PeerID, ClockId: k.ClockID, Tick: tick})
	}
	_, err := call(ctx, r, "update cutoff", p2pv1.PointsClient.UpdateCutoff, req)
	return err
}

// InitiateTransfer asks the peer to prepare its replica of a shard for a
// transfer and returns its recovery point.
func (r *RemotePeer) InitiateTransfer(ctx context.Context, coll string, shard collection.ShardID, reset bool) (collection.TargetState, error) {
	resp, err := call(ctx, r, "initiate transfer", p2pv1.PointsClient.InitiateTransfer, &p2pv1.InitiateTransferRequest{Collection: coll, ShardId: shard, Reset_: reset})
	if err != nil {
		return collection.TargetState{}, err
	}
	rp, err := recoveryPointFromProto(resp.GetRecoveryPoint())
	if err != nil {
		return collection.TargetState{}, r.answer("initiate transfer", err)
	}
	return collection.TargetState{RecoveryPoint: rp, Incomplete: resp.GetIncomplete()}, nil
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
