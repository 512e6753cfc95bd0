package shard

import (
	"encoding/json"
	"fmt"

	"github.com/shoaldb/shoal/internal/point"
)

// OpKind names an update operation.
type OpKind string

// Update operation kinds, as Qdrant's points/batch names them.
const (
	OpUpsert           OpKind = "upsert"
	OpDelete           OpKind = "delete"
	OpSetPayload       OpKind = "set_payload"
	OpOverwritePayload OpKind = "overwrite_payload"
	OpDeletePayload    OpKind = "delete_payload"
	OpClearPayload     OpKind = "clear_payload"
	OpUpdateVectors    OpKind = "update_vectors"
	OpDeleteVectors    OpKind = "delete_vectors"
	OpCreateIndex      OpKind = "create_index" // Key: field, Schema: field_schema
	OpDeleteIndex      OpKind = "delete_index" // Key: field
)

// PointStruct is a point to upsert.
type PointStruct struct {
	ID      point.ID      `json:"id"`
	Vectors point.Vectors `json:"v,omitempty"`
	Payload point.Payload `json:"p"` // no omitempty: {} and null stay apart on replay
}

// PointVectors are vectors to set on an existing point.
type PointVectors struct {
	ID      point.ID      `json:"id"`
	Vectors point.Vectors `json:"v"`
}

// Operation is one update as written to the WAL. Filters travel as their
// JSON text and are evaluated when the operation is applied, so that an
// operation means the same thing on replay and on every replica.
type Operation struct {
	Kind    OpKind          `json:"k"`
	Points  []PointStruct   `json:"pts,omitempty"`
	Vectors []PointVectors  `json:"vecs,omitempty"`
	IDs     []point.ID      `json:"ids,omitempty"`
	Filter  json.RawMessage `json:"f,omitempty"`
	Payload point.Payload   `json:"pl"`
	Key     string          `json:"key,omitempty"`    // set_payload: nested key path
	Keys    []string        `json:"keys,omitempty"`   // delete_payload keys / delete_vectors names
	Schema  json.RawMessage `json:"schema,omitempty"` // create_index field schema
}

// Encode returns the WAL record of op.
func (op *Operation) Encode() ([]byte, error) {
	b, err := json.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("encode %s operation: %w", op.Kind, err)
	}
	return b, nil
}

// DecodeOperation parses a WAL record; garbage gives an error, never a panic.
func DecodeOperation(b []byte) (*Operation, error) {
	var op Operation
	if err := point.DecodeJSON(b, &op); err != nil {
		return nil, fmt.Errorf("decode operation: %w", err)
	}
	if !knownKind(op.Kind) {
		return nil, fmt.Errorf("decode operation: unknown kind %q", op.Kind)
	}
	return &op, nil
}

func knownKind(k OpKind) bool {
	switch k {
	case OpUpsert, OpDelete, OpSetPayload, OpOverwritePayload, OpDeletePayload, OpClearPayload, OpUpdateVectors, OpDeleteVectors, OpCreateIndex, OpDeleteIndex:
		return true
	}
	return false
}

// empty reports whether op carries nothing but its kind.
func (op *Operation) empty() bool {
	return len(op.Points) == 0 && len(op.Vectors) == 0 && len(op.IDs) == 0 && len(op.Filter) == 0 &&
		len(op.Payload) == 0 && op.Key == "" && len(op.Keys) == 0 && len(op.Schema) == 0
}
