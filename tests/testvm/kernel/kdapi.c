/*
 * kdapi.c - the debugger side of the kernel: turning a trap into a
 * STATE_CHANGE64, then serving DBGKD_MANIPULATE_STATE64 requests until a
 * Continue (fact sheet sections 6-10, ReactOS kd64 semantics).
 *
 * Layouts are written byte by byte at the fact sheet's offsets (no struct
 * overlays on wire bytes).
 */
#include "ke.h"

#define PACKET_TYPE_KD_STATE_MANIPULATE 2
#define PACKET_TYPE_KD_DEBUG_IO         3
#define PACKET_TYPE_KD_STATE_CHANGE64   7

#define DbgKdExceptionStateChange   0x3030
#define DbgKdLoadSymbolsStateChange 0x3031
#define DbgKdPrintStringApi         0x3230
#define DbgKdGetStringApi           0x3231

#define DbgKdReadVirtualMemoryApi   0x3130
#define DbgKdWriteVirtualMemoryApi  0x3131
#define DbgKdGetContextApi          0x3132
#define DbgKdSetContextApi          0x3133
#define DbgKdWriteBreakPointApi     0x3134
#define DbgKdRestoreBreakPointApi   0x3135
#define DbgKdContinueApi            0x3136
#define DbgKdReadControlSpaceApi    0x3137
#define DbgKdWriteControlSpaceApi   0x3138
#define DbgKdRebootApi              0x313B
#define DbgKdContinueApi2           0x313C
#define DbgKdReadPhysicalMemoryApi  0x313D
#define DbgKdWritePhysicalMemoryApi 0x313E
#define DbgKdGetVersionApi          0x3146
#define DbgKdCauseBugCheckApi       0x3149
#define DbgKdReadMachineSpecificRegister  0x3152
#define DbgKdWriteMachineSpecificRegister 0x3153
#define DbgKdClearAllInternalBreakpointsApi 0x315A
#define DbgKdGetContextExApi        0x315F
#define DbgKdReadIoSpaceApi         0x3139
#define DbgKdWriteIoSpaceApi        0x313A
#define DbgKdSwitchProcessor        0x3150
#define DbgKdQueryMemoryApi         0x315C
#define STATUS_DATATYPE_MISALIGNMENT 0x80000002u

#define MANIPULATE_HEADER  0x38
#define STATE_CHANGE_SIZE  0xF0
#define CONTEXT_AMD64_SIZE 0x4D0
#define KSPECIAL_REGISTERS_SIZE 0xF0
#define KD_MAX_TRANSFER (4000 - MANIPULATE_HEADER)   /* 3944, fact sheet section 1 */
#define KD_BREAKPOINT_MAX 32
#define KD_BUILD_NUMBER 19041

/* The kernel's breakpoint table (fact sheet section 8). */
typedef struct KD_BREAKPOINT_ENTRY {
    uint64_t Address;
    uint64_t DirectoryTableBase;   /* bound for user addresses */
    uint8_t Content;               /* original byte */
    uint8_t InUse;
    uint8_t Inserted;              /* 0 = owed (page was not present) */
} KD_BREAKPOINT_ENTRY;

static struct {
    KX_TRAP_FRAME *TrapFrame;
    int ContextSent;
    uint64_t Dr6;
    uint64_t KernelDr[8];          /* 0-3, 6, 7 used */
    KD_BREAKPOINT_ENTRY Breakpoints[KD_BREAKPOINT_MAX];
    uint8_t Request[4096];
    uint8_t Reply[4096];
    uint8_t StateChange[STATE_CHANGE_SIZE + 512];
    int BugCheckPending;
    uint64_t KernelCr3;
    uint64_t RangeStart, RangeEnd;   /* Continue2 symbol range being stepped */
} Kdp;

/* Set by the debugger (ed nt!KdpPromptRequest 1) to make the idle path run
 * DbgPrompt once; the answer is echoed with DbgPrint. */
volatile uint32_t KdpPromptRequest;
char KdpLastPromptResponse[128];

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* ---- memory access through page tables (never faults) ----------------- */

static uint64_t KdpCurrentCr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

/* The debugger's memory path calls nothing outside this file: a breakpoint
 * the user puts on memcpy or mm_virt_to_phys must not fire inside the code
 * that inserts and removes breakpoints (see KdpNestedBreakpoint).  Hence a
 * private page walk and a byte copy the compiler cannot turn into memcpy. */
static uint64_t KdpPhysTop;

