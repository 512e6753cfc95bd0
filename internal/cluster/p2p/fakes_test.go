package p2p

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
)

// fakeConsensus records stepped messages with their sender's address; a
// non-nil gate blocks Step until it is closed (after signalling entered).
type fakeConsensus struct {
	mu      sync.Mutex
	status  consensus.Status
	steps   []string
	sources []string
	gate    chan struct{}
	entered chan struct{}
}

func (f *fakeConsensus) Step(ctx context.Context, data []byte) error {
	if string(data) == "bad" {
		return fmt.Errorf("fake: %w", consensus.ErrBadMessage)
	}
	f.mu.Lock()
	gate, entered := f.gate, f.entered
	f.mu.Unlock()
	if gate != nil {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	src := ""
	if p, ok := peer.FromContext(ctx); ok {
		src, _, _ = net.SplitHostPort(p.Addr.String())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps = append(f.steps, string(data))
	f.sources = append(f.sources, src)
	return nil
}

func (f *fakeConsensus) Status() consensus.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeConsensus) setStatus(st consensus.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = st
}

func (f *fakeConsensus) stepped() (steps, sources []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.steps...), append([]string(nil), f.sources...)
}

// fakeMembership answers AddPeer from a script of errors, then adds.
type fakeMembership struct {
	mu     sync.Mutex
	peers  map[uint64]string
	first  uint64
	errs   []error // returned by the next AddPeer calls, in order
	calls  int
	gotURI string
}

func (f *fakeMembership) AddPeer(_ context.Context, id uint64, uri string) (map[uint64]string, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.gotURI = uri
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, 0, err
	}
	f.peers[id] = uri
	out := map[uint64]string{}
	for k, v := range f.peers {
		out[k] = v
	}
	return out, f.first, nil
}

func (f *fakeMembership) PeerURI(id uint64) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	uri, ok := f.peers[id]
	return uri, ok
}

// serveFake serves a Server over fakes on host:0 and returns its address.
func serveFake(t *testing.T, host string, cfg ServerConfig) string {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(ServerOptions()...)
	srv.Register(g)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = g.Serve(lis)
	}()
	t.Cleanup(func() {
		g.Stop()
		<-done
	})
	return lis.Addr().String()
}

// countingReporter counts Unreachable reports by peer, and the snapshot
// reports in order.
type countingReporter struct {
	mu    sync.Mutex
	n     map[uint64]int
	snaps []snapReport
}

type snapReport struct {
	peer      uint64
	delivered bool
}

func (r *countingReporter) ReportSnapshot(id uint64, delivered bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snaps = append(r.snaps, snapReport{id, delivered})
}

func (r *countingReporter) snapshots() []snapReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]snapReport(nil), r.snaps...)
}

func (r *countingReporter) Unreachable(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[uint64]int{}
	}
	r.n[id]++
}

func (r *countingReporter) count(id uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[id]
}
