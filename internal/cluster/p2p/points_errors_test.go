package p2p

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// everyCall makes each call of collection.Remote once, returning its
// error, by method name.
func everyCall(ctx context.Context, r collection.Remote) map[string]error {
	op := &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(1)}}
	out := map[string]error{}
	_, out["update"] = r.Update(ctx, "c", 0, op, collection.RemoteUpdate{})
	_, out["search"] = r.Search(ctx, "c", 0, ops.SearchRequest{Vector: []float32{1}, Limit: 1})
	_, _, out["scroll"] = r.Scroll(ctx, "c", 0, ops.ScrollRequest{Limit: 1})
	_, out["count"] = r.Count(ctx, "c", 0, ops.CountRequest{})
	_, out["retrieve"] = r.Retrieve(ctx, "c", 0, []point.ID{point.NumID(1)}, ops.PayloadSelector{}, ops.VectorSelector{})
	_, out["facet"] = r.Facet(ctx, "c", 0, ops.FacetRequest{Key: "k", Limit: 1})
	return out
}

// TestPointsErrorKinds: a refusal of the remote engine reaches the caller
// as a *point.Error of the same kind and text, on every call, so that it
// reads like a local one; a context error of the engine (a read it
// interrupted) is a timeout or an unavailability, as locally.
func TestPointsErrorKinds(t *testing.T) {
	fake := &fakeReplicas{}
	remote, _, _ := pointsPeer(t, fake, RemoteConfig{})
	for _, c := range []struct {
		err  error
		kind point.Kind
		desc string
	}{
		{point.Errorf(point.KindInternal, "boom"), point.KindInternal, "boom"},
		{point.Errorf(point.KindBadInput, "Wrong vector"), point.KindBadInput, "Wrong vector"},
		{point.Errorf(point.KindBadRequest, "Bad"), point.KindBadRequest, "Bad"},
		{point.CollectionNotFound("c"), point.KindNotFound, "Collection `c` doesn't exist!"},
		{point.Errorf(point.KindAlreadyExists, "exists"), point.KindAlreadyExists, "exists"},
		{point.Errorf(point.KindValidation, "limit: must be positive"), point.KindValidation, "limit: must be positive"},
		{point.Errorf(point.KindTimeout, "slow"), point.KindTimeout, "slow"},
		{point.Errorf(point.KindUnavailable, "shard 0 is not active"), point.KindUnavailable, "shard 0 is not active"},
		{fmt.Errorf("wrapped: %w", point.Errorf(point.KindNotFound, "No point with id 1 found")), point.KindNotFound, "No point with id 1 found"},
		{fmt.Errorf("search interrupted: %w", context.DeadlineExceeded), point.KindTimeout, "search interrupted: context deadline exceeded"},
		{errors.New("disk on fire"), point.KindInternal, "disk on fire"},
		// An engine error whose chain holds another call's gRPC status (a
		// leader that could not reach a replica) is the engine's answer,
		// not that status: sent as it were, the caller would take the
		// leader itself for unreachable.
		{&point.Error{Kind: point.KindInternal, Description: "applied by 1 of 2 replicas, the outcome is unknown",
			Err: fmt.Errorf("replica 7: %w", status.Error(codes.Unavailable, "connection refused"))}, point.KindInternal, "applied by 1 of 2 replicas, the outcome is unknown"},
	} {
		fake.set(func() { fake.err = c.err })
		for method, err := range everyCall(context.Background(), remote) {
			var pe *point.Error
			if !errors.As(err, &pe) || errors.Is(err, ErrTransport) {
				t.Fatalf("%s with %v: %v (%T), want a refusal", method, c.err, err, err)
			}
			if pe.Kind != c.kind || point.DescriptionOf(err) != c.desc {
				t.Fatalf("%s with %v: kind %v %q, want %v %q", method, c.err, pe.Kind, point.DescriptionOf(err), c.kind, c.desc)
			}
		}
	}
}

// TestPointsTransportErrors: a call that gets no answer of the engine
// wraps ErrTransport and is no *point.Error: an unknown peer, a peer whose
// server is gone, a peer that serves no replicas.
func TestPointsTransportErrors(t *testing.T) {
	fake := &fakeReplicas{}
	_, _, tr := pointsPeer(t, fake, RemoteConfig{Timeout: 2 * time.Second})
	notTransport := func(name string, errs map[string]error) {
		t.Helper()
		for method, err := range errs {
			var pe *point.Error
			if !errors.Is(err, ErrTransport) || errors.As(err, &pe) {
				t.Fatalf("%s: %s: %v, want a transport failure", name, method, err)
			}
		}
	}
	notTransport("unknown peer", everyCall(context.Background(), NewRemotePeer(tr, 99, RemoteConfig{})))

	// A listener that is closed: connection refused.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := lis.Addr().String()
	lis.Close()
	tr2 := NewTransport(TransportConfig{ID: 1, Resolver: func(uint64) (string, bool) { return "http://" + gone, true },
		ConnectTimeout: 200 * time.Millisecond, Logger: quiet})
	defer tr2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	notTransport("peer down", everyCall(ctx, NewRemotePeer(tr2, 3, RemoteConfig{})))

	// A peer without replicas answers Unimplemented.
	noReplicas, _, _ := pointsPeer(t, nil, RemoteConfig{})
	errs := everyCall(context.Background(), noReplicas)
	notTransport("no replicas", errs)
	if status.Code(errs["search"]) != codes.Unimplemented {
		t.Fatalf("no replicas: %v", errs["search"])
	}
	if n := len(fake.seen()); n != 0 {
		t.Fatalf("the fake of the first peer saw %d calls", n)
	}
}

