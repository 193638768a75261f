/*
 * sched.c - a small cooperative scheduler with Windows names.
 *
 * One CPU.  Threads run until they wait (KeWaitForSingleObject,
 * KeDelayExecutionThread); the idle thread (the boot stack, KiInitialThread)
 * polls the KD breakin byte, wakes threads whose wait is satisfied and
 * switches to them, or halts until the next 100 Hz tick.
 *
 * The point is the saved stacks: KiSwapContext pushes the callee-saved
 * registers on the thread's own stack and SwapContext stores RSP (pointing at
 * a _KSWITCH_FRAME) in KTHREAD.KernelStack, so a debugger that unwinds from
 * KernelStack sees a real chain SwapContext/KiSwapContext <- KiSwapThread <-
 * KeWaitForSingleObject <- routine <- KiStartSystemThread.
 * Those functions are noinline and disable_tail_calls so the chain is not
 * optimised away (a tail call would drop a frame).
 */
#include "world.h"

_Static_assert(offsetof(KTHREAD, KernelStack) == KTHREAD_KernelStack,
               "swapctx.S uses KTHREAD_KernelStack");
_Static_assert(sizeof(KSWITCH_FRAME) == 0x40 && offsetof(KSWITCH_FRAME, Return) == 0x38 &&
               offsetof(KSWITCH_FRAME, Rbp) == 0x30, "swapctx.S builds this frame");
_Static_assert(offsetof(KSTART_FRAME, StartRoutine) == 8 &&
               offsetof(KSTART_FRAME, StartContext) == 0x10 &&
               offsetof(KSTART_FRAME, UserStack) == 0x18 &&
               offsetof(KSTART_FRAME, UserEntry) == 0x20, "KiStart*Thread read it");
_Static_assert(offsetof(KPCR, UserRsp) == KPCR_UserRsp &&
               offsetof(KPCR, Prcb.RspBase) == KPCR_Prcb_RspBase, "syscall.S uses them");
_Static_assert(sizeof(KTRAP_FRAME) == KTRAP_FRAME_SIZE &&
               offsetof(KTRAP_FRAME, PreviousMode) == KTRAP_PreviousMode &&
               offsetof(KTRAP_FRAME, Rax) == KTRAP_Rax && offsetof(KTRAP_FRAME, Rcx) == KTRAP_Rcx &&
               offsetof(KTRAP_FRAME, Rdx) == KTRAP_Rdx && offsetof(KTRAP_FRAME, R8) == KTRAP_R8 &&
               offsetof(KTRAP_FRAME, R9) == KTRAP_R9 && offsetof(KTRAP_FRAME, Rbx) == KTRAP_Rbx &&
               offsetof(KTRAP_FRAME, Rdi) == KTRAP_Rdi && offsetof(KTRAP_FRAME, Rsi) == KTRAP_Rsi &&
               offsetof(KTRAP_FRAME, Rbp) == KTRAP_Rbp && offsetof(KTRAP_FRAME, Rip) == KTRAP_Rip &&
               offsetof(KTRAP_FRAME, SegCs) == KTRAP_SegCs &&
               offsetof(KTRAP_FRAME, EFlags) == KTRAP_EFlags &&
               offsetof(KTRAP_FRAME, Rsp) == KTRAP_Rsp && offsetof(KTRAP_FRAME, SegSs) == KTRAP_SegSs,
               "syscall.S builds the Windows x64 KTRAP_FRAME");

#define CHAIN __attribute__((noinline, disable_tail_calls))

#define STATUS_SUCCESS 0
#define STATUS_TIMEOUT 0x102
#define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008)

#define MSR_EFER           0xC0000080
#define MSR_STAR           0xC0000081
#define MSR_LSTAR          0xC0000082
#define MSR_SFMASK         0xC0000084
#define MSR_KERNEL_GS_BASE 0xC0000102

/* Kernel stacks live in their own region with an unmapped guard page below
 * each one; the PML4 slot is created here, before any process address space
 * is made, so every address space shares it. */
#define KERNEL_STACK_REGION 0xFFFFF88000000000ull
#define KERNEL_STACK_PAGES  6              /* 24 KiB, as on Windows x64 */

