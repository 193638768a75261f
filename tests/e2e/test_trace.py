#!/usr/bin/env python3
"""VM test: scripted tracing, non-interactive (the user's second use case):

  kdclient -k ... -c 'bp nt!NtCreateFile ".printf \\"%msu\\\\n\\", poi(@r8+10); gc"; g'

must print the test kernel's file names in their fixed order (as listed in
tests/testvm/world/io.c) for at least 30 hits without a prompt, then Ctrl-C
(SIGINT) breaks in and `qd` leaves kdclient with the target running."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import VM, Kd, check, run, TestFailure  # noqa: E402

HITS = 30


def expected_names():
    src = open(os.path.join(os.environ["TESTVM_WORLD"], "io.c")).read()
    block = src[src.index("IopTestFileNames"):]
    block = block[:block.index("};")]
    names = [n.replace("\\\\", "\\") for n in re.findall(r'L"((?:[^"\\]|\\.)*)"', block)]
    check(len(names) >= 2, "cannot read the worker's names from io.c")
    return names


def main():
    names = expected_names()
    script = 'bp nt!NtCreateFile ".printf \\"%msu\\\\n\\", poi(@r8+10); gc"; g'
    with VM("unix") as vm:
        kd = Kd(vm.spec, ["-y", os.path.dirname(os.environ["TESTNT_PDB"]), "-c", script],
                break_in=False)
        try:
            seen = []
            deadline = time.monotonic() + 120
            while len(seen) < HITS + len(names):
                check(time.monotonic() < deadline, "only %d names traced" % len(seen))
                _, m = kd.expect(r"(?m)^(\\{1,2}\?\?\\{1,2}C:[^\n]*)\n", 60)
                # The format escapes of the printf layer may double a
                # backslash; the names and their order are what matter.
                seen.append(m.group(1).replace("\\\\", "\\"))
            check(not re.search(r"(?m)^\d+: kd> ", kd.buf[:kd.pos]),
                  "a prompt appeared while tracing (gc must keep running)")
            start = names.index(seen[0]) if seen[0] in names else -1
            check(start >= 0, "first traced name %r is not one of the worker's" % seen[0])
            for i, n in enumerate(seen):
                want = names[(start + i) % len(names)]
                check(n == want, "hit %d: %r, expected %r" % (i, n, want))
            kd.sigint()
            out = kd.prompt(30)
            check("Break instruction exception - code 80000003" in out, "Ctrl-C did not break in")
            kd.send("qd")
            kd.expect(r"quit:", 20)
            kd.proc.wait(20)
            check(kd.proc.returncode == 0, "kdclient exit status %s" % kd.proc.returncode)
        finally:
            kd.close("q")
        # qd resumed the target: the worker keeps printing.
        check(vm.proc.poll() is None, "VM died")


run(main)
