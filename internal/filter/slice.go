package filter

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"

	"github.com/shoaldb/shoal/internal/point"
)

// SliceCondition is `{"slice": {"total": n, "index": i}}`: one of Total
// disjoint, deterministic slices of the id space. A point belongs to slice
// Index when SipHash-2-4 (zero key) of its canonical id bytes modulo Total
// is Index; the bytes are the 8 little-endian bytes of a numeric id or the
// 16 RFC 4122 bytes of a UUID, as the Slice schema of Qdrant's OpenAPI
// document specifies. Inside a nested filter it never holds.
type SliceCondition struct {
	Total, Index uint32
}

// Contains reports whether id falls into the slice.
func (c *SliceCondition) Contains(id point.ID) bool {
	if c.Total == 0 {
		return false
	}
	return SliceHash(id)%uint64(c.Total) == uint64(c.Index)
}

// SliceHash is the hash that assigns ids to slices.
func SliceHash(id point.ID) uint64 {
	var buf [16]byte
	if id.IsUUID() {
		u := id.UUID()
		return sipHash24Key(0, 0, u[:])
	}
	binary.LittleEndian.PutUint64(buf[:8], id.Num())
	return sipHash24Key(0, 0, buf[:8])
}

func (c *SliceCondition) match(t target) bool { return !t.nested && c.Contains(t.id) }

// MarshalJSON writes {"slice": {"index": i, "total": n}}.
func (c *SliceCondition) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"slice": map[string]uint32{"total": c.Total, "index": c.Index}})
}

// sipHash24Key is SipHash-2-4 of msg under the key (k0, k1), the two
// little-endian halves of the 128-bit key.
func sipHash24Key(k0, k1 uint64, msg []byte) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	n := len(msg)
	for len(msg) >= 8 {
		m := binary.LittleEndian.Uint64(msg)
		v3 ^= m
		round()
		round()
		v0 ^= m
		msg = msg[8:]
	}
	last := uint64(n) << 56
	for i, b := range msg {
		last |= uint64(b) << (8 * i)
	}
	v3 ^= last
	round()
	round()
	v0 ^= last
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
