package point

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Payload is a point's JSON object. Values are what encoding/json produces
// with UseNumber: nil, bool, json.Number, string, []any and map[string]any.
// Numbers stay json.Number so integers and floats keep their exact text.
type Payload map[string]any

// DecodePayload parses a JSON object into a Payload, keeping numbers exact.
func DecodePayload(b []byte) (Payload, error) {
	var v any
	if err := DecodeJSON(b, &v); err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case map[string]any:
		return Payload(m), nil
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("payload must be a JSON object")
	}
}

// DecodeJSON unmarshals b into v with UseNumber and rejects trailing data.
func DecodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// More misses a stray '}' or ']', so read one more token.
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing characters after JSON value")
	}
	return nil
}

// Clone returns a deep copy of the payload.
func (p Payload) Clone() Payload {
	if p == nil {
		return nil
	}
	return Payload(cloneValue(map[string]any(p)).(map[string]any))
}

// CloneValue deep-copies a JSON value.
func CloneValue(v any) any { return cloneValue(v) }

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = cloneValue(x)
		}
		return m
	case Payload:
		return cloneValue(map[string]any(t))
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = cloneValue(x)
		}
		return a
	default:
		return v
	}
}

// Merge sets every top-level key of src in p (Qdrant's set_payload without a
// key): keys absent from src are kept, and a key set to null is removed, as
// Qdrant's merge_map does.
func (p Payload) Merge(src Payload) Payload {
	if p == nil {
		p = Payload{}
	}
	for k, v := range src {
		if v == nil {
			delete(p, k)
			continue
		}
		p[k] = cloneValue(v)
	}
	return p
}
