/*
 * ke.h - internal declarations of the test kernel core (not for the world;
 * the world uses kernel.h only).
 */
#ifndef TESTVM_KE_H
#define TESTVM_KE_H

#include "kernel.h"

/* What trap.S pushes; layout must match KiTrapCommon exactly. */
typedef struct KX_TRAP_FRAME {
    uint8_t fx[512];                       /* fxsave image (FltSave in CONTEXT) */
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;     /* pushed by the CPU */
} KX_TRAP_FRAME;

#define EFLAGS_TF 0x100ull
#define EFLAGS_IF 0x200ull
#define EFLAGS_RF 0x10000ull

/* NTSTATUS values the kernel uses (fact sheet section 14). */
#define STATUS_SUCCESS                0x00000000u
#define STATUS_UNSUCCESSFUL           0xC0000001u
#define STATUS_NO_SUCH_DEVICE         0xC000000Eu
#define STATUS_BREAKPOINT             0x80000003u
#define STATUS_SINGLE_STEP            0x80000004u
#define STATUS_ACCESS_VIOLATION       0xC0000005u
#define STATUS_ILLEGAL_INSTRUCTION    0xC000001Du
#define STATUS_INTEGER_DIVIDE_BY_ZERO 0xC0000094u
#define DBG_STATUS_CONTROL_C          1
#define DBG_STATUS_BUGCHECK_FIRST     3

/* Debug service numbers carried in eax by int 0x2D (Windows' values). */
#define BREAKPOINT_BREAK          0
#define BREAKPOINT_PRINT          1
#define BREAKPOINT_PROMPT         2
#define BREAKPOINT_LOAD_SYMBOLS   3
#define BREAKPOINT_UNLOAD_SYMBOLS 4

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr8(void) { uint64_t v; __asm__ volatile("mov %%cr8, %0" : "=r"(v)); return v; }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

/* serial.c: COM1 is the KD port, COM2 receives crash dumps. */
#define COM1 0x3F8
#define COM2 0x2F8
void KiInitSerial(uint16_t port);
void KiSerialPut(uint16_t port, uint8_t b);
void KiSerialWrite(uint16_t port, const void *buf, size_t len);
void KiSerialWriteFast(uint16_t port, const void *buf, size_t len);
int KiSerialPoll(uint16_t port, uint8_t *b);          /* 1 = got a byte */

/* cpu.c */
void KiInitCpu(void);
uint64_t KiTscPerMs(void);
uint64_t KiReadDr(int n);
void KiWriteDr(int n, uint64_t v);
uint16_t KiReadSeg(int which);                         /* 0 ds 1 es 2 fs 3 gs */
void KiReadGdtr(uint8_t out[10]);
void KiReadIdtr(uint8_t out[10]);
uint16_t KiReadTr(void);
__declspec(noreturn) void KiResetMachine(void);

/* mm.c */
void MmInitSystem(uint32_t multiboot_info_pa);
uint64_t MmImageSize(void);

/* kd*.c */
void KdInitSystem(void);
/* Report an exception; returns the debugger's continue status
 * (NT_SUCCESS = handled, DBG_EXCEPTION_NOT_HANDLED = pass it on). */
uint32_t KdpTrap(KX_TRAP_FRAME *tf, uint32_t code, uint32_t nparams, const uint64_t *params,
                 uint32_t service, int first_chance);
void KdpPollBreakinFromInterrupt(void);
int KdpSafeRdmsr(uint32_t msr, uint64_t *value);
int KdpSafeWrmsr(uint32_t msr, uint64_t value);
void KdpRdmsrInsn(void);
void KdpWrmsrInsn(void);
void KdpMsrFault(void);
uint64_t KdpDebugService(uint32_t service, uint64_t a1, uint64_t a2, uint64_t a3);

/* kdcom.c: the KDCOM packet layer (target side) */
#define KDP_PACKET_RECEIVED 0
#define KDP_PACKET_TIMEOUT  1
#define KDP_PACKET_RESEND   2
void KdpComInit(void);
void KdpSendPacket(uint16_t type, const void *msg, uint32_t len);
int KdpReceivePacket(uint16_t type, void *buf, uint32_t max, uint32_t *len, uint32_t timeout_ms);
int KdpControlCPending(void);

/* bugcheck / dump */
void KiWriteCrashDump(void);
extern uint64_t KiBugCheckData[5];

/* trap.S */
void KiReloadSegments(uint64_t cs, uint64_t ds);
void KeUpdateSystemTime(void);
void KiStepTestRoutine(void);

#endif
