package vector

import (
	"flag"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var exhaustive = flag.Bool("vector.exhaustive", false, "check Float32ToFloat16 on all 2^32 floats against every encoder")

// refHalfToFloat64 decodes finite or infinite half bits from the
// definition of binary16.
func refHalfToFloat64(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10&0x1f), float64(h&0x3ff)
	switch e {
	case 0:
		return sign * math.Ldexp(m, -24)
	case 0x1f:
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+m, e-25)
}

func TestFloat16ToFloat32AllHalves(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		got := Float16ToFloat32(h)
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			want := uint32(h&0x8000)<<16 | 0x7f800000 | uint32(h&0x3ff)<<13
			if math.Float32bits(got) != want {
				t.Fatalf("NaN %#04x: got %#08x want %#08x", h, math.Float32bits(got), want)
			}
			continue
		}
		if want := refHalfToFloat64(h); float64(got) != want || math.Signbit(float64(got)) != (h&0x8000 != 0) {
			t.Fatalf("%#04x: got %v want %v", h, got, want)
		}
		if back := Float32ToFloat16(got); back != h {
			t.Fatalf("%#04x round trip gives %#04x", h, back)
		}
	}
}

// The SIMD kernels widen halves in hardware; with one non-zero element and
// the other vector all ones they return it unchanged, which checks
// VCVTPH2PS against Float16ToFloat32 on every finite half, in the wide
// loops and in the tails.
func TestSIMDWideningMatchesFloat16ToFloat32(t *testing.T) {
	ones := make([]uint16, 100)
	for i := range ones {
		ones[i] = 0x3c00
	}
	forEachSet(t, func(t *testing.T, k kernelSet) {
		v := make([]uint16, 100)
		for i := range 1 << 16 {
			h := uint16(i)
			if h&0x7c00 == 0x7c00 {
				continue
			}
			pos := i % len(v)
			v[pos] = h
			if got, want := k.dotF16(v, ones), Float16ToFloat32(h); got != want {
				t.Fatalf("%#04x at %d: got %v want %v", h, pos, got, want)
			}
			v[pos] = 0
		}
	})
}

// refFloat32ToFloat16 rounds f to the nearest half by searching the sorted
// finite halves, ties to the even one; beyond the largest half the next
// step (65536) stands for infinity.
func refFloat32ToFloat16(f float32, halves []float64) uint16 {
	x := math.Abs(float64(f))
	var sign uint16
	if math.Signbit(float64(f)) {
		sign = 0x8000
	}
	i, _ := slices.BinarySearch(halves, x) // halves[i-1] < x <= halves[i]
	if i < len(halves) && halves[i] == x {
		return sign | uint16(i)
	}
	lo := i - 1
	loV, hiV := halves[lo], 65536.0
	if i < len(halves) {
		hiV = halves[i]
	}
	switch {
	case x-loV < hiV-x, x-loV == hiV-x && lo%2 == 0:
		return sign | uint16(lo)
	}
	return sign | uint16(lo+1) // 0x7c00 when past the largest half
}

// positiveHalves lists the finite non-negative halves; index == bits.
func positiveHalves() []float64 {
	hs := make([]float64, 0x7c00)
	for i := range hs {
		hs[i] = refHalfToFloat64(uint16(i))
	}
	return hs
}

// roundingCases lists floats around every rounding boundary (each half,
// each midpoint, one ulp either side), plus a stride through all bit
// patterns and the specials.
func roundingCases() []float32 {
	var fs []float32
	hs := positiveHalves()
	for i, h := range hs {
		next := 65536.0
		if i+1 < len(hs) {
			next = hs[i+1]
		}
		mid := float32((h + next) / 2) // exact: halves have 11 significant bits
		fs = append(fs, float32(h), mid, math.Nextafter32(mid, 0), math.Nextafter32(mid, math.MaxFloat32),
			math.Nextafter32(float32(h), math.MaxFloat32))
	}
	for b := uint64(0); b < 1<<32; b += 65521 {
		fs = append(fs, math.Float32frombits(uint32(b)))
	}
	fs = append(fs, 65504, 65519.99, 65520, 1e10, math.MaxFloat32, math.SmallestNonzeroFloat32, 0x1p-25, 0x1p-24, 0x1.8p-25)
	n := len(fs)
	for i := range n {
		fs = append(fs, -fs[i])
	}
	return fs
}

func TestFloat32ToFloat16RoundsToNearestEven(t *testing.T) {
	hs := positiveHalves()
	for _, f := range roundingCases() {
		if math.IsNaN(float64(f)) {
			continue
		}
		if got, want := Float32ToFloat16(f), refFloat32ToFloat16(f, hs); got != want {
			t.Fatalf("%v (%#08x): got %#04x want %#04x", f, math.Float32bits(f), got, want)
		}
	}
}

func TestFloat32ToFloat16NaN(t *testing.T) {
	for _, b := range []uint32{0x7fc00000, 0x7f800001, 0xffc00001, 0x7fbfe000, 0x7fffffff} {
		h := Float32ToFloat16(math.Float32frombits(b))
		if h&0x7e00 != 0x7e00 || h&0x8000 != uint16(b>>16)&0x8000 {
			t.Fatalf("%#08x gives %#04x, want a quiet NaN of the same sign", b, h)
		}
	}
}

// The SIMD encoders use VCVTPS2PH, an independent implementation of the
// same rounding: they must agree with Float32ToFloat16 bit for bit, NaNs
// included.
func TestEncodeF16MatchesFloat32ToFloat16(t *testing.T) {
	fs := roundingCases()
	r := rand.New(rand.NewPCG(4, 4))
	for range 1000 {
		fs = append(fs, math.Float32frombits(0x7f800001|r.Uint32()))
	}
	forEachSet(t, func(t *testing.T, k kernelSet) {
		for _, off := range []int{0, 1, 5} {
			src := fs[off:]
			dst := make([]uint16, len(src))
			k.encodeF16(dst, src)
			for i, f := range src {
				if want := Float32ToFloat16(f); dst[i] != want {
					t.Fatalf("%v (%#08x): got %#04x want %#04x", f, math.Float32bits(f), dst[i], want)
				}
			}
		}
	})
	if got := EncodeF16([]float32{1, -2, 0.5}); !slices.Equal(got, []uint16{0x3c00, 0xc000, 0x3800}) {
		t.Fatalf("EncodeF16 %#04x", got)
	}
	if got := DecodeF16([]uint16{0x3c00, 0xc000, 0x3800}); !slices.Equal(got, []float32{1, -2, 0.5}) {
		t.Fatalf("DecodeF16 %v", got)
	}
}

// TestEncodeF16Exhaustive takes about 25s; run it with
// go test -run Exhaustive ./internal/vector/ -args -vector.exhaustive
func TestEncodeF16Exhaustive(t *testing.T) {
	if !*exhaustive {
		t.Skip("needs -vector.exhaustive")
	}
	const chunk = 1 << 20
	src := make([]float32, chunk)
	want := make([]uint16, chunk)
	got := make([]uint16, chunk)
	sets := simdKernelSets()
	for base := uint64(0); base < 1<<32; base += chunk {
		for i := range src {
			src[i] = math.Float32frombits(uint32(base) + uint32(i))
		}
		encodeF16Generic(want, src)
		for _, k := range sets {
			k.encodeF16(got, src)
			if i := slices.Compare(got, want); i != 0 {
				for j := range got {
					if got[j] != want[j] {
						t.Fatalf("%s %#08x: got %#04x want %#04x", k.name, math.Float32bits(src[j]), got[j], want[j])
					}
				}
			}
		}
	}
}
