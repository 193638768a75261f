/*
 * stack_x86.h - 32-bit x86 stack walking: EBP chains, old FPO records
 * (FPO_DATA) and new FPO frame data with its postfix program, through
 * callbacks (memory, frame information from the PDB), like stack_x64.h.
 */
#ifndef KDCLIENT_STACK_X86_H
#define KDCLIENT_STACK_X86_H

#include <stddef.h>
#include <stdint.h>
#include "stack_x64.h"   /* stack_frame, stack_how */

/* Integer registers in CodeView order (CV_REG_EAX = 17 ... CV_REG_EDI = 24). */
enum { X86_EAX, X86_ECX, X86_EDX, X86_EBX, X86_ESP, X86_EBP, X86_ESI, X86_EDI };

typedef struct stack_x86_regs {
	uint32_t gpr[8];
	uint32_t eip;
	uint32_t eflags;
} stack_x86_regs;

/* FPO_DATA (old FPO). */
typedef struct stack_x86_fpo {
	uint32_t start;          /* virtual address of the function */
	uint32_t size;
	uint32_t locals;         /* cdwLocals: DWORDs */
	uint32_t params;         /* cdwParams: DWORDs */
	uint32_t prolog;         /* cbProlog: bytes */
	uint32_t saved_regs;     /* cbRegs: count of saved registers */
	int uses_bp;             /* fUseBP */
	unsigned frame_type;     /* cbFrame: 0 FPO, 1 TRAP, 2 TSS, 3 NONFPO */
} stack_x86_fpo;

/* FRAMEDATA (new FPO) with its program string. */
typedef struct stack_x86_framedata {
	uint32_t start;          /* virtual address of the range */
	uint32_t code_size;
	uint32_t locals_size;    /* bytes */
	uint32_t params_size;    /* bytes */
	uint32_t saved_regs_size;
	uint32_t prolog_size;
	int function_start;      /* the record starts at the function's entry */
	const char *program;     /* may be NULL */
} stack_x86_framedata;

typedef struct stack_x86_io {
	void *ctx;
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	/* 1 found, 0 none, < 0 error; either may be NULL. */
	int (*find_frame_data)(void *ctx, uint32_t pc, stack_x86_framedata *out);
	int (*find_fpo)(void *ctx, uint32_t pc, stack_x86_fpo *out);
	/* Optional: 1 if addr is in code of a known image (.raSearch). */
	int (*is_code)(void *ctx, uint64_t addr);
} stack_x86_io;

/*
 * Evaluate a frame-data program ("$T0 $ebp = $eip $T0 4 + ^ = ...") for the
 * frame in *regs: on success *regs holds the caller's registers.
 * ra_search_start is where .raSearch begins looking for the return address.
 * Registers may be named ($ebp) or given as CodeView numbers ($22).
 */
int stack_x86_eval_program(const stack_x86_io *io, const char *program,
                           stack_x86_regs *regs, const stack_x86_framedata *fd,
                           uint32_t ra_search_start, char *err, size_t errlen);

/* One frame up; callee_params is the byte count of the parameters the frame
 * below pushed (still on the stack at a call site), 0 for the first frame. */
int stack_x86_unwind(const stack_x86_io *io, stack_x86_regs *regs, int exact_pc,
                     uint32_t callee_params, stack_how *how, uint32_t *params_out,
                     char *err, size_t errlen);

int stack_x86_walk(const stack_x86_io *io, const stack_x86_regs *start,
                   stack_frame *frames, stack_x86_regs *regs_out, size_t max,
                   size_t *count, char *err, size_t errlen);

/* x86 CONTEXT (0x2CC bytes, fact sheet §12) <-> registers. */
void stack_x86_regs_from_context(stack_x86_regs *r, const uint8_t *raw, size_t len);
void stack_x86_regs_to_context(const stack_x86_regs *r, uint8_t *raw, size_t len);

#endif
