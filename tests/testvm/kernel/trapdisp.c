/*
 * trapdisp.c - KiTrapDispatch: every vector lands here with its trap frame.
 * Breakpoint (#BP), debug (#DB) and debug-service (int 0x2D) traps go to the
 * debugger; the timer ticks and polls for a breakin; faults are reported to
 * the debugger first-chance and then bugcheck, as on Windows.
 */
#include "ke.h"

void KiClockTick(void);
void KdpCheckPromptRequest(void);

volatile uint64_t KiStepTestCounter;

/* Write N (ed nt!KiPrintStressCount 0n1000) and continue: the next N timer
 * ticks each DbgPrint a line, to exercise DEBUG_IO traffic while running
 * (breakins that race prints, slow ACKs). */
volatile uint32_t KiPrintStressCount;

/* Write 1 (ed nt!KiFaultTestRequest 1) and continue: the next timer tick
 * reads an unmapped kernel address in KiFaultTestRoutine, for tests of
 * access-violation stops, first/second chance and the 0x50 bugcheck. */
volatile uint32_t KiFaultTestRequest;
#define KI_FAULT_TEST_ADDRESS 0xFFFFF800DEAD0000ull

__declspec(noinline) uint64_t KiFaultTestRoutine(void)
{
    return *(volatile uint64_t *)KI_FAULT_TEST_ADDRESS;
}

/* Called from the timer interrupt at 100 Hz: a stable, frequently executed
 * routine for breakpoint tests (bp nt!KeUpdateSystemTime). */
__declspec(noinline) void KeUpdateSystemTime(void)
{
    KiClockTick();
    KiStepTestRoutine();
    KiStepTestCounter++;
    if (KiPrintStressCount) {
        KiPrintStressCount--;
        DbgPrint("testnt: print stress %u\n", KiPrintStressCount);
    }
    if (KiFaultTestRequest) {
        KiFaultTestRequest = 0;
        KiFaultTestRoutine();
    }
}

static uint32_t KiExceptionCode(uint64_t vector)
{
    switch (vector) {
    case 0: return STATUS_INTEGER_DIVIDE_BY_ZERO;
    case 6: return STATUS_ILLEGAL_INSTRUCTION;
    default: return STATUS_ACCESS_VIOLATION;
    }
}

void KiTrapDispatch(KX_TRAP_FRAME *tf)
{
    switch (tf->vector) {
    case 32:                                     /* PIT */
        outb(0x20, 0x20);
        KeUpdateSystemTime();
        KdpPollBreakinFromInterrupt();
        return;
    case 39:                                     /* spurious IRQ7 */
        return;
    case 3: {                                    /* int3: PC on the int3 (fact sheet 8) */
        uint64_t params[1] = { BREAKPOINT_BREAK };
        tf->rip -= 1;
        KdpTrap(tf, STATUS_BREAKPOINT, 1, params, BREAKPOINT_BREAK, 1);
        return;
    }
    case 1: {                                    /* single step or hardware breakpoint */
        /* TF is the debugger's to set again (Continue2 TraceFlag); do not
         * report it as part of the stopped context. */
        tf->rflags &= ~EFLAGS_TF;
        KdpTrap(tf, STATUS_SINGLE_STEP, 0, NULL, 0, 1);
        return;
    }
    case 45: {                                   /* debug service: PC on the int3 after int 0x2D */
        uint64_t params[3] = { tf->rax, tf->rcx, tf->rdx };
        KdpTrap(tf, STATUS_BREAKPOINT, 3, params, (uint32_t)tf->rax, 1);
        return;
    }
    case 8:                                      /* double fault: no recovery */
        KeBugCheckEx(0x7F, 8, tf->rsp, tf->rip, 0);   /* UNEXPECTED_KERNEL_MODE_TRAP */
    case 13:
        if (tf->rip == (uint64_t)KdpRdmsrInsn || tf->rip == (uint64_t)KdpWrmsrInsn) {
            tf->rip = (uint64_t)KdpMsrFault;
            return;
        }
        break;
    default:
        break;
    }
    /* Faults: first chance to the debugger; "handled" retries the
     * instruction (after the debugger fixed things up), "not handled" gives
     * the second chance report, then the bugcheck - there are no exception
     * handlers in this kernel. */
    uint32_t code = KiExceptionCode(tf->vector);
    uint64_t params[2] = { (tf->error & 2) ? 1 : 0, tf->vector == 14 ? read_cr2() : 0 };
    uint32_t np = code == STATUS_ACCESS_VIOLATION ? 2 : 0;
    if (!(KdpTrap(tf, code, np, params, 0, 1) & 0x80000000u))
        return;
    KdpTrap(tf, code, np, params, 0, 0);
    if (tf->vector == 14)
        KeBugCheckEx(0x50, params[1], params[0], tf->rip, 0);   /* PAGE_FAULT_IN_NONPAGED_AREA */
    KeBugCheckEx(0x1E, code, tf->rip, params[0], params[1]);    /* KMODE_EXCEPTION_NOT_HANDLED */
}