// TestPointsMalformedRequest: bytes that do not decode as the request are
// refused as bad input before the replicas see anything.
func TestPointsMalformedRequest(t *testing.T) {
	fake := &fakeReplicas{}
	_, addr, _ := pointsPeer(t, fake, RemoteConfig{})
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	c := p2pv1.NewPointsClient(cc)
	ctx := context.Background()
	count, err := ops.CountRequest{}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	_, err = c.Update(ctx, &p2pv1.UpdateRequest{Operation: []byte{9, 9}})
	errs = append(errs, err)
	_, err = c.Update(ctx, &p2pv1.UpdateRequest{Operation: mustEncode(t, &ops.Operation{Kind: ops.Delete, IDs: []point.ID{point.NumID(1)}}), Ordering: 7})
	errs = append(errs, err)
	_, err = c.Search(ctx, &p2pv1.SearchRequest{Request: count}) // a count sent as a search
	errs = append(errs, err)
	_, err = c.Scroll(ctx, &p2pv1.ScrollRequest{Request: nil})
	errs = append(errs, err)
	_, err = c.Count(ctx, &p2pv1.CountRequest{Request: append(count, 0)})
	errs = append(errs, err)
	_, err = c.Retrieve(ctx, &p2pv1.RetrieveRequest{Request: []byte{1, 5, 0xff}})
	errs = append(errs, err)
	_, err = c.Facet(ctx, &p2pv1.FacetRequest{Request: count})
	errs = append(errs, err)
	for i, err := range errs {
		got := callError(ctx, remotePeerID, "call", err)
		if point.KindOf(got) != point.KindBadInput || status.Code(err) != codes.InvalidArgument {
			t.Fatalf("%d: %v (kind %v), want bad input", i, err, point.KindOf(got))
		}
	}
	if !strings.Contains(errs[2].Error(), "a count request (kind 3) where a search request was expected") {
		t.Fatalf("search of a count: %v", errs[2])
	}
	if n := len(fake.seen()); n != 0 {
		t.Fatalf("the replicas saw %d calls", n)
	}
}

func mustEncode(t *testing.T, op *ops.Operation) []byte {
	t.Helper()
	b, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPointsEncodeRefusal: a request the engine cannot encode is refused
// as bad input before anything is sent.
func TestPointsEncodeRefusal(t *testing.T) {
	fake := &fakeReplicas{}
	remote, _, _ := pointsPeer(t, fake, RemoteConfig{})
	ctx := context.Background()
	_, err1 := remote.Search(ctx, "c", 0, ops.SearchRequest{Limit: -1})
	_, err2 := remote.Update(ctx, "c", 0, &ops.Operation{Kind: ops.Upsert, UpdateMode: "replace"}, collection.RemoteUpdate{})
	_, err3 := remote.Update(ctx, "c", 0, &ops.Operation{Kind: ops.Delete}, collection.RemoteUpdate{Ordering: 9})
	for i, err := range []error{err1, err2, err3} {
		if point.KindOf(err) != point.KindBadInput || errors.Is(err, ErrTransport) {
			t.Fatalf("%d: %v", i, err)
		}
	}
	if n := len(fake.seen()); n != 0 {
		t.Fatalf("the replicas saw %d calls", n)
	}
}

// TestPointsDeadlinePropagates: the caller's deadline reaches the
// replica's context; a call without one is bounded by RemoteConfig.Timeout
// (shorter here than the server's DefaultTimeout of a minute), and a call
// of another client without any deadline by the server's DefaultTimeout.
func TestPointsDeadlinePropagates(t *testing.T) {
	fake := &fakeReplicas{}
	remote, addr, _ := pointsPeer(t, fake, RemoteConfig{Timeout: 20 * time.Second})
	dl := time.Now().Add(7 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), dl)
	defer cancel()
	everyCall(ctx, remote)
	start := time.Now()
	everyCall(context.Background(), remote)
	calls := fake.seen()
	if len(calls) != 12 {
		t.Fatalf("%d calls", len(calls))
	}
	for i, c := range calls {
		want := dl
		if i >= 6 {
			want = start.Add(20 * time.Second)
		}
		// The deadline travels as a timeout: it arrives a little earlier
		// or later than sent, by the time the call took.
		if !c.hasDL || c.deadline.Sub(want).Abs() > 2*time.Second {
			t.Fatalf("%s %d: deadline %v (set %v), want about %v", c.method, i, c.deadline, c.hasDL, want)
		}
	}

	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	b, err := ops.CountRequest{}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := p2pv1.NewPointsClient(cc).Count(context.Background(), &p2pv1.CountRequest{Request: b}); err != nil {
		t.Fatal(err)
	}
	c := fake.seen()[12]
	if want := start.Add(time.Minute); !c.hasDL || c.deadline.Sub(want).Abs() > 2*time.Second {
		t.Fatalf("a call without a deadline: deadline %v (set %v), want about %v", c.deadline, c.hasDL, want)
	}
}

