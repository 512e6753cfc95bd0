// Package segment owns the in-memory point store of a shard: ids, versions,
// dense vectors per name in flat columns, and payloads, with exact (brute
// force) search, filtered iteration in id order, and a checksummed checkpoint
// file format.
//
// A Store is not safe for concurrent mutation: its owner (the shard) holds a
// read/write lock around it. Read methods never retain or mutate the
// caller's slices; returned payloads and vectors are copies.
package segment