KPCR KiInitialPcr __attribute__((aligned(64)));
KPRCB *KiProcessorBlock[1];
KTHREAD *KiInitialThread;
EPROCESS *PsIdleProcess;

extern UCHAR KiBootStack[];
#define KI_BOOT_STACK_SIZE 0x8000

static KTHREAD *KiThreadTable[64];
static ULONG KiThreadCount;
static ULONG KiNextRun;
static ULONG64 KiLastSwitchTick;
static ULONG64 KiStackCursor = KERNEL_STACK_REGION;

void *world_map_kernel_pages(ULONG pages)
{
    ULONG64 base = KiStackCursor + 0x1000;      /* guard page */
    for (ULONG i = 0; i < pages; i++) {
        uint64_t pa = mm_alloc_page();
        if (!pa || mm_map_page(mm_kernel_cr3(), base + i * 0x1000ull, pa,
                               MM_PRESENT | MM_WRITE) != 0)
            KeBugCheckEx(0x7D /* INSTALL_MORE_MEMORY */, pages, i, 0, 0);
    }
    KiStackCursor = base + pages * 0x1000ull;
    return (void *)base;
}

static KPRCB *KeGetCurrentPrcb(void)
{
    return &KiInitialPcr.Prcb;
}

uint64_t world_current_thread(void) { return (uint64_t)KeGetCurrentPrcb()->CurrentThread; }
uint64_t world_kpcr(void) { return (uint64_t)&KiInitialPcr; }
uint64_t world_kprcb(void) { return (uint64_t)&KiInitialPcr.Prcb; }

static void InitializeListHead(LIST_ENTRY *h) { h->Flink = h->Blink = h; }

static void InsertTailList(LIST_ENTRY *h, LIST_ENTRY *e)
{
    e->Flink = h;
    e->Blink = h->Blink;
    h->Blink->Flink = e;
    h->Blink = e;
}

static void RemoveEntryList(LIST_ENTRY *e)
{
    e->Blink->Flink = e->Flink;
    e->Flink->Blink = e->Blink;
    e->Flink = e->Blink = e;
}

/* Signal an event; the idle loop's wait check wakes a waiter (one for a
 * synchronization event, which then resets). */
LONG KeSetEvent(KEVENT *Event, LONG Increment, BOOLEAN Wait)
{
    LONG previous = Event->Header.SignalState;
    (void)Increment;
    (void)Wait;
    Event->Header.SignalState = 1;
    return previous;
}

void KeInitializeEvent(KEVENT *Event, ULONG Type, BOOLEAN State)
{
    Event->Header.Type = (UCHAR)Type;
    Event->Header.Size = sizeof(KEVENT) / 4;
    Event->Header.SignalState = State;
    InitializeListHead(&Event->Header.WaitListHead);
}

static void KiInitThreadObject(ETHREAD *t, EPROCESS *p, ULONG tid)
{
    KTHREAD *k = &t->Tcb;
    k->Header.Type = 6;                          /* ThreadObject */
    k->Header.Size = sizeof(ETHREAD) / 4;
    InitializeListHead(&k->Header.WaitListHead);
    InitializeListHead(&k->ApcState.ApcListHead[0]);
    InitializeListHead(&k->ApcState.ApcListHead[1]);
    InitializeListHead(&k->WaitListEntry);
    InitializeListHead(&k->MutantListHead);
    k->Timer.Header.Type = 8;                    /* TimerNotificationObject */
    InitializeListHead(&k->Timer.Header.WaitListHead);
    InitializeListHead(&k->Timer.TimerListEntry);
    k->ApcState.Process = &p->Pcb;
    k->Process = &p->Pcb;
    k->Priority = 8;
    k->BasePriority = 8;
    t->Cid.UniqueProcess = p->UniqueProcessId;
    t->Cid.UniqueThread = (HANDLE)(ULONG64)tid;
    InitializeListHead(&t->PostBlockList);
    InitializeListHead(&t->IrpList);
    InitializeListHead(&t->ActiveTimerListHead);
    InsertTailList(&p->Pcb.ThreadListHead, &k->ThreadListEntry);
    InsertTailList(&p->ThreadListHead, &t->ThreadListEntry);
    p->ActiveThreads++;
}

