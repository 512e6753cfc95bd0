// Package clustertest is the multi-process cluster harness used by tests:
// it runs real shoal processes on loopback addresses with free ports and
// temporary storage, and puts a TCP proxy (proxy.go) in front of each
// peer's P2P port so that a test can cut, delay or blackhole the traffic
// between two peers, and behind it a gRPC message proxy (msgproxy.go) that
// drops, loses or delays single messages by method and raft message type
// (a snapshot, a join request). Only tests import it.
package clustertest
