package shard

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/segment"
)

// ErrRefused marks an operation that apply refused without changing
// anything: a missing point, a bad key or filter, a vector that does not
// fit its column. A refusal is a function of the operation and the state
// it meets, so the replay of a WAL refuses exactly the operations that
// were refused when they were first applied, and goes on. Any other error
// of apply means that replay cannot reproduce what was acknowledged, and
// stops the shard from opening. Check it with errors.Is.
var ErrRefused = errors.New("operation refused")

// refusal is an error of apply that matches ErrRefused and keeps its cause
// (a *point.Error, so that the API answers with its kind and text).
type refusal struct{ err error }

func (r *refusal) Error() string   { return r.err.Error() }
func (r *refusal) Unwrap() []error { return []error{r.err, ErrRefused} }

func refuse(err error) error { return &refusal{err: err} }

func refusef(k point.Kind, format string, args ...any) error {
	return refuse(point.Errorf(k, format, args...))
}

// target is what apply writes to: a segment.Store, or the shard's list of
// segments, which routes each point to the segment holding it.
type target interface {
	Has(id point.ID) bool
	UpsertPoint(id point.ID, version uint64, vecs point.Vectors, sparse point.SparseVectors, payload point.Payload)
	Delete(id point.ID) bool
	Payload(id point.ID) (point.Payload, bool)
	SetPayload(id point.ID, version uint64, p point.Payload) bool
	UpdatePointVectors(id point.ID, version uint64, vecs point.Vectors, sparse point.SparseVectors) bool
	DeleteVectors(id point.ID, version uint64, names []string) bool
	CreateIndex(key string, raw json.RawMessage) error
	DeleteIndex(key string) bool
	MatchingIDs(f *filter.Filter) []point.ID
	// Matching returns those of ids that exist and match f (all that
	// exist when f is nil).
	Matching(f *filter.Filter, ids []point.ID) []point.ID
	VectorDim(name string) (int, bool)
	schemaTarget
	IsMulti(name string) bool
}

// apply performs op on store as operation number version. It is the pure
// step of the shard: no I/O, no clock, the same result on every replay.
// An operation it cannot perform changes nothing and fails with an error
// matching ErrRefused; any other error is a bug or damage.
func apply(store target, version uint64, op *ops.Operation) error {
	if err := checkVectors(store, op); err != nil {
		return err
	}
	switch op.Kind {
	case ops.Upsert:
		skip := upsertSkips(store, op)
		for _, p := range op.Points {
			if skip[p.ID] {
				continue
			}
			store.UpsertPoint(p.ID, version, p.Vectors, p.Sparse, p.Payload.Clone())
		}
		return nil
	case ops.CreateIndex:
		// Validated first, so that a failure of the index build itself is
		// not mistaken for a refusal.
		if _, err := point.ParsePath(op.Key); err != nil {
			return refusef(point.KindBadInput, "%v", err)
		}
		raw, err := IndexSchema(op.Schema)
		if err != nil {
			return refusef(point.KindBadInput, "%v", err)
		}
		if err := store.CreateIndex(op.Key, raw); err != nil {
			return fmt.Errorf("create index %q: %w", op.Key, err)
		}
		return nil
	case ops.DeleteIndex:
		store.DeleteIndex(op.Key) // deleting a missing index is not an error, as in Qdrant
		return nil
	case ops.CreateVectorName, ops.DeleteVectorName:
		return applyVectorName(store, op)
	case ops.UpdateVectors:
		ids := make([]point.ID, 0, len(op.Vectors))
		for _, p := range op.Vectors {
			if !store.Has(p.ID) {
				return refuse(point.PointNotFound(p.ID))
			}
			ids = append(ids, p.ID)
		}
		var skip map[point.ID]bool
		if op.UpdateFilter != nil {
			skip = unmatched(store, op.UpdateFilter, ids)
		}
		for _, p := range op.Vectors {
			if !skip[p.ID] {
				store.UpdatePointVectors(p.ID, version, p.Vectors, p.Sparse)
			}
		}
		return nil
	}

	switch op.Kind {
	case ops.Delete, ops.ClearPayload, ops.OverwritePayload, ops.SetPayload, ops.DeletePayload, ops.DeleteVectors:
	default:
		return fmt.Errorf("apply: unknown operation kind %q", op.Kind)
	}
	ids, err := targets(store, op)
	if err != nil {
		return err
	}
	var path point.Path
	if op.Kind == ops.SetPayload && op.Key != "" {
		if path, err = point.ParsePath(op.Key); err != nil {
			return refusef(point.KindBadInput, "%v", err)
		}
	}
	var delPaths []point.Path
	if op.Kind == ops.DeletePayload {
		for _, k := range op.Keys {
			p, err := point.ParsePath(k)
			if err != nil {
				return refusef(point.KindBadInput, "%v", err)
			}
			delPaths = append(delPaths, p)
		}
	}
	for _, id := range ids {
		switch op.Kind {
		case ops.Delete:
			store.Delete(id)
		case ops.ClearPayload:
			store.SetPayload(id, version, nil)
		case ops.OverwritePayload:
			store.SetPayload(id, version, op.Payload.Clone())
		case ops.SetPayload:
			old, _ := store.Payload(id)
			var next point.Payload
			if op.Key == "" {
				next = old.Clone().Merge(op.Payload)
			} else {
				next = point.SetAt(old.Clone(), path, op.Payload.Clone())
			}
			store.SetPayload(id, version, next)
		case ops.DeletePayload:
			old, _ := store.Payload(id)
			next := old.Clone()
			for _, p := range delPaths {
				point.DeleteAt(next, p)
			}
			store.SetPayload(id, version, next)
		case ops.DeleteVectors:
			store.DeleteVectors(id, version, op.Keys)
		}
	}
	return nil
}

