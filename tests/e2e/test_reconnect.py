#!/usr/bin/env python3
"""VM test: a dropped link.  With ",reconnect" in the connection string
kdclient reconnects by itself when the VM comes back on the same port and
attaches to the new boot; without it, it says so in one line and keeps
the prompt (no exit)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import VM, Kd, check, run, free_port, image_info, reg  # noqa: E402


class PortVM(VM):
    """run-vm on a fixed TCP port (the reconnect needs the same one)."""

    def __init__(self, port):
        super().__init__("tcp")
        self.port = port

    def __enter__(self):
        import subprocess
        import tempfile
        self.tmp = tempfile.mkdtemp(prefix="e2e-")
        self.proc = subprocess.Popen([os.environ["RUN_VM"], "--image", os.environ["TESTNT_EXE"],
                                      "--tcp", str(self.port)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        check(line.startswith("READY "), "run-vm said %r" % line)
        self.spec = line.split(" ", 1)[1].strip()
        return self


def main():
    info = image_info()
    port = free_port()
    vm1 = PortVM(port).__enter__()
    kd = Kd("tcp:127.0.0.1:%d,reconnect" % port, break_in=False)
    try:
        kd.expect(r"Kernel base = 0x", 60)
        kd.expect(r"worker running", 60)    # the target runs on its own
        time.sleep(0.5)
        vm1.__exit__()
        kd.expect(r"dropped; reconnecting", 30)
        with PortVM(port):
            out, _ = kd.expect(r"Kernel base = 0x", 90)
            check("Connected to Windows" in out, "no banner after the reconnect")
            kd.sigint()
            kd.prompt(30)
            rip = reg(kd.cmd("r rip"), "rip")
            check(info["image_base"] <= rip < info["image_base"] + info["size_of_image"], "rip")
            kd.close("q")
    finally:
        kd.close("q")

    # Without ,reconnect: one line, and the prompt stays usable.
    with VM("unix") as vm:
        kd = Kd(vm.spec, break_in=False)
        try:
            kd.expect(r"Kernel base = 0x", 60)
            kd.expect(r"worker running", 60)
            time.sleep(0.5)
            vm.__exit__()
            out = kd.prompt(30)
            check("link to the target is gone" in out, "no one-line message: %r" % out)
            check(kd.proc.poll() is None, "kdclient exited")
            check("quit" in kd.cmd(".help q"), "prompt not usable after the drop")
        finally:
            kd.close("q")


run(main)
