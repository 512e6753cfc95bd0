package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// MaxMessageSize bounds one P2P gRPC message either way: raft snapshots of
// the metadata state travel as one message.
const MaxMessageSize = 256 << 20

// ServerOptions are the gRPC server options the P2P services need (the
// message size of raft snapshots); the caller adds its own (TLS).
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize)}
}

// Reporter is told about raft messages that could not be delivered, and
// how the delivery of every snapshot ended; *consensus.Node implements it.
type Reporter interface {
	Unreachable(peer uint64)
	ReportSnapshot(peer uint64, delivered bool)
}

// TransportConfig configures a Transport.
type TransportConfig struct {
	// ID is this peer's id; messages to it are dropped.
	ID uint64
	// URI is this peer's own P2P URI; a loopback host is dialed from.
	URI string
	// Resolver returns a peer's current P2P URI; it is asked before every
	// message, so a changed URI is picked up (and re-dialed) at once. It is
	// also called from Send, on the consensus goroutine, so it must never
	// wait for consensus.
	Resolver func(id uint64) (string, bool)
	// Timeout bounds one call to a peer (cluster.grpc_timeout_ms).
	Timeout time.Duration
	// ConnectTimeout bounds establishing a connection
	// (cluster.connection_timeout_ms).
	ConnectTimeout time.Duration
	// QueueSize bounds the messages waiting for one peer; a message that
	// does not fit is dropped and reported (consensus.max_message_queue_size).
	QueueSize int
	// Credentials secure the connections (cluster.p2p.enable_tls); nil
	// dials in plain text.
	Credentials credentials.TransportCredentials
	Logger      *slog.Logger
}

// SendFailure counts the consecutive failures to send raft messages to one
// peer URI, Qdrant's MessageSendErrors; the entry goes away at the first
// success.
type SendFailure struct {
	Count       int
	LatestError string
	LatestAt    time.Time
}

// Transport sends raft messages to peers over gRPC and implements
// consensus.Transport. It owns one sender goroutine per peer, started by the
// first message to that peer, and stops them all in Close.
type Transport struct {
	cfg      TransportConfig
	log      *slog.Logger
	local    *net.TCPAddr
	reporter atomic.Pointer[Reporter]

	ctx    context.Context // cancelled by Close; parent of every call
	cancel context.CancelFunc
	wg     sync.WaitGroup // the sender goroutines

	mu     sync.Mutex
	closed bool
	queues map[uint64]*peerQueue
	conns  map[uint64]*peerConn

	fmu      sync.Mutex
	failures map[string]SendFailure // by peer URI
}

var (
	_ consensus.Transport = (*Transport)(nil)
	_ Reporter            = (*consensus.Node)(nil)
)

type peerQueue struct {
	ch     chan consensus.Message
	cancel context.CancelFunc
}

type peerConn struct {
	uri string
	cc  *grpc.ClientConn
}

var (
	errClosed       = errors.New("p2p transport is closed")
	errQueueFull    = errors.New("outbound message queue is full")
	errUnknownPeer  = errors.New("peer URI is unknown")
	errNoResolution = errors.New("p2p transport has no resolver")
)

// NewTransport builds a Transport; it starts nothing until the first Send.
func NewTransport(cfg TransportConfig) *Transport {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.Credentials == nil {
		cfg.Credentials = insecure.NewCredentials()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Transport{cfg: cfg, log: cfg.Logger, local: localDialAddr(cfg.URI), ctx: ctx, cancel: cancel,
		queues: map[uint64]*peerQueue{}, conns: map[uint64]*peerConn{}, failures: map[string]SendFailure{}}
}

// SetReporter installs who is told about undeliverable messages (the
// consensus node, which is built after its transport).
func (t *Transport) SetReporter(r Reporter) { t.reporter.Store(&r) }

// Send queues raft messages for their peers without blocking; a message
// whose peer queue is full is dropped and reported, as raft resends.
func (t *Transport) Send(msgs []consensus.Message) {
	for _, m := range msgs {
		if m.To == 0 || m.To == t.cfg.ID {
			continue
		}
		q, err := t.queue(m.To)
		if err != nil {
			return // closed
		}
		select {
		case q.ch <- m:
		default:
			uri, _ := t.resolve(m.To)
			t.failed(m.To, uri, errQueueFull)
			t.snapshotDone(m, false)
		}
	}
}

// snapshotDone ends the delivery of a snapshot message with a report to
// raft, which keeps the peer paused until it hears one.
func (t *Transport) snapshotDone(m consensus.Message, delivered bool) {
	if !m.Snapshot {
		return
	}
	if r := t.reporter.Load(); r != nil {
		(*r).ReportSnapshot(m.To, delivered)
	}
	if !delivered {
		t.log.Info("raft snapshot not delivered; raft sends it again", "peer", m.To)
	}
}

// queue returns a peer's outbound queue, starting its sender.
func (t *Transport) queue(id uint64) (*peerQueue, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errClosed
	}
	if q, ok := t.queues[id]; ok {
		return q, nil
	}
	ctx, cancel := context.WithCancel(t.ctx)
	q := &peerQueue{ch: make(chan consensus.Message, t.cfg.QueueSize), cancel: cancel}
	t.queues[id] = q
	t.wg.Add(1)
	go t.run(ctx, id, q.ch)
	return q, nil
}