void world_sched_init(void)
{
    KPCR *pcr = &KiInitialPcr;
    KPRCB *prcb = &pcr->Prcb;
    struct { USHORT limit; ULONG64 base; } __attribute__((packed)) gdtr, idtr;

    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));
    pcr->GdtBase = (PVOID)gdtr.base;
    pcr->IdtBase = (PVOID)idtr.base;
    /* TssBase from the 16-byte TSS descriptor at selector 0x40. */
    if (gdtr.limit >= 0x40 + 15) {
        const UCHAR *d = (const UCHAR *)gdtr.base + 0x40;
        pcr->TssBase = (PVOID)(d[2] | (ULONG64)d[3] << 8 | (ULONG64)d[4] << 16 |
                               (ULONG64)d[7] << 24 | (ULONG64)(d[8] | d[9] << 8 | d[10] << 16 |
                                                                (ULONG)d[11] << 24) << 32);
    }
    pcr->Self = pcr;
    pcr->CurrentPrcb = prcb;
    pcr->Used_Self = pcr;
    pcr->MajorVersion = 1;
    pcr->MinorVersion = 1;
    prcb->MxCsr = 0x1F80;
    prcb->MajorVersion = 1;
    prcb->MinorVersion = 1;
    prcb->CpuType = 6;
    prcb->MHz = 2000;
    prcb->KernelDirectoryTableBase = mm_kernel_cr3();
    memcpy(prcb->VendorString, "GenuineIntel", 13);
    KiProcessorBlock[0] = prcb;

    /* The idle process (PID 0) is not in PsActiveProcessHead, as on Windows. */
    PsIdleProcess = mm_alloc(sizeof(EPROCESS));
    PsIdleProcess->Pcb.Header.Type = 3;
    PsIdleProcess->Pcb.DirectoryTableBase = mm_kernel_cr3();
    InitializeListHead(&PsIdleProcess->Pcb.ThreadListHead);
    InitializeListHead(&PsIdleProcess->ThreadListHead);
    InitializeListHead(&PsIdleProcess->ActiveProcessLinks);
    memcpy(PsIdleProcess->ImageFileName, "Idle", 5);

    ETHREAD *idle = mm_alloc(sizeof(ETHREAD));
    KiInitThreadObject(idle, PsIdleProcess, 0);
    /* The idle thread runs on the core's boot stack: KiBootStack, 32 KiB
     * (kernel/boot.S).  Check we are on it before believing the size. */
    ULONG64 rsp, lo = (ULONG64)KiBootStack, hi = lo + KI_BOOT_STACK_SIZE;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    if (rsp < lo || rsp >= hi) {
        hi = (rsp + 0x3FFF) & ~0x3FFFull;
        lo = hi - 0x4000;
    }
    idle->Tcb.InitialStack = (PVOID)hi;
    idle->Tcb.StackBase = (PVOID)hi;
    idle->Tcb.StackLimit = (PVOID)lo;
    idle->Tcb.State = Running;
    idle->Tcb.Priority = 0;
    KiInitialThread = &idle->Tcb;
    prcb->CurrentThread = &idle->Tcb;
    prcb->IdleThread = &idle->Tcb;
    prcb->RspBase = (ULONG64)idle->Tcb.InitialStack;

    /* SYSCALL: kernel CS 0x10/SS 0x18, SYSRET to user CS 0x33/SS 0x2B (STAR
     * bits 63:48 = 0x23), entry KiSystemCall64, IF/TF/DF/AC masked (as on
     * Windows: 0x4700). */
    wrmsr(MSR_STAR, (0x23ull << 48) | (0x10ull << 32));
    wrmsr(MSR_LSTAR, (uint64_t)KiSystemCall64);
    wrmsr(MSR_SFMASK, 0x4700);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);

    /* Create the stack region's page-table slot now (see KERNEL_STACK_REGION). */
    world_map_kernel_pages(1);
}

