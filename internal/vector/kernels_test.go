package vector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// kernelSets lists every implementation this machine runs, generic first.
func kernelSets() []kernelSet {
	return append([]kernelSet{genericKernels}, simdKernelSets()...)
}

// forEachSet runs f against every implementation as a subtest.
func forEachSet(t *testing.T, f func(t *testing.T, k kernelSet)) {
	for _, k := range kernelSets() {
		t.Run(k.name, func(t *testing.T) { f(t, k) })
	}
}

// testLengths covers every tail shape of every unrolling, and real sizes.
func testLengths() []int {
	var ns []int
	for n := 0; n <= 300; n++ {
		ns = append(ns, n)
	}
	return append(ns, 768, 784, 1536)
}

func TestDispatchPicksBestSet(t *testing.T) {
	sets := kernelSets()
	best := sets[len(sets)-1]
	t.Logf("kernel sets %d, chosen %q", len(sets), Implementation())
	if Implementation() != best.name {
		t.Fatalf("impl is %q, the best runnable set is %q", Implementation(), best.name)
	}
}

// guarded returns a slice of n elements at offset off inside a larger
// array whose other elements are guard: a kernel that reads outside the
// slice picks the guard up and fails the comparison.
func guarded[T any](n, off int, guard T) []T {
	buf := make([]T, n+16)
	for i := range buf {
		buf[i] = guard
	}
	return buf[off : off+n : off+n]
}

type floatOp int

const (
	opDot floatOp = iota
	opL2
	opL1
)

func (o floatOp) String() string { return [...]string{"dot", "l2", "l1"}[o] }

// refFloat returns the float64 result of o over x and y and the sum of the
// magnitudes of its terms, which bounds the rounding error of any
// summation order.
func refFloat(o floatOp, x, y []float64) (want, scale float64) {
	for i := range x {
		var term float64
		switch o {
		case opDot:
			term = x[i] * y[i]
		case opL2:
			term = (x[i] - y[i]) * (x[i] - y[i])
		case opL1:
			term = math.Abs(x[i] - y[i])
		}
		want += term
		scale += math.Abs(term)
	}
	return want, scale
}

func closeEnough(got float32, want, scale float64) bool {
	return math.Abs(float64(got)-want) <= 1e-5*scale+1e-30
}

func (k kernelSet) f32(o floatOp) func(a, b []float32) float32 {
	return [...]func(a, b []float32) float32{k.dot, k.l2, k.l1}[o]
}

func (k kernelSet) f16(o floatOp) func(a, b []uint16) float32 {
	return [...]func(a, b []uint16) float32{k.dotF16, k.l2F16, k.l1F16}[o]
}

func (k kernelSet) u8(o floatOp) func(a, b []uint8) uint32 {
	return [...]func(a, b []uint8) uint32{k.dotU8, k.l2U8, k.l1U8}[o]
}

func TestF32KernelsAgainstFloat64(t *testing.T) {
	const seed = 20240601
	t.Logf("seed %d", seed)
	forEachSet(t, func(t *testing.T, k kernelSet) {
		r := rand.New(rand.NewPCG(seed, 1))
		nan := float32(math.NaN())
		for _, n := range testLengths() {
			offA, offB := n%8, (n*3+1)%8
			a, b := guarded(n, offA, nan), guarded(n, offB, nan)
			x, y := make([]float64, n), make([]float64, n)
			for i := range a {
				a[i], b[i] = r.Float32()*2-1, r.Float32()*2-1
				x[i], y[i] = float64(a[i]), float64(b[i])
			}
			for o := opDot; o <= opL1; o++ {
				got := k.f32(o)(a, b)
				want, scale := refFloat(o, x, y)
				if !closeEnough(got, want, scale) {
					t.Fatalf("%s n=%d offsets %d,%d: got %v want %v", o, n, offA, offB, got, want)
				}
			}
		}
	})
}

// randomF16 returns finite half bits of every exponent, subnormals included.
func randomF16(r *rand.Rand) uint16 {
	for {
		h := uint16(r.Uint32())
		if h&0x7c00 != 0x7c00 {
			return h
		}
	}
}

func TestF16KernelsAgainstFloat64(t *testing.T) {
	const seed = 20240602
	t.Logf("seed %d", seed)
	forEachSet(t, func(t *testing.T, k kernelSet) {
		r := rand.New(rand.NewPCG(seed, 2))
		for _, n := range testLengths() {
			offA, offB := (n+5)%8, (n*5+2)%8
			a, b := guarded(n, offA, uint16(0x7e00)), guarded(n, offB, uint16(0x7e00))
			x, y := make([]float64, n), make([]float64, n)
			for i := range a {
				if n%2 == 0 {
					// Every exponent, to exercise the conversion.
					a[i], b[i] = randomF16(r), randomF16(r)
				} else {
					// Embedding-like values.
					a[i], b[i] = Float32ToFloat16(r.Float32()*2-1), Float32ToFloat16(r.Float32()*2-1)
				}
				x[i], y[i] = float64(Float16ToFloat32(a[i])), float64(Float16ToFloat32(b[i]))
			}
			for o := opDot; o <= opL1; o++ {
				got := k.f16(o)(a, b)
				want, scale := refFloat(o, x, y)
				if !closeEnough(got, want, scale) {
					t.Fatalf("%s n=%d offsets %d,%d: got %v want %v", o, n, offA, offB, got, want)
				}
			}
		}
	})
}