static void KdpMoveBytes(volatile uint8_t *dst, const volatile uint8_t *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static volatile uint8_t *KdpPhysPtr(uint64_t pa)
{
    return (volatile uint8_t *)(MM_DIRECT_MAP_BASE + pa);
}

static int KdpVirtToPhys(uint64_t cr3, uint64_t va, uint64_t *pa)
{
    uint64_t top = va >> 47;
    if (top != 0 && top != 0x1FFFF)
        return -1;
    uint64_t table = cr3 & 0x000FFFFFFFFFF000ull;
    for (int shift = 39; shift >= 12; shift -= 9) {
        if (table >= KdpPhysTop)
            return -1;
        uint64_t e = *(volatile uint64_t *)KdpPhysPtr(table + 8 * ((va >> shift) & 511));
        if (!(e & 1))
            return -1;
        if (shift == 12 || ((e & 0x80) && shift != 39)) {
            uint64_t mask = (1ull << shift) - 1;
            *pa = ((e & 0x000FFFFFFFFFF000ull) & ~mask) | (va & mask);
            return 0;
        }
        table = e & 0x000FFFFFFFFFF000ull;
    }
    return -1;
}

/* Copy to/from virtual memory of `cr3`; stops at the first unmapped page and
 * returns the number of bytes done (ReactOS KdpCopyMemoryChunks semantics). */
static uint32_t KdpCopyVirtual(uint64_t cr3, uint64_t va, void *buf, uint32_t len, int write)
{
    uint32_t done = 0;
    while (done < len) {
        uint64_t pa;
        if (KdpVirtToPhys(cr3, va + done, &pa) || pa >= KdpPhysTop)
            break;
        uint32_t chunk = (uint32_t)(MM_PAGE_SIZE - ((va + done) & (MM_PAGE_SIZE - 1)));
        if (chunk > len - done)
            chunk = len - done;
        if (write)
            KdpMoveBytes(KdpPhysPtr(pa), (uint8_t *)buf + done, chunk);
        else
            KdpMoveBytes((uint8_t *)buf + done, KdpPhysPtr(pa), chunk);
        done += chunk;
    }
    return done;
}

static uint32_t KdpCopyPhysical(uint64_t pa, void *buf, uint32_t len, int write)
{
    uint64_t top = KdpPhysTop;
    if (pa >= top)
        return 0;
    if (len > top - pa)
        len = (uint32_t)(top - pa);
    if (write)
        KdpMoveBytes(KdpPhysPtr(pa), buf, len);
    else
        KdpMoveBytes(buf, KdpPhysPtr(pa), len);
    return len;
}

/* ---- breakpoints -------------------------------------------------------- */

static uint64_t KdpBreakpointCr3(uint64_t address)
{
    /* Kernel addresses are the same in every address space. */
    return (address >> 63) ? Kdp.KernelCr3 : KdpCurrentCr3();
}

static uint32_t KdpAddBreakpoint(uint64_t address)
{
    for (int i = 0; i < KD_BREAKPOINT_MAX; i++) {
        KD_BREAKPOINT_ENTRY *b = &Kdp.Breakpoints[i];
        if (b->InUse && b->Address == address &&
            (address >> 63 || b->DirectoryTableBase == KdpCurrentCr3()))
            return 0;                           /* already there: fail */
    }
    for (int i = 0; i < KD_BREAKPOINT_MAX; i++) {
        KD_BREAKPOINT_ENTRY *b = &Kdp.Breakpoints[i];
        if (b->InUse)
            continue;
        b->Address = address;
        b->DirectoryTableBase = KdpBreakpointCr3(address);
        b->InUse = 1;
        b->Inserted = 0;
        uint8_t cc = 0xCC;
        if (KdpCopyVirtual(b->DirectoryTableBase, address, &b->Content, 1, 0) == 1 &&
            KdpCopyVirtual(b->DirectoryTableBase, address, &cc, 1, 1) == 1)
            b->Inserted = 1;                    /* else owed until the page appears */
        return (uint32_t)i + 1;
    }
    return 0;
}

static int KdpDeleteBreakpoint(uint32_t handle)
{
    if (handle == 0 || handle > KD_BREAKPOINT_MAX)
        return -1;
    KD_BREAKPOINT_ENTRY *b = &Kdp.Breakpoints[handle - 1];
    if (!b->InUse)
        return -1;
    if (b->Inserted)
        KdpCopyVirtual(b->DirectoryTableBase, b->Address, &b->Content, 1, 1);
    b->InUse = 0;
    b->Inserted = 0;
    return 0;
}

/* Breakpoints inside the instruction bytes we report are deleted, as ReactOS
 * KdpDeleteBreakpointRange does (open point 6). Returns 1 if any was. */
static int KdpDeleteBreakpointRange(uint64_t lo, uint64_t hi)
{
    int any = 0;
    for (uint32_t i = 0; i < KD_BREAKPOINT_MAX; i++) {
        KD_BREAKPOINT_ENTRY *b = &Kdp.Breakpoints[i];
        if (b->InUse && b->Address >= lo && b->Address <= hi) {
            KdpDeleteBreakpoint(i + 1);
            any = 1;
        }
    }
    return any;
}

static int KdpIsOwnBreakpoint(uint64_t address)
{
    for (int i = 0; i < KD_BREAKPOINT_MAX; i++) {
        KD_BREAKPOINT_ENTRY *b = &Kdp.Breakpoints[i];
        if (b->InUse && b->Inserted && b->Address == address)
            return 1;
    }
    return 0;
}

static void KdpSetOwedBreakpoints(void)
{
    for (int i = 0; i < KD_BREAKPOINT_MAX; i++) {
        KD_BREAKPOINT_ENTRY *b = &Kdp.Breakpoints[i];
        if (!b->InUse || b->Inserted)
            continue;
        if (!(b->Address >> 63) && b->DirectoryTableBase != KdpCurrentCr3())
            continue;
        uint8_t cc = 0xCC;
        if (KdpCopyVirtual(b->DirectoryTableBase, b->Address, &b->Content, 1, 0) == 1 &&
            KdpCopyVirtual(b->DirectoryTableBase, b->Address, &cc, 1, 1) == 1)
            b->Inserted = 1;
    }
}

/* ---- contexts ------------------------------------------------------------ */

static void KdpBuildContext(uint8_t *c)
{
    KX_TRAP_FRAME *tf = Kdp.TrapFrame;
    memset(c, 0, CONTEXT_AMD64_SIZE);
    put32(c + 0x30, 0x0010001F);                 /* CONTEXT_ALL (AMD64) */
    put32(c + 0x34, get32(tf->fx + 24));         /* MxCsr */
    put16(c + 0x38, (uint16_t)tf->cs);
    put16(c + 0x3A, KiReadSeg(0));
    put16(c + 0x3C, KiReadSeg(1));
    put16(c + 0x3E, KiReadSeg(2));
    put16(c + 0x40, KiReadSeg(3));
    put16(c + 0x42, (uint16_t)tf->ss);
    put32(c + 0x44, (uint32_t)tf->rflags);
    put64(c + 0x48, Kdp.KernelDr[0]);
    put64(c + 0x50, Kdp.KernelDr[1]);
    put64(c + 0x58, Kdp.KernelDr[2]);
    put64(c + 0x60, Kdp.KernelDr[3]);
    put64(c + 0x68, Kdp.Dr6);
    put64(c + 0x70, Kdp.KernelDr[7]);
    const uint64_t gpr[16] = { tf->rax, tf->rcx, tf->rdx, tf->rbx, tf->rsp, tf->rbp,
                               tf->rsi, tf->rdi, tf->r8, tf->r9, tf->r10, tf->r11,
                               tf->r12, tf->r13, tf->r14, tf->r15 };
    for (int i = 0; i < 16; i++)
        put64(c + 0x78 + 8 * i, gpr[i]);
    put64(c + 0xF8, tf->rip);
    memcpy(c + 0x100, tf->fx, 512);              /* FltSave (Xmm0-15 at 0x1A0) */
}

static void KdpApplyContext(const uint8_t *c)
{
    KX_TRAP_FRAME *tf = Kdp.TrapFrame;
    uint64_t *gpr[16] = { &tf->rax, &tf->rcx, &tf->rdx, &tf->rbx, &tf->rsp, &tf->rbp,
                          &tf->rsi, &tf->rdi, &tf->r8, &tf->r9, &tf->r10, &tf->r11,
                          &tf->r12, &tf->r13, &tf->r14, &tf->r15 };
    for (int i = 0; i < 16; i++)
        *gpr[i] = get64(c + 0x78 + 8 * i);
    tf->rip = get64(c + 0xF8);
    /* Keep the bits the CPU insists on: reserved bit 1 set, no VM86. */
    tf->rflags = (get32(c + 0x44) & 0x003F0FD5u) | 2u;
    memcpy(tf->fx, c + 0x100, 512);
    put32(tf->fx + 24, get32(tf->fx + 24) & 0xFFFF);   /* MXCSR: reserved bits #GP fxrstor */
    if (get32(c + 0x30) & 0x10) {                       /* CONTEXT_DEBUG_REGISTERS */
        for (int i = 0; i < 4; i++)
            Kdp.KernelDr[i] = get64(c + 0x48 + 8 * i);
        Kdp.KernelDr[7] = get64(c + 0x70);
    }
}

static uint32_t KdpBuildSpecialRegisters(uint8_t *s)
{
    memset(s, 0, KSPECIAL_REGISTERS_SIZE);
    put64(s + 0x00, read_cr0());
    put64(s + 0x08, read_cr2());
    put64(s + 0x10, read_cr3());
    put64(s + 0x18, read_cr4());
    put64(s + 0x20, Kdp.KernelDr[0]);
    put64(s + 0x28, Kdp.KernelDr[1]);
    put64(s + 0x30, Kdp.KernelDr[2]);
    put64(s + 0x38, Kdp.KernelDr[3]);
    put64(s + 0x40, Kdp.Dr6);
    put64(s + 0x48, Kdp.KernelDr[7]);
    uint8_t d[10];
    KiReadGdtr(d);                               /* Limit at +6, Base at +8 */
    memcpy(s + 0x56, d, 10);
    KiReadIdtr(d);
    memcpy(s + 0x66, d, 10);
    put16(s + 0x70, KiReadTr());
    put16(s + 0x72, 0);
    put32(s + 0x74, get32(Kdp.TrapFrame->fx + 24));
    put64(s + 0xA0, read_cr8());
    put64(s + 0xA8, rdmsr(0xC0000101));          /* GS base */
    put64(s + 0xB0, rdmsr(0xC0000102));          /* kernel GS base */
    put64(s + 0xB8, rdmsr(0xC0000081));          /* STAR */
    put64(s + 0xC0, rdmsr(0xC0000082));          /* LSTAR */
    put64(s + 0xC8, rdmsr(0xC0000083));          /* CSTAR */
    put64(s + 0xD0, rdmsr(0xC0000084));          /* SFMASK */
    return KSPECIAL_REGISTERS_SIZE;
}

/* ---- state change ------------------------------------------------------ */

static uint32_t KdpSetCommonState(uint8_t *sc, uint32_t new_state)
{
    KX_TRAP_FRAME *tf = Kdp.TrapFrame;
    memset(sc, 0, STATE_CHANGE_SIZE);
    put32(sc + 0x00, new_state);
    put16(sc + 0x04, 6);                         /* ProcessorLevel */
    put16(sc + 0x06, 0);                         /* Processor */
    put32(sc + 0x08, 1);                         /* NumberProcessors */
    put64(sc + 0x10, world_current_thread());
    put64(sc + 0x18, tf->rip);

    /* AMD64 control report at 0xC0. */
    put64(sc + 0xC0, Kdp.Dr6);
    put64(sc + 0xC8, Kdp.KernelDr[7]);
    put32(sc + 0xD0, (uint32_t)tf->rflags);
    uint8_t *stream = sc + 0xD8;
    uint32_t n = KdpCopyVirtual(KdpCurrentCr3(), tf->rip, stream, 16, 0);
    if (n && KdpDeleteBreakpointRange(tf->rip, tf->rip + n - 1))
        n = KdpCopyVirtual(KdpCurrentCr3(), tf->rip, stream, 16, 0);
    put16(sc + 0xD4, (uint16_t)n);
    put16(sc + 0xD6, tf->cs == KGDT64_R0_CODE ? 3 : 1);   /* INCLUDES_SEGS | STANDARD_CS */
    put16(sc + 0xE8, (uint16_t)tf->cs);
    put16(sc + 0xEA, KiReadSeg(0));
    put16(sc + 0xEC, KiReadSeg(1));
    put16(sc + 0xEE, KiReadSeg(2));
    return STATE_CHANGE_SIZE;
}

/* ---- manipulate APIs ---------------------------------------------------- */

static uint32_t KdpGetVersion(uint8_t *r)
{
    uint8_t *v = r + 0x10;
    uint64_t ddl = world_debugger_data_list();
    put16(v + 0x00, 0x0F);                       /* free build, NT */
    put16(v + 0x02, KD_BUILD_NUMBER);
    v[0x04] = 6;                                 /* DBGKD_64BIT_PROTOCOL_VERSION2 */
    v[0x05] = 2;                                 /* KdSecondaryVersion: AMD64 context */
    put16(v + 0x06, (uint16_t)(0x4 | (ddl ? 0x2 : 0)));   /* PTR64 | DATA */
    put16(v + 0x08, 0x8664);
    v[0x0A] = 12;                                /* MaxPacketType */
    v[0x0B] = 3;                                 /* MaxStateChange */
    v[0x0C] = 0x31;                              /* MaxManipulate */
    v[0x0D] = 0;                                 /* Simulation */
    put64(v + 0x10, KERNEL_IMAGE_BASE);
    put64(v + 0x18, world_ps_loaded_module_list());
    put64(v + 0x20, ddl);
    return 0;
}

/* MSR indices outside the architectural ranges #GP on real CPUs, but QEMU's
 * TCG returns 0 for them; refuse them here so the debugger sees the
 * STATUS_NO_SUCH_DEVICE a real machine gives.  A #GP inside the range is
 * still caught by KdpSafeRdmsr/KdpSafeWrmsr. */
static int KdpMsrIndexExists(uint32_t msr)
{
    return msr < 0x2000 || (msr >= 0xC0000000u && msr < 0xC0002000u) ||
           (msr >= 0xC0010000u && msr < 0xC0012000u);
}

/* Returns 1 when the request resumes execution (Continue/Continue2), 2 when
 * the state change must be sent again (SwitchProcessor). */
static int KdpDispatch(uint32_t len, uint32_t *continue_status)
{
    uint8_t *q = Kdp.Request, *r = Kdp.Reply;
    if (len < MANIPULATE_HEADER)
        return 0;
    uint32_t api = get32(q);
    uint32_t data_len = len - MANIPULATE_HEADER;
    const uint8_t *data = q + MANIPULATE_HEADER;
    memcpy(r, q, MANIPULATE_HEADER);            /* replies echo the header */
    put32(r + 0x08, STATUS_SUCCESS);
    uint32_t out = 0;                            /* reply data bytes at 0x38 */
    uint8_t *od = r + MANIPULATE_HEADER;

    switch (api) {
    case DbgKdGetVersionApi:
        memset(r + 0x10, 0, 0x28);
        KdpGetVersion(r);
        break;

    case DbgKdReadVirtualMemoryApi:
    case DbgKdReadPhysicalMemoryApi:
    case DbgKdReadControlSpaceApi: {
        uint64_t addr = get64(q + 0x10);
        uint32_t want = get32(q + 0x18);
        if (want > KD_MAX_TRANSFER)
            want = KD_MAX_TRANSFER;
        uint32_t got = 0;
        if (api == DbgKdReadVirtualMemoryApi) {
            got = KdpCopyVirtual(KdpCurrentCr3(), addr, od, want, 0);
        } else if (api == DbgKdReadPhysicalMemoryApi) {
            got = KdpCopyPhysical(addr, od, want, 0);
        } else {
            uint8_t tmp[KSPECIAL_REGISTERS_SIZE];
            uint32_t avail = 0;
            switch (addr) {
            case 0: put64(tmp, world_kpcr()); avail = 8; break;
            case 1: put64(tmp, world_kprcb()); avail = 8; break;
            case 2: avail = KdpBuildSpecialRegisters(tmp); break;
            case 3: put64(tmp, world_current_thread()); avail = 8; break;
            }
            /* Longer requests are cut to the structure (ReactOS kdx64). */
            got = want < avail ? want : avail;
            want = got;
            memcpy(od, tmp, got);
            if (!avail)
                put32(r + 0x08, STATUS_UNSUCCESSFUL);
        }
        if (got < want)
            put32(r + 0x08, STATUS_UNSUCCESSFUL);   /* partial data still returned */
        put32(r + 0x1C, got);
        out = got;
        break;
    }

    case DbgKdWriteVirtualMemoryApi:
    case DbgKdWritePhysicalMemoryApi:
    case DbgKdWriteControlSpaceApi: {
        uint64_t addr = get64(q + 0x10);
        uint32_t want = get32(q + 0x18);
        if (want > data_len)
            want = data_len;
        uint32_t done = 0;
        if (api == DbgKdWriteVirtualMemoryApi) {
            done = KdpCopyVirtual(KdpCurrentCr3(), addr, (void *)data, want, 1);
        } else if (api == DbgKdWritePhysicalMemoryApi) {
            done = KdpCopyPhysical(addr, (void *)data, want, 1);
        } else if (addr == 2) {
            /* Only the kernel debug registers are taken over; CR and
             * descriptor-table values are not written back. */
            uint8_t s[KSPECIAL_REGISTERS_SIZE];
            KdpBuildSpecialRegisters(s);
            done = want < KSPECIAL_REGISTERS_SIZE ? want : KSPECIAL_REGISTERS_SIZE;
            memcpy(s, data, done);
            for (int i = 0; i < 4; i++)
                Kdp.KernelDr[i] = get64(s + 0x20 + 8 * i);
            Kdp.KernelDr[7] = get64(s + 0x48);
        }
        if (done < want || (api == DbgKdWriteControlSpaceApi && addr != 2))
            put32(r + 0x08, STATUS_UNSUCCESSFUL);
        put32(r + 0x1C, done);
        break;
    }

    case DbgKdGetContextApi:
        KdpBuildContext(od);
        out = CONTEXT_AMD64_SIZE;
        Kdp.ContextSent = 1;
        break;

    case DbgKdSetContextApi:
        if (!Kdp.ContextSent || data_len < CONTEXT_AMD64_SIZE)
            put32(r + 0x08, STATUS_UNSUCCESSFUL);
        else
            KdpApplyContext(data);
        break;

    case DbgKdWriteBreakPointApi: {
        uint32_t h = KdpAddBreakpoint(get64(q + 0x10));
        put32(r + 0x18, h);
        if (!h)
            put32(r + 0x08, STATUS_UNSUCCESSFUL);
        break;
    }

    case DbgKdRestoreBreakPointApi:
        if (KdpDeleteBreakpoint(get32(q + 0x10)))
            put32(r + 0x08, STATUS_UNSUCCESSFUL);
        break;

    case DbgKdContinueApi: {
        uint32_t st = get32(q + 0x10);
        *continue_status = st;
        return 1;
    }

    case DbgKdContinueApi2: {
        uint32_t st = get32(q + 0x10);
        *continue_status = st;
        if (!(st & 0x80000000u)) {               /* NT_SUCCESS */
            if (get32(q + 0x14))
                Kdp.TrapFrame->rflags |= EFLAGS_TF;
            else
                Kdp.TrapFrame->rflags &= ~EFLAGS_TF;
            Kdp.KernelDr[7] = get64(q + 0x18);
            Kdp.Dr6 = 0;
            /* Range stepping: SymStart == 1 means "no range" (fact sheet 7,
             * open point 2); otherwise single steps inside [start, end)
             * are not reported. */
            uint64_t sym_start = get64(q + 0x20), sym_end = get64(q + 0x28);
            if (get32(q + 0x14) && sym_start != 1 && sym_end > sym_start) {
                Kdp.RangeStart = sym_start;
                Kdp.RangeEnd = sym_end;
            } else {
                Kdp.RangeStart = Kdp.RangeEnd = 0;
            }
        }
        return 1;
    }

    case DbgKdReadMachineSpecificRegister: {
        uint64_t v;
        if (!KdpMsrIndexExists(get32(q + 0x10)) || KdpSafeRdmsr(get32(q + 0x10), &v)) {
            put32(r + 0x08, STATUS_NO_SUCH_DEVICE);
        } else {
            put32(r + 0x14, (uint32_t)v);
            put32(r + 0x18, (uint32_t)(v >> 32));
        }
        break;
    }

    case DbgKdWriteMachineSpecificRegister: {
        uint64_t v = get32(q + 0x14) | (uint64_t)get32(q + 0x18) << 32;
        if (!KdpMsrIndexExists(get32(q + 0x10)) || KdpSafeWrmsr(get32(q + 0x10), v))
            put32(r + 0x08, STATUS_NO_SUCH_DEVICE);
        break;
    }

    case DbgKdReadIoSpaceApi:
    case DbgKdWriteIoSpaceApi: {
        /* ISA bus 0 I/O ports; sizes 1/2/4, naturally aligned. */
        uint64_t port = get64(q + 0x10);
        uint32_t size = get32(q + 0x18);
        uint32_t value = get32(q + 0x1C);
        if ((size != 1 && size != 2 && size != 4) || port > 0xFFFF) {
            put32(r + 0x08, STATUS_UNSUCCESSFUL);
        } else if (port & (size - 1)) {
            put32(r + 0x08, STATUS_DATATYPE_MISALIGNMENT);
        } else if (api == DbgKdReadIoSpaceApi) {
            uint32_t v = 0;
            if (size == 1)
                v = inb((uint16_t)port);
            else if (size == 2)
                __asm__ volatile("inw %1, %w0" : "=a"(v) : "Nd"((uint16_t)port));
            else
                __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)port));
            put32(r + 0x1C, v);
        } else {
            if (size == 1)
                outb((uint16_t)port, (uint8_t)value);
            else if (size == 2)
                __asm__ volatile("outw %w0, %1" : : "a"(value), "Nd"((uint16_t)port));
            else
                __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"((uint16_t)port));
        }
        break;
    }

    case DbgKdQueryMemoryApi: {
        /* AddressSpace in: 0 = virtual.  Out: 0 process (user half),
         * 2 kernel; Flags R|W|X.  Like ReactOS KdpQueryMemory. */
        uint64_t addr = get64(q + 0x10);
        if (get32(q + 0x20) != 0) {
            put32(r + 0x08, STATUS_UNSUCCESSFUL);
        } else {
            put32(r + 0x20, (addr >> 63) ? 2 : 0);
            put32(r + 0x24, 1 | 2 | 4);
        }
        break;
    }

    case DbgKdSwitchProcessor:
        /* One processor: "switching" to it makes it report again. */
        return 2;

    case DbgKdCauseBugCheckApi:
        Kdp.BugCheckPending = 1;
        *continue_status = 0x00010002;
        return 1;

    case DbgKdRebootApi:
        KiResetMachine();

    case DbgKdClearAllInternalBreakpointsApi:
        return 0;                                /* no reply (kdd: "Z1") */

    default:
        /* Unknown APIs and GetContextEx (refused like the captured target):
         * STATUS_UNSUCCESSFUL with no data. */
        put32(r + 0x08, STATUS_UNSUCCESSFUL);
        break;
    }
    KdpSendPacket(PACKET_TYPE_KD_STATE_MANIPULATE, r, MANIPULATE_HEADER + out);
    return 0;
}