static ETHREAD *KiCreateThread(EPROCESS *p, ULONG tid, void (*first)(void), KSTART_FRAME *start)
{
    ETHREAD *t = mm_alloc(sizeof(ETHREAD));
    KTHREAD *k = &t->Tcb;
    UCHAR *limit = world_map_kernel_pages(KERNEL_STACK_PAGES);
    ULONG64 base = (ULONG64)limit + KERNEL_STACK_PAGES * 0x1000ull;

    KiInitThreadObject(t, p, tid);
    k->StackLimit = limit;
    k->StackBase = (PVOID)base;
    k->InitialStack = (PVOID)(base - 0x40);

    /* Initial frame: a _KSWITCH_FRAME whose Return is the thread's first
     * code, and above it the _KSTART_FRAME that code reads.  The start frame
     * is 16-byte aligned (what SwapContext leaves for its return, see
     * swapctx.S). */
    KSTART_FRAME *sf = (KSTART_FRAME *)((base - 0x40) & ~0xFull);
    KSWITCH_FRAME *sw = (KSWITCH_FRAME *)sf - 1;
    memset(sw, 0, sizeof *sw);
    *sf = *start;
    sf->ReturnSlot = 0;
    sw->Return = (ULONG64)first;
    k->KernelStack = sw;
    k->State = Ready;
    k->WaitTime = (ULONG)ke_ticks();
    KiThreadTable[KiThreadCount++] = k;
    return t;
}

ETHREAD *world_create_thread(EPROCESS *p, KSTART_ROUTINE *routine, PVOID ctx, ULONG tid)
{
    KSTART_FRAME sf;
    memset(&sf, 0, sizeof sf);
    sf.StartRoutine = (ULONG64)routine;
    sf.StartContext = (ULONG64)ctx;
    ETHREAD *t = KiCreateThread(p, tid, KiStartSystemThread, &sf);
    t->StartAddress = (PVOID)routine;
    t->Win32StartAddress = (PVOID)routine;
    return t;
}

/* A thread that starts in ring 3 at user_entry(start, arg) on user_stack.
 * Its first system call builds a _KTRAP_FRAME at InitialStack (KiSystemCall64). */
ETHREAD *world_create_user_thread(EPROCESS *p, ULONG tid, ULONG64 user_entry, ULONG64 start,
                                  ULONG64 arg, ULONG64 user_stack, ULONG64 teb)
{
    KSTART_FRAME sf;
    memset(&sf, 0, sizeof sf);
    sf.StartRoutine = start;
    sf.StartContext = arg;
    sf.UserStack = user_stack;
    sf.UserEntry = user_entry;
    ETHREAD *t = KiCreateThread(p, tid, KiStartUserThread, &sf);
    t->Tcb.Teb = (PVOID)teb;
    t->Tcb.TrapFrame = (KTRAP_FRAME *)((ULONG64)t->Tcb.InitialStack - sizeof(KTRAP_FRAME));
    t->StartAddress = (PVOID)user_entry;
    t->Win32StartAddress = (PVOID)start;
    return t;
}

/* A thread whose wait is over becomes Ready. */
static void KiCheckWaits(void)
{
    ULONG64 now = ke_ticks();
    for (ULONG i = 0; i < KiThreadCount; i++) {
        KTHREAD *k = KiThreadTable[i];
        if (k->State != Waiting || !k->WaitBlockList)
            continue;
        KWAIT_BLOCK *wb = k->WaitBlockList;
        if (wb->Object == &k->Timer) {
            if (now >= k->Timer.DueTime.QuadPart) {
                k->WaitStatus = STATUS_SUCCESS;
                k->WaitBlockList = NULL;
                k->State = Ready;
            }
        } else {
            DISPATCHER_HEADER *h = wb->Object;
            if (h->SignalState > 0) {
                if (h->Type == 1)       /* SynchronizationEvent: auto-reset */
                    h->SignalState = 0;
                RemoveEntryList(&wb->WaitListEntry);
                k->WaitStatus = STATUS_SUCCESS;
                k->WaitBlockList = NULL;
                k->State = Ready;
            }
        }
    }
}

