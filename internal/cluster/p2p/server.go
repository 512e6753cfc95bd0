package p2p

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
	"github.com/shoaldb/shoal/internal/point"
	p2pv1 "github.com/shoaldb/shoal/proto/p2p/v1"
)

// Consensus is the local raft driver as the server uses it;
// *consensus.Node implements it.
type Consensus interface {
	// Step hands a raft message received from a peer to raft; a message
	// that does not decode gives an error wrapping consensus.ErrBadMessage.
	Step(ctx context.Context, data []byte) error
	Status() consensus.Status
}

var _ Consensus = (*consensus.Node)(nil)

// Membership is the cluster's peer table as the server uses it; the node
// implements it.
type Membership interface {
	// AddPeer adds a joining peer (a raft learner whose membership change
	// carries uri) and answers, once that is applied here, with every known
	// peer (the new one included) and the first peer of the cluster.
	AddPeer(ctx context.Context, id uint64, uri string) (peers map[uint64]string, firstPeer uint64, err error)
	// PeerURI returns a known peer's P2P URI.
	PeerURI(id uint64) (string, bool)
}

// Proposer takes metadata operations forwarded by peers that are not the
// raft leader (Cluster.Propose).
type Proposer interface {
	// ProposeForwarded proposes an encoded cluster.Op and waits until it
	// is applied here. The error is a failure to get the op applied at
	// all; a refusal of the state machine is Proposed.Refused.
	ProposeForwarded(ctx context.Context, op []byte) (Proposed, error)
}

// Proposed is the outcome of a forwarded op that was applied.
type Proposed struct {
	Changed bool
	// Refused is the state machine's refusal, sent back inside the
	// response with its kind.
	Refused      error
	Commit, Term uint64
}

// ServerConfig are the dependencies of a Server.
type ServerConfig struct {
	Consensus  Consensus
	Membership Membership
	// Proposer serves Cluster.Propose; without one, Propose answers
	// Unimplemented.
	Proposer Proposer
	// Replicas serves the Points service (updates and reads of the shard
	// replicas this peer holds); without them, Points answers
	// Unimplemented.
	Replicas LocalReplicas
	// TLS makes the URIs built for peers that give only a port https.
	TLS bool
	// DefaultTimeout bounds a WaitCommit, Propose or Points call without a
	// timeout of its own and without a deadline (cluster.grpc_timeout_ms).
	DefaultTimeout time.Duration
	// PollInterval is how often WaitCommit looks at the raft status.
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Server serves the Raft, Cluster and Points services of this peer. It holds no
// goroutines of its own; gRPC runs the handlers.
type Server struct {
	cfg ServerConfig
	log *slog.Logger
}

// NewServer builds a Server; Register puts it on a gRPC server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Consensus == nil || cfg.Membership == nil {
		return nil, errors.New("p2p server: consensus and membership are required")
	}
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = 10 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{cfg: cfg, log: cfg.Logger}, nil
}

// Register registers the Raft, Cluster, Points and ShardTransfer services
// on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	p2pv1.RegisterRaftServer(g, raftService{s: s})
	p2pv1.RegisterClusterServer(g, clusterService{s: s})
	p2pv1.RegisterPointsServer(g, pointsService{s: s})
	p2pv1.RegisterShardTransferServer(g, transferService{s: s})
}

type raftService struct {
	p2pv1.UnimplementedRaftServer
	s *Server
}

// Send steps one raft message.
func (r raftService) Send(ctx context.Context, m *p2pv1.RaftMessage) (*p2pv1.SendResponse, error) {
	if err := r.s.step(ctx, m); err != nil {
		return nil, toStatus(err)
	}
	return &p2pv1.SendResponse{}, nil
}

// SendStream steps raft messages in the order they arrive; the first one
// refused ends the stream with its status.
func (r raftService) SendStream(stream grpc.ClientStreamingServer[p2pv1.RaftMessage, p2pv1.SendResponse]) error {
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&p2pv1.SendResponse{})
		}
		if err != nil {
			return err // the stream broke; gRPC already has its status
		}
		if err := r.s.step(stream.Context(), m); err != nil {
			return toStatus(err)
		}
	}
}

func (s *Server) step(ctx context.Context, m *p2pv1.RaftMessage) error {
	if len(m.GetMessage()) == 0 {
		return fmt.Errorf("%w: empty", consensus.ErrBadMessage)
	}
	if err := s.cfg.Consensus.Step(ctx, m.GetMessage()); err != nil {
		return fmt.Errorf("step raft message: %w", err)
	}
	return nil
}

// AddPeerToKnown adds a joining peer, with Qdrant's semantics: the peer
// gives its URI, or only its port and the URI is built from the address
// its request comes from.
func (r raftService) AddPeerToKnown(ctx context.Context, req *p2pv1.AddPeerToKnownRequest) (*p2pv1.AddPeerToKnownResponse, error) {
	resp, err := r.s.addPeer(ctx, req)
	return resp, toStatus(err)
}