/* Send the state change, then serve requests until a continue. */
static uint32_t KdpSendWaitContinue(const uint8_t *sc, uint32_t sc_len)
{
    uint32_t status = 0x00010002;
send:
    KdpSendPacket(PACKET_TYPE_KD_STATE_CHANGE64, sc, sc_len);
    for (;;) {
        uint32_t len = 0;
        int rc = KdpReceivePacket(PACKET_TYPE_KD_STATE_MANIPULATE, Kdp.Request,
                                  sizeof(Kdp.Request), &len, 1000);
        if (rc == KDP_PACKET_RESEND) {
            /* A 0x62 seen while stopped asks for the state change once
             * (ReactOS); do not let it repeat at every later timeout. */
            KdpControlCPending();
            goto send;
        }
        if (rc == KDP_PACKET_TIMEOUT)
            continue;
        int rc2 = KdpDispatch(len, &status);
        if (rc2 == 2)
            goto send;
        if (rc2)
            return status;
    }
}

/* ---- entry from traps ----------------------------------------------------- */

static void KdpEnterDebugger(KX_TRAP_FRAME *tf)
{
    Kdp.TrapFrame = tf;
    Kdp.ContextSent = 0;
    Kdp.Dr6 = KiReadDr(6);
    KiWriteDr(7, 0);                             /* no hardware hits inside kd */
}

