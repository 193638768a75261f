/*
 * cpu.c - GDT (Windows x64 selector layout), TSS, IDT, the 8259 PIC and the
 * 100 Hz PIT, TSC calibration, MSR and debug-register helpers.
 */
#include "ke.h"

/* Selector layout copied from what x64 Windows uses, so contexts look
 * familiar: 0x10 code, 0x18 data, 0x20 user 32-bit code, 0x28 user data
 * (0x2B), 0x30 user code (0x33), 0x40 TSS, 0x50 user TEB data (0x53). */
static uint64_t KiGdt[12];
static uint8_t KiTss[104] __attribute__((aligned(16)));
static uint8_t KiIdt[256 * 16] __attribute__((aligned(16)));
static uint64_t KiTscPerMillisecond = 1000000;
static volatile uint64_t KeTickCount;

extern void KiTrap0(void), KiTrap1(void), KiTrap2(void), KiTrap3(void), KiTrap4(void),
    KiTrap5(void), KiTrap6(void), KiTrap7(void), KiTrap8(void), KiTrap9(void),
    KiTrap10(void), KiTrap11(void), KiTrap12(void), KiTrap13(void), KiTrap14(void),
    KiTrap15(void), KiTrap16(void), KiTrap17(void), KiTrap18(void), KiTrap19(void),
    KiTrap20(void), KiTrap21(void), KiTrap22(void), KiTrap23(void), KiTrap24(void),
    KiTrap25(void), KiTrap26(void), KiTrap27(void), KiTrap28(void), KiTrap29(void),
    KiTrap30(void), KiTrap31(void), KiTrap32(void), KiTrap39(void), KiTrap45(void);

static void (*const KiTrapStubs[32])(void) = {
    KiTrap0, KiTrap1, KiTrap2, KiTrap3, KiTrap4, KiTrap5, KiTrap6, KiTrap7,
    KiTrap8, KiTrap9, KiTrap10, KiTrap11, KiTrap12, KiTrap13, KiTrap14, KiTrap15,
    KiTrap16, KiTrap17, KiTrap18, KiTrap19, KiTrap20, KiTrap21, KiTrap22, KiTrap23,
    KiTrap24, KiTrap25, KiTrap26, KiTrap27, KiTrap28, KiTrap29, KiTrap30, KiTrap31,
};

/* #DF and NMI run on their own stack (IST1), so a kernel stack overflow
 * becomes a bugcheck the debugger sees instead of a triple fault. */
static uint8_t KiDoubleFaultStack[16384] __attribute__((aligned(16)));

static void KiSetIdtGate(int vec, void (*handler)(void), int dpl)
{
    uint64_t a = (uint64_t)handler;
    uint8_t *e = &KiIdt[vec * 16];
    e[0] = (uint8_t)a;
    e[1] = (uint8_t)(a >> 8);
    e[2] = KGDT64_R0_CODE;
    e[3] = 0;
    e[4] = (vec == 8 || vec == 2) ? 1 : 0;      /* IST1 */
    e[5] = (uint8_t)(0x8E | (dpl << 5));        /* present interrupt gate */
    e[6] = (uint8_t)(a >> 16);
    e[7] = (uint8_t)(a >> 24);
    for (int i = 0; i < 4; i++)
        e[8 + i] = (uint8_t)(a >> (32 + 8 * i));
    e[12] = e[13] = e[14] = e[15] = 0;
}

static void KiInitGdt(void)
{
    uint64_t tss = (uint64_t)KiTss;
    KiGdt[0] = 0;
    KiGdt[1] = 0;
    KiGdt[2] = 0x00209B0000000000ull;           /* 0x10 ring 0 code, long mode */
    KiGdt[3] = 0x00CF93000000FFFFull;           /* 0x18 ring 0 data */
    KiGdt[4] = 0x00CFFB000000FFFFull;           /* 0x20 ring 3 32-bit code */
    KiGdt[5] = 0x00CFF3000000FFFFull;           /* 0x28 ring 3 data */
    KiGdt[6] = 0x0020FB0000000000ull;           /* 0x30 ring 3 code, long mode */
    KiGdt[7] = 0;
    KiGdt[8] = (sizeof(KiTss) - 1) | ((tss & 0xFFFFFF) << 16) | (0x89ull << 40) |
               (((tss >> 24) & 0xFF) << 56);    /* 0x40 TSS (available) */
    KiGdt[9] = tss >> 32;
    KiGdt[10] = 0x00CFF3000000FFFFull;          /* 0x50 ring 3 data (TEB) */
    KiGdt[11] = 0;
    KiTss[0x66] = sizeof(KiTss);                /* no I/O bitmap */
    uint64_t ist1 = (uint64_t)(KiDoubleFaultStack + sizeof(KiDoubleFaultStack));
    for (int i = 0; i < 8; i++)
        KiTss[0x24 + i] = (uint8_t)(ist1 >> (8 * i));

    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr = { sizeof(KiGdt) - 1, (uint64_t)KiGdt };
    __asm__ volatile("lgdt %0" : : "m"(gdtr));
    KiReloadSegments(KGDT64_R0_CODE, KGDT64_R3_DATA);
    __asm__ volatile("ltr %w0" : : "r"(0x40));
}

