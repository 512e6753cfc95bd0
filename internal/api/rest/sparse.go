package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/point"
)

// sparseIn is Qdrant's SparseVector on the wire. Both lists are required;
// their rules (unique indices, as many values) are checked after decoding,
// where the field's path is known (checkSparse).
type sparseIn struct {
	Indices *[]uint32  `json:"indices"`
	Values  *[]float32 `json:"values"`
}

// isSparseObject reports whether a JSON object is meant as a sparse vector
// (it names indices or values), rather than an inference object.
func isSparseObject(b []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(b, &probe) != nil {
		return false
	}
	_, i := probe["indices"]
	_, v := probe["values"]
	return i || v
}

// sparseVector decodes a SparseVector object.
func sparseVector(b []byte) (point.SparseVector, error) {
	var in sparseIn
	if err := json.Unmarshal(b, &in); err != nil {
		return point.SparseVector{}, err
	}
	switch {
	case in.Indices == nil:
		return point.SparseVector{}, fmt.Errorf("missing field `indices`")
	case in.Values == nil:
		return point.SparseVector{}, fmt.Errorf("missing field `values`")
	}
	return point.SparseVector{Indices: *in.Indices, Values: *in.Values}, nil
}

// vectorValue decodes one named vector value: a dense list or a sparse
// object. Exactly one of the results is set.
func vectorValue(b []byte) ([]float32, *point.SparseVector, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		if !isSparseObject(b) {
			return nil, nil, fmt.Errorf("inference objects are not supported by this version of Shoal")
		}
		v, err := sparseVector(b)
		if err != nil {
			return nil, nil, err
		}
		return nil, &v, nil
	}
	vec, err := denseVector(b)
	return vec, nil, err
}

// checkSparse validates sparse vectors decoded at path, with Qdrant's
// validation texts: "<path>.indices: Validation error: must be unique [{}]"
// (the vector's name shows as "?", as in Qdrant's paths).
func checkSparse(path string, vecs point.SparseVectors) error {
	var errs []*point.SparseFieldError
	for _, name := range sortedNames(vecs) {
		errs = append(errs, vecs[name].Validate()...)
	}
	if len(errs) == 0 {
		return nil
	}
	return collection.SparseValidationError(path, errs)
}

func sortedNames(vecs point.SparseVectors) []string {
	out := make([]string, 0, len(vecs))
	for n := range vecs {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// checkOneSparse validates a sparse query at path.
func checkOneSparse(path string, v *point.SparseVector) error {
	if v == nil {
		return nil
	}
	if errs := v.Validate(); len(errs) > 0 {
		return collection.SparseValidationError(path, errs)
	}
	return nil
}

// sparseOut is a stored sparse vector on the wire (VectorOutput).
type sparseOut struct {
	Indices []uint32  `json:"indices"`
	Values  []float32 `json:"values"`
}

// vectorsOutput renders a point's vectors as Qdrant does: a bare list when
// the collection has one unnamed vector and the point has only it, else an
// object by name in which sparse vectors are {"indices", "values"}.
func vectorsOutput(v point.Vectors, sp point.SparseVectors, shape vecShape) any {
	if len(sp) == 0 {
		return vectorOutput(v, shape)
	}
	out := make(map[string]any, len(v)+len(sp))
	for name, x := range v {
		out[name] = shape.out(name, x)
	}
	for name, x := range sp {
		o := sparseOut{Indices: x.Indices, Values: x.Values}
		if o.Indices == nil || o.Values == nil { // an empty vector is [] and [], never null
			o = sparseOut{Indices: []uint32{}, Values: []float32{}}
		}
		out[name] = o
	}
	return out
}
