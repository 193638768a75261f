#!/usr/bin/env python3
"""Symbols against the test VM, end to end: testnt.pdb and testdrv.pdb are
served by a local symbol server (python3 -m http.server, symstore layout);
kdclient reads each module's RSDS record from target memory, downloads the
PDBs into its cache and uses them.

Checks (oracles: llvm-pdbutil for addresses, clang's record layout of the
kernel's C headers for dt):
  .reload is lazy (deferred), .reload /f loads: lm shows nt and testdrv with
  "(pdb symbols)" and cache paths in symstore layout; x nt!Nt* lists
  NtCreateFile at its address; ln of RIP names the nearest function;
  dt nt!_EPROCESS lists the C definition's members at its offsets, and with
  an address shows the System process; lmvm; bp nt!NtCreateFile resolves by
  name and is hit.

usage: test_vm_symbols.py SYMSRV_TOOL   (env as tests/e2e: RUN_VM, KDCLIENT,
       TESTNT_EXE, TESTNT_PDB, TESTDRV_SYS, TESTDRV_PDB, CLANG)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e  # noqa: E402  (tests/e2e/e2e.py: VM and Kd drivers)

check = e2e.check


def run(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def record_layout(struct, headers_dir):
    """Top-level (offset, name) of a struct from clang's record layout of
    the kernel's own header, as compiled for the target."""
    src = os.path.join(tempfile.mkdtemp(prefix="layout-"), "l.c")
    with open(src, "w") as f:
        f.write('#include "ntdefs.h"\nstruct %s *p;\nint n = sizeof(struct %s);\n' % (struct, struct))
    out = subprocess.run([os.environ.get("CLANG", "clang"), "-target", "x86_64-pc-windows-msvc",
                          "-ffreestanding", "-fsyntax-only", "-I", headers_dir,
                          "-I", os.path.join(headers_dir, "..", "kernel"),
                          "-Xclang", "-fdump-record-layouts", src],
                         check=True, capture_output=True, text=True).stdout
    shutil.rmtree(os.path.dirname(src), ignore_errors=True)
    start = out.find("\n         0 | struct %s\n" % struct)
    check(start >= 0, "clang printed no layout for %s" % struct)
    members = []
    for line in out[start:].splitlines()[2:]:
        m = re.match(r"^\s*(\d+)(?::\d+-\d+)? \|( +)(.*)$", line)
        if not m:
            break
        if len(m.group(2)) == 3:          # depth 1: "|   type name"
            members.append((int(m.group(1)), m.group(3).split()[-1]))
    return members


def fmt64(v):
    return "%08x`%08x" % (v >> 32, v & 0xffffffff)


def publics_of(image):
    """name -> address from an image's PDB publics (llvm-pdbutil) and its
    section table (llvm-readobj)."""
    info = run(os.environ.get("LLVM_READOBJ", "llvm-readobj"), "--file-headers", "--sections", image)
    base = int(re.search(r"ImageBase: (0x[0-9A-Fa-f]+)", info).group(1), 16)
    secs = [int(v, 16) for v in re.findall(r"VirtualAddress: (0x[0-9A-F]+)", info)]
    out = run(os.environ.get("LLVM_PDBUTIL", "llvm-pdbutil"), "dump", "-publics",
              image.rsplit(".", 1)[0] + ".pdb")
    syms = {}
    for m in re.finditer(r"`([^`]+)`\s+flags = [^,]*, addr = (\d+):(\d+)", out):
        sec, off = int(m.group(2)), int(m.group(3))
        if 1 <= sec <= len(secs):
            syms[m.group(1)] = base + secs[sec - 1] + off
    return syms


def dt_members(text):
    return [(int(m.group(1), 16), m.group(2))
            for m in re.finditer(r"(?m)^   \+0x([0-9a-f]+) (\S+)\s*: ", text)]


