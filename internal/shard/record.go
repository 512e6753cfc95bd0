package shard

import (
	"encoding/binary"
	"fmt"

	"github.com/shoaldb/shoal/internal/ops"
)

// WAL records. A record holds one operation, encoded by package ops, after
// a small header that places it in its batch:
//
//	2:u8 n:uvarint [i:uvarint stop:u8, when n > 0] operation
//
// The first byte is the record format. n is the number of operations of
// the points/batch request the record belongs to (0 for a lone update), i
// the record's position in it and stop 1 when the batch stops at its first
// failure. The operations of a batch are written together, one record
// each, in one append; each keeps its own operation number, as in Qdrant.
//
// Format 1, written before the operation vocabulary had an encoding of its
// own, is JSON and starts with '{'; logs written in it still replay (see
// record_legacy.go). A format this version does not know is refused, so an
// older version never replays a log of a newer one with other semantics.
const (
	recordFormat    = 2
	maxBatchRecords = 1 << 24 // bounds n read from disk
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
}

// encode returns the WAL record of r.
func (r record) encode() ([]byte, error) {
	b := make([]byte, 0, 16)
	b = append(b, recordFormat)
	b = binary.AppendUvarint(b, uint64(r.pos.n))
	if r.pos.n > 0 {
		b = binary.AppendUvarint(b, uint64(r.pos.i))
		stop := byte(0)
		if r.pos.stop {
			stop = 1
		}
		b = append(b, stop)
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
	case recordFormat:
	case '{', ' ', '\t', '\r', '\n':
		return decodeLegacyRecord(b)
	default:
		return record{}, fmt.Errorf("decode operation: record format %d (this version reads %d)", b[0], recordFormat)
	}
	rest := b[1:]
	next := func() (int, bool) {
		v, k := binary.Uvarint(rest)
		if k <= 0 || (k > 1 && rest[k-1] == 0) || v > maxBatchRecords {
			return 0, false
		}
		rest = rest[k:]
		return int(v), true
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
	op, err := ops.DecodeOperation(rest)
	if err != nil {
		return record{}, fmt.Errorf("decode operation: %w", err)
	}
	return record{op: op, pos: pos}, nil
}
