#!/usr/bin/env python3
"""Link a test-VM PE image with lld-link and check what the loader relies on.

QEMU's multiboot loader copies the file flat to physical memory, so every
section must sit at a file offset equal to its RVA (checked here, the build
fails otherwise).  With --multiboot PHYS the a.out-kludge fields of the
multiboot header (first 8 KiB of the file) are filled in from the linked
image: header/load/load_end/bss_end/entry addresses.
"""
import argparse
import struct
import subprocess
import sys

MB_MAGIC = 0x1BADB002


def fail(msg):
    print("link_pe.py: " + msg, file=sys.stderr)
    sys.exit(1)


def parse_pe(data):
    if data[:2] != b"MZ":
        fail("not a PE file")
    nt = struct.unpack_from("<I", data, 0x3C)[0]
    if data[nt:nt + 4] != b"PE\0\0":
        fail("bad PE signature")
    nsec = struct.unpack_from("<H", data, nt + 6)[0]
    opt_size = struct.unpack_from("<H", data, nt + 20)[0]
    opt = nt + 24
    entry = struct.unpack_from("<I", data, opt + 16)[0]
    size_of_image = struct.unpack_from("<I", data, opt + 56)[0]
    size_of_headers = struct.unpack_from("<I", data, opt + 60)[0]
    sections = []
    for i in range(nsec):
        off = opt + opt_size + 40 * i
        name = data[off:off + 8].rstrip(b"\0").decode("ascii", "replace")
        vsize, rva, rawsize, rawptr = struct.unpack_from("<IIII", data, off + 8)
        sections.append((name, rva, vsize, rawptr, rawsize))
    return entry, size_of_image, size_of_headers, sections


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lld-link", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pdb", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--entry", required=True)
    ap.add_argument("--subsystem", default="native")
    ap.add_argument("--dll", action="store_true")
    ap.add_argument("--driver", action="store_true", help="kernel-mode image (/driver)")
    ap.add_argument("--multiboot", help="physical load address; patch the multiboot header")
    ap.add_argument("--export", action="append", default=[])
    ap.add_argument("objs", nargs="+")
    a = ap.parse_args()

    cmd = [a.lld_link, "/nodefaultlib", "/machine:x64", "/subsystem:" + a.subsystem,
           "/fixed", "/filealign:0x1000", "/align:0x1000", "/debug", "/pdb:" + a.pdb,
           "/pdbaltpath:%_PDB%", "/out:" + a.out, "/base:" + a.base, "/entry:" + a.entry,
           "/incremental:no", "/opt:noref"]
    if a.dll:
        cmd.append("/dll")
    if a.driver:
        cmd.append("/driver")
    cmd += ["/export:" + e for e in a.export]
    cmd += a.objs
    r = subprocess.run(cmd)
    if r.returncode:
        sys.exit(r.returncode)

    data = bytearray(open(a.out, "rb").read())
    entry, size_of_image, size_of_headers, sections = parse_pe(data)
    if size_of_headers > 0x1000:
        fail("headers larger than one page")
    for name, rva, vsize, rawptr, rawsize in sections:
        if rawsize and rawptr != rva:
            fail("section %s: file offset 0x%x != RVA 0x%x" % (name, rawptr, rva))
        if rawsize and rawptr + rawsize > len(data):
            fail("section %s: raw data past end of file" % name)

    if a.multiboot:
        phys = int(a.multiboot, 0)
        hdr = None
        for off in range(0, min(8192, len(data)) - 12, 4):
            magic, flags, csum = struct.unpack_from("<III", data, off)
            if magic == MB_MAGIC and (magic + flags + csum) & 0xFFFFFFFF == 0:
                hdr = off
                break
        if hdr is None:
            fail("multiboot header not in the first 8 KiB")
        load_end = phys + len(data)
        bss_end = phys + size_of_image if size_of_image > len(data) else 0
        struct.pack_into("<IIIII", data, hdr + 12, phys + hdr, phys, load_end, bss_end,
                         phys + entry)
        open(a.out, "wb").write(data)


if __name__ == "__main__":
    main()