// run is a peer's sender: it delivers the peer's messages one at a time,
// in order, until its context ends (Forget or Close).
func (t *Transport) run(ctx context.Context, id uint64, ch <-chan consensus.Message) {
	defer t.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-ch:
			t.snapshotDone(m, t.deliver(ctx, id, m))
		}
	}
}

// deliver sends one message and reports whether it arrived.
func (t *Transport) deliver(ctx context.Context, id uint64, m consensus.Message) bool {
	if ctx.Err() != nil {
		return false // stopping: drop what is still queued
	}
	cc, uri, err := t.Conn(id)
	if err != nil {
		if ctx.Err() == nil {
			t.failed(id, uri, err)
		}
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	_, err = p2pv1.NewRaftClient(cc).Send(cctx, &p2pv1.RaftMessage{Message: m.Data})
	cancel()
	switch {
	case err == nil:
		t.succeeded(id, uri)
		return true
	case ctx.Err() != nil:
		// Shutting down (or forgetting the peer): not the peer's fault.
	default:
		t.failed(id, uri, fmt.Errorf("send raft message to peer %d at %s: %w", id, uri, err))
	}
	return false
}

func (t *Transport) failed(id uint64, uri string, err error) {
	if r := t.reporter.Load(); r != nil {
		(*r).Unreachable(id)
	}
	if uri == "" {
		t.log.Debug("raft message not sent", "peer", id, "err", err)
		return
	}
	t.fmu.Lock()
	f := t.failures[uri]
	f.Count++
	f.LatestError = err.Error()
	f.LatestAt = time.Now()
	t.failures[uri] = f
	t.fmu.Unlock()
	if f.Count == 1 {
		t.log.Warn("cannot send raft messages to peer", "peer", id, "uri", uri, "err", err)
	}
}

func (t *Transport) succeeded(id uint64, uri string) {
	t.fmu.Lock()
	f, ok := t.failures[uri]
	delete(t.failures, uri)
	t.fmu.Unlock()
	if ok {
		t.log.Info("raft messages reach peer again", "peer", id, "uri", uri, "failures", f.Count)
	}
}

// SendFailures returns the consecutive send failures by peer URI (GET
// /cluster's message_send_failures).
func (t *Transport) SendFailures() map[string]SendFailure {
	t.fmu.Lock()
	defer t.fmu.Unlock()
	return maps.Clone(t.failures)
}

func (t *Transport) resolve(id uint64) (string, error) {
	if t.cfg.Resolver == nil {
		return "", errNoResolution
	}
	uri, ok := t.cfg.Resolver(id)
	if !ok || uri == "" {
		return "", fmt.Errorf("peer %d: %w", id, errUnknownPeer)
	}
	return uri, nil
}

// Conn returns the connection to a peer and the URI it goes to, dialing
// lazily and re-dialing when the peer's URI changed. Other clients of the
// peer's P2P services (health checks, forwarded proposals) share it.
func (t *Transport) Conn(id uint64) (grpc.ClientConnInterface, string, error) {
	uri, err := t.resolve(id)
	if err != nil {
		return nil, "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, uri, errClosed
	}
	if pc, ok := t.conns[id]; ok {
		if pc.uri == uri {
			return pc.cc, uri, nil
		}
		t.log.Info("peer URI changed; reconnecting", "peer", id, "old", pc.uri, "new", uri)
		_ = pc.cc.Close()
		delete(t.conns, id)
	}
	cc, err := t.dialURI(uri)
	if err != nil {
		return nil, uri, err
	}
	t.conns[id] = &peerConn{uri: uri, cc: cc}
	return cc, uri, nil
}

// dialURI creates a client for a P2P URI; the connection itself is made
// on first use and re-made after failures by gRPC, with a short backoff so
// that a restarted peer is reached again quickly.
func (t *Transport) dialURI(uri string) (*grpc.ClientConn, error) {
	addr, err := parseURI(uri)
	if err != nil {
		return nil, err
	}
	cc, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(t.cfg.Credentials),
		grpc.WithContextDialer(t.dial),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: t.cfg.ConnectTimeout,
		}))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", uri, err)
	}
	return cc, nil
}

// dial opens a TCP connection, from this peer's loopback host when it has
// one and the target is not a non-loopback IP.
func (t *Transport) dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: t.cfg.ConnectTimeout}
	if t.local != nil {
		d.LocalAddr = t.local
		if ap, err := netip.ParseAddrPort(addr); err == nil && !ap.Addr().IsLoopback() {
			d.LocalAddr = nil
		}
	}
	return d.DialContext(ctx, "tcp", addr)
}

// Forget stops sending to a peer that left the cluster: its queued
// messages are dropped, its connection closed and its failures cleared.
func (t *Transport) Forget(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if q, ok := t.queues[id]; ok {
		q.cancel()
		delete(t.queues, id)
	}
	if pc, ok := t.conns[id]; ok {
		_ = pc.cc.Close()
		delete(t.conns, id)
		t.fmu.Lock()
		delete(t.failures, pc.uri)
		t.fmu.Unlock()
	}
}

// Close stops every sender, waits for them and closes the connections.
// Messages sent afterwards are dropped.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.cancel() // before closed, so that a sender that sees closed sees its context done
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for id, pc := range t.conns {
		if err := pc.cc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close connection to peer %d: %w", id, err))
		}
	}
	clear(t.conns)
	return errors.Join(errs...)
}
