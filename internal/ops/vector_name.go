package ops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// VectorNameConfig is the vector a create_vector_name operation adds to a
// shard (Qdrant's VectorNameConfig): the immutable properties of a dense
// vector's space, or of a sparse vector. Exactly one of Dense and Sparse is
// set. Storage placement, index and quantization settings are not part of
// it: they are the collection's, and may change later.
type VectorNameConfig struct {
	Dense  *DenseVectorConfig  `json:"dense,omitempty"`
	Sparse *SparseVectorConfig `json:"sparse,omitempty"`
}

// DenseVectorConfig is a dense vector's space. Distance is one of Cosine,
// Euclid, Dot, Manhattan; Datatype is "" (float32), float32, float16,
// uint8 or turbo4; Multivector is the comparator of a multivector ("" for a plain
// vector; only max_sim exists).
type DenseVectorConfig struct {
	Size        uint64 `json:"size"`
	Distance    string `json:"distance"`
	Datatype    string `json:"datatype,omitempty"`
	Multivector string `json:"multivector,omitempty"`
}

// SparseVectorConfig is a sparse vector's: its modifier ("", none or idf)
// and the datatype of its index's weights ("", float32, float16, uint8).
type SparseVectorConfig struct {
	Modifier string `json:"modifier,omitempty"`
	Datatype string `json:"datatype,omitempty"`
}

// MaxVectorSize is the largest dense vector dimension Qdrant accepts.
const MaxVectorSize = 65536

var (
	distances       = []string{"Cosine", "Euclid", "Dot", "Manhattan"}
	denseDatatypes  = []string{"", "float32", "float16", "uint8", "turbo4"}
	sparseDatatypes = []string{"", "float32", "float16", "uint8"}
	modifiers       = []string{"", "none", "idf"}
	comparators     = []string{"", "max_sim"}
)

// Validate checks that exactly one kind is set and that its values are
// ones the engine knows.
func (c *VectorNameConfig) Validate() error {
	switch {
	case c.Dense != nil && c.Sparse != nil:
		return fmt.Errorf("%w: a vector config both dense and sparse", ErrInvalid)
	case c.Dense != nil:
		d := c.Dense
		if d.Size < 1 || d.Size > MaxVectorSize {
			return fmt.Errorf("%w: dense vector size %d out of range [1, %d]", ErrInvalid, d.Size, MaxVectorSize)
		}
		if !slices.Contains(distances, d.Distance) {
			return fmt.Errorf("%w: unknown distance %q", ErrInvalid, d.Distance)
		}
		if !slices.Contains(denseDatatypes, d.Datatype) {
			return fmt.Errorf("%w: unknown dense datatype %q", ErrInvalid, d.Datatype)
		}
		if !slices.Contains(comparators, d.Multivector) {
			return fmt.Errorf("%w: unknown multivector comparator %q", ErrInvalid, d.Multivector)
		}
	case c.Sparse != nil:
		if !slices.Contains(modifiers, c.Sparse.Modifier) {
			return fmt.Errorf("%w: unknown modifier %q", ErrInvalid, c.Sparse.Modifier)
		}
		if !slices.Contains(sparseDatatypes, c.Sparse.Datatype) {
			return fmt.Errorf("%w: unknown sparse datatype %q", ErrInvalid, c.Sparse.Datatype)
		}
	default:
		return fmt.Errorf("%w: a vector config neither dense nor sparse", ErrInvalid)
	}
	return nil
}

// decodeVectorConfig reads a VectorNameConfig's JSON as the encoder wrote
// it: unknown keys are refused, so that nothing is silently dropped.
func decodeVectorConfig(b []byte) (*VectorNameConfig, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c VectorNameConfig
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return &c, nil
}