static void KiInitIdt(void)
{
    for (int i = 0; i < 32; i++)
        KiSetIdtGate(i, KiTrapStubs[i], (i == 3) ? 3 : 0);
    KiSetIdtGate(32, KiTrap32, 0);
    KiSetIdtGate(39, KiTrap39, 0);
    KiSetIdtGate(45, KiTrap45, 3);
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = { sizeof(KiIdt) - 1, (uint64_t)KiIdt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

static void KiInitPic(void)
{
    /* Remap IRQ0-15 to vectors 0x20-0x2F; only IRQ0 (PIT) unmasked. */
    outb(0x20, 0x11);
    outb(0xA0, 0x11);
    outb(0x21, 0x20);
    outb(0xA1, 0x28);
    outb(0x21, 0x04);
    outb(0xA1, 0x02);
    outb(0x21, 0x01);
    outb(0xA1, 0x01);
    outb(0x21, 0xFE);
    outb(0xA1, 0xFF);
}

static void KiCalibrateTsc(void)
{
    /* PIT channel 2, one-shot 10 ms, gate via port 0x61.  Under TCG the TSC
     * follows the host clock, so this gives real milliseconds for the KD
     * timeouts. */
    uint16_t count = 11932;
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xB0);
    outb(0x42, (uint8_t)count);
    outb(0x42, (uint8_t)(count >> 8));
    uint64_t t0 = rdtsc();
    uint64_t guard = 0;
    while (!(inb(0x61) & 0x20) && ++guard < 100000000)
        ;
    uint64_t t1 = rdtsc();
    if (t1 > t0 && guard < 100000000)
        KiTscPerMillisecond = (t1 - t0) / 10;
    if (KiTscPerMillisecond < 1000)
        KiTscPerMillisecond = 1000;
}

static void KiInitPit(void)
{
    uint16_t div = 11932;                       /* 1193182 Hz / 100 */
    outb(0x43, 0x34);
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));
}

void KiInitCpu(void)
{
    KiInitGdt();
    KiInitIdt();
    KiInitPic();
    KiCalibrateTsc();
    KiInitPit();
}

uint64_t KiTscPerMs(void)
{
    return KiTscPerMillisecond;
}

void KiClockTick(void)
{
    KeTickCount++;
}

uint64_t ke_ticks(void)
{
    return KeTickCount;
}

void ke_set_kernel_stack(uint64_t rsp0)
{
    for (int i = 0; i < 8; i++)
        KiTss[4 + i] = (uint8_t)(rsp0 >> (8 * i));
}

uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

void write_cr3(uint64_t cr3)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

uint64_t ke_disable_interrupts(void)
{
    uint64_t fl;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(fl) : : "memory");
    return fl;
}

void ke_restore_interrupts(uint64_t rflags)
{
    if (rflags & EFLAGS_IF)
        __asm__ volatile("sti" : : : "memory");
}

void ke_idle_wait(void)
{
    __asm__ volatile("sti; hlt" : : : "memory");
}

uint64_t KiReadDr(int n)
{
    uint64_t v = 0;
    switch (n) {
    case 0: __asm__ volatile("mov %%dr0, %0" : "=r"(v)); break;
    case 1: __asm__ volatile("mov %%dr1, %0" : "=r"(v)); break;
    case 2: __asm__ volatile("mov %%dr2, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("mov %%dr3, %0" : "=r"(v)); break;
    case 6: __asm__ volatile("mov %%dr6, %0" : "=r"(v)); break;
    case 7: __asm__ volatile("mov %%dr7, %0" : "=r"(v)); break;
    }
    return v;
}

void KiWriteDr(int n, uint64_t v)
{
    switch (n) {
    case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(v)); break;
    case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(v)); break;
    case 2: __asm__ volatile("mov %0, %%dr2" : : "r"(v)); break;
    case 3: __asm__ volatile("mov %0, %%dr3" : : "r"(v)); break;
    case 6: __asm__ volatile("mov %0, %%dr6" : : "r"(v)); break;
    case 7: __asm__ volatile("mov %0, %%dr7" : : "r"(v)); break;
    }
}

uint16_t KiReadSeg(int which)
{
    uint16_t v = 0;
    switch (which) {
    case 0: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
    case 1: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
    case 2: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
    }
    return v;
}

void KiReadGdtr(uint8_t out[10])
{
    __asm__ volatile("sgdt %0" : "=m"(*(uint8_t(*)[10])out));
}

void KiReadIdtr(uint8_t out[10])
{
    __asm__ volatile("sidt %0" : "=m"(*(uint8_t(*)[10])out));
}

uint16_t KiReadTr(void)
{
    uint16_t v;
    __asm__ volatile("str %0" : "=r"(v));
    return v;
}

void KiResetMachine(void)
{
    /* Reset control register (0xCF9) first, then the keyboard controller,
     * then a triple fault.  QEMU without -no-reboot restarts the guest. */
    outb(0xCF9, 0x02);
    outb(0xCF9, 0x06);
    outb(0x64, 0xFE);
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } none = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(none));
    for (;;)
        __asm__ volatile("cli; hlt");
}
