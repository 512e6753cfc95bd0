package vector

import (
	"math"
	"math/rand/v2"
	"testing"
)

func naive(d Distance, q, v []float32) float64 {
	var s float64
	for i := range q {
		switch d {
		case Euclid:
			x := float64(q[i] - v[i])
			s += x * x
		case Manhattan:
			s += math.Abs(float64(q[i] - v[i]))
		default:
			s += float64(q[i] * v[i])
		}
	}
	if d == Euclid {
		return math.Sqrt(s)
	}
	return s
}

func TestKernelsAgainstNaive(t *testing.T) {
	seed := uint64(7)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	for _, dim := range []int{1, 3, 4, 7, 128, 129, 784} {
		q, v := make([]float32, dim), make([]float32, dim)
		for i := range q {
			q[i], v[i] = r.Float32()*2-1, r.Float32()*2-1
		}
		for _, d := range []Distance{Dot, Euclid, Manhattan} {
			got, want := float64(d.Score(q, v)), naive(d, q, v)
			if math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Fatalf("%s dim %d: got %v want %v", d, dim, got, want)
			}
		}
	}
}

func TestCosineIsDotOfNormalised(t *testing.T) {
	q := Cosine.Preprocess([]float32{3, 4})
	v := Cosine.Preprocess([]float32{4, 3})
	if got := Cosine.Score(q, v); math.Abs(float64(got)-0.96) > 1e-6 {
		t.Fatalf("cosine %v", got)
	}
	z := Cosine.Preprocess([]float32{0, 0})
	if z[0] != 0 || z[1] != 0 {
		t.Fatal("zero vector must stay zero")
	}
}

func TestOrderingAndThreshold(t *testing.T) {
	cases := []struct {
		d            Distance
		a, b         float32
		better, pass bool // a better than b; a passes threshold b
	}{
		{Dot, 2, 1, true, true},
		{Cosine, 0.1, 0.5, false, false},
		{Euclid, 1, 2, true, true},
		{Manhattan, 3, 2, false, false},
	}
	for _, c := range cases {
		if c.d.Better(c.a, c.b) != c.better || c.d.PassesThreshold(c.a, c.b) != c.pass {
			t.Fatalf("%+v", c)
		}
	}
}

func TestParseDistance(t *testing.T) {
	for _, s := range []string{"Cosine", "Dot", "Euclid", "Manhattan"} {
		if _, err := ParseDistance(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ParseDistance("cosine"); err == nil {
		t.Fatal("lowercase must be rejected as in Qdrant")
	}
}

// TestNormalizeLargeComponents: finite vectors whose float32 sum of squares
// overflows keep their direction (before, they were divided by +Inf and
// became zeros, so every Cosine score against them was 0).
func TestNormalizeLargeComponents(t *testing.T) {
	cases := []struct {
		in, want []float32
	}{
		{[]float32{3e38, 3e38}, []float32{0.70710677, 0.70710677}},
		{[]float32{-3e38, 0, 3e38}, []float32{-0.70710677, 0, 0.70710677}},
		{[]float32{1e20, 0, 0}, []float32{1, 0, 0}},
		{[]float32{math.MaxFloat32, math.MaxFloat32, math.MaxFloat32, math.MaxFloat32}, []float32{0.5, 0.5, 0.5, 0.5}},
		{[]float32{3, 4}, []float32{0.6, 0.8}},
		{[]float32{0, 0}, []float32{0, 0}},
	}
	for _, c := range cases {
		got := append([]float32(nil), c.in...)
		Normalize(got)
		for i := range got {
			if math.Abs(float64(got[i]-c.want[i])) > 1e-6 {
				t.Errorf("Normalize(%v) = %v, want %v", c.in, got, c.want)
				break
			}
		}
	}
}
