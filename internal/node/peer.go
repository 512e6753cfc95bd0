package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/shoaldb/shoal/internal/cluster/consensus"
	"github.com/shoaldb/shoal/internal/cluster/p2p"
	"github.com/shoaldb/shoal/internal/collection"
)

// PeerConfig is what a cluster peer needs besides the node's own Options:
// Qdrant's command line (--uri, --bootstrap, --reinit) and its cluster.*
// settings.
type PeerConfig struct {
	// URI is this peer's P2P address as the other peers dial it (--uri).
	// Empty keeps the one saved at the last start; a first start without
	// it needs Bootstrap (the bootstrap peer builds it from the address
	// the join comes from).
	URI string
	// Bootstrap is the P2P URI of a peer of the cluster to join
	// (--bootstrap). Empty: start a new cluster, or rejoin with the state
	// on disk.
	Bootstrap string
	// Reinit drops the consensus state, keeping the peer id (--reinit).
	Reinit bool
	// PeerID is the id of a first start (cluster.peer_id); 0 picks one at
	// random in 1..2^53-1. A restart keeps the saved one.
	PeerID uint64
	// Listen is the host:port the P2P gRPC server listens on, unless
	// Listener is given: then the peer serves on it (and closes it).
	Listen   string
	Listener net.Listener

	TickPeriod       time.Duration // consensus.tick_period_ms (default 100 ms)
	BootstrapTimeout time.Duration // consensus.bootstrap_timeout_sec (default 15 s)
	CompactEntries   uint64        // consensus.compact_wal_entries; 0 never compacts
	QueueSize        int           // consensus.max_message_queue_size
	GRPCTimeout      time.Duration // cluster.grpc_timeout_ms (default 10 s)
	ConnectTimeout   time.Duration // cluster.connection_timeout_ms (default 1 s)
	// Timeout bounds a metadata operation without a deadline of its own
	// (default 30 s, Qdrant's).
	Timeout time.Duration
	// HealthInterval is how often peers are pinged (default 1 s).
	HealthInterval time.Duration
	// Version is the Qdrant version this peer speaks, which it records in
	// the cluster state as its metadata (Qdrant's PeerMetadata); empty
	// records none.
	Version string
	// ListenerNode: storage.node_type is Listener; the peer's replicas
	// are activated as Listener replicas (updates, no reads).
	ListenerNode bool
	// ActivationRetry is how often the activation of a local replica is
	// proposed again until committed (default 1 s).
	ActivationRetry time.Duration
	// IncomingTransfers and OutgoingTransfers bound the transfers
	// automatic recovery runs to and from one peer
	// (storage.performance.*_shard_transfers_limit); nil: 1, as Qdrant;
	// negative: unlimited.
	IncomingTransfers, OutgoingTransfers *int
}

func (pc *PeerConfig) defaults() {
	if pc.TickPeriod <= 0 {
		pc.TickPeriod = 100 * time.Millisecond
	}
	if pc.BootstrapTimeout <= 0 {
		pc.BootstrapTimeout = 15 * time.Second
	}
	if pc.GRPCTimeout <= 0 {
		pc.GRPCTimeout = 10 * time.Second
	}
	if pc.ConnectTimeout <= 0 {
		pc.ConnectTimeout = time.Second
	}
	if pc.HealthInterval <= 0 {
		pc.HealthInterval = time.Second
	}
	if pc.ActivationRetry <= 0 {
		pc.ActivationRetry = time.Second
	}
}

// peerRuntime owns every goroutine of a running cluster peer: the P2P
// gRPC server, the consensus driver and its clock, the health checker, the
// effects retrier and the announcement of a changed URI. stop ends them
// all; nothing else starts or stops them.
type peerRuntime struct {
	tr     *p2p.Transport
	grpc   *grpc.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu  sync.Mutex
	err error // of the consensus driver, once it stopped
}

