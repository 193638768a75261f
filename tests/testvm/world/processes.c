/*
 * processes.c - PsActiveProcessHead: System and seven user processes.
 *
 * Every user process gets its own PML4 (mm_create_address_space) and the SAME
 * user virtual addresses with different contents: its own exe image, a shared
 * ntdll.dll (same physical pages in every process, as image sections are on
 * Windows), a PEB with loader lists, process parameters and an environment in
 * a per-process "heap", a TEB and a user stack.  Each first thread really
 * runs in ring 3 (ntdll!RtlUserThreadStart -> exe entry -> ntdll's
 * NtWaitForSingleObject stub -> syscall) and blocks in the kernel.  A debugger that reads user
 * memory through the wrong DirectoryTableBase sees another process's data.
 */
#include "world.h"

/* Fixed user addresses (the same in every process; engine tests use them). */
#define USER_IMAGE_BASE   0x00007FF612340000ull   /* exes are linked here */
#define USER_NTDLL_BASE   0x00007FFC00000000ull   /* ntdll.dll is linked here */
#define USER_PEB          0x000000D12A4F3000ull
#define USER_TEB          0x000000D12A4F4000ull
#define USER_STACK_LIMIT  0x000000D12A2FC000ull
#define USER_STACK_BASE   0x000000D12A300000ull
/* explorer.exe's second thread (ticker): the next TEB and its own stack. */
#define USER_TEB2         0x000000D12A4F5000ull
#define USER_STACK2_LIMIT 0x000000D12A1FC000ull
#define USER_STACK2_BASE  0x000000D12A200000ull
/* The heap differs per process (as on Windows), so PEB.ProcessHeap and
 * PEB.ProcessParameters differ too. */
#define USER_HEAP(pid)    (0x0000020000000000ull + ((ULONG64)(pid) << 20))
#define USER_HEAP_PAGES   4

LIST_ENTRY PsActiveProcessHead;
EPROCESS *PsInitialSystemProcess;

uint64_t world_ps_active_process_head(void) { return (uint64_t)&PsActiveProcessHead; }

#define BLOB(n) extern const UCHAR world_blob_##n[], world_blob_##n##_end[]
BLOB(smss); BLOB(csrss); BLOB(wininit); BLOB(winlogon); BLOB(services); BLOB(lsass);
BLOB(explorer);

struct proc_desc {
    const char *name;
    ULONG pid, ppid, session, tid;
    const UCHAR *exe, *exe_end;
    const char *image_path;
    const char *cmdline;
    const char *user;
    ULONG ticker_tid;          /* nonzero: a second thread runs AppTickerThread */
};

static const struct proc_desc world_procs[] = {
    { "smss.exe", 0x17c, 4, 0, 0x180, world_blob_smss, world_blob_smss_end,
      "\\SystemRoot\\System32\\smss.exe", "\\SystemRoot\\System32\\smss.exe", "SYSTEM", 0 },
    { "csrss.exe", 0x1f0, 0x1e4, 0, 0x1f4, world_blob_csrss, world_blob_csrss_end,
      "C:\\Windows\\system32\\csrss.exe",
      "%SystemRoot%\\system32\\csrss.exe ObjectDirectory=\\Windows SharedSection=1024,20480,768 "
      "Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 "
      "ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16", "SYSTEM", 0 },
    { "wininit.exe", 0x248, 0x1e4, 0, 0x24c, world_blob_wininit, world_blob_wininit_end,
      "C:\\Windows\\system32\\wininit.exe", "wininit.exe", "SYSTEM", 0 },
    { "winlogon.exe", 0x28c, 0x23c, 1, 0x290, world_blob_winlogon, world_blob_winlogon_end,
      "C:\\Windows\\system32\\winlogon.exe", "winlogon.exe", "SYSTEM", 0 },
    { "services.exe", 0x2c4, 0x248, 0, 0x2c8, world_blob_services, world_blob_services_end,
      "C:\\Windows\\system32\\services.exe", "C:\\Windows\\system32\\services.exe", "SYSTEM", 0 },
    { "lsass.exe", 0x2d8, 0x248, 0, 0x2dc, world_blob_lsass, world_blob_lsass_end,
      "C:\\Windows\\system32\\lsass.exe", "C:\\Windows\\system32\\lsass.exe", "SYSTEM", 0 },
    { "explorer.exe", 0x1168, 0x1140, 1, 0x116c, world_blob_explorer, world_blob_explorer_end,
      "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE", "tester", 0x1174 },
};

