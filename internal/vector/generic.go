package vector

// Portable kernels. They are the whole implementation on architectures
// without assembly and the fallback on amd64 CPUs without AVX2/FMA/F16C;
// tests run every SIMD kernel against them. Several independent
// accumulators break the dependency chain so the loops pipeline.

func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func l2Generic(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

func l1Generic(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += abs(a[i] - b[i])
		s1 += abs(a[i+1] - b[i+1])
		s2 += abs(a[i+2] - b[i+2])
		s3 += abs(a[i+3] - b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += abs(a[i] - b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func dotF16Generic(a, b []uint16) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += Float16ToFloat32(a[i]) * Float16ToFloat32(b[i])
		s1 += Float16ToFloat32(a[i+1]) * Float16ToFloat32(b[i+1])
		s2 += Float16ToFloat32(a[i+2]) * Float16ToFloat32(b[i+2])
		s3 += Float16ToFloat32(a[i+3]) * Float16ToFloat32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += Float16ToFloat32(a[i]) * Float16ToFloat32(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func l2F16Generic(a, b []uint16) float32 {
	b = b[:len(a)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		d0 := Float16ToFloat32(a[i]) - Float16ToFloat32(b[i])
		d1 := Float16ToFloat32(a[i+1]) - Float16ToFloat32(b[i+1])
		s0 += d0 * d0
		s1 += d1 * d1
	}
	for ; i < len(a); i++ {
		d := Float16ToFloat32(a[i]) - Float16ToFloat32(b[i])
		s0 += d * d
	}
	return s0 + s1
}

func l1F16Generic(a, b []uint16) float32 {
	b = b[:len(a)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += abs(Float16ToFloat32(a[i]) - Float16ToFloat32(b[i]))
		s1 += abs(Float16ToFloat32(a[i+1]) - Float16ToFloat32(b[i+1]))
	}
	for ; i < len(a); i++ {
		s0 += abs(Float16ToFloat32(a[i]) - Float16ToFloat32(b[i]))
	}
	return s0 + s1
}

// The uint8 kernels return the exact sum modulo 2^32, which is the exact
// sum for up to u8Block elements; the exported wrappers split longer inputs.

func dotU8Generic(a, b []uint8) uint32 {
	b = b[:len(a)]
	var s0, s1 uint32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += uint32(a[i]) * uint32(b[i])
		s1 += uint32(a[i+1]) * uint32(b[i+1])
	}
	for ; i < len(a); i++ {
		s0 += uint32(a[i]) * uint32(b[i])
	}
	return s0 + s1
}

func l2U8Generic(a, b []uint8) uint32 {
	b = b[:len(a)]
	var s0, s1 uint32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		d0 := int32(a[i]) - int32(b[i])
		d1 := int32(a[i+1]) - int32(b[i+1])
		s0 += uint32(d0 * d0)
		s1 += uint32(d1 * d1)
	}
	for ; i < len(a); i++ {
		d := int32(a[i]) - int32(b[i])
		s0 += uint32(d * d)
	}
	return s0 + s1
}

func l1U8Generic(a, b []uint8) uint32 {
	b = b[:len(a)]
	var s0, s1 uint32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += absDiffU8(a[i], b[i])
		s1 += absDiffU8(a[i+1], b[i+1])
	}
	for ; i < len(a); i++ {
		s0 += absDiffU8(a[i], b[i])
	}
	return s0 + s1
}

func absDiffU8(x, y uint8) uint32 {
	if x > y {
		return uint32(x - y)
	}
	return uint32(y - x)
}

func encodeF16Generic(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		dst[i] = Float32ToFloat16(f)
	}
}
