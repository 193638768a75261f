/*
 * stack_x64.h - x64 stack unwinding from a register context, with the
 * image's own .pdata/UNWIND_INFO (read from target memory).
 *
 * Pure code: memory and unwind-data lookups go through callbacks, so the
 * walker runs the same against a live target, a crash dump or a unit test's
 * fake stack.  Nothing here prints; the commands (cmd_stack.c) format.
 */
#ifndef KDCLIENT_STACK_X64_H
#define KDCLIENT_STACK_X64_H

#include <stddef.h>
#include <stdint.h>

/* Integer registers in x64 unwind-code numbering (the same order as
 * CONTEXT.Rax..R15, which is why context conversion is a straight copy). */
enum {
	X64_RAX, X64_RCX, X64_RDX, X64_RBX, X64_RSP, X64_RBP, X64_RSI, X64_RDI,
	X64_R8, X64_R9, X64_R10, X64_R11, X64_R12, X64_R13, X64_R14, X64_R15,
};

typedef struct stack_x64_regs {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t eflags;
	uint16_t cs, ss;
	uint8_t xmm[16][16];      /* restored by SAVE_XMM128(_FAR) */
} stack_x64_regs;

/* One RUNTIME_FUNCTION, with the base of the image that holds it. */
typedef struct stack_x64_func {
	uint64_t image_base;
	uint32_t begin, end;      /* RVAs, begin <= pc - base < end */
	uint32_t unwind;          /* RVA of UNWIND_INFO */
} stack_x64_func;

typedef struct stack_x64_io {
	void *ctx;
	/* Read len bytes of (virtual) memory: 0 if all were read, else < 0. */
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	/* Unwind data for pc: 1 found (*fn filled), 0 none (leaf function or
	 * an address no known image covers), < 0 error. */
	int (*lookup)(void *ctx, uint64_t pc, stack_x64_func *fn);
	/* Optional: 1 if addr lies in code of a known image (used to check a
	 * leaf's return address and by the return-address scan). */
	int (*is_code)(void *ctx, uint64_t addr);
} stack_x64_io;

/* How the caller of a frame was found. */
typedef enum stack_how {
	STACK_HOW_NONE = 0,
	STACK_HOW_UNWIND,         /* UNWIND_INFO of the function */
	STACK_HOW_LEAF,           /* no unwind data: return address at [rsp] */
	STACK_HOW_SCAN,           /* no unwind data: return address found by scanning */
	STACK_HOW_MACHFRAME,      /* UWOP_PUSH_MACHFRAME (interrupt/trap frame) */
	STACK_HOW_EPILOG,         /* pc was in an epilogue: emulated */
	STACK_HOW_FPO,            /* x86: FPO_DATA */
	STACK_HOW_FRAMEDATA,      /* x86: frame data program */
	STACK_HOW_EBP,            /* x86: EBP chain */
} stack_how;

const char *stack_how_name(stack_how how);

/*
 * Unwind one frame in place: regs describe a frame on entry and its caller
 * on return (rip = return address, rsp = caller's stack pointer, restored
 * non-volatile registers).  *how tells which method applied.
 * Returns 0, or < 0 with a message in err (unreadable memory, malformed
 * unwind data, no way to find the caller).
 */
int stack_x64_unwind(const stack_x64_io *io, stack_x64_regs *regs,
                     int first_frame, stack_how *how, char *err, size_t errlen);

/* 1 if v is a canonical 48-bit address. */
int stack_x64_canonical(uint64_t v);

/* One frame of a walk (shared by the x86 walker). */
typedef struct stack_frame {
	uint64_t sp;              /* Child-SP (x64) / ESP (x86) of this frame */
	uint64_t fp;              /* ChildEBP (x86) / RBP */
	uint64_t pc;              /* Call Site: where this frame executes */
	uint64_t ret;             /* RetAddr: the caller's pc (0 for the last) */
	uint64_t ret_loc;         /* where RetAddr was stored, 0 if unknown */
	uint64_t args[4];         /* kb "Args to Child" */
	stack_how how;            /* how the caller (next frame) was found */
} stack_frame;

#define STACK_MAX_FRAMES 1024

/*
 * Walk from start: frames[0] is start's frame.  Stops after max frames, on
 * a null or non-canonical rip, on a stack pointer that does not grow (except
 * across a machine frame, which may switch stacks) or on an unwind error
 * (its message goes to err and *stopped_by_error is set).  regs_out, if not
 * NULL, receives each frame's registers (for .frame).
 */
int stack_x64_walk(const stack_x64_io *io, const stack_x64_regs *start,
                   stack_frame *frames, stack_x64_regs *regs_out, size_t max,
                   size_t *count, char *err, size_t errlen);

/* CONTEXT (0x4D0 bytes, fact sheet §12) <-> registers. */
void stack_x64_regs_from_context(stack_x64_regs *r, const uint8_t *raw, size_t len);
void stack_x64_regs_to_context(const stack_x64_regs *r, uint8_t *raw, size_t len);

#endif
