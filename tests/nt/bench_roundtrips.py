#!/usr/bin/env python3
"""bench_roundtrips - KD round trips per nt-awareness command against the
test VM (not a test: ./run bench runs it; numbers go to docs/PERFORMANCE.md,
section "Round trips per command").

Boots the test kernel, attaches, lets the world come up, breaks in, then
runs each command with `.linkstats` before and after and prints the
difference in round trips (request + reply pairs on the KDCOM link).
A command is measured twice: first right after a stop (cold: the target
layer's per-stop cache is empty), then again at the same stop (warm)."""
import os
import re
import sys
import time

CONF = {"KDCLIENT": "@KDCLIENT@", "TESTNT_EXE": "@TESTNT_EXE@", "TESTNT_PDB": "@TESTNT_PDB@",
        "RUN_VM": "@RUN_VM@", "E2E_DIR": "@E2E_DIR@"}
for k, v in CONF.items():
    if not v.startswith("@"):
        os.environ.setdefault(k, v)
sys.path.insert(0, os.environ.get("E2E_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")))
from e2e import VM, Kd, kd_hex  # noqa: E402


def trips(kd):
    out = kd.cmd(".linkstats")
    m = re.search(r"round trips\s+(\d+)", out)
    return int(m.group(1)) if m else -1


def measure(kd, line, timeout=300):
    a = trips(kd)
    out = kd.cmd(line, timeout)
    b = trips(kd)
    return b - a, out


def main():
    sym = "%s;%s" % (os.path.dirname(os.environ["TESTNT_EXE"]),
                     os.path.join(os.path.dirname(os.environ["TESTNT_EXE"]), "world"))
    rows = []
    with VM("unix") as vm:
        kd = Kd(vm.spec, args=["-y", sym])
        kd.prompt(120)
        kd.send("g")
        kd.expect(r"world up", 120)
        time.sleep(1.0)
        kd.sigint()
        kd.prompt(60)
        kd.cmd("lm")                       # symbols for nt located (deferred loads happen on use)
        kd.cmd("!process 0 0 System")      # nt PDB and offsets loaded once
        kd.cmd("bp testdrv!TestDrvDispatchCreate")
        kd.send("g")
        kd.prompt(120)
        kd.cmd("bc *")
        n, out = measure(kd, "!process 0 0")
        nproc = len(re.findall(r"(?m)^PROCESS ", out))
        rows.append(("!process 0 0 (cold, %d processes)" % nproc, n))
        n, _ = measure(kd, "!process 0 0")
        rows.append(("!process 0 0 (warm)", n))
        n, out = measure(kd, "k")
        nfr = len(re.findall(r"(?m)^[0-9a-f]{2} ", out))
        rows.append(("k (%d frames)" % nfr, n))
        n, _ = measure(kd, "k")
        rows.append(("k (warm)", n))
        lsass = re.search(r"PROCESS ([0-9a-f`]+)\n(?:.*\n){2}\s+Image: lsass.exe", kd.cmd("!process 0 0 lsass.exe"))
        ep = lsass.group(1)
        n, _ = measure(kd, ".process /p /r %s" % ep)
        rows.append((".process /p /r <lsass>", n))
        n, _ = measure(kd, "!peb")
        rows.append(("!peb (lsass, through the view)", n))
        n, out = measure(kd, "!process %s 7" % ep)
        rows.append(("!process <lsass> 7 (%d threads)" % len(re.findall(r"(?m)^\s+THREAD ", out)), n))
        kd.cmd(".process")
        kd.close("q")
    print("%-44s %s" % ("command", "round trips"))
    for name, n in rows:
        print("%-44s %d" % (name, n))


if __name__ == "__main__":
    main()
