package shard

import (
	"encoding/json"
	"fmt"

	"github.com/shoaldb/shoal/internal/filter"
	"github.com/shoaldb/shoal/internal/point"
)

// target is what apply writes to: a segment.Store, or the shard's list of
// segments, which routes each point to the segment holding it.
type target interface {
	Has(id point.ID) bool
	Upsert(id point.ID, version uint64, vecs point.Vectors, payload point.Payload)
	Delete(id point.ID) bool
	Payload(id point.ID) (point.Payload, bool)
	SetPayload(id point.ID, version uint64, p point.Payload) bool
	UpdateVectors(id point.ID, version uint64, vecs point.Vectors) bool
	DeleteVectors(id point.ID, version uint64, names []string) bool
	CreateIndex(key string, raw json.RawMessage) error
	DeleteIndex(key string) bool
	MatchingIDs(f *filter.Filter) []point.ID
}

// apply performs op on store as operation number version. It is the pure
// step of the shard: no I/O, no clock, the same result on every replay.
// An operation that names a missing point changes nothing and fails.
func apply(store target, version uint64, op *Operation) error {
	switch op.Kind {
	case OpUpsert:
		for _, p := range op.Points {
			store.Upsert(p.ID, version, p.Vectors, p.Payload.Clone())
		}
		return nil
	case OpCreateIndex:
		if err := store.CreateIndex(op.Key, op.Schema); err != nil {
			return point.Errorf(point.KindBadInput, "%v", err)
		}
		return nil
	case OpDeleteIndex:
		store.DeleteIndex(op.Key) // deleting a missing index is not an error, as in Qdrant
		return nil
	case OpUpdateVectors:
		for _, p := range op.Vectors {
			if !store.Has(p.ID) {
				return point.ErrPointNotFound(p.ID)
			}
		}
		for _, p := range op.Vectors {
			store.UpdateVectors(p.ID, version, p.Vectors)
		}
		return nil
	}

	ids, err := targets(store, op)
	if err != nil {
		return err
	}
	var path point.Path
	if op.Kind == OpSetPayload && op.Key != "" {
		if path, err = point.ParsePath(op.Key); err != nil {
			return point.Errorf(point.KindBadInput, "%v", err)
		}
	}
	var delPaths []point.Path
	if op.Kind == OpDeletePayload {
		for _, k := range op.Keys {
			p, err := point.ParsePath(k)
			if err != nil {
				return point.Errorf(point.KindBadInput, "%v", err)
			}
			delPaths = append(delPaths, p)
		}
	}
	for _, id := range ids {
		switch op.Kind {
		case OpDelete:
			store.Delete(id)
		case OpClearPayload:
			store.SetPayload(id, version, nil)
		case OpOverwritePayload:
			store.SetPayload(id, version, op.Payload.Clone())
		case OpSetPayload:
			old, _ := store.Payload(id)
			var next point.Payload
			if op.Key == "" {
				next = old.Clone().Merge(op.Payload)
			} else {
				next = point.SetAt(old.Clone(), path, op.Payload.Clone())
			}
			store.SetPayload(id, version, next)
		case OpDeletePayload:
			old, _ := store.Payload(id)
			next := old.Clone()
			for _, p := range delPaths {
				point.DeleteAt(next, p)
			}
			store.SetPayload(id, version, next)
		case OpDeleteVectors:
			store.DeleteVectors(id, version, op.Keys)
		default:
			return fmt.Errorf("apply: unknown operation kind %q", op.Kind)
		}
	}
	return nil
}

// targets resolves the points an operation addresses: its ids (all must
// exist, except for deletes, which ignore missing ids) or its filter.
func targets(store target, op *Operation) ([]point.ID, error) {
	if len(op.Filter) > 0 && string(op.Filter) != "null" {
		f, err := filter.Parse(op.Filter)
		if err != nil {
			return nil, point.Errorf(point.KindBadInput, "%v", err)
		}
		return store.MatchingIDs(f), nil
	}
	if op.Kind == OpDelete {
		return op.IDs, nil
	}
	for _, id := range op.IDs {
		if !store.Has(id) {
			return nil, point.ErrPointNotFound(id)
		}
	}
	return op.IDs, nil
}
