#!/usr/bin/env python3
"""Compare the symbols library's view of a PE/PDB pair with LLVM's tools.

symdump (built from symdump.c) prints publics, globals, procedures, type
records, FPO/frame data, the CodeView record and .pdata in a canonical line
form; this script turns `llvm-pdbutil dump -publics -globals -symbols -types
[-fpo]` and `llvm-readobj --file-headers --coff-debug-directory --unwind`
output into the same lines and diffs the two as multisets.

Exit 0 when equal, 1 on any difference, 77 when an input is absent and
--skip-missing was given (the 'shared' suite without ../shared).
"""
import argparse
import collections
import os
import re
import struct
import subprocess
import sys


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, errors='replace')
    if p.returncode != 0:
        sys.stderr.write('%s failed (%d):\n%s' % (' '.join(cmd), p.returncode, p.stderr))
        sys.exit(1)
    return p.stdout


def norm(line):
    return ' '.join(line.split())


def ti_of(text):
    """'0x100C (S)' or '<no type>' -> '100C' / '0000'."""
    m = re.search(r'0x([0-9A-Fa-f]+)', text)
    return '%04X' % int(m.group(1), 16) if m else '0000'


def segoff(text):
    seg, off = text.split(':')
    return '%04X:%08X' % (int(seg), int(off))


REC = re.compile(r'^\s*(?:0x)?([0-9A-Fa-f]+) \| (\S+) \[size = \d+\](?: `(.*)`)?\s*$')


def records(text):
    """Split llvm-pdbutil record listings into (offset/ti, kind, name, body lines)."""
    out = []
    cur = None
    for line in text.splitlines():
        m = REC.match(line)
        if m:
            cur = [m.group(1), m.group(2), m.group(3), []]
            out.append(cur)
        elif cur is not None and line.strip():
            if re.match(r'^\S', line) or line.startswith('  Mod ') or line.startswith('Mod '):
                cur = None
            else:
                cur[3].append(line.strip())
    return out


def sections(text):
    """Split a dump into its titled sections (title line followed by ====)."""
    lines = text.splitlines()
    out = {}
    title = None
    buf = []
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and lines[i + 1].startswith('====') and line.strip():
            if title:
                out[title] = '\n'.join(buf)
            title = line.strip()
            buf = []
        elif not line.startswith('===='):
            buf.append(line)
    if title:
        out[title] = '\n'.join(buf)
    return out


def llvm_symbols(secs):
    lines = []
    for off, kind, name, body in records(secs.get('Public Symbols', '')):
        if kind != 'S_PUB32':
            continue
        m = re.search(r'flags = (.*), addr = (\d+:\d+)', ' '.join(body))
        code = 1 if re.search(r'\b(code|function)\b', m.group(1)) else 0
        lines.append('PUB %s code=%d %s' % (segoff(m.group(2)), code, name))
    dkind = {'S_GDATA32': 'G', 'S_LDATA32': 'L', 'S_GTHREAD32': 'T', 'S_LTHREAD32': 'T'}
    for off, kind, name, body in records(secs.get('Global Symbols', '')):
        if kind in dkind:
            m = re.search(r'type = (0x[0-9A-Fa-f]+).*addr = (\d+:\d+)', ' '.join(body))
            lines.append('DATA %s %s %s %s' % (dkind[kind], segoff(m.group(2)), ti_of(m.group(1)), name))
    for off, kind, name, body in records(secs.get('Symbols', '')):
        if kind in ('S_GPROC32', 'S_LPROC32', 'S_GPROC32_ID', 'S_LPROC32_ID'):
            m = re.search(r'addr = (\d+:\d+), code size = (\d+)', ' '.join(body))
            lines.append('PROC %s %s %s' % (segoff(m.group(1)), m.group(2), name))
    return lines


MEMBER_RE = re.compile(r'^- (LF_\w+)(?: \[(.*)\])?(.*)$')


