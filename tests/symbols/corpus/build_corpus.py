#!/usr/bin/env python3
"""Build a corpus image + PDB with clang (MSVC target) and lld-link /debug.

usage: build_corpus.py CLANG LLD_LINK TARGET OUT_EXE OUT_PDB SOURCES... [--link=OPTION...]
No CRT: /nodefaultlib with main as the entry point, so only these sources
(and the linker's own symbols) end up in the PDB.  --link=OPTION passes an
extra option to lld-link (tests/nt uses this script too, without any).
"""
import os
import subprocess
import sys


def main():
    clang, lld, target, out_exe, out_pdb = sys.argv[1:6]
    srcs = [a for a in sys.argv[6:] if not a.startswith('--link=')]
    extra = [a[len('--link='):] for a in sys.argv[6:] if a.startswith('--link=')]
    objdir = out_exe + '.objs'
    os.makedirs(objdir, exist_ok=True)
    objs = []
    for s in srcs:
        o = os.path.join(objdir, os.path.basename(s) + '.obj')
        subprocess.check_call([clang, '-target', target, '-O1', '-gcodeview', '-g',
                               '-fno-builtin', '-fno-stack-protector', '-c', s, '-o', o])
        objs.append(o)
    subprocess.check_call([lld, '/nologo', '/debug', '/entry:main', '/nodefaultlib',
                           '/subsystem:console'] + extra + [
                           '/out:' + out_exe, '/pdb:' + out_pdb, '/implib:' + os.path.join(objdir, 'x.lib')]
                          + (['/safeseh:no'] if target.startswith('i686') else []) + objs)


if __name__ == '__main__':
    main()
