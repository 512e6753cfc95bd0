// Package hnsw owns the HNSW graph index over dense float32 vectors that a
// segment addresses by uint32 point offset. It stores links only: vectors
// stay in the caller's storage and are read through the Vectors interface.
//
// # Layout
//
// A node's id is its point offset. Level-0 links of all nodes live in one
// flat []uint32 of capacity*(2M+1) words: word 0 of a node's block is its
// link count, the next 2M words its neighbours (hnswlib's data_level0 minus
// the vector). Nodes above level 0 (about 1/M of them) own one []uint32 of
// level*(M+1) words for their upper levels. Presence and deletion are
// bitsets. Capacity grows by copying into a new layout that is published
// atomically; searches that began on the old layout finish on it. On Linux
// the level-0 array is advised into transparent huge pages (fewer TLB
// misses on random hops; best effort).
//
// # Search
//
// The unfiltered walk keeps one sorted pool of the ef best nodes, each
// marked once expanded, instead of hnswlib's two heaps (equivalent: a node
// that falls out of the best ef is never expanded before the walk stops).
// Each expansion gathers the unvisited neighbours first (branch-free, over
// a visited bitset that stays in L2), then scores them while prefetching
// whole rows a few neighbours ahead with PREFETCHT0 (prefetch_amd64.s; a
// no-op elsewhere) and the next candidate's link block: at 1M points the
// walk waits on memory, and this overlaps the misses (visit.go and
// bench/README.md give the measured effect of each part). Vectors
// implementing FlatVectors are sliced directly instead of through an
// interface call per distance; Scorers implementing RowScorer have their
// rows prefetched the same way.
//
// # Cancellation
//
// Every search entry point takes a context first. A search looks at it
// before any work and then after every checkEvery distance evaluations of a
// walk, or nodes of an exact scan (stop.go), and once it is done returns its
// error and no results: a cancelled search stops within about a thousand
// evaluations, a few microseconds at 128 dimensions. A context that can
// never be done (context.Background) is not looked at; builds and links do
// not look at any.
//
// # Concurrency contract
//
//   - Search, SearchExact, Len, MemoryBytes and Encode may be called from any
//     number of goroutines at any time, also while a write is in progress.
//     Searches take no lock: every link word is read and written with
//     sync/atomic (a plain MOV on amd64), a node becomes reachable only after
//     its own state is written, and a search sees each neighbour list either
//     before or after a concurrent change, or a mix whose every entry is a
//     valid node. A search racing a write may miss the newest point.
//   - Insert and Delete are serialised by one writer mutex; callers may call
//     them from several goroutines but they do not run in parallel.
//   - Build is the parallel path: it owns its worker goroutines, guards each
//     node's links with a per-node mutex (as hnswlib does) while workers run,
//     and returns only after every worker has finished. The graph it returns
//     is not visible to anyone else until then.
//   - The caller must not change a stored vector while the graph may read
//     it. Re-inserting a present offset (its vector was replaced) re-links
//     it; links that other nodes hold to it stay, as they would in hnswlib.
//
// # Distances
//
// Internally every metric is a distance where lower is better: -dot for
// Cosine (vectors arrive normalised) and Dot, squared L2 for Euclid (monotonic
// in L2, no sqrt in the hot loop), L1 for Manhattan. Results carry the score
// vector.Distance.Score would return, ordered by vector.Distance.Better.
//
// # Other storage and quantized codes
//
// Vectors that implement Space (float16, uint8 or turbo4 columns) are built and
// searched through it: a per-query Scorer gives each candidate's internal
// distance without allocating, and Pair compares two stored vectors while
// linking. SearchScorer, SearchExactScorer and SearchPayloadBlockScorer
// walk the same graph with a caller's Scorer, e.g. one over quantized codes
// or one whose query is not a vector of Dim floats (a segment's
// multivectors, compared by max_sim: the Space's Vector only says that an
// offset has one). The float32 level-0 walk
// keeps its own hand-inlined loop; the scorer walk is a copy of it, and the
// filtered walk tests for a scorer once per neighbour. walkdiff_test.go
// keeps the copies equal: on the same graph, with a float32 scorer, both
// walks must score the same offsets in the same order and return the same
// ids and score bits.
//
// # Filtered search
//
// An allow func is checked during traversal: nodes it rejects (and deleted
// nodes) are still expanded for navigation but never enter the result set,
// and the traversal does not stop until ef acceptable nodes are held (the
// hnswlib rule), so a selective filter widens the beam by itself. Because a
// very selective filter makes that walk visit much of the graph, a filtered
// or deletion-heavy search that has evaluated more than a budget of nodes
// (a fraction of the graph, see exactBudget) abandons the walk and scans
// exactly, which costs one allow call per node plus one distance per
// allowed node. Search also scans exactly when the graph holds no more
// points than max(ef, Config.FullScanThreshold); SearchExact lets a caller
// that knows the filter's cardinality (from a payload index) choose the
// scan itself.
//
// # Payload links
//
// BuildPayloadLinks adds, for each payload block a caller names (the
// points sharing one payload value), the level-0 links of a small graph
// built over the block alone (Qdrant's payload_m). SearchPayloadBlock uses
// them for a filter that selects most of one block: past a short seeding
// phase it steps on passing nodes only, as Qdrant's filtered search does,
// at a cost of about ef times a passing node's degree instead of ef/f. The
// links are immutable once built, persist with the graph, and are ignored
// by Search, Insert and Delete (see payload_links.go).
package hnsw
