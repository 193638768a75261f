#!/usr/bin/env python3
"""Compile C sources and link one small PE + PDB for the test world.

Used by world/meson.build for ntdll.dll, the per-process exes and
testdrv.sys.  The PDB path recorded in the image is just the file name
(/pdbaltpath:%_PDB%), as in Microsoft's own binaries, so a debugger has to
find the PDB through its symbol path.  File alignment = section alignment =
0x1000 keeps RVA == file offset.
"""
import argparse
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cc', required=True)
    ap.add_argument('--link', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--kind', choices=['exe', 'dll', 'driver'], required=True)
    ap.add_argument('--base', required=True)
    ap.add_argument('--entry')
    ap.add_argument('--cflag', action='append', default=[])
    ap.add_argument('--lib', action='append', default=[], help='import library to link')
    ap.add_argument('sources', nargs='+', help='.c files (an input ending in .lib is linked)')
    a = ap.parse_args()

    out = os.path.abspath(a.out)
    stem = os.path.splitext(out)[0]
    pdb = stem + '.pdb'
    cflags = ['-target', 'x86_64-pc-windows-msvc', '-ffreestanding', '-fno-builtin',
              '-nostdlib', '-O2', '-fno-stack-protector', '-mno-stack-arg-probe',
              '-g', '-gcodeview', '-funwind-tables', '-fno-zero-initialized-in-bss',
              '-Wall', '-Wextra']
    if a.kind == 'driver':
        cflags += ['-mno-red-zone']
    objs = []
    a.lib += [s for s in a.sources if s.endswith('.lib')]
    a.sources = [s for s in a.sources if not s.endswith('.lib')]
    for i, src in enumerate(a.sources):
        obj = '%s.%d.obj' % (stem, i)
        cmd = [a.cc] + cflags + a.cflag + ['-c', src, '-o', obj]
        r = subprocess.run(cmd)
        if r.returncode:
            return r.returncode
        objs.append(obj)
    link = [a.link, '/nologo', '/nodefaultlib', '/machine:x64', '/fixed', '/dynamicbase:no',
            '/filealign:0x1000', '/debug', '/pdb:' + pdb,
            '/pdbaltpath:%_PDB%', '/base:' + a.base, '/out:' + out]
    if a.kind == 'dll':
        link += ['/dll', '/subsystem:windows', '/noentry' if not a.entry else '/entry:' + a.entry]
    elif a.kind == 'driver':
        link += ['/driver', '/subsystem:native', '/entry:' + (a.entry or 'DriverEntry')]
    else:
        link += ['/subsystem:console', '/entry:' + (a.entry or 'wmainCRTStartup')]
    if a.kind == 'dll':
        link += ['/implib:' + stem + '.lib']
    r = subprocess.run(link + objs + a.lib)
    return r.returncode


if __name__ == '__main__':
    sys.exit(main())