static void KdpLeaveDebugger(KX_TRAP_FRAME *tf)
{
    KdpControlCPending();                        /* 0x62 seen while stopped: dropped */
    KdpSetOwedBreakpoints();
    /* RF: an execute breakpoint at the resume address must not fire again. */
    tf->rflags |= EFLAGS_RF;
    Kdp.TrapFrame = NULL;
    for (int i = 0; i < 4; i++)
        KiWriteDr(i, Kdp.KernelDr[i]);
    KiWriteDr(6, 0);
    KiWriteDr(7, Kdp.KernelDr[7]);
    if (Kdp.BugCheckPending) {
        Kdp.BugCheckPending = 0;
        KeBugCheckEx(0xE2, 0, 0, 0, 0);          /* MANUALLY_INITIATED_CRASH */
    }
}

static void KdpReportLoadSymbols(KX_TRAP_FRAME *tf, const char *path, const uint64_t *info)
{
    uint8_t *sc = Kdp.StateChange;
    uint32_t n = KdpSetCommonState(sc, DbgKdLoadSymbolsStateChange);
    uint32_t plen = path ? (uint32_t)strlen(path) + 1 : 0;
    if (plen > 256)
        plen = 256;
    put32(sc + 0x20, plen);
    put64(sc + 0x28, info[0]);                   /* BaseOfDll */
    put64(sc + 0x30, 0);                         /* ProcessId: system */
    put32(sc + 0x38, (uint32_t)(info[1] >> 32)); /* CheckSum */
    put32(sc + 0x3C, (uint32_t)info[1]);         /* SizeOfImage */
    sc[0x40] = (uint8_t)info[2];                 /* UnloadSymbols */
    if (plen) {
        memcpy(sc + n, path, plen - 1);
        sc[n + plen - 1] = 0;
    }
    (void)tf;
    KdpSendWaitContinue(sc, n + plen);
}

