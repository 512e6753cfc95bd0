package point

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestSparseValidate(t *testing.T) {
	cases := []struct {
		v    SparseVector
		want string
	}{
		{SparseVector{}, "[]"},
		{SparseVector{Indices: []uint32{3, 1, 2}, Values: []float32{1, 2, 3}}, "[]"},
		{SparseVector{Indices: []uint32{1, 2}, Values: []float32{1}}, "[values: must be the same length as indices]"},
		{SparseVector{Indices: []uint32{5, 1, 5}, Values: []float32{1, 2, 3}}, "[indices: must be unique]"},
		{SparseVector{Indices: []uint32{1, 1}, Values: []float32{1}}, "[values: must be the same length as indices indices: must be unique]"},
	}
	for _, c := range cases {
		var got []string
		for _, e := range c.v.Validate() {
			got = append(got, e.Error())
		}
		if s := fmt.Sprint(got); s != c.want {
			t.Errorf("%+v: %s, want %s", c.v, s, c.want)
		}
	}
}

func TestSparseSortedAndDot(t *testing.T) {
	in := SparseVector{Indices: []uint32{9, 2, 5}, Values: []float32{0.9, 0.2, 0.5}}
	s := in.Sorted()
	if !slices.Equal(s.Indices, []uint32{2, 5, 9}) || !slices.Equal(s.Values, []float32{0.2, 0.5, 0.9}) {
		t.Fatalf("sorted %+v", s)
	}
	if in.Indices[0] != 9 {
		t.Fatal("Sorted changed its receiver")
	}
	if already := s.Sorted(); &already.Indices[0] != &s.Indices[0] {
		t.Fatal("a sorted vector was copied")
	}
	for _, c := range []struct {
		a, b    SparseVector
		score   float32
		overlap bool
	}{
		{s, SparseVector{Indices: []uint32{5, 9, 10}, Values: []float32{2, -1, 7}}, float32(0.5*2) + float32(0.9*-1), true},
		{s, SparseVector{Indices: []uint32{1, 3}, Values: []float32{1, 1}}, 0, false},
		{s, SparseVector{Indices: []uint32{2}, Values: []float32{0}}, 0, true}, // shares an index: scored 0
		{SparseVector{}, s, 0, false},
	} {
		score, ok := c.a.Dot(c.b)
		if ok != c.overlap || math.Float32bits(score) != math.Float32bits(c.score) {
			t.Errorf("%v . %v = %v %v, want %v %v", c.a, c.b, score, ok, c.score, c.overlap)
		}
	}
	if err := (SparseVector{Indices: []uint32{1}, Values: []float32{float32(math.NaN())}}).CheckFinite(); err == nil {
		t.Fatal("NaN accepted")
	}
	c := SparseVectors{"a": s}.Clone()
	c["a"].Values[0] = 100
	if s.Values[0] == 100 {
		t.Fatal("Clone shares values")
	}
	if e := (SparseVector{}).Clone(); e.Indices == nil || e.Values == nil {
		t.Fatal("an empty vector clones to nil lists")
	}
}
