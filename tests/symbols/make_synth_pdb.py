#!/usr/bin/env python3
"""Write a small synthetic PDB exercising what the clang/MSVC corpora do not:
an OMAP'd image (symbols in original sections, mapped through OMAP-from-
source), S_GPROC32_ID whose type is an IPI LF_FUNC_ID, a field list split
with LF_INDEX, every numeric leaf kind, x86 decorated publics, old FPO and
frame data with a program, and streams fragmented over shuffled 512-byte
blocks (so the parser copies them instead of using them in place).

usage: make_synth_pdb.py OUT.pdb
test_synth.c holds the expected values; keep the two in step.
"""
import random
import struct
import sys

BS = 512


def pad4(b):
    return b + b'\0' * (-len(b) % 4)


def rec(leaf, body):
    """A type/symbol record: u16 length, u16 leaf, body padded to 4."""
    body = struct.pack('<H', leaf) + body
    body += bytes(0xf0 + ((-len(body) - 2) % 4 - i) for i in range((-len(body) - 2) % 4))
    return struct.pack('<H', len(body)) + body


def sym(kind, body):
    body = struct.pack('<H', kind) + body
    body = body + b'\0' * ((-len(body) - 2) % 4)
    return struct.pack('<H', len(body)) + body


def z(s):
    return s.encode() + b'\0'


def member_pad(b):
    n = -len(b) % 4
    return b + bytes(0xf0 + n - i for i in range(n))


def tpi(records):
    data = b''.join(records)
    hdr = struct.pack('<IIIII', 20040203, 56, 0x1000, 0x1000 + len(records), len(data))
    hdr += struct.pack('<HHIIiIiIiI', 0xffff, 0xffff, 4, 0, 0, 0, 0, 0, 0, 0)
    assert len(hdr) == 56
    return hdr + data


def types():
    LF_MEMBER, LF_INDEX, LF_FIELDLIST, LF_STRUCTURE = 0x150d, 0x1404, 0x1203, 0x1505
    LF_ENUMERATE, LF_ENUM, LF_ARGLIST, LF_PROCEDURE = 0x1502, 0x1507, 0x1201, 0x1008
    # 0x1000: second half of Big's field list
    fl2 = member_pad(struct.pack('<HHI', LF_MEMBER, 3, 0x0077) + struct.pack('<HI', 0x8004, 0x10000) + z('far'))
    # 0x1001: first half, continued by LF_INDEX -> 0x1000
    fl1 = member_pad(struct.pack('<HHI', LF_MEMBER, 3, 0x0074) + struct.pack('<H', 0) + z('first'))
    fl1 += member_pad(struct.pack('<HHI', LF_MEMBER, 3, 0x0020) + struct.pack('<HH', 0x8002, 0x9000) + z('mid'))
    fl1 += struct.pack('<HHI', LF_INDEX, 0, 0x1000)
    big = struct.pack('<HHIII', 3, 0x0200, 0x1001, 0, 0) + struct.pack('<HI', 0x8004, 0x10008) + z('Big') + z('.?AUBig@@')
    # 0x1003: enumerators with every numeric leaf
    vals = [('E_CHAR', struct.pack('<Hb', 0x8000, -5)),
            ('E_SHORT', struct.pack('<Hh', 0x8001, -300)),
            ('E_USHORT', struct.pack('<HH', 0x8002, 0xfff0)),
            ('E_LONG', struct.pack('<Hi', 0x8003, -70000)),
            ('E_ULONG', struct.pack('<HI', 0x8004, 0x80000000)),
            ('E_QUAD', struct.pack('<Hq', 0x8009, -5000000000)),
            ('E_UQUAD', struct.pack('<HQ', 0x800a, 0xf000000000000000)),
            ('E_SMALL', struct.pack('<H', 42))]
    efl = b''.join(member_pad(struct.pack('<HH', LF_ENUMERATE, 3) + v + z(n)) for n, v in vals)
    enum = struct.pack('<HHII', len(vals), 0, 0x0076, 0x1003) + z('E')
    return tpi([rec(LF_FIELDLIST, fl2), rec(LF_FIELDLIST, fl1), rec(LF_STRUCTURE, big),
                rec(LF_FIELDLIST, efl), rec(LF_ENUM, enum), rec(LF_ARGLIST, struct.pack('<I', 0)),
                rec(LF_PROCEDURE, struct.pack('<IBBHI', 0x0074, 0, 0, 0, 0x1005)),
                # hostile cycles: 0x1007 an array of itself, 0x1008 a const of
                # itself, 0x1009 a pointer to itself, 0x100A a struct whose
                # only member is an unnamed 0x100A
                rec(0x1503, struct.pack('<II', 0x1007, 0x0023) + struct.pack('<H', 8) + z('')),
                rec(0x1001, struct.pack('<IH', 0x1008, 1)),
                rec(0x1002, struct.pack('<II', 0x1009, 0x0c | (8 << 13))),
                rec(LF_STRUCTURE, struct.pack('<HHIII', 1, 0, 0x100b, 0, 0) + struct.pack('<H', 8) + z('Loop')),
                rec(LF_FIELDLIST, member_pad(struct.pack('<HHI', LF_MEMBER, 3, 0x100a) + struct.pack('<H', 0) + z(''))),
                # 0x100C LF_STRUCTURE2 "Big2" (32-bit properties) reusing
                # Big's field list, 0x100D a forward LF_STRUCTURE to it,
                # 0x100E LF_UNION2 "U2"
                rec(0x1609, struct.pack('<IIII', 0x200, 0x1001, 0, 0) + struct.pack('<H', 3) +
                    struct.pack('<HI', 0x8004, 0x10008) + z('Big2') + z('.?AUBig2@@')),
                rec(LF_STRUCTURE, struct.pack('<HHIII', 0, 0x280, 0, 0, 0) + struct.pack('<H', 0) +
                    z('Big2') + z('.?AUBig2@@')),
                rec(0x160a, struct.pack('<II', 0, 0x1001) + struct.pack('<H', 3) + struct.pack('<H', 0x40) +
                    z('U2'))])


