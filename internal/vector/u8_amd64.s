//go:build amd64 && !purego

#include "textflag.h"
#include "reduce_amd64.h"

// The uint8 kernels. Dot and L2 widen bytes to int16 words (VPMOVZXBW),
// multiply and add pairs into int32 lanes (VPMADDWD); L1 sums absolute
// byte differences into int64 lanes (VPSADBW). The callers pass at most
// 65536 elements, so the 32-bit lanes, summed modulo 2^32, give the exact
// result.

// U8PAIR_Y widens 16 bytes at off(SI) and off(DI) into ya and yb.
#define U8PAIR_Y(off, ya, yb) \
	VPMOVZXBW off(SI), ya; \
	VPMOVZXBW off(DI), yb

// U8ONE loads the byte at (SI) into DX and the byte at (DI) into BX.
#define U8ONE \
	MOVBLZX (SI), DX; \
	MOVBLZX (DI), BX

// func dotU8AVX2(a, b []uint8) uint32
TEXT ·dotU8AVX2(SB), NOSPLIT, $0-52
	MOVQ  a_base+0(FP), SI
	MOVQ  a_len+8(FP), CX
	MOVQ  b_base+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	CMPQ  CX, $64
	JB    by16

by64:
	U8PAIR_Y(0, Y4, Y8)
	U8PAIR_Y(16, Y5, Y9)
	U8PAIR_Y(32, Y6, Y10)
	U8PAIR_Y(48, Y7, Y11)
	VPMADDWD Y8, Y4, Y4
	VPMADDWD Y9, Y5, Y5
	VPMADDWD Y10, Y6, Y6
	VPMADDWD Y11, Y7, Y7
	VPADDD   Y4, Y0, Y0
	VPADDD   Y5, Y1, Y1
	VPADDD   Y6, Y2, Y2
	VPADDD   Y7, Y3, Y3
	ADDQ     $64, SI
	ADDQ     $64, DI
	SUBQ     $64, CX
	CMPQ     CX, $64
	JAE      by64

by16:
	CMPQ     CX, $16
	JB       reduce
	U8PAIR_Y(0, Y4, Y8)
	VPMADDWD Y8, Y4, Y4
	VPADDD   Y4, Y0, Y0
	ADDQ     $16, SI
	ADDQ     $16, DI
	SUBQ     $16, CX
	JMP      by16

reduce:
	VPADDD Y1, Y0, Y0
	VPADDD Y3, Y2, Y2
	VPADDD Y2, Y0, Y0
	HSUMD_Y0
	VMOVD  X0, AX

by1:
	TESTQ CX, CX
	JE    done
	U8ONE
	IMULL BX, DX
	ADDL  DX, AX
	INCQ  SI
	INCQ  DI
	DECQ  CX
	JMP   by1

done:
	VZEROUPPER
	MOVL AX, ret+48(FP)
	RET

// func l2U8AVX2(a, b []uint8) uint32
TEXT ·l2U8AVX2(SB), NOSPLIT, $0-52
	MOVQ  a_base+0(FP), SI
	MOVQ  a_len+8(FP), CX
	MOVQ  b_base+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	CMPQ  CX, $64
	JB    by16

by64:
	U8PAIR_Y(0, Y4, Y8)
	U8PAIR_Y(16, Y5, Y9)
	U8PAIR_Y(32, Y6, Y10)
	U8PAIR_Y(48, Y7, Y11)
	VPSUBW   Y8, Y4, Y4
	VPSUBW   Y9, Y5, Y5
	VPSUBW   Y10, Y6, Y6
	VPSUBW   Y11, Y7, Y7
	VPMADDWD Y4, Y4, Y4
	VPMADDWD Y5, Y5, Y5
	VPMADDWD Y6, Y6, Y6
	VPMADDWD Y7, Y7, Y7
	VPADDD   Y4, Y0, Y0
	VPADDD   Y5, Y1, Y1
	VPADDD   Y6, Y2, Y2
	VPADDD   Y7, Y3, Y3
	ADDQ     $64, SI
	ADDQ     $64, DI
	SUBQ     $64, CX
	CMPQ     CX, $64
	JAE      by64

