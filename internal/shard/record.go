package shard

import (
	"encoding/json"
	"fmt"

	"github.com/shoaldb/shoal/internal/point"
)

// WAL records. A lone operation is its Operation encoded as JSON (the
// format of every record before batches existed; still written for
// single updates). The operations of a points/batch request are written
// together, one record each, in one append:
//
//	{"k":"batch","v":1,"i":<position>,"n":<operations in the batch>,
//	 "stop":<true when the batch stops at its first failure>,"op":<operation>}
//
// Each operation keeps its own operation number, as in Qdrant. The kind
// "batch" is unknown to versions that predate it, so such a version refuses
// the log instead of replaying a batch with other semantics; "v" versions
// the kind itself, and a record of a later version is refused the same way.
const (
	opBatch         OpKind = "batch"
	batchRecordVer         = 1
	maxBatchRecords        = 1 << 24 // bounds "n" read from disk
)

// batchPos places a record in its batch; the zero value is a lone
// operation.
type batchPos struct {
	i, n int
	stop bool
}

// record is a decoded WAL record.
type record struct {
	op  *Operation
	pos batchPos
}

// wireRecord decodes either kind of record in one pass: the operation's
// own fields, or the batch fields around a nested operation.
type wireRecord struct {
	Operation
	V    int        `json:"v,omitempty"`
	I    int        `json:"i,omitempty"`
	N    int        `json:"n,omitempty"`
	Stop bool       `json:"stop,omitempty"`
	Op   *Operation `json:"op,omitempty"`
}

type batchWire struct {
	Kind OpKind     `json:"k"`
	V    int        `json:"v"`
	I    int        `json:"i"`
	N    int        `json:"n"`
	Stop bool       `json:"stop,omitempty"`
	Op   *Operation `json:"op"`
}

// encodeBatchRecord returns the record of operation i of a batch of n.
func encodeBatchRecord(op *Operation, i, n int, stop bool) ([]byte, error) {
	b, err := json.Marshal(batchWire{Kind: opBatch, V: batchRecordVer, I: i, N: n, Stop: stop, Op: op})
	if err != nil {
		return nil, fmt.Errorf("encode %s operation %d of a batch: %w", op.Kind, i, err)
	}
	return b, nil
}

// encode returns the WAL record of r.
func (r record) encode() ([]byte, error) {
	if r.pos.n == 0 {
		return r.op.Encode()
	}
	return encodeBatchRecord(r.op, r.pos.i, r.pos.n, r.pos.stop)
}

// decodeRecord parses a WAL record of either kind; garbage gives an error,
// never a panic.
func decodeRecord(b []byte) (record, error) {
	var w wireRecord
	if err := point.DecodeJSON(b, &w); err != nil {
		return record{}, fmt.Errorf("decode operation: %w", err)
	}
	if w.Kind != opBatch {
		if w.V != 0 || w.I != 0 || w.N != 0 || w.Stop || w.Op != nil {
			return record{}, fmt.Errorf("decode operation: %s record with batch fields", w.Kind)
		}
		if !knownKind(w.Kind) {
			return record{}, fmt.Errorf("decode operation: unknown kind %q", w.Kind)
		}
		op := w.Operation
		return record{op: &op}, nil
	}
	switch {
	case w.V != batchRecordVer:
		return record{}, fmt.Errorf("decode operation: batch record version %d (this version reads %d)", w.V, batchRecordVer)
	case w.N < 1 || w.N > maxBatchRecords || w.I < 0 || w.I >= w.N:
		return record{}, fmt.Errorf("decode operation: batch position %d of %d", w.I, w.N)
	case w.Op == nil || !knownKind(w.Op.Kind):
		return record{}, fmt.Errorf("decode operation: batch record without an operation")
	case !w.Operation.empty():
		return record{}, fmt.Errorf("decode operation: batch record with operation fields outside \"op\"")
	}
	return record{op: w.Op, pos: batchPos{i: w.I, n: w.N, stop: w.Stop}}, nil
}
