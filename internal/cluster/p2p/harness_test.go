package p2p

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testSM is a consensus state machine that records applied ops and the
// URIs carried by membership changes.
type testSM struct {
	mu   sync.Mutex
	ops  []string
	uris map[uint64]string
}

type smState struct {
	Ops  []string          `json:"ops"`
	URIs map[uint64]string `json:"uris"`
}

func newTestSM() *testSM { return &testSM{uris: map[uint64]string{}} }

func (s *testSM) Apply(_ uint64, data []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, string(data))
	return len(s.ops), nil
}

func (s *testSM) ApplyMembership(_ uint64, ch consensus.Membership) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case ch.Kind == consensus.RemovePeer:
		delete(s.uris, ch.Peer)
	case len(ch.Context) > 0:
		s.uris[ch.Peer] = string(ch.Context)
	}
	return nil
}

func (s *testSM) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(smState{Ops: s.ops, URIs: s.uris})
}

func (s *testSM) Restore(_ uint64, data []byte) error {
	var st smState
	if err := json.Unmarshal(data, &st); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops, s.uris = st.Ops, st.URIs
	if s.uris == nil {
		s.uris = map[uint64]string{}
	}
	return nil
}

func (s *testSM) applied() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ops)
}

// testPeer is one consensus node wired only through Transport and Server.
type testPeer struct {
	t    *testing.T
	id   uint64
	addr string // host:port of its P2P server
	uri  string
	sm   *testSM
	node *consensus.Node
	tr   *Transport
	srv  *grpc.Server

	mu      sync.Mutex
	learned map[uint64]string // from Join

	stopNode context.CancelFunc
	wg       sync.WaitGroup // the node's Run and the server's Serve
}

// AddPeer is the Membership the lead engineer's node implements: a learner
// whose conf change carries the URI.
func (p *testPeer) AddPeer(ctx context.Context, id uint64, uri string) (map[uint64]string, uint64, error) {
	if known, ok := p.PeerURI(id); !ok || known != uri {
		err := p.node.ChangeMembership(ctx, consensus.Membership{Kind: consensus.AddLearner, Peer: id, Context: []byte(uri)})
		if err != nil {
			return nil, 0, fmt.Errorf("add learner %d: %w", id, err)
		}
	}
	return p.peers(), slices.Min(p.node.Status().Voters), nil
}

func (p *testPeer) PeerURI(id uint64) (string, bool) {
	p.sm.mu.Lock()
	uri, ok := p.sm.uris[id]
	p.sm.mu.Unlock()
	if ok {
		return uri, true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	uri, ok = p.learned[id]
	return uri, ok
}

func (p *testPeer) peers() map[uint64]string {
	out := map[uint64]string{}
	p.mu.Lock()
	for id, uri := range p.learned {
		out[id] = uri
	}
	p.mu.Unlock()
	p.sm.mu.Lock()
	for id, uri := range p.sm.uris {
		out[id] = uri
	}
	p.sm.mu.Unlock()
	return out
}

// startPeer opens a consensus node on host (a loopback address), serves
// its P2P services on a free port and runs the node.
func startPeer(t *testing.T, id uint64, host string, bootstrap bool) *testPeer {
	t.Helper()
	lis, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p := &testPeer{t: t, id: id, addr: lis.Addr().String(), sm: newTestSM(), learned: map[uint64]string{}}
	p.uri = "http://" + p.addr
	p.tr = NewTransport(TransportConfig{ID: id, URI: p.uri, Resolver: p.PeerURI,
		Timeout: 2 * time.Second, ConnectTimeout: 500 * time.Millisecond, Logger: quiet})
	cfg := consensus.Config{ID: id, Dir: t.TempDir(), Logger: quiet,
		Bootstrap: bootstrap, BootstrapContext: []byte(p.uri)}
	p.node, err = consensus.Open(cfg, p.sm, p.tr)
	if err != nil {
		t.Fatalf("open consensus node %d: %v", id, err)
	}
	p.tr.SetReporter(p.node)
	p.serve(lis)
	ctx, cancel := context.WithCancel(context.Background())
	p.stopNode = cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		if err := p.node.Run(ctx, tick.C); err != nil {
			t.Errorf("node %d: %v", id, err)
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *testPeer) serve(lis net.Listener) {
	srv, err := NewServer(ServerConfig{Consensus: p.node, Membership: p, Logger: quiet})
	if err != nil {
		p.t.Fatalf("new server: %v", err)
	}
	p.srv = grpc.NewServer(ServerOptions()...)
	srv.Register(p.srv)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.srv.Serve(lis)
	}()
}

// stopServer stops the P2P server only; the node keeps running.
func (p *testPeer) stopServer() { p.srv.Stop() }

// restartServer serves again on the same address.
func (p *testPeer) restartServer() {
	lis, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("listen again on %s: %v", p.addr, err)
	}
	p.serve(lis)
}

func (p *testPeer) close() {
	p.srv.Stop()
	p.stopNode()
	p.wg.Wait()
	if err := p.tr.Close(); err != nil {
		p.t.Errorf("close transport %d: %v", p.id, err)
	}
}

func (p *testPeer) join(ctx context.Context, through *testPeer) {
	p.t.Helper()
	j, err := p.tr.Join(ctx, through.uri, p.id, p.uri)
	if err != nil {
		p.t.Fatalf("peer %d joins through %d: %v", p.id, through.id, err)
	}
	if j.Peers[p.id] != p.uri || j.Peers[through.id] != through.uri {
		p.t.Fatalf("join answered peers %v", j.Peers)
	}
	p.mu.Lock()
	for id, uri := range j.Peers {
		p.learned[id] = uri
	}
	p.mu.Unlock()
}

// runHealth runs a health checker of p until the test ends.
func (p *testPeer) runHealth(t *testing.T) *HealthChecker {
	h := NewHealthChecker(p.tr, HealthConfig{Self: p.id, Peers: p.peers, Interval: 50 * time.Millisecond, Timeout: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return h
}
