package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/ops"
	"github.com/shoaldb/shoal/internal/point"
)

// vectorStruct is Qdrant's VectorStruct: a dense list or a list of lists
// (the unnamed vector, a multivector) or an object of named vectors, each
// a dense list, a list of lists or a sparse object. Sparse vectors and
// multivectors are checked by the operation, which knows their path;
// multivectors come flattened, their shape in shape (multi.go).
type vectorStruct struct {
	set    bool
	vecs   point.Vectors
	sparse point.SparseVectors
	shape  multiShape
	bare   bool // the unnamed vector, given as a list
}

func (v *vectorStruct) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	v.set = true
	switch {
	case len(b) == 0 || string(b) == "null":
		return fmt.Errorf("vector must not be null")
	case b[0] == '[':
		v.bare = true
		vec, err := v.dense(point.DefaultVector, b)
		if err != nil {
			return err
		}
		v.vecs = point.Vectors{point.DefaultVector: vec}
		return nil
	case b[0] == '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		v.vecs = make(point.Vectors, len(m))
		for name, raw := range m {
			if isNested(raw) {
				vec, err := v.dense(name, raw)
				if err != nil {
					return fmt.Errorf("vector %q: %w", name, err)
				}
				v.vecs[name] = vec
				continue
			}
			vec, sp, err := vectorValue(raw)
			if err != nil {
				return fmt.Errorf("vector %q: %w", name, err)
			}
			if sp != nil {
				if v.sparse == nil {
					v.sparse = point.SparseVectors{}
				}
				v.sparse[name] = *sp
				continue
			}
			v.vecs[name] = vec
		}
		return nil
	}
	return fmt.Errorf("data did not match any variant of untagged enum VectorStruct")
}

// dense decodes a dense vector of name, flattening a multivector and
// recording its shape.
func (v *vectorStruct) dense(name string, b []byte) ([]float32, error) {
	if !isNested(b) {
		return denseVector(b)
	}
	flat, dim, invalid, err := nestedVector(b)
	if err != nil {
		return nil, err
	}
	v.shape.add(name, dim, invalid)
	return flat, nil
}

// denseVector decodes a plain list of numbers.
func denseVector(b []byte) ([]float32, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		return nil, fmt.Errorf("expected a list of numbers, not an object")
	}
	var vec []float32
	if err := json.Unmarshal(b, &vec); err != nil {
		return nil, fmt.Errorf("expected a list of numbers: %w", err)
	}
	return vec, nil
}

// withPayload is Qdrant's WithPayloadInterface.
type withPayload struct {
	set bool
	sel ops.PayloadSelector
}

func (w *withPayload) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	w.set = true
	var flag bool
	if err := json.Unmarshal(b, &flag); err == nil {
		w.sel = ops.PayloadSelector{Enable: flag}
		return nil
	}
	var include []string
	if err := json.Unmarshal(b, &include); err == nil {
		paths, err := parsePaths(include)
		w.sel = ops.PayloadSelector{Enable: true, Include: paths}
		return err
	}
	var obj struct {
		Include *[]string `json:"include"`
		Exclude *[]string `json:"exclude"`
	}
	if err := json.Unmarshal(b, &obj); err != nil || (obj.Include == nil && obj.Exclude == nil) {
		return fmt.Errorf("data did not match any variant of untagged enum WithPayloadInterface")
	}
	w.sel.Enable = true
	var err error
	if obj.Include != nil {
		if w.sel.Include, err = parsePaths(*obj.Include); err != nil {
			return err
		}
		if len(w.sel.Include) == 0 {
			w.sel.Enable = false // include nothing
		}
	}
	if obj.Exclude != nil {
		w.sel.Exclude, err = parsePaths(*obj.Exclude)
	}
	return err
}

