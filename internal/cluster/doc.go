// Package cluster is the metadata state machine of a Shoal cluster: the
// peers and their URIs, the collections with their (opaque) engine config,
// shard count, replication and write consistency factors, the placement of
// every shard's replicas on peers with each replica's state, the shard
// transfers in flight, each collection's payload index schema, the
// collection aliases and the cluster metadata keys.
//
// It owns no I/O, goroutines or clocks. Every change is an Op, a value of a
// tagged union with a versioned, deterministic JSON encoding (Encode,
// Decode) that travels through the raft log; State.Apply is a pure function
// of the state and the op, so every peer that applies the same committed
// log reaches the same state, byte for byte (State.Snapshot). A failed Apply
// leaves the state untouched and returns an error whose point.Kind tells
// the API layer which Qdrant status to answer with.
//
// The shapes follow Qdrant's consensus operations (collection meta
// operations, SetShardReplicaState, TransferShard Start/Finish/Abort,
// AddPeer/RemovePeer, cluster metadata) and their validation rules; the
// decisions that Qdrant makes with randomness (initial shard placement)
// are made here deterministically from the state, so that they can be
// replayed.
//
// A State is not safe for concurrent use: its owner (the consensus driver)
// serializes Apply and guards reads. Accessors return copies, so a caller
// may keep what they return.
package cluster
