//go:build !amd64 || purego

package vector

// simdKernelSets: no assembly on this architecture (or with the purego
// tag), so the generic kernels stay in impl.
func simdKernelSets() []kernelSet { return nil }