func refU8(o floatOp, a, b []uint8) uint64 {
	var s uint64
	for i := range a {
		d := int64(a[i]) - int64(b[i])
		switch o {
		case opDot:
			s += uint64(a[i]) * uint64(b[i])
		case opL2:
			s += uint64(d * d)
		case opL1:
			s += uint64(max(d, -d))
		}
	}
	return s
}

func TestU8KernelsExact(t *testing.T) {
	const seed = 20240603
	t.Logf("seed %d", seed)
	forEachSet(t, func(t *testing.T, k kernelSet) {
		r := rand.New(rand.NewPCG(seed, 3))
		for _, n := range append(testLengths(), 4096, u8Block) {
			offA, offB := (n+3)%8, (n*7+6)%8
			a, b := guarded(n, offA, uint8(0x5a)), guarded(n, offB, uint8(0xc3))
			for i := range a {
				a[i], b[i] = uint8(r.Uint32()), uint8(r.Uint32())
			}
			if n == u8Block {
				// The largest sums a call may see.
				for i := range a {
					a[i], b[i] = 255, byte(255*(i%2))
				}
			}
			for o := opDot; o <= opL1; o++ {
				if got, want := uint64(k.u8(o)(a, b)), refU8(o, a, b); got != want {
					t.Fatalf("%s n=%d offsets %d,%d: got %d want %d", o, n, offA, offB, got, want)
				}
			}
		}
	})
}

func TestU8ExportedSplitsLongInputs(t *testing.T) {
	n := 3*u8Block + 123
	a, b := make([]uint8, n), make([]uint8, n)
	for i := range a {
		a[i], b[i] = 255, uint8(255*(i%2))
	}
	for _, c := range []struct {
		o   floatOp
		got uint64
	}{{opDot, DotU8(a, b)}, {opL2, L2U8(a, b)}, {opL1, L1U8(a, b)}} {
		if want := refU8(c.o, a, b); c.got != want {
			t.Fatalf("%s n=%d: got %d want %d", c.o, n, c.got, want)
		}
	}
	if DotU8(a, b) <= math.MaxUint32 {
		t.Fatal("the case should overflow 32 bits")
	}
}

func TestExportedFunctions(t *testing.T) {
	q := []float32{1, -2, 3, 0.5}
	v := []float32{-1, 4, 2, 2, 99} // longer b is cut to len(a)
	if got := DotProduct(q, v); got != -1-8+6+1 {
		t.Fatalf("DotProduct %v", got)
	}
	if got := SquaredL2(q, v); got != 4+36+1+2.25 {
		t.Fatalf("SquaredL2 %v", got)
	}
	if got := L1(q, v); got != 2+6+1+1.5 {
		t.Fatalf("L1 %v", got)
	}
	hq, hv := EncodeF16(q), EncodeF16(v)
	if DotF16(hq, hv) != -2 || L2F16(hq, hv) != 43.25 || L1F16(hq, hv) != 10.5 {
		t.Fatalf("f16: %v %v %v", DotF16(hq, hv), L2F16(hq, hv), L1F16(hq, hv))
	}
	bq, bv := []uint8{1, 200, 3}, []uint8{255, 100, 3, 7}
	if DotU8(bq, bv) != 255+20000+9 || L2U8(bq, bv) != 254*254+100*100 || L1U8(bq, bv) != 354 {
		t.Fatalf("u8: %d %d %d", DotU8(bq, bv), L2U8(bq, bv), L1U8(bq, bv))
	}
	for name, f := range map[string]func(){
		"DotProduct": func() { DotProduct(q, v[:2]) },
		"DotF16":     func() { DotF16(hq, hv[:2]) },
		"DotU8":      func() { DotU8(bq, bv[:2]) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: shorter b must panic, not read past it", name)
				}
			}()
			f()
		}()
	}
}

func TestKernelsDoNotAllocate(t *testing.T) {
	f32a, f32b := make([]float32, 777), make([]float32, 777)
	f16a, f16b := make([]uint16, 777), make([]uint16, 777)
	u8a, u8b := make([]uint8, 777), make([]uint8, 777)
	var sf float32
	var su uint64
	for name, f := range map[string]func(){
		"DotProduct":  func() { sf += DotProduct(f32a, f32b) },
		"SquaredL2":   func() { sf += SquaredL2(f32a, f32b) },
		"L1":          func() { sf += L1(f32a, f32b) },
		"Normalize":   func() { Normalize(f32a) },
		"DotF16":      func() { sf += DotF16(f16a, f16b) },
		"L2F16":       func() { sf += L2F16(f16a, f16b) },
		"L1F16":       func() { sf += L1F16(f16a, f16b) },
		"DotU8":       func() { su += DotU8(u8a, u8b) },
		"L2U8":        func() { su += L2U8(u8a, u8b) },
		"L1U8":        func() { su += L1U8(u8a, u8b) },
		"EncodeF16To": func() { EncodeF16To(f16a, f32a) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times a call", name, n)
		}
	}
	_, _ = sf, su
}