def parse_fieldlists(recs):
    fl = {}
    for ti, kind, name, body in recs:
        if kind != 'LF_FIELDLIST':
            continue
        items = []
        for b in body:
            m = MEMBER_RE.match(b)
            if m:
                items.append((m.group(1), m.group(2) or '', m.group(3) or ''))
        fl['%04X' % int(ti, 16)] = items
    return fl


def member_lines(fl, start):
    out = []
    seen = set()
    cur = start
    while cur and cur in fl and cur not in seen:
        seen.add(cur)
        nxt = None
        for kind, args, rest in fl[cur]:
            if kind == 'LF_MEMBER':
                m = re.match(r'name = `(.*)`, Type = (0x[0-9A-Fa-f]+).*offset = (\d+)', args)
                out.append('  MEMBER %s %s %s' % (m.group(1), ti_of(m.group(2)), m.group(3)))
            elif kind == 'LF_ENUMERATE':
                m = re.match(r'(.*) = (-?\d+)$', args)
                out.append('  ENUMERATE %s %s' % (m.group(1), m.group(2)))
            elif kind == 'LF_STMEMBER':
                m = re.match(r'name = `(.*)`, type = (0x[0-9A-Fa-f]+)', args)
                out.append('  STMEMBER %s %s' % (m.group(1), ti_of(m.group(2))))
            elif kind == 'LF_NESTTYPE':
                m = re.match(r'name = `(.*)`, parent = (0x[0-9A-Fa-f]+)', args)
                out.append('  NESTTYPE %s %s' % (m.group(1), ti_of(m.group(2))))
            elif kind == 'LF_BCLASS':
                out.append('  BCLASS')
            elif kind == 'LF_INDEX':
                nxt = ti_of(args + rest)
        cur = nxt
    return out


