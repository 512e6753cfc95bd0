package collection

import (
	"encoding/binary"
	"slices"

	"github.com/cespare/xxhash/v2"
	"github.com/shoaldb/shoal/internal/point"
)

// RingScale is the number of virtual nodes each shard puts on the hash
// ring. Qdrant's FAIR_HASH_RING_SCALE is 100, which leaves a shard's share
// about 10% (relative) off 1/N; 1000 brings that to about 3%, for a ring
// of 16 KB a shard.
const RingScale = 1000

// Ring routes point ids to shards with a consistent hash ring of the kind
// Qdrant uses (its HashRing::fair): every shard places RingScale virtual
// nodes on a ring of 64-bit hashes, and an id belongs to the shard of the
// first virtual node at or after the id's hash (wrapping around). Adding
// a shard moves only the ids its new virtual nodes take over, about
// 1/(N+1) of them.
//
// Data placement depends on the hashes, so they are fixed (and pinned by
// a golden test): xxHash64 (seed 0) of
//   - a virtual node: the shard id and the node's index, each 4 bytes
//     little-endian;
//   - a point id: its canonical bytes, 0x00 and the number 8 bytes
//     big-endian for an integer id, 0x01 and the 16 bytes of a UUID.
//
// A Ring is immutable and safe for concurrent use.
type Ring struct {
	hashes []uint64  // sorted
	shards []ShardID // shards[i] owns the virtual node hashes[i]
}

// NewRing returns the ring of the given shards with scale virtual nodes
// each (scale < 1 is taken as 1). With no shards every id routes to 0.
func NewRing(shards []ShardID, scale int) *Ring {
	scale = max(scale, 1)
	type vnode struct {
		h     uint64
		shard ShardID
	}
	nodes := make([]vnode, 0, len(shards)*scale)
	var b [8]byte
	for _, s := range shards {
		binary.LittleEndian.PutUint32(b[:4], s)
		for i := range scale {
			binary.LittleEndian.PutUint32(b[4:], uint32(i))
			nodes = append(nodes, vnode{xxhash.Sum64(b[:]), s})
		}
	}
	// Equal hashes (vanishingly rare) go to the lower shard id, so that
	// the ring does not depend on the order shards were given in.
	slices.SortFunc(nodes, func(a, b vnode) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return int(int64(a.shard) - int64(b.shard))
	})
	r := &Ring{hashes: make([]uint64, len(nodes)), shards: make([]ShardID, len(nodes))}
	for i, n := range nodes {
		r.hashes[i], r.shards[i] = n.h, n.shard
	}
	return r
}

// HashID is the ring's hash of a point id.
func HashID(id point.ID) uint64 {
	var b [17]byte
	if id.IsUUID() {
		b[0] = 1
		u := id.UUID()
		copy(b[1:], u[:])
		return xxhash.Sum64(b[:17])
	}
	binary.BigEndian.PutUint64(b[1:9], id.Num())
	return xxhash.Sum64(b[:9])
}

// Shard returns the shard that owns id.
func (r *Ring) Shard(id point.ID) ShardID {
	if len(r.hashes) == 0 {
		return 0
	}
	h := HashID(id)
	i, _ := slices.BinarySearch(r.hashes, h)
	if i == len(r.hashes) {
		i = 0
	}
	return r.shards[i]
}
