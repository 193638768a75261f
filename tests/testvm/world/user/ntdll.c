/*
 * ntdll.c - the test world's user-mode ntdll.dll (a small real PE + PDB).
 *
 * Mapped at 0x00007FFC00000000 in every user process (the same physical
 * pages everywhere).  It never runs: it exists so that a debugger finds a
 * real DLL through PEB.Ldr, reads its headers (RSDS) from user memory and
 * loads ntdll.pdb, which describes the user structures (_PEB, _TEB, ...)
 * as Windows' own ntdll.pdb does.  The Nt* exports are Windows-style
 * syscall stubs.
 */
#include "../ntdefs.h"

#define EXPORT __declspec(dllexport)
#define SYSCALL_STUB(name, number)                                            \
    EXPORT __attribute__((naked)) NTSTATUS name(void)                         \
    {                                                                         \
        __asm__ volatile("movq %%rcx, %%r10\n\tmovl $" #number ", %%eax\n\t"  \
                         "syscall\n\tret" ::: "memory");                      \
    }

SYSCALL_STUB(NtWaitForSingleObject, 0x4)
SYSCALL_STUB(NtClose, 0xF)
SYSCALL_STUB(NtCreateFile, 0x55)
SYSCALL_STUB(NtDelayExecution, 0x34)
SYSCALL_STUB(NtTerminateProcess, 0x2C)

static TEB *NtCurrentTeb(void)
{
    TEB *teb;
    __asm__ volatile("movq %%gs:0x30, %0" : "=r"(teb));
    return teb;
}

EXPORT PEB *RtlGetCurrentPeb(void)
{
    return NtCurrentTeb()->ProcessEnvironmentBlock;
}

EXPORT UNICODE_STRING *RtlGetImagePathName(void)
{
    return &RtlGetCurrentPeb()->ProcessParameters->ImagePathName;
}

/* The first module in load order (the exe), as the loader keeps it. */
EXPORT LDR_DATA_TABLE_ENTRY *LdrpGetFirstModule(void)
{
    PEB_LDR_DATA *ldr = RtlGetCurrentPeb()->Ldr;
    return (LDR_DATA_TABLE_ENTRY *)ldr->InLoadOrderModuleList.Flink;
}

EXPORT __attribute__((noinline)) void RtlUserThreadStart(void (*start)(PVOID), PVOID arg)
{
    start(arg);
    NtTerminateProcess();
}

EXPORT void LdrInitializeThunk(CONTEXT *ctx, PVOID base)
{
    (void)base;
    RtlUserThreadStart((void (*)(PVOID))ctx->Rcx, (PVOID)ctx->Rdx);
}
