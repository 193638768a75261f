#!/usr/bin/env python3
"""VM test: attach while the test kernel runs (unix, tcp, pty), break in
with Ctrl-C, `r` shows a RIP inside nt's image, `dq` of KernBase shows the
MZ header, `g` keeps it running (the hard-coded int3 of the break-in is
skipped), and a second Ctrl-C breaks in again."""
import sys
import os
import re
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import VM, Kd, check, image_info, kd_hex, reg, location, run  # noqa: E402

BACKENDS = sys.argv[1:] or ["unix", "tcp", "pty"]


def one(backend, info):
    print("== back end:", backend)
    with VM(backend) as vm:
        time.sleep(1.0)                 # the kernel is running on its own
        kd = Kd(vm.spec, break_in=False)
        try:
            out, m = kd.expect(r"Kernel base = 0x([0-9a-f`]+) PsLoadedModuleList", 60)
            check("Connected to Windows" in out, "banner")
            kern = int(m.group(1).replace("`", ""), 16)
            check(kern == info["image_base"], "Kernel base %x != %x" % (kern, info["image_base"]))
            # Without -b the target runs after attach: nothing until Ctrl-C.
            check(kd.running_for(1.5), "target did not keep running after attach")
            kd.sigint()
            out = kd.prompt(30)
            check("Break instruction exception - code 80000003 (first chance)" in out,
                  "break-in text missing: %r" % out)
            addr, _, mnem = location(out)
            check(mnem == "int", "break-in stops on an int3, got %r" % mnem)

            out = kd.cmd("r")
            rip = reg(out, "rip")
            check(info["image_base"] <= rip < info["image_base"] + info["size_of_image"],
                  "rip %x outside nt" % rip)
            check(rip == addr, "r's rip %x != stop address %x" % (rip, addr))

            out = kd.cmd("dq %s L2" % kd_hex(kern))
            m = re.search(r"%s  [0-9a-f]{8}`[0-9a-f]{4}([0-9a-f]{4})" % re.escape(kd_hex(kern)), out)
            check(m and m.group(1) == "5a4d", "no MZ at KernBase: %r" % out)

            # g: the int3 at RIP is not ours, so it is skipped (SetContext
            # Rip+1); otherwise the target would stop again at once.
            kd.send("g")
            kd.expect(r"g\n", 10)
            check(kd.running_for(2.0), "target stopped again right after g (int3 not skipped?)")
            kd.sigint()
            out = kd.prompt(30)
            check("Break instruction exception - code 80000003" in out, "second break-in")
            out = kd.cmd("r rip")
            check(info["image_base"] <= reg(out, "rip") < info["image_base"] + info["size_of_image"],
                  "rip after second break-in")
        finally:
            rc = kd.close("q")
        check(rc == 0, "kdclient exit status %s" % rc)


def main():
    info = image_info()
    for b in BACKENDS:
        one(b, info)


run(main)
