package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// Multivectors on the wire are lists of lists ([[...], ...], Qdrant's
// MultiDenseVector). Below the API they are flattened (point.Vectors
// carries the sub-vectors one after the other; the collection knows each
// name's sub-vector size), so the decoders here flatten them and remember
// what the flat form forgets: which vectors came nested, their
// sub-vectors' length, or why such a list is invalid (Qdrant's
// validate_multi_vector, reported at the field's path with 422). Before an
// operation or a query goes on, every dense vector is held to the
// collection's shapes (vectorShapes). Outputs nest them again (vecShape).

// maxMultiFlat is Qdrant's MAX_MULTIVECTOR_FLATTENED_LEN (release build):
// a multivector's floats must be fewer.
const maxMultiFlat = 1024 * 1024

// isNested reports whether b is a JSON list whose first item is a list.
func isNested(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' {
		return false
	}
	rest := bytes.TrimSpace(b[1:])
	return len(rest) > 0 && rest[0] == '['
}

// nestedVector decodes a multivector: its sub-vectors flattened, their
// length, and Qdrant's validation message when it breaks a rule (no
// sub-vectors can't happen here: an empty list is a plain vector). err is
// set when b is not a list of lists of numbers.
func nestedVector(b []byte) (flat []float32, dim int, invalid string, err error) {
	var subs [][]float32
	if err := json.Unmarshal(b, &subs); err != nil {
		return nil, 0, "", fmt.Errorf("expected a list of lists of numbers: %w", err)
	}
	n := 0
	for _, s := range subs {
		if len(s) == 0 {
			return nil, 0, "all vectors must be non-empty", nil
		}
		n += len(s)
	}
	if n >= maxMultiFlat {
		return nil, 0, fmt.Sprintf("Total size of all vectors (%d) must be less than %d", n, maxMultiFlat), nil
	}
	dim = len(subs[0])
	flat = make([]float32, 0, n)
	for _, s := range subs {
		if len(s) != dim {
			return nil, 0, fmt.Sprintf("all vectors must have the same dimension, found vector with dimension %d", len(s)), nil
		}
		flat = append(flat, s...)
	}
	return flat, dim, "", nil
}

// multiShape is what the wire said of one point's dense vectors that the
// flat form forgets: those given nested, with their sub-vectors' length,
// and those nested lists that are invalid, with Qdrant's message.
type multiShape struct {
	dims    map[string]int
	invalid map[string]string
}

func (m *multiShape) add(name string, dim int, invalid string) {
	if invalid != "" {
		if m.invalid == nil {
			m.invalid = map[string]string{}
		}
		m.invalid[name] = invalid
		return
	}
	if m.dims == nil {
		m.dims = map[string]int{}
	}
	m.dims[name] = dim
}

// validate reports the first invalid nested list (by name) at path: path
// itself for the unnamed vector given bare, path.? for a named one (the
// "?" Qdrant's validator writes for a map key).
func (m *multiShape) validate(path string, bare bool) error {
	if len(m.invalid) == 0 {
		return nil
	}
	if !bare {
		path += ".?"
	}
	name := slices.Sorted(maps.Keys(m.invalid))[0]
	return validationError(path + ".data: " + m.invalid[name])
}

// vectorShapes is what the API asks a collection about the vectors it
// received (*collection.Collection implements it).
type vectorShapes interface {
	CheckVectorShape(name string, n, subDim int) error
}

// check holds one point's dense vectors to the collection's shapes.
func (m *multiShape) check(c vectorShapes, vecs point.Vectors) error {
	for _, name := range slices.Sorted(maps.Keys(vecs)) {
		if err := c.CheckVectorShape(name, len(vecs[name]), m.dims[name]); err != nil {
			return err
		}
	}
	return nil
}

// checkMultivectors validates the multivectors of every point of the
// upsert (all points first, as Qdrant validates the body before anything
// else), then holds the vectors to the collection's shapes.
func (in *upsertIn) checkMultivectors(c vectorShapes, op *ops.Operation) error {
	n := len(op.Points)
	shapes, paths, bare := in.batchShapes, make([]string, n), make([]bool, n)
	if in.Points != nil {
		shapes = make([]multiShape, n)
		for i, p := range *in.Points {
			shapes[i], paths[i], bare[i] = p.Vector.shape, fmt.Sprintf("points[%d].vector", i), p.Vector.bare
		}
	} else {
		for i := range paths {
			paths[i], bare[i] = "batch.vectors", in.batchBare
		}
	}
	if len(shapes) != n {
		return nil // a batch without vectors: the operation reports it
	}
	for i := range shapes {
		if err := shapes[i].validate(paths[i], bare[i]); err != nil {
			return err
		}
	}
	for i := range shapes {
		if err := shapes[i].check(c, op.Points[i].Vectors); err != nil {
			return err
		}
	}
	return nil
}

// checkMultivectors is upsertIn's for update_vectors.
func (in *updateVectorsIn) checkMultivectors(c vectorShapes, op *ops.Operation) error {
	for i, p := range in.Points {
		if err := p.Vector.shape.validate(fmt.Sprintf("points[%d].vector", i), p.Vector.bare); err != nil {
			return err
		}
	}
	for i, p := range in.Points {
		if err := p.Vector.shape.check(c, op.Vectors[i].Vectors); err != nil {
			return err
		}
	}
	return nil
}

// multiChecked is an update body with vectors that may come nested.
type multiChecked interface {
	checkMultivectors(c vectorShapes, op *ops.Operation) error
}

// queryShape is the nested form of a query vector, kept by the query and
// search bodies until the collection is known.
type queryShape struct {
	dim     int    // the sub-vectors' length; 0 for a plain vector
	invalid string // Qdrant's validation message
	path    string
}

// check validates a nested query (422), then holds the query to the
// collection's shapes.
func (q queryShape) check(c vectorShapes, using string, vec []float32) error {
	if q.invalid != "" {
		return validationError(q.path + ".data: " + q.invalid)
	}
	if vec == nil {
		return nil
	}
	return c.CheckVectorShape(using, len(vec), q.dim)
}

// nearestVector decodes a dense query vector, plain or nested, at path.
func nearestVector(raw []byte, path string) ([]float32, queryShape, error) {
	if isNested(raw) {
		flat, dim, invalid, err := nestedVector(raw)
		return flat, queryShape{dim: dim, invalid: invalid, path: path}, err
	}
	vec, err := denseVector(raw)
	return vec, queryShape{}, err
}

// vecShape is how a collection's vectors are written out: by name or bare
// (named), and which names hold multivectors, with their sub-vectors'
// size.
type vecShape struct {
	named bool
	multi map[string]int
}

func multiVector(c *collection.Collection) vecShape {
	return vecShape{named: c.MultiVector(), multi: c.Multivectors()}
}

// out is a stored dense vector on the wire: a multivector nested again.
func (s vecShape) out(name string, v []float32) any {
	dim, ok := s.multi[name]
	if !ok || dim <= 0 {
		return v
	}
	subs := make([][]float32, 0, len(v)/dim)
	for i := 0; i+dim <= len(v); i += dim {
		subs = append(subs, v[i:i+dim:i+dim])
	}
	return subs
}

// checkShape holds a query's vector to the collection's shapes.
func (in *queryIn) checkShape(c vectorShapes, req ops.QueryRequest) error {
	if req.Nearest == nil {
		return nil
	}
	return in.shape.check(c, req.Using, req.Nearest.Vector)
}
