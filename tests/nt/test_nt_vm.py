#!/usr/bin/env python3
"""VM tests for stacks and Windows awareness (issue 6), each against its own
test VM: `k`/`kn`/`kb`/`.frame` at a breakpoint in a nested call, `!process
0 0` (eight processes in order), `!process 0 0 lsass.exe`, `!process <addr>
7` (stacks ending in the KiSwapContext chain), `.process /p /r` + `!peb`,
`db` of the same user address in two processes, `.process` back, `!pte` and
`!vtop` against the test kernel's page tables.

Oracles are independent of kdclient: the test world's source
(tests/testvm/world/processes.c: names, PIDs, command lines, address layout;
kernel/mm.c: the kernel's direct map), llvm-pdbutil publics of testnt.pdb and
llvm-objdump's disassembly of testnt.exe (return addresses follow calls)."""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e import VM, Kd, check, publics, kd_hex, run  # noqa: E402

WORLD = os.environ.get("TESTVM_WORLD", os.path.join(HERE, "..", "testvm", "world"))
BOOT_ALIAS = 0xFFFFF80000000000   # kernel/mm.c: boot.S maps phys [0,1G) here


def world_processes():
    """(name, pid, ppid, image_path, cmdline) from processes.c's table."""
    src = open(os.path.join(WORLD, "processes.c")).read()
    table = src[src.index("world_procs[] = {"):]
    table = table[:table.index("};")]
    procs = []
    for m in re.finditer(r'\{\s*"([^"]+)",\s*(0x[0-9a-fA-F]+|\d+),\s*(0x[0-9a-fA-F]+|\d+),'
                         r'[^"]*?"((?:[^"\\]|\\.)*)",\s*((?:"(?:[^"\\]|\\.)*"\s*)+),', table, re.S):
        cmd = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(5)))
        unesc = lambda t: t.replace("\\\\", "\\")
        procs.append((m.group(1), int(m.group(2), 0), int(m.group(3), 0), unesc(m.group(4)), unesc(cmd)))
    defs = {k: int(v, 16) for k, v in re.findall(r"#define (USER_\w+)\s+(0x[0-9A-Fa-f]+)ull", src)}
    return procs, defs


def call_returns():
    """Addresses that directly follow a call instruction in testnt.exe."""
    out = subprocess.run([os.environ.get("LLVM_OBJDUMP", "llvm-objdump"), "-d", "--no-show-raw-insn",
                          os.environ["TESTNT_EXE"]], check=True, capture_output=True, text=True).stdout
    rets, prev_call = set(), False
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(\S+)", line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        if prev_call:
            rets.add(addr)
        prev_call = m.group(2).startswith("call")
    return rets


def parse_k(out):
    """[(num, child_sp, retaddr, site)] from k/kn output."""
    frames = []
    for m in re.finditer(r"(?m)^([0-9a-f]{2}) ([0-9a-f]{8}`[0-9a-f]{8}) ([0-9a-f]{8}`[0-9a-f]{8})\s+(?::.*: )?(\S+)", out):
        frames.append((int(m.group(1), 16), int(m.group(2).replace("`", ""), 16),
                       int(m.group(3).replace("`", ""), 16), m.group(4)))
    return frames


def parse_processes(out):
    procs = []
    for m in re.finditer(r"PROCESS ([0-9a-f`]+)\n\s+SessionId: (\S+)\s+Cid: ([0-9a-f]+)\s+Peb: ([0-9a-f]+)\s+"
                         r"ParentCid: ([0-9a-f]+)\n\s+DirBase: ([0-9a-f]+)\s+ObjectTable: \S+\s+HandleCount:.*\n"
                         r"\s+Image: (\S+)", out):
        procs.append({"eprocess": int(m.group(1).replace("`", ""), 16), "pid": int(m.group(3), 16),
                      "peb": int(m.group(4), 16), "ppid": int(m.group(5), 16),
                      "dirbase": int(m.group(6), 16), "image": m.group(7)})
    return procs