/* ---- writing another address space through the direct map -------------- */

struct uspace {
    ULONG64 dtb;
    ULONG64 heap_cur, heap_end;
};

static void map_user_page(ULONG64 dtb, ULONG64 va, ULONG64 pa)
{
    if (mm_map_page(dtb, va, pa, MM_PRESENT | MM_WRITE | MM_USER) != 0)
        KeBugCheckEx(0x7D, va, pa, dtb, 1);
}

static void map_user_range(ULONG64 dtb, ULONG64 va, ULONG pages)
{
    for (ULONG i = 0; i < pages; i++) {
        uint64_t pa = mm_alloc_page();
        if (!pa)
            KeBugCheckEx(0x7D, va, i, dtb, 2);
        map_user_page(dtb, va + i * 0x1000ull, pa);
    }
}

static void uwrite(struct uspace *u, ULONG64 va, const void *src, size_t n)
{
    const UCHAR *s = src;
    while (n) {
        uint64_t pa;
        size_t chunk = 0x1000 - (va & 0xFFF);
        if (chunk > n)
            chunk = n;
        if (mm_virt_to_phys(u->dtb, va & ~0xFFFull, &pa) != 0)
            KeBugCheckEx(0x50 /* PAGE_FAULT_IN_NONPAGED_AREA */, va, 1, 0, 3);
        memcpy((UCHAR *)mm_phys((pa & ~0xFFFull) + (va & 0xFFF)), s, chunk);
        va += chunk;
        s += chunk;
        n -= chunk;
    }
}

static ULONG64 ualloc(struct uspace *u, size_t n)
{
    ULONG64 va = (u->heap_cur + 15) & ~15ull;
    if (va + n > u->heap_end)
        KeBugCheckEx(0x7D, va, n, u->dtb, 4);
    u->heap_cur = va + n;
    return va;
}

/* A UTF-16 copy of s in the process heap, described by *us. */
static void ustr(struct uspace *u, UNICODE_STRING *us, const char *s)
{
    WCHAR buf[512];
    size_t len = strlen(s);
    if (len > 511)
        len = 511;
    for (size_t i = 0; i < len; i++)
        buf[i] = (UCHAR)s[i];
    buf[len] = 0;
    ULONG64 va = ualloc(u, (len + 1) * 2);
    uwrite(u, va, buf, (len + 1) * 2);
    us->Length = (USHORT)(len * 2);
    us->MaximumLength = (USHORT)(len * 2 + 2);
    us->Buffer = (WCHAR *)va;
}

/* ---- images ------------------------------------------------------------- */

static ULONG64 ntdll_pages[32];
static ULONG ntdll_size, ntdll_entry, ntdll_stamp;

static void load_shared_ntdll(void)
{
    size_t n = (size_t)(world_blob_ntdll_end - world_blob_ntdll);
    ULONG64 base;
    if (world_pe_info(world_blob_ntdll, n, &base, &ntdll_size, &ntdll_entry, &ntdll_stamp,
                      NULL) != 0 || base != USER_NTDLL_BASE || ntdll_size > 32 * 0x1000)
        KeBugCheckEx(0x6B /* PROCESS1_INITIALIZATION_FAILED */, base, ntdll_size, 0, 1);
    for (ULONG i = 0; i * 0x1000 < ntdll_size; i++) {
        ntdll_pages[i] = mm_alloc_page();
        world_pe_copy_page(world_blob_ntdll, n, i * 0x1000, mm_phys(ntdll_pages[i]));
    }
}

static void map_image(ULONG64 dtb, const UCHAR *f, size_t n, ULONG64 *base, ULONG *size,
                      ULONG *entry, ULONG *stamp)
{
    if (world_pe_info(f, n, base, size, entry, stamp, NULL) != 0 || *base != USER_IMAGE_BASE)
        KeBugCheckEx(0x6B, *base, n, 0, 2);
    for (ULONG rva = 0; rva < *size; rva += 0x1000) {
        uint64_t pa = mm_alloc_page();
        if (!pa || world_pe_copy_page(f, n, rva, mm_phys(pa)) != 0)
            KeBugCheckEx(0x6B, rva, n, 0, 3);
        map_user_page(dtb, *base + rva, pa);
    }
}

