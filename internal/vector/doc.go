// Package vector owns distance functions over dense float32 vectors and the
// score conventions Qdrant uses: Cosine and Dot are similarities (higher is
// better; cosine vectors are normalised once on write), Euclid and Manhattan
// are distances (lower is better).
//
// The kernels are pure functions without allocation; this issue ships
// portable, unrolled Go loops, SIMD variants slot in per architecture.
package vector
