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
