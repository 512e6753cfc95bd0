package shard

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/shoaldb/shoal/internal/ops"
)

// WAL records. A record holds one operation, encoded by package ops, after
// a small header that places it in its batch and, for an update a replica
// accepted under a clock tag (clocks.go), the tag:
//
//	2:u8 n:uvarint [i:uvarint stop:u8, when n > 0] operation
//	3:u8 n:uvarint [i:uvarint stop:u8, when n > 0] tag operation
//	tag = flags:u8 peer:uvarint clock:uvarint tick:uvarint token:u64 LE
//
// The first byte is the record format: 2 for an untagged update (the
// records of standalone shards are what they were before tags), 3 for a
// tagged one. n is the number of operations of
// the points/batch request the record belongs to (0 for a lone update), i
// the record's position in it and stop 1 when the batch stops at its first
// failure. The operations of a batch are written together, one record
// each, in one append; each keeps its own operation number, as in Qdrant.
// The tag's flags hold force in bit 0 and nothing else; clock fits in 32
// bits. Varints are minimal, so a record decodes to one encoding only.
//
// Format 1, written before the operation vocabulary had an encoding of its
// own, is JSON and starts with '{'; logs written in it still replay (see
// record_legacy.go). A format this version does not know is refused, so an
// older version never replays a log of a newer one with other semantics.
const (
	recordFormat    = 2
	taggedFormat    = 3
	maxBatchRecords = 1 << 24 // bounds n read from disk
	tagForce        = 1       // the flag bit of a forced tag
)

// batchPos places a record in its batch; the zero value is a lone
// operation.
type batchPos struct {
	i, n int
	stop bool
}

// record is a decoded WAL record.
type record struct {
	op  *ops.Operation
	pos batchPos
	tag *ops.ClockTag // nil: untagged
}

// encode returns the WAL record of r.
func (r record) encode() ([]byte, error) {
	b := make([]byte, 0, 48)
	if r.tag == nil {
		b = append(b, recordFormat)
	} else {
		b = append(b, taggedFormat)
	}
	b = binary.AppendUvarint(b, uint64(r.pos.n))
	if r.pos.n > 0 {
		b = binary.AppendUvarint(b, uint64(r.pos.i))
		stop := byte(0)
		if r.pos.stop {
			stop = 1
		}
		b = append(b, stop)
	}
	if t := r.tag; t != nil {
		flags := byte(0)
		if t.Force {
			flags |= tagForce
		}
		b = append(b, flags)
		b = binary.AppendUvarint(b, t.PeerID)
		b = binary.AppendUvarint(b, uint64(t.ClockID))
		b = binary.AppendUvarint(b, t.Tick)
		b = binary.LittleEndian.AppendUint64(b, t.Token)
	}
	return r.op.AppendEncoding(b)
}

// decodeRecord parses a WAL record of any format this version reads;
// garbage gives an error, never a panic.
func decodeRecord(b []byte) (record, error) {
	if len(b) == 0 {
		return record{}, fmt.Errorf("decode operation: empty record")
	}
	switch b[0] {
	case recordFormat, taggedFormat:
	case '{', ' ', '\t', '\r', '\n':
		return decodeLegacyRecord(b)
	default:
		return record{}, fmt.Errorf("decode operation: record format %d (this version reads %d and %d)", b[0], recordFormat, taggedFormat)
	}
	rest := b[1:]
	uvarint := func(limit uint64) (uint64, bool) {
		v, k := binary.Uvarint(rest)
		if k <= 0 || (k > 1 && rest[k-1] == 0) || v > limit {
			return 0, false
		}
		rest = rest[k:]
		return v, true
	}
	next := func() (int, bool) {
		v, ok := uvarint(maxBatchRecords)
		return int(v), ok
	}
	var pos batchPos
	n, ok := next()
	if !ok {
		return record{}, fmt.Errorf("decode operation: bad batch size")
	}
	if n > 0 {
		i, ok := next()
		if !ok || i >= n || len(rest) == 0 || rest[0] > 1 {
			return record{}, fmt.Errorf("decode operation: bad position in a batch of %d", n)
		}
		pos = batchPos{i: i, n: n, stop: rest[0] == 1}
		rest = rest[1:]
	}
	var tag *ops.ClockTag
	if b[0] == taggedFormat {
		if len(rest) == 0 || rest[0]&^tagForce != 0 {
			return record{}, fmt.Errorf("decode operation: bad clock tag flags")
		}
		t := ops.ClockTag{Force: rest[0]&tagForce != 0}
		rest = rest[1:]
		var clockID uint64
		var ok1, ok2, ok3 bool
		t.PeerID, ok1 = uvarint(math.MaxUint64)
		if ok1 {
			clockID, ok2 = uvarint(math.MaxUint32)
		}
		if ok2 {
			t.Tick, ok3 = uvarint(math.MaxUint64)
		}
		if !ok3 || len(rest) < 8 {
			return record{}, fmt.Errorf("decode operation: bad clock tag")
		}
		t.ClockID = uint32(clockID)
		t.Token = binary.LittleEndian.Uint64(rest)
		rest = rest[8:]
		tag = &t
	}
	op, err := ops.DecodeOperation(rest)
	if err != nil {
		return record{}, fmt.Errorf("decode operation: %w", err)
	}
	return record{op: op, pos: pos, tag: tag}, nil
}
