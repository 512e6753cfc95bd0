package segment

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/shoaldb/shoal/internal/index/payload"
	"github.com/shoaldb/shoal/internal/point"
)

// fieldIndex is one payload index of the store: the key it covers, the
// schema as the user gave it (persisted as is) and the index itself.
type fieldIndex struct {
	key    point.Path
	raw    json.RawMessage
	schema payload.Schema
	idx    payload.Index
}

// ParseIndexSchema validates a field_schema the way CreateIndex will.
func ParseIndexSchema(raw json.RawMessage) (payload.Schema, error) {
	return payload.ParseSchema(raw)
}

// CreateIndex builds an index on key over every stored point, replacing an
// index already on that key.
func (s *Store) CreateIndex(key string, raw json.RawMessage) error {
	path, err := point.ParsePath(key)
	if err != nil {
		return err
	}
	schema, err := payload.ParseSchema(raw)
	if err != nil {
		return err
	}
	fi := &fieldIndex{key: path, raw: append(json.RawMessage(nil), raw...), schema: schema, idx: payload.New(schema)}
	for off, l := range s.live {
		if l {
			fi.add(uint32(off), s.payloads[off])
		}
	}
	if s.indexes == nil {
		s.indexes = map[string]*fieldIndex{}
	}
	s.indexes[key] = fi
	return nil
}

// DeleteIndex drops the index on key; false when there was none.
func (s *Store) DeleteIndex(key string) bool {
	if _, ok := s.indexes[key]; !ok {
		return false
	}
	delete(s.indexes, key)
	return true
}

func (fi *fieldIndex) add(off uint32, p point.Payload) {
	if vals := fi.key.FlatValues(p); len(vals) > 0 {
		fi.idx.Add(off, vals)
	} else {
		fi.idx.Remove(off)
	}
}

// reindex brings every index up to date with the payload at off.
func (s *Store) reindex(off uint32) {
	for _, fi := range s.indexes {
		if s.live[off] {
			fi.add(off, s.payloads[off])
		} else {
			fi.idx.Remove(off)
		}
	}
}

// RebuiltIndexes lists the indexes whose persisted data was unreadable
// when the store was loaded, and that were rebuilt from the points.
func (s *Store) RebuiltIndexes() []string { return s.rebuilt }

// IndexInfo describes one payload index for collection info.
type IndexInfo struct {
	Schema payload.Schema
	Points int
}

// Indexes lists the payload indexes by key.
func (s *Store) Indexes() map[string]IndexInfo {
	out := make(map[string]IndexInfo, len(s.indexes))
	for k, fi := range s.indexes {
		out[k] = IndexInfo{Schema: fi.schema, Points: fi.idx.Points()}
	}
	return out
}

func (s *Store) index(key string) (*fieldIndex, bool) {
	fi, ok := s.indexes[key]
	return fi, ok
}

func (s *Store) indexKeys() []string {
	keys := make([]string, 0, len(s.indexes))
	for k := range s.indexes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// loadIndex restores a persisted index, rebuilding it from the points when
// its data is missing or unreadable. It reports whether it rebuilt.
func (s *Store) loadIndex(key string, raw json.RawMessage, data []byte) (bool, error) {
	path, err := point.ParsePath(key)
	if err != nil {
		return false, fmt.Errorf("index key %q: %w", key, err)
	}
	schema, err := payload.ParseSchema(raw)
	if err != nil {
		return false, fmt.Errorf("index schema of %q: %w", key, err)
	}
	if len(data) > 0 {
		if idx, err := payload.Decode(schema, bytesReader(data)); err == nil {
			if s.indexes == nil {
				s.indexes = map[string]*fieldIndex{}
			}
			s.indexes[key] = &fieldIndex{key: path, raw: raw, schema: schema, idx: idx}
			return false, nil
		}
	}
	return true, s.CreateIndex(key, raw)
}
