package shoal

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
)

// PeerOptions make a DB a peer of a Shoal cluster (OpenPeer): the same
// peer the shoal server runs in cluster mode, in process. Collections and
// their settings go through the cluster's Raft log; points stay on the
// peer that stores them until data distribution is built.
type PeerOptions struct {
	// Listen is the host:port of this peer's P2P port (a port of 0 picks a
	// free one). It has no authentication yet: only the cluster's peers
	// may reach it.
	Listen string
	// URI is how the other peers reach this one; empty: http:// and the
	// address Listen got, which must then be a concrete host.
	URI string
	// Bootstrap is the P2P URI of a peer of the cluster to join; empty
	// starts a new cluster (or rejoins with the state in dir).
	Bootstrap string
	// TickPeriod is Raft's tick (default 100 ms).
	TickPeriod time.Duration
	Logger     *slog.Logger
}

// OpenPeer opens a storage directory like Open and starts this DB as a
// cluster peer: a new cluster without Bootstrap, else it joins the
// cluster of that peer and returns once it is added. Close stops the peer.
func OpenPeer(dir string, p PeerOptions) (*DB, error) {
	lis, err := net.Listen("tcp", p.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen for peers on %s: %w", p.Listen, err)
	}
	uri := p.URI
	if uri == "" {
		a := lis.Addr().(*net.TCPAddr)
		if a.IP.IsUnspecified() {
			lis.Close()
			return nil, fmt.Errorf("PeerOptions.URI is needed when listening on %s", a)
		}
		uri = "http://" + a.String()
	}
	n, err := node.OpenPeer(node.Options{StoragePath: dir, Defaults: collection.QdrantDefaults(), Logger: p.Logger},
		node.PeerConfig{URI: uri, Bootstrap: p.Bootstrap, Listener: lis, TickPeriod: p.TickPeriod})
	if err != nil {
		return nil, err
	}
	return &DB{node: n, uri: uri}, nil
}

// PeerURI is this peer's P2P URI, for other peers' Bootstrap; empty for a
// DB opened with Open.
func (db *DB) PeerURI() string { return db.uri }

// Ready reports whether this DB serves requests: always for a standalone
// DB; for a peer, once it knows a leader and has applied what the cluster
// has committed (the server's /readyz).
func (db *DB) Ready() bool { return db.node.ClusterReady() }
