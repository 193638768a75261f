#!/usr/bin/env python3
"""VM test: breakpoints and stepping against the test kernel, with the
address of nt!NtCreateFile taken from the PDB by llvm-pdbutil (independent
of kdclient's symbol layer):
  bp hits, bl lists it in WinDbg's shape with its hit count, t moves RIP by
  one instruction, p steps over a call, bd disables, ba e1 hits on DR0-3,
  ba r4 on a variable stops in the code that reads it, be enables again, bc clears, and the target runs freely afterwards."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import VM, Kd, check, run, publics, image_info, kd_hex, reg, location  # noqa: E402

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "unix"


def bl_line(out, bpid):
    m = re.search(r"(?m)^ +%d ([ed])u? (Disable|Enable) Clear  ([0-9a-f`]+) (.{3}) (\d{4}) \((\d{4})\) .*hits (\d+)$"
                  % bpid, out)
    check(m is not None, "bl has no line for %d: %r" % (bpid, out))
    return m


def main():
    syms = publics()
    info = image_info()
    addr = syms["NtCreateFile"]
    with VM(BACKEND) as vm:
        kd = Kd(vm.spec)
        try:
            kd.prompt(60)
            check(kd.cmd("bp %s" % kd_hex(addr)).strip() == "", "bp printed something")
            m = bl_line(kd.cmd("bl"), 0)
            check(m.group(1) == "e" and m.group(3) == kd_hex(addr) and m.group(7) == "0",
                  "bl before the hit: %r" % m.group(0))

            out = kd.cmd("g")
            check("Breakpoint 0 hit" in out, "bp 0 did not hit: %r" % out)
            a, n, mnem = location(out)
            check(a == addr, "stopped at %x, not %x" % (a, addr))
            check(reg(kd.cmd("r rip"), "rip") == addr, "rip at the breakpoint")
            m = bl_line(kd.cmd("bl"), 0)
            check(m.group(7) == "1", "hit count after one hit: %r" % m.group(0))

            # t: one instruction (the first one of NtCreateFile is no branch)
            check(mnem not in ("call", "jmp", "ret") and not mnem.startswith("j"),
                  "unexpected first instruction %s" % mnem)
            out = kd.cmd("t")
            check(reg(out, "rip") == addr + n, "t moved rip to %x, expected %x" % (reg(out, "rip"), addr + n))

            # p: step until a call, then p steps over it to the next instruction
            for _ in range(60):
                a, n, mnem = location(out)
                if mnem == "call":
                    break
                out = kd.cmd("p")
            check(mnem == "call", "no call reached by p")
            out = kd.cmd("p")
            check("Breakpoint" not in out, "p stopped in a breakpoint: %r" % out)
            check(reg(out, "rip") == a + n, "p over the call at %x went to %x" % (a, reg(out, "rip")))

            # bd: disabled breakpoints do not hit; ba e1 on DR0-3 does
            kd.cmd("bd 0")
            m = bl_line(kd.cmd("bl"), 0)
            check(m.group(1) == "d" and m.group(2) == "Enable", "bd 0: %r" % m.group(0))
            check(kd.cmd("ba e1 %s" % kd_hex(addr)).strip() == "", "ba printed something")
            m = bl_line(kd.cmd("bl"), 1)
            check(m.group(4) == "e 1", "ba line: %r" % m.group(0))
            out = kd.cmd("g")
            check("Breakpoint 1 hit" in out and "Breakpoint 0 hit" not in out,
                  "ba e1 did not hit (or bd failed): %r" % out)
            check(reg(kd.cmd("r rip"), "rip") == addr, "rip at the ba hit")

            # ba r4 on data: the idle path reads nt!KdpPromptRequest; a data
            # breakpoint traps after the access, inside the reader.
            kd.cmd("bc 1")
            kd.cmd("ba r4 %s" % kd_hex(syms["KdpPromptRequest"]))
            m = bl_line(kd.cmd("bl"), 1)
            check(m.group(4) == "r 4", "ba r4 line: %r" % m.group(0))
            out = kd.cmd("g")
            check("Breakpoint 1 hit" in out, "ba r4 did not hit: %r" % out)
            a, _, _ = location(out)
            check(info["image_base"] <= a < syms["KdpPromptRequest"],
                  "ba r4 stopped at %x, outside nt's code" % a)

            # be / bc
            kd.cmd("bc 1")
            kd.cmd("be 0")
            out = kd.cmd("g")
            check("Breakpoint 0 hit" in out, "bp 0 after be: %r" % out)
            m = bl_line(kd.cmd("bl"), 0)
            check(m.group(1) == "e" and m.group(7) == "2", "bl after be: %r" % m.group(0))
            check(re.search(r"(?m)^ +1 ", kd.cmd("bl")) is None, "bc 1 left it")
            kd.cmd("bc *")
            check(kd.cmd("bl").strip() == "", "bc * left breakpoints")

            # With every breakpoint gone the target runs until Ctrl-C.
            kd.send("g")
            kd.expect(r"g\n", 10)
            check(kd.running_for(2.0), "target stopped without breakpoints")
            kd.sigint()
            out = kd.prompt(30)
            check("Break instruction exception" in out, "break-in after bc *")
        finally:
            kd.close("q")


run(main)
