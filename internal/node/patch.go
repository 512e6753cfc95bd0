package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/shoaldb/shoal/internal/collection"
)

// configPatch is the RFC 7396 merge patch that turns cur's JSON into
// next's: the keys next lacks are null, the values it changed are its own
// (objects patched key by key). JSON nulls of next become removed keys,
// which decode the same (every nullable field of a configuration is a
// pointer or a raw value left out when absent).
func configPatch(cur, next *collection.Config) (json.RawMessage, error) {
	a, err := jsonValue(cur)
	if err != nil {
		return nil, err
	}
	b, err := jsonValue(next)
	if err != nil {
		return nil, err
	}
	p, _ := diffValue(a, b)
	if p == nil {
		p = map[string]any{}
	}
	out, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode collection config patch: %w", err)
	}
	return out, nil
}

func jsonValue(cfg *collection.Config) (any, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode collection config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode collection config: %w", err)
	}
	return v, nil
}

// diffValue returns the patch from a to b and whether there is one.
func diffValue(a, b any) (any, bool) {
	bo, bObj := b.(map[string]any)
	ao, aObj := a.(map[string]any)
	if !bObj || !aObj {
		if reflect.DeepEqual(a, b) {
			return nil, false
		}
		if bObj {
			// An object replacing another value: patch it in key by
			// key over nothing (merge patch replaces a non-object).
			return bo, true
		}
		return b, true
	}
	out := map[string]any{}
	for k := range ao {
		if _, ok := bo[k]; !ok {
			out[k] = nil
		}
	}
	for k, bv := range bo {
		av, ok := ao[k]
		if !ok {
			if bv != nil {
				out[k] = bv
			}
			continue
		}
		if d, changed := diffValue(av, bv); changed {
			out[k] = d
		}
	}
	return out, len(out) > 0
}
