/*
 * syscall.S - the user/kernel boundary: KiSystemCall64 (the LSTAR target)
 * and KiStartUserThread (a new user thread's first trip to ring 3).
 *
 * User threads really run their exe and ntdll code in ring 3 until their
 * first system call blocks, so their saved kernel stacks continue into user
 * mode like Windows ones:
 *   ... KeWaitForSingleObject <- NtWaitForSingleObject <-
 *   KiSystemServiceCopyEnd (trap frame) <- ntdll!NtWaitForSingleObject <-
 *   app!AppServiceLoop <- app!wmainCRTStartup <- ntdll!RtlUserThreadStart
 * KiSystemCall64's unwind info is UWOP_PUSH_MACHFRAME + UWOP_ALLOC_LARGE
 * 0x168 (declared with an empty prologue, as the code before the call is not
 * a normal prologue): at the service call RSP is the _KTRAP_FRAME, so the
 * unwinder adds 0x168 and pops the machine frame (Rip, SegCs, EFlags, Rsp,
 * SegSs at KTRAP_FRAME+0x168) to land on the user RIP/RSP.
 */
#include "ntdefs.h"

    .text

    .globl KiSystemCall64
    .p2align 4
    .def KiSystemCall64; .scl 2; .type 32; .endef
KiSystemCall64:
    .seh_proc KiSystemCall64
    .seh_pushframe
    .seh_stackalloc 0x168
    .seh_endprologue
    swapgs                                  /* GS = KPCR */
    movq %rsp, %gs:KPCR_UserRsp
    movq %gs:KPCR_Prcb_RspBase, %rsp        /* top of this thread's kernel stack */
    subq $KTRAP_FRAME_SIZE, %rsp
    movq %rcx, KTRAP_Rip(%rsp)
    movq $0x33, KTRAP_SegCs(%rsp)
    movq %r11, KTRAP_EFlags(%rsp)
    movq %gs:KPCR_UserRsp, %rcx
    movq %rcx, KTRAP_Rsp(%rsp)
    movq $0x2B, KTRAP_SegSs(%rsp)
    movq %rax, KTRAP_Rax(%rsp)
    movq %r10, KTRAP_Rcx(%rsp)
    movq %rdx, KTRAP_Rdx(%rsp)
    movq %r8, KTRAP_R8(%rsp)
    movq %r9, KTRAP_R9(%rsp)
    movq %rbx, KTRAP_Rbx(%rsp)
    movq %rdi, KTRAP_Rdi(%rsp)
    movq %rsi, KTRAP_Rsi(%rsp)
    movq %rbp, KTRAP_Rbp(%rsp)
    movb $1, KTRAP_PreviousMode(%rsp)       /* UserMode */
    sti
    movl %eax, %eax
    cmpq KiServiceLimit(%rip), %rax
    jae 1f
    leaq KiServiceTable(%rip), %r11
    movq (%r11,%rax,8), %r11
    testq %r11, %r11
    jz 1f
    movq %r10, %rcx
    .globl KiSystemServiceCopyEnd
KiSystemServiceCopyEnd:
    callq *%r11
    jmp 2f
1:  movl $0xC000001C, %eax                  /* STATUS_INVALID_SYSTEM_SERVICE */
2:  cli
    movq KTRAP_Rip(%rsp), %rcx
    movq KTRAP_EFlags(%rsp), %r11
    movq KTRAP_Rsp(%rsp), %rsp
    swapgs                                  /* GS = TEB */
    sysretq
    .seh_endproc

/* First code of a user thread: SwapContext returns here with a
 * _KSTART_FRAME at RSP; enter ring 3 at ntdll!RtlUserThreadStart(entry, peb)
 * on the user stack.  KERNEL_GS_BASE holds the TEB (set at the switch). */
    .globl KiStartUserThread
    .p2align 4
    .def KiStartUserThread; .scl 2; .type 32; .endef
KiStartUserThread:
    .seh_proc KiStartUserThread
    .seh_endprologue
    cli
    movq 0x08(%rsp), %rcx
    movq 0x10(%rsp), %rdx
    movq 0x18(%rsp), %r8
    movq 0x20(%rsp), %r9
    pushq $0x2B
    pushq %r8
    pushq $0x202
    pushq $0x33
    pushq %r9
    swapgs
    iretq
    .seh_endproc
