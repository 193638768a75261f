#!/usr/bin/env python3
"""VM test: E2's memory, expression, .printf, search and disassembly
commands through the real kdclient against the test kernel, compared with
an independent reading of testnt.exe/testnt.pdb (bytes from the file,
addresses from llvm-pdbutil, formatting redone here in Python).

usage: test_vm_commands.py KDCLIENT   (env: TESTNT_EXE, TESTNT_PDB, RUN_VM)
"""
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testvm"))
from kdmini import VM, check, finish  # noqa: E402
import oracle  # noqa: E402

KDCLIENT = sys.argv[1]
EXE = os.environ["TESTNT_EXE"]
PDB = os.environ["TESTNT_PDB"]


def addr64(v):
    return "%08x`%08x" % (v >> 32, v & 0xffffffff)


def db_line(addr, data):
    hexes = ""
    for i, b in enumerate(data):
        hexes += ("-" if i == 8 else " ") + "%02x" % b
    asc = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in data)
    return "%s %s  %s" % (addr64(addr), hexes, asc)


def run_kd(endpoint, commands):
    """Run the commands, each followed by a marker, and return a list of
    output chunks, one per command."""
    parts = []
    for c in commands:
        parts.append(c)
        parts.append(".echo ==E2MARK==")
    script = "; ".join(parts) + "; q"
    p = subprocess.run([KDCLIENT, "-k", endpoint, "-y", os.path.dirname(PDB), "-c", script],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    chunks = out.split("==E2MARK==\n")
    # chunk 0 starts with the attach banner; keep only what follows the
    # last prompt-less banner line (the first command's output is last).
    return chunks, out


def main():
    info = oracle.image_info(EXE)
    base = info["image_base"]
    image = open(EXE, "rb").read()
    syms = oracle.publics(PDB, EXE)
    ntcf = syms.get("NtCreateFile")
    check(ntcf is not None, "NtCreateFile in the PDB publics")
    if ntcf is None:
        return
    # Scratch qword: the zero padding at the end of the header page, which
    # no code reads (writing the kernel's .data could disturb the world).
    scratch = base + 0xff8
    check(image[0xff8:0x1000] == bytes(8), "header page padding is zero in the file")

    commands = [
        "db nt L20",                                   # 0
        "dq nt L2",                                    # 1
        "? nt!NtCreateFile",                           # 2
        "u nt!NtCreateFile L40",                       # 3
        '.printf "%ma|%p\\n", nt+4e, nt',              # 4
        's -a nt L1000 "This program"',                # 5
        "!db 100000 L10",                              # 6
        "dq %x L1" % scratch,                          # 7 (original value)
        "eq %x 1122334455667788; dq %x L1" % (scratch, scratch),   # 8
        "uf nt!NtCreateFile",                          # 9
        "dq 1000 L1",                                  # 10 user half: unreadable
        "dd nt+3c L1",                                 # 11 e_lfanew
        "? poi(nt+3c) & ffffffff",                     # 12
        "uf nt!IopCreateFile",                         # 13
    ]
    with VM("unix") as vm:
        chunks, out = run_kd(vm.endpoint, commands)
        print(out)
        # ub must give back exactly the instructions u showed before the
        # fourth one of NtCreateFile (decoded forward from the function
        # start, which is in the PDB).
        u_lines = [l for l in chunks[3].splitlines() if re.match(r"[0-9a-f]{8}`", l)] if len(chunks) > 3 else []
        if len(u_lines) >= 4:
            fourth = u_lines[3].split(" ")[0]
            ub_chunks, ub_out = run_kd(vm.endpoint, ["ub %s L3" % fourth])
            print(ub_out)
            ub_lines = [l for l in ub_chunks[0].splitlines() if re.match(r"[0-9a-f]{8}`", l)][-3:]
            check(ub_lines == u_lines[:3], "ub before the 4th instruction: %r vs %r" % (ub_lines, u_lines[:3]))
        else:
            check(False, "u nt!NtCreateFile printed too few lines for the ub check")
    check(len(chunks) >= len(commands) + 1, "one output chunk per command (%d)" % len(chunks))
    if len(chunks) < len(commands) + 1:
        return
    # The first chunk carries the banner and stop text before the output.
    first = chunks[0].splitlines()
    res = [first[-2:]] + [c.splitlines() for c in chunks[1:]]

    check(res[0] == [db_line(base, image[0:16]), db_line(base + 16, image[16:32])],
          "db nt L20 shows the file's first 32 bytes: %r" % res[0])
    q0, q1 = struct.unpack_from("<QQ", image, 0)
    check(res[1] == ["%s  %s %s" % (addr64(base), addr64(q0), addr64(q1))], "dq nt L2: %r" % res[1])
    signed = ntcf - (1 << 64) if ntcf >> 63 else ntcf
    check(res[2] == ["Evaluate expression: %d = %s" % (signed, addr64(ntcf))], "? nt!NtCreateFile: %r" % res[2])

    u = res[3]
    check(u and u[0] == "nt!NtCreateFile:", "u starts with the symbol header: %r" % u[:1])
    rva = ntcf - base
    if len(u) > 1:
        m = re.match(r"([0-9a-f`]+) ([0-9a-f]+) +(\S+)", u[1])
        check(m and m.group(1) == addr64(ntcf), "u first address")
        if m:
            code = bytes.fromhex(m.group(2))
            check(image[rva:rva + len(code)] == code, "u first instruction bytes equal the file's")
    calls = [l for l in u if re.search(r" call +nt!\w+ \(", l)]
    check(calls, "u nt!NtCreateFile shows a symbolized call")
    for l in calls:
        m = re.search(r"call +nt!(\w+) \(([0-9a-f`]+)\)", l)
        if m and m.group(1) in syms:
            check(addr64(syms[m.group(1)]) == m.group(2),
                  "call target %s at %s, PDB says %s" % (m.group(1), m.group(2), addr64(syms[m.group(1)])))

    stub = image[0x4e:image.index(b"\0", 0x4e)].decode("ascii")
    check(res[4] == ["%s|%016x" % (stub, base)], ".printf %%ma|%%p: %r" % res[4])
    check(res[5] and res[5][0].startswith(addr64(base + 0x4e) + "  54 68 69 73"), "s -a finds the DOS stub text: %r" % res[5])
    check(res[6] == ["#  100000 " + db_line(0, image[0:16]).split(" ", 1)[1].lstrip()],
          "!db of physical 0x100000 is the image start: %r" % res[6])
    check(res[7] == ["%s  00000000`00000000" % addr64(scratch)], "dq of the scratch qword: %r" % res[7])
    check(res[8] == ["%s  11223344`55667788" % addr64(scratch)], "eq then dq reads the value back: %r" % res[8])
    uf = res[9]
    check(uf and uf[0] == "nt!NtCreateFile:" and uf[-1].endswith(" ret"),
          "uf covers the function up to its ret: %r" % uf[-1:])
    check(res[10] == ["00000000`00001000  ????????`????????"], "unreadable memory prints question marks: %r" % res[10])
    lfanew = struct.unpack_from("<I", image, 0x3c)[0]
    check(res[11] == ["%s  %08x" % (addr64(base + 0x3c), lfanew)], "dd e_lfanew: %r" % res[11])
    check(res[12] == ["Evaluate expression: %d = %s" % (lfanew, addr64(lfanew))], "poi(): %r" % res[12])

    # uf: every jump target inside the function starts a block: a blank
    # line, then its "nt!IopCreateFile+0xNN:" header.
    uf = res[13]
    if uf and uf[0].startswith("Couldn't resolve"):
        print("note: the test kernel has no IopCreateFile any more; uf blocks not checked")
        return
    targets = set(re.findall(r" j\w+ +(nt!IopCreateFile\+0x[0-9a-f]+) \(", "\n".join(uf)))
    check(targets, "uf nt!IopCreateFile has jumps inside the function")
    for tgt in targets:
        idx = [i for i, l in enumerate(uf) if l == tgt + ":"]
        check(idx and uf[idx[0] - 1] == "", "uf block header for %s" % tgt)
    check(uf and uf[0] == "nt!IopCreateFile:", "uf header line: %r" % uf[:1])


main()
sys.exit(finish("ok"))