def start(vm):
    sym = "%s;%s" % (os.path.dirname(os.environ["TESTNT_EXE"]),
                     os.path.join(os.path.dirname(os.environ["TESTNT_EXE"]), "world"))
    kd = Kd(vm.spec, args=["-y", sym])
    kd.prompt(90)
    # Let the world come up (processes, threads blocked, testdrv loaded),
    # then break in again.
    kd.send("g")
    kd.expect(r"world up", 90)
    time.sleep(1.0)
    kd.sigint()
    kd.prompt(60)
    return kd


def test_stacks(syms, rets):
    with VM("unix") as vm:
        kd = start(vm)
        try:
            out = kd.cmd("bp testdrv!TestDrvDispatchCreate")
            check("Couldn't" not in out, "bp: %r" % out)
            kd.send("g")
            kd.prompt(90)
            out = kd.cmd("k")
            check(" # Child-SP          RetAddr               Call Site" in out, "k header: %r" % out)
            fr = parse_k(out)
            want = ["testdrv!TestDrvDispatchCreate", "nt!IofCallDriver", "nt!IopCreateFile",
                    "nt!NtCreateFile", "nt!TestFileWorkerThread", "nt!KiStartSystemThread"]
            check(len(fr) >= len(want), "k frames: %r" % out)
            check(fr[0][3] == want[0], "frame 0 is %s" % fr[0][3])
            for i in range(1, len(want)):
                name, _, off = fr[i][3].partition("+")
                check(name == want[i], "frame %d is %s, want %s" % (i, fr[i][3], want[i]))
                pc = fr[i - 1][2]   # RetAddr of the callee = this frame's call site
                sym = name.split("!")[1]
                check(sym in syms, "%s not in publics" % sym)
                check(off and int(off, 16) == pc - syms[sym], "frame %d offset %s != %x" % (i, off, pc - syms[sym]))
                check(pc in rets, "frame %d: %x does not follow a call" % (i, pc))
                check(fr[i][1] > fr[i - 1][1], "Child-SP must grow")
            for i, f in enumerate(fr):
                check(f[0] == i, "frame numbers")
            out = kd.cmd("kn 3")
            check(len(parse_k(out)) == 3, "kn 3: %r" % out)
            out = kd.cmd("kb")
            check(": Args to Child" in out and re.search(r"(?m)^00 \S+ \S+\s+: (\S+ ){4}: testdrv!TestDrvDispatchCreate$", out),
                  "kb: %r" % out)
            out = kd.cmd(".frame 2")
            check(re.search(r"(?m)^02 \S+ \S+\s+nt!IopCreateFile\+0x[0-9a-f]+$", out), ".frame 2: %r" % out)
            out = kd.cmd(".frame /r 1")
            check(re.search(r"(?m)^01 .*nt!IofCallDriver\+", out) and
                  "rsp=%016x" % fr[1][1] in out, ".frame /r 1: %r" % out)
            # k = sp ip: start the walk at frame 2's stack pointer and call site
            out = kd.cmd("k = %s %s L2" % (kd_hex(fr[2][1]), kd_hex(fr[1][2])))
            got = parse_k(out)
            check(len(got) == 2 and got[0][3] == fr[2][3] and got[0][1] == fr[2][1] and got[1][3] == fr[3][3],
                  "k = sp ip: %r" % out)
            out = kd.cmd("kc")
            check(re.search(r"(?m)^03 nt!NtCreateFile\+0x[0-9a-f]+$", out), "kc: %r" % out)
            out = kd.cmd("bc *")
        finally:
            kd.close("q")


