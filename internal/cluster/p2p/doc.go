// Package p2p is the internal gRPC layer of cluster mode, served on the P2P
// port (Qdrant's 6335) with the generated proto/p2p/v1 services.
//
// Server side, Server registers the Raft, Cluster, Points and ShardTransfer services: raft messages
// (opaque bytes; only package consensus knows raft) are stepped into the
// local consensus driver, joining peers are added through Membership
// (AddPeerToKnown), and peers ask each other for their consensus position
// (Health, WaitCommit). Every error leaving a handler goes through one
// mapping (errors.go) from point.Kind and the consensus errors to gRPC codes;
// the client side maps the codes back.
//
// Client side, Transport implements consensus.Transport: it owns one bounded
// outbound queue and one sender goroutine per peer, started on the first
// message to that peer and stopped by Close, and one lazily dialed gRPC
// connection per peer, re-dialed when the peer's URI (asked of a Resolver
// on every message) changes. Messages to one peer are sent in order; a
// failure is reported to the consensus driver (Reporter.Unreachable) and
// counted per peer URI for GET /cluster's message_send_failures. When this
// peer's own URI has a loopback host, connections are dialed from that host
// so that a per-source proxy in tests can tell peers apart. Join asks a
// bootstrap peer to add this one (AddPeerToKnown), retrying until its
// context ends.
//
// Points (points_server.go, points_client.go, points_convert.go) carries
// the data path between shard replicas: updates (the engine's encoded
// ops.Operation, with wait, write ordering and an optional clock tag) and
// the reads a replica set fans out (search, scroll, count, retrieve,
// facet: the request is its ops encoding, the answer proto messages in
// which floats keep their bits and payloads their JSON text). The server
// serves LocalReplicas, declared here and implemented by the node; the
// client, RemotePeer, implements collection.Remote over the Transport's
// connection to one peer. A refusal of the remote engine arrives as a
// *point.Error of its kind and text (a status with an Error detail); any
// other failure (unreachable peer, the caller's context ended, a peer
// without the service) wraps ErrTransport and is no *point.Error, so the
// caller can tell "refused" from "unknown". The caller's deadline travels
// with the call (RemoteConfig.Timeout without one; the server bounds a
// call without a deadline by DefaultTimeout). Messages are bounded either
// way (MaxMessageSize, RemoteConfig.MaxMessageSize): gRPC refuses a
// message over the bound from its length prefix, before reading it, and
// the request decoders allocate no more than their input justifies. An
// answer that does not convert wraps ErrBadResponse.
//
// ShardTransfer (transfer_snapshot.go) carries the archive of a snapshot
// transfer as a client stream of bounded chunks (MaxSnapshotChunk, the
// first with a header naming the collection, shard and size); the server
// checks the chunks as they come and hands them as one reader to the
// replicas (SnapshotReplicas); RemotePeer.SendShardSnapshot is the client.
//
// HealthChecker pings every known peer periodically (Health); its Run
// goroutine belongs to the caller and stops with the context.
//
// node.OpenPeer wires these pieces (transport, consensus driver, server,
// join, health checker) and owns their goroutines.
//
// Thread-safety: Server, Transport, RemotePeer and HealthChecker are safe for concurrent
// use once built; their configuration must not change afterwards.
package p2p
