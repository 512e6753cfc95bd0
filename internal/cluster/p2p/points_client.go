package p2p

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/grpc"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

var _ Conns = (*Transport)(nil)

// RemoteConfig configures a RemotePeer.
type RemoteConfig struct {
	// Timeout bounds a call whose context has no deadline
	// (cluster.grpc_timeout_ms); a context's deadline travels with the
	// call and bounds the peer's work as well.
	Timeout time.Duration
	// MaxMessageSize bounds a request (refused before it is sent) and an
	// answer (refused before it is read); MaxMessageSize by default.
	MaxMessageSize int
}

// RemotePeer is one peer's Points service as the collection reaches the
// replicas that peer holds: it implements collection.Remote over the
// connection the Transport keeps to the peer. Errors are as
// collection.Remote says: the peer engine's refusal is a *point.Error of
// its kind and text; any other failure wraps ErrTransport (and the
// context's error when the caller's context ended) and is no
// *point.Error. A RemotePeer holds no state of its own besides its
// configuration and is safe for concurrent use.
type RemotePeer struct {
	peer  uint64
	conns Conns
	cfg   RemoteConfig
}

var _ collection.Remote = (*RemotePeer)(nil)

// NewRemotePeer returns the Remote of peer id over conns.
func NewRemotePeer(conns Conns, id uint64, cfg RemoteConfig) *RemotePeer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = MaxMessageSize
	}
	return &RemotePeer{peer: id, conns: conns, cfg: cfg}
}

// Peer is the peer's id.
func (r *RemotePeer) Peer() uint64 { return r.peer }

