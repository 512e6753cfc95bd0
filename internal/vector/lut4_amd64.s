//go:build amd64 && !purego

#include "textflag.h"
#include "reduce_amd64.h"

// The 4-bit lookup kernels (lut4.go). Bytes are widened to int32 lanes
// (VPMOVZXBD), split into low and high nibbles, and the nibbles index the
// 16-float table with VPERMPS: AVX2 holds the table in two registers of 8
// and picks between them by bit 3 (VBLENDVPS on the nibble shifted into
// the sign bit); AVX-512 holds all 16 in one register. The looked-up
// values then meet the query with FMAs. len(q) is a multiple of 32.

// LUT4_HALF_Y looks up the 8 nibbles in idx (int32 lanes) into dst,
// using Y14 (entries 0-7), Y15 (entries 8-15); it clobbers tmp and sel.
#define LUT4_HALF_Y(idx, dst, tmp, sel) \
	VPERMPS   Y14, idx, dst; \
	VPERMPS   Y15, idx, tmp; \
	VPSLLD    $28, idx, sel; \
	VBLENDVPS sel, tmp, dst, dst

// func dotLUT4AVX2(q []float32, codes []byte, lut *[16]float32) float32
TEXT ·dotLUT4AVX2(SB), NOSPLIT, $0-60
	MOVQ         q_base+0(FP), SI
	MOVQ         q_len+8(FP), CX
	MOVQ         codes_base+24(FP), DI
	MOVQ         lut+48(FP), AX
	VMOVUPS      (AX), Y14
	VMOVUPS      32(AX), Y15
	MOVL         $15, DX
	VMOVD        DX, X13
	VPBROADCASTD X13, Y13
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	SHRQ         $5, CX
	JZ           reduce

block:
	// Bytes 0-7: dimensions 0-7 (low nibbles) and 16-23 (high).
	VPMOVZXBD   (DI), Y4
	VPAND       Y13, Y4, Y5
	VPSRLD      $4, Y4, Y6
	LUT4_HALF_Y(Y5, Y7, Y8, Y9)
	VFMADD231PS (SI), Y7, Y0
	LUT4_HALF_Y(Y6, Y10, Y11, Y12)
	VFMADD231PS 64(SI), Y10, Y1
	// Bytes 8-15: dimensions 8-15 and 24-31.
	VPMOVZXBD   8(DI), Y4
	VPAND       Y13, Y4, Y5
	VPSRLD      $4, Y4, Y6
	LUT4_HALF_Y(Y5, Y7, Y8, Y9)
	VFMADD231PS 32(SI), Y7, Y2
	LUT4_HALF_Y(Y6, Y10, Y11, Y12)
	VFMADD231PS 96(SI), Y10, Y3
	ADDQ        $16, DI
	ADDQ        $128, SI
	DECQ        CX
	JNZ         block

reduce:
	SUM4PS_Y
	HSUMPS_Y0
	VZEROUPPER
	MOVSS X0, ret+56(FP)
	RET

// func dotLUT4AVX512(q []float32, codes []byte, lut *[16]float32) float32
TEXT ·dotLUT4AVX512(SB), NOSPLIT, $0-60
	MOVQ         q_base+0(FP), SI
	MOVQ         q_len+8(FP), CX
	MOVQ         codes_base+24(FP), DI
	MOVQ         lut+48(FP), AX
	VMOVUPS      (AX), Z14
	MOVL         $15, DX
	VMOVD        DX, X13
	VPBROADCASTD X13, Z13
	VXORPS       Z0, Z0, Z0
	VXORPS       Z1, Z1, Z1
	VXORPS       Z2, Z2, Z2
	VXORPS       Z3, Z3, Z3
	SHRQ         $5, CX
	CMPQ         CX, $2
	JB           by1

by2:
	// Two blocks: 16 bytes each, dimensions 0-15 (low) and 16-31 (high).
	VPMOVZXBD   (DI), Z4
	VPMOVZXBD   16(DI), Z8
	VPANDD      Z13, Z4, Z5
	VPSRLD      $4, Z4, Z6
	VPANDD      Z13, Z8, Z9
	VPSRLD      $4, Z8, Z10
	VPERMPS     Z14, Z5, Z5
	VPERMPS     Z14, Z6, Z6
	VPERMPS     Z14, Z9, Z9
	VPERMPS     Z14, Z10, Z10
	VFMADD231PS (SI), Z5, Z0
	VFMADD231PS 64(SI), Z6, Z1
	VFMADD231PS 128(SI), Z9, Z2
	VFMADD231PS 192(SI), Z10, Z3
	ADDQ        $32, DI
	ADDQ        $256, SI
	SUBQ        $2, CX
	CMPQ        CX, $2
	JAE         by2

by1:
	TESTQ       CX, CX
	JE          reduce
	VPMOVZXBD   (DI), Z4
	VPANDD      Z13, Z4, Z5
	VPSRLD      $4, Z4, Z6
	VPERMPS     Z14, Z5, Z5
	VPERMPS     Z14, Z6, Z6
	VFMADD231PS (SI), Z5, Z0
	VFMADD231PS 64(SI), Z6, Z1

reduce:
	SUM4PS_Z
	HSUMPS_Y0
	VZEROUPPER
	MOVSS X0, ret+56(FP)
	RET
