package vector

// The 4-bit lookup kernel scores a float32 query against 4-bit codes whose
// values are looked up in a 16-entry table: TurboQuant's codes (the turbo4
// datatype and turbo quantization with bits4) are indices into a Lloyd-Max
// codebook.
//
// Codes are packed in blocks of 32 dimensions, 16 bytes each: byte j of
// block k holds dimension 32k+j in its low nibble and 32k+16+j in its high
// nibble. Widening 8 or 16 consecutive bytes then gives the codes of 8 or
// 16 consecutive dimensions per nibble, which is what the SIMD kernels
// look up (VPERMPS) and multiply with the query in place.

// LUT4Block is the number of dimensions of one block of 4-bit codes.
const LUT4Block = 32

// LUT4Bytes is the size of the 4-bit codes of dim dimensions, padded to
// whole blocks.
func LUT4Bytes(dim int) int { return (dim + LUT4Block - 1) / LUT4Block * (LUT4Block / 2) }

// PackLUT4 packs codes (values below 16; len(codes) dimensions) into dst
// (at least LUT4Bytes(len(codes)) bytes). Dimensions past len(codes) up to
// the block end get code 0.
func PackLUT4(dst []byte, codes []uint8) {
	n := LUT4Bytes(len(codes))
	clear(dst[:n])
	for i, c := range codes {
		k, r := i/LUT4Block, i%LUT4Block
		if r < LUT4Block/2 {
			dst[k*16+r] |= c & 15
		} else {
			dst[k*16+r-16] |= (c & 15) << 4
		}
	}
}

// LUT4Code returns the code of dimension i in packed codes.
func LUT4Code(codes []byte, i int) uint8 {
	k, r := i/LUT4Block, i%LUT4Block
	if r < LUT4Block/2 {
		return codes[k*16+r] & 15
	}
	return codes[k*16+r-16] >> 4
}

// DotLUT4 returns Σ q[i]·lut[code i] over len(q) dimensions, which must be
// a multiple of LUT4Block; codes must hold at least len(q)/2 bytes packed
// as PackLUT4 does. A query padded with zeros makes the padding codes
// count for nothing.
func DotLUT4(q []float32, codes []byte, lut *[16]float32) float32 {
	if len(q)%LUT4Block != 0 {
		panic("vector: DotLUT4 query length is not a multiple of 32")
	}
	checkLen(len(q)/2, len(codes))
	return impl.dotLUT4(q, codes, lut)
}

func dotLUT4Generic(q []float32, codes []byte, lut *[16]float32) float32 {
	var s0, s1, s2, s3 float32
	for k := 0; k+LUT4Block <= len(q); k += LUT4Block {
		c := codes[k/2 : k/2+16]
		lo, hi := q[k:k+16], q[k+16:k+32]
		for j := 0; j < 16; j += 2 {
			s0 += lo[j] * lut[c[j]&15]
			s1 += hi[j] * lut[c[j]>>4]
			s2 += lo[j+1] * lut[c[j+1]&15]
			s3 += hi[j+1] * lut[c[j+1]>>4]
		}
	}
	return (s0 + s1) + (s2 + s3)
}
