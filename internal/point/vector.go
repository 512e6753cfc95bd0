package point

import (
	"fmt"
	"math"
)

// DefaultVector is the name under which an unnamed vector is stored.
const DefaultVector = ""

// Vectors maps a vector name to a dense vector. The unnamed vector of a
// collection configured with a single vector lives under DefaultVector.
type Vectors map[string][]float32

// Clone returns a deep copy.
func (v Vectors) Clone() Vectors {
	if v == nil {
		return nil
	}
	out := make(Vectors, len(v))
	for k, vec := range v {
		out[k] = append([]float32(nil), vec...)
	}
	return out
}

// CheckFinite returns an error naming the first NaN or infinite component.
func CheckFinite(vec []float32) error {
	for i, x := range vec {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("vector component %d is %v: only finite numbers are allowed", i, x)
		}
	}
	return nil
}
