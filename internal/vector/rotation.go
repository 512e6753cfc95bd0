package vector

import (
	"math"
	"math/bits"
	"sync"
)

// Rotation is TurboQuant's fixed pseudo-random rotation of R^dim, as
// Qdrant builds it (lib/quantization/src/turboquant/rotation.rs): dim is
// cut greedily into power-of-two blocks (63 = 32+16+8+4+2+1), each block
// gets a normalised Walsh-Hadamard transform, then three rounds of a fixed
// permutation of all dim coordinates followed by the blocked transform
// again. Each step is orthogonal, so lengths and inner products are kept
// and Inverse undoes Apply up to rounding. After it, the coordinates of
// any vector look like independent draws of one Gaussian, which is what
// the Lloyd-Max codebooks of TurboQuant assume.
//
// The permutations come from fixed seeds through splitmix64 (not
// math/rand, whose streams Go does not promise to keep): they are baked
// into every stored turbo code and must never change. A Rotation is
// immutable and safe for concurrent use; RotationFor shares one per
// dimension.
type Rotation struct {
	dim    int
	blocks []int               // power-of-two sizes, descending, summing to dim
	norms  []float64           // 1/sqrt(size) per block
	perm   [rotRounds][]uint32 // round k: y[i] = x[perm[k][i]]
}

const rotRounds = 3

// rotSeeds seed the three permutations. DO NOT CHANGE: stored codes
// depend on them.
var rotSeeds = [rotRounds]uint64{0x9a1f3c57e2b4d681, 0x3d7e91c04b2a5f18, 0xc4b08e6d1f9a2735}

var rotations sync.Map // dim -> *Rotation

// RotationFor returns the rotation of R^dim (dim >= 1), built once per
// dimension and shared.
func RotationFor(dim int) *Rotation {
	if r, ok := rotations.Load(dim); ok {
		return r.(*Rotation)
	}
	r, _ := rotations.LoadOrStore(dim, newRotation(dim))
	return r.(*Rotation)
}

func newRotation(dim int) *Rotation {
	if dim < 1 {
		panic("vector: rotation of dimension < 1")
	}
	r := &Rotation{dim: dim}
	for rest := uint(dim); rest != 0; {
		b := 1 << (bits.Len(rest) - 1)
		r.blocks = append(r.blocks, b)
		r.norms = append(r.norms, 1/math.Sqrt(float64(b)))
		rest ^= uint(b)
	}
	for k := range rotRounds {
		p := make([]uint32, dim)
		for i := range p {
			p[i] = uint32(i)
		}
		// Fisher-Yates with a splitmix64 stream; the multiply-shift bound
		// is deterministic (its bias, below 2^-32, does not matter here).
		s := rotSeeds[k]
		for i := dim - 1; i > 0; i-- {
			s += 0x9e3779b97f4a7c15
			z := s
			z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
			z = (z ^ z>>27) * 0x94d049bb133111eb
			z ^= z >> 31
			hi, _ := bits.Mul64(z, uint64(i+1))
			p[i], p[hi] = p[hi], p[i]
		}
		r.perm[k] = p
	}
	return r
}

// Dim is the dimension the rotation acts on.
func (r *Rotation) Dim() int { return r.dim }

// Apply rotates x (Dim values) in place; tmp (at least Dim values) is
// scratch.
func (r *Rotation) Apply(x, tmp []float64) {
	x, tmp = x[:r.dim], tmp[:r.dim]
	r.wht(x)
	for k := range rotRounds {
		for i, j := range r.perm[k] {
			tmp[i] = x[j]
		}
		copy(x, tmp)
		r.wht(x)
	}
}

// Inverse undoes Apply in place: the normalised transform is its own
// inverse, so the steps run backwards with the permutations undone.
func (r *Rotation) Inverse(x, tmp []float64) {
	x, tmp = x[:r.dim], tmp[:r.dim]
	r.wht(x)
	for k := rotRounds - 1; k >= 0; k-- {
		for i, j := range r.perm[k] {
			tmp[j] = x[i]
		}
		copy(x, tmp)
		r.wht(x)
	}
}

// wht applies the normalised Walsh-Hadamard transform to each block.
func (r *Rotation) wht(x []float64) {
	off := 0
	for bi, size := range r.blocks {
		whtBlock(x[off:off+size], r.norms[bi])
		off += size
	}
}

// whtBlock transforms one power-of-two block in place and scales it by
// norm: the first two butterfly passes fused (radix 4), then one pass per
// doubling, with the bounds the compiler can see.
func whtBlock(b []float64, norm float64) {
	n := len(b)
	switch n {
	case 1:
		return
	case 2:
		a, c := b[0], b[1]
		b[0], b[1] = (a+c)*norm, (a-c)*norm
		return
	}
	for i := 0; i+4 <= n; i += 4 {
		q := b[i : i+4 : i+4]
		s0, d0 := q[0]+q[1], q[0]-q[1]
		s1, d1 := q[2]+q[3], q[2]-q[3]
		q[0], q[1], q[2], q[3] = s0+s1, d0+d1, s0-s1, d0-d1
	}
	for h := 4; h < n; h *= 2 {
		for i := 0; i < n; i += 2 * h {
			lo := b[i : i+h : i+h]
			hi := b[i+h : i+2*h : i+2*h]
			hi = hi[:len(lo)]
			for j := range lo {
				a, c := lo[j], hi[j]
				lo[j], hi[j] = a+c, a-c
			}
		}
	}
	for j := range b {
		b[j] *= norm
	}
}
