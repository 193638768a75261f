/*
 * shared_data.c - KUSER_SHARED_DATA: one page at 0xFFFFF78000000000 (kernel,
 * writable) and 0x7FFE0000 in every user process (read-only), as on Windows.
 *
 * Debuggers and user code read the time, tick count, version and
 * KdDebuggerEnabled from it.  The idle loop refreshes the times from the
 * 100 Hz tick (ke_ticks), KSYSTEM_TIME written High2, Low, High1 as the
 * kernel does so readers can detect a torn value.
 */
#include "world.h"

#define KI_USER_SHARED_DATA   0xFFFFF78000000000ull
#define MM_SHARED_USER_DATA_VA 0x000000007FFE0000ull

_Static_assert(offsetof(KUSER_SHARED_DATA, SystemTime) == 0x14, "SystemTime");
_Static_assert(offsetof(KUSER_SHARED_DATA, NtSystemRoot) == 0x30, "NtSystemRoot");
_Static_assert(offsetof(KUSER_SHARED_DATA, NtBuildNumber) == 0x260, "NtBuildNumber");
_Static_assert(offsetof(KUSER_SHARED_DATA, NtMajorVersion) == 0x26C, "NtMajorVersion");
_Static_assert(offsetof(KUSER_SHARED_DATA, KdDebuggerEnabled) == 0x2D4, "KdDebuggerEnabled");
_Static_assert(offsetof(KUSER_SHARED_DATA, TickCount) == 0x320, "TickCount");
_Static_assert(offsetof(KUSER_SHARED_DATA, Cookie) == 0x330, "Cookie");

KUSER_SHARED_DATA *KiUserSharedData;
static uint64_t KiSharedDataPage;

static void KiWriteSystemTime(volatile KSYSTEM_TIME *t, LONG64 v)
{
    t->High2Time = (LONG)(v >> 32);
    t->LowPart = (ULONG)v;
    t->High1Time = (LONG)(v >> 32);
}

void world_shared_data_update(void)
{
    KUSER_SHARED_DATA *d = KiUserSharedData;
    if (!d)
        return;
    ULONG64 ticks = ke_ticks();
    LONG64 interrupt_time = (LONG64)ticks * 100000;   /* 10 ms ticks in 100 ns units */
    KiWriteSystemTime(&d->InterruptTime, interrupt_time);
    KiWriteSystemTime(&d->SystemTime, KE_BOOT_TIME + interrupt_time);
    KiWriteSystemTime(&d->TickCount, (LONG64)ticks);
    d->TickCountLowDeprecated = (ULONG)ticks;
}

void world_shared_data_init(void)
{
    KiSharedDataPage = mm_alloc_page();
    if (!KiSharedDataPage ||
        mm_map_page(mm_kernel_cr3(), KI_USER_SHARED_DATA, KiSharedDataPage,
                    MM_PRESENT | MM_WRITE) != 0)
        return;
    KUSER_SHARED_DATA *d = mm_phys(KiSharedDataPage);
    d->TickCountMultiplier = 10u << 24;                /* ms per tick, 8.24 fixed point */
    world_ascii_to_utf16(d->NtSystemRoot, "C:\\Windows");
    d->MaxStackTraceDepth = 32;
    d->NtBuildNumber = 0xF0000000 | 19041;            /* free build */
    d->NtProductType = 1;                              /* NtProductWinNt */
    d->ProductTypeIsValid = 1;
    d->NativeProcessorArchitecture = 9;                /* PROCESSOR_ARCHITECTURE_AMD64 */
    d->NtMajorVersion = 10;
    d->NtMinorVersion = 0;
    d->KdDebuggerEnabled = 3;
    d->NumberOfPhysicalPages = (ULONG)(mm_phys_top() / 0x1000);
    d->ActiveConsoleId = 1;
    d->TestRetInstruction = 0xC3;
    d->QpcFrequency = 10000000;
    d->Cookie = 0x5A17C0DE;
    KiUserSharedData = (KUSER_SHARED_DATA *)KI_USER_SHARED_DATA;
    world_shared_data_update();
}

/* The same physical page, read-only, in a user address space. */
void world_shared_data_map_user(uint64_t dtb)
{
    if (KiSharedDataPage &&
        mm_map_page(dtb, MM_SHARED_USER_DATA_VA, KiSharedDataPage, MM_PRESENT | MM_USER) != 0)
        KeBugCheckEx(0x7D, MM_SHARED_USER_DATA_VA, KiSharedDataPage, dtb, 7);
}
