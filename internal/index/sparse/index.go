package sparse

import (
	"fmt"
	"math"
	"slices"

	"github.com/shoaldb/shoal/internal/point"
	"github.com/shoaldb/shoal/internal/vector"
)

// Datatype is the element type of the stored weights.
type Datatype uint8

// The weight datatypes (their byte in the file format).
const (
	Float32 Datatype = iota
	Float16
	Uint8
)

// ParseDatatype reads a wire name of Qdrant's datatype enum; "" is
// Float32. Qdrant 1.19 also names turbo4, a dense storage format: a sparse
// index declared with it keeps float32 weights.
func ParseDatatype(s string) (Datatype, error) {
	switch s {
	case "", "float32", "turbo4":
		return Float32, nil
	case "float16":
		return Float16, nil
	case "uint8":
		return Uint8, nil
	}
	return 0, fmt.Errorf("unknown variant `%s`, expected one of `float32`, `uint8`, `float16`, `turbo4`", s)
}

func (d Datatype) String() string {
	switch d {
	case Float16:
		return "float16"
	case Uint8:
		return "uint8"
	}
	return "float32"
}

func (d Datatype) size() int {
	switch d {
	case Float16:
		return 2
	case Uint8:
		return 1
	}
	return 4
}

// Index is the inverted index of one sparse vector (see the package
// documentation).
type Index struct {
	dt      Datatype
	vectors int      // vectors indexed (those with at least one dimension or not)
	dims    []uint32 // ascending
	starts  []uint64 // len(dims)+1; list i is [starts[i], starts[i+1])
	offs    []uint32 // point offsets, per list ascending
	w32     []float32
	w16     []uint16
	w8      []uint8
	quant   []float32 // uint8: per list min, step
	maxOff  uint32    // largest offset (0 when empty)
}

// Source hands Build the stored vectors: n slots, and the sorted vector at
// each slot that has one.
type Source interface {
	Slots() int
	At(off uint32) (point.SparseVector, bool)
}

// Build indexes every vector of src with weights of datatype dt. Vectors
// must be sorted by index (point.SparseVector.Sorted) and finite.
func Build(src Source, dt Datatype) *Index {
	n := src.Slots()
	counts := map[uint32]int{}
	ix := &Index{dt: dt}
	for off := range n {
		v, ok := src.At(uint32(off))
		if !ok {
			continue
		}
		ix.vectors++
		for _, d := range v.Indices {
			counts[d]++
		}
	}
	ix.dims = make([]uint32, 0, len(counts))
	for d := range counts {
		ix.dims = append(ix.dims, d)
	}
	slices.Sort(ix.dims)
	ix.starts = make([]uint64, len(ix.dims)+1)
	pos := make(map[uint32]uint64, len(ix.dims)) // next free slot of each list
	for i, d := range ix.dims {
		pos[d] = ix.starts[i]
		ix.starts[i+1] = ix.starts[i] + uint64(counts[d])
	}
	total := ix.starts[len(ix.dims)]
	ix.offs = make([]uint32, total)
	w := make([]float32, total)
	for off := range n {
		v, ok := src.At(uint32(off))
		if !ok {
			continue
		}
		for j, d := range v.Indices {
			p := pos[d]
			ix.offs[p] = uint32(off)
			w[p] = v.Values[j]
			pos[d] = p + 1
		}
		if len(v.Indices) > 0 {
			ix.maxOff = uint32(off)
		}
	}
	ix.setWeights(w)
	return ix
}

// setWeights stores float32 weights in the index's datatype.
func (ix *Index) setWeights(w []float32) {
	switch ix.dt {
	case Float16:
		ix.w16 = vector.EncodeF16(w)
	case Uint8:
		ix.w8 = make([]uint8, len(w))
		ix.quant = make([]float32, 2*len(ix.dims))
		for i := range ix.dims {
			lo, hi := ix.starts[i], ix.starts[i+1]
			mn, step := quantParams(w[lo:hi])
			ix.quant[2*i], ix.quant[2*i+1] = mn, step
			for p := lo; p < hi; p++ {
				ix.w8[p] = quantize(w[p], mn, step)
			}
		}
	default:
		ix.w32 = w
	}
}

// quantParams are Qdrant's QuantizedU8Params of a list: its minimum and
// (max-min)/255.
func quantParams(w []float32) (mn, step float32) {
	if len(w) == 0 {
		return 0, 0
	}
	mn, mx := w[0], w[0]
	for _, x := range w[1:] {
		mn, mx = min(mn, x), max(mx, x)
	}
	return mn, (mx - mn) / 255
}

// quantize is Qdrant's QuantizedU8::from_f32: the rounded step count,
// clamped to [0, 255]; a list of equal weights (step 0) codes 0.
func quantize(x, mn, step float32) uint8 {
	q := float64((x - mn) / step)
	switch {
	case math.IsNaN(q) || q <= 0:
		return 0
	case q >= 255:
		return 255
	}
	return uint8(math.Round(q))
}

// Datatype is the datatype of the stored weights.
func (ix *Index) Datatype() Datatype { return ix.dt }

// Vectors is the number of vectors indexed.
func (ix *Index) Vectors() int { return ix.vectors }

// Dims is the number of distinct dimensions.
func (ix *Index) Dims() int { return len(ix.dims) }

// Postings is the number of (dimension, vector) entries.
func (ix *Index) Postings() int { return len(ix.offs) }

// MaxOffset is the largest point offset in a list (0 for an empty index):
// the segment checks that its slots cover it.
func (ix *Index) MaxOffset() uint32 { return ix.maxOff }

// Bytes is the size of the lists in memory or in their file.
func (ix *Index) Bytes() int64 {
	return int64(4*len(ix.dims) + 8*len(ix.starts) + 4*len(ix.offs) + 4*len(ix.w32) + 2*len(ix.w16) + len(ix.w8) + 4*len(ix.quant))
}

// list returns the position of dimension d's list.
func (ix *Index) list(d uint32) (int, bool) {
	return slices.BinarySearch(ix.dims, d)
}

// Len is the length of dimension d's posting list (0 when no vector has
// it).
func (ix *Index) Len(d uint32) int {
	i, ok := ix.list(d)
	if !ok {
		return 0
	}
	return int(ix.starts[i+1] - ix.starts[i])
}

// Each calls fn for every entry of dimension d's list, in offset order,
// until fn returns false.
func (ix *Index) Each(d uint32, fn func(off uint32, w float32) bool) {
	i, ok := ix.list(d)
	if !ok {
		return
	}
	for p := ix.starts[i]; p < ix.starts[i+1]; p++ {
		if !fn(ix.offs[p], ix.weight(i, p)) {
			return
		}
	}
}

// weight is the float32 value of posting p of list i.
func (ix *Index) weight(i int, p uint64) float32 {
	switch ix.dt {
	case Float16:
		return vector.Float16ToFloat32(ix.w16[p])
	case Uint8:
		return ix.quant[2*i] + float32(float32(ix.w8[p])*ix.quant[2*i+1]) // no fused multiply-add
	}
	return ix.w32[p]
}
