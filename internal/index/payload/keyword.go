package payload

import (
	"io"
	"strings"
)

// KeywordIndex indexes string values for exact match (Qdrant's map index
// over keywords). Only JSON strings are indexed.
type KeywordIndex struct {
	schema Schema
	m      mapIndex[string]
}

// NewKeywordIndex returns an empty keyword index.
func NewKeywordIndex(s Schema) *KeywordIndex {
	return &KeywordIndex{schema: s, m: newMapIndex[string]()}
}

// Schema implements Index.
func (x *KeywordIndex) Schema() Schema { return x.schema }

// Add implements Index.
func (x *KeywordIndex) Add(off uint32, values []any) {
	var keys []string
	for _, v := range values {
		if s, ok := v.(string); ok {
			keys = append(keys, s)
		}
	}
	x.m.set(off, distinct(keys))
}

// Remove implements Index.
func (x *KeywordIndex) Remove(off uint32) { x.m.remove(off) }

// Points implements Index.
func (x *KeywordIndex) Points() int { return x.m.npoints }

// Values implements Index.
func (x *KeywordIndex) Values() int { return x.m.nvalues }

// Match returns the points with any of the values (`match: {value}` with
// one, `match: {any}` with several).
func (x *KeywordIndex) Match(values ...string) *Postings { return x.m.match(values...) }

// Count returns the number of points with the value.
func (x *KeywordIndex) Count(value string) int { return x.m.count(value) }

// Facet calls yield with each value and its number of points, in
// increasing byte order of the values, until yield returns false.
func (x *KeywordIndex) Facet(yield func(value string, count int) bool) {
	x.m.facet(strings.Compare, yield)
}

// Prefix returns the points with a value starting with prefix (`match:
// {prefix}` on an index created with prefix: true). It visits every
// distinct value.
func (x *KeywordIndex) Prefix(prefix string) *Postings {
	var ps []*Postings
	for k, id := range x.m.ids {
		if strings.HasPrefix(k, prefix) {
			ps = append(ps, &x.m.posts[id])
		}
	}
	return Union(ps...)
}

// Encode implements Index.
func (x *KeywordIndex) Encode(w io.Writer) error {
	e, err := newEncoder(x.schema)
	if err != nil {
		return err
	}
	x.m.encode(e, func(k string) { e.bytes([]byte(k)) })
	return writeAll(w, e.finish())
}

func (x *KeywordIndex) decodeBody(d *decoder) error {
	return x.m.decode(d, 1, func() (string, bool) {
		return string(d.bytes()), true
	})
}