def test_processes(world, defs):
    with VM("unix") as vm:
        kd = start(vm)
        try:
            out = kd.cmd("!process 0 0", 120)
            check("**** NT ACTIVE PROCESS DUMP ****" in out, "dump header")
            procs = parse_processes(out)
            names = [p["image"] for p in procs]
            check(names == ["System"] + [w[0] for w in world], "process order: %r" % names)
            check(procs[0]["pid"] == 4, "System pid")
            for p, w in zip(procs[1:], world):
                check(p["pid"] == w[1] and p["ppid"] == w[2], "%s cid %x/%x" % (w[0], p["pid"], p["ppid"]))
                check(p["peb"] == defs["USER_PEB"], "%s peb %x" % (w[0], p["peb"]))
            dirbases = [p["dirbase"] for p in procs]
            check(len(set(dirbases)) == len(dirbases) and all(d and not d & 0xfff for d in dirbases),
                  "DirBase values: %r" % dirbases)

            out = kd.cmd("!process 0 0 lsass.exe")
            found = parse_processes(out)
            check(len(found) == 1 and found[0]["pid"] == 0x2d8, "lsass: %r" % out)
            lsass = found[0]
            explorer = [p for p in procs if p["image"] == "explorer.exe"][0]

            out = kd.cmd("!process %s 7" % kd_hex(lsass["eprocess"]), 120)
            check("THREAD " in out, "no threads: %r" % out)
            sites = re.findall(r"(?m)^\s+[0-9a-f]{8}`[0-9a-f]{8} [0-9a-f]{8}`[0-9a-f]{8}\s+(\S+)", out)
            names = [s.split("+")[0] for s in sites]
            chain = ["nt!KiSwapContext", "nt!KiSwapThread", "nt!KeWaitForSingleObject"]
            check(any(names[i:i + 3] == chain for i in range(len(names))), "no KiSwapContext chain in %r" % names)

            # Process context: lsass, then explorer, then back.
            out = kd.cmd(".process /p /r %s" % kd_hex(lsass["eprocess"]), 120)
            check("Implicit process is now %s" % kd_hex(lsass["eprocess"]) in out, ".process: %r" % out)
            out = kd.cmd("!peb", 120)
            lw = [w for w in world if w[0] == "lsass.exe"][0]
            check("ImageFile:    '%s'" % lw[3] in out, "!peb image: %r" % out)
            check("CommandLine:  '%s'" % lw[4] in out, "!peb cmdline: %r" % out)
            out = kd.cmd("lm")
            check(re.search(r"(?mi)^[0-9a-f`]+ [0-9a-f`]+\s+lsass\b", out) and re.search(r"(?mi)\bntdll\b", out),
                  "lm after /r: %r" % out)
            # with lsass's user space and symbols, its thread's stack continues
            # across the system call into ntdll and the exe (world/user/*.c)
            out = kd.cmd("!process %s 7" % kd_hex(lsass["eprocess"]), 120)
            sites = [s.split("+")[0] for s in
                     re.findall(r"(?m)^\s+[0-9a-f]{8}`[0-9a-f]{8} [0-9a-f]{8}`[0-9a-f]{8}\s+(\S+)", out)]
            check("nt!KiSystemServiceCopyEnd" in sites and "ntdll!NtWaitForSingleObject" in sites and
                  sites.index("ntdll!NtWaitForSingleObject") == sites.index("nt!KiSystemServiceCopyEnd") + 1 and
                  any(x.startswith("lsass!") for x in sites), "user frames after /p /r: %r" % sites)
            th = re.search(r"THREAD ([0-9a-f`]+)", out).group(1)
            out = kd.cmd(".thread %s" % th)
            check("Implicit thread is now %s" % th in out, ".thread: %r" % out)
            fr = parse_k(kd.cmd("k"))
            check(fr and fr[0][3].startswith("nt!KiSwapContext+"), ".thread then k: %r" % fr)
            out = kd.cmd("dt nt!_KTHREAD %s TrapFrame" % th)
            m = re.search(r"TrapFrame\s+: 0x([0-9a-f`]+)", out)
            check(m, "dt TrapFrame: %r" % out)
            kd.cmd(".trap %s" % m.group(1))
            fr = parse_k(kd.cmd("k"))
            check(fr and fr[0][3].startswith("ntdll!NtWaitForSingleObject+") and fr[0][1] < 0x800000000000,
                  ".trap then k: %r" % fr)
            out = kd.cmd("!teb")
            check("TEB at %s" % kd_hex(defs["USER_TEB"]) in out and
                  re.search(r"ClientId:\s+00000000`000002d8 \. 00000000`000002dc", out), "!teb: %r" % out)
            kd.cmd(".thread")
            kd.cmd(".cxr")
            peb = defs["USER_PEB"]
            heap = lambda pid: 0x20000000000 + (pid << 20)
            out_l = kd.cmd("dq %s L4" % kd_hex(peb))
            ldr = int(re.findall(r"[0-9a-f]{8}`[0-9a-f]{8}", out_l)[5].replace("`", ""), 16)
            check(heap(0x2d8) <= ldr < heap(0x2d8) + (1 << 20), "lsass PEB.Ldr %x not in its heap" % ldr)
            # the same user address through the debugger's page walk and physically
            out = kd.cmd("!vtop %x %x" % (lsass["dirbase"], peb))
            m = re.search(r"translates to physical address ([0-9a-f]+)", out)
            check(m, "!vtop lsass peb: %r" % out)
            pa_l = int(m.group(1), 16)
            virt = kd.cmd("db %s L10" % kd_hex(peb + 0x10))
            phys = kd.cmd("!db %x L10" % (pa_l + 0x10))
            row = r"(?<= )((?:[0-9a-f]{2}[ -]){15}[0-9a-f]{2})(?=  )"
            vb = re.search(row, virt)
            pb = re.search(row, phys)
            check(vb and pb and vb.group(1) == pb.group(1), "db vs !db: %r %r" % (virt, phys))
            check(vb.group(1) != "00 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00", "PEB+0x10 reads as zeros")

            out = kd.cmd(".process /p %s" % kd_hex(explorer["eprocess"]), 60)
            out_e = kd.cmd("dq %s L4" % kd_hex(peb))
            ldr_e = int(re.findall(r"[0-9a-f]{8}`[0-9a-f]{8}", out_e)[5].replace("`", ""), 16)
            check(heap(0x1168) <= ldr_e < heap(0x1168) + (1 << 20), "explorer PEB.Ldr %x" % ldr_e)
            check(out_e != out_l, "same bytes in lsass and explorer")
            out = kd.cmd("!vtop %x %x" % (explorer["dirbase"], peb))
            pa_e = int(re.search(r"translates to physical address ([0-9a-f]+)", out).group(1), 16)
            check(pa_e != pa_l, "lsass and explorer PEBs share a physical page")

            # without /p: commands about explorer read its user memory through
            # its own page tables (temporary view), not the current CR3's
            out = kd.cmd(".process %s" % kd_hex(explorer["eprocess"]))
            out = kd.cmd("!peb", 120)
            ew = [w for w in world if w[0] == "explorer.exe"][0]
            check("CommandLine:  '%s'" % ew[4] in out, "!peb after .process (no /p): %r" % out)
            out = kd.cmd("!process %s 7" % kd_hex(explorer["eprocess"]), 120)
            check("ntdll!NtWaitForSingleObject+" in out, "explorer user frames: %r" % out)

            out = kd.cmd(".process")
            check("Implicit process is now" in out, ".process back: %r" % out)
            out = kd.cmd("db %s L10" % kd_hex(peb))
            check("??" in out or "error" in out.lower() or out_l not in out, "user memory still translated: %r" % out)

            # kernel page tables: the direct map of kernel/mm.c
            nt = publics()["KiSystemStartup"]
            out = kd.cmd("!vtop 0 %x" % nt)
            pa = int(re.search(r"translates to physical address ([0-9a-f]+)", out).group(1), 16)
            check(pa == nt - BOOT_ALIAS, "!vtop nt: %x != %x" % (pa, nt - BOOT_ALIAS))
            out = kd.cmd("!pte %x" % nt)
            check(re.search(r"(?m)^PXE at .*PPE at .*PDE at .*PTE at", out), "!pte layout: %r" % out)
            pfns = re.findall(r"pfn ([0-9a-f]+)", out)
            check(pfns and int(pfns[-1], 16) == (nt - BOOT_ALIAS) >> 12, "!pte pfn %r" % pfns)
        finally:
            kd.close("q")


def main():
    for var in ("TESTNT_EXE", "KDCLIENT", "RUN_VM"):
        check(var in os.environ, "%s not set" % var)
    world, defs = world_processes()
    check(len(world) == 7, "world table: %r" % world)
    which = sys.argv[1:] or ["stacks", "processes"]
    if "stacks" in which:
        test_stacks(publics(), call_returns())
    if "processes" in which:
        test_processes(world, defs)


if __name__ == "__main__":
    run(main)