def main():
    tool = sys.argv[1]
    # A proxy from the environment must not see the local server.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    tmp = tempfile.mkdtemp(prefix="vm-symbols-")
    server = None
    vm = None
    kd = None
    try:
        www = os.path.join(tmp, "www")
        cache = os.path.join(tmp, "cache")
        expect_cache = set()
        world = os.path.dirname(os.environ["TESTDRV_SYS"])
        user_images = {"ntdll": os.path.join(world, "ntdll.dll"),
                       "explorer": os.path.join(world, "explorer.exe")}
        for image, pdb in [(os.environ["TESTNT_EXE"], os.environ["TESTNT_PDB"]),
                           (os.environ["TESTDRV_SYS"], os.environ["TESTDRV_PDB"])] + \
                [(img, img.rsplit(".", 1)[0] + ".pdb") for img in user_images.values()]:
            name, key = run(tool, "key", image).split()
            rel = "%s/%s/%s" % (name, key, name)
            os.makedirs(os.path.dirname(os.path.join(www, rel)))
            shutil.copy(pdb, os.path.join(www, rel))
            expect_cache.add(rel)
        server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind",
                                   "127.0.0.1", "--directory", www],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        port = int(server.stdout.readline().split(" port ")[1].split()[0])
        sympath = "srv*%s*http://127.0.0.1:%d" % (cache, port)

        pub = e2e.publics()
        vm = e2e.VM("unix").__enter__()
        kd = e2e.Kd(vm.spec, ["-y", sympath])
        kd.prompt(90)

        out = kd.cmd(".reload")
        out = kd.cmd("lm")
        check(re.search(r"(?m)^fffff800`00100000 \S+   nt\s+\(deferred\)", out),
              ".reload leaves nt deferred: %r" % out)

        kd.cmd(".reload /f", 120)
        out = kd.cmd("lm")
        for mod in ("nt", "testdrv"):
            m = re.search(r"(?m)^(\S+) (\S+)   %s\s+\(pdb symbols\)\s+(\S+)$" % mod, out)
            check(m, "lm shows %s with (pdb symbols): %r" % (mod, out))
            check(m.group(3).startswith(cache + "/"), "%s PDB comes from the cache" % mod)
        kernel_cache = {r for r in expect_cache if r.split("/")[0] in ("testnt.pdb", "testdrv.pdb")}
        check(os.path.isfile(os.path.join(cache, sorted(kernel_cache)[0])), "cache populated")
        got = set()
        for d, _, files in os.walk(cache):
            got |= {os.path.relpath(os.path.join(d, f), cache) for f in files}
        check(got == kernel_cache, "cache holds exactly the symstore layout: %s" % sorted(got))

        out = kd.cmd("x nt!Nt*")
        names = re.findall(r"(?m)^([0-9a-f`]+) nt!(\S+)", out)
        check(names, "x nt!Nt* printed symbols")
        # Symbol matching is case-insensitive, as under WinDbg's default
        # symbol options (SYMOPT_CASE_INSENSITIVE).
        check(all(n.lower().startswith("nt") for _, n in names), "x honours the pattern")
        addrs = {n: int(a.replace("`", ""), 16) for a, n in names}
        check(addrs.get("NtCreateFile") == pub["NtCreateFile"],
              "x lists NtCreateFile at %x (pdbutil: %x)" % (addrs.get("NtCreateFile", 0),
                                                          pub["NtCreateFile"]))
        oracle_nt = {n for n in pub if n.lower().startswith("nt")}
        check(oracle_nt <= set(addrs), "every Nt* public listed: missing %s"
              % sorted(oracle_nt - set(addrs)))

        out = kd.cmd("r rip")
        rip = int(re.search(r"rip=([0-9a-f]+)", out).group(1), 16)
        out = kd.cmd("ln @rip")
        m = re.search(r"\(([0-9a-f`]+)\)   nt!(\w+)(\+0x([0-9a-f]+))?", out)
        check(m, "ln names a function: %r" % out)
        start = int(m.group(1).replace("`", ""), 16)
        check(start <= rip and rip - start == int(m.group(4) or "0", 16),
              "ln start + displacement = rip")
        between = [n for n, a in pub.items() if start < a <= rip]
        check(not between, "no public between the named symbol and rip: %s" % between)

        out = kd.cmd("dt nt!_EPROCESS")
        check(out.startswith("nt!_EPROCESS\n"), "dt header line")
        want = record_layout("_EPROCESS", os.path.join(os.path.dirname(os.environ["RUN_VM"]), "world"))
        got_members = dt_members(out)
        check(got_members == want, "dt nt!_EPROCESS matches the C definition:\n dt  %s\n C   %s"
              % (got_members, want))
        check(re.search(r"(?m)^   \+0x[0-9a-f]+ UniqueProcessId  : Ptr64 Void$", out),
              "WinDbg member line shape")

        links = dict((n, o) for o, n in want)["ActiveProcessLinks"]
        out = kd.cmd("dq nt!PsActiveProcessHead L1")
        first = int(out.split()[1].replace("`", ""), 16)
        eproc = first - links
        out = kd.cmd("dt nt!_EPROCESS %x UniqueProcessId ImageFileName" % eproc)
        check(re.search(r"UniqueProcessId  : 0x00000000`00000004 Void", out), "System pid 4: %r" % out)
        check(re.search(r'ImageFileName    : \[15\]  "System"', out), "System name: %r" % out)

        out = kd.cmd("dt nt!_EPROCESS -l ActiveProcessLinks.Flink %x ImageFileName" % eproc)
        names = re.findall(r'ImageFileName    : \[15\]  "([^"]*)"', out)
        check(names[:1] == ["System"] and "explorer.exe" in names and len(names) >= 8,
              "dt -l walks the process list: %s" % names)

        out = kd.cmd("lmvm testdrv")
        check("Image name: testdrv.sys" in out and "(pdb symbols)" in out, "lmvm testdrv: %r" % out)
        check(re.search(r"(?m)^    Image path: \\\S*\\testdrv\.sys$", out),
              "lmvm shows the loader's full path: %r" % out)

        out = kd.cmd("bp nt!NtCreateFile")
        out = kd.cmd("bl")
        check(re.search(r"fffff800`%08x .*nt!NtCreateFile" % (pub["NtCreateFile"] & 0xffffffff), out),
              "bp resolved nt!NtCreateFile by name: %r" % out)
        kd.send("g")
        # The stop banner names the breakpoint's place through kd_symbolize.
        out, _ = kd.expect(r"Breakpoint 0 hit\nnt!NtCreateFile:\n", 120)
        kd.prompt(30)
        # ---- user modules: .process /p /r (K) calls kd_modules_load_user ----
        kd.cmd("bc *")
        proc, seen = None, 0
        head = int(kd.cmd("? nt!PsActiveProcessHead").split("=")[1].strip().replace("`", ""), 16)
        link = first
        while link != head and seen < 64 and not proc:
            ep = link - links
            out = kd.cmd("dt nt!_EPROCESS %x ActiveProcessLinks ImageFileName" % ep)
            if '"explorer.exe"' in out:
                proc = ep
            link = int(re.search(r"_LIST_ENTRY \[ 0x([0-9a-f`]+)", out).group(1).replace("`", ""), 16)
            seen += 1
        check(proc, "explorer.exe found on the process list")
        kd.cmd(".process /p /r %x" % proc)
        kd.cmd(".reload /f /user", 120)
        out = kd.cmd("lm")
        for mod, image in user_images.items():
            info = run(os.environ.get("LLVM_READOBJ", "llvm-readobj"), "--file-headers", image)
            base = int(re.search(r"ImageBase: (0x[0-9A-Fa-f]+)", info).group(1), 16)
            size = int(re.search(r"SizeOfImage: (\d+)", info).group(1))
            line = re.search(r"(?m)^%s %s   %s\s+\(pdb symbols\)\s+%s/\S+$"
                             % (fmt64(base), fmt64(base + size), mod, re.escape(cache)), out)
            check(line, "user module %s at its base with pdb symbols: %r" % (mod, out))
        ntdll_pub = publics_of(user_images["ntdll"])
        out = kd.cmd("x ntdll!NtCreateFile")
        check(re.search(r"(?m)^%s ntdll!NtCreateFile " % fmt64(ntdll_pub["NtCreateFile"]), out),
              "x ntdll!NtCreateFile at the PDB's address: %r" % out)
        kd.cmd(".reload")
        out = kd.cmd("lm m ntdll")
        check("ntdll" in out, ".reload keeps the user modules")
        print("\nall vm symbol checks passed")
        return 0
    except e2e.TestFailure as e:
        print("\nFAIL: %s" % e)
        return 1
    finally:
        if kd:
            kd.close()
        if vm:
            vm.__exit__()
        if server:
            server.terminate()
            server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
