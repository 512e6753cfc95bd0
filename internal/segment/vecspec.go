package segment

// VectorDim returns the dimension of the named vector, and false when the
// store has no such vector. The shard's apply step checks operations
// against it, so that a record that does not fit the columns is refused
// rather than written out of bounds.
func (s *Store) VectorDim(name string) (int, bool) {
	c, ok := s.columns[name]
	if !ok {
		return 0, false
	}
	return c.spec.Dim, true
}

// IsMulti reports whether the named vector is a multivector column, whose
// vectors are any positive number of sub-vectors of its dimension,
// flattened.
func (s *Store) IsMulti(name string) bool {
	c, ok := s.columns[name]
	return ok && c.rows != nil
}

// FitsColumn reports whether a vector of n floats fits a column of
// dimension dim: exactly dim, or for a multivector column a positive
// multiple of it.
func FitsColumn(n, dim int, multi bool) bool {
	if multi {
		return n > 0 && dim > 0 && n%dim == 0
	}
	return n == dim
}
