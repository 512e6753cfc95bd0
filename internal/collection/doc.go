// Package collection owns a collection: its configuration (in Qdrant's wire
// shape, so that it is stored and echoed back as given), its shards,
// the validation of points against the vector configuration, and the read
// paths (retrieve, scroll, count, facet, search through the HNSW graphs or
// exactly, search by sparse vector with Qdrant's idf modifier: sparse.go)
// merged over shards.
//
// Multivectors (a dense vector with multivector_config, multi.go) travel
// flattened below the APIs: a point's vector is any positive multiple of
// the vector's size, each sub-vector normalised on its own for Cosine, and
// searches score max_sim. An API that reads nested lists flattens them and
// asks CheckVectorShape first (the flat form forgets the nesting); it
// nests what it returns by Multivectors.
//
// Every read takes a context first. A read under way when its context is
// done stops within a bounded amount of work (the segments and the graph
// walks look at it every thousand or so points or distance evaluations,
// Retrieve every checkEvery ids) and returns the context's error wrapped
// with the read's name, so that errors.Is(err, context.DeadlineExceeded)
// or context.Canceled tells the API layers why; a read whose context is
// done before it starts returns at once.
//
// It takes the engine's vocabulary (package ops): update operations and
// read requests arrive as ops values, whichever API built them, and are
// converted here and in the shard to the engine's own types (quantization
// search params, payload index schemas). It re-exports what the APIs need
// to answer without importing the shard (ErrClosed, OutOfDiskError,
// Distance).
//
// Strict mode (package strict) is enforced here, below every API: each
// read and write method starts with its Guard's check on the ops request
// (strict_mode_config's limits, then the read or write rate limit), and the
// configuration takes effect on Open and on every SetConfig. A read that is
// part of a larger request already checked (a query served by a search,
// the searches of SearchBatch and QueryBatch) carries a context mark and is
// neither checked nor charged again. The client's own timeout reaches the
// check through ops.WithTimeout.
//
// The node observes a collection (observe.go): reads slower than its
// threshold report their filters, accepted index creations their field,
// and an UpdateGuard may refuse an update before it is written.
//
// Writes: an upsert may carry Qdrant's update_mode and update_filter, a
// vector update its update_filter; they travel in the operation (and its
// WAL record) and the shard decides them when it applies it, so that a
// replay decides the same. With optimizers_config.prevent_unoptimized the
// shard defers the points written past the indexing threshold of an
// appendable segment (deferred.go computes how many it shows, as Qdrant's
// get_deferred_point_id); an update sent with wait answers once they are
// visible, or wait_timeout when its context ends first. Collection info
// reports them in update_queue.deferred_points and the settings that have
// no effect in warnings (warnings.go). Create and update requests accept
// Qdrant's aliases quantization and optimizer_config.
//
// Named vectors (vectors.go): a collection gains or loses a dense or
// sparse vector by a new configuration (WithVector, WithoutVector: Qdrant's
// rules and texts), which its caller saves; SetConfig, and Open after a
// crash, then bring the shard's vectors in line with it through
// create_vector_name and delete_vector_name operations in the shard's WAL.
// Points may lack any vector (optional vectors): reads leave it out and
// searches on it skip them. Memory placements (memory.go) are validated,
// kept and echoed as Qdrant 1.19 does; a dense vector's cold places a
// sealed segment's vectors in a mapped file.
//
// The shard holder (holder.go, ring.go, replicaset.go, merge.go): a
// collection has shards, each a ReplicaSet (its local replica under
// shards/<id>, if this peer holds one, and the remote replicas with the
// states consensus committed). The shards live in an immutable layout
// swapped atomically when they change (SetTopology, shard keys); a request
// keeps the layout it started with. Points route to shards by a
// consistent hash ring (Ring: xxHash64, RingScale virtual nodes a shard;
// its placement is pinned by a golden test): one ring over the shards
// with auto sharding, one per shard key with custom sharding (Routing's
// ShardKeys pick the keys; Qdrant's rules and texts). An update is split
// by shard (points by id; an operation addressed by a filter, a field or
// a vector name goes to every shard of its keys), checked by strict mode
// and the quota once for the whole at the peer the client called, and
// answered with the highest operation id of its shards and the strongest
// status; when some shards apply it and others refuse it, the answer is
// Qdrant's inconsistent shard failure, of the refusal's kind (errors.Is
// ErrInconsistentShards). Merges (merge.go): hits best first, ties by id,
// then offset and limit; scroll pages by id with the next page's first
// id; order_by by value, ties by id; counts and facets summed. Sparse
// searches weigh the query by each shard's own idf statistics, as
// Qdrant's shards do. Replica states mirror those of internal/cluster
// (same names and numbers); Readable and TakesUpdates say who serves
// reads and who takes updates.
//
// Replication (write.go, readreplicas.go, placement.go, clockset.go),
// Qdrant's replica_set: before the node sets a topology the collection is
// standalone, every shard local and Active, updates applied untagged.
// After SetTopology, each shard's part of an update goes to its ordering
// leader (Routing.Ordering: weak here, medium the highest Active replica
// not disabled here, strong the highest replica), forwarded over Remote
// when it is another peer. The leader tags it with a clock of the shard's
// clockSet and applies it on every replica that takes updates at once; a
// replica that has seen a newer tick rejects it and the leader retries
// with a newer one (3 attempts). write_consistency_factor replicas (at
// most as many as there are) must apply it and one of them be a source of
// truth (Active); failed replicas, when some replica applied it, are
// disabled here and reported to the FailureReporter, a replica disabled
// here but still taking updates by consensus fails every update (refused
// up front when it makes the count unreachable), and before an answer,
// with or without wait, the update waits (bounded) for consensus to
// deactivate the replicas that missed it and confirms through the read
// barrier that no Active replica missed it. An update that may
// have been applied somewhere but not acknowledged answers an error of
// kind internal, errors.Is ErrOutcomeUnknown, saying "the outcome is
// unknown"; one every replica refused answers that refusal. A read asks
// one readable replica of each targeted shard (after the read barrier,
// Topology.ReadBarrier, when the shard is replicated; none before the
// first topology after a restart), the local one first, the
// next one when a remote cannot be reached or no longer serves reads; a
// read consistency above one asks that many at once and resolves their
// answers as Qdrant's All and Majority conditions. The Replica* methods
// are the P2P side: a tagged update applied locally if the state accepts
// it (Recovery and PartialSnapshot only forced), an untagged one led
// here, and reads of the local readable replica only. shards.json keeps
// every shard with its key and whether it is local, so that a restart
// opens the local ones before consensus replays; a collection a topology
// placed then serves its local reads but refuses updates ("not applied")
// until the node's next SetTopology.
//
// Payload schema (payload_schema.go): a topology carries the payload
// indexes consensus committed (Qdrant's payload_index_schema); the
// collection lists them in payload_schema whether or not it holds a
// replica, and builds them on every local replica (new ones, those a
// transfer filled when they become Active, restored ones). Dropping is
// the node's call (DropLocalIndex) when consensus drops an index.
//
// Snapshots (snapshot.go, snapshot_shard.go): Snapshot writes an archive
// of kind collection (package snapshot): config.json, shards.json listing
// the local shards, and each local shard's consistent image under
// shards/<id>/; ExtractSnapshot reads one into a new directory and checks
// it whole before the node swaps it in. ShardSnapshot and RestoreShard do
// the same for one local shard (the old one is closed, moved aside to
// shards/<id>.replaced and put back if the new one fails to open; Open
// settles a restore a crash cut short). A restored replica is marked with
// a clock of its own (RestoreClockID) in its clocks and cutoff, so that
// no wal_delta runs from or to it.
//
// Shard transfers (transfer.go, transfer_proxy.go): on the source,
// TransferShard wraps the local replica in a proxy that forwards (or, for
// wal_delta, queues in the WAL) every update applied meanwhile, and sends
// the target batches of records or the WAL operations its recovery point
// misses, as batches of forced updates; on the target,
// ReplicaInitiateTransfer prepares the replica and ReplicaTransferUpdates
// applies the batches (the node first checks that its cluster state
// records the transfer from that source). The snapshot method
// (transfer_snapshot.go) queues like wal_delta, streams a shard archive of
// the local replica to the target (SnapshotRemote), where
// ReplicaReceiveSnapshot checks it and swaps it in (restoreShard, without
// the restore clock: the image shares the cluster's history) and raises
// its cutoff to the image's clocks, then sends the WAL from the archive's
// point on; its temporary files live in .snapshot-transfer-<id>-* beside
// shards/, removed on every path and at Open. A replica that is Partial,
// or was emptied or replaced for a transfer, carries an incomplete mark
// (shards/<id>.incomplete) until it is Active: its recovery point is then
// no guide for wal_delta. A stream_records transfer ends by raising the
// target's cutoff (alone, not its clocks) to the source's recovery point
// from before the records (with the last batch): a wal_delta from the
// target then serves no replica below it. A peer asked to lead an update
// leads only once its own view makes it the leader (awaitLeadership).
//
// A Collection is safe for concurrent use. Its configuration is guarded by
// its own lock, each ReplicaSet's replicas and states by its own; data
// consistency is each shard's business. Lock order of a local update
// while a transfer runs: the ReplicaSet's transfer gate (shared), then the
// proxy's lock, then the shard's own.
package collection