extern uint8_t KdpLastStopContext[CONTEXT_AMD64_SIZE];
extern uint8_t KdpLastStopException[0x98];

/* A breakpoint the debugger planted in a routine the debugger itself uses
 * (memcpy, mm_virt_to_phys, a world_* hook...) fires while we are already
 * stopped or resuming.  Reporting it would recurse; like a kernel debugger
 * must, we drop that breakpoint and retry the instruction. */
static int KdpNestedBreakpoint(KX_TRAP_FRAME *tf, uint32_t code)
{
    if (!Kdp.TrapFrame || code != STATUS_BREAKPOINT)
        return 0;
    for (uint32_t i = 0; i < KD_BREAKPOINT_MAX; i++) {
        KD_BREAKPOINT_ENTRY *b = &Kdp.Breakpoints[i];
        if (b->InUse && b->Inserted && b->Address == tf->rip) {
            KdpDeleteBreakpoint(i + 1);
            return 1;
        }
    }
    return 0;
}

uint32_t KdpTrap(KX_TRAP_FRAME *tf, uint32_t code, uint32_t nparams, const uint64_t *params,
                 uint32_t service, int first_chance)
{
    if (KdpNestedBreakpoint(tf, code))
        return 0x00010002;
    if (code == STATUS_SINGLE_STEP && Kdp.RangeEnd) {
        /* A TF step (DR6.BS, no hardware slot) still inside the range:
         * keep stepping without a report. */
        uint64_t dr6 = KiReadDr(6);
        if ((dr6 & 0x4000) && !(dr6 & 0xF) && tf->rip >= Kdp.RangeStart && tf->rip < Kdp.RangeEnd) {
            KiWriteDr(6, 0);
            tf->rflags |= EFLAGS_TF | EFLAGS_RF;
            return 0x00010002;
        }
        Kdp.RangeStart = Kdp.RangeEnd = 0;
    }
    KdpEnterDebugger(tf);
    KdpBuildContext(KdpLastStopContext);
    uint64_t pc = tf->rip;
    if (code == STATUS_BREAKPOINT && service == BREAKPOINT_LOAD_SYMBOLS) {
        KdpReportLoadSymbols(tf, (const char *)tf->rcx, (const uint64_t *)tf->rdx);
        /* Skip the int3 after int 0x2D unless the debugger moved PC itself. */
        if (tf->rip == pc)
            tf->rip = pc + 1;
        KdpLeaveDebugger(tf);
        return 0x00010002;
    }
    uint8_t *sc = Kdp.StateChange;
    uint32_t n = KdpSetCommonState(sc, DbgKdExceptionStateChange);
    put32(sc + 0x20, code);
    put32(sc + 0x24, 0);
    put64(sc + 0x28, 0);
    put64(sc + 0x30, pc);
    if (nparams > 15)
        nparams = 15;
    put32(sc + 0x38, nparams);
    for (uint32_t i = 0; i < nparams; i++)
        put64(sc + 0x40 + 8 * i, params[i]);
    put32(sc + 0xB8, first_chance ? 1 : 0);       /* FirstChance */
    memcpy(KdpLastStopException, sc + 0x20, sizeof(KdpLastStopException));
    uint32_t status = KdpSendWaitContinue(sc, n);
    KdpLeaveDebugger(tf);
    return status;
}

