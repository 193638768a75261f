/*
 * swapctx.S - KiSwapContext, SwapContext and KiStartSystemThread, with x64
 * unwind info.
 *
 * A blocked thread's saved stack must unwind like a Windows one:
 * SwapContext <- KiSwapContext <- KiSwapThread <- KeWaitForSingleObject <-
 * routine <- KiStartSystemThread, ending in a zero return address.  All
 * three functions use .seh_* directives, so lld-link puts them in
 * .pdata/.xdata and a debugger unwinds them with the ordinary x64 unwind
 * codes (no frame pointer needed):
 *   KiSwapContext: 8 pushes (UWOP_PUSH_NONVOL), a 0xA8-byte allocation
 *     (UWOP_ALLOC_LARGE) and xmm6-xmm15 saved at rsp+0x00..0x90
 *     (UWOP_SAVE_XMM128): every Windows x64 callee-saved register.
 *   SwapContext: a 0x38-byte allocation and rbp saved at +0x30, i.e. the
 *     _KSWITCH_FRAME that KTHREAD.KernelStack points at.  Its return address
 *     (KSWITCH_FRAME.Return, KernelStack+0x38) is inside KiSwapContext, after
 *     its prologue, so "Rip = Return, Rsp = KernelStack+0x40" is a valid
 *     starting point for the unwinder (what WinDbg does on Windows).
 *   KiStartSystemThread: one 0x20-byte allocation; the slot above it holds 0.
 */
#include "ntdefs.h"

    .text

/* void KiSwapContext(KTHREAD *OldThread (rcx), KTHREAD *NewThread (rdx)) */
    .globl KiSwapContext
    .p2align 4
    .def KiSwapContext; .scl 2; .type 32; .endef
KiSwapContext:
    .seh_proc KiSwapContext
    pushq %rbp
    .seh_pushreg %rbp
    pushq %rbx
    .seh_pushreg %rbx
    pushq %rdi
    .seh_pushreg %rdi
    pushq %rsi
    .seh_pushreg %rsi
    pushq %r12
    .seh_pushreg %r12
    pushq %r13
    .seh_pushreg %r13
    pushq %r14
    .seh_pushreg %r14
    pushq %r15
    .seh_pushreg %r15
    subq $0xA8, %rsp
    .seh_stackalloc 0xA8
    movups %xmm6, 0x00(%rsp)
    .seh_savexmm %xmm6, 0x00
    movups %xmm7, 0x10(%rsp)
    .seh_savexmm %xmm7, 0x10
    movups %xmm8, 0x20(%rsp)
    .seh_savexmm %xmm8, 0x20
    movups %xmm9, 0x30(%rsp)
    .seh_savexmm %xmm9, 0x30
    movups %xmm10, 0x40(%rsp)
    .seh_savexmm %xmm10, 0x40
    movups %xmm11, 0x50(%rsp)
    .seh_savexmm %xmm11, 0x50
    movups %xmm12, 0x60(%rsp)
    .seh_savexmm %xmm12, 0x60
    movups %xmm13, 0x70(%rsp)
    .seh_savexmm %xmm13, 0x70
    movups %xmm14, 0x80(%rsp)
    .seh_savexmm %xmm14, 0x80
    movups %xmm15, 0x90(%rsp)
    .seh_savexmm %xmm15, 0x90
    .seh_endprologue

    callq SwapContext

    movups 0x00(%rsp), %xmm6
    movups 0x10(%rsp), %xmm7
    movups 0x20(%rsp), %xmm8
    movups 0x30(%rsp), %xmm9
    movups 0x40(%rsp), %xmm10
    movups 0x50(%rsp), %xmm11
    movups 0x60(%rsp), %xmm12
    movups 0x70(%rsp), %xmm13
    movups 0x80(%rsp), %xmm14
    movups 0x90(%rsp), %xmm15
    addq $0xA8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rsi
    popq %rdi
    popq %rbx
    popq %rbp
    retq
    .seh_endproc

/* SwapContext(Old (rcx), New (rdx)): the stack switch proper.  Builds the
 * _KSWITCH_FRAME, saves RSP in Old->KernelStack and returns on New's stack. */
    .globl SwapContext
    .p2align 4
    .def SwapContext; .scl 2; .type 32; .endef
SwapContext:
    .seh_proc SwapContext
    subq $0x38, %rsp
    .seh_stackalloc 0x38
    movq %rbp, 0x30(%rsp)
    .seh_savereg %rbp, 0x30
    .seh_endprologue
    movq %rsp, KTHREAD_KernelStack(%rcx)
    movq KTHREAD_KernelStack(%rdx), %rsp
    movq 0x30(%rsp), %rbp
    addq $0x38, %rsp
    retq
    .seh_endproc

/* First code of every new thread: SwapContext "returns" here (its
 * KSWITCH_FRAME.Return) with rsp at a _KSTART_FRAME: [rsp] = 0 (ends a stack
 * walk), [rsp+8] = StartRoutine, [rsp+0x10] = StartContext. */
    .globl KiStartSystemThread
    .p2align 4
    .def KiStartSystemThread; .scl 2; .type 32; .endef
KiStartSystemThread:
    .seh_proc KiStartSystemThread
    subq $0x20, %rsp
    .seh_stackalloc 0x20
    .seh_endprologue
    sti
    movq 0x30(%rsp), %rcx
    callq *0x28(%rsp)
    callq PspTerminateSystemThread
    int3
    nop
    .seh_endproc
