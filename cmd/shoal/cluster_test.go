package main

import (
	"testing"

	"github.com/shoaldb/shoal/internal/config"
)

// TestPeerConfigNodeType: storage.node_type reaches the peer: Listener
// makes a listener node (its replicas are activated as Listener), Normal
// does not.
func TestPeerConfigNodeType(t *testing.T) {
	for _, tc := range []struct {
		nodeType string
		listener bool
	}{{"Normal", false}, {"Listener", true}} {
		cfg := config.Default()
		cfg.Storage.NodeType = tc.nodeType
		port := 6335
		cfg.Cluster.P2P.Port = &port
		pc, err := peerConfig(cfg, config.Flags{})
		if err != nil {
			t.Fatal(err)
		}
		if pc.ListenerNode != tc.listener {
			t.Errorf("node_type %s: ListenerNode %v, want %v", tc.nodeType, pc.ListenerNode, tc.listener)
		}
	}
}
