package payload

import (
	"bytes"
	"io"

	"github.com/google/uuid"
)

// UUIDIndex indexes strings that parse as UUIDs (any textual form:
// canonical, braces, urn:uuid:, 32 hex digits; any case), keyed by their
// 16 bytes, so that differently written forms of one UUID match.
type UUIDIndex struct {
	schema Schema
	m      mapIndex[uuid.UUID]
}

// NewUUIDIndex returns an empty uuid index.
func NewUUIDIndex(s Schema) *UUIDIndex {
	return &UUIDIndex{schema: s, m: newMapIndex[uuid.UUID]()}
}

// Schema implements Index.
func (x *UUIDIndex) Schema() Schema { return x.schema }

// Add implements Index.
func (x *UUIDIndex) Add(off uint32, values []any) {
	var keys []uuid.UUID
	for _, v := range values {
		if s, ok := v.(string); ok {
			if u, err := uuid.Parse(s); err == nil {
				keys = append(keys, u)
			}
		}
	}
	x.m.set(off, distinct(keys))
}

// Remove implements Index.
func (x *UUIDIndex) Remove(off uint32) { x.m.remove(off) }

// Points implements Index.
func (x *UUIDIndex) Points() int { return x.m.npoints }

// Values implements Index.
func (x *UUIDIndex) Values() int { return x.m.nvalues }

// Match returns the points with any of the UUIDs; values that do not parse
// match nothing.
func (x *UUIDIndex) Match(values ...string) *Postings {
	keys := make([]uuid.UUID, 0, len(values))
	for _, s := range values {
		if u, err := uuid.Parse(s); err == nil {
			keys = append(keys, u)
		}
	}
	return x.m.match(keys...)
}

// Count returns the number of points with the UUID.
func (x *UUIDIndex) Count(value string) int {
	u, err := uuid.Parse(value)
	if err != nil {
		return 0
	}
	return x.m.count(u)
}

// Facet calls yield with each UUID in canonical form and its number of
// points, in byte order, until yield returns false.
func (x *UUIDIndex) Facet(yield func(value string, count int) bool) {
	x.m.facet(func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) },
		func(u uuid.UUID, n int) bool { return yield(u.String(), n) })
}

// Encode implements Index.
func (x *UUIDIndex) Encode(w io.Writer) error {
	e, err := newEncoder(x.schema)
	if err != nil {
		return err
	}
	x.m.encode(e, func(u uuid.UUID) { e.b = append(e.b, u[:]...) })
	return writeAll(w, e.finish())
}

func (x *UUIDIndex) decodeBody(d *decoder) error {
	return x.m.decode(d, 16, func() (uuid.UUID, bool) {
		var u uuid.UUID
		if len(d.b) < 16 {
			d.fail("truncated")
			return u, false
		}
		copy(u[:], d.b)
		d.b = d.b[16:]
		return u, true
	})
}
