package vector

import "math"

// Float16ToFloat32 widens IEEE 754 binary16 bits to a float32. Every half
// value is representable, so the conversion is exact; subnormal halves
// become normal floats and a NaN keeps its sign and payload.
func Float16ToFloat32(h uint16) float32 {
	// Small enough to inline (F. Giesen's half_to_float_fast5): the
	// exponent and mantissa bits, read as a float32, are the half's
	// magnitude times 2^-112 (subnormals included, as float32
	// subnormals), so one exact multiply by 2^112 rebiases them. Infinities
	// and NaNs land on 2^16 or above and get the all-ones exponent back.
	x := uint32(h)
	f := math.Float32frombits(x&0x7fff<<13) * 0x1p112
	m := math.Float32bits(f)
	if f >= 0x1p16 {
		m |= 0xff << 23
	}
	return math.Float32frombits(m | x&0x8000<<16)
}

// Float32ToFloat16 narrows f to IEEE 754 binary16 bits, rounding to
// nearest with ties to even, as F16C's VCVTPS2PH with rounding mode 0
// does. Values too large for a half become infinities, values too small
// become (signed) zero or subnormals, and a NaN stays a quiet NaN keeping
// the top of its payload.
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(man>>13)
	}
	e := exp - 127 + 15 // biased half exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal half: the value in units of 2^-24 is m>>(14-e) after
		// rounding; anything below 2^-25 rounds to zero.
		if e < -10 {
			return sign
		}
		return sign | uint16(roundShift(man|0x800000, uint32(14-e)))
	}
	// A carry out of the mantissa correctly bumps the exponent, up to
	// infinity (0x7c00) for values from 65520 on.
	return sign | uint16(roundShift(uint32(e)<<23|man, 13))
}

// roundShift returns x >> s rounded to nearest, ties to even; 0 < s < 32.
func roundShift(x, s uint32) uint32 {
	q := x >> s
	r := x & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if r > half || (r == half && q&1 != 0) {
		q++
	}
	return q
}

// EncodeF16 returns v converted to float16 bits with Float32ToFloat16.
func EncodeF16(v []float32) []uint16 {
	out := make([]uint16, len(v))
	EncodeF16To(out, v)
	return out
}

// EncodeF16To converts src into dst, which must be at least as long.
func EncodeF16To(dst []uint16, src []float32) {
	checkLen(len(src), len(dst))
	impl.encodeF16(dst[:len(src)], src)
}

// DecodeF16 returns h widened to float32 with Float16ToFloat32.
func DecodeF16(h []uint16) []float32 {
	out := make([]float32, len(h))
	for i, x := range h {
		out[i] = Float16ToFloat32(x)
	}
	return out
}
