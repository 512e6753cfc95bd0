//go:build amd64 && !purego

#include "textflag.h"
#include "reduce_amd64.h"

// The float16 kernels widen with VCVTPH2PS (F16C), which is exact, then
// run the float32 loops: 32 halves an iteration, 8 at a time, then a
// scalar (AVX2) or masked (AVX-512) tail.

// F16PAIR_Y widens 8 halves at off(SI) and off(DI) into ya and yb.
#define F16PAIR_Y(off, ya, yb) \
	VCVTPH2PS off(SI), ya; \
	VCVTPH2PS off(DI), yb

// F16ONE_X widens the half at (SI) and at (DI) into the low lanes of X4
// and X5, reading two bytes each.
#define F16ONE_X \
	VPBROADCASTW (SI), X4; \
	VPBROADCASTW (DI), X5; \
	VCVTPH2PS    X4, X4; \
	VCVTPH2PS    X5, X5

// func dotF16AVX2(a, b []uint16) float32
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JB     by8

by32:
	F16PAIR_Y(0, Y4, Y8)
	F16PAIR_Y(16, Y5, Y9)
	F16PAIR_Y(32, Y6, Y10)
	F16PAIR_Y(48, Y7, Y11)
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y9, Y5, Y1
	VFMADD231PS Y10, Y6, Y2
	VFMADD231PS Y11, Y7, Y3
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         by32

by8:
	CMPQ        CX, $8
	JB          reduce
	F16PAIR_Y(0, Y4, Y8)
	VFMADD231PS Y8, Y4, Y0
	ADDQ        $16, SI
	ADDQ        $16, DI
	SUBQ        $8, CX
	JMP         by8

reduce:
	SUM4PS_Y
	HSUMPS_Y0

by1:
	TESTQ       CX, CX
	JE          done
	F16ONE_X
	VFMADD231SS X5, X4, X0
	ADDQ        $2, SI
	ADDQ        $2, DI
	DECQ        CX
	JMP         by1

done:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func l2F16AVX2(a, b []uint16) float32
TEXT ·l2F16AVX2(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JB     by8

by32:
	F16PAIR_Y(0, Y4, Y8)
	F16PAIR_Y(16, Y5, Y9)
	F16PAIR_Y(32, Y6, Y10)
	F16PAIR_Y(48, Y7, Y11)
	VSUBPS      Y8, Y4, Y4
	VSUBPS      Y9, Y5, Y5
	VSUBPS      Y10, Y6, Y6
	VSUBPS      Y11, Y7, Y7
	VFMADD231PS Y4, Y4, Y0
	VFMADD231PS Y5, Y5, Y1
	VFMADD231PS Y6, Y6, Y2
	VFMADD231PS Y7, Y7, Y3
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         by32

by8:
	CMPQ        CX, $8
	JB          reduce
	F16PAIR_Y(0, Y4, Y8)
	VSUBPS      Y8, Y4, Y4
	VFMADD231PS Y4, Y4, Y0
	ADDQ        $16, SI
	ADDQ        $16, DI
	SUBQ        $8, CX
	JMP         by8

reduce:
	SUM4PS_Y
	HSUMPS_Y0

by1:
	TESTQ       CX, CX
	JE          done
	F16ONE_X
	VSUBSS      X5, X4, X4
	VFMADD231SS X4, X4, X0
	ADDQ        $2, SI
	ADDQ        $2, DI
	DECQ        CX
	JMP         by1

done:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func l1F16AVX2(a, b []uint16) float32
TEXT ·l1F16AVX2(SB), NOSPLIT, $0-52
	MOVQ     a_base+0(FP), SI
	MOVQ     a_len+8(FP), CX
	MOVQ     b_base+24(FP), DI
	VXORPS   Y0, Y0, Y0
	VXORPS   Y1, Y1, Y1
	VXORPS   Y2, Y2, Y2
	VXORPS   Y3, Y3, Y3
	VPCMPEQD Y12, Y12, Y12
	VPSRLD   $1, Y12, Y12  // 0x7fffffff: clears the sign
	CMPQ     CX, $32
	JB       by8

by32:
	F16PAIR_Y(0, Y4, Y8)
	F16PAIR_Y(16, Y5, Y9)
	F16PAIR_Y(32, Y6, Y10)
	F16PAIR_Y(48, Y7, Y11)
	VSUBPS Y8, Y4, Y4
	VSUBPS Y9, Y5, Y5
	VSUBPS Y10, Y6, Y6
	VSUBPS Y11, Y7, Y7
	VANDPS Y12, Y4, Y4
	VANDPS Y12, Y5, Y5
	VANDPS Y12, Y6, Y6
	VANDPS Y12, Y7, Y7
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	ADDQ   $64, SI
	ADDQ   $64, DI
	SUBQ   $32, CX
	CMPQ   CX, $32
	JAE    by32

by8:
	CMPQ   CX, $8
	JB     reduce
	F16PAIR_Y(0, Y4, Y8)
	VSUBPS Y8, Y4, Y4
	VANDPS Y12, Y4, Y4
	VADDPS Y4, Y0, Y0
	ADDQ   $16, SI
	ADDQ   $16, DI
	SUBQ   $8, CX
	JMP    by8

reduce:
	SUM4PS_Y
	HSUMPS_Y0

by1:
	TESTQ  CX, CX
	JE     done
	F16ONE_X
	VSUBSS X5, X4, X4
	VANDPS X12, X4, X4
	VADDSS X4, X0, X0
	ADDQ   $2, SI
	ADDQ   $2, DI
	DECQ   CX
	JMP    by1

done:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// The AVX-512 float16 kernels keep the 256-bit loops: on Zen 4 the
// 512-bit VCVTPH2PS is slower than two 256-bit ones (measured 25-35% at
// 784 and 1536 dimensions). What AVX-512 adds is the masked tail (AVX512BW
// and VL), which replaces up to seven scalar steps.

// F16TAIL_X widens the CX < 8 halves left at (SI) and (DI) into Y4 and
// Y5, zero elsewhere; masked loads never touch memory past the slices.
#define F16TAIL_X \
	TAILMASK32; \
	VMOVDQU16.Z (SI), K1, X4; \
	VMOVDQU16.Z (DI), K1, X5; \
	VCVTPH2PS   X4, Y4; \
	VCVTPH2PS   X5, Y5

// func dotF16AVX512(a, b []uint16) float32
TEXT ·dotF16AVX512(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JB     by8

by32:
	F16PAIR_Y(0, Y4, Y8)
	F16PAIR_Y(16, Y5, Y9)
	F16PAIR_Y(32, Y6, Y10)
	F16PAIR_Y(48, Y7, Y11)
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y9, Y5, Y1
	VFMADD231PS Y10, Y6, Y2
	VFMADD231PS Y11, Y7, Y3
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         by32

by8:
	CMPQ        CX, $8
	JB          tail
	F16PAIR_Y(0, Y4, Y8)
	VFMADD231PS Y8, Y4, Y0
	ADDQ        $16, SI
	ADDQ        $16, DI
	SUBQ        $8, CX
	JMP         by8

tail:
	TESTQ       CX, CX
	JE          reduce
	F16TAIL_X
	VFMADD231PS Y5, Y4, Y1

reduce:
	SUM4PS_Y
	HSUMPS_Y0
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func l2F16AVX512(a, b []uint16) float32
TEXT ·l2F16AVX512(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JB     by8

by32:
	F16PAIR_Y(0, Y4, Y8)
	F16PAIR_Y(16, Y5, Y9)
	F16PAIR_Y(32, Y6, Y10)
	F16PAIR_Y(48, Y7, Y11)
	VSUBPS      Y8, Y4, Y4
	VSUBPS      Y9, Y5, Y5
	VSUBPS      Y10, Y6, Y6
	VSUBPS      Y11, Y7, Y7
	VFMADD231PS Y4, Y4, Y0
	VFMADD231PS Y5, Y5, Y1
	VFMADD231PS Y6, Y6, Y2
	VFMADD231PS Y7, Y7, Y3
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         by32

by8:
	CMPQ        CX, $8
	JB          tail
	F16PAIR_Y(0, Y4, Y8)
	VSUBPS      Y8, Y4, Y4
	VFMADD231PS Y4, Y4, Y0
	ADDQ        $16, SI
	ADDQ        $16, DI
	SUBQ        $8, CX
	JMP         by8

tail:
	TESTQ       CX, CX
	JE          reduce
	F16TAIL_X
	VSUBPS      Y5, Y4, Y4
	VFMADD231PS Y4, Y4, Y1

reduce:
	SUM4PS_Y
	HSUMPS_Y0
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func l1F16AVX512(a, b []uint16) float32
TEXT ·l1F16AVX512(SB), NOSPLIT, $0-52
	MOVQ     a_base+0(FP), SI
	MOVQ     a_len+8(FP), CX
	MOVQ     b_base+24(FP), DI
	VXORPS   Y0, Y0, Y0
	VXORPS   Y1, Y1, Y1
	VXORPS   Y2, Y2, Y2
	VXORPS   Y3, Y3, Y3
	VPCMPEQD Y12, Y12, Y12
	VPSRLD   $1, Y12, Y12  // 0x7fffffff: clears the sign
	CMPQ     CX, $32
	JB       by8

by32:
	F16PAIR_Y(0, Y4, Y8)
	F16PAIR_Y(16, Y5, Y9)
	F16PAIR_Y(32, Y6, Y10)
	F16PAIR_Y(48, Y7, Y11)
	VSUBPS Y8, Y4, Y4
	VSUBPS Y9, Y5, Y5
	VSUBPS Y10, Y6, Y6
	VSUBPS Y11, Y7, Y7
	VANDPS Y12, Y4, Y4
	VANDPS Y12, Y5, Y5
	VANDPS Y12, Y6, Y6
	VANDPS Y12, Y7, Y7
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	ADDQ   $64, SI
	ADDQ   $64, DI
	SUBQ   $32, CX
	CMPQ   CX, $32
	JAE    by32

by8:
	CMPQ   CX, $8
	JB     tail
	F16PAIR_Y(0, Y4, Y8)
	VSUBPS Y8, Y4, Y4
	VANDPS Y12, Y4, Y4
	VADDPS Y4, Y0, Y0
	ADDQ   $16, SI
	ADDQ   $16, DI
	SUBQ   $8, CX
	JMP    by8

tail:
	TESTQ       CX, CX
	JE          reduce
	F16TAIL_X
	VSUBPS Y5, Y4, Y4
	VANDPS Y12, Y4, Y4
	VADDPS Y4, Y1, Y1

reduce:
	SUM4PS_Y
	HSUMPS_Y0
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func encodeF16AVX2(dst []uint16, src []float32)
// Converts the first len(src)&^7 floats, rounding to nearest even
// (immediate 0); the caller converts the rest.
TEXT ·encodeF16AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JE   done

by8:
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	DECQ      CX
	JNE       by8

done:
	VZEROUPPER
	RET
