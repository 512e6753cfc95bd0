// Package shard owns one local shard: its write-ahead log, its point store,
// the ordered update worker and checkpoints.
//
// Write path: Update assigns the next operation number, appends the encoded
// operation to the WAL (a write to the OS) and queues it, all under one
// mutex so that WAL order, queue order and operation numbers agree. The
// update worker (started by Run) applies queued operations in that order
// under the store's write lock. A caller that waits fsyncs the WAL (group
// commit) and waits until its operation is applied.
//
// Promises: an operation acknowledged with wait=false has reached the OS
// (survives a crash of the process, not of the machine) and becomes visible
// shortly after; one answered with wait=true is fsynced and visible to every
// read that starts after the answer.
//
// Recovery: the last checkpoint (a whole-store image with the operation
// number it covers) is loaded, then the WAL tail after it is replayed.
// Applying an operation is deterministic, so replay recreates the state.
package shard
