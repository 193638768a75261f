#!/usr/bin/env python3
"""VM test: `.crash` shows the bugcheck text with code e2 and stops; `g`
lets the target write its dump (to COM2) and reboot, and the session
re-attaches by itself (a new banner); `.reboot` likewise.  Ctrl-C works
after each re-attach."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import VM, Kd, check, run, image_info, reg  # noqa: E402


def break_in(kd, info):
    kd.sigint()
    out = kd.prompt(30)
    check("Break instruction exception - code 80000003" in out, "break-in: %r" % out)
    rip = reg(kd.cmd("r rip"), "rip")
    check(info["image_base"] <= rip < info["image_base"] + info["size_of_image"], "rip %x" % rip)


def main():
    info = image_info()
    dump = tempfile.NamedTemporaryFile(prefix="e2e-dump-", delete=False).name
    try:
        with VM("unix", dump_to=dump) as vm:
            kd = Kd(vm.spec)
            try:
                kd.prompt(60)
                out = kd.cmd(".crash", 60)
                check("*** Fatal System Error: 0x000000e2" in out, "no bugcheck e2 text: %r" % out)
                check("Break instruction exception - code 80000003 (first chance)" in out,
                      "no break after the bugcheck")
                kd.send("g")
                out, _ = kd.expect(r"Kernel base = 0x", 120)
                check("Connected to Windows" in out, "no re-attach banner after the crash reboot")
                check(os.path.getsize(dump) > 4096, "no crash dump written (%d bytes)" % os.path.getsize(dump))
                check(kd.running_for(1.0), "target stopped after the re-attach")
                break_in(kd, info)

                kd.send(".reboot")
                out, _ = kd.expect(r"Kernel base = 0x", 120)
                check("Connected to Windows" in out, "no re-attach banner after .reboot")
                check(kd.running_for(1.0), "target stopped after .reboot")
                break_in(kd, info)
            finally:
                kd.close("q")
    finally:
        os.unlink(dump)


run(main)
