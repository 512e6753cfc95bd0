package vector

import (
	"encoding/json"
	"fmt"
	"math"
)

// Distance is a metric name as Qdrant spells it on the wire.
type Distance string

// The supported distances.
const (
	Cosine    Distance = "Cosine"
	Dot       Distance = "Dot"
	Euclid    Distance = "Euclid"
	Manhattan Distance = "Manhattan"
)

// ParseDistance validates a wire name.
func ParseDistance(s string) (Distance, error) {
	switch d := Distance(s); d {
	case Cosine, Dot, Euclid, Manhattan:
		return d, nil
	}
	return "", fmt.Errorf("unknown variant `%s`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`", s)
}

// UnmarshalJSON accepts only the four wire names.
func (d *Distance) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("distance must be a string: %w", err)
	}
	p, err := ParseDistance(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// HigherIsBetter reports whether larger scores rank first.
func (d Distance) HigherIsBetter() bool { return d == Cosine || d == Dot }

// Preprocess returns the vector as stored: normalised for Cosine, a copy
// otherwise. A zero vector stays zero.
func (d Distance) Preprocess(v []float32) []float32 {
	out := append([]float32(nil), v...)
	if d == Cosine {
		Normalize(out)
	}
	return out
}

// Score returns the user-facing score of stored vector v against the
// preprocessed query q.
func (d Distance) Score(q, v []float32) float32 {
	switch d {
	case Euclid:
		return float32(math.Sqrt(float64(SquaredL2(q, v))))
	case Manhattan:
		return L1(q, v)
	default:
		return DotProduct(q, v)
	}
}

// Better reports whether score a ranks before score b.
func (d Distance) Better(a, b float32) bool {
	if d.HigherIsBetter() {
		return a > b
	}
	return a < b
}

// PassesThreshold reports whether score s satisfies a score_threshold t:
// at least t for similarities, at most t for distances.
func (d Distance) PassesThreshold(s, t float32) bool {
	if d.HigherIsBetter() {
		return s >= t
	}
	return s <= t
}

// Normalize scales v to unit length in place.
func Normalize(v []float32) {
	n := float32(math.Sqrt(float64(DotProduct(v, v))))
	if n == 0 || math.IsNaN(float64(n)) {
		return
	}
	inv := 1 / n
	for i := range v {
		v[i] *= inv
	}
}

// DotProduct returns the inner product of equally long a and b.
func DotProduct(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// SquaredL2 returns the squared Euclidean distance of equally long a and b.
func SquaredL2(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// L1 returns the Manhattan distance of equally long a and b.
func L1(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += abs(a[i] - b[i])
		s1 += abs(a[i+1] - b[i+1])
	}
	for ; i < len(a); i++ {
		s0 += abs(a[i] - b[i])
	}
	return s0 + s1
}

func abs(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