// call runs one call of the Points service: it dials (lazily) through the
// Transport, bounds the context, sizes the messages and maps the error.
func call[Req, Resp any](ctx context.Context, r *RemotePeer, method string, rpc func(p2pv1.PointsClient, context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	var zero Resp
	cc, uri, err := r.conns.Conn(r.peer)
	if err != nil {
		return zero, fmt.Errorf("%s on peer %d: %w: %w", method, r.peer, ErrTransport, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.Timeout)
		defer cancel()
	}
	resp, err := rpc(p2pv1.NewPointsClient(cc), ctx, req,
		grpc.MaxCallSendMsgSize(r.cfg.MaxMessageSize), grpc.MaxCallRecvMsgSize(r.cfg.MaxMessageSize))
	if err != nil {
		return zero, callError(ctx, r.peer, method+" at "+uri, err)
	}
	return resp, nil
}

// encoded is a request that the engine refused to encode (a negative
// limit, an invalid operation): a refusal before anything is sent.
func encoded[T any](b T, err error) (T, error) {
	if err != nil {
		return b, &point.Error{Kind: point.KindBadInput, Description: err.Error(), Err: err}
	}
	return b, nil
}

// answer wraps an answer that does not convert.
func (r *RemotePeer) answer(method string, err error) error {
	return fmt.Errorf("%s on peer %d: %w", method, r.peer, err)
}

// Update sends an update to the peer's replica of a shard.
func (r *RemotePeer) Update(ctx context.Context, coll string, shard collection.ShardID, op *ops.Operation, opts collection.RemoteUpdate) (collection.RemoteUpdateResult, error) {
	b, err := encoded(op.Encode())
	if err != nil {
		return collection.RemoteUpdateResult{}, err
	}
	ordering, ok := orderings[opts.Ordering]
	if !ok {
		return collection.RemoteUpdateResult{}, point.Errorf(point.KindBadInput, "unknown write ordering %d", opts.Ordering)
	}
	resp, err := call(ctx, r, "update", p2pv1.PointsClient.Update, &p2pv1.UpdateRequest{
		Collection: coll, ShardId: shard, Operation: b, Wait: opts.Wait, Ordering: ordering, ClockTag: tagToProto(opts.Tag)})
	if err != nil {
		return collection.RemoteUpdateResult{}, err
	}
	res, err := updateResultFromProto(resp)
	if err != nil {
		return collection.RemoteUpdateResult{}, r.answer("update", err)
	}
	return res, nil
}

// Search searches the peer's replica of a shard.
func (r *RemotePeer) Search(ctx context.Context, coll string, shard collection.ShardID, req ops.SearchRequest) ([]collection.ScoredPoint, error) {
	b, err := encoded(req.Encode())
	if err != nil {
		return nil, err
	}
	resp, err := call(ctx, r, "search", p2pv1.PointsClient.Search, &p2pv1.SearchRequest{Collection: coll, ShardId: shard, Request: b})
	if err != nil {
		return nil, err
	}
	hits, err := scoredFromProto(resp.GetPoints())
	if err != nil {
		return nil, r.answer("search", err)
	}
	return hits, nil
}

// Scroll reads a page of the peer's replica of a shard and where the next
// page starts (nil after the last).
func (r *RemotePeer) Scroll(ctx context.Context, coll string, shard collection.ShardID, req ops.ScrollRequest) ([]collection.Record, *point.ID, error) {
	b, err := encoded(req.Encode())
	if err != nil {
		return nil, nil, err
	}
	resp, err := call(ctx, r, "scroll", p2pv1.PointsClient.Scroll, &p2pv1.ScrollRequest{Collection: coll, ShardId: shard, Request: b})
	if err != nil {
		return nil, nil, err
	}
	recs, err := recordsFromProto(resp.GetRecords())
	if err != nil {
		return nil, nil, r.answer("scroll", err)
	}
	var next *point.ID
	if resp.GetNextOffset() != nil {
		id, err := idFromProto(resp.GetNextOffset())
		if err != nil {
			return nil, nil, r.answer("scroll", err)
		}
		next = &id
	}
	return recs, next, nil
}

// Count counts the points of the peer's replica of a shard.
func (r *RemotePeer) Count(ctx context.Context, coll string, shard collection.ShardID, req ops.CountRequest) (int, error) {
	b, err := encoded(req.Encode())
	if err != nil {
		return 0, err
	}
	resp, err := call(ctx, r, "count", p2pv1.PointsClient.Count, &p2pv1.CountRequest{Collection: coll, ShardId: shard, Request: b})
	if err != nil {
		return 0, err
	}
	n := resp.GetCount()
	if n > math.MaxInt {
		return 0, r.answer("count", badResponse("count %d", n))
	}
	return int(n), nil
}

// Retrieve reads points of the peer's replica of a shard by id.
func (r *RemotePeer) Retrieve(ctx context.Context, coll string, shard collection.ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]collection.Record, error) {
	b, err := encoded(ops.RetrieveRequest{IDs: ids, WithPayload: wp, WithVector: wv}.Encode())
	if err != nil {
		return nil, err
	}
	resp, err := call(ctx, r, "retrieve", p2pv1.PointsClient.Retrieve, &p2pv1.RetrieveRequest{Collection: coll, ShardId: shard, Request: b})
	if err != nil {
		return nil, err
	}
	recs, err := recordsFromProto(resp.GetRecords())
	if err != nil {
		return nil, r.answer("retrieve", err)
	}
	return recs, nil
}

// Facet counts the values of a key over the peer's replica of a shard.
func (r *RemotePeer) Facet(ctx context.Context, coll string, shard collection.ShardID, req ops.FacetRequest) ([]collection.FacetHit, error) {
	b, err := encoded(req.Encode())
	if err != nil {
		return nil, err
	}
	resp, err := call(ctx, r, "facet", p2pv1.PointsClient.Facet, &p2pv1.FacetRequest{Collection: coll, ShardId: shard, Request: b})
	if err != nil {
		return nil, err
	}
	hits, err := facetFromProto(resp.GetHits())
	if err != nil {
		return nil, r.answer("facet", err)
	}
	return hits, nil
}
