//go:build amd64 && !purego

package vector

import "golang.org/x/sys/cpu"

// The assembly kernels of f32_amd64.s, f16_amd64.s and u8_amd64.s. They
// take equally long slices (the callers reslice b) and never retain them.

//go:noescape
func dotAVX2(a, b []float32) float32

//go:noescape
func l2AVX2(a, b []float32) float32

//go:noescape
func l1AVX2(a, b []float32) float32

//go:noescape
func dotAVX512(a, b []float32) float32

//go:noescape
func l2AVX512(a, b []float32) float32

//go:noescape
func l1AVX512(a, b []float32) float32

//go:noescape
func dotF16AVX2(a, b []uint16) float32

//go:noescape
func l2F16AVX2(a, b []uint16) float32

//go:noescape
func l1F16AVX2(a, b []uint16) float32

//go:noescape
func dotF16AVX512(a, b []uint16) float32

//go:noescape
func l2F16AVX512(a, b []uint16) float32

//go:noescape
func l1F16AVX512(a, b []uint16) float32

//go:noescape
func dotU8AVX2(a, b []uint8) uint32

//go:noescape
func l2U8AVX2(a, b []uint8) uint32

//go:noescape
func l1U8AVX2(a, b []uint8) uint32

//go:noescape
func dotU8AVX512(a, b []uint8) uint32

//go:noescape
func l2U8AVX512(a, b []uint8) uint32

//go:noescape
func l1U8AVX512(a, b []uint8) uint32

//go:noescape
func dotU8VNNI(a, b []uint8) uint32

//go:noescape
func encodeF16AVX2(dst []uint16, src []float32)

//go:noescape
func dotLUT4AVX2(q []float32, codes []byte, lut *[16]float32) float32

//go:noescape
func dotLUT4AVX512(q []float32, codes []byte, lut *[16]float32) float32

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// avx2Kernels needs AVX2, FMA and F16C: Haswell, Zen and later.
var avx2Kernels = kernelSet{
	name:      "avx2",
	dot:       dotAVX2,
	l2:        l2AVX2,
	l1:        l1AVX2,
	dotF16:    dotF16AVX2,
	l2F16:     l2F16AVX2,
	l1F16:     l1F16AVX2,
	dotU8:     dotU8AVX2,
	l2U8:      l2U8AVX2,
	l1U8:      l1U8AVX2,
	encodeF16: encodeF16SIMD,
	dotLUT4:   dotLUT4AVX2,
}

// avx512Kernels needs AVX512F, BW and VL on top of avx2Kernels' needs:
// Skylake-SP, Zen 4 and later. The float32 and uint8 kernels run on 512-bit
// registers; the float16 ones keep 256-bit loops (see f16_amd64.s). All
// replace the scalar tails with masked loads.
var avx512Kernels = kernelSet{
	name:      "avx512",
	dot:       dotAVX512,
	l2:        l2AVX512,
	l1:        l1AVX512,
	dotF16:    dotF16AVX512,
	l2F16:     l2F16AVX512,
	l1F16:     l1F16AVX512,
	dotU8:     dotU8AVX512,
	l2U8:      l2U8AVX512,
	l1U8:      l1U8AVX512,
	encodeF16: encodeF16SIMD,
	dotLUT4:   dotLUT4AVX512,
}

// avx512VNNIKernels adds AVX512_VNNI (Ice Lake, Zen 4) for the uint8 dot
// product: VPDPBUSD multiplies and sums 64 byte pairs in one instruction.
var avx512VNNIKernels = func() kernelSet {
	k := avx512Kernels
	k.name = "avx512vnni"
	k.dotU8 = dotU8VNNI
	return k
}()

func init() {
	if sets := simdKernelSets(); len(sets) > 0 {
		impl = sets[len(sets)-1]
	}
}

// simdKernelSets lists the SIMD kernel sets this CPU and OS can run, best
// last. x/sys/cpu already checks that the OS saves the YMM and ZMM state
// and honours GODEBUG=cpu.avx2=off, cpu.avx512f=off and the like.
func simdKernelSets() []kernelSet {
	x := &cpu.X86
	if !x.HasAVX2 || !x.HasFMA || !hasF16C() {
		return nil
	}
	sets := []kernelSet{avx2Kernels}
	if x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL {
		sets = append(sets, avx512Kernels)
		if x.HasAVX512VNNI {
			sets = append(sets, avx512VNNIKernels)
		}
	}
	return sets
}

// hasF16C reads CPUID leaf 1 ECX bit 29, which x/sys/cpu does not report.
func hasF16C() bool {
	if !cpu.X86.HasAVX {
		return false
	}
	_, _, ecx, _ := cpuid(1, 0)
	return ecx&(1<<29) != 0
}

func encodeF16SIMD(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n := len(src) &^ 7
	encodeF16AVX2(dst[:n], src[:n])
	encodeF16Generic(dst[n:], src[n:])
}