def llvm_types(secs):
    recs = records(secs.get('Types (TPI Stream)', ''))
    fl = parse_fieldlists(recs)
    lines = []
    for ti, kind, name, body in recs:
        ti = '%04X' % int(ti, 16)
        text = ' '.join(body)
        if kind in ('LF_STRUCTURE', 'LF_CLASS', 'LF_UNION', 'LF_ENUM', 'LF_INTERFACE'):
            word = {'LF_STRUCTURE': 'struct', 'LF_CLASS': 'class', 'LF_INTERFACE': 'class',
                    'LF_UNION': 'union', 'LF_ENUM': 'enum'}[kind]
            fwd = 'forward ref' in text
            m = re.search(r'sizeof (\d+)', text)
            size = int(m.group(1)) if (m and kind != 'LF_ENUM') else 0
            line = 'TYPE %s %s size=%d fwd=%d' % (ti, word, size, 1 if fwd else 0)
            if fwd:
                m = re.search(r'forward ref \((?:->|<-) (0x[0-9A-Fa-f]+)\)', text)
                line += ' resolved=%s' % (ti_of(m.group(1)) if m else ti)
            lines.append(line + ' ' + name)
            if not fwd:
                m = re.search(r'field list: (0x[0-9A-Fa-f]+|<no type>)', text)
                lines.extend(member_lines(fl, ti_of(m.group(1)) if m else None))
        elif kind == 'LF_POINTER':
            m = re.search(r'referent = (0x[0-9A-Fa-f]+).*kind = ptr(\d+)', text)
            lines.append('POINTER %s -> %s size=%d' % (ti, ti_of(m.group(1)), int(m.group(2)) // 8))
        elif kind == 'LF_MODIFIER':
            m = re.search(r'referent = (0x[0-9A-Fa-f]+).*modifiers = (.*)$', text)
            mods = ''
            for w in ('const', 'volatile', 'unaligned'):
                if re.search(r'\b%s\b' % w, m.group(2)):
                    mods += ' ' + w
            lines.append('MODIFIER %s -> %s%s' % (ti, ti_of(m.group(1)), mods))
        elif kind == 'LF_ARRAY':
            m = re.search(r'size: (\d+), index type: (0x[0-9A-Fa-f]+).*element type: (0x[0-9A-Fa-f]+)', text)
            lines.append('ARRAY %s elem=%s index=%s size=%s' % (ti, ti_of(m.group(3)), ti_of(m.group(2)), m.group(1)))
        elif kind == 'LF_BITFIELD':
            m = re.search(r'type = (0x[0-9A-Fa-f]+).*bit offset = (\d+), # bits = (\d+)', text)
            lines.append('BITFIELD %s base=%s pos=%s len=%s' % (ti, ti_of(m.group(1)), m.group(2), m.group(3)))
        elif kind == 'LF_PROCEDURE':
            m = re.search(r'return type = (0x[0-9A-Fa-f]+).*# args = (\d+)', text)
            lines.append('PROCEDURE %s ret=%s params=%s' % (ti, ti_of(m.group(1)), m.group(2)))
    return lines


def llvm_layouts(secs):
    """The same flattening as symdump's LAYOUT lines, from llvm's records."""
    recs = records(secs.get('Types (TPI Stream)', ''))
    fl = parse_fieldlists(recs)
    by_ti = {}
    for ti, kind, name, body in recs:
        by_ti['%04X' % int(ti, 16)] = (kind, name, ' '.join(body))

    def resolve(ti):
        for _ in range(8):
            if ti not in by_ti:
                return None
            kind, name, text = by_ti[ti]
            if kind == 'LF_MODIFIER':
                ti = ti_of(re.search(r'referent = (0x[0-9A-Fa-f]+)', text).group(1))
                continue
            if kind not in ('LF_STRUCTURE', 'LF_CLASS', 'LF_UNION', 'LF_INTERFACE'):
                return None
            if 'forward ref' in text:
                m = re.search(r'forward ref \((?:->|<-) (0x[0-9A-Fa-f]+)\)', text)
                if not m:
                    return None
                ti = ti_of(m.group(1))
                continue
            return ti
        return None

    def members(ti):
        text = by_ti[ti][2]
        m = re.search(r'field list: (0x[0-9A-Fa-f]+)', text)
        out = []
        seen = set()
        cur = ti_of(m.group(1)) if m else None
        while cur and cur in fl and cur not in seen:
            seen.add(cur)
            nxt = None
            for kind, args, rest in fl[cur]:
                if kind == 'LF_MEMBER':
                    mm = re.match(r'name = `(.*)`, Type = (0x[0-9A-Fa-f]+).*offset = (\d+)', args)
                    out.append((mm.group(1), ti_of(mm.group(2)), int(mm.group(3))))
                elif kind == 'LF_INDEX':
                    nxt = ti_of(args + rest)
            cur = nxt
        return out

    lines = []

    def walk(root, ti, prefix, base, depth):
        for name, mti, off in members(ti):
            path = prefix + ('.' if prefix else '') + name
            rec = by_ti.get(mti)
            bits = ''
            if rec and rec[0] == 'LF_BITFIELD':
                m = re.search(r'bit offset = (\d+), # bits = (\d+)', rec[2])
                bits = ' bits=%s:%s' % (m.group(1), m.group(2))
            lines.append('LAYOUT %s %s %d%s' % (root, path, base + off, bits))
            sub = resolve(mti) if mti >= '1000' else None
            if depth < 4 and sub:
                walk(root, sub, path, base + off, depth + 1)

    for ti, (kind, name, text) in by_ti.items():
        if kind not in ('LF_STRUCTURE', 'LF_CLASS', 'LF_UNION', 'LF_INTERFACE'):
            continue
        if 'forward ref' in text or not name or name.startswith('<') or '<unnamed' in name:
            continue
        walk(ti, ti, '', 0, 0)
    return lines


def raw_stream(pdbutil, pdb, label):
    """Bytes of the stream llvm-pdbutil labels e.g. [FPO Data], via `bytes`."""
    m = re.search(r'Stream\s+(\d+) \(\s*\d+ bytes\): \[%s\]' % re.escape(label),
                  run([pdbutil, 'dump', '-streams', pdb]))
    if not m:
        return None
    out = bytearray()
    for line in run([pdbutil, 'bytes', '-stream-data=' + m.group(1), pdb]).splitlines():
        mm = re.match(r'^\s*[0-9A-F]+: ((?:[0-9A-F]+ ?)+)\s*\|', line)
        if mm:
            out += bytes.fromhex(mm.group(1).replace(' ', ''))
    return bytes(out)


def llvm_fpo(secs, pdbutil, pdb):
    """Old FPO: llvm-pdbutil 14's table decodes FPO_DATA's flag word with
    the wrong bit positions (SEH/BP at bits 9/10; winnt.h has cbProlog:8,
    cbRegs:3, fHasSEH:1, fUseBP:1, reserved:1, cbFrame:2), so the flags come
    from the raw stream bytes (dumped by llvm-pdbutil bytes) decoded per
    winnt.h, and the table's numeric columns are checked against them."""
    lines = []
    table = {}
    for line in secs.get('Old FPO Data', '').splitlines():
        f = [x.strip() for x in line.split('|')]
        if len(f) == 9 and re.match(r'^[0-9A-F]{8}$', f[0]):
            table[f[0]] = (f[1], f[2], f[3])
    raw = raw_stream(pdbutil, pdb, 'FPO Data') or b''
    for i in range(0, len(raw) - 15, 16):
        start, size, locals_, params, bits = struct.unpack_from('<IIIHH', raw, i)
        rva = '%08X' % start
        if table.get(rva) != (str(size), str(locals_), str(params)):
            lines.append('FPO-TABLE-MISMATCH %s %r' % (rva, table.get(rva)))
        lines.append('FPO %s %d %d %d %d %d %d %d %d' % (
            rva, size, locals_, params, bits & 0xff, (bits >> 8) & 7, (bits >> 12) & 1,
            (bits >> 11) & 1, bits >> 14))
    if len(table) != len(raw) // 16:
        lines.append('FPO-COUNT-MISMATCH table=%d raw=%d' % (len(table), len(raw) // 16))
    for line in secs.get('New FPO Data', '').splitlines():
        f = line.split('|')
        if len(f) != 11 or not re.match(r'^[0-9A-F]{8}$', f[0].strip()):
            continue
        g = [x.strip() for x in f]
        b = lambda s: 1 if s == 'true' else 0
        lines.append('FRAME %s %s %s %s %s %s %s %d %d %d %s' % (
            g[0], g[1], g[2], g[3], g[4], g[5], g[6], b(g[7]), b(g[8]), b(g[9]), g[10]))
    return lines


def llvm_dbi(secs):
    lines = []
    mods = secs.get('Modules', '')
    for m in re.finditer(r'Mod (\d+) \| `(.*)`:\s*\n(?:.*\n)*?\s*Obj: `(.*)`:', mods):
        lines.append('MOD %d %s | %s' % (int(m.group(1)), m.group(2), m.group(3)))
    for m in re.finditer(r'SC\[[^\]]*\]\s*\| mod = (\d+), (\d+):(\d+), size = (-?\d+)',
                         secs.get('Section Contributions', '')):
        lines.append('SC %s %04X:%08X %s' % (m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)))
    return lines


def rva_string(text, exe, rva):
    """NUL-terminated string at rva, located through the section table
    llvm-readobj printed (--sections), read from the file itself."""
    for m in re.finditer(r'VirtualSize: (0x[0-9A-Fa-f]+)\s*VirtualAddress: (0x[0-9A-Fa-f]+)\s*'
                         r'RawDataSize: (\d+)\s*PointerToRawData: (0x[0-9A-Fa-f]+)', text):
        va, raw = int(m.group(2), 16), int(m.group(4), 16)
        size = max(int(m.group(1), 16), int(m.group(3)))
        if va <= rva < va + size:
            with open(exe, 'rb') as f:
                f.seek(raw + rva - va)
                return f.read(512).split(b'\0')[0].decode(errors='replace')
    return '?'


def llvm_lines(secs):
    """`dump -l`: a file line, then blocks 'SSSS:OOOOOOOO-EEEEEEEE, ...'
    followed by 'LINE OFFSET [!]' pairs (offsets within the segment)."""
    lines = []
    cur_file = None
    seg = None
    for line in secs.get('Lines', '').splitlines():
        if line.startswith('Mod '):
            cur_file = None
            continue
        m = re.match(r'^(\S.*) \((?:MD5|SHA1|SHA256|None)[^)]*\)\s*$', line)
        if m:
            cur_file = m.group(1)
            continue
        m = re.match(r'^\s+([0-9A-F]{4}):([0-9A-F]{8})-([0-9A-F]{8}), line/addr entries = \d+', line)
        if m:
            seg = int(m.group(1), 16)
            continue
        if seg is not None and re.match(r'^\s+\d+ [0-9A-F]{8}', line):
            for ln, off in re.findall(r'(\d+) ([0-9A-F]{8})', line):
                lines.append('LINE %s %04X:%s %d' % (cur_file, seg, off, int(ln)))
    return lines


def llvm_pe(text, exe):
    lines = []
    m = re.search(r'ExportTableRVA: (0x[0-9A-Fa-f]+)\s*ExportTableSize: (0x[0-9A-Fa-f]+)', text)
    exp_lo, exp_hi = (int(m.group(1), 16), int(m.group(1), 16) + int(m.group(2), 16)) if m else (0, 0)
    m = re.search(r'Machine: \S+ \((0x[0-9A-Fa-f]+)\)', text)
    lines.append('MACHINE %04X' % int(m.group(1), 16))
    m = re.search(r'ImageFileHeader \{.*?TimeDateStamp: .*?\((0x[0-9A-Fa-f]+)\)', text, re.S)
    lines.append('TIMESTAMP %08X' % int(m.group(1), 16))
    lines.append('SIZEOFIMAGE %s' % re.search(r'SizeOfImage: (\d+)', text).group(1))
    lines.append('IMAGEBASE %X' % int(re.search(r'ImageBase: (0x[0-9A-Fa-f]+)', text).group(1), 16))
    for m in re.finditer(r'PDBInfo \{\s*PDBSignature: (0x[0-9A-Fa-f]+)\s*PDBGUID: \(([0-9A-F ]+)\)\s*'
                         r'PDBAge: (\d+)\s*PDBFileName: ([^\n]*)', text):
        lines.append('CODEVIEW RSDS %s age=%s %s' % (m.group(2), m.group(3), m.group(4).rstrip()))
    for m in re.finditer(r'Export \{\s*Ordinal: (\d+)\s*Name: ([^\n]*)\n\s*(RVA: 0x([0-9A-Fa-f]+)|ForwardedTo: ([^\n]*))', text):
        if m.group(4) is not None:
            rva = int(m.group(4), 16)
            if rva == 0:
                continue   # unused slot in the address table
            if exp_lo <= rva < exp_hi:   # a forwarder string, per the PE spec
                lines.append('EXPORT %s fwd %s %s' % (m.group(1), rva_string(text, exe, rva), m.group(2).strip()))
                continue
            lines.append('EXPORT %s %X %s' % (m.group(1), rva, m.group(2).strip()))
        else:
            lines.append('EXPORT %s fwd %s %s' % (m.group(1), m.group(5).strip(), m.group(2).strip()))
    for m in re.finditer(r'RuntimeFunction \{\s*StartAddress: [^(]*\((0x[0-9A-Fa-f]+)\)\s*'
                         r'EndAddress: [^(]*\((0x[0-9A-Fa-f]+)\)\s*UnwindInfoAddress: [^(]*\((0x[0-9A-Fa-f]+)\)'
                         r'\s*UnwindInfo \{\s*Version: (\d+)\s*Flags \[ \((0x[0-9A-Fa-f]+)\).*?'
                         r'PrologSize: (\d+).*?UnwindCodeCount: (\d+)', text, re.S):
        h = lambda s: '%X' % int(s, 16)
        lines.append('RF %s %s %s v=%s flags=%d prolog=%s codes=%s' % (
            h(m.group(1)), h(m.group(2)), h(m.group(3)), m.group(4), int(m.group(5), 16),
            m.group(6), m.group(7)))
    return lines


def diff(name, mine, theirs):
    a = collections.Counter(norm(x) for x in mine)
    b = collections.Counter(norm(x) for x in theirs)
    only_mine = list((a - b).elements())
    only_theirs = list((b - a).elements())
    if not only_mine and not only_theirs:
        return True
    print('%s: %d lines only in symdump, %d only in llvm' % (name, len(only_mine), len(only_theirs)))
    for x in sorted(only_mine)[:25]:
        print('  symdump: ' + x)
    for x in sorted(only_theirs)[:25]:
        print('  llvm:    ' + x)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--symdump', required=True)
    ap.add_argument('--pdbutil', default='llvm-pdbutil')
    ap.add_argument('--readobj', default='llvm-readobj')
    ap.add_argument('--pdb')
    ap.add_argument('--exe')
    ap.add_argument('--fpo', action='store_true', help='also compare old FPO and frame data')
    ap.add_argument('--skip-missing', action='store_true')
    ap.add_argument('--min', action='append', default=[],
                    help='KIND=N: require at least N lines of KIND (PUB, PROC, TYPE, MEMBER, RF...)')
    args = ap.parse_args()
    for f in (args.pdb, args.exe):
        if f and not os.path.exists(f):
            if args.skip_missing:
                print('skip: %s absent' % f)
                sys.exit(77)
            print('missing input %s' % f)
            sys.exit(1)
    ok = True
    counts = collections.Counter()
    if args.pdb:
        mine = run([args.symdump, 'pdb', args.pdb]).splitlines()
        dump = ['dump', '-publics', '-globals', '-symbols', '-types', '-modules', '-section-contribs', '-l']
        if args.fpo:
            dump.append('-fpo')
        secs = sections(run([args.pdbutil] + dump + [args.pdb]))
        pick = lambda ls, *k: [x for x in ls if x.split()[0] in k]
        groups = [('modules', ('MOD', 'SC'), llvm_dbi(secs)),
                  ('publics', ('PUB',), llvm_symbols(secs)),
                  ('globals', ('DATA',), llvm_symbols(secs)),
                  ('procedures', ('PROC',), llvm_symbols(secs)),
                  ('types', ('TYPE', 'MEMBER', 'ENUMERATE', 'STMEMBER', 'NESTTYPE', 'BCLASS',
                             'POINTER', 'MODIFIER', 'ARRAY', 'BITFIELD', 'PROCEDURE'), llvm_types(secs)),
                  ('layouts', ('LAYOUT',), llvm_layouts(secs)),
                  ('lines', ('LINE',), llvm_lines(secs))]
        if args.fpo:
            groups.append(('fpo', ('FPO', 'FRAME', 'FPO-TABLE-MISMATCH', 'FPO-COUNT-MISMATCH'), llvm_fpo(secs, args.pdbutil, args.pdb)))
        for name, kinds, theirs in groups:
            ok &= diff(name, pick(mine, *kinds), pick(theirs, *kinds))
        for x in mine:
            counts[x.split()[0]] += 1
        errs = [x for x in mine if x.startswith('ERROR')]
        if errs:
            ok = False
            print('\n'.join(errs[:20]))
    if args.exe:
        mine = run([args.symdump, 'pe', args.exe]).splitlines()
        theirs = llvm_pe(run([args.readobj, '--file-headers', '--sections', '--coff-debug-directory',
                              '--coff-exports', '--unwind', args.exe]), args.exe)
        ok &= diff('pe', mine, theirs)
        for x in mine:
            counts[x.split()[0]] += 1
    for req in args.min:
        k, n = req.split('=')
        if counts[k] < int(n):
            print('too few %s lines: %d < %s (the comparison would prove nothing)' % (k, counts[k], n))
            ok = False
    print('compared: ' + ', '.join('%s=%d' % kv for kv in sorted(counts.items())))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