int KdpIsDebuggerBreakpoint(uint64_t address)
{
    return KdpIsOwnBreakpoint(address);
}

/* ---- DbgPrint / DbgPrompt ------------------------------------------------ */

static void KdpPrintString(const char *s, uint32_t len)
{
    uint8_t *p = Kdp.Reply;
    if (len > 3000)
        len = 3000;
    memset(p, 0, 0x10);
    put32(p + 0x00, DbgKdPrintStringApi);
    put16(p + 0x04, 6);
    put32(p + 0x08, len);
    memcpy(p + 0x10, s, len);
    KdpSendPacket(PACKET_TYPE_KD_DEBUG_IO, p, 0x10 + len);
}

unsigned long DbgPrint(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 1)
        n = sizeof(buf) - 1;
    uint64_t fl = ke_disable_interrupts();
    KdpPrintString(buf, (uint32_t)n);
    /* A breakin byte that arrived while we waited for the ACK must not be
     * lost (ReactOS KdpPrint polls for it the same way). */
    if (KdpControlCPending() && !Kdp.TrapFrame)
        DbgBreakPointWithStatus(DBG_STATUS_CONTROL_C);
    ke_restore_interrupts(fl);
    return 0;
}

unsigned long DbgPrompt(const char *prompt, char *response, unsigned long length)
{
    uint64_t fl = ke_disable_interrupts();
    uint32_t plen = (uint32_t)strlen(prompt);
    if (plen > 512)
        plen = 512;
    if (length > 512)
        length = 512;
    uint32_t got = 0;
    for (;;) {
        uint8_t *p = Kdp.Reply;
        memset(p, 0, 0x10);
        put32(p + 0x00, DbgKdGetStringApi);
        put16(p + 0x04, 6);
        put32(p + 0x08, plen);
        put32(p + 0x0C, (uint32_t)length);
        memcpy(p + 0x10, prompt, plen);
        KdpSendPacket(PACKET_TYPE_KD_DEBUG_IO, p, 0x10 + plen);
        uint32_t len = 0;
        int rc;
        do {
            rc = KdpReceivePacket(PACKET_TYPE_KD_DEBUG_IO, Kdp.Request, sizeof(Kdp.Request),
                                  &len, 1000);
        } while (rc == KDP_PACKET_TIMEOUT);
        if (rc == KDP_PACKET_RESEND || len < 0x10 || get32(Kdp.Request) != DbgKdGetStringApi)
            continue;
        got = get32(Kdp.Request + 0x0C);
        if (got > length)
            got = (uint32_t)length;
        if (got > len - 0x10)
            got = len - 0x10;
        memcpy(response, Kdp.Request + 0x10, got);
        break;
    }
    ke_restore_interrupts(fl);
    return got;
}