static KTHREAD *KiSelectReadyThread(void)
{
    for (ULONG n = 0; n < KiThreadCount; n++) {
        ULONG i = (KiNextRun + n) % KiThreadCount;
        if (KiThreadTable[i]->State == Ready) {
            KiNextRun = i + 1;
            return KiThreadTable[i];
        }
    }
    return NULL;
}

/* Inlined into its callers so the saved chain is KiSwapContext <- KiSwapThread. */
static inline __attribute__((always_inline)) void KiSwitchTo(KTHREAD *cur, KTHREAD *next)
{
    KPRCB *prcb = KeGetCurrentPrcb();
    uint64_t flags = ke_disable_interrupts();
    if (cur->State == Running)
        cur->State = (cur == prcb->IdleThread) ? Standby : Ready;
    /* Charge the ticks since the last switch to the outgoing thread (kernel
     * time; user code runs only for a few instructions between syscalls). */
    ULONG64 now = ke_ticks();
    cur->KernelTime += (ULONG)(now - KiLastSwitchTick);
    cur->ApcState.Process->KernelTime += now - KiLastSwitchTick;
    KiLastSwitchTick = now;
    next->State = Running;
    next->ContextSwitches++;
    prcb->CurrentThread = next;
    /* What the CPU needs if next enters or leaves ring 3: its address space,
     * its kernel stack top (syscalls: Prcb.RspBase; interrupts: TSS.RSP0) and
     * its TEB as the user GS base (swapped in by swapgs). */
    ULONG64 dtb = next->ApcState.Process->DirectoryTableBase;
    if (dtb && dtb != read_cr3())
        write_cr3(dtb);
    if (next != prcb->IdleThread) {
        prcb->RspBase = (ULONG64)next->InitialStack;
        ke_set_kernel_stack((uint64_t)next->InitialStack);
    }
    wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)next->Teb);
    prcb->ContextSwitches++;
    KiSwapContext(cur, next);
    /* back on cur's stack */
    prcb->CurrentThread = cur;
    cur->State = Running;
    ke_restore_interrupts(flags);
}

/* The current thread has set up its wait (State = Waiting): run someone else
 * until the wait is satisfied; returns the wait status. */
CHAIN LONG64 KiSwapThread(KTHREAD *Thread, KPRCB *Prcb)
{
    KTHREAD *next = KiSelectReadyThread();
    if (!next)
        next = Prcb->IdleThread;
    if (next != Thread)
        KiSwitchTo(Thread, next);
    return Thread->WaitStatus;
}

CHAIN NTSTATUS KeWaitForSingleObject(PVOID Object, ULONG WaitReason, CHAR WaitMode,
                                     BOOLEAN Alertable, LARGE_INTEGER *Timeout)
{
    KPRCB *prcb = KeGetCurrentPrcb();
    KTHREAD *t = prcb->CurrentThread;
    DISPATCHER_HEADER *h = Object;
    (void)Alertable;
    (void)Timeout;                      /* waits here are untimed */

    if (h->SignalState > 0) {
        if (h->Type == 1)
            h->SignalState = 0;
        return STATUS_SUCCESS;
    }
    KWAIT_BLOCK *wb = &t->WaitBlock[0];
    wb->Thread = t;
    wb->Object = Object;
    wb->WaitType = 1;                   /* WaitAny */
    wb->BlockState = 2;
    InsertTailList(&h->WaitListHead, &wb->WaitListEntry);
    t->WaitBlockList = wb;
    t->WaitReason = (UCHAR)WaitReason;
    t->WaitMode = WaitMode;
    t->WaitTime = (ULONG)ke_ticks();
    t->State = Waiting;
    NTSTATUS status = (NTSTATUS)KiSwapThread(t, prcb);
    return status;
}

