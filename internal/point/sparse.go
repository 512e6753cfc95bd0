package point

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// SparseVector is Qdrant's sparse vector: the non-zero dimensions of a
// vector as parallel lists of indices and values. Indices must be unique
// and the two lists the same length (Validate); they need not be sorted on
// input, and are sorted by index once stored (Sorted), as Qdrant does, so
// that a dot product is a merge of two sorted lists. An empty vector (no
// index) is valid.
type SparseVector struct {
	Indices []uint32
	Values  []float32
}

// SparseVectors maps a sparse vector name to its vector. A point may have
// dense vectors (Vectors) and sparse ones under different names.
type SparseVectors map[string]SparseVector

// SparseFieldError is a rule a sparse vector breaks, in Qdrant's validation
// terms: Field is "indices" or "values", Message the rule's text.
type SparseFieldError struct {
	Field   string
	Message string
}

func (e *SparseFieldError) Error() string { return e.Field + ": " + e.Message }

// Validate returns the rules v breaks, values first as Qdrant lists them:
// values not the length of indices, indices not unique. nil when valid.
func (v SparseVector) Validate() []*SparseFieldError {
	var errs []*SparseFieldError
	if len(v.Indices) != len(v.Values) {
		errs = append(errs, &SparseFieldError{Field: "values", Message: "must be the same length as indices"})
	}
	if hasDuplicate(v.Indices) {
		errs = append(errs, &SparseFieldError{Field: "indices", Message: "must be unique"})
	}
	return errs
}

func hasDuplicate(idx []uint32) bool {
	if isStrictlySorted(idx) {
		return false
	}
	s := slices.Clone(idx)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return true
		}
	}
	return false
}

func isStrictlySorted(idx []uint32) bool {
	for i := 1; i < len(idx); i++ {
		if idx[i] <= idx[i-1] {
			return false
		}
	}
	return true
}

// IsSorted reports whether the indices are strictly ascending.
func (v SparseVector) IsSorted() bool { return isStrictlySorted(v.Indices) }

// Sorted returns v with its entries ordered by index: v itself when it is
// sorted already, else a sorted copy (v is never modified). v must be
// valid.
func (v SparseVector) Sorted() SparseVector {
	if v.IsSorted() {
		return v
	}
	out := v.Clone()
	sort.Sort(byIndex(out))
	return out
}

type byIndex SparseVector

func (b byIndex) Len() int           { return len(b.Indices) }
func (b byIndex) Less(i, j int) bool { return b.Indices[i] < b.Indices[j] }
func (b byIndex) Swap(i, j int) {
	b.Indices[i], b.Indices[j] = b.Indices[j], b.Indices[i]
	b.Values[i], b.Values[j] = b.Values[j], b.Values[i]
}

// Clone returns a deep copy; an empty vector stays non-nil so that a
// stored empty vector reads back as `{"indices":[],"values":[]}`.
func (v SparseVector) Clone() SparseVector {
	return SparseVector{Indices: append([]uint32{}, v.Indices...), Values: append([]float32{}, v.Values...)}
}

// CheckFinite returns an error naming the first NaN or infinite value.
func (v SparseVector) CheckFinite() error {
	for i, x := range v.Values {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("sparse vector value %d is %v: only finite numbers are allowed", i, x)
		}
	}
	return nil
}

// Dot is the dot product of two sorted sparse vectors over the indices they
// share, and whether they share one: Qdrant scores a sparse vector only
// against vectors it overlaps. The sum runs in index order in float32, as
// Qdrant's score_vectors does.
func (v SparseVector) Dot(o SparseVector) (float32, bool) {
	var sum float32
	overlap := false
	i, j := 0, 0
	for i < len(v.Indices) && j < len(o.Indices) {
		switch a, b := v.Indices[i], o.Indices[j]; {
		case a < b:
			i++
		case a > b:
			j++
		default:
			overlap = true
			sum += float32(v.Values[i] * o.Values[j]) // rounded: no fused multiply-add
			i++
			j++
		}
	}
	return sum, overlap
}

// Clone returns a deep copy.
func (s SparseVectors) Clone() SparseVectors {
	if s == nil {
		return nil
	}
	out := make(SparseVectors, len(s))
	for k, v := range s {
		out[k] = v.Clone()
	}
	return out
}
