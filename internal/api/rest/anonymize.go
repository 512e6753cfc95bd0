package rest

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"time"
)

// Qdrant's anonymization of telemetry (lib/segment/src/common/anonymize.rs),
// asked for with ?anonymize=true: names a user chose are replaced by their
// hash, counts keep their leading digits, times move by up to ten seconds.

// anonName is Qdrant's Anonymize for String: the decimal SipHash-1-3 (keys
// 0, 0) of the string as Rust's Hash writes it (its bytes, then 0xff), as
// std's DefaultHasher computes it, so a name anonymizes as in Qdrant.
func anonName(s string) string {
	b := make([]byte, len(s)+1)
	copy(b, s)
	b[len(s)] = 0xff
	return strconv.FormatUint(sip13(b), 10)
}

// anonCount is Qdrant's Anonymize for usize: numbers of more than about
// five digits keep the leading ones.
func anonCount(n int) int {
	if n <= 0 {
		return n
	}
	l := math.Round(math.Log10(float64(float32(n))))
	if l <= 4 {
		return n
	}
	coeff := int(math.Pow10(int(l) - 4))
	return n / coeff * coeff
}

func anonCount64(n int64) int64 { return int64(anonCount(int(n))) }

// anonTime is Qdrant's Anonymize for a date-time: within ten seconds.
func anonTime(t time.Time) time.Time {
	return t.Add(time.Duration(rand.Float64()*20-10) * time.Second)
}

// sip13 is SipHash-1-3 with the zero key.
func sip13(msg []byte) uint64 {
	v0 := uint64(0x736f6d6570736575)
	v1 := uint64(0x646f72616e646f6d)
	v2 := uint64(0x6c7967656e657261)
	v3 := uint64(0x7465646279746573)
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
		v0 ^= m
		msg = msg[8:]
	}
	last := uint64(n) << 56
	for i, c := range msg {
		last |= uint64(c) << (8 * i)
	}
	v3 ^= last
	round()
	v0 ^= last
	v2 ^= 0xff
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