func (s *Server) addPeer(ctx context.Context, req *p2pv1.AddPeerToKnownRequest) (*p2pv1.AddPeerToKnownResponse, error) {
	if req.GetId() == 0 {
		return nil, point.Errorf(point.KindBadInput, "peer id must be positive")
	}
	uri := req.GetUri()
	if uri == "" {
		if req.Port == nil {
			return nil, point.Errorf(point.KindBadInput, "URI or port should be supplied")
		}
		remote := remotePeer(ctx)
		if remote == nil {
			return nil, status.Error(codes.FailedPrecondition, "Remote address unavailable due to the used IO")
		}
		built, err := uriFromAddr(remote, req.GetPort(), s.cfg.TLS)
		if err != nil {
			return nil, point.Errorf(point.KindBadInput, "cannot build the URI of peer %d: %v", req.GetId(), err)
		}
		uri = built
	}
	if _, err := parseURI(uri); err != nil {
		return nil, point.Errorf(point.KindBadInput, "Failed to parse uri: %v", err)
	}
	peers, first, err := s.cfg.Membership.AddPeer(ctx, req.GetId(), uri)
	if err != nil {
		return nil, fmt.Errorf("failed to add peer: %w", err)
	}
	if got, ok := peers[req.GetId()]; !ok || got != uri {
		return nil, fmt.Errorf("failed to add peer after consensus: %s", uri)
	}
	s.log.Info("peer added to known", "peer", req.GetId(), "uri", uri)
	resp := &p2pv1.AddPeerToKnownResponse{FirstPeerId: first}
	for id, u := range peers {
		resp.AllPeers = append(resp.AllPeers, &p2pv1.Peer{Id: id, Uri: u})
	}
	sort.Slice(resp.AllPeers, func(i, j int) bool { return resp.AllPeers[i].Id < resp.AllPeers[j].Id })
	return resp, nil
}

// WhoIs answers a known peer's URI.
func (r raftService) WhoIs(_ context.Context, req *p2pv1.WhoIsRequest) (*p2pv1.WhoIsResponse, error) {
	uri, ok := r.s.cfg.Membership.PeerURI(req.GetId())
	if !ok {
		return nil, toStatus(point.Errorf(point.KindNotFound, "Peer %d not found", req.GetId()))
	}
	return &p2pv1.WhoIsResponse{Uri: uri}, nil
}

type clusterService struct {
	p2pv1.UnimplementedClusterServer
	s *Server
}

// Health answers with this peer's consensus position.
func (c clusterService) Health(context.Context, *p2pv1.HealthRequest) (*p2pv1.HealthResponse, error) {
	st := c.s.cfg.Consensus.Status()
	return &p2pv1.HealthResponse{PeerId: st.ID, Term: st.Term, Commit: st.Commit, Leader: st.Leader}, nil
}

// WaitCommit waits until this peer has applied the log up to req.Commit
// (and reached req.Term), answering ok=false when the timeout passes first.
func (c clusterService) WaitCommit(ctx context.Context, req *p2pv1.WaitCommitRequest) (*p2pv1.WaitCommitResponse, error) {
	ctx, cancel := c.s.withTimeout(ctx, req.GetTimeoutMs())
	defer cancel()
	reached := func() bool {
		st := c.s.cfg.Consensus.Status()
		return st.Applied >= req.GetCommit() && st.Term >= req.GetTerm()
	}
	tick := time.NewTicker(c.s.cfg.PollInterval)
	defer tick.Stop()
	for !reached() {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, toStatus(ctx.Err())
			}
			return &p2pv1.WaitCommitResponse{Ok: false}, nil
		case <-tick.C:
		}
	}
	return &p2pv1.WaitCommitResponse{Ok: true}, nil
}

// Propose proposes an op forwarded by another peer.
func (c clusterService) Propose(ctx context.Context, req *p2pv1.ProposeRequest) (*p2pv1.ProposeResponse, error) {
	if c.s.cfg.Proposer == nil {
		return nil, status.Error(codes.Unimplemented, "this peer does not take forwarded proposals")
	}
	ctx, cancel := c.s.withTimeout(ctx, req.GetTimeoutMs())
	defer cancel()
	r, err := c.s.cfg.Proposer.ProposeForwarded(ctx, req.GetOp())
	if err != nil {
		return nil, toStatus(fmt.Errorf("propose forwarded op: %w", err))
	}
	return &p2pv1.ProposeResponse{Changed: r.Changed, Error: toProtoError(r.Refused), Commit: r.Commit, Term: r.Term}, nil
}

// withTimeout bounds ctx by timeoutMs, or by the default timeout when
// neither the request nor ctx has one.
func (s *Server) withTimeout(ctx context.Context, timeoutMs uint64) (context.Context, context.CancelFunc) {
	if timeoutMs > 0 {
		return context.WithTimeout(ctx, time.Duration(timeoutMs)*time.Millisecond)
	}
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.cfg.DefaultTimeout)
}

func remotePeer(ctx context.Context) net.Addr {
	if p, ok := peer.FromContext(ctx); ok {
		return p.Addr
	}
	return nil
}
