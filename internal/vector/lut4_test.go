package vector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// lut4Ref is DotLUT4 in float64, from the unpacked codes.
func lut4Ref(q []float32, codes []uint8, lut *[16]float32) (sum, scale float64) {
	for i, c := range codes {
		p := float64(q[i]) * float64(lut[c])
		sum += p
		scale += math.Abs(p)
	}
	return sum, scale
}

func randomLUT4(r *rand.Rand, n int) ([]float32, []uint8, []byte, *[16]float32) {
	padded := (n + LUT4Block - 1) / LUT4Block * LUT4Block
	q := make([]float32, padded)
	codes := make([]uint8, n)
	for i := range codes {
		q[i] = float32(r.NormFloat64())
		codes[i] = uint8(r.IntN(16))
	}
	packed := make([]byte, LUT4Bytes(n)+r.IntN(3)) // trailing bytes are not read
	PackLUT4(packed, codes)
	lut := new([16]float32)
	for i := range lut {
		lut[i] = float32(r.NormFloat64())
	}
	return q, codes, packed, lut
}

// TestPackLUT4 checks the block layout: dimension 32k+j in the low nibble
// of byte 16k+j, 32k+16+j in its high nibble, LUT4Code reading it back.
func TestPackLUT4(t *testing.T) {
	codes := make([]uint8, 70)
	for i := range codes {
		codes[i] = uint8(i % 16)
	}
	b := make([]byte, LUT4Bytes(len(codes)))
	if len(b) != 48 {
		t.Fatalf("LUT4Bytes(70) = %d, want 48 (three blocks)", len(b))
	}
	PackLUT4(b, codes)
	if b[0] != 0|0<<4 || b[1] != 1|1<<4 || b[15] != 15|15<<4 || b[16+5] != 5|5<<4 || b[32+5] != 5 || b[32+6] != 0 {
		t.Fatalf("layout: % x", b)
	}
	for i, c := range codes {
		if got := LUT4Code(b, i); got != c {
			t.Fatalf("code %d: %d, want %d", i, got, c)
		}
	}
}

// TestDotLUT4 compares every implementation with a float64 reference over
// lengths around the block and unroll boundaries.
func TestDotLUT4(t *testing.T) {
	seed := uint64(7)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for _, k := range kernelSets() {
		for _, n := range []int{0, 1, 31, 32, 33, 63, 64, 65, 96, 100, 128, 768, 1000, 1536} {
			q, codes, packed, lut := randomLUT4(r, n)
			want, scale := lut4Ref(q, codes, lut)
			got := k.dotLUT4(q, packed, lut)
			if !closeEnough(got, want, scale) {
				t.Fatalf("%s n=%d: %v, want %v", k.name, n, got, want)
			}
		}
	}
	if got := DotLUT4(nil, nil, new([16]float32)); got != 0 {
		t.Fatalf("empty: %v", got)
	}
	for _, f := range []func(){
		func() { DotLUT4(make([]float32, 33), make([]byte, 64), new([16]float32)) },
		func() { DotLUT4(make([]float32, 64), make([]byte, 31), new([16]float32)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("bad lengths must panic, not read out of bounds")
				}
			}()
			f()
		}()
	}
}

// FuzzDotLUT4 compares the SIMD kernels with the generic one.
func FuzzDotLUT4(f *testing.F) {
	f.Add(uint64(1), uint16(32))
	f.Add(uint64(2), uint16(1537))
	f.Fuzz(func(t *testing.T, seed uint64, n16 uint16) {
		n := int(n16 % 5000)
		r := rand.New(rand.NewPCG(seed, uint64(n)))
		q, codes, packed, lut := randomLUT4(r, n)
		want, scale := lut4Ref(q, codes, lut)
		for _, k := range simdKernelSets() {
			if got := k.dotLUT4(q, packed, lut); !closeEnough(got, want, scale) {
				t.Fatalf("%s n=%d: %v, want %v (generic %v)", k.name, n, got, want, dotLUT4Generic(q, packed, lut))
			}
		}
	})
}

func TestDotLUT4DoesNotAllocate(t *testing.T) {
	q, _, packed, lut := randomLUT4(rand.New(rand.NewPCG(1, 1)), 777)
	var s float32
	if n := testing.AllocsPerRun(100, func() { s += DotLUT4(q, packed, lut) }); n != 0 {
		t.Errorf("DotLUT4 allocates %v times a call", n)
	}
	_ = s
}

func BenchmarkDotLUT4(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, k := range kernelSets() {
		for _, n := range []int{128, 768, 1536} {
			q, _, packed, lut := randomLUT4(r, n)
			f := k.dotLUT4
			b.Run(fmt.Sprintf("%s/%d", k.name, n), func(b *testing.B) {
				b.SetBytes(int64(len(packed)))
				for b.Loop() {
					sinkF = f(q, packed, lut)
				}
			})
		}
	}
}