void DbgLoadImageSymbols(const char *path, uint64_t base, uint32_t size_of_image,
                         uint32_t checksum)
{
    uint64_t info[3] = { base, ((uint64_t)checksum << 32) | size_of_image, 0 };
    KdpDebugService(BREAKPOINT_LOAD_SYMBOLS, (uint64_t)path, (uint64_t)info, 0);
}

/* Runs from the idle path: the debugger can ask for a DbgPrompt round trip
 * by writing 1 to nt!KdpPromptRequest. */
void KdpCheckPromptRequest(void)
{
    if (!KdpPromptRequest)
        return;
    KdpPromptRequest = 0;
    unsigned long n = DbgPrompt("testnt> ", KdpLastPromptResponse,
                                sizeof(KdpLastPromptResponse) - 1);
    KdpLastPromptResponse[n] = 0;
    DbgPrint("DbgPrompt answer: %s\n", KdpLastPromptResponse);
}

/* ---- breakin --------------------------------------------------------------- */

void KdpPollBreakinFromInterrupt(void)
{
    uint8_t b;
    int brk = 0;
    while (KiSerialPoll(COM1, &b))
        if (b == 0x62)
            brk = 1;
    if (brk)
        DbgBreakPointWithStatus(DBG_STATUS_CONTROL_C);
}

void kd_poll_breakin(void)
{
    uint64_t fl = ke_disable_interrupts();
    KdpPollBreakinFromInterrupt();
    ke_restore_interrupts(fl);
    KdpCheckPromptRequest();
}

void KdInitSystem(void)
{
    KdpComInit();
    KdpPhysTop = mm_phys_top();
    Kdp.KernelCr3 = mm_kernel_cr3();
}
