// Package shard owns one local shard: its write-ahead log, its segments,
// the ordered update worker, the optimizer and the files that persist them.
//
// Segments (Qdrant's model): every point lives in exactly one segment.
// Appendable segments take new points and are searched exactly; sealed
// segments are built by the optimizer, with HNSW graphs once a vector
// passes the indexing threshold, and only ever lose points. Updating a
// point held by a sealed segment moves it (copy on write) to an appendable
// segment. Reads (Reader) ask every segment and merge: search by score
// then id, scroll by id, counts and facets by sum. The reads that may visit
// many points take a context and stop with its error once it is done (the
// segments look at it every thousand or so points).
//
// Write path: Update takes an operation of the engine's vocabulary (package
// ops), assigns the next operation number, appends its WAL record (the
// operation's encoding behind a small header, record.go; logs of the
// previous JSON format still replay) to the WAL (a write to the OS) and
// queues it, all under one mutex so that WAL order, queue order and
// operation numbers agree. The
// update worker applies queued operations in that order under the write
// lock. A caller that waits fsyncs the WAL (group commit) and waits until
// its operation is applied. UpdateBatch does the same for the operations
// of a points/batch request: one record each (record.go), consecutive
// numbers, one WAL append, one fsync, one step of the worker (so that no
// flush falls inside a batch); with wait it stops at its first failure.
//
// Clock tags (tagged.go, clocks.go; Qdrant's ClockMap): UpdateWithClock
// takes an update a replica set tagged with (peer, clock, tick, token). It
// is accepted if its tick is newer than the newest the shard logged for
// that clock, or equal with the same token (a resend), or forced; else it
// is answered Rejected with the clock's newest tick and nothing is
// written. The decision and the clock's advance happen under the append
// mutex, at the WAL append, so they follow WAL order; the record carries
// the tag (format 3). A checkpoint writes the clocks of the operations it
// covers into the manifest (version 2; untagged shards keep writing
// version 1), and replay advances them by the tags of the WAL tail, so a
// restart, after a crash too, has exactly the clocks of the logged
// operations. RecoveryPoint is those clocks; Cutoff and UpdateCutoff are
// Qdrant's oldest clocks, for WAL-delta transfers. RecoveryPoint takes a
// mutex of its own (clockMu, under appendMu when both are held).
//
// Before appending, an update is refused (ErrOutOfDisk, Qdrant's text)
// while the file system has less free space than one WAL segment, so a
// full disk refuses writes whole instead of failing them half way.
//
// Apply and replay (apply.go, replay.go): apply is pure; what it cannot do
// it refuses (ErrRefused) without changing anything. A conditional upsert
// (update_mode, update_filter) or filtered vector update chooses the points
// it leaves alone against the state it meets, for all its points before
// writing any, so that replay chooses the same. Replay after a
// restart refuses the same operations (and stops the same batches) and
// goes on; any other failure stops Open with the number of the record.
//
// Promises: an operation acknowledged with wait=false has reached the OS
// (survives a crash of the process, not of the machine) and becomes visible
// shortly after; one answered with wait=true is fsynced and visible to every
// read that starts after the answer.
//
// Optimizer (optimizer.go): one goroutine runs one optimization at a time:
// vacuum (a sealed segment past deleted_threshold), indexing (a segment
// past indexing_threshold without a graph), config mismatch (graphs built
// with other HNSW settings, vectors kept on the heap or in a mapped file
// otherwise than SetVectorStorage asks), merge (more segments than
// default_segment_number, smallest first, up to max_segment_size). It
// freezes the source segments under the write lock, copies them under the
// shared lock, builds the new segment holding no lock, writes its file,
// and swaps it in under the write lock after deleting from it the points
// deleted or moved meanwhile; then it asks the worker for a flush. A failed
// optimization (a full disk) removes what it wrote and is retried after
// one second, doubling up to a minute, until one succeeds or the settings
// change; its error shows in OptimizerStatus meanwhile. Failed flushes of
// the worker back off the same way.
//
// Files (persist.go, flush.go): a manifest names the segment files and the
// operation number they cover; files are never rewritten in place, so a
// crash at any point leaves a consistent image, and recovery replays the
// WAL tail after it. Sealed segments keep their deletes in a small
// separate file, so their data files (graphs included) are written once.
// Close succeeds when only its final flush fails but the WAL is durable:
// the next Open replays what the flush would have held.
//
// A failed fsync stops the shard's writes (broken.go). After one, of the
// WAL, a segment or index file, the manifest or the directory that makes
// its rename durable, nobody knows what is on disk (Linux drops the dirty
// pages and the next fsync may succeed without them), so every later
// update is refused with ErrUnusable (REST: 500, "Service internal
// error"), no checkpoint is written any more, and reads go on from memory
// until the shard is reopened, whose recovery reads what really survived.
// Files written by a checkpoint whose last fsync failed are kept: the
// renamed manifest may name them. A full disk or a short write is not
// such a failure: the write is undone or retried.
//
// Sparse vectors (Options.Sparse) are stored in the segments' data files;
// a sealed segment also has an inverted index per sparse vector, written
// once by the optimizer to a file of its own (named in the manifest like
// on-disk vector files) and, when the vector's index is kept on disk,
// served from that file mapped. An index file that fails its checks is
// rebuilt from the vectors on open, with a warning. The optimizer seals an
// appendable segment whose sparse entries pass SparseIndexingBytes, indexes
// a sealed one without an index, and rebuilds one whose indexes were built
// with other settings (datatype, on disk).
//
// Deferred points (deferred.go; Options.Optimizer.DeferFrom, Qdrant's
// prevent_unoptimized): an appendable segment shows reads its first
// DeferFrom points and passes the later ones by until the optimizer seals
// it. A point moved out of a sealed segment into a deferred offset keeps
// its old copy visible (its shadow) meanwhile, so reads show every point
// once; writes always address its newest copy. An update sent with wait
// returns once nothing is deferred (or with ErrDeferredTimeout).
//
// Named vectors (schema.go) are added and dropped by the operations
// create_vector_name and delete_vector_name, logged and applied in order
// like any other, so that a replay meets each operation with the vectors
// it met. A reopened shard has its segments' vectors (they persist their
// columns), then what the WAL replays; Options.Vectors and Options.Sparse
// give a new shard its vectors, and the storage settings of the ones a
// reopened shard has. A dropped vector leaves every segment at once: data
// files are written again without it at the next flush, its own files are
// removed once a manifest no longer names them, and an optimization that
// copied its segments before the change is dropped at its swap and planned
// again.
//
// Multivectors (Options.Vectors with Multi) are dense columns whose points
// hold any positive number of sub-vectors, flattened in operations and
// stored in variable-length rows (package segment); apply refuses a vector
// that is not a multiple of the dimension, and their sub-vectors count
// towards the indexing threshold, as Qdrant's threshold counts bytes.
//
// Snapshots (snapshot.go): Snapshot queues a request behind the updates
// logged before it; the worker checkpoints in its order and pins the files
// of that manifest, and the caller copies them into a snapshot archive
// (package snapshot) while writes go on; a checkpoint meanwhile leaves
// the files it retires to the last unpin. RestoreSnapshot extracts a shard
// archive into a new directory and checks the image; Open on it starts an
// empty WAL numbered after the operations the image covers.
//
// Every file of a shard (WAL, manifest, segment, deletes, vector and
// sparse index files) goes through Options.FS (internal/vfs; the operating system when nil);
// Open creates the shard's directories with vfs.EnsureDir, so that their
// entries survive a power loss. crash_test.go crashes a workload at every
// fsync on vfstest's MemFS and checks each reopened state. Damaged files
// fail Open with an error matching errkind.ErrCorrupt.
package shard