// upsertSkips returns the points of a conditional upsert that it leaves as
// they are (Qdrant's conditional_upsert), decided for all its points
// against the state before any of them is written, so that a point named
// twice is written (or not) as a whole and replay decides the same:
//
//	upsert       existing points that do not match the update filter
//	insert_only  every existing point, whatever the filter
//	update_only  new points, and existing ones that do not match the filter
func upsertSkips(store target, op *ops.Operation) map[point.ID]bool {
	mode := op.Mode()
	if mode == ops.ModeUpsert && op.UpdateFilter == nil {
		return nil
	}
	var existing []point.ID
	seen := make(map[point.ID]bool, len(op.Points))
	for _, p := range op.Points {
		if !seen[p.ID] && store.Has(p.ID) {
			existing = append(existing, p.ID)
		}
		seen[p.ID] = true
	}
	skip := map[point.ID]bool{}
	switch mode {
	case ops.ModeInsertOnly:
		for _, id := range existing {
			skip[id] = true
		}
	case ops.ModeUpdateOnly:
		for id := range seen {
			skip[id] = true
		}
		for _, id := range existing {
			skip[id] = false
		}
		fallthrough
	default:
		if op.UpdateFilter != nil {
			for id := range unmatched(store, op.UpdateFilter, existing) {
				skip[id] = true
			}
		}
	}
	return skip
}

// unmatched returns those of the existing ids that do not match f.
func unmatched(store target, f *filter.Filter, existing []point.ID) map[point.ID]bool {
	out := make(map[point.ID]bool, len(existing))
	for _, id := range existing {
		out[id] = true
	}
	for _, id := range store.Matching(f, existing) {
		delete(out, id)
	}
	return out
}

// checkVectors refuses vectors that do not fit the store's columns, with
// Qdrant's texts. The collection checks them before they reach the WAL; a
// record that fails here on replay was written for other columns.
func checkVectors(store target, op *ops.Operation) error {
	check := func(vecs point.Vectors, sparse point.SparseVectors) error {
		for name, v := range vecs {
			dim, ok := store.VectorDim(name)
			if !ok {
				if store.HasSparse(name) {
					return refusef(point.KindBadInput, "Conversion between sparse and regular vectors failed")
				}
				return refusef(point.KindBadInput, "Not existing vector name error: %s", name)
			}
			// A multivector is its sub-vectors flattened: any positive
			// multiple of the dimension.
			if !segment.FitsColumn(len(v), dim, store.IsMulti(name)) {
				return refusef(point.KindBadInput, "Vector dimension error: expected dim: %d, got %d", dim, len(v))
			}
		}
		for name, v := range sparse {
			if !store.HasSparse(name) {
				if _, dense := store.VectorDim(name); dense {
					return refusef(point.KindBadInput, "Conversion between sparse and regular vectors failed")
				}
				return refusef(point.KindBadInput, "Not existing vector name error: %s", name)
			}
			if err := v.CheckFinite(); err != nil {
				return refusef(point.KindBadInput, "%v", err)
			}
		}
		return nil
	}
	for _, p := range op.Points {
		if err := check(p.Vectors, p.Sparse); err != nil {
			return err
		}
	}
	for _, p := range op.Vectors {
		if err := check(p.Vectors, p.Sparse); err != nil {
			return err
		}
	}
	return nil
}

// targets resolves the points an operation addresses: its ids (all must
// exist, except for deletes, which ignore missing ids) or its filter.
func targets(store target, op *ops.Operation) ([]point.ID, error) {
	if op.Filter != nil {
		return store.MatchingIDs(op.Filter), nil
	}
	if op.Kind == ops.Delete {
		return op.IDs, nil
	}
	for _, id := range op.IDs {
		if !store.Has(id) {
			return nil, refuse(point.PointNotFound(id))
		}
	}
	return op.IDs, nil
}

// IndexSchema converts the vocabulary's schema to the payload index's: its
// JSON form, as segments take and persist it, checked by the index's own
// parser (which knows the language names the vocabulary keeps as given).
// The error is the index's: a *payload.SchemaError or
// *payload.SchemaValidationError.
func IndexSchema(s *ops.FieldSchema) (json.RawMessage, error) {
	if s == nil {
		return nil, fmt.Errorf("create_index without a schema")
	}
	raw, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if _, err := segment.ParseIndexSchema(raw); err != nil {
		return nil, err
	}
	return raw, nil
}
