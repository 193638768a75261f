/*
 * stack_kd.h - the stack walkers (stack_x64.h, stack_x86.h) bound to a
 * session: memory through the current view target (with a small block
 * cache so that one walk reads each stack/unwind block once), unwind data
 * from the module set's images, FPO/frame data from their PDBs.
 */
#ifndef KDCLIENT_STACK_KD_H
#define KDCLIENT_STACK_KD_H

#include <stddef.h>
#include "command.h"
#include "stack_x64.h"

/* Walk from ctx (NULL: the session's current context).  ctx_out, when not
 * NULL, receives each frame's registers as a full context (max entries).
 * Returns 0 with *count >= 1, or negative after filling err (no context). */
int stack_kd_walk(kd_session *s, const kd_context *ctx, stack_frame *frames, kd_context *ctx_out,
                  size_t max, size_t *count, char *err, size_t errlen);

/* Print a walk in WinDbg's columns.  opts: letters of the k command
 * (b = args, v = verbose, c = call site only, p = params, n = numbers;
 * numbers are always shown). */
typedef struct stack_print_opts {
	int args, verbose, call_only, params;
	size_t first_number;        /* number of frames[0] (for .frame) */
	int no_numbers;             /* thread stacks inside !process / !thread */
	const char *indent;         /* prefix of every line, NULL = none */
	int quiet;                  /* no "Frame IP not in any known module" line (.frame) */
} stack_print_opts;
void stack_kd_print(kd_session *s, const stack_frame *frames, size_t count,
                    const stack_print_opts *o);
void stack_kd_print_header(kd_session *s, const stack_print_opts *o);

/* Starting context of a thread that is not running: KTHREAD.KernelStack
 * points at a KSWITCH_FRAME (x64: Rbp at +0x30, return address at +0x38,
 * the caller's stack at +0x40). */
int stack_kd_thread_context(kd_session *s, uint64_t kernel_stack, kd_context *out);

/* KTRAP_FRAME (x64) at addr -> context (for .trap and walks that cross a
 * system call); offsets from nt's _KTRAP_FRAME type, else the Windows 8+
 * layout. */
int stack_kd_trap_context(kd_session *s, uint64_t addr, kd_context *out, char *err, size_t errlen);

#endif
