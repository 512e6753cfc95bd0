// Package vector owns distance functions over dense vectors and the score
// conventions Qdrant uses: Cosine and Dot are similarities (higher is
// better; cosine vectors are normalised once on write), Euclid and
// Manhattan are distances (lower is better).
//
// Kernels exist for the three storage datatypes: float32 (DotProduct,
// SquaredL2, L1), float16 kept as IEEE binary16 bits in uint16 (DotF16,
// L2F16, L1F16, summed in float32; Float32ToFloat16 and Float16ToFloat32
// convert exactly, rounding to nearest even) and uint8 (DotU8, L2U8, L1U8,
// exact integer sums). They are pure functions: no allocation, no
// retained slices, safe for concurrent use.
//
// Start-up state: the package's one piece of global state is the kernel
// set, chosen once by init from what the CPU and OS support, best first:
// "avx512vnni" (AVX-512 F/BW/VL plus VNNI for the uint8 dot product),
// "avx512", "avx2" (AVX2, FMA and F16C), else "generic", the portable Go
// loops that are also the only implementation on other architectures and
// under the purego build tag. Implementation reports the choice; setting
// GODEBUG=cpu.avx512f=off or cpu.avx2=off (read by golang.org/x/sys/cpu)
// steps down a tier. Nothing changes it after init.
//
// The SIMD kernels sum in a different order than the generic ones, so
// float results differ in the last bits between tiers (tests bound the
// error against a float64 reference); uint8 results and float16 encodings
// are identical across tiers.
//
// TurboQuant (turbo.go, rotation.go) is the turbo4 storage datatype's
// codec and the building blocks of turbo quantization: the fixed rotation,
// the Lloyd-Max codebooks, and DotLUT4 (lut4.go), which scores a float32
// query against 4-bit codes through a 16-entry table (AVX2: VPERMPS over
// two halves of the table; AVX-512: one 16-float register). Rotation and
// Turbo4 are immutable and safe for concurrent use; a T4Query serves one
// goroutine at a time.
//
// Files: kernels.go dispatches, generic.go holds the portable kernels,
// float16.go the conversions, dispatch_amd64.go and *_amd64.s the
// assembly (Plan 9 syntax, ABI0, NOSPLIT leaf functions).
package vector
