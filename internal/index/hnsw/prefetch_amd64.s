#include "textflag.h"

// func prefetchRows(base unsafe.Pointer, rowBytes uintptr, lines int, ids []uint32)
TEXT ·prefetchRows(SB), NOSPLIT, $0-48
	MOVQ base+0(FP), SI
	MOVQ rowBytes+8(FP), DX
	MOVQ lines+16(FP), R8
	MOVQ ids_base+24(FP), DI
	MOVQ ids_len+32(FP), CX
	TESTQ CX, CX
	JZ done
	TESTQ R8, R8
	JZ done

row:
	MOVL (DI), AX
	IMULQ DX, AX
	ADDQ SI, AX
	MOVQ R8, BX

line:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	DECQ BX
	JNZ line
	ADDQ $4, DI
	DECQ CX
	JNZ row

done:
	RET
