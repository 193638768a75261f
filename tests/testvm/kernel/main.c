/*
 * main.c - KiSystemStartup: the order in which the test kernel comes up.
 * serial -> memory -> GDT/IDT/PIC/PIT -> world structures -> first KD
 * traffic (banner DbgPrint, LoadSymbols for nt, which waits for a
 * debugger) -> interrupts on -> the world's scheduler.
 */
#include "ke.h"

#define MSR_GS_BASE        0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102

static const char KiNtImagePath[] = "\\SystemRoot\\system32\\testnt.exe";

static uint32_t KiImageField32(uint32_t nt_offset)
{
    uint32_t lfanew = *(volatile uint32_t *)(KERNEL_IMAGE_BASE + 0x3C);
    return *(volatile uint32_t *)(KERNEL_IMAGE_BASE + lfanew + nt_offset);
}

void KiSystemStartup(uint32_t multiboot_info)
{
    KiInitSerial(COM1);
    KiInitSerial(COM2);
    MmInitSystem(multiboot_info);
    KiInitCpu();
    KdInitSystem();

    world_init();
    uint64_t pcr = world_kpcr();
    if (pcr) {
        wrmsr(MSR_GS_BASE, pcr);
        wrmsr(MSR_KERNEL_GS_BASE, 0);
    }

    DbgPrint("testnt: kdclient test kernel, build %d, KernBase %p, %u MB RAM\n", 19041,
             (void *)KERNEL_IMAGE_BASE, (unsigned)(mm_phys_top() >> 20));
    DbgLoadImageSymbols(KiNtImagePath, KERNEL_IMAGE_BASE, (uint32_t)MmImageSize(),
                        KiImageField32(0x18 + 0x40));   /* OptionalHeader.CheckSum */

    __asm__ volatile("sti");
    world_run();
}
