package p2p

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// LocalReplicas are the shard replicas this peer holds, as the Points
// service serves them to other peers; the node implements it. Its methods
// are collection.Remote's without Peer: what a peer asks of a Remote
// arrives here unchanged, so that a replica answers a remote caller as it
// answers a local one. An error keeps its kind (point.KindOf) across the
// wire; a shard this peer does not hold is the implementation's refusal
// (of the kind it chooses, e.g. not found).
type LocalReplicas interface {
	Update(ctx context.Context, collection string, shard collection.ShardID, op *ops.Operation, opts collection.RemoteUpdate) (collection.RemoteUpdateResult, error)
	Search(ctx context.Context, collection string, shard collection.ShardID, req ops.SearchRequest) ([]collection.ScoredPoint, error)
	Scroll(ctx context.Context, collection string, shard collection.ShardID, req ops.ScrollRequest) ([]collection.Record, *point.ID, error)
	Count(ctx context.Context, collection string, shard collection.ShardID, req ops.CountRequest) (int, error)
	Retrieve(ctx context.Context, collection string, shard collection.ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]collection.Record, error)
	Facet(ctx context.Context, collection string, shard collection.ShardID, req ops.FacetRequest) ([]collection.FacetHit, error)
}

// pointsService serves the Points service over ServerConfig.Replicas.
// Each handler decodes the request (a request that does not decode is
// bad input), bounds its context (the caller's deadline arrives with the
// call; without one, DefaultTimeout), calls the replicas and encodes the
// answer; every error leaves through toStatus, with its kind.
type pointsService struct {
	p2pv1.UnimplementedPointsServer
	s *Server
}

func (p pointsService) replicas() (LocalReplicas, error) {
	if p.s.cfg.Replicas == nil {
		return nil, status.Error(codes.Unimplemented, "this peer holds no shard replicas")
	}
	return p.s.cfg.Replicas, nil
}

// failed maps the error of the replicas: when the call's context ended
// (the caller's deadline, which travels with the call, or its
// cancellation) the call ends with that, a status without an Error detail,
// since no refusal of the engine is known; otherwise the error is the
// engine's answer, with its kind.
func failed(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return status.FromContextError(cerr).Err()
	}
	return toStatus(err)
}

// malformed is the refusal of a request that does not decode.
func malformed(what string, err error) error {
	return &point.Error{Kind: point.KindBadInput, Description: "malformed " + what + " request: " + err.Error(), Err: err}
}

// Update applies an update to a replica (or coordinates it, when it comes
// without a clock tag).
func (p pointsService) Update(ctx context.Context, req *p2pv1.UpdateRequest) (*p2pv1.UpdateResponse, error) {
	r, err := p.replicas()
	if err != nil {
		return nil, err
	}
	op, err := ops.DecodeOperation(req.GetOperation())
	if err != nil {
		return nil, toStatus(malformed("update", err))
	}
	ordering, ok := orderingFromProto(req.GetOrdering())
	if !ok {
		return nil, toStatus(point.Errorf(point.KindBadInput, "unknown write ordering %d", req.GetOrdering()))
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	res, err := r.Update(ctx, req.GetCollection(), req.GetShardId(), op,
		collection.RemoteUpdate{Wait: req.GetWait(), Ordering: ordering, Tag: tagFromProto(req.GetClockTag())})
	if err != nil {
		return nil, failed(ctx, err)
	}
	return updateResultToProto(res), nil
}

// Search searches one replica.
func (p pointsService) Search(ctx context.Context, req *p2pv1.SearchRequest) (*p2pv1.SearchResponse, error) {
	r, err := p.replicas()
	if err != nil {
		return nil, err
	}
	sr, err := ops.DecodeSearchRequest(req.GetRequest())
	if err != nil {
		return nil, toStatus(malformed("search", err))
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	hits, err := r.Search(ctx, req.GetCollection(), req.GetShardId(), sr)
	if err != nil {
		return nil, failed(ctx, err)
	}
	out, err := scoredToProto(hits)
	if err != nil {
		return nil, toStatus(err)
	}
	return &p2pv1.SearchResponse{Points: out}, nil
}

// Scroll reads one page of a replica.
func (p pointsService) Scroll(ctx context.Context, req *p2pv1.ScrollRequest) (*p2pv1.ScrollResponse, error) {
	r, err := p.replicas()
	if err != nil {
		return nil, err
	}
	sr, err := ops.DecodeScrollRequest(req.GetRequest())
	if err != nil {
		return nil, toStatus(malformed("scroll", err))
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	recs, next, err := r.Scroll(ctx, req.GetCollection(), req.GetShardId(), sr)
	if err != nil {
		return nil, failed(ctx, err)
	}
	out, err := recordsToProto(recs)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &p2pv1.ScrollResponse{Records: out}
	if next != nil {
		resp.NextOffset = idToProto(*next)
	}
	return resp, nil
}

// Count counts the points of a replica.
func (p pointsService) Count(ctx context.Context, req *p2pv1.CountRequest) (*p2pv1.CountResponse, error) {
	r, err := p.replicas()
	if err != nil {
		return nil, err
	}
	cr, err := ops.DecodeCountRequest(req.GetRequest())
	if err != nil {
		return nil, toStatus(malformed("count", err))
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	n, err := r.Count(ctx, req.GetCollection(), req.GetShardId(), cr)
	if err != nil {
		return nil, failed(ctx, err)
	}
	if n < 0 {
		return nil, toStatus(point.Errorf(point.KindInternal, "count %d", n))
	}
	return &p2pv1.CountResponse{Count: uint64(n)}, nil
}

// Retrieve reads points of a replica by id.
func (p pointsService) Retrieve(ctx context.Context, req *p2pv1.RetrieveRequest) (*p2pv1.RetrieveResponse, error) {
	r, err := p.replicas()
	if err != nil {
		return nil, err
	}
	rr, err := ops.DecodeRetrieveRequest(req.GetRequest())
	if err != nil {
		return nil, toStatus(malformed("retrieve", err))
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	recs, err := r.Retrieve(ctx, req.GetCollection(), req.GetShardId(), rr.IDs, rr.WithPayload, rr.WithVector)
	if err != nil {
		return nil, failed(ctx, err)
	}
	out, err := recordsToProto(recs)
	if err != nil {
		return nil, toStatus(err)
	}
	return &p2pv1.RetrieveResponse{Records: out}, nil
}

// Facet counts the values of a key over a replica.
func (p pointsService) Facet(ctx context.Context, req *p2pv1.FacetRequest) (*p2pv1.FacetResponse, error) {
	r, err := p.replicas()
	if err != nil {
		return nil, err
	}
	fr, err := ops.DecodeFacetRequest(req.GetRequest())
	if err != nil {
		return nil, toStatus(malformed("facet", err))
	}
	ctx, cancel := p.s.withTimeout(ctx, 0)
	defer cancel()
	hits, err := r.Facet(ctx, req.GetCollection(), req.GetShardId(), fr)
	if err != nil {
		return nil, failed(ctx, err)
	}
	out, err := facetToProto(hits)
	if err != nil {
		return nil, toStatus(err)
	}
	return &p2pv1.FacetResponse{Hits: out}, nil
}
