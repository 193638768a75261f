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

/* Called from the timer interrupt at 100 Hz: a stable, frequently executed
 * routine for breakpoint tests (bp nt!KeUpdateSystemTime). */
__declspec(noinline) void KeUpdateSystemTime(void)
{
    KiClockTick();
    KiStepTestRoutine();
    KiStepTestCounter++;
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
        KdpTrap(tf, STATUS_BREAKPOINT, 1, params, BREAKPOINT_BREAK);
        return;
    }
    case 1: {                                    /* single step or hardware breakpoint */
        /* TF is the debugger's to set again (Continue2 TraceFlag); do not
         * report it as part of the stopped context. */
        tf->rflags &= ~EFLAGS_TF;
        KdpTrap(tf, STATUS_SINGLE_STEP, 0, NULL, 0);
        return;
    }
    case 45: {                                   /* debug service: PC on the int3 after int 0x2D */
        uint64_t params[3] = { tf->rax, tf->rcx, tf->rdx };
        KdpTrap(tf, STATUS_BREAKPOINT, 3, params, (uint32_t)tf->rax);
        return;
    }
    case 13:
        if (tf->rip == (uint64_t)KdpRdmsrInsn || tf->rip == (uint64_t)KdpWrmsrInsn) {
            tf->rip = (uint64_t)KdpMsrFault;
            return;
        }
        break;
    default:
        break;
    }
    uint32_t code = KiExceptionCode(tf->vector);
    uint64_t params[2] = { (tf->error & 2) ? 1 : 0, tf->vector == 14 ? read_cr2() : 0 };
    KdpTrap(tf, code, code == STATUS_ACCESS_VIOLATION ? 2 : 0, params, 0);
    if (tf->vector == 14)
        KeBugCheckEx(0x50, params[1], params[0], tf->rip, 0);   /* PAGE_FAULT_IN_NONPAGED_AREA */
    KeBugCheckEx(0x1E, code, tf->rip, params[0], params[1]);    /* KMODE_EXCEPTION_NOT_HANDLED */
}
