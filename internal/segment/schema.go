package segment

// The named vectors of a store holding points change when a collection
// gains or loses one (Qdrant's PUT and DELETE /collections/{c}/vectors/
// {name}): AddColumn and AddSparseColumn add an empty vector (no point
// has it), DropVector removes one with everything built on it.

// VectorSpecs returns the spec of every dense column as it stores vectors
// (dimension, distance, datatype); OnDisk is false (whether a column is
// served from a file is External's).
func (s *Store) VectorSpecs() map[string]VectorSpec {
	out := make(map[string]VectorSpec, len(s.columns))
	for name, c := range s.columns {
		sp := c.spec
		sp.OnDisk = false
		out[name] = sp
	}
	return out
}

// SparseNames lists the sparse columns in ascending order.
func (s *Store) SparseNames() []string { return s.sparseNames() }

// DropVector removes the dense or sparse column name with its HNSW graph,
// quantized codes or inverted index, and reports whether there was one.
// A column served from a mapped file lets go of the mapping, which is
// released once no read holds it. Points keep their other vectors.
func (s *Store) DropVector(name string) bool {
	_, dense := s.columns[name]
	_, sparse := s.sparse[name]
	delete(s.columns, name)
	delete(s.vindex, name)
	delete(s.sparse, name)
	return dense || sparse
}
