package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"google.golang.org/grpc"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
	"github.com/shoaldb/shoal/internal/cluster/p2p"
	"github.com/shoaldb/shoal/internal/config"
	"github.com/shoaldb/shoal/internal/node"
)

// peerRuntime owns the cluster-mode parts of a running peer: the P2P gRPC
// server, the transport, the consensus goroutine and the health checker.
type peerRuntime struct {
	log    *slog.Logger
	tr     *p2p.Transport
	grpc   *grpc.Server
	cancel context.CancelFunc
	done   chan struct{} // closed when the consensus goroutine returned
	hcDone chan struct{} // nil until the health checker runs
	efDone chan struct{} // closed when the effects retrier returned
	err    error         // of the consensus goroutine, once done
}

// startCluster turns the node into a cluster peer, as Qdrant starts one:
// a first peer (--uri, no --bootstrap) bootstraps a new cluster; a new
// peer with --bootstrap asks that peer to add it (AddPeerToKnown); a peer
// with state on disk rejoins with its id and role, announcing a changed
// URI.
func startCluster(cfg *config.Config, flags config.Flags, n *node.Node, log *slog.Logger) (*peerRuntime, error) {
	storage := cfg.Storage.StoragePath
	raftDir := filepath.Join(storage, "cluster", "raft")
	id, have, err := loadIdentity(storage)
	if err != nil {
		return nil, err
	}
	if flags.Reinit {
		// Qdrant's --reinit: drop the consensus state, keep the peer id;
		// with --bootstrap the state comes back from that peer, without
		// it this peer starts a new cluster alone.
		log.Warn("--reinit: removing the consensus state", "dir", raftDir)
		if err := os.RemoveAll(raftDir); err != nil {
			return nil, fmt.Errorf("reinit: %w", err)
		}
		if err := os.Remove(filepath.Join(storage, "cluster", "effects.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reinit: %w", err)
		}
	} else if !have {
		// Raft state without an identity is a join that never completed.
		if err := os.RemoveAll(raftDir); err != nil {
			return nil, fmt.Errorf("clear unfinished join: %w", err)
		}
	}
	fresh := !have || flags.Reinit
	uri := flags.URI
	if !have {
		id.PeerID = randomPeerID()
		if cfg.Cluster.PeerID != nil {
			id.PeerID = *cfg.Cluster.PeerID
		}
	}
	if uri == "" {
		uri = id.URI
	}
	if uri == "" && flags.Bootstrap == "" {
		return nil, errors.New("cluster mode: the first peer of a cluster needs --uri (its P2P address, e.g. http://node-1:6335)")
	}
	if cfg.Cluster.P2P.Port == nil {
		return nil, errors.New("cluster mode: cluster.p2p.port is not set")
	}
	port := *cfg.Cluster.P2P.Port
	announce := have && !flags.Reinit && id.URI != "" && uri != id.URI

	if err := n.EnableCluster(node.ClusterOptions{PeerID: id.PeerID, URI: uri}); err != nil {
		return nil, err
	}
	tr := p2p.NewTransport(p2p.TransportConfig{ID: id.PeerID, URI: uri, Resolver: n.PeerURI,
		Timeout: cfg.Cluster.GRPCTimeout(), ConnectTimeout: cfg.Cluster.ConnectionTimeout(),
		QueueSize: cfg.Cluster.Consensus.MaxMessageQueueSize, Logger: log})
	first := fresh && flags.Bootstrap == ""
	cons, err := consensus.Open(consensus.Config{
		ID: id.PeerID, Dir: raftDir,
		QueueSize: cfg.Cluster.Consensus.MaxMessageQueueSize, CompactEntries: uint64(cfg.Cluster.Consensus.CompactWALEntries),
		Bootstrap: first, BootstrapContext: []byte(uri), Logger: log,
	}, n.StateMachine(), tr)
	if err != nil {
		tr.Close()
		return nil, fmt.Errorf("open consensus: %w", err)
	}
	tr.SetReporter(cons)
	n.AttachConsensus(cons)
	n.SetSendFailures(func() map[string]node.SendFailure {
		out := map[string]node.SendFailure{}
		for uri, f := range tr.SendFailures() {
			out[uri] = node.SendFailure{Count: f.Count, LatestError: f.LatestError, LatestAt: f.LatestAt}
		}
		return out
	})
	srv, err := p2p.NewServer(p2p.ServerConfig{Consensus: cons, Membership: n, DefaultTimeout: cfg.Cluster.GRPCTimeout(), Logger: log})
	if err != nil {
		tr.Close()
		return nil, err
	}
	g := grpc.NewServer(p2p.ServerOptions()...)
	srv.Register(g)
	// The P2P port has no authentication yet: cluster.p2p.host keeps it
	// on the peers' network when the REST API listens more widely.
	host := cfg.Cluster.P2P.Host
	if host == "" {
		host = cfg.Service.Host
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		tr.Close()
		return nil, fmt.Errorf("listen for peers on %s: %w", addr, err)
	}
	go func() { _ = g.Serve(lis) }()

	ctx, cancel := context.WithCancel(context.Background())
	rt := &peerRuntime{log: log, tr: tr, grpc: g, cancel: cancel, done: make(chan struct{}), efDone: make(chan struct{})}
	go func() {
		defer close(rt.efDone)
		n.RunEffects(ctx, 100*time.Millisecond, 10*time.Second)
	}()
	go func() {
		defer close(rt.done)
		tick := time.NewTicker(cfg.Cluster.Consensus.TickPeriod())
		defer tick.Stop()
		if err := cons.Run(ctx, tick.C); err != nil {
			rt.err = err
			log.Error("consensus stopped", "err", err)
		}
	}()

	if fresh && flags.Bootstrap != "" {
		log.Info("joining the cluster", "peer_id", id.PeerID, "bootstrap", flags.Bootstrap, "uri", uri, "timeout", cfg.Cluster.Consensus.BootstrapTimeout())
		jctx, jcancel := context.WithTimeout(ctx, cfg.Cluster.Consensus.BootstrapTimeout())
		var joined p2p.Joined
		if uri != "" {
			joined, err = tr.Join(jctx, flags.Bootstrap, id.PeerID, uri)
		} else {
			joined, err = tr.JoinWithPort(jctx, flags.Bootstrap, id.PeerID, uint32(port))
			if err == nil {
				uri = joined.Peers[id.PeerID]
			}
		}
		jcancel()
		if err != nil {
			rt.stop()
			return nil, fmt.Errorf("join the cluster through %s: %w", flags.Bootstrap, err)
		}
		n.LearnPeers(joined.Peers)
		log.Info("joined the cluster", "peer_id", id.PeerID, "bootstrap", flags.Bootstrap, "peers", len(joined.Peers))
	}
	id.URI = uri
	if err := saveIdentity(storage, id); err != nil {
		rt.stop()
		return nil, fmt.Errorf("save peer identity: %w", err)
	}
	if announce {
		go func() {
			actx, acancel := context.WithTimeout(ctx, time.Minute)
			defer acancel()
			for actx.Err() == nil {
				if err := n.UpdatePeerURI(actx, id.PeerID, uri); err == nil {
					log.Info("announced the new URI of this peer", "uri", uri)
					return
				}
				time.Sleep(cfg.Cluster.Consensus.TickPeriod() * 10)
			}
		}()
	}
	hc := p2p.NewHealthChecker(tr, p2p.HealthConfig{Self: id.PeerID, Peers: n.Peers})
	n.SetClusterCommit(hc.ClusterCommit)
	rt.hcDone = make(chan struct{})
	go func() {
		defer close(rt.hcDone)
		hc.Run(ctx)
	}()
	log.Info("cluster mode", "peer_id", id.PeerID, "uri", uri, "p2p", lis.Addr().String(), "first_peer", first)
	return rt, nil
}

// stop ends the consensus goroutine, the health checker, the P2P server
// and the transport, in that order.
func (rt *peerRuntime) stop() {
	rt.cancel()
	<-rt.done
	<-rt.efDone
	if rt.hcDone != nil {
		<-rt.hcDone
	}
	rt.grpc.Stop()
	rt.tr.Close()
}