/* Interval: negative = relative, in 100 ns units; rounded up to 10 ms ticks. */
CHAIN NTSTATUS KeDelayExecutionThread(CHAR WaitMode, BOOLEAN Alertable, LARGE_INTEGER *Interval)
{
    KPRCB *prcb = KeGetCurrentPrcb();
    KTHREAD *t = prcb->CurrentThread;
    LONG64 rel = Interval->QuadPart < 0 ? -Interval->QuadPart : Interval->QuadPart;
    ULONG64 ticks = (ULONG64)(rel + 99999) / 100000;
    (void)Alertable;

    if (ticks == 0)
        ticks = 1;
    t->Timer.DueTime.QuadPart = ke_ticks() + ticks;
    t->Timer.Header.SignalState = 0;
    KWAIT_BLOCK *wb = &t->WaitBlock[3];  /* the timer wait block, as on Windows */
    wb->Thread = t;
    wb->Object = &t->Timer;
    wb->WaitType = 1;
    t->WaitBlockList = wb;
    t->WaitReason = DelayExecution;
    t->WaitMode = WaitMode;
    t->WaitTime = (ULONG)ke_ticks();
    t->State = Waiting;
    NTSTATUS status = (NTSTATUS)KiSwapThread(t, prcb);
    return status;
}

/* Handles: HANDLE_TABLE.TableCode points at an array of object pointers,
 * indexed by handle / 4 (a flat one-level table). */
NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, PVOID *Object)
{
    EPROCESS *p = (EPROCESS *)KeGetCurrentPrcb()->CurrentThread->ApcState.Process;
    HANDLE_TABLE *ht = p->ObjectTable;
    ULONG64 index = (ULONG64)Handle / 4;
    if (!ht || !ht->TableCode || index == 0 || index >= ht->NextHandleNeedingPool / 4)
        return STATUS_INVALID_HANDLE;
    PVOID o = ((PVOID *)ht->TableCode)[index];
    if (!o)
        return STATUS_INVALID_HANDLE;
    *Object = o;
    return STATUS_SUCCESS;
}

CHAIN NTSTATUS NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, LARGE_INTEGER *Timeout)
{
    PVOID object;
    NTSTATUS status = ObReferenceObjectByHandle(Handle, &object);
    if (status < 0)
        return status;
    status = KeWaitForSingleObject(object, UserRequest, 1 /* UserMode */, Alertable, Timeout);
    return status;
}

/* Interval is a user pointer: the current CR3 is the caller's process. */
CHAIN NTSTATUS NtDelayExecution(BOOLEAN Alertable, LARGE_INTEGER *DelayInterval)
{
    LARGE_INTEGER interval;
    if ((ULONG64)DelayInterval >= 0x00007FFFFFFF0000ull)
        return (NTSTATUS)0xC0000005;        /* STATUS_ACCESS_VIOLATION */
    interval = *DelayInterval;
    NTSTATUS status = KeDelayExecutionThread(1 /* UserMode */, Alertable, &interval);
    return status;
}

/* System service numbers are ntdll's (user/ntdll.c). */
PVOID KiServiceTable[0x60] = {
    [0x4] = (PVOID)NtWaitForSingleObject,
    [0x34] = (PVOID)NtDelayExecution,
};
ULONG64 KiServiceLimit = sizeof KiServiceTable / sizeof KiServiceTable[0];

/* A system thread's routine returned (KiStartSystemThread calls this). */
__declspec(noreturn) void PspTerminateSystemThread(void);
__declspec(noreturn) void PspTerminateSystemThread(void)
{
    KPRCB *prcb = KeGetCurrentPrcb();
    KTHREAD *t = prcb->CurrentThread;
    ETHREAD *et = (ETHREAD *)t;
    EPROCESS *p = (EPROCESS *)t->Process;
    t->State = Terminated;
    if (p->ActiveThreads)
        p->ActiveThreads--;
    (void)et;
    for (;;)
        KiSwapThread(t, prcb);
}

/* The idle thread: poll for the debugger, run ready threads, else halt. */
CHAIN __declspec(noreturn) void KiIdleLoop(void)
{
    KPRCB *prcb = KeGetCurrentPrcb();
    KTHREAD *idle = prcb->IdleThread;
    for (;;) {
        kd_poll_breakin();
        world_shared_data_update();
        KiCheckWaits();
        KTHREAD *next = KiSelectReadyThread();
        if (next)
            KiSwitchTo(idle, next);
        else
            ke_idle_wait();
    }
}
