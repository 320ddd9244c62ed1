#include "textflag.h"

// func Syscall(nr, a1, a2, a3, a4, a5, a6 uint32) int32
//
// The i386 convention: number in EAX, arguments in EBX, ECX, EDX, ESI, EDI
// and EBP, result in EAX. BP is Go's frame pointer, so it is kept in R12,
// which int $0x80 preserves (it only clears R8 to R11).
TEXT ·Syscall(SB), NOSPLIT, $0-36
	MOVL nr+0(FP), AX
	MOVL a1+4(FP), BX
	MOVL a2+8(FP), CX
	MOVL a3+12(FP), DX
	MOVL a4+16(FP), SI
	MOVL a5+20(FP), DI
	MOVQ BP, R12
	MOVL a6+24(FP), BP
	INT  $0x80
	MOVQ R12, BP
	MOVL AX, ret+32(FP)
	RET