by16:
	CMPQ     CX, $16
	JB       reduce
	U8PAIR_Y(0, Y4, Y8)
	VPSUBW   Y8, Y4, Y4
	VPMADDWD Y4, Y4, Y4
	VPADDD   Y4, Y0, Y0
	ADDQ     $16, SI
	ADDQ     $16, DI
	SUBQ     $16, CX
	JMP      by16

reduce:
	VPADDD Y1, Y0, Y0
	VPADDD Y3, Y2, Y2
	VPADDD Y2, Y0, Y0
	HSUMD_Y0
	VMOVD  X0, AX

by1:
	TESTQ CX, CX
	JE    done
	U8ONE
	SUBL  BX, DX
	IMULL DX, DX
	ADDL  DX, AX
	INCQ  SI
	INCQ  DI
	DECQ  CX
	JMP   by1

done:
	VZEROUPPER
	MOVL AX, ret+48(FP)
	RET

// func l1U8AVX2(a, b []uint8) uint32
TEXT ·l1U8AVX2(SB), NOSPLIT, $0-52
	MOVQ  a_base+0(FP), SI
	MOVQ  a_len+8(FP), CX
	MOVQ  b_base+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	CMPQ  CX, $128
	JB    by32

by128:
	VMOVDQU (SI), Y4
	VMOVDQU 32(SI), Y5
	VMOVDQU 64(SI), Y6
	VMOVDQU 96(SI), Y7
	VPSADBW (DI), Y4, Y4
	VPSADBW 32(DI), Y5, Y5
	VPSADBW 64(DI), Y6, Y6
	VPSADBW 96(DI), Y7, Y7
	VPADDQ  Y4, Y0, Y0
	VPADDQ  Y5, Y1, Y1
	VPADDQ  Y6, Y2, Y2
	VPADDQ  Y7, Y3, Y3
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     by128

by32:
	CMPQ    CX, $32
	JB      reduce
	VMOVDQU (SI), Y4
	VPSADBW (DI), Y4, Y4
	VPADDQ  Y4, Y0, Y0
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     by32

reduce:
	VPADDQ Y1, Y0, Y0
	VPADDQ Y3, Y2, Y2
	VPADDQ Y2, Y0, Y0
	HSUMQ_Y0
	VMOVQ  X0, AX

by1:
	TESTQ   CX, CX
	JE      done
	U8ONE
	SUBL    BX, DX
	MOVL    DX, BX
	NEGL    DX
	CMOVLLT BX, DX // |a-b|
	ADDL    DX, AX
	INCQ    SI
	INCQ    DI
	DECQ    CX
	JMP     by1

done:
	VZEROUPPER
	MOVL AX, ret+48(FP)
	RET

// U8PAIR_Z widens 32 bytes at off(SI) and off(DI) into za and zb.
#define U8PAIR_Z(off, za, zb) \
	VPMOVZXBW off(SI), za; \
	VPMOVZXBW off(DI), zb

// U8TAIL_Z widens the CX < 32 bytes left at (SI) and (DI) into Z4 and Z8,
// zero elsewhere; masked loads never touch memory past the slices.
#define U8TAIL_Z \
	TAILMASK32; \
	VMOVDQU8.Z (SI), K1, Z4; \
	VMOVDQU8.Z (DI), K1, Z8; \
	VPMOVZXBW  Y4, Z4; \
	VPMOVZXBW  Y8, Z8

// SUM4D_Z folds the int32 accumulators Z0..Z3 into Y0.
#define SUM4D_Z \
	VPADDD         Z1, Z0, Z0; \
	VPADDD         Z3, Z2, Z2; \
	VPADDD         Z2, Z0, Z0; \
	VEXTRACTI64X4  $1, Z0, Y1; \
	VPADDD         Y1, Y0, Y0

