// Package node is Shoal's table of contents: it owns the set of collections
// of this peer, their on-disk layout and configuration files, and
// dispatches metadata operations (create, update, delete) and data
// operations (to the collection). It takes plain Go types and a context, so
// that both the HTTP API and an in-process embedding drive it.
//
// Open gives a standalone node. OpenPeer gives a running cluster peer
// (peer.go): it takes every dependency in a PeerConfig, wires the P2P
// transport, the consensus driver (with the node's cluster state machine,
// cluster.go), the P2P server and the health checker, joins or bootstraps
// the cluster, and owns every goroutine it starts; Close stops them before
// it closes the collections. The local effects of committed metadata
// operations run in log order and are retried until done (effects.go).
//
// In a cluster the data is distributed (topology.go): every committed
// operation that changes a collection's shards, replicas or factors
// (create, update, delete, replica states, transfers, shard keys, a peer
// removed) ends, as a local effect in log order, in the collection's
// SetTopology with the collection seen from this peer; so the local shard
// directories are created and dropped once, in order, and a restart does
// not redo them (it brings every collection in line once its replay
// reaches the effects index). The collections reach other peers through
// one p2p.RemotePeer per peer, and this peer serves its replicas to them
// (replicas.go, the P2P Points service). A replica created Initializing
// is proposed Active (Listener on a listener node) by the peer that holds
// it once its shard exists, and the proposer of a creation waits for that
// (activate.go); a replica that failed an update is proposed Dead
// (failures.go). Collection info counts every shard (info.go).
//
// Every file of the node (collection directories and configs, shards,
// aliases.json) goes through Options.FS (internal/vfs; the operating system
// when nil), so a test can run a whole node on vfstest's in-memory FS and
// crash it (crash_test.go). The cluster files (peer.json, effects.json) go through it
// too; consensus storage takes the same FS.
//
// The node also keeps the issues dashboard (GET /issues; its collections
// report slow reads and index creations to it through the Observer they
// are given, issues.go) and enforces the cluster-wide resource quota,
// stored in the metadata state like the aliases (quota.go): every
// collection's updates that need room pass its guard first.
//
// Configuration changes (PATCH, and the named vectors a collection gains
// or loses, vectors.go) are read-modify-writes serialized by their own
// lock (changeConfig): standalone, the new configuration is saved, then
// applied (the collection's shard follows it through its WAL); in a
// cluster, it is proposed as a JSON merge patch from the configuration it
// was computed from (patch.go), so that changes proposed at once through
// different peers compose instead of one replacing the other.
//
// A new collection's shard_number, replication_factor and
// write_consistency_factor come from the request, else from
// storage.collection (Options.CollectionDefaults), else 1 (node.go). Shard
// keys of custom sharding are created and dropped through consensus in a
// cluster, by the collection itself standalone (shardkeys.go);
// CollectionClusterInfo says where a collection's replicas live
// (clusterinfo.go).
//
// Snapshots (snapshots*.go; Qdrant's layout): collection, shard and
// full-storage snapshots are files of storage.snapshots_path with a
// .checksum beside each, on the operating system's file system. Recovery
// (from a file:// location inside snapshots_path, an http(s):// one, an
// upload, or --snapshot / --storage-snapshot at start-up) extracts and
// checks the archive before it swaps a collection (moved aside to
// collections/.replaced-*, restored by Open after a crash) or a shard; a
// refused archive changes nothing. On a cluster peer
// (snapshots_cluster.go) recovery creates a missing collection through
// consensus, restores each shard of the snapshot that has a replica here
// and settles the other replicas by priority (snapshot, replica, no_sync)
// through consensus and automatic recovery; --snapshot at start-up is
// refused there.
//
// Shard transfers (transfer.go, recovery.go, clusterops.go): RunTransfers
// drives, on the source peer, every transfer consensus records from it
// (finish or abort through consensus, progress in the logs and in
// CollectionClusterInfo), proposes the recovery of this peer's Dead
// replicas, and aborts the transfers to it whose source stays down.
// RunReplicaCheck (replicacheck.go) compares, every 2 s, the clocks of
// this peer's Active replicas with those of the other Active replicas
// (P2P ReplicaClocks) and proposes Dead a local replica still lacking a
// tick another one had a round before, so that automatic recovery
// repairs what no coordinator reported. Reads of replicated shards pass
// the consensus read barrier first (failures.go, consensus.Barrier).
//
// A failed fsync (fsync_test.go): below a shard it stops that shard's
// writes (shard.ErrUnusable, answered 500 "Service internal error" as
// Qdrant answers a storage failure) until the node restarts, while reads
// and the other collections go on; below the raft storage it stops
// consensus, so cluster operations fail (consensus.ErrStopped). Below the
// node's own metadata files (a collection's config.json, aliases.json,
// the collections directory) only the operation fails: those files are
// written whole with WriteFileAtomic by every change, so no later state is
// built on the bytes whose fsync failed, and the next change fsyncs a
// complete file again.
//
// Node is safe for concurrent use. Metadata operations are serialized by
// one lock; data operations only take it shared to look up the collection.
package node
