package collection

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/shard"
)

// Replica digests: a hash of every point a replica holds (id, vectors,
// payload), the same on two replicas that hold the same points whatever
// their segments. The replica check compares them when the replicas'
// clocks are equal and still (internal/node/replicacheck.go): clocks
// record the newest tick of each sender, so a replica that missed an
// update and then took a newer one of the same clock looks complete by
// its clocks alone.

// digestCache keeps each local replica's digest with the WAL position it
// was computed at, so a still replica is hashed once.
type digestCache struct {
	mu   sync.Mutex
	byID map[ShardID]digestAt
}

type digestAt struct {
	next, applied uint64
	digest        uint64
}

// ReplicaDigest returns the digest of this peer's replica of shard, once
// it has applied every logged update.
func (c *Collection) ReplicaDigest(ctx context.Context, id ShardID) (uint64, error) {
	rs := c.layout().set(id)
	if rs == nil {
		return 0, point.Errorf(point.KindNotFound, "Shard %d of collection %s not found on this peer", id, c.name)
	}
	local, _ := rs.Local()
	if local == nil {
		return 0, point.Errorf(point.KindNotFound, "Shard %d of collection %s has no replica on this peer", id, c.name)
	}
	if err := awaitApplied(ctx, local); err != nil {
		return 0, err
	}
	_, next := local.WALRange()
	applied := local.Applied()
	c.digests.mu.Lock()
	if d, ok := c.digests.byID[id]; ok && d.next == next && d.applied == applied {
		c.digests.mu.Unlock()
		return d.digest, nil
	}
	c.digests.mu.Unlock()
	sum, err := shardDigest(ctx, local)
	if err != nil {
		return 0, fmt.Errorf("digest of shard %d: %w", id, err)
	}
	if _, n := local.WALRange(); n == next && local.Applied() == applied {
		c.digests.mu.Lock()
		if c.digests.byID == nil {
			c.digests.byID = map[ShardID]digestAt{}
		}
		c.digests.byID[id] = digestAt{next: next, applied: applied, digest: sum}
		c.digests.mu.Unlock()
	}
	return sum, nil
}

// shardDigest sums a hash of every point of the shard (a sum does not
// depend on the order the points come in).
func shardDigest(ctx context.Context, sh *shard.Shard) (uint64, error) {
	var sum uint64
	var from *point.ID
	all := func(string) bool { return true }
	for {
		var recs []segmentRecord
		var next *point.ID
		var err error
		sh.View(func(r *shard.Reader) { recs, next, err = scrollRecords(ctx, r, from, all) })
		if err != nil {
			return 0, err
		}
		for _, r := range recs {
			h, err := recordHash(r)
			if err != nil {
				return 0, err
			}
			sum += h
		}
		if next == nil {
			return sum, nil
		}
		from = next
	}
}

// recordHash hashes one point: its id, its vectors by name, its sparse
// vectors by name, and its payload (encoded with sorted keys).
func recordHash(r segmentRecord) (uint64, error) {
	d := xxhash.New()
	var b [8]byte
	word := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		_, _ = d.Write(b[:])
	}
	str := func(s string) {
		word(uint64(len(s)))
		_, _ = d.WriteString(s)
	}
	str(r.ID.String())
	for _, name := range slices.Sorted(maps.Keys(r.Vectors)) {
		str(name)
		v := r.Vectors[name]
		word(uint64(len(v)))
		for _, x := range v {
			word(uint64(math.Float32bits(x)))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Sparse)) {
		str(name)
		v := r.Sparse[name]
		word(uint64(len(v.Indices)))
		for i, idx := range v.Indices {
			word(uint64(idx))
			if i < len(v.Values) {
				word(uint64(math.Float32bits(v.Values[i])))
			}
		}
	}
	p, err := json.Marshal(r.Payload)
	if err != nil {
		return 0, err
	}
	str(string(p))
	return d.Sum64(), nil
}
