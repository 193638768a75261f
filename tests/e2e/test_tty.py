#!/usr/bin/env python3
"""VM test: kdclient on a terminal (a pty): the readline prompt "0: kd> ",
Ctrl-C typed on the terminal while the target runs breaks in, Tab
completes a command name from the command table, and the history is kept
in ~/.kdclient_history."""
import os
import pty
import re
import select
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import VM, check, run  # noqa: E402


class Tty:
    def __init__(self, argv, home):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["HOME"] = home
            os.execv(argv[0], argv)
        self.out = ""

    def read_until(self, regex, timeout):
        rx = re.compile(regex)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = rx.search(self.out)
            if m:
                return m
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    self.out += os.read(self.fd, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        raise AssertionError("timed out waiting for %r; got %r" % (regex, self.out[-1500:]))

    def write(self, data):
        os.write(self.fd, data.encode())

    def close(self):
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


def main():
    home = tempfile.mkdtemp(prefix="e2e-home-")
    with VM("unix") as vm:
        t = Tty([os.environ["KDCLIENT"], "-k", vm.spec], home)
        try:
            t.read_until(r"worker running", 60)
            t.write("\x03")                                   # Ctrl-C on the terminal
            t.read_until(r"Break instruction exception - code 80000003[^\n]*\n(?:.*\n)*?.*0: kd> ", 30)
            mark = len(t.out)
            t.write(".linkst\t")                              # completes to .linkstats
            t.read_until(r"\.linkstats", 10)
            t.write("\n")
            m = t.read_until(r"packets sent\s+\d+", 20)
            check(m.start() > mark, "no .linkstats output")
            t.read_until(r"0: kd> $", 10)
            t.write("q\n")
            t.read_until(r"quit:", 10)
            time.sleep(0.5)
        except AssertionError as e:
            check(False, str(e))
        finally:
            t.close()
    hist = open(os.path.join(home, ".kdclient_history")).read()
    check(".linkstats" in hist and "q" in hist.split("\n"), "history: %r" % hist)


run(main)
