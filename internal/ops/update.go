package ops

import (
	"errors"
	"fmt"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// Kind names an update operation, as Qdrant's points/batch names them.
type Kind string

// Update operation kinds.
const (
	Upsert           Kind = "upsert"
	Delete           Kind = "delete"
	SetPayload       Kind = "set_payload"
	OverwritePayload Kind = "overwrite_payload"
	DeletePayload    Kind = "delete_payload"
	ClearPayload     Kind = "clear_payload"
	UpdateVectors    Kind = "update_vectors"
	DeleteVectors    Kind = "delete_vectors"
	CreateIndex      Kind = "create_index"
	DeleteIndex      Kind = "delete_index"
	// CreateVectorName and DeleteVectorName add a named vector to every
	// segment of a shard, or drop one with its data (Qdrant's
	// VectorNameOperations): they are logged like point operations so
	// that a replay meets every point operation with the vectors it met.
	CreateVectorName Kind = "create_vector_name"
	DeleteVectorName Kind = "delete_vector_name"
)

// kinds lists every kind; a kind's position + 1 is its byte in the
// encoding, so the list is only ever appended to.
var kinds = [...]Kind{Upsert, Delete, SetPayload, OverwritePayload, DeletePayload, ClearPayload, UpdateVectors, DeleteVectors, CreateIndex, DeleteIndex,
	CreateVectorName, DeleteVectorName}

// Known reports whether k is one of the update kinds.
func (k Kind) Known() bool { return kindCode(k) != 0 }

func kindCode(k Kind) byte {
	for i, x := range kinds {
		if x == k {
			return byte(i + 1)
		}
	}
	return 0
}

// PointStruct is a point to upsert. A nil Payload and an empty one stay
// apart: the point is stored with no payload, or with {}. Dense and sparse
// vectors are under different names.
type PointStruct struct {
	ID      point.ID
	Vectors point.Vectors
	Sparse  point.SparseVectors
	Payload point.Payload
}

// UpdateMode is Qdrant's update_mode of an upsert: which of the points it
// names it writes. The zero value is ModeUpsert.
type UpdateMode string

// Update modes.
const (
	// ModeUpsert inserts new points and updates existing ones (those
	// matching UpdateFilter, when there is one).
	ModeUpsert UpdateMode = "upsert"
	// ModeInsertOnly inserts new points and leaves every existing one as
	// it is, whatever UpdateFilter says.
	ModeInsertOnly UpdateMode = "insert_only"
	// ModeUpdateOnly updates existing points (those matching UpdateFilter,
	// when there is one) and inserts none.
	ModeUpdateOnly UpdateMode = "update_only"
)

// modes lists the modes; a mode's position is its byte in the encoding
// (ModeUpsert, the zero value, is 0), so the list is only appended to.
var modes = [...]UpdateMode{ModeUpsert, ModeInsertOnly, ModeUpdateOnly}

func modeCode(m UpdateMode) (byte, bool) {
	if m == "" {
		return 0, true
	}
	for i, x := range modes {
		if x == m {
			return byte(i), true
		}
	}
	return 0, false
}

// PointVectors are vectors to set on an existing point.
type PointVectors struct {
	ID      point.ID
	Vectors point.Vectors
	Sparse  point.SparseVectors
}

// Operation is one update of a collection. The fields a kind uses:
//
//	upsert             Points, UpdateMode, UpdateFilter
//	delete             IDs or Filter
//	set_payload        IDs or Filter, Payload, Key (a key path to set the payload at; "" for the top level)
//	overwrite_payload  IDs or Filter, Payload
//	delete_payload     IDs or Filter, Keys (key paths)
//	clear_payload      IDs or Filter
//	update_vectors     Vectors, UpdateFilter
//	delete_vectors     IDs or Filter, Keys (vector names)
//	create_index       Key (the field's key path), Schema
//	delete_index       Key
//	create_vector_name Key (the vector's name), VectorConfig
//	delete_vector_name Key
//
// A filter is evaluated when the operation is applied, so that it selects
// the same points on replay and on every replica; without a filter the
// operation addresses IDs (which may be empty). Validate refuses a field
// the kind does not use, so that nothing is lost in the encoding.
//
// UpdateMode and UpdateFilter make an upsert or update_vectors conditional,
// as Qdrant's update_mode and update_filter do. They are decided when the
// operation is applied, against the points as they are then, for all the
// points of the operation at once: an existing point (one stored before
// the operation) that does not match UpdateFilter is left as it is, a new
// point is inserted whatever the filter says; ModeInsertOnly leaves every
// existing point as it is, ModeUpdateOnly inserts no new point.
type Operation struct {
	Kind         Kind
	Points       []PointStruct
	Vectors      []PointVectors
	IDs          []point.ID
	Filter       *filter.Filter
	Payload      point.Payload
	Key          string
	Keys         []string
	Schema       *FieldSchema
	UpdateMode   UpdateMode
	UpdateFilter *filter.Filter
	// VectorConfig is the vector create_vector_name adds.
	VectorConfig *VectorNameConfig
}

// Mode is the operation's update mode, ModeUpsert when unset.
func (op *Operation) Mode() UpdateMode {
	if op.UpdateMode == "" {
		return ModeUpsert
	}
	return op.UpdateMode
}

// ErrInvalid marks an operation or request whose shape breaks the rules of
// this package (a field its kind does not use, a schema that cannot be
// valid); check it with errors.Is.
var ErrInvalid = errors.New("invalid operation")

// field bits, for the shapes of the kinds.
const (
	fPoints = 1 << iota
	fVectors
	fSelector // IDs or Filter
	fPayload
	fKey
	fKeys
	fSchema
	fMode      // UpdateMode
	fCondition // UpdateFilter
	fVectorConfig
)

func shape(k Kind) int {
	switch k {
	case Upsert:
		return fPoints | fMode | fCondition
	case Delete, ClearPayload:
		return fSelector
	case SetPayload:
		return fSelector | fPayload | fKey
	case OverwritePayload:
		return fSelector | fPayload
	case DeletePayload, DeleteVectors:
		return fSelector | fKeys
	case UpdateVectors:
		return fVectors | fCondition
	case CreateIndex:
		return fKey | fSchema
	case DeleteIndex, DeleteVectorName:
		return fKey
	case CreateVectorName:
		return fKey | fVectorConfig
	}
	return 0
}

// Validate checks the shape of op: a known kind, only the fields the kind
// uses, not both IDs and Filter, and for create_index a schema that passes
// FieldSchema.Validate. Errors wrap ErrInvalid.
func (op *Operation) Validate() error {
	if !op.Kind.Known() {
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, op.Kind)
	}
	uses := shape(op.Kind)
	extra := func(set bool, bit int, name string) error {
		if set && uses&bit == 0 {
			return fmt.Errorf("%w: %s operation with %s", ErrInvalid, op.Kind, name)
		}
		return nil
	}
	if err := errors.Join(
		extra(op.Points != nil, fPoints, "points"),
		extra(op.Vectors != nil, fVectors, "vectors"),
		extra(op.IDs != nil, fSelector, "ids"),
		extra(op.Filter != nil, fSelector, "a filter"),
		extra(op.Payload != nil, fPayload, "a payload"),
		extra(op.Key != "", fKey, "a key"),
		extra(op.Keys != nil, fKeys, "keys"),
		extra(op.Schema != nil, fSchema, "a schema"),
		extra(op.UpdateMode != "", fMode, "an update mode"),
		extra(op.UpdateFilter != nil, fCondition, "an update filter"),
		extra(op.VectorConfig != nil, fVectorConfig, "a vector config"),
	); err != nil {
		return err
	}
	if _, ok := modeCode(op.UpdateMode); !ok {
		return fmt.Errorf("%w: unknown update mode %q", ErrInvalid, op.UpdateMode)
	}
	if op.IDs != nil && op.Filter != nil {
		return fmt.Errorf("%w: %s operation with both ids and a filter", ErrInvalid, op.Kind)
	}
	for _, p := range op.Points {
		if err := checkSparse(p.Sparse); err != nil {
			return err
		}
	}
	for _, p := range op.Vectors {
		if err := checkSparse(p.Sparse); err != nil {
			return err
		}
	}
	if op.Kind == CreateIndex {
		if op.Key == "" {
			return fmt.Errorf("%w: create_index without a key", ErrInvalid)
		}
		if op.Schema == nil {
			return fmt.Errorf("%w: create_index without a schema", ErrInvalid)
		}
		if err := op.Schema.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if op.Kind == CreateVectorName {
		if op.VectorConfig == nil {
			return fmt.Errorf("%w: create_vector_name without a vector config", ErrInvalid)
		}
		if err := op.VectorConfig.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// checkSparse refuses sparse vectors that break Qdrant's rules (indices
// unique, as many values as indices): the apply step could not store them.
func checkSparse(vecs point.SparseVectors) error {
	for name, v := range vecs {
		if errs := v.Validate(); len(errs) > 0 {
			return fmt.Errorf("%w: sparse vector %q: %v", ErrInvalid, name, errs[0])
		}
	}
	return nil
}
