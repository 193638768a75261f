#!/usr/bin/env python3
"""VM test: registers and the rest of the session: r cr0 cr2 cr3 cr4 gdtr
idtr in WinDbg's shape, rdmsr of GS base equal to nt!KiInitialPcr (from the
PDB), $exentry = nt's entry point, an alias typed at the prompt, ~Ns, r $t0, r reg=value, sx/sxe/sxi, an unknown command in one line,
a breakpoint on a driver that loads later (deferred, then resolved), a
DbgPrompt from the target answered from stdin, and -logo writing the
session to a file."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import VM, Kd, check, run, publics, reg, image_info, kd_hex  # noqa: E402


def main():
    syms = publics()
    log = tempfile.NamedTemporaryFile(prefix="e2e-log-", delete=False).name
    try:
        with VM("unix") as vm:
            pdbdir = os.path.dirname(os.environ["TESTNT_PDB"])
            kd = Kd(vm.spec, ["-logo", log, "-y", pdbdir + ";" + os.path.join(pdbdir, "world")])
            try:
                kd.prompt(60)
                out = kd.cmd("r cr0 cr2 cr3 cr4 gdtr idtr")
                for name in ("cr0", "cr2", "cr3", "cr4", "gdtr", "idtr"):
                    check(re.search(r"(?m)^%s=[0-9a-f]{16}$" % name, out), "%s missing: %r" % (name, out))
                check(reg(out, "cr0") & 0x80000001 == 0x80000001, "cr0 without PG|PE")
                check(reg(out, "cr3") & 0xfff == 0 and reg(out, "cr3") != 0, "cr3 %x" % reg(out, "cr3"))

                out = kd.cmd("rdmsr c0000101")
                m = re.search(r"msr\[c0000101\] = ([0-9a-f]{8})`([0-9a-f]{8})", out)
                check(m is not None, "rdmsr output %r" % out)
                check(int(m.group(1) + m.group(2), 16) == syms["KiInitialPcr"],
                      "GS base != nt!KiInitialPcr")

                check(kd.cmd("~0s").strip() == "", "~0s on the current processor")
                check("Invalid processor" in kd.cmd("~7s"), "~7s on a 1-CPU target")

                kd.cmd("r $t0=0n42")
                check(kd.cmd("r $t0").strip() == "$t0=000000000000002a", "r $t0")
                out = kd.cmd("sx")
                check(re.search(r"(?m)^ +av - Access violation - break$", out), "sx: %r" % out)
                kd.cmd("sxi av")
                check(re.search(r"(?m)^ +av - Access violation - ignore$", kd.cmd("sx")), "sxi av")
                kd.cmd("sxe av")
                # $exentry: nt's entry point from its PE header (WinDbg),
                # checked against the image's AddressOfEntryPoint.
                hdr = subprocess.run([os.environ.get("LLVM_READOBJ", "llvm-readobj"), "--file-headers",
                                      os.environ["TESTNT_EXE"]],
                                     check=True, capture_output=True, text=True).stdout
                entry = image_info()["image_base"] + int(
                    re.search(r"AddressOfEntryPoint: (0x[0-9A-Fa-f]+)", hdr).group(1), 16)
                out = kd.cmd("? $exentry")
                check("= %s" % kd_hex(entry) in out, "$exentry: %r, expected %s" % (out, kd_hex(entry)))
                # Aliases typed at the prompt expand when each command runs.
                out = kd.cmd("aS myalias 0x2a; ? ${myalias}")
                check("Evaluate expression: 42 = " in out, "alias: %r" % out)
                out = kd.cmd("frobnicate 1 2")
                check(out.strip().count("\n") == 0 and "frobnicate" in out, "unknown command: %r" % out)

                # A breakpoint in the driver: deferred while testdrv.sys is
                # not loaded yet (attach at boot), resolved when it loads.
                out = kd.cmd("bp testdrv!TestDrvDispatchCreate")
                out = kd.cmd("g", 90)
                check("Breakpoint 0 hit" in out and "testdrv!TestDrvDispatchCreate:" in out,
                      "driver breakpoint: %r" % out)
                kd.cmd("bc *")

                # DbgPrompt: the kernel asks on its idle path once
                # nt!KdpPromptRequest is set; the answer comes from stdin.
                kd.cmd("ed nt!KdpPromptRequest 1")
                kd.send("g")
                kd.expect(r"testnt> ", 60)
                kd.send("hello from the debugger")
                kd.expect(r"DbgPrompt answer: hello from the debugger\n", 60)
                kd.sigint()
                kd.prompt(30)
            finally:
                kd.close("q")
        text = open(log).read()
        check("kd> r cr0 cr2 cr3 cr4 gdtr idtr" in text or "cr0=" in text, "log file lacks the session")
        check("msr[c0000101]" in text, "log file lacks command output")
    finally:
        os.unlink(log)


run(main)
