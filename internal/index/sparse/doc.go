// Package sparse owns the inverted index of one sparse vector of a sealed
// segment: for each dimension index, the posting list of the vectors that
// have it, as point offsets in ascending order with their weights. The
// segment keeps the vectors themselves; the index answers a query by
// walking the posting lists of the query's dimensions only.
//
// Weights are stored in the index's Datatype (Qdrant's sparse
// index.datatype): float32 exactly, float16 rounded to nearest even, or
// uint8 quantized per posting list as Qdrant does (min and (max-min)/255
// of the list, the code rounded and clamped to [0, 255]). Scores computed
// from the index are then those weights times the query's.
//
// # File format
//
// An index is written once, when the optimizer seals a segment, as one
// file (all integers little endian; each section starts at a multiple of 8
// bytes so that a mapped file is read in place):
//
//	magic "SHOALSPX" | u8 version (1) | u8 datatype | u16 0 | u32 vectors
//	u32 dims D | u32 0 | u64 postings P
//	D × u32 dimension indices, strictly ascending       (padded to 8)
//	(D+1) × u64 list starts: 0, ..., P, non-decreasing, no empty list
//	uint8 only: D × (f32 min, f32 step) quantization of each list
//	P × u32 point offsets, strictly ascending within a list (padded to 8)
//	P × weight (f32, f16 bits or u8 code)                  (padded to 8)
//	u32 CRC32C of every byte before it
//
// Decode checks all of it (and that weights are finite) and returns an
// error matching errkind.ErrCorrupt for anything else, never a panic; a
// fuzz test holds that. Decode either copies the lists onto the heap or,
// for a mapped file (Qdrant's on_disk, or memory cold/cached), keeps views
// of the bytes it is given: the caller then keeps those bytes alive and
// unchanged as long as the Index is used.
//
// # Search
//
// Score accumulates the query's dot product with every vector sharing a
// dimension with it, term at a time in the query's (ascending) dimension
// order, so that each score is summed in the same order, and rounded the
// same way, as point.SparseVector.Dot sums it. ScoreOffsets scores given
// offsets only (a selective filter) by binary search in the query's lists.
// Both look at their context every checkEvery postings and stop with its
// error once it is done.
//
// An Index is immutable once built or decoded and safe for concurrent
// reads; a Scratch (the accumulator) belongs to one search at a time.
package sparse
