/*
 * trap.S - interrupt/exception entry stubs and the few routines that must be
 * exact instructions (int3 sites the debugger sees, MSR probes).
 *
 * Every stub builds a KX_TRAP_FRAME (see ke.h): fxsave area, the 15 GPRs,
 * vector, error code, then the CPU's RIP/CS/RFLAGS/RSP/SS, and calls
 * KiTrapDispatch(frame).  The frame is what GetContext/SetContext read and
 * write, so a debugger edit of RIP/RSP/RFLAGS takes effect on iretq.
 */
        .text

.macro TRAP_NOERR vec
        .globl KiTrap\vec
KiTrap\vec:
        pushq   $0
        pushq   $\vec
        jmp     KiTrapCommon
.endm
.macro TRAP_ERR vec
        .globl KiTrap\vec
KiTrap\vec:
        pushq   $\vec
        jmp     KiTrapCommon
.endm

TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR   8
TRAP_NOERR 9
TRAP_ERR   10
TRAP_ERR   11
TRAP_ERR   12
TRAP_ERR   13
TRAP_ERR   14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR   17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR   21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR   29
TRAP_ERR   30
TRAP_NOERR 31
TRAP_NOERR 32
TRAP_NOERR 39
TRAP_NOERR 45

/* Unwind info (UWOP_PUSH_MACHFRAME etc.) so a stack walk can go from
 * KiTrapDispatch through the trap frame into the interrupted code, as it
 * does through nt!KiInterruptDispatch frames on Windows.  At the call the
 * stack holds: 32 home bytes, fxsave (512), 15 GPRs, vector, error code,
 * then the machine frame. */
        .globl KiTrapCommon
        .seh_proc KiTrapCommon
KiTrapCommon:
        .seh_pushframe @code
        .seh_stackalloc 8
        testb   $3, 24(%rsp)            /* from user mode: GS base = KPCR (swapgs) */
        jz      1f
        swapgs
1:      pushq   %r15
        .seh_pushreg %r15
        pushq   %r14
        .seh_pushreg %r14
        pushq   %r13
        .seh_pushreg %r13
        pushq   %r12
        .seh_pushreg %r12
        pushq   %r11
        .seh_pushreg %r11
        pushq   %r10
        .seh_pushreg %r10
        pushq   %r9
        .seh_pushreg %r9
        pushq   %r8
        .seh_pushreg %r8
        pushq   %rbp
        .seh_pushreg %rbp
        pushq   %rdi
        .seh_pushreg %rdi
        pushq   %rsi
        .seh_pushreg %rsi
        pushq   %rdx
        .seh_pushreg %rdx
        pushq   %rcx
        .seh_pushreg %rcx
        pushq   %rbx
        .seh_pushreg %rbx
        pushq   %rax
        .seh_pushreg %rax
        subq    $512, %rsp
        .seh_stackalloc 512
        subq    $32, %rsp
        .seh_stackalloc 32
        .seh_endprologue
        leaq    32(%rsp), %rcx
        fxsave  (%rcx)
        cld
        call    KiTrapDispatch
        addq    $32, %rsp
        fxrstor (%rsp)
        addq    $512, %rsp
        popq    %rax
        popq    %rbx
        popq    %rcx
        popq    %rdx
        popq    %rsi
        popq    %rdi
        popq    %rbp
        popq    %r8
        popq    %r9
        popq    %r10
        popq    %r11
        popq    %r12
        popq    %r13
        popq    %r14
        popq    %r15
        addq    $16, %rsp
        testb   $3, 8(%rsp)             /* back to user mode: GS base = TEB */
        jz      2f
        swapgs
2:      iretq
        .seh_endproc

/* nt!DbgBreakPoint: the classic int3; ret. */
        .globl DbgBreakPoint
DbgBreakPoint:
        int3
        ret

/* nt!DbgBreakPointWithStatus(status): the status travels in ecx/rcx, the
 * int3 at RtlpBreakWithStatusInstruction is where breakins and bugchecks
 * stop (what WinDbg shows as nt!RtlpBreakWithStatusInstruction). */
        .globl DbgBreakPointWithStatus
DbgBreakPointWithStatus:
        .globl RtlpBreakWithStatusInstruction
RtlpBreakWithStatusInstruction:
        int3
        ret

/* nt!DebugService2-like: int 0x2D with the service in eax, arguments in
 * rcx/rdx/r8, followed by an int3 that the kernel skips after the report
 * (the LoadSymbols stop reports PC on that int3, as Windows does). */
        .globl KdpDebugService
KdpDebugService:
        movl    %ecx, %eax
        movq    %rdx, %rcx
        movq    %r8, %rdx
        movq    %r9, %r8
        int     $0x2D
        int3
        ret

/* MSR access that survives a #GP: KiTrapDispatch sends a fault at
 * KdpRdmsrInsn/KdpWrmsrInsn to KdpMsrFault, which returns -1. */
/* int KdpSafeRdmsr(uint32_t msr, uint64_t *value) */
        .globl KdpSafeRdmsr
        .globl KdpRdmsrInsn
KdpSafeRdmsr:
        movq    %rdx, %r8
KdpRdmsrInsn:
        rdmsr
        shlq    $32, %rdx
        movl    %eax, %eax
        orq     %rdx, %rax
        movq    %rax, (%r8)
        xorl    %eax, %eax
        ret
/* int KdpSafeWrmsr(uint32_t msr, uint64_t value) */
        .globl KdpSafeWrmsr
        .globl KdpWrmsrInsn
KdpSafeWrmsr:
        movq    %rdx, %rax
        shrq    $32, %rdx
KdpWrmsrInsn:
        wrmsr
        xorl    %eax, %eax
        ret
        .globl KdpMsrFault
KdpMsrFault:
        movl    $-1, %eax
        ret

/* Reload segment registers after the final GDT is in place:
 * KiReloadSegments(cs, ds) */
        .globl KiReloadSegments
KiReloadSegments:
        movw    %dx, %ds
        movw    %dx, %es
        movw    $0x18, %ax
        movw    %ax, %ss
        movw    $0x53, %ax
        movw    %ax, %fs
        movw    %dx, %gs
        leaq    1f(%rip), %rax
        pushq   %rcx
        pushq   %rax
        lretq
1:      ret
