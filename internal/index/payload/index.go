package payload

import (
	"fmt"
	"io"
)

// Index is one payload field index of a segment. Points are identified by
// their offset in the segment. The segment calls Add with the values found
// at the field's key path for a point, flattened one level as Qdrant does
// (point.Path.FlatValues), and Remove when the point goes; each concrete
// type (*KeywordIndex, *IntegerIndex, ...) adds its query methods.
type Index interface {
	// Schema returns the schema the index was built with.
	Schema() Schema
	// Add replaces the values indexed for off. Values of a type the index
	// does not take are ignored, as in Qdrant; a point left with no
	// indexable value is not indexed.
	Add(off uint32, values []any)
	// Remove drops off from the index.
	Remove(off uint32)
	// Points returns the number of points with at least one indexed value
	// (for a text index: with at least one string).
	Points() int
	// Values returns the number of (point, value) pairs indexed (for a
	// text index: distinct tokens per point).
	Values() int
	// Encode writes the persisted form, read back by Decode.
	Encode(w io.Writer) error
}

// New returns an empty index for the schema. It panics on a schema whose
// type is not one of the eight index types; ParseSchema never returns one.
func New(s Schema) Index {
	switch s.Type {
	case Keyword:
		return NewKeywordIndex(s)
	case Integer:
		return NewIntegerIndex(s)
	case Float:
		return NewFloatIndex(s)
	case Geo:
		return NewGeoIndex(s)
	case Text:
		return NewTextIndex(s)
	case Bool:
		return NewBoolIndex(s)
	case Datetime:
		return NewDatetimeIndex(s)
	case UUID:
		return NewUUIDIndex(s)
	}
	panic(fmt.Sprintf("payload: unknown index type %q", s.Type))
}

// Decode reads an index persisted by Encode. The schema must equal the
// one the index was encoded with. Damaged or foreign data gives an error
// wrapping errkind.ErrCorrupt; Decode never panics on bad input.
func Decode(s Schema, r io.Reader) (Index, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("payload index: read: %w", err)
	}
	d, err := newDecoder(s, data)
	if err != nil {
		return nil, err
	}
	x := New(s)
	if err := x.(decodable).decodeBody(d); err != nil {
		return nil, err
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return x, nil
}

// decodable is implemented by every index: it fills an empty index from
// the body of its persisted form.
type decodable interface {
	decodeBody(d *decoder) error
}

var (
	_ decodable = (*KeywordIndex)(nil)
	_ decodable = (*IntegerIndex)(nil)
	_ decodable = (*FloatIndex)(nil)
	_ decodable = (*GeoIndex)(nil)
	_ decodable = (*TextIndex)(nil)
	_ decodable = (*BoolIndex)(nil)
	_ decodable = (*DatetimeIndex)(nil)
	_ decodable = (*UUIDIndex)(nil)
)

// writeAll writes b to w.
func writeAll(w io.Writer, b []byte) error {
	_, err := w.Write(b)
	return err
}
