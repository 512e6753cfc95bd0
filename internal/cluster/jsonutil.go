package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// compactJSON returns the canonical form of a valid JSON value, the form
// encoding/json writes a RawMessage in (compact, HTML characters escaped),
// so that a value reads the same before and after a snapshot round trip.
// nil stays nil.
func compactJSON(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	out, err := json.Marshal(raw)
	if err != nil {
		return raw // callers validate first; keep the bytes rather than lose them
	}
	return out
}

// mergePatch applies an RFC 7396 JSON merge patch to target: objects merge
// key by key, null deletes a key, anything else replaces. Numbers keep
// their text, and the result has sorted keys, so it is deterministic.
func mergePatch(target, patch json.RawMessage) (json.RawMessage, error) {
	p, err := decodeNumbers(patch)
	if err != nil {
		return nil, badInput("Collection config patch is not valid JSON: %v", err)
	}
	var t any
	if len(target) > 0 {
		if t, err = decodeNumbers(target); err != nil {
			return nil, fmt.Errorf("stored collection config: %w", err)
		}
	}
	out, err := json.Marshal(mergeValue(t, p))
	if err != nil {
		return nil, fmt.Errorf("encode patched config: %w", err)
	}
	return out, nil
}

func mergeValue(target, patch any) any {
	po, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	to, ok := target.(map[string]any)
	if !ok {
		to = map[string]any{}
	}
	for k, v := range po {
		if v == nil {
			delete(to, k)
			continue
		}
		to[k] = mergeValue(to[k], v)
	}
	return to
}

func decodeNumbers(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}