/* ---- objects ------------------------------------------------------------ */

static EPROCESS *create_process(const char *name, ULONG pid, ULONG ppid, ULONG session,
                                ULONG64 dtb)
{
    EPROCESS *p = mm_alloc(sizeof *p);
    LIST_ENTRY *lists[] = { &p->Pcb.Header.WaitListHead, &p->Pcb.ProfileListHead,
                            &p->Pcb.ThreadListHead, &p->Pcb.ReadyListHead,
                            &p->SessionProcessLinks, &p->JobLinks, &p->ThreadListHead };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        lists[i]->Flink = lists[i]->Blink = lists[i];

    p->Pcb.Header.Type = 3;                      /* ProcessObject */
    p->Pcb.Header.Size = sizeof(KPROCESS) / 4;
    p->Pcb.DirectoryTableBase = dtb;
    p->Pcb.UserDirectoryTableBase = dtb;
    p->Pcb.Affinity = 1;
    p->Pcb.ActiveProcessors = 1;
    p->Pcb.BasePriority = 8;
    p->Pcb.QuantumReset = 6;
    p->UniqueProcessId = (HANDLE)(ULONG64)pid;
    p->InheritedFromUniqueProcessId = (HANDLE)(ULONG64)ppid;
    p->SessionId = session;
    p->CreateTime.QuadPart = KE_BOOT_TIME + (LONG64)pid * 10000;
    p->PriorityClass = 2;
    for (size_t i = 0; i < 14 && name[i]; i++)
        p->ImageFileName[i] = (UCHAR)name[i];

    HANDLE_TABLE *ht = mm_alloc(sizeof *ht);
    ht->QuotaProcess = p;
    ht->UniqueProcessId = pid;
    ht->HandleTableList.Flink = ht->HandleTableList.Blink = &ht->HandleTableList;
    ht->NextHandleNeedingPool = 0x400;
    ht->HandleCount = 4 + pid % 61;
    p->ObjectTable = ht;

    p->ActiveProcessLinks.Flink = &PsActiveProcessHead;
    p->ActiveProcessLinks.Blink = PsActiveProcessHead.Blink;
    PsActiveProcessHead.Blink->Flink = &p->ActiveProcessLinks;
    PsActiveProcessHead.Blink = &p->ActiveProcessLinks;
    return p;
}

/* Bind the exe's imports from ntdll.dll in this process's copy of its IAT
 * (the images are /fixed, so there is nothing else to relocate). */
static void bind_imports(struct uspace *u, const UCHAR *f, size_t n, ULONG64 base)
{
    size_t ntn = (size_t)(world_blob_ntdll_end - world_blob_ntdll);
    ULONG dir, size;
    if (world_pe_data_dir(f, n, 1, &dir, &size) != 0)
        return;
    for (ULONG d = dir;; d += 20) {
        const UCHAR *desc = world_pe_rva_ptr(f, n, d, 20);
        if (!desc)
            return;
        ULONG names = desc[0] | desc[1] << 8 | desc[2] << 16 | (ULONG)desc[3] << 24;
        ULONG iat = desc[16] | desc[17] << 8 | desc[18] << 16 | (ULONG)desc[19] << 24;
        if (!iat)
            return;
        if (!names)
            names = iat;
        for (ULONG i = 0;; i++) {
            const UCHAR *th = world_pe_rva_ptr(f, n, names + 8 * i, 8);
            if (!th)
                break;
            ULONG64 v = 0;
            for (int b = 7; b >= 0; b--)
                v = v << 8 | th[b];
            if (!v)
                break;
            ULONG64 target = 0;
            const UCHAR *nm = (v >> 63) ? NULL : world_pe_rva_ptr(f, n, (ULONG)v + 2, 1);
            if (nm) {
                ULONG rva = world_pe_export_rva(world_blob_ntdll, ntn, (const char *)nm);
                target = rva ? USER_NTDLL_BASE + rva : 0;
            }
            uwrite(u, base + iat + 8 * i, &target, 8);
        }
    }
}

/* A user thread: TEB, and a kernel thread object whose first code enters
 * ring 3 at ntdll!RtlUserThreadStart(start, arg) with [rsp] = 0 (the end of
 * the user stack walk). */