func parsePaths(keys []string) ([]point.Path, error) {
	out := make([]point.Path, 0, len(keys))
	for _, k := range keys {
		p, err := point.ParsePath(k)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// withVector is Qdrant's WithVector: a bool or a list of names.
type withVector struct {
	sel ops.VectorSelector
}

func (w *withVector) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	var flag bool
	if err := json.Unmarshal(b, &flag); err == nil {
		w.sel = ops.VectorSelector{Enable: flag}
		return nil
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return fmt.Errorf("data did not match any variant of untagged enum WithVector")
	}
	w.sel = ops.VectorSelector{Enable: len(names) > 0, Names: names}
	return nil
}

// or returns the selection of w, or of its alias field when w was not set
// (Qdrant accepts with_vectors for with_vector).
func (w withVector) or(alias withVector) ops.VectorSelector {
	if w.sel.Enable {
		return w.sel
	}
	return alias.sel
}

// rawFilter keeps a filter's JSON; it is parsed by the filter package.
type rawFilter = json.RawMessage

// vectorOutput renders stored vectors as Qdrant does: a bare list (or
// list of lists) for a collection with one unnamed vector, else an object
// by name; multivectors as lists of lists.
func vectorOutput(v point.Vectors, shape vecShape) any {
	if v == nil {
		return nil
	}
	if !shape.named {
		if vec, ok := v[point.DefaultVector]; ok {
			return shape.out(point.DefaultVector, vec)
		}
		return map[string][]float32{}
	}
	if len(shape.multi) == 0 {
		return v
	}
	out := make(map[string]any, len(v))
	for name, vec := range v {
		out[name] = shape.out(name, vec)
	}
	return out
}

// Payload and vector are left out unless requested, as in Qdrant; an
// empty requested payload is written as {}.
type recordOut struct {
	ID         point.ID `json:"id"`
	Payload    any      `json:"payload,omitempty"`
	Vector     any      `json:"vector,omitempty"`
	OrderValue any      `json:"order_value,omitempty"`
}

type scoredOut struct {
	ID      point.ID `json:"id"`
	Version uint64   `json:"version"`
	Score   *float32 `json:"score"` // nil (null) when not finite; see scoreOut
	Payload any      `json:"payload,omitempty"`
	Vector  any      `json:"vector,omitempty"`
}

// scoreOut points at a score for the answer, or is nil for a score that is
// not finite. Finite float32 vectors can still score ±Inf (a Dot product of
// [3e38, 3e38] with [1, 1]) or NaN. Qdrant 1.19 accepts such vectors (it
// only checks dimensions) and answers 200 with "score": null, because
// serde_json writes non-finite floats as null; its openapi.json says
// "number", but this follows its behaviour (Qdrant issue 9361, labelled
// wontfix, and 9027: Dot, Euclid and Manhattan scores may reach infinity).
// encoding/json refuses non-finite floats outright. The pointer keeps the
// common case free of allocations.
func scoreOut(s *float32) *float32 {
	if math.IsInf(float64(*s), 0) || math.IsNaN(float64(*s)) {
		return nil
	}
	return s
}

func payloadOut(p point.Payload) any {
	if p == nil {
		return nil
	}
	return p
}

func recordsOut(recs []collection.Record, multi vecShape) []recordOut {
	out := make([]recordOut, len(recs))
	for i, r := range recs {
		out[i] = recordOut{ID: r.ID, Payload: payloadOut(r.Payload), Vector: vectorsOutput(r.Vectors, r.Sparse, multi), OrderValue: r.OrderValue}
	}
	return out
}

func scoredPointsOut(hits []collection.ScoredPoint, multi vecShape) []scoredOut {
	out := make([]scoredOut, len(hits))
	for i := range hits {
		h := &hits[i]
		out[i] = scoredOut{ID: h.ID, Version: h.Version, Score: scoreOut(&h.Score), Payload: payloadOut(h.Payload), Vector: vectorsOutput(h.Vectors, h.Sparse, multi)}
	}
	return out
}
