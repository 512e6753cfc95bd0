package p2p

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"google.golang.org/grpc"

	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// Conns gives the connection to a peer and the URI it goes to;
// *Transport implements it.
type Conns interface {
	Conn(id uint64) (grpc.ClientConnInterface, string, error)
}

// HealthConfig configures a HealthChecker.
type HealthConfig struct {
	// Self is this peer's id, never pinged.
	Self uint64
	// Peers returns the peers to ping (by id; the URIs come from Conns).
	Peers func() map[uint64]string
	// Interval between two rounds of pings (default 1 s).
	Interval time.Duration
	// Timeout of one ping (default: Interval).
	Timeout time.Duration
}

// PeerHealth is what the latest pings of one peer found.
type PeerHealth struct {
	URI string
	// ConsecutiveFailures is 0 once a ping succeeds.
	ConsecutiveFailures int
	LatestError         string
	LatestErrorAt       time.Time
	// Latency of the latest successful ping, answered at LastOK.
	Latency time.Duration
	LastOK  time.Time
	// The peer's consensus position, as it answered last.
	Term, Commit, Leader uint64
}

// Healthy reports whether the latest ping of the peer succeeded.
func (p PeerHealth) Healthy() bool { return p.ConsecutiveFailures == 0 && !p.LastOK.IsZero() }

// HealthChecker pings every known peer periodically (Cluster.Health). Its
// Run goroutine belongs to the caller; Snapshot may be read concurrently.
type HealthChecker struct {
	cfg   HealthConfig
	conns Conns

	mu    sync.Mutex
	peers map[uint64]PeerHealth
	round uint64
	done  chan struct{} // closed and replaced after every round
}

// NewHealthChecker builds a checker; Run starts it.
func NewHealthChecker(conns Conns, cfg HealthConfig) *HealthChecker {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = cfg.Interval
	}
	return &HealthChecker{cfg: cfg, conns: conns, peers: map[uint64]PeerHealth{}, done: make(chan struct{})}
}

// Run pings the peers every Interval until ctx ends.
func (h *HealthChecker) Run(ctx context.Context) {
	tick := time.NewTicker(h.cfg.Interval)
	defer tick.Stop()
	for {
		h.CheckAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// CheckAll pings every known peer once, concurrently, and returns when all
// pings are answered or timed out. Peers no longer known are forgotten.
func (h *HealthChecker) CheckAll(ctx context.Context) {
	var known map[uint64]string
	if h.cfg.Peers != nil {
		known = h.cfg.Peers()
	}
	var wg sync.WaitGroup
	for id := range known {
		if id == h.cfg.Self {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.check(ctx, id)
		}()
	}
	wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range h.peers {
		if _, ok := known[id]; !ok {
			delete(h.peers, id)
		}
	}
	h.round++
	close(h.done)
	h.done = make(chan struct{})
}

func (h *HealthChecker) check(ctx context.Context, id uint64) {
	start := time.Now()
	resp, uri, err := h.ping(ctx, id)
	if ctx.Err() != nil {
		return // shutting down: not the peer's fault
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ph := h.peers[id]
	if uri != "" {
		ph.URI = uri
	}
	if err != nil {
		ph.ConsecutiveFailures++
		ph.LatestError = err.Error()
		ph.LatestErrorAt = time.Now()
	} else {
		ph.ConsecutiveFailures = 0
		ph.Latency = time.Since(start)
		ph.LastOK = time.Now()
		ph.Term, ph.Commit, ph.Leader = resp.GetTerm(), resp.GetCommit(), resp.GetLeader()
	}
	h.peers[id] = ph
}

func (h *HealthChecker) ping(ctx context.Context, id uint64) (*p2pv1.HealthResponse, string, error) {
	cc, uri, err := h.conns.Conn(id)
	if err != nil {
		return nil, uri, fmt.Errorf("health check of peer %d: %w", id, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	resp, err := p2pv1.NewClusterClient(cc).Health(ctx, &p2pv1.HealthRequest{})
	if err != nil {
		return nil, uri, fmt.Errorf("health check of peer %d at %s: %w", id, uri, fromStatus(err))
	}
	if resp.GetPeerId() != id {
		return nil, uri, fmt.Errorf("health check of peer %d at %s: %w (it is peer %d)", id, uri, errWrongPeer, resp.GetPeerId())
	}
	return resp, uri, nil
}

var errWrongPeer = errors.New("another peer answers at this URI")

// Snapshot returns the latest findings by peer id.
func (h *HealthChecker) Snapshot() map[uint64]PeerHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.peers)
}

// Rounds returns the number of completed rounds and a channel closed when
// the current round completes, so that a caller can wait for fresh results
// without polling.
func (h *HealthChecker) Rounds() (uint64, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.round, h.done
}

// ClusterCommit is the cluster's commit index as the latest pings found
// it, Qdrant's way: the highest commit among the peers that answered, once
// at least half of the cluster (counting this peer) answered; ok is false
// before that. A peer whose own applied index is below it is not caught
// up (GET /readyz).
func (h *HealthChecker) ClusterCommit() (commit uint64, ok bool) {
	total := 1
	if h.cfg.Peers != nil {
		total = len(h.cfg.Peers())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	answered := 0
	for id, ph := range h.peers {
		if id == h.cfg.Self || !ph.Healthy() {
			continue
		}
		answered++
		commit = max(commit, ph.Commit)
	}
	return commit, total <= 1 || answered >= total/2
}
