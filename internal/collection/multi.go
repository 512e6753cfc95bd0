package collection

import "github.com/shoaldb/shoal/internal/point"

// Multivectors (multivector_config): below the APIs a multivector travels
// flattened, its sub-vectors one after the other in a point.Vectors entry
// (ops and the WAL need nothing more), and the configuration says which
// names hold multivectors and their sub-vectors' size. An API that reads
// nested lists ([[...], ...]) flattens them and, since the flat form
// forgets how a vector was given, asks CheckVectorShape first; it nests
// the multivectors it returns again by Multivectors.

// Multivectors returns the size of the sub-vectors of each vector name
// that holds multivectors.
func (c *Collection) Multivectors() map[string]int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out map[string]int
	for name, p := range c.mu.cfg.Params.Vectors.Named {
		if p.IsMulti() {
			if out == nil {
				out = map[string]int{}
			}
			out[name] = int(p.Size)
		}
	}
	return out
}

// CheckVectorShape checks a dense vector of n floats an API received for
// name before flattening it, with Qdrant's texts: given nested (subDim,
// the length of its sub-vectors, is not 0) it must be for a multivector
// and its sub-vectors of the vector's size; given as one list, it is one
// vector of the size (for a multivector: one sub-vector, as Qdrant's
// legacy API allows). Names that are not dense vectors pass: the
// operation or the search reports them.
func (c *Collection) CheckVectorShape(name string, n, subDim int) error {
	p, ok := c.vectorParams()[name]
	switch {
	case !ok:
		return nil
	case subDim > 0 && !p.IsMulti():
		return point.Errorf(point.KindBadInput, "Conversion between multi and regular vectors failed")
	case subDim > 0 && uint64(subDim) != p.Size:
		return errDim(p.Size, subDim)
	case subDim == 0 && p.IsMulti() && uint64(n) != p.Size:
		return errDim(p.Size, n)
	}
	return nil
}
