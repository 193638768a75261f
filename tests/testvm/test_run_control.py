#!/usr/bin/env python3
"""VM test: run control against real code.  int3 breakpoints (WriteBreakPoint
/ RestoreBreakPoint, deletion inside the reported instruction bytes),
TF single-step through nt!KiStepTestRoutine with exact PCs and RAX values,
SetContext, a hardware execute breakpoint (KernelDr0 + Dr7), MSRs,
RESEND on a bad checksum, and a DbgPrompt round trip."""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kdmini import (Kd, VM, StateChange, u16, u32, u64, CTX_RAX, PT_STATE_CHANGE64,
                    PT_DEBUG_IO, PT_MANIPULATE, PT_RESEND, LEADER_CONTROL, STATUS_SUCCESS,
                    STATUS_UNSUCCESSFUL, STATUS_BREAKPOINT, STATUS_SINGLE_STEP,
                    check, finish, skip_int3)  # noqa: E402
import oracle  # noqa: E402

EXE = os.environ["TESTNT_EXE"]
PDB = os.environ["TESTNT_PDB"]


def stop(kd, timeout=10):
    return StateChange(kd.wait_data(PT_STATE_CHANGE64, timeout))


def main():
    syms = oracle.publics(PDB, EXE)
    step = syms["KiStepTestRoutine"]
    with VM("unix") as vm:
        kd = Kd(vm.endpoint)
        kd.attach()
        kd.run_boot()
        b = StateChange(kd.breakin())
        check(b.pc == syms["RtlpBreakWithStatusInstruction"], "breakin PC")
        skip_int3(kd)

        # --- int3 breakpoint on code the timer runs 100 times a second ---
        st, orig = kd.read_virtual(step, 16)
        check(orig[:1] == b"\x90", "KiStepTestRoutine starts with nop")
        st, h = kd.write_breakpoint(step)
        check(st == STATUS_SUCCESS and 1 <= h <= 32, "WriteBreakPoint handle %d" % h)
        st, h2 = kd.write_breakpoint(step)
        check(st == STATUS_UNSUCCESSFUL and h2 == 0, "second breakpoint at the same address refused")
        kd.continue2()
        s = stop(kd)
        check(s.code == STATUS_BREAKPOINT and s.pc == step, "int3 hit at KiStepTestRoutine (pc %#x)" % s.pc)
        check(s.exc_address == step, "ExceptionAddress on the int3")
        st, ctx = kd.get_context()
        st, ret = kd.read_virtual(u64(ctx, 0x98), 8)
        kus = syms["KeUpdateSystemTime"]
        check(kus < u64(ret, 0) < kus + 0x40, "return address into KeUpdateSystemTime (%#x)" % u64(ret, 0))
        check(s.stream == orig[:s.icount], "instruction stream shows original bytes")
        # Breakpoints inside the reported instruction bytes were deleted.
        check(kd.restore_breakpoint(h) == STATUS_UNSUCCESSFUL, "breakpoint deleted at stop")
        st, now = kd.read_virtual(step, 1)
        check(now == b"\x90", "original byte back")

        # --- single step with exact PCs and registers ---
        kd.continue2(trace=True)
        s = stop(kd)
        check(s.code == STATUS_SINGLE_STEP and s.pc == step + 1, "step 1 -> +1 (pc %#x)" % s.pc)
        kd.continue2(trace=True)
        s = stop(kd)
        check(s.pc == step + 6, "step 2 -> +6")
        st, ctx = kd.get_context()
        check(u64(ctx, CTX_RAX) & 0xFFFFFFFF == 0x1234, "rax = 0x1234 after mov")
        check(not (u32(ctx, 0x44) & 0x100), "TF not left in the reported EFlags")
        # SetContext: change RAX before the add executes.
        struct.pack_into("<Q", ctx, CTX_RAX, 0x100)
        check(kd.set_context(ctx) == STATUS_SUCCESS, "SetContext")
        kd.continue2(trace=True)
        s = stop(kd)
        check(s.pc == step + 9, "step 3 -> +9")
        st, ctx = kd.get_context()
        check(u64(ctx, CTX_RAX) == 0x200, "add used the RAX set by SetContext (%#x)" % u64(ctx, CTX_RAX))
        kd.continue2()

        # --- range stepping: Continue2 with a symbol range reports only
        # the first step that leaves it ---
        kd.breakin()
        skip_int3(kd)
        st, h = kd.write_breakpoint(step)
        kd.continue2()
        s = stop(kd)
        check(s.pc == step, "at KiStepTestRoutine again")
        kd.restore_breakpoint(h)
        kd.continue2(trace=True, sym_range=(step, step + 9))
        s = stop(kd)
        check(s.code == STATUS_SINGLE_STEP and s.pc == step + 9,
              "range step [+0, +9) stops first at +9 (pc %#x)" % s.pc)
        kd.continue2()

        # --- hardware execute breakpoint: KernelDr0 via control space, Dr7 via Continue2 ---
        b = StateChange(kd.breakin())
        skip_int3(kd)
        st, sp = kd.read_control(2, 0xF0)
        sp = bytearray(sp)
        struct.pack_into("<Q", sp, 0x20, step + 6)
        r = kd.request("WriteControlSpace", struct.pack("<QII", 2, len(sp), 0), bytes(sp))
        check(u32(r, 8) == STATUS_SUCCESS, "WriteControlSpace(2)")
        kd.continue2(dr7=0x1)                        # L0, execute, length 1
        s = stop(kd)
        check(s.code == STATUS_SINGLE_STEP and s.pc == step + 6, "hardware breakpoint hit at +6 (pc %#x)" % s.pc)
        check(s.dr6 & 1, "Dr6.B0 set (%#x)" % s.dr6)
        check(s.dr7 & 1, "Dr7 reported")
        kd.continue2(dr7=0)                          # clear it; must keep running
        time.sleep(0.3)
        b = StateChange(kd.breakin())
        check(b.pc == syms["RtlpBreakWithStatusInstruction"], "no hardware hit after Dr7 = 0")
        skip_int3(kd)

        # --- physical memory: the image sits at physical 0x100000, so
        # VA - 0xFFFFF800`00000000 is its physical address ---
        va = syms["KdpLastPromptResponse"] + 64
        pa = va - 0xFFFFF80000000000
        r = kd.request("WritePhysicalMemory", struct.pack("<QII", pa, 8, 0), b"PHYSTEST")
        check(u32(r, 8) == STATUS_SUCCESS and u32(r, 0x1C) == 8, "WritePhysicalMemory")
        st, d = kd.read_virtual(va, 8)
        check(d == b"PHYSTEST", "physical write visible at the virtual address")
        st, d = kd.read_physical(pa, 8)
        check(st == STATUS_SUCCESS and d == b"PHYSTEST", "ReadPhysicalMemory")
        st, d = kd.read_physical(0x7FFFFFF0, 16)
        check(st == STATUS_UNSUCCESSFUL and not d, "physical read beyond RAM fails")

        # --- a 0x62 while stopped: the state change comes again, once ---
        kd.s.write(b"b")
        n = 0
        t_end = time.monotonic() + 3.5
        while time.monotonic() < t_end:
            p = kd.read_packet(0.3)
            if p and p.leader == 0x30303030 and p.type == PT_STATE_CHANGE64:
                n += 1
        check(n == 1, "one state change re-sent after a breakin byte while stopped (%d)" % n)

        # --- MSRs ---
        st, efer = kd.read_msr(0xC0000080)
        check(st == STATUS_SUCCESS and efer & 0x500 == 0x500, "EFER.LME/LMA (%#x)" % efer)
        # IA32_SYSENTER_EIP: unused in long mode, safe to scribble on.
        st, saved = kd.read_msr(0x176)
        r = kd.request("WriteMsr", struct.pack("<III", 0x176, 0x89ABCDEF, 0xFFFFF801))
        check(u32(r, 8) == STATUS_SUCCESS, "WriteMsr SYSENTER_EIP")
        st, v = kd.read_msr(0x176)
        check(v == 0xFFFFF80189ABCDEF, "MSR write read back (%#x)" % v)
        kd.request("WriteMsr", struct.pack("<III", 0x176, saved & 0xFFFFFFFF, saved >> 32))
        st, _ = kd.read_msr(0x12345678)
        check(st == 0xC000000E, "bad MSR -> STATUS_NO_SUCH_DEVICE (%#x)" % st)

        # --- a request with a bad checksum is answered with RESEND ---
        pkt = struct.pack("<IHHI", 0x3146, 0, 0, 0) + b"\0" * 44
        kd.s.write(struct.pack("<IHHII", 0x30303030, PT_MANIPULATE, len(pkt), kd.next_id,
                               (sum(pkt) + 1) & 0xFFFFFFFF) + pkt + b"\xaa")
        got_resend = False
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            p = kd.read_packet(0.5)
            if p and p.leader == LEADER_CONTROL and p.type == PT_RESEND:
                got_resend = True
                break
        check(got_resend, "RESEND after bad checksum")
        v = kd.get_version()
        check(v["status"] == STATUS_SUCCESS, "link usable after RESEND")

        # --- one breakin byte while DbgPrints stream (DEBUG_IO ACK waits) ---
        n0 = len(kd.prints)
        kd.write_virtual(syms["KiPrintStressCount"], struct.pack("<I", 100000))
        kd.continue2()
        t_end = time.monotonic() + 0.7
        while time.monotonic() < t_end:
            kd.read_packet(0.05)
        kd.s.write(b"b")
        s = stop(kd, 5)
        check(s.code == STATUS_BREAKPOINT and s.pc == syms["RtlpBreakWithStatusInstruction"],
              "single breakin during a print storm")
        check(len(kd.prints) - n0 > 10, "prints streamed (%d)" % (len(kd.prints) - n0))
        kd.write_virtual(syms["KiPrintStressCount"], struct.pack("<I", 0))
        skip_int3(kd)

        # --- a breakpoint on a routine the debugger uses itself (memcpy):
        # it must not recurse; the target drops it and keeps serving ---
        st, orig_memcpy = kd.read_virtual(syms["memcpy"], 1)
        st, hm = kd.write_breakpoint(syms["memcpy"])
        check(st == STATUS_SUCCESS and hm, "bp on memcpy accepted")
        v = kd.get_version()
        check(v["status"] == STATUS_SUCCESS, "target still answers with a bp on memcpy")
        st, now = kd.read_virtual(syms["memcpy"], 1)
        check(now == orig_memcpy, "memcpy's first byte restored")
        check(kd.restore_breakpoint(hm) == STATUS_UNSUCCESSFUL, "nested bp was dropped")

        # --- a request instead of the ACK of a state change: the target
        # answers RESEND, takes its state change as delivered, and serves
        # the request when it is sent again (ReactOS KdReceivePacket) ---
        kd.continue2()
        kd.auto_ack = False
        kd.s.write(b"b")
        sc_pkt = kd.wait_data(PT_STATE_CHANGE64, 10)
        pkt = struct.pack("<IHHI", 0x3146, 0, 0, 0x103) + b"\0" * 44
        kd.send_data(PT_MANIPULATE, pkt)
        got_resend = False
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not got_resend:
            p = kd.read_packet(0.5)
            got_resend = bool(p and p.leader == LEADER_CONTROL and p.type == PT_RESEND)
        kd.auto_ack = True
        kd.last_data_id = sc_pkt.id
        check(got_resend, "RESEND for a request sent instead of an ACK")
        v = kd.get_version()          # sends it again (same id), gets the reply
        check(v["status"] == STATUS_SUCCESS, "request served after RESEND")
        skip_int3(kd)

        # --- DbgPrompt round trip: ask for it through nt!KdpPromptRequest ---
        if "KdpPromptRequest" in syms:
            st, n = kd.write_virtual(syms["KdpPromptRequest"], struct.pack("<I", 1))
            check(st == STATUS_SUCCESS and n == 4, "write KdpPromptRequest")
            kd.continue2()
            p = kd.wait_data(PT_DEBUG_IO, 10, lambda p: u32(p.payload, 0) == 0x3231)
            plen = u32(p.payload, 8)
            check(p.payload[16:16 + plen] == b"testnt> ", "prompt text")
            answer = b"hello kd"
            reply = struct.pack("<IHHII", 0x3231, 0, 0, plen, len(answer)) + answer
            kd.send_data(PT_DEBUG_IO, reply)
            kd.next_id ^= 1
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any("hello kd" in x for x in kd.prints):
                kd.read_packet(0.5)
            check(any("DbgPrompt answer: hello kd" in x for x in kd.prints), "DbgPrompt answer echoed")
            b = StateChange(kd.breakin())
            skip_int3(kd)
            st, d = kd.read_virtual(syms["KdpLastPromptResponse"], 8)
            check(d == answer, "KdpLastPromptResponse holds the answer")
        else:
            check(False, "KdpPromptRequest symbol missing")
        kd.continue2()
        kd.close()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
