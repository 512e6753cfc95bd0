package main

import (
	"errors"
	"net"
	"strconv"

	"github.com/shoaldb/shoal/internal/api/rest"
	"github.com/shoaldb/shoal/internal/config"
	"github.com/shoaldb/shoal/internal/node"
)

// peerConfig maps Qdrant's cluster settings and command line onto the
// node's peer constructor (node.OpenPeer), which does the rest.
func peerConfig(cfg *config.Config, flags config.Flags) (node.PeerConfig, error) {
	c := cfg.Cluster
	// The P2P port has no authentication yet: cluster.p2p.host keeps it
	// on the peers' network when the REST API listens more widely.
	host := c.P2P.Host
	if host == "" {
		host = cfg.Service.Host
	}
	if c.P2P.Port == nil {
		return node.PeerConfig{}, errors.New("cluster mode: cluster.p2p.port is not set")
	}
	port := *c.P2P.Port
	pc := node.PeerConfig{
		URI: flags.URI, Bootstrap: flags.Bootstrap, Reinit: flags.Reinit,
		Listen:           net.JoinHostPort(host, strconv.Itoa(port)),
		TickPeriod:       c.Consensus.TickPeriod(),
		BootstrapTimeout: c.Consensus.BootstrapTimeout(),
		CompactEntries:   uint64(c.Consensus.CompactWALEntries),
		QueueSize:        c.Consensus.MaxMessageQueueSize,
		GRPCTimeout:      c.GRPCTimeout(),
		ConnectTimeout:   c.ConnectionTimeout(),
		Version:          rest.APIVersion,
		ListenerNode:     cfg.Storage.NodeType == "Listener",
		// YAML null (unlimited) arrives as nil: passed on as -1.
		IncomingTransfers: transferLimit(cfg.Storage.Performance.IncomingShardTransfersLimit),
		OutgoingTransfers: transferLimit(cfg.Storage.Performance.OutgoingShardTransfersLimit),
	}
	if c.PeerID != nil {
		pc.PeerID = *c.PeerID
	}
	return pc, nil
}

// clusterTelemetry is the cluster.* configuration /telemetry reports.
func clusterTelemetry(c config.ClusterConfig) *rest.ClusterConfig {
	var t rest.ClusterConfig
	t.GRPCTimeoutMS = uint64(max(c.GRPCTimeoutMS, 0))
	t.P2P.ConnectionPoolSize = c.P2P.ConnectionPoolSize
	t.Consensus.MaxMessageQueueSize = c.Consensus.MaxMessageQueueSize
	t.Consensus.TickPeriodMS = uint64(max(c.Consensus.TickPeriodMS, 0))
	t.Consensus.BootstrapTimeoutSec = uint64(max(c.Consensus.BootstrapTimeoutSec, 0))
	return &t
}

// transferLimit is a storage.performance.*_shard_transfers_limit for the
// node: nil (null, unlimited) is -1; 0 (no transfer at all in Qdrant) is
// kept as 1, since recovery needs one.
func transferLimit(v *int) *int {
	n := -1
	if v != nil {
		n = max(*v, 1)
	}
	return &n
}
