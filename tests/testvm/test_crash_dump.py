#!/usr/bin/env python3
"""VM test: .crash.  CauseBugCheck -> KeBugCheckEx(0xE2) -> a breakpoint stop
from the bugcheck path (DBG_STATUS_BUGCHECK_FIRST in rcx, KiBugCheckData
readable) -> on continue a full memory dump (DUMP_HEADER64 "PAGEDU64") on
COM2 and a machine reset -> the kernel boots again and a debugger can
re-attach.  The dump's header is checked field by field and its physical
runs are compared with memory read live before the crash.  Finally the
Reboot API resets the machine once more."""
import os
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


def wait_reboot(kd, timeout=60):
    """After a reset the new kernel's first data packet carries the SYNC
    bit again and the first stop is LoadSymbols for nt."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = kd.read_packet(1.0)
        if p is not None and p.leader == 0x30303030 and p.id == INITIAL_ID | SYNC_ID:
            return True
    return False


def parse_dump(data):
    h = {}
    h["sig"] = data[0:8]
    h["major"], h["minor"] = u32(data, 8), u32(data, 12)
    h["dtb"], h["pfn"], h["psloaded"], h["psactive"] = (u64(data, 0x10), u64(data, 0x18),
                                                        u64(data, 0x20), u64(data, 0x28))
    h["machine"], h["nprocs"], h["bugcheck"] = u32(data, 0x30), u32(data, 0x34), u32(data, 0x38)
    h["params"] = [u64(data, 0x40 + 8 * i) for i in range(4)]
    h["kdbg"] = u64(data, 0x80)
    nruns = u32(data, 0x88)
    h["npages"] = u64(data, 0x90)
    h["runs"] = [(u64(data, 0x98 + 16 * i), u64(data, 0xA0 + 16 * i)) for i in range(min(nruns, 40))]
    h["context"] = data[0x348:0x348 + 0x4D0]
    h["exception_code"] = u32(data, 0xF00)
    h["dumptype"] = u32(data, 0xF98)
    h["required"] = u64(data, 0xFA0)
    return h


def main():
    syms = oracle.publics(PDB, EXE)
    info = oracle.image_info(EXE)
    tmp = tempfile.mkdtemp(prefix="testvm-dump-")
    dump_path = os.path.join(tmp, "memory.dmp")
    with VM("unix", dump_to=dump_path) as vm:
        kd = Kd(vm.endpoint)
        kd.attach()
        kd.run_boot()
        kd.breakin()
        skip_int3(kd)
        v = kd.get_version()
        kdbg = 0
        if v["debuggerdatalist"]:
            st, d = kd.read_virtual(v["debuggerdatalist"], 8)
            kdbg = u64(d, 0) if len(d) == 8 else 0
        # Live physical memory of the image's code and read-only data.
        live = {}
        for s in info["sections"]:
            if s["name"] in (".text", ".rdata"):
                pa = 0x100000 + s["rva"]
                buf = b""
                while len(buf) < s["vsize"]:
                    st, d = kd.read_physical(pa + len(buf), min(3944, s["vsize"] - len(buf)))
                    check(st == STATUS_SUCCESS and d, "ReadPhysicalMemory %#x" % (pa + len(buf)))
                    if not d:
                        break
                    buf += d
                live[pa] = buf
                # Physical and virtual views agree.
                virt = kd.read_virtual_all(v["kernbase"] + s["rva"], 256)
                check(virt == buf[:256], "%s: physical == virtual" % s["name"])

        # .crash
        kd.request("CauseBugCheck", reply=False)
        sc = StateChange(kd.wait_data(PT_STATE_CHANGE64, 20))
        check(sc.code == STATUS_BREAKPOINT and sc.pc == syms["RtlpBreakWithStatusInstruction"],
              "bugcheck break at RtlpBreakWithStatusInstruction (pc %#x)" % sc.pc)
        check(any("Fatal System Error: 0x000000e2" in x for x in kd.prints), "bugcheck banner printed")
        st, ctx = kd.get_context()
        check(u64(ctx, 0x80) == 3, "rcx = DBG_STATUS_BUGCHECK_FIRST")
        st, d = kd.read_virtual(syms["KiBugCheckData"], 40)
        check(st == STATUS_SUCCESS and u64(d, 0) == 0xE2, "KiBugCheckData[0] = 0xE2")
        stop_rip = u64(ctx, CTX_RIP)
        skip_int3(kd)
        t0 = time.monotonic()
        kd.continue2()
        check(wait_reboot(kd), "kernel booted again after the dump")
        print("dump + reset took %.2f s" % (time.monotonic() - t0))
        check(any("Dump written" in x for x in kd.prints), "dump completion printed")

        sc = StateChange(kd.attach())
        check(sc.new_state == 0x3031 and sc.ls_base == info["image_base"], "re-attach after reset")

        data = open(dump_path, "rb").read()
        h = parse_dump(data)
        print("dump: %d bytes, runs %s" % (len(data), ["%#x+%#x" % r for r in h["runs"]]))
        check(h["sig"] == b"PAGEDU64", "dump signature %r" % h["sig"])
        check(h["machine"] == 0x8664 and h["nprocs"] == 1, "machine/processors")
        check(h["bugcheck"] == 0xE2 and h["params"] == [0, 0, 0, 0], "bugcheck code/params")
        check(h["dumptype"] == 1, "DumpType full")
        check(h["kdbg"] == kdbg, "KdDebuggerDataBlock %#x == live %#x" % (h["kdbg"], kdbg))
        check(h["psloaded"] == v["psloadedmodulelist"], "PsLoadedModuleList")
        check(u64(h["context"], CTX_RIP) == stop_rip, "dump context is the bugcheck stop")
        check(h["exception_code"] == STATUS_BREAKPOINT, "dump exception record")
        check(h["npages"] == sum(n for _, n in h["runs"]), "NumberOfPages == sum of runs")
        check(len(data) == h["required"] == 0x2000 + h["npages"] * 4096,
              "file size %d == RequiredDumpSpace %d" % (len(data), h["required"]))
        # Physical runs match the live reads.
        offset = 0x2000
        where = {}
        for base, count in h["runs"]:
            where[(base, count)] = offset
            offset += count * 4096
        for pa, buf in live.items():
            found = False
            for (base, count), off in where.items():
                if base * 4096 <= pa and pa + len(buf) <= (base + count) * 4096:
                    at = off + pa - base * 4096
                    check(data[at:at + len(buf)] == buf, "dump page data at %#x matches live read" % pa)
                    found = True
            check(found, "physical %#x is inside a dump run" % pa)

        # Reboot API: no reply, the machine resets and boots again.
        kd.request("Reboot", reply=False)
        check(wait_reboot(kd), "kernel booted again after Reboot")
        sc = StateChange(kd.attach())
        check(sc.new_state == 0x3031, "attach after Reboot")
        kd.close()
    try:
        os.unlink(dump_path)
        os.rmdir(tmp)
    except OSError:
        pass
    return finish()


if __name__ == "__main__":
    sys.exit(main())
