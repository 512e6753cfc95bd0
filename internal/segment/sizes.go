package segment

import (
	"encoding/json"
	"strconv"

	"github.com/shoaldb/shoal/internal/point"
)

// StoredVectorBytes is the size of the live points' vectors in their
// datatypes (dimension × element size each, per sub-vector of a
// multivector; turbo4 as column.sizeBytes): Qdrant's vectors_size_bytes of
// a segment, the measure of strict mode's max_collection_vector_size_bytes.
// It walks the points; call it under the store's read lock.
func (s *Store) StoredVectorBytes() int64 {
	var n int64
	for _, c := range s.columns {
		n += int64(c.subVectors(s.live)) * int64(c.sizeBytes())
	}
	return n
}

// PayloadBytes is the size of the live points' payloads as JSON text
// (estimated without encoding them), the measure of strict mode's
// max_collection_payload_size_bytes. It walks the payloads; call it under
// the store's read lock.
func (s *Store) PayloadBytes() int64 {
	var n int64
	for off, live := range s.live {
		if live && s.payloads[off] != nil {
			n += jsonSize(map[string]any(s.payloads[off]))
		}
	}
	return n
}

// jsonSize is the length of v's compact JSON encoding, without the
// escapes of unusual characters (a close estimate).
func jsonSize(v any) int64 {
	switch t := v.(type) {
	case nil:
		return 4
	case bool:
		if t {
			return 4
		}
		return 5
	case string:
		return int64(len(t)) + 2
	case json.Number:
		return int64(len(t))
	case int64:
		return int64(len(strconv.FormatInt(t, 10)))
	case []any:
		n := int64(2 + max(len(t)-1, 0))
		for _, e := range t {
			n += jsonSize(e)
		}
		return n
	case point.Payload:
		return jsonSize(map[string]any(t))
	case map[string]any:
		n := int64(2 + max(len(t)-1, 0))
		for k, e := range t {
			n += int64(len(k)) + 3 + jsonSize(e) // "k":
		}
		return n
	}
	b, err := json.Marshal(v) // other numbers (payloads decode them as json.Number)
	if err != nil {
		return 0
	}
	return int64(len(b))
}
