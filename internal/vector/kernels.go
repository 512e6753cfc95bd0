package vector

// kernelSet is one implementation of every kernel. impl is chosen once, by
// init, from the sets the CPU supports (see doc.go), and never changes
// afterwards; the exported functions below call through it.
type kernelSet struct {
	name string

	dot, l2, l1          func(a, b []float32) float32
	dotF16, l2F16, l1F16 func(a, b []uint16) float32
	// The uint8 kernels see at most u8Block elements per call.
	dotU8, l2U8, l1U8 func(a, b []uint8) uint32
	encodeF16         func(dst []uint16, src []float32)
	// dotLUT4 sees a query of a multiple of 32 floats (lut4.go).
	dotLUT4 func(q []float32, codes []byte, lut *[16]float32) float32
}

var genericKernels = kernelSet{
	name:      "generic",
	dot:       dotGeneric,
	l2:        l2Generic,
	l1:        l1Generic,
	dotF16:    dotF16Generic,
	l2F16:     l2F16Generic,
	l1F16:     l1F16Generic,
	dotU8:     dotU8Generic,
	l2U8:      l2U8Generic,
	l1U8:      l1U8Generic,
	encodeF16: encodeF16Generic,
	dotLUT4:   dotLUT4Generic,
}

// impl is the package's one piece of start-up state; init in the
// per-architecture file may replace it, nothing else writes it.
var impl = genericKernels

// Implementation names the kernel set chosen at start-up ("avx512vnni",
// "avx512", "avx2" or "generic"), for logs and telemetry.
func Implementation() string { return impl.name }

// DotProduct returns the inner product of equally long a and b.
func DotProduct(a, b []float32) float32 {
	checkLen(len(a), len(b))
	return impl.dot(a, b)
}

// SquaredL2 returns the squared Euclidean distance of equally long a and b.
func SquaredL2(a, b []float32) float32 {
	checkLen(len(a), len(b))
	return impl.l2(a, b)
}

// L1 returns the Manhattan distance of equally long a and b.
func L1(a, b []float32) float32 {
	checkLen(len(a), len(b))
	return impl.l1(a, b)
}

// DotF16 returns the inner product of equally long float16 vectors (IEEE
// binary16 bits), computed in float32 as Qdrant's float16 datatype does
// after converting the query to the storage type.
func DotF16(a, b []uint16) float32 {
	checkLen(len(a), len(b))
	return impl.dotF16(a, b)
}

// L2F16 returns the squared Euclidean distance of equally long float16
// vectors, computed in float32.
func L2F16(a, b []uint16) float32 {
	checkLen(len(a), len(b))
	return impl.l2F16(a, b)
}

// L1F16 returns the Manhattan distance of equally long float16 vectors,
// computed in float32.
func L1F16(a, b []uint16) float32 {
	checkLen(len(a), len(b))
	return impl.l1F16(a, b)
}

// u8Block bounds the uint8 kernels' inputs so that their 32-bit sums are
// exact: 65536 * 255 * 255 < 2^32.
const u8Block = 1 << 16

// DotU8 returns the exact inner product of equally long uint8 vectors.
func DotU8(a, b []uint8) uint64 { return u8Blocks(impl.dotU8, a, b) }

// L2U8 returns the exact squared Euclidean distance of equally long uint8
// vectors.
func L2U8(a, b []uint8) uint64 { return u8Blocks(impl.l2U8, a, b) }

// L1U8 returns the exact Manhattan distance of equally long uint8 vectors.
func L1U8(a, b []uint8) uint64 { return u8Blocks(impl.l1U8, a, b) }

func u8Blocks(k func(a, b []uint8) uint32, a, b []uint8) uint64 {
	checkLen(len(a), len(b))
	var s uint64
	for len(a) > u8Block {
		s += uint64(k(a[:u8Block], b[:u8Block]))
		a, b = a[u8Block:], b[u8Block:]
	}
	return s + uint64(k(a, b))
}

// checkLen panics unless b has at least len(a) elements: the assembly
// reads len(a) elements of both, and reslicing b[:len(a)] would only be
// checked against b's capacity.
func checkLen(na, nb int) {
	if nb < na {
		panic("vector: second vector shorter than the first")
	}
}