// func dotU8AVX512(a, b []uint8) uint32
TEXT ·dotU8AVX512(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ   CX, $128
	JB     by32

by128:
	U8PAIR_Z(0, Z4, Z8)
	U8PAIR_Z(32, Z5, Z9)
	U8PAIR_Z(64, Z6, Z10)
	U8PAIR_Z(96, Z7, Z11)
	VPMADDWD Z8, Z4, Z4
	VPMADDWD Z9, Z5, Z5
	VPMADDWD Z10, Z6, Z6
	VPMADDWD Z11, Z7, Z7
	VPADDD   Z4, Z0, Z0
	VPADDD   Z5, Z1, Z1
	VPADDD   Z6, Z2, Z2
	VPADDD   Z7, Z3, Z3
	ADDQ     $128, SI
	ADDQ     $128, DI
	SUBQ     $128, CX
	CMPQ     CX, $128
	JAE      by128

by32:
	CMPQ     CX, $32
	JB       tail
	U8PAIR_Z(0, Z4, Z8)
	VPMADDWD Z8, Z4, Z4
	VPADDD   Z4, Z0, Z0
	ADDQ     $32, SI
	ADDQ     $32, DI
	SUBQ     $32, CX
	JMP      by32

tail:
	TESTQ    CX, CX
	JE       reduce
	U8TAIL_Z
	VPMADDWD Z8, Z4, Z4
	VPADDD   Z4, Z1, Z1

reduce:
	SUM4D_Z
	HSUMD_Y0
	VMOVD X0, AX
	VZEROUPPER
	MOVL  AX, ret+48(FP)
	RET

// func l2U8AVX512(a, b []uint8) uint32
TEXT ·l2U8AVX512(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ   CX, $128
	JB     by32

by128:
	U8PAIR_Z(0, Z4, Z8)
	U8PAIR_Z(32, Z5, Z9)
	U8PAIR_Z(64, Z6, Z10)
	U8PAIR_Z(96, Z7, Z11)
	VPSUBW   Z8, Z4, Z4
	VPSUBW   Z9, Z5, Z5
	VPSUBW   Z10, Z6, Z6
	VPSUBW   Z11, Z7, Z7
	VPMADDWD Z4, Z4, Z4
	VPMADDWD Z5, Z5, Z5
	VPMADDWD Z6, Z6, Z6
	VPMADDWD Z7, Z7, Z7
	VPADDD   Z4, Z0, Z0
	VPADDD   Z5, Z1, Z1
	VPADDD   Z6, Z2, Z2
	VPADDD   Z7, Z3, Z3
	ADDQ     $128, SI
	ADDQ     $128, DI
	SUBQ     $128, CX
	CMPQ     CX, $128
	JAE      by128

by32:
	CMPQ     CX, $32
	JB       tail
	U8PAIR_Z(0, Z4, Z8)
	VPSUBW   Z8, Z4, Z4
	VPMADDWD Z4, Z4, Z4
	VPADDD   Z4, Z0, Z0
	ADDQ     $32, SI
	ADDQ     $32, DI
	SUBQ     $32, CX
	JMP      by32

tail:
	TESTQ    CX, CX
	JE       reduce
	U8TAIL_Z
	VPSUBW   Z8, Z4, Z4
	VPMADDWD Z4, Z4, Z4
	VPADDD   Z4, Z1, Z1

reduce:
	SUM4D_Z
	HSUMD_Y0
	VMOVD X0, AX
	VZEROUPPER
	MOVL  AX, ret+48(FP)
	RET

// func l1U8AVX512(a, b []uint8) uint32
TEXT ·l1U8AVX512(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ   CX, $256
	JB     by64

by256:
	VMOVDQU8 (SI), Z4
	VMOVDQU8 64(SI), Z5
	VMOVDQU8 128(SI), Z6
	VMOVDQU8 192(SI), Z7
	VPSADBW  (DI), Z4, Z4
	VPSADBW  64(DI), Z5, Z5
	VPSADBW  128(DI), Z6, Z6
	VPSADBW  192(DI), Z7, Z7
	VPADDQ   Z4, Z0, Z0
	VPADDQ   Z5, Z1, Z1
	VPADDQ   Z6, Z2, Z2
	VPADDQ   Z7, Z3, Z3
	ADDQ     $256, SI
	ADDQ     $256, DI
	SUBQ     $256, CX
	CMPQ     CX, $256
	JAE      by256

by64:
	CMPQ     CX, $64
	JB       tail
	VMOVDQU8 (SI), Z4
	VPSADBW  (DI), Z4, Z4
	VPADDQ   Z4, Z0, Z0
	ADDQ     $64, SI
	ADDQ     $64, DI
	SUBQ     $64, CX
	JMP      by64

tail:
	TESTQ      CX, CX
	JE         reduce
	TAILMASK64
	VMOVDQU8.Z (SI), K1, Z4
	VMOVDQU8.Z (DI), K1, Z5
	VPSADBW    Z5, Z4, Z4
	VPADDQ     Z4, Z1, Z1

reduce:
	VPADDQ        Z1, Z0, Z0
	VPADDQ        Z3, Z2, Z2
	VPADDQ        Z2, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDQ        Y1, Y0, Y0
	HSUMQ_Y0
	VMOVQ         X0, AX
	VZEROUPPER
	MOVL          AX, ret+48(FP)
	RET

// VNNIPAIR adds 64 byte pairs at off(SI), off(DI) into the int32 lanes of
// acc as a·(b-128) (VPDPBUSD multiplies unsigned by signed bytes; Z20
// holds 0x80 bytes, so b XOR 0x80 is b-128) and the bytes of a into sum
// (Z21 holds 1 bytes); the caller adds 128·Σa back.
#define VNNIPAIR(off, za, zb, acc, sum) \
	VMOVDQU8 off(SI), za; \
	VPXORD   off(DI), Z20, zb; \
	VPDPBUSD zb, za, acc; \
	VPDPBUSD Z21, za, sum

// func dotU8VNNI(a, b []uint8) uint32
TEXT ·dotU8VNNI(SB), NOSPLIT, $0-52
	MOVQ         a_base+0(FP), SI
	MOVQ         a_len+8(FP), CX
	MOVQ         b_base+24(FP), DI
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z12, Z12, Z12
	VPXORD       Z13, Z13, Z13
	MOVL         $0x80808080, AX
	VPBROADCASTD AX, Z20
	MOVL         $0x01010101, AX
	VPBROADCASTD AX, Z21
	CMPQ         CX, $256
	JB           by64

by256:
	VNNIPAIR(0, Z4, Z8, Z0, Z12)
	VNNIPAIR(64, Z5, Z9, Z1, Z13)
	VNNIPAIR(128, Z6, Z10, Z2, Z12)
	VNNIPAIR(192, Z7, Z11, Z3, Z13)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $256, CX
	CMPQ CX, $256
	JAE  by256

by64:
	CMPQ CX, $64
	JB   tail
	VNNIPAIR(0, Z4, Z8, Z0, Z12)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $64, CX
	JMP  by64

tail:
	TESTQ      CX, CX
	JE         reduce
	TAILMASK64
	VMOVDQU8.Z (SI), K1, Z4 // a = 0 past the end, so b's value is moot
	VMOVDQU8.Z (DI), K1, Z8
	VPXORD     Z8, Z20, Z8
	VPDPBUSD   Z8, Z4, Z1
	VPDPBUSD   Z21, Z4, Z13

reduce:
	VPADDD        Z13, Z12, Z12
	VPSLLD        $7, Z12, Z12 // 128·Σa
	VPADDD        Z12, Z0, Z0
	SUM4D_Z
	HSUMD_Y0
	VMOVD         X0, AX
	VZEROUPPER
	MOVL          AX, ret+48(FP)
	RET