def ipi():
    LF_FUNC_ID = 0x1601
    return tpi([rec(LF_FUNC_ID, struct.pack('<II', 0, 0x1006) + z('pub_func'))])


def section(name, va, size):
    return name.ljust(8, b'\0') + struct.pack('<IIIIIIHHI', size, va, size, 0, 0, 0, 0, 0, 0x60000020)


def main():
    out = sys.argv[1]
    S_PUB32, S_GDATA32, S_GPROC32_ID, S_END, S_LPROC32 = 0x110e, 0x110d, 0x1147, 0x0006, 0x110f
    # stream numbers
    streams = {}
    names = b'\0' + z('$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =')
    streams[5] = struct.pack('<III', 0xeffeeffe, 1, len(names)) + names + struct.pack('<I', 0) + struct.pack('<I', 0)
    info = struct.pack('<III', 20000404, 0x5eed, 3) + bytes(range(16))
    strbuf = z('/names')
    info += struct.pack('<I', len(strbuf)) + strbuf
    info += struct.pack('<IIII', 1, 2, 1, 1) + struct.pack('<I', 0) + struct.pack('<II', 0, 5)
    streams[1] = info
    streams[2] = types()
    streams[4] = ipi()
    # symbol record stream (publics and globals)
    streams[6] = (sym(S_PUB32, struct.pack('<IIH', 2, 0x10, 1) + z('_pub_func@8')) +
                  sym(S_PUB32, struct.pack('<IIH', 2, 0x18, 1) + z('@fast_func@4')) +
                  sym(S_PUB32, struct.pack('<IIH', 2, 0x40, 1) + z('?cxx@@YAXXZ')) +
                  sym(S_PUB32, struct.pack('<IIH', 2, 0x44, 1) + z('?Method@Klass@ns@@QAEXXZ')) +
                  sym(S_PUB32, struct.pack('<IIH', 2, 0x48, 1) + z('??1Klass@@QAE@XZ')) +
                  sym(S_PUB32, struct.pack('<IIH', 2, 0x4c, 1) + z('??$tmpl@H@@YAXXZ')) +
                  sym(S_GDATA32, struct.pack('<IIH', 0x1002, 0x100, 2) + z('g_big')) +
                  # filler so this stream spans several (shuffled) blocks
                  b''.join(sym(S_PUB32, struct.pack('<IIH', 0, 0x100 + 4 * i, 1) + z('filler_%d' % i))
                           for i in range(60)))
    # module symbol stream: S_GPROC32_ID (type = IPI id), its S_END, a S_LPROC32
    proc = struct.pack('<IIIIIIIIHB', 0, 0, 0, 0x20, 0, 0, 0x1000, 0x10, 1, 0) + z('pub_func')
    first = sym(S_GPROC32_ID, proc)
    end_off = 4 + len(first)
    first = sym(S_GPROC32_ID, struct.pack('<IIIIIIIIHB', 0, end_off, 0, 0x20, 0, 0, 0x1000, 0x10, 1, 0) + z('pub_func'))
    lproc = struct.pack('<IIIIIIIIHB', 0, 0, 0, 0x10, 0, 0, 0x1006, 0x20, 1, 0) + z('static_func')
    mod = struct.pack('<I', 4) + first + sym(S_END, b'') + sym(S_LPROC32, lproc) + sym(S_END, b'')
    streams[7] = mod
    # sections: original (what symbols use) and final; OMAP from source
    streams[8] = section(b'.text', 0x5000, 0x1000) + section(b'.data', 0x8000, 0x1000)
    streams[9] = section(b'.text', 0x1000, 0x1000) + section(b'.data', 0x2000, 0x1000)
    omap = [(0x1000, 0x5000), (0x1018, 0), (0x1020, 0x5400), (0x2000, 0x8000), (0x3000, 0)]
    streams[10] = b''.join(struct.pack('<II', a, b) for a, b in omap)
    # old FPO (one entry) and new FPO (one entry, program at /names offset 1)
    attrs = 5 | (2 << 8) | (1 << 11) | (1 << 12) | (3 << 14)
    streams[11] = struct.pack('<IIIHH', 0x5000, 0x20, 2, 3, attrs)
    streams[12] = struct.pack('<IIIIIIHHI', 0x5000, 0x20, 8, 12, 0, 1, 4, 8, 4)
    # DBI
    modi = struct.pack('<I', 0) + struct.pack('<HHiiIHHII', 1, 0, 0x10, 0x20, 0x60000020, 0, 0, 0, 0)
    modi += struct.pack('<HHIIIHHIII', 0, 7, len(mod), 0, 0, 0, 0, 0, 0, 0) + z('synth.obj') + z('synth.obj')
    modi = pad4(modi)
    sc = struct.pack('<I', 0xeffe0000 + 19970605) + struct.pack('<HHiiIHHII', 1, 0, 0x10, 0x20, 0x60000020, 0, 0, 0, 0)
    dbg = [0xffff] * 11
    dbg[0], dbg[4], dbg[5], dbg[9], dbg[10] = 11, 10, 8, 12, 9
    dbgb = struct.pack('<11H', *dbg)
    hdr = struct.pack('<iIIHHHHHH', -1, 19990903, 3, 0xffff, 0, 0xffff, 0, 6, 0)
    hdr += struct.pack('<iiiiiIiiHHI', len(modi), len(sc), 0, 0, 0, 0, len(dbgb), 0, 0, 0x014c, 0)
    assert len(hdr) == 64
    streams[3] = hdr + modi + sc + dbgb
    nstreams = 13
    data = [streams.get(i, b'') for i in range(nstreams)]
    # lay out: block 0 superblock, 1-2 free page maps, then shuffled data blocks
    rnd = random.Random(5)
    nblocks_needed = sum((len(d) + BS - 1) // BS for d in data)
    dir_est = 4 + 4 * nstreams + 4 * nblocks_needed
    dir_blocks = (dir_est + BS - 1) // BS
    total = 3 + nblocks_needed + dir_blocks + 1
    pool = list(range(3, total))
    rnd.shuffle(pool)
    blocks = {}
    file = bytearray(BS * total)
    lists = []
    for d in data:
        nb = (len(d) + BS - 1) // BS
        bl = [pool.pop() for _ in range(nb)]
        for k, b in enumerate(bl):
            chunk = d[k * BS:(k + 1) * BS]
            file[b * BS:b * BS + len(chunk)] = chunk
        lists.append(bl)
    # the point of shuffling: the symbol record stream must not be
    # contiguous, so the parser's copy path is what reads it
    assert len(lists[6]) > 1 and any(b != a + 1 for a, b in zip(lists[6], lists[6][1:]))
    directory = struct.pack('<I', nstreams) + b''.join(struct.pack('<I', len(d)) for d in data)
    directory += b''.join(struct.pack('<%dI' % len(bl), *bl) for bl in lists)
    dbl = [pool.pop() for _ in range((len(directory) + BS - 1) // BS)]
    for k, b in enumerate(dbl):
        chunk = directory[k * BS:(k + 1) * BS]
        file[b * BS:b * BS + len(chunk)] = chunk
    map_block = pool.pop()
    file[map_block * BS:map_block * BS + 4 * len(dbl)] = struct.pack('<%dI' % len(dbl), *dbl)
    sb = b'Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0' + struct.pack('<IIIIII', BS, 1, total, len(directory), 0, map_block)
    file[0:len(sb)] = sb
    with open(out, 'wb') as f:
        f.write(file)


if __name__ == '__main__':
    main()