static void start_user_thread(struct uspace *u, EPROCESS *p, ULONG tid, ULONG64 start,
                              ULONG64 arg, ULONG64 teb_va, ULONG64 stack_limit,
                              ULONG64 stack_base)
{
    size_t ntn = (size_t)(world_blob_ntdll_end - world_blob_ntdll);
    ULONG rts = world_pe_export_rva(world_blob_ntdll, ntn, "RtlUserThreadStart");
    if (!rts)
        KeBugCheckEx(0x6B, 0, 0, 0, 5);
    world_create_user_thread(p, tid, USER_NTDLL_BASE + rts, start, arg, stack_base - 0x48,
                             teb_va);
    TEB teb;
    memset(&teb, 0, sizeof teb);
    teb.NtTib.StackBase = (PVOID)stack_base;
    teb.NtTib.StackLimit = (PVOID)stack_limit;
    teb.NtTib.Self = (NT_TIB *)teb_va;
    teb.ClientId.UniqueProcess = p->UniqueProcessId;
    teb.ClientId.UniqueThread = (HANDLE)(ULONG64)tid;
    teb.ProcessEnvironmentBlock = (PEB *)USER_PEB;
    teb.CurrentLocale = 0x409;
    uwrite(u, teb_va, &teb, sizeof teb);
}

static void build_environment(struct uspace *u, const struct proc_desc *d, ULONG64 *env,
                              ULONG64 *env_size)
{
    char vars[6][96];
    snprintf(vars[0], sizeof vars[0], "ALLUSERSPROFILE=C:\\ProgramData");
    snprintf(vars[1], sizeof vars[1], "COMPUTERNAME=TESTNT");
    snprintf(vars[2], sizeof vars[2], "Path=C:\\Windows\\system32;C:\\Windows");
    snprintf(vars[3], sizeof vars[3], "SystemRoot=C:\\Windows");
    snprintf(vars[4], sizeof vars[4], "USERNAME=%s", d->user);
    snprintf(vars[5], sizeof vars[5], "windir=C:\\Windows");
    WCHAR buf[640];
    size_t n = 0;
    for (int i = 0; i < 6; i++)
        n += world_ascii_to_utf16(buf + n, vars[i]) + 1;
    buf[n++] = 0;
    *env_size = n * 2;
    *env = ualloc(u, n * 2);
    uwrite(u, *env, buf, n * 2);
}

static void fill_ldr_entry(struct uspace *u, LDR_DATA_TABLE_ENTRY *e, ULONG64 self,
                           ULONG64 base, ULONG size, ULONG entry, ULONG stamp,
                           const char *full, const char *name)
{
    e->DllBase = (PVOID)base;
    e->EntryPoint = entry ? (PVOID)(base + entry) : NULL;
    e->SizeOfImage = size;
    ustr(u, &e->FullDllName, full);
    ustr(u, &e->BaseDllName, name);
    e->ObsoleteLoadCount = 0xFFFF;
    e->HashLinks.Flink = e->HashLinks.Blink =
        (LIST_ENTRY *)(self + offsetof(LDR_DATA_TABLE_ENTRY, HashLinks));
    e->NodeModuleLink.Flink = e->NodeModuleLink.Blink =
        (LIST_ENTRY *)(self + offsetof(LDR_DATA_TABLE_ENTRY, NodeModuleLink));
    e->TimeDateStamp = stamp;
    e->OriginalBase = base;
    e->ReferenceCount = 1;
}

#define LNK(va, type, field) ((LIST_ENTRY *)((va) + offsetof(type, field)))