// OpenPeer opens the storage like Open and returns the node running as a
// cluster peer, as Qdrant starts one: a first peer (URI, no Bootstrap)
// bootstraps a new cluster as its only voter; a new peer with Bootstrap
// asks that peer to add it (AddPeerToKnown) and waits until it is added; a
// peer with state on disk rejoins with its id, announcing a changed URI.
// Every goroutine it starts belongs to the node and stops in Close.
func OpenPeer(opts Options, pc PeerConfig) (*Node, error) {
	pc.defaults()
	n, err := Open(opts)
	if err != nil {
		return nil, err
	}
	if err := n.startPeer(pc); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

func (n *Node) startPeer(pc PeerConfig) error {
	log := n.log
	storage := n.opts.StoragePath
	raftDir := filepath.Join(storage, "cluster", "raft")
	id, have, err := loadIdentity(n.fs, storage)
	if err != nil {
		return err
	}
	if pc.Reinit {
		// Qdrant's --reinit: drop the consensus state, keep the peer id;
		// with Bootstrap the state comes back from that peer, without it
		// this peer starts a new cluster alone.
		log.Warn("--reinit: removing the consensus state", "dir", raftDir)
		if err := n.fs.RemoveAll(raftDir); err != nil {
			return fmt.Errorf("reinit: %w", err)
		}
		if err := n.fs.Remove(filepath.Join(storage, "cluster", "effects.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reinit: %w", err)
		}
	} else if !have {
		// Raft state without an identity is a join that never completed.
		if err := n.fs.RemoveAll(raftDir); err != nil {
			return fmt.Errorf("clear unfinished join: %w", err)
		}
	}
	fresh := !have || pc.Reinit
	if !have {
		id.PeerID = pc.PeerID
		if id.PeerID == 0 {
			id.PeerID = randomPeerID()
		}
	}
	lis := pc.Listener
	if lis == nil {
		if lis, err = net.Listen("tcp", pc.Listen); err != nil {
			return fmt.Errorf("listen for peers on %s: %w", pc.Listen, err)
		}
	}
	uri := pc.URI
	if uri == "" {
		uri = id.URI
	}
	if uri == "" && pc.Bootstrap == "" {
		lis.Close()
		return errors.New("cluster mode: the first peer of a cluster needs --uri (its P2P address, e.g. http://node-1:6335)")
	}
	announce := have && !pc.Reinit && id.URI != "" && uri != id.URI

	if err := n.enableCluster(ClusterOptions{PeerID: id.PeerID, URI: uri, Timeout: pc.Timeout, Listener: pc.ListenerNode}); err != nil {
		lis.Close()
		return err
	}
	cl := n.cl
	tr := p2p.NewTransport(p2p.TransportConfig{ID: id.PeerID, URI: uri, Resolver: n.PeerURI,
		Timeout: pc.GRPCTimeout, ConnectTimeout: pc.ConnectTimeout, QueueSize: pc.QueueSize, Logger: log})
	// The collections reach the replicas on other peers through the same
	// transport; consensus may restore collections as it opens, so the
	// remotes are there first.
	cl.remotes.build = func(peer uint64) collection.Remote {
		return p2p.NewRemotePeer(tr, peer, p2p.RemoteConfig{Timeout: pc.GRPCTimeout})
	}
	first := fresh && pc.Bootstrap == ""
	cons, err := consensus.Open(consensus.Config{
		ID: id.PeerID, Dir: raftDir, FS: n.fs, QueueSize: pc.QueueSize, CompactEntries: pc.CompactEntries,
		Bootstrap: first, BootstrapContext: []byte(uri), Logger: log,
	}, cl, tr)
	if err != nil {
		lis.Close()
		tr.Close()
		return fmt.Errorf("open consensus: %w", err)
	}
	tr.SetReporter(cons)
	hc := p2p.NewHealthChecker(tr, p2p.HealthConfig{Self: id.PeerID, Peers: n.Peers, Interval: pc.HealthInterval})
	// Everything the running peer reads is in place before its first
	// goroutine starts.
	cl.cons = cons
	cl.failures = func() map[string]SendFailure {
		out := map[string]SendFailure{}
		for uri, f := range tr.SendFailures() {
			out[uri] = SendFailure{Count: f.Count, LatestError: f.LatestError, LatestAt: f.LatestAt}
		}
		return out
	}
	cl.commit = hc.ClusterCommit
	cl.health = hc.Snapshot
	cl.limits = transferLimits{in: limitOf(pc.IncomingTransfers), out: limitOf(pc.OutgoingTransfers)}
	srv, err := p2p.NewServer(p2p.ServerConfig{Consensus: cons, Membership: n, Replicas: n.LocalReplicas(), DefaultTimeout: pc.GRPCTimeout, Logger: log})
	if err != nil {
		lis.Close()
		tr.Close()
		return err
	}
	g := grpc.NewServer(p2p.ServerOptions()...)
	srv.Register(g)

	ctx, cancel := context.WithCancel(context.Background())
	rt := &peerRuntime{tr: tr, grpc: g, cancel: cancel}
	cl.rt = rt
	rt.goDo(func() { _ = g.Serve(lis) })
	consDone := make(chan struct{})
	rt.goDo(func() {
		defer close(consDone)
		tick := time.NewTicker(pc.TickPeriod)
		defer tick.Stop()
		if err := cons.Run(ctx, tick.C); err != nil {
			rt.mu.Lock()
			rt.err = err
			rt.mu.Unlock()
			log.Error("consensus stopped", "err", err)
		}
	})
	rt.goDo(func() { n.RunEffects(ctx, 100*time.Millisecond, 10*time.Second) })
	rt.goDo(func() { n.RunActivation(ctx, pc.ActivationRetry) })
	rt.goDo(func() { n.RunTransfers(ctx, pc.ActivationRetry) })
	rt.goDo(func() { n.RunReplicaCheck(ctx, replicaCheckEvery) })

	if fresh && pc.Bootstrap != "" {
		log.Info("joining the cluster", "peer_id", id.PeerID, "bootstrap", pc.Bootstrap, "uri", uri, "timeout", pc.BootstrapTimeout)
		jctx, jcancel := context.WithTimeout(ctx, pc.BootstrapTimeout)
		var joined p2p.Joined
		if uri != "" {
			joined, err = tr.Join(jctx, pc.Bootstrap, id.PeerID, uri)
		} else {
			joined, err = tr.JoinWithPort(jctx, pc.Bootstrap, id.PeerID, uint32(lis.Addr().(*net.TCPAddr).Port))
			if err == nil {
				uri = joined.Peers[id.PeerID]
			}
		}
		jcancel()
		if err != nil {
			rt.stop()
			return fmt.Errorf("join the cluster through %s: %w", pc.Bootstrap, err)
		}
		n.learnPeers(joined.Peers)
		log.Info("joined the cluster", "peer_id", id.PeerID, "bootstrap", pc.Bootstrap, "peers", len(joined.Peers))
	}
	id.URI = uri
	if err := saveIdentity(n.fs, storage, id); err != nil {
		rt.stop()
		return fmt.Errorf("save peer identity: %w", err)
	}
	if announce {
		rt.goDo(func() { n.announceURI(ctx, id.PeerID, uri, 10*pc.TickPeriod) })
	}
	if pc.Version != "" {
		rt.goDo(func() { n.announceMetadata(ctx, id.PeerID, pc.Version, 10*pc.TickPeriod) })
	}
	rt.goDo(func() { hc.Run(ctx) })
	log.Info("cluster mode", "peer_id", id.PeerID, "uri", uri, "p2p", lis.Addr().String(), "first_peer", first)
	return nil
}

// announceURI proposes this peer's new URI until it is committed, trying
// again every wait, for at most a minute.
func (n *Node) announceURI(ctx context.Context, id uint64, uri string, wait time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			n.log.Warn("the new URI of this peer was not committed in time", "uri", uri, "err", ctx.Err())
			return
		case <-t.C:
		}
		err := n.cl.updatePeerURI(ctx, id, uri)
		if err == nil {
			n.log.Info("announced the new URI of this peer", "uri", uri)
			return
		}
		n.log.Debug("announcing the new URI of this peer failed; retrying", "err", err)
		t.Reset(wait)
	}
}

// goDo runs f on a goroutine the runtime waits for in stop.
func (rt *peerRuntime) goDo(f func()) {
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		f()
	}()
}

// stop ends every goroutine of the peer and closes the transport. The
// consensus driver closes its storage when it returns.
func (rt *peerRuntime) stop() {
	rt.once.Do(func() {
		rt.cancel()
		rt.grpc.Stop()
		rt.wg.Wait()
		rt.tr.Close()
	})
}

// ConsensusErr is the error the consensus driver stopped with, if it did.
func (n *Node) ConsensusErr() error {
	if n.cl == nil || n.cl.rt == nil {
		return nil
	}
	n.cl.rt.mu.Lock()
	defer n.cl.rt.mu.Unlock()
	return n.cl.rt.err
}

// stop ends the cluster peer's background proposals and goroutines
// (Close), before the collections close: nothing applies to them after.
func (cl *clusterMode) stop() {
	cl.bg.stop()
	if cl.rt != nil {
		cl.rt.stop()
	}
}
