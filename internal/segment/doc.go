// Package segment owns one segment of a shard (Store): ids, versions, dense
// vectors per name in flat columns (multivectors in variable-length rows
// of sub-vectors, scored by max_sim, their graphs and codes included:
// multi.go), sparse vectors per name (sparse.go)
// with, in sealed segments, an inverted index each (package index/sparse,
// in a file of its own: sparse_index.go), payloads, payload indexes and
// HNSW graphs, with exact, graph or posting-list search, filtered
// iteration in id order, and a checksummed file format (checkpoint.go). The shard decides which segment
// a point lives in; lifecycle.go has what its optimizer needs (copying
// live points, deletes since a mark, sizes).
//
// A store gains an empty vector with AddColumn or AddSparseColumn and
// loses one, with its graph, codes and index, with DropVector (schema.go).
//
// On-disk vector columns are opened through a vfs.FS (MapColumn): mapped
// on the operating system's, read onto the heap on others.
//
// Columns of the turbo4 datatype (turbo4.go) store TurboQuant codes, a row
// per vector or per sub-vector: a vector is quantized once, when written,
// and its rows then move as bytes (optimizer copies, checkpoints, column
// files); reads decode them, searches and graphs score the codes.
//
// Reads that may visit many points (Search, Scroll, Count, Facet,
// ScrollOrdered) take a context first and look at it every checkEvery
// points (stop.go; the graph walks inside hnsw do the same per distance
// evaluation): once it is done they stop and return its error.
//
// Deferred points (deferred.go, Qdrant's prevent_unoptimized): with
// SetDeferFrom(n) every read passes over the points at offsets n and
// later (they all decide through the matcher), while the write paths
// (Matching, MatchingAll, Has, Get) see them; new points then take fresh
// offsets, so the same points stay deferred across a checkpoint.
//
// A Store is not safe for concurrent mutation: its owner (the shard) holds a
// read/write lock around it. Read methods never retain or mutate the
// caller's slices; returned payloads and vectors are copies.
package segment
