#!/usr/bin/env python3
"""VM test: a kernel access violation.  nt!KiFaultTestRequest makes the next
timer tick read an unmapped address in nt!KiFaultTestRoutine: first-chance
STATUS_ACCESS_VIOLATION with the faulting address; "handled" retries it
(a new first-chance stop); "not handled" gives the second-chance report,
then KeBugCheckEx(0x50 PAGE_FAULT_IN_NONPAGED_AREA) with its parameters,
a dump on COM2 carrying that code, and a reboot.  Then a double fault
(a bad kernel RSP) bugchecks 0x7F on the IST stack."""
import os
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kdmini import (Kd, VM, StateChange, u32, u64, CTX_RIP, PT_STATE_CHANGE64,
                    STATUS_SUCCESS, STATUS_BREAKPOINT, INITIAL_ID, SYNC_ID,
                    check, finish, skip_int3)  # noqa: E402
import oracle  # noqa: E402

EXE = os.environ["TESTNT_EXE"]
PDB = os.environ["TESTNT_PDB"]
FAULT_ADDRESS = 0xFFFFF800DEAD0000
DBG_EXCEPTION_NOT_HANDLED = 0x80010001


def main():
    syms = oracle.publics(PDB, EXE)
    fault_fn = syms["KiFaultTestRoutine"]
    tmp = tempfile.mkdtemp(prefix="testvm-fault-")
    dump_path = os.path.join(tmp, "memory.dmp")
    with VM("unix", dump_to=dump_path) as vm:
        kd = Kd(vm.endpoint)
        kd.attach()
        kd.run_boot()
        kd.breakin()
        skip_int3(kd)
        st, n = kd.write_virtual(syms["KiFaultTestRequest"], struct.pack("<I", 1))
        check(st == STATUS_SUCCESS, "write KiFaultTestRequest")
        kd.continue2()
        s = StateChange(kd.wait_data(PT_STATE_CHANGE64, 10))
        check(s.code == 0xC0000005, "access violation (%#x)" % s.code)
        check(fault_fn <= s.pc < fault_fn + 32, "PC in KiFaultTestRoutine (%#x)" % s.pc)
        check(s.first_chance == 1, "first chance")
        check(s.nparams == 2 and s.params[0] == 0 and s.params[1] == FAULT_ADDRESS,
              "parameters read, %#x: %s" % (FAULT_ADDRESS, [hex(x) for x in s.params[:2]]))

        kd.continue2()                                   # "handled": retried
        s2 = StateChange(kd.wait_data(PT_STATE_CHANGE64, 10))
        check(s2.code == 0xC0000005 and s2.pc == s.pc and s2.first_chance == 1,
              "handled -> the instruction faults again")

        kd.continue2(status=DBG_EXCEPTION_NOT_HANDLED)   # "not handled"
        s3 = StateChange(kd.wait_data(PT_STATE_CHANGE64, 10))
        check(s3.code == 0xC0000005 and s3.first_chance == 0, "second chance report")
        kd.continue2(status=DBG_EXCEPTION_NOT_HANDLED)
        s4 = StateChange(kd.wait_data(PT_STATE_CHANGE64, 10))
        check(s4.code == STATUS_BREAKPOINT and s4.pc == syms["RtlpBreakWithStatusInstruction"],
              "bugcheck break")
        check(any("Fatal System Error: 0x00000050" in x for x in kd.prints), "0x50 banner")
        st, d = kd.read_virtual(syms["KiBugCheckData"], 40)
        check(u64(d, 0) == 0x50 and u64(d, 8) == FAULT_ADDRESS and u64(d, 24) == s.pc,
              "KiBugCheckData = 50, addr, 0, pc: %s" % [hex(u64(d, 8 * i)) for i in range(5)])
        skip_int3(kd)
        kd.continue2()
        deadline = time.monotonic() + 60
        rebooted = False
        while time.monotonic() < deadline and not rebooted:
            p = kd.read_packet(1.0)
            rebooted = bool(p and p.leader == 0x30303030 and p.id & ~1 == INITIAL_ID | SYNC_ID)
        check(rebooted, "rebooted after the dump")
        data = open(dump_path, "rb").read()
        check(data[:8] == b"PAGEDU64" and u32(data, 0x38) == 0x50, "dump carries bugcheck 0x50")

        # A double fault (kernel stack pointer into unmapped memory) runs on
        # its own IST stack and bugchecks 0x7F (8, rsp, rip) instead of
        # resetting the machine.
        kd.attach()
        kd.run_boot()
        kd.breakin()
        st, ctx = kd.get_context()
        struct.pack_into("<Q", ctx, CTX_RIP, u64(ctx, CTX_RIP) + 1)
        struct.pack_into("<Q", ctx, 0x98, FAULT_ADDRESS)          # Rsp
        kd.set_context(ctx)
        kd.continue2()
        s5 = StateChange(kd.wait_data(PT_STATE_CHANGE64, 10))
        check(s5.code == STATUS_BREAKPOINT and s5.pc == syms["RtlpBreakWithStatusInstruction"],
              "double fault reaches the bugcheck break")
        st, d = kd.read_virtual(syms["KiBugCheckData"], 24)
        check(u64(d, 0) == 0x7F and u64(d, 8) == 8 and u64(d, 16) == FAULT_ADDRESS,
              "KiBugCheckData = 7F, 8, rsp: %s" % [hex(u64(d, 8 * i)) for i in range(3)])
        kd.close()
    try:
        os.unlink(dump_path)
        os.rmdir(tmp)
    except OSError:
        pass
    return finish()


if __name__ == "__main__":
    sys.exit(main())
