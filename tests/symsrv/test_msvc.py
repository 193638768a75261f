#!/usr/bin/env python3
"""Symbol path and module set on real MSVC output (../shared/pdb-msvc; exits
77 when absent): the symstore key of each image equals the GUID and age
llvm-pdbutil reads from its PDB, a local store chain finds and caches it,
and symbolize/lookup agree with llvm-pdbutil's publics (x86 names shown
without their C decoration, as WinDbg does).

usage: test_msvc.py SYMSRV_TOOL SHARED_DIR"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    return p.returncode, p.stdout.strip()


def main():
    tool, shared = sys.argv[1], sys.argv[2]
    d = os.path.join(shared, "pdb-msvc")
    if not os.path.isdir(d):
        print("no ../shared/pdb-msvc: skipped")
        return 77
    pdbutil = os.environ.get("LLVM_PDBUTIL", "llvm-pdbutil")
    readobj = os.environ.get("LLVM_READOBJ", "llvm-readobj")
    fails = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails.append(what)

    tmp = tempfile.mkdtemp(prefix="msvc-sym-")
    try:
        for exe, main_name in [("crash.exe", "_main"), ("CrashWithException.exe", "main")]:
            image = os.path.join(d, exe)
            pdb = image[:-4] + ".pdb"
            summary = subprocess.run([pdbutil, "dump", "-summary", pdb], check=True,
                                     capture_output=True, text=True).stdout
            guid = re.search(r"GUID: \{([0-9A-F-]+)\}", summary).group(1).replace("-", "")
            age = int(re.search(r"Age: (\d+)", summary).group(1))
            rc, out = run(tool, "key", image)
            name, key = out.split()
            check(key == "%s%X" % (guid, age), "%s: key %s from pdbutil's GUID/age" % (exe, key))

            store, cache = os.path.join(tmp, "store"), os.path.join(tmp, "cache")
            os.makedirs(os.path.join(store, name, key), exist_ok=True)
            shutil.copy(pdb, os.path.join(store, name, key, name))
            rc, out = run(tool, "find", "srv*%s*%s" % (cache, store), image)
            check(out == "FOUND " + os.path.join(cache, name, key, name),
                  "%s: found through a local store chain and cached (%s)" % (exe, out))

            hdr = subprocess.run([readobj, "--file-headers", "--sections", image], check=True,
                                 capture_output=True, text=True).stdout
            base = int(re.search(r"ImageBase: (0x[0-9A-Fa-f]+)", hdr).group(1), 16)
            secs = [int(v, 16) for v in re.findall(r"VirtualAddress: (0x[0-9A-F]+)",
                                                       hdr.split("Sections [", 1)[1])]
            pubs = subprocess.run([pdbutil, "dump", "-publics", pdb], check=True,
                                  capture_output=True, text=True).stdout
            m = re.search(r"`%s`\s+flags = function, addr = (\d+):(\d+)" % re.escape(main_name), pubs)
            addr = base + secs[int(m.group(1)) - 1] + int(m.group(2))
            mod = exe[:-4]
            shown = main_name.lstrip("_")
            rc, out = run(tool, "symbolize", image, pdb, "%x" % (addr + 1))
            check(out.splitlines()[0] == "%s!%s+0x1" % (mod, shown),
                  "%s: symbolize main+1 -> %s" % (exe, out.splitlines()[0]))
            rc, out = run(tool, "lookup", image, pdb, "%s!%s" % (mod, shown))
            check(out.splitlines()[0] == "%x" % addr, "%s: lookup %s!%s = %s (pdbutil %x)"
                  % (exe, mod, shown, out.splitlines()[0], addr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
