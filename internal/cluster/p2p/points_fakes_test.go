package p2p

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// replicaCall is what fakeReplicas saw of one call.
type replicaCall struct {
	method     string
	collection string
	shard      collection.ShardID
	req        any // the decoded request (ops.*Request, or updateCall)
	deadline   time.Time
	hasDL      bool
}

type updateCall struct {
	op   *ops.Operation
	opts collection.RemoteUpdate
}

// fakeReplicas answers every call with the scripted results and err,
// recording the call. A non-nil block makes a call wait for its context
// to end (after signalling entered), then report the context's error on
// ended.
type fakeReplicas struct {
	mu    sync.Mutex
	calls []replicaCall

	err     error
	update  collection.RemoteUpdateResult
	scored  []collection.ScoredPoint
	records []collection.Record
	next    *point.ID
	count   int
	facet   []collection.FacetHit

	block   bool
	entered chan struct{}
	ended   chan error
}

func (f *fakeReplicas) record(ctx context.Context, method, coll string, shard collection.ShardID, req any) error {
	dl, ok := ctx.Deadline()
	f.mu.Lock()
	f.calls = append(f.calls, replicaCall{method: method, collection: coll, shard: shard, req: req, deadline: dl, hasDL: ok})
	block, entered, ended, err := f.block, f.entered, f.ended, f.err
	f.mu.Unlock()
	if block {
		entered <- struct{}{}
		<-ctx.Done()
		ended <- ctx.Err()
		return ctx.Err()
	}
	return err
}

// set changes the script between calls (the server's goroutines read it
// under the lock).
func (f *fakeReplicas) set(change func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change()
}

// answer returns v read under the lock.
func answer[T any](f *fakeReplicas, v *T) T {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *v
}

func (f *fakeReplicas) seen() []replicaCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]replicaCall(nil), f.calls...)
}

func (f *fakeReplicas) Update(ctx context.Context, coll string, shard collection.ShardID, op *ops.Operation, opts collection.RemoteUpdate) (collection.RemoteUpdateResult, error) {
	if err := f.record(ctx, "update", coll, shard, updateCall{op, opts}); err != nil {
		return collection.RemoteUpdateResult{}, err
	}
	return answer(f, &f.update), nil
}

func (f *fakeReplicas) Search(ctx context.Context, coll string, shard collection.ShardID, req ops.SearchRequest) ([]collection.ScoredPoint, error) {
	if err := f.record(ctx, "search", coll, shard, req); err != nil {
		return nil, err
	}
	return answer(f, &f.scored), nil
}

func (f *fakeReplicas) Scroll(ctx context.Context, coll string, shard collection.ShardID, req ops.ScrollRequest) ([]collection.Record, *point.ID, error) {
	if err := f.record(ctx, "scroll", coll, shard, req); err != nil {
		return nil, nil, err
	}
	return answer(f, &f.records), answer(f, &f.next), nil
}

func (f *fakeReplicas) Count(ctx context.Context, coll string, shard collection.ShardID, req ops.CountRequest) (int, error) {
	if err := f.record(ctx, "count", coll, shard, req); err != nil {
		return 0, err
	}
	return answer(f, &f.count), nil
}

func (f *fakeReplicas) Retrieve(ctx context.Context, coll string, shard collection.ShardID, ids []point.ID, wp ops.PayloadSelector, wv ops.VectorSelector) ([]collection.Record, error) {
	if err := f.record(ctx, "retrieve", coll, shard, ops.RetrieveRequest{IDs: ids, WithPayload: wp, WithVector: wv}); err != nil {
		return nil, err
	}
	return answer(f, &f.records), nil
}

func (f *fakeReplicas) Facet(ctx context.Context, coll string, shard collection.ShardID, req ops.FacetRequest) ([]collection.FacetHit, error) {
	if err := f.record(ctx, "facet", coll, shard, req); err != nil {
		return nil, err
	}
	return answer(f, &f.facet), nil
}

// remotePeerID is the id the tests give the peer serving the fake.
const remotePeerID = 2

// pointsPeer serves a Server over replicas on loopback, with extra gRPC
// server options after ServerOptions (later ones win), and returns a
// RemotePeer of it over a Transport, the address, and the transport.
func pointsPeer(t *testing.T, replicas LocalReplicas, cfg RemoteConfig, opts ...grpc.ServerOption) (*RemotePeer, string, *Transport) {
	t.Helper()
	srv, err := NewServer(ServerConfig{Consensus: &fakeConsensus{}, Membership: &fakeMembership{peers: map[uint64]string{}},
		Replicas: replicas, DefaultTimeout: time.Minute, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(append(ServerOptions(), opts...)...)
	srv.Register(g)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = g.Serve(lis)
	}()
	addr := lis.Addr().String()
	tr := NewTransport(TransportConfig{ID: 1, Resolver: func(id uint64) (string, bool) {
		return "http://" + addr, id == remotePeerID
	}, Timeout: 5 * time.Second, ConnectTimeout: time.Second, Logger: quiet})
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("close transport: %v", err)
		}
		g.Stop()
		<-done
	})
	return NewRemotePeer(tr, remotePeerID, cfg), addr, tr
}
