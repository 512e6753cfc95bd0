package shard

// VectorBytes is the size of the stored vectors in their datatypes, over
// the segments (see segment.Store.StoredVectorBytes).
func (r *Reader) VectorBytes() int64 {
	var n int64
	for _, g := range r.h.segs {
		n += g.store.StoredVectorBytes()
	}
	return n
}

// PayloadBytes is the size of the stored payloads as JSON text, over the
// segments (see segment.Store.PayloadBytes).
func (r *Reader) PayloadBytes() int64 {
	var n int64
	for _, g := range r.h.segs {
		n += g.store.PayloadBytes()
	}
	return n
}
