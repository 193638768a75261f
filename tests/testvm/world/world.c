/*
 * world.c - world_init / world_run, the two calls the core makes.
 */
#include "world.h"

void world_kdbg_init(ULONG64 kern_base);
extern UCHAR __ImageBase[];
extern KLDR_DATA_TABLE_ENTRY *world_testdrv_entry;
__declspec(noreturn) void KiIdleLoop(void);

/* Order matters: the kernel-stack region and testdrv.sys are mapped in the
 * kernel half before the first process address space is created, so every
 * address space shares them.  No KD traffic here (kernel.h). */
void world_init(void)
{
    world_sched_init();
    world_shared_data_init();
    world_modules_init();
    world_kdbg_init((ULONG64)__ImageBase);
    world_processes_init();
    world_io_init();
}

__declspec(noreturn) void world_run(void)
{
    KLDR_DATA_TABLE_ENTRY *drv = world_testdrv_entry;
    if (drv)
        DbgLoadImageSymbols("\\SystemRoot\\system32\\drivers\\testdrv.sys",
                            (uint64_t)drv->DllBase, drv->SizeOfImage, drv->CheckSum);
    else
        DbgPrint("testnt: testdrv.sys is missing (bad embedded PE)\n");
    DbgPrint("testnt: world up: 8 processes, NtCreateFile worker running\n");
    KiIdleLoop();
}