static void build_user_process(const struct proc_desc *d)
{
    ULONG64 dtb = mm_create_address_space();
    struct uspace u = { dtb, USER_HEAP(d->pid), USER_HEAP(d->pid) + USER_HEAP_PAGES * 0x1000ull };
    ULONG64 exe_base;
    ULONG exe_size, exe_entry, exe_stamp;

    if (!dtb)
        KeBugCheckEx(0x6B, d->pid, 0, 0, 4);
    EPROCESS *p = create_process(d->name, d->pid, d->ppid, d->session, dtb);

    map_image(dtb, d->exe, (size_t)(d->exe_end - d->exe), &exe_base, &exe_size, &exe_entry,
              &exe_stamp);
    bind_imports(&u, d->exe, (size_t)(d->exe_end - d->exe), exe_base);
    for (ULONG i = 0; i * 0x1000 < ntdll_size; i++)
        map_user_page(dtb, USER_NTDLL_BASE + i * 0x1000ull, ntdll_pages[i]);
    world_shared_data_map_user(dtb);
    map_user_range(dtb, USER_PEB, 1);
    map_user_range(dtb, USER_TEB, 1);
    map_user_range(dtb, USER_STACK_LIMIT, (USER_STACK_BASE - USER_STACK_LIMIT) / 0x1000);
    map_user_range(dtb, u.heap_cur, USER_HEAP_PAGES);
    p->SectionBaseAddress = (PVOID)exe_base;
    p->Peb = (PEB *)USER_PEB;
    p->HighestUserAddress = (PVOID)0x00007FFFFFFEFFFFull;
    p->VirtualSize = exe_size + ntdll_size + 0x10000;

    /* process parameters + environment */
    RTL_USER_PROCESS_PARAMETERS pp;
    memset(&pp, 0, sizeof pp);
    ULONG64 pp_va = ualloc(&u, sizeof pp);
    pp.MaximumLength = pp.Length = sizeof pp;
    pp.Flags = 1;                                /* normalized */
    ustr(&u, &pp.CurrentDirectory.DosPath, "C:\\Windows\\system32\\");
    ustr(&u, &pp.DllPath, "");
    ustr(&u, &pp.ImagePathName, d->image_path);
    ustr(&u, &pp.CommandLine, d->cmdline);
    ustr(&u, &pp.WindowTitle, d->image_path);
    ustr(&u, &pp.DesktopInfo, d->session ? "WinSta0\\Default" : "");
    ULONG64 env, env_size;
    build_environment(&u, d, &env, &env_size);
    pp.Environment = (PVOID)env;
    pp.EnvironmentSize = env_size;
    pp.ShowWindowFlags = 1;
    uwrite(&u, pp_va, &pp, sizeof pp);

    /* loader data: exe then ntdll (load/memory order), ntdll only in init order */
    ULONG64 ldr_va = ualloc(&u, sizeof(PEB_LDR_DATA));
    ULONG64 ex_va = ualloc(&u, sizeof(LDR_DATA_TABLE_ENTRY));
    ULONG64 nt_va = ualloc(&u, sizeof(LDR_DATA_TABLE_ENTRY));
    PEB_LDR_DATA ldr;
    LDR_DATA_TABLE_ENTRY ex, nt;
    memset(&ldr, 0, sizeof ldr);
    memset(&ex, 0, sizeof ex);
    memset(&nt, 0, sizeof nt);
    ldr.Length = sizeof ldr;
    ldr.Initialized = 1;
    ldr.InLoadOrderModuleList.Flink = LNK(ex_va, LDR_DATA_TABLE_ENTRY, InLoadOrderLinks);
    ldr.InLoadOrderModuleList.Blink = LNK(nt_va, LDR_DATA_TABLE_ENTRY, InLoadOrderLinks);
    ldr.InMemoryOrderModuleList.Flink = LNK(ex_va, LDR_DATA_TABLE_ENTRY, InMemoryOrderLinks);
    ldr.InMemoryOrderModuleList.Blink = LNK(nt_va, LDR_DATA_TABLE_ENTRY, InMemoryOrderLinks);
    ldr.InInitializationOrderModuleList.Flink =
        LNK(nt_va, LDR_DATA_TABLE_ENTRY, InInitializationOrderLinks);
    ldr.InInitializationOrderModuleList.Blink =
        LNK(nt_va, LDR_DATA_TABLE_ENTRY, InInitializationOrderLinks);

    ex.InLoadOrderLinks.Flink = LNK(nt_va, LDR_DATA_TABLE_ENTRY, InLoadOrderLinks);
    ex.InLoadOrderLinks.Blink = LNK(ldr_va, PEB_LDR_DATA, InLoadOrderModuleList);
    ex.InMemoryOrderLinks.Flink = LNK(nt_va, LDR_DATA_TABLE_ENTRY, InMemoryOrderLinks);
    ex.InMemoryOrderLinks.Blink = LNK(ldr_va, PEB_LDR_DATA, InMemoryOrderModuleList);
    nt.InLoadOrderLinks.Flink = LNK(ldr_va, PEB_LDR_DATA, InLoadOrderModuleList);
    nt.InLoadOrderLinks.Blink = LNK(ex_va, LDR_DATA_TABLE_ENTRY, InLoadOrderLinks);
    nt.InMemoryOrderLinks.Flink = LNK(ldr_va, PEB_LDR_DATA, InMemoryOrderModuleList);
    nt.InMemoryOrderLinks.Blink = LNK(ex_va, LDR_DATA_TABLE_ENTRY, InMemoryOrderLinks);
    nt.InInitializationOrderLinks.Flink = LNK(ldr_va, PEB_LDR_DATA, InInitializationOrderModuleList);
    nt.InInitializationOrderLinks.Blink = LNK(ldr_va, PEB_LDR_DATA, InInitializationOrderModuleList);

    fill_ldr_entry(&u, &ex, ex_va, exe_base, exe_size, exe_entry, exe_stamp, d->image_path,
                   d->name);
    ex.Flags = 0x000022CC;
    ex.LoadReason = 4;                           /* LoadReasonDynamicLoad-ish: the exe */
    fill_ldr_entry(&u, &nt, nt_va, USER_NTDLL_BASE, ntdll_size, ntdll_entry, ntdll_stamp,
                   "C:\\Windows\\SYSTEM32\\ntdll.dll", "ntdll.dll");
    nt.Flags = 0x0000A2C4;
    uwrite(&u, ldr_va, &ldr, sizeof ldr);
    uwrite(&u, ex_va, &ex, sizeof ex);
    uwrite(&u, nt_va, &nt, sizeof nt);

    /* PEB */
    PEB peb;
    memset(&peb, 0, sizeof peb);
    peb.ImageBaseAddress = (PVOID)exe_base;
    peb.Ldr = (PEB_LDR_DATA *)ldr_va;
    peb.ProcessParameters = (RTL_USER_PROCESS_PARAMETERS *)pp_va;
    peb.ProcessHeap = (PVOID)USER_HEAP(d->pid);
    peb.NumberOfProcessors = 1;
    peb.CriticalSectionTimeout.QuadPart = -25920000000000ll;
    peb.HeapSegmentReserve = 0x100000;
    peb.HeapSegmentCommit = 0x2000;
    peb.NumberOfHeaps = 1;
    peb.MaximumNumberOfHeaps = 16;
    peb.OSMajorVersion = 10;
    peb.OSMinorVersion = 0;
    peb.OSBuildNumber = 19041;
    peb.OSPlatformId = 2;
    peb.ImageSubsystem = 2;
    peb.ImageSubsystemMajorVersion = 10;
    peb.ActiveProcessAffinityMask = 1;
    peb.SessionId = d->session;
    uwrite(&u, USER_PEB, &peb, sizeof peb);

    /* Handle 4: an event nobody signals, which the exe waits on from ring 3
     * (app.c), so the thread blocks in a real system call. */
    KEVENT *never = mm_alloc(sizeof *never);
    KeInitializeEvent(never, 1, 0);
    PVOID *handles = mm_alloc(16 * sizeof(PVOID));
    handles[1] = never;
    p->ObjectTable->TableCode = (ULONG64)handles;
    p->ObjectTable->NextHandleNeedingPool = 16 * 4;

    /* the first thread: starts in ring 3 at ntdll!RtlUserThreadStart(entry, PEB) */
    start_user_thread(&u, p, d->tid, exe_base + exe_entry, USER_PEB, USER_TEB,
                      USER_STACK_LIMIT, USER_STACK_BASE);
    if (d->ticker_tid) {
        size_t n = (size_t)(d->exe_end - d->exe);
        ULONG tick = world_pe_export_rva(d->exe, n, "AppTickerThread");
        if (!tick)
            KeBugCheckEx(0x6B, 0, 0, 0, 6);
        map_user_range(dtb, USER_TEB2, 1);
        map_user_range(dtb, USER_STACK2_LIMIT, (USER_STACK2_BASE - USER_STACK2_LIMIT) / 0x1000);
        start_user_thread(&u, p, d->ticker_tid, exe_base + tick, USER_PEB, USER_TEB2,
                          USER_STACK2_LIMIT, USER_STACK2_BASE);
    }
}

void world_processes_init(void)
{
    PsActiveProcessHead.Flink = PsActiveProcessHead.Blink = &PsActiveProcessHead;
    PsInitialSystemProcess = create_process("System", 4, 0, 0xFFFFFFFF, mm_kernel_cr3());
    load_shared_ntdll();
    for (size_t i = 0; i < sizeof world_procs / sizeof world_procs[0]; i++)
        build_user_process(&world_procs[i]);
}
