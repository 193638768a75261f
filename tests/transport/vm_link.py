#!/usr/bin/env python3
"""vm_link.py RUN_VM PROGRAM [ARGS...] - boot the test kernel with COM1 on
a unix socket, run PROGRAM unix:SOCKET [ARGS...] against it, stop the VM.
Exit status: PROGRAM's (77 = skipped when the VM cannot start)."""
import os
import signal
import subprocess
import sys
import tempfile


def main():
    run_vm, prog, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    with tempfile.TemporaryDirectory(prefix="kdt-vm-") as tmp:
        sock = os.path.join(tmp, "com1")
        vm = subprocess.Popen([sys.executable, run_vm, "--unix", sock],
                              stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
        try:
            line = vm.stdout.readline()
            if not line.startswith("READY"):
                print("run-vm did not come up: %r" % line, file=sys.stderr)
                return 1
            print(line.strip(), flush=True)
            return subprocess.call([prog, "unix:" + sock] + args, timeout=600)
        finally:
            try:
                os.killpg(vm.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                vm.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(vm.pid, signal.SIGKILL)
                vm.wait()


if __name__ == "__main__":
    sys.exit(main())