// TestPointsCancellation: cancelling the caller's context ends the
// replica's work and the call, which is a transport failure wrapping
// context.Canceled; a deadline that passes likewise wraps
// context.DeadlineExceeded.
func TestPointsCancellation(t *testing.T) {
	fake := &fakeReplicas{block: true, entered: make(chan struct{}, 1), ended: make(chan error, 1)}
	remote, _, _ := pointsPeer(t, fake, RemoteConfig{})
	wait := func(what string, ch chan error) error {
		t.Helper()
		select {
		case err := <-ch:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s within 10 s", what)
		}
		return nil
	}
	for _, c := range []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		cancel bool
		want   error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, true, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, false, context.DeadlineExceeded},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := c.ctx()
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := remote.Search(ctx, "c", 0, ops.SearchRequest{Vector: []float32{1}, Limit: 1})
				done <- err
			}()
			select {
			case <-fake.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the replica was not called within 10 s")
			}
			if c.cancel {
				cancel()
			}
			if err := wait("end of the replica's work", fake.ended); err == nil {
				t.Fatal("the replica's context ended without an error")
			}
			err := wait("answer", done)
			var pe *point.Error
			if !errors.Is(err, c.want) || !errors.Is(err, ErrTransport) || errors.As(err, &pe) {
				t.Fatalf("%v, want a transport failure wrapping %v", err, c.want)
			}
		})
	}
}

// TestPointsMessageSizeBound: a request over the size bound is refused
// (as a bad request, not a transport failure) before the replicas see it:
// by the server, which reads the length before the message, and by the
// client, before it sends; an answer over the bound is refused too.
func TestPointsMessageSizeBound(t *testing.T) {
	const limit = 64 << 10
	ids := make([]point.ID, 40000) // about 80 KB encoded
	for i := range ids {
		ids[i] = point.NumID(uint64(i) + 1<<20)
	}
	check := func(name string, err error, fake *fakeReplicas, calls int) {
		t.Helper()
		var pe *point.Error
		if !errors.As(err, &pe) || pe.Kind != point.KindBadRequest || status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("%s: %v, want a bad request", name, err)
		}
		if n := len(fake.seen()); n != calls {
			t.Fatalf("%s: the replicas saw %d calls, want %d", name, n, calls)
		}
	}
	ctx := context.Background()

	fake := &fakeReplicas{}
	remote, _, _ := pointsPeer(t, fake, RemoteConfig{}, grpc.MaxRecvMsgSize(limit))
	_, err := remote.Retrieve(ctx, "c", 0, ids, ops.PayloadSelector{}, ops.VectorSelector{})
	check("server bound", err, fake, 0)
	if _, err := remote.Retrieve(ctx, "c", 0, ids[:100], ops.PayloadSelector{}, ops.VectorSelector{}); err != nil {
		t.Fatalf("a small request after a refused one: %v", err)
	}

	fake = &fakeReplicas{}
	remote, _, _ = pointsPeer(t, fake, RemoteConfig{MaxMessageSize: limit})
	_, err = remote.Retrieve(ctx, "c", 0, ids, ops.PayloadSelector{}, ops.VectorSelector{})
	check("client bound", err, fake, 0)
	_, err = remote.Search(ctx, "c", 0, ops.SearchRequest{Vector: make([]float32, limit/4), Limit: 1})
	check("client bound, search", err, fake, 0)

	// The answer: 100 records of 1 KB vectors.
	fake.set(func() {
		for i := range 100 {
			fake.records = append(fake.records, collection.Record{ID: point.NumID(uint64(i)), Vectors: point.Vectors{"": make([]float32, 256)}})
		}
	})
	_, err = remote.Retrieve(ctx, "c", 0, ids[:100], ops.PayloadSelector{}, ops.VectorSelector{Enable: true})
	check("answer bound", err, fake, 1)
}
