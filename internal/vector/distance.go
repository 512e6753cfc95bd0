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
	sq := DotProduct(v, v)
	if math.IsInf(float64(sq), 1) {
		normalizeWide(v)
		return
	}
	n := float32(math.Sqrt(float64(sq)))
	if n == 0 || math.IsNaN(float64(n)) {
		return
	}
	inv := 1 / n
	for i := range v {
		v[i] *= inv
	}
}

// normalizeWide normalises a finite vector whose float32 sum of squares
// overflows (components of about 1.8e19 and more): in float64, which holds
// the square of any float32. Qdrant divides by the infinite length and
// stores zeros, so every score against the vector becomes 0; Shoal keeps
// its direction instead. Vectors that do not overflow take the float32 path
// as before.
func normalizeWide(v []float32) {
	var sq float64
	for _, x := range v {
		sq += float64(x) * float64(x)
	}
	n := math.Sqrt(sq)
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
}

func abs(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
