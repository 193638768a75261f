/*
 * bugcheck.c - KeBugCheckEx: record KiBugCheckData, print the classic line,
 * break into the debugger with DBG_STATUS_BUGCHECK_FIRST, then stream a
 * 64-bit full memory dump (DUMP_HEADER64, "PAGEDU64") to COM2 and reset.
 */
#include "ke.h"

uint64_t KiBugCheckData[5];
volatile uint32_t KiBugCheckActive;

/* The CONTEXT (0x4D0 bytes) of the last debugger stop; the bugcheck stop is
 * the last one before the dump, so this is what the dump header carries. */
uint8_t KdpLastStopContext[0x4D0];
uint8_t KdpLastStopException[0x98];

#define DUMP_HEADER_SIZE 0x2000

static void d16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void d32(uint8_t *p, uint32_t v) { d16(p, (uint16_t)v); d16(p + 2, (uint16_t)(v >> 16)); }
static void d64(uint8_t *p, uint64_t v) { d32(p, (uint32_t)v); d32(p + 4, (uint32_t)(v >> 32)); }

/* Physical runs in the dump: the image, and every page the allocator handed
 * out.  Memory the kernel never touched (low memory, free RAM) is left out,
 * which keeps the dump - and the time it takes over a 16550 - small. */
extern uint64_t MmDumpRunEnd(void);
extern uint64_t MmFirstAllocatedPage(void);

void KiWriteCrashDump(void)
{
    static uint8_t h[DUMP_HEADER_SIZE];
    uint64_t first = MmFirstAllocatedPage();
    uint64_t runs[2][2] = {
        { KERNEL_IMAGE_PHYS >> 12, (MmImageSize() + MM_PAGE_SIZE - 1) >> 12 },
        { first >> 12, (MmDumpRunEnd() - first) >> 12 },
    };
    memset(h, 0, sizeof(h));
    memcpy(h + 0x00, "PAGE", 4);
    memcpy(h + 0x04, "DU64", 4);
    d32(h + 0x08, 0x0F);
    d32(h + 0x0C, 19041);
    d64(h + 0x10, read_cr3());
    d64(h + 0x18, 0);                             /* PfnDataBase: none */
    d64(h + 0x20, world_ps_loaded_module_list());
    d64(h + 0x28, world_ps_active_process_head());
    d32(h + 0x30, 0x8664);
    d32(h + 0x34, 1);
    d32(h + 0x38, (uint32_t)KiBugCheckData[0]);
    for (int i = 1; i < 5; i++)
        d64(h + 0x40 + 8 * (i - 1), KiBugCheckData[i]);
    d64(h + 0x80, world_kd_debugger_data_block());
    uint64_t pages = runs[0][1] + runs[1][1];
    d32(h + 0x88, 2);                             /* PHYSICAL_MEMORY_DESCRIPTOR64 */
    d64(h + 0x90, pages);
    for (int i = 0; i < 2; i++) {
        d64(h + 0x98 + 16 * i, runs[i][0]);
        d64(h + 0xA0 + 16 * i, runs[i][1]);
    }
    memcpy(h + 0x348, KdpLastStopContext, sizeof(KdpLastStopContext));
    memcpy(h + 0xF00, KdpLastStopException, sizeof(KdpLastStopException));
    d32(h + 0xF98, 1);                            /* DumpType: full */
    d64(h + 0xFA0, DUMP_HEADER_SIZE + pages * MM_PAGE_SIZE);   /* RequiredDumpSpace */
    memcpy(h + 0xFB0, "testnt full memory dump", 24);          /* Comment */

    KiSerialWriteFast(COM2, h, sizeof(h));
    for (int i = 0; i < 2; i++)
        KiSerialWriteFast(COM2, mm_phys(runs[i][0] << 12), runs[i][1] << 12);
}

void KeBugCheckEx(unsigned long code, uint64_t p1, uint64_t p2, uint64_t p3, uint64_t p4)
{
    ke_disable_interrupts();
    KiBugCheckData[0] = code;
    KiBugCheckData[1] = p1;
    KiBugCheckData[2] = p2;
    KiBugCheckData[3] = p3;
    KiBugCheckData[4] = p4;
    KiBugCheckActive = 1;
    DbgPrint("\n*** Fatal System Error: 0x%08x\n                       (0x%p,0x%p,0x%p,0x%p)\n\n",
             (unsigned)code, (void *)p1, (void *)p2, (void *)p3, (void *)p4);
    DbgBreakPointWithStatus(DBG_STATUS_BUGCHECK_FIRST);
    DbgPrint("Writing crash dump to COM2...\n");
    KiWriteCrashDump();
    DbgPrint("Dump written; resetting.\n");
    KiResetMachine();
}
