package shard

import (
	"encoding/json"
	"fmt"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// Records of format 1, the WAL of versions before the operation
// vocabulary: a lone operation is its JSON object,
//
//	{"k":<kind>,"pts":[{"id","v","p"}],"vecs":[{"id","v"}],"ids":[...],
//	 "f":<filter>,"pl":<payload>,"key":<key>,"keys":[...],"schema":<field schema>}
//
// and an operation of a points/batch request is wrapped as
//
//	{"k":"batch","v":1,"i":<position>,"n":<operations in the batch>,
//	 "stop":<true when the batch stops at its first failure>,"op":<operation>}
//
// They are read, never written. Filters and schemas were kept as the JSON
// text the user sent (the API had checked that they parse), and are parsed
// here; overwrite_payload could carry the key of its request, which apply
// ignored and which the vocabulary does not hold.
const legacyBatchVersion = 1

type legacyOperation struct {
	Kind    ops.Kind             `json:"k"`
	Points  []legacyPointStruct  `json:"pts,omitempty"`
	Vectors []legacyPointVectors `json:"vecs,omitempty"`
	IDs     []point.ID           `json:"ids,omitempty"`
	Filter  json.RawMessage      `json:"f,omitempty"`
	Payload point.Payload        `json:"pl"`
	Key     string               `json:"key,omitempty"`
	Keys    []string             `json:"keys,omitempty"`
	Schema  json.RawMessage      `json:"schema,omitempty"`
}

type legacyPointStruct struct {
	ID      point.ID      `json:"id"`
	Vectors point.Vectors `json:"v,omitempty"`
	Payload point.Payload `json:"p"`
}

type legacyPointVectors struct {
	ID      point.ID      `json:"id"`
	Vectors point.Vectors `json:"v"`
}

// legacyRecord decodes either kind of record in one pass: the operation's
// own fields, or the batch fields around a nested operation.
type legacyRecord struct {
	legacyOperation
	V    int              `json:"v,omitempty"`
	I    int              `json:"i,omitempty"`
	N    int              `json:"n,omitempty"`
	Stop bool             `json:"stop,omitempty"`
	Op   *legacyOperation `json:"op,omitempty"`
}

const legacyBatchKind ops.Kind = "batch"

func decodeLegacyRecord(b []byte) (record, error) {
	var w legacyRecord
	if err := point.DecodeJSON(b, &w); err != nil {
		return record{}, fmt.Errorf("decode operation: %w", err)
	}
	if w.Kind != legacyBatchKind {
		if w.V != 0 || w.I != 0 || w.N != 0 || w.Stop || w.Op != nil {
			return record{}, fmt.Errorf("decode operation: %s record with batch fields", w.Kind)
		}
		op, err := w.legacyOperation.convert()
		if err != nil {
			return record{}, err
		}
		return record{op: op}, nil
	}
	switch {
	case w.V != legacyBatchVersion:
		return record{}, fmt.Errorf("decode operation: batch record version %d (this version reads %d)", w.V, legacyBatchVersion)
	case w.N < 1 || w.N > maxBatchRecords || w.I < 0 || w.I >= w.N:
		return record{}, fmt.Errorf("decode operation: batch position %d of %d", w.I, w.N)
	case w.Op == nil || !w.Op.Kind.Known():
		return record{}, fmt.Errorf("decode operation: batch record without an operation")
	case !w.legacyOperation.empty():
		return record{}, fmt.Errorf("decode operation: batch record with operation fields outside \"op\"")
	}
	op, err := w.Op.convert()
	if err != nil {
		return record{}, err
	}
	return record{op: op, pos: batchPos{i: w.I, n: w.N, stop: w.Stop}}, nil
}

// empty reports whether op carries nothing but its kind.
func (op *legacyOperation) empty() bool {
	return len(op.Points) == 0 && len(op.Vectors) == 0 && len(op.IDs) == 0 && len(op.Filter) == 0 &&
		len(op.Payload) == 0 && op.Key == "" && len(op.Keys) == 0 && len(op.Schema) == 0
}

// convert returns the operation a format 1 record held.
func (l *legacyOperation) convert() (*ops.Operation, error) {
	if !l.Kind.Known() {
		return nil, fmt.Errorf("decode operation: unknown kind %q", l.Kind)
	}
	op := &ops.Operation{Kind: l.Kind, IDs: l.IDs, Payload: l.Payload, Key: l.Key, Keys: l.Keys}
	if op.Kind == ops.OverwritePayload {
		op.Key = ""
	}
	if l.Points != nil {
		op.Points = make([]ops.PointStruct, len(l.Points))
		for i, p := range l.Points {
			op.Points[i] = ops.PointStruct{ID: p.ID, Vectors: p.Vectors, Payload: p.Payload}
		}
	}
	if l.Vectors != nil {
		op.Vectors = make([]ops.PointVectors, len(l.Vectors))
		for i, p := range l.Vectors {
			op.Vectors[i] = ops.PointVectors{ID: p.ID, Vectors: p.Vectors}
		}
	}
	if len(l.Filter) > 0 && string(l.Filter) != "null" {
		f, err := filter.Parse(l.Filter)
		if err != nil {
			return nil, fmt.Errorf("decode operation: %s filter: %w", l.Kind, err)
		}
		op.Filter = f
	}
	if len(l.Schema) > 0 {
		s, err := ops.ParseFieldSchema(l.Schema)
		if err != nil {
			return nil, fmt.Errorf("decode operation: %s schema: %w", l.Kind, err)
		}
		op.Schema = &s
	}
	if err := op.Validate(); err != nil {
		return nil, fmt.Errorf("decode operation: %w", err)
	}
	return op, nil
}