// FuzzSIMDMatchesGeneric compares every SIMD set with the generic kernels
// on random lengths and offsets.
func FuzzSIMDMatchesGeneric(f *testing.F) {
	f.Add(uint64(1), uint16(0), uint8(0))
	f.Add(uint64(2), uint16(31), uint8(3))
	f.Add(uint64(3), uint16(1537), uint8(0x75))
	f.Fuzz(func(t *testing.T, seed uint64, n16 uint16, offs uint8) {
		n := int(n16 % 4100)
		offA, offB := int(offs%8), int(offs/8%8)
		r := rand.New(rand.NewPCG(seed, uint64(n)))
		a, b := guarded(n, offA, float32(math.NaN())), guarded(n, offB, float32(math.NaN()))
		ha, hb := guarded(n, offA, uint16(0x7e00)), guarded(n, offB, uint16(0x7e00))
		ua, ub := guarded(n, offA, uint8(0xff)), guarded(n, offB, uint8(0xff))
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			ha[i], hb[i] = randomF16(r), randomF16(r)
			ua[i], ub[i] = uint8(r.Uint32()), uint8(r.Uint32())
		}
		g := genericKernels
		for _, k := range simdKernelSets() {
			for o := opDot; o <= opL1; o++ {
				want, scale := refFloat(o, f64s(a), f64s(b))
				if got := k.f32(o)(a, b); !closeEnough(got, want, scale) {
					t.Fatalf("%s %s n=%d: %v, float64 %v, generic %v", k.name, o, n, got, want, g.f32(o)(a, b))
				}
				want, scale = refFloat(o, f64sF16(ha), f64sF16(hb))
				if got := k.f16(o)(ha, hb); !closeEnough(got, want, scale) {
					t.Fatalf("%s %s f16 n=%d: %v, float64 %v, generic %v", k.name, o, n, got, want, g.f16(o)(ha, hb))
				}
				if got, want := k.u8(o)(ua, ub), g.u8(o)(ua, ub); got != want {
					t.Fatalf("%s %s u8 n=%d: %d, generic %d", k.name, o, n, got, want)
				}
			}
			dst, want := make([]uint16, n), make([]uint16, n)
			k.encodeF16(dst, a)
			g.encodeF16(want, a)
			for i := range dst {
				if dst[i] != want[i] {
					t.Fatalf("%s encode %v: %#04x, generic %#04x", k.name, a[i], dst[i], want[i])
				}
			}
		}
	})
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func f64sF16(v []uint16) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(Float16ToFloat32(x))
	}
	return out
}

var (
	sinkF float32
	sinkU uint32
)

// BenchmarkKernels reports GB/s of input read (both vectors) for every
// kernel and implementation at common embedding sizes.
func BenchmarkKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, k := range kernelSets() {
		for _, n := range []int{128, 784, 1536} {
			fa, fb := make([]float32, n), make([]float32, n)
			ua, ub := make([]uint8, n), make([]uint8, n)
			for i := range fa {
				fa[i], fb[i] = r.Float32()*2-1, r.Float32()*2-1
				ua[i], ub[i] = uint8(r.Uint32()), uint8(r.Uint32())
			}
			ha, hb := EncodeF16(fa), EncodeF16(fb)
			for o := opDot; o <= opL1; o++ {
				f32, f16, u8 := k.f32(o), k.f16(o), k.u8(o)
				b.Run(fmt.Sprintf("%s/f32/%s/%d", o, k.name, n), func(b *testing.B) {
					b.SetBytes(int64(8 * n))
					for b.Loop() {
						sinkF = f32(fa, fb)
					}
				})
				b.Run(fmt.Sprintf("%s/f16/%s/%d", o, k.name, n), func(b *testing.B) {
					b.SetBytes(int64(4 * n))
					for b.Loop() {
						sinkF = f16(ha, hb)
					}
				})
				b.Run(fmt.Sprintf("%s/u8/%s/%d", o, k.name, n), func(b *testing.B) {
					b.SetBytes(int64(2 * n))
					for b.Loop() {
						sinkU = u8(ua, ub)
					}
				})
			}
			enc := k.encodeF16
			dst := make([]uint16, n)
			b.Run(fmt.Sprintf("encode/f16/%s/%d", k.name, n), func(b *testing.B) {
				b.SetBytes(int64(4 * n))
				for b.Loop() {
					enc(dst, fa)
				}
			})
		}
	}
}
