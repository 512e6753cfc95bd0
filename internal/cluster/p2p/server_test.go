package p2p

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

func dialTest(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func TestAddPeerToKnown(t *testing.T) {
	mem := &fakeMembership{peers: map[uint64]string{1: "http://127.0.0.40:6335"}, first: 1}
	addr := serveFake(t, "127.0.0.40", ServerConfig{Consensus: &fakeConsensus{}, Membership: mem})
	bootstrap := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()

	// Only a port: the URI is built from the caller's address, which is
	// the host of the joining peer's own URI.
	tr, _ := newTestTransport(t, "http://127.0.0.41:7000", nil, 0)
	j, err := tr.JoinWithPort(ctx, bootstrap, 2, 7000)
	if err != nil {
		t.Fatalf("join with port: %v", err)
	}
	if want := "http://127.0.0.41:7000"; j.Peers[2] != want || mem.gotURI != want || j.FirstPeer != 1 || len(j.Peers) != 2 {
		t.Fatalf("joined %+v, membership got %q", j, mem.gotURI)
	}

	// Failures that may pass are retried; refusals are not.
	mem.errs = []error{consensus.ErrTimeout, errors.New("proposal dropped (no leader yet?)")}
	calls := mem.calls
	if _, err := tr.Join(ctx, bootstrap, 3, "http://127.0.0.42:6335"); err != nil {
		t.Fatalf("join after retries: %v", err)
	}
	if mem.calls-calls != 3 {
		t.Fatalf("%d AddPeer calls, want 3", mem.calls-calls)
	}
	mem.errs = []error{point.Errorf(point.KindBadRequest, "peer with URI x already exists with id 9")}
	calls = mem.calls
	_, err = tr.Join(ctx, bootstrap, 4, "http://127.0.0.43:6335")
	if point.KindOf(err) != point.KindBadRequest || status.Code(err) != codes.InvalidArgument || mem.calls-calls != 1 {
		t.Fatalf("refused join: %v (kind %v, code %v), %d calls", err, point.KindOf(err), status.Code(err), mem.calls-calls)
	}
	// Retrying ends with the context.
	mem.errs = []error{consensus.ErrStopped, consensus.ErrStopped, consensus.ErrStopped, consensus.ErrStopped}
	short, cancelShort := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancelShort()
	if _, err := tr.Join(short, bootstrap, 5, "http://127.0.0.44:6335"); err == nil || point.KindOf(err) != point.KindUnavailable {
		t.Fatalf("join until the context ends: %v", err)
	}

	client := p2pv1.NewRaftClient(dialTest(t, addr))
	for name, req := range map[string]*p2pv1.AddPeerToKnownRequest{
		"no id":          {Uri: "http://127.0.0.45:6335"},
		"no uri or port": {Id: 6},
		"bad scheme":     {Id: 6, Uri: "ftp://127.0.0.45:6335"},
		"bad port":       {Id: 6, Uri: "http://127.0.0.45:99999"},
		"port zero":      {Id: 6, Port: new(uint32)},
	} {
		if _, err := client.AddPeerToKnown(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

func TestWhoIsHealthWaitCommit(t *testing.T) {
	fc := &fakeConsensus{status: consensus.Status{ID: 1, Term: 3, Commit: 10, Applied: 8, Leader: 2}}
	mem := &fakeMembership{peers: map[uint64]string{2: "http://127.0.0.51:6335"}}
	addr := serveFake(t, "127.0.0.50", ServerConfig{Consensus: fc, Membership: mem, PollInterval: time.Millisecond})
	cc := dialTest(t, addr)
	raftc, clusterc := p2pv1.NewRaftClient(cc), p2pv1.NewClusterClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()

	if r, err := raftc.WhoIs(ctx, &p2pv1.WhoIsRequest{Id: 2}); err != nil || r.GetUri() != mem.peers[2] {
		t.Fatalf("WhoIs(2) = %v, %v", r, err)
	}
	if _, err := raftc.WhoIs(ctx, &p2pv1.WhoIsRequest{Id: 3}); status.Code(err) != codes.NotFound {
		t.Fatalf("WhoIs(3) = %v, want NotFound", err)
	}
	h, err := clusterc.Health(ctx, &p2pv1.HealthRequest{})
	if err != nil || h.GetPeerId() != 1 || h.GetTerm() != 3 || h.GetCommit() != 10 || h.GetLeader() != 2 {
		t.Fatalf("Health = %v, %v", h, err)
	}

	if r, err := clusterc.WaitCommit(ctx, &p2pv1.WaitCommitRequest{Commit: 8, Term: 3}); err != nil || !r.GetOk() {
		t.Fatalf("WaitCommit(reached) = %v, %v", r, err)
	}
	if r, err := clusterc.WaitCommit(ctx, &p2pv1.WaitCommitRequest{Commit: 9, TimeoutMs: 20}); err != nil || r.GetOk() {
		t.Fatalf("WaitCommit(timeout) = %v, %v", r, err)
	}
	got := make(chan *p2pv1.WaitCommitResponse, 1)
	go func() {
		r, err := clusterc.WaitCommit(ctx, &p2pv1.WaitCommitRequest{Commit: 10, TimeoutMs: uint64(waitLong.Milliseconds())})
		if err != nil {
			t.Errorf("WaitCommit: %v", err)
		}
		got <- r
	}()
	fc.setStatus(consensus.Status{ID: 1, Term: 3, Commit: 10, Applied: 10, Leader: 2})
	if r := <-got; !r.GetOk() {
		t.Fatal("WaitCommit did not see the applied index advance")
	}
}

type fakeProposer struct {
	r   Proposed
	err error
}

func (f fakeProposer) ProposeForwarded(context.Context, []byte) (Proposed, error) {
	return f.r, f.err
}

func TestPropose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	req := &p2pv1.ProposeRequest{Op: []byte(`{}`)}
	none := p2pv1.NewClusterClient(dialTest(t, serveFake(t, "127.0.0.60", ServerConfig{Consensus: &fakeConsensus{}, Membership: &fakeMembership{}})))
	if _, err := none.Propose(ctx, req); status.Code(err) != codes.Unimplemented {
		t.Fatalf("without a proposer: %v", err)
	}
	for _, tc := range []struct {
		name     string
		p        fakeProposer
		wantCode codes.Code
		wantKind point.Kind
	}{
		{name: "applied", p: fakeProposer{r: Proposed{Changed: true, Commit: 7, Term: 2}}},
		{name: "refused", p: fakeProposer{r: Proposed{Refused: point.CollectionNotFound("c")}}, wantKind: point.KindNotFound},
		{name: "timeout", p: fakeProposer{err: consensus.ErrTimeout}, wantCode: codes.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := p2pv1.NewClusterClient(dialTest(t, serveFake(t, "127.0.0.61", ServerConfig{Consensus: &fakeConsensus{}, Membership: &fakeMembership{}, Proposer: tc.p})))
			r, err := c.Propose(ctx, req)
			if status.Code(err) != tc.wantCode {
				t.Fatalf("code %v, want %v", err, tc.wantCode)
			}
			if err != nil {
				return
			}
			if applyErr := fromProtoError(r.GetError()); point.KindOf(applyErr) != tc.wantKind || (applyErr == nil) != (tc.p.r.Refused == nil) {
				t.Fatalf("application error %v, want kind %v", applyErr, tc.wantKind)
			}
			if r.GetChanged() != tc.p.r.Changed || r.GetCommit() != tc.p.r.Commit || r.GetTerm() != tc.p.r.Term {
				t.Fatalf("response %v", r)
			}
		})
	}
}
