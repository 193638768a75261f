#!/usr/bin/env python3
"""Compare what our decoders make of the real WinDbg capture with the
capture's own summary.

usage: check_capture.py CAPTURE_DUMP SHARED_DIR

CAPTURE_DUMP (capture_dump.c) runs every packet of
SHARED_DIR/kd-capture/packets.jsonl through kdcom framing and the kdpkt
decoders and prints key=value lines. This script reads the expected values
from SHARED_DIR/kd-capture/summary.md at test time (nothing of the capture
is stored in the repository) and checks:
  - every packet frames, parses and its checksum verifies;
  - GetVersion64 fields (summary section 3);
  - the three state changes (section 4);
  - the DbgPrint strings (section 5);
  - every ReadVirtualMemory request/response address, size, status and
    byte count (section 8);
  - our encodings of GetVersion, ReadVirtualMemory, GetContext and
    Continue2 equal WinDbg's bytes outside the uninitialised fields;
  - our FILE_IO decline equals WinDbg's reply.
Exit 77 (skip) when SHARED_DIR is absent.
"""
import ast
import os
import re
import subprocess
import sys

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def kv(line):
    out = {}
    for m in re.finditer(r'(\w+)=("[^"]*"|\S*)', line):
        out[m.group(1)] = m.group(2).strip('"')
    return out


def num(s):
    return int(s, 0)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    tool, shared = sys.argv[1], sys.argv[2]
    cap = os.path.join(shared, 'kd-capture')
    jsonl = os.path.join(cap, 'packets.jsonl')
    summary_path = os.path.join(cap, 'summary.md')
    if not os.path.isfile(jsonl) or not os.path.isfile(summary_path):
        print('skip: %s not present' % cap)
        return 77
    out = subprocess.run([tool, jsonl], capture_output=True, text=True)
    check(out.returncode == 0, 'capture_dump exited %d: %s' % (out.returncode, out.stderr))
    lines = out.stdout.splitlines()
    by_kind = {}
    for line in lines:
        kind = line.split(' ', 1)[0]
        d = kv(line)
        by_kind.setdefault(kind, []).append(d)

    def one(kind, n):
        got = [d for d in by_kind.get(kind, []) if d.get('n') == str(n)]
        check(len(got) == 1, '%s line for frame %s: %d found' % (kind, n, len(got)))
        return got[0] if got else {}

    summary = open(summary_path, encoding='utf-8').read()

    # ---- every packet ----
    total = sum(1 for _ in open(jsonl))
    packets = by_kind.get('P', [])
    check(len(packets) == total, 'decoded %d of %d packets' % (len(packets), total))
    for p in packets:
        check(p['sum'] == 'ok' and p['frame'] == 'ok' and p['kdnet'] == 'ok',
              'packet %s: sum=%s frame=%s kdnet=%s' % (p['n'], p['sum'], p['frame'], p['kdnet']))
    for kind in ('M', 'S', 'D', 'F'):
        for d in by_kind.get(kind, []):
            check(d.get('decode') != 'fail', '%s decode failed for frame %s' % (kind, d.get('n')))
    m = re.search(r'(\d+) KD packets total', summary)
    check(m and int(m.group(1)) == total, 'summary packet count')

    # ---- GetVersion64 (section 3) ----
    sec = summary.split('## 3.')[1].split('## 4.')[0]
    frame = re.search(r'Frame (\d+), ReturnStatus', sec).group(1)
    table = dict(re.findall(r'^\| (\w+) \| (0x[0-9a-f]+)', sec, re.M))
    v = one('V', frame)
    fields = {'MajorVersion': 'major', 'MinorVersion': 'minor', 'ProtocolVersion': 'proto',
              'KdSecondaryVersion': 'secondary', 'Flags': 'flags', 'MachineType': 'machine',
              'MaxPacketType': 'maxpt', 'MaxStateChange': 'maxsc', 'MaxManipulate': 'maxm',
              'Simulation': 'sim', 'KernBase': 'kernbase', 'PsLoadedModuleList': 'psl',
              'DebuggerDataList': 'ddl'}
    check(len(table) >= len(fields), 'GetVersion table not found in summary')
    for name, key in fields.items():
        if name in table and key in v:
            check(num(table[name]) == num(v[key]), 'GetVersion %s: summary %s, decoded %s' % (name, table[name], v[key]))

    # ---- state changes (section 4) ----
    sec = summary.split('## 4.')[1].split('## 5.')[0]
    blocks = re.split(r'^### ', sec, flags=re.M)[1:]
    check(len(blocks) == 3, 'expected 3 state changes in summary, found %d' % len(blocks))
    check(len(by_kind.get('S', [])) == 3, 'decoded %d state changes' % len(by_kind.get('S', [])))
    for b in blocks:
        n = re.match(r'Frame (\d+)', b).group(1)
        state = re.search(r'\((0x30\d\d)\)', b).group(1)
        s = one('S', n)
        check(num(s['state']) == num(state), 'frame %s NewState' % n)
        hdr = re.search(r'ProcessorLevel (\d+), Processor (\d+), NumberProcessors (\d+), Thread (0x[0-9a-f]+), ProgramCounter (0x[0-9a-f]+)', b)
        for i, key in enumerate(('pl', 'proc', 'nproc', 'thread', 'pc')):
            check(num(hdr.group(i + 1)) == num(s[key]), 'frame %s %s: %s vs %s' % (n, key, hdr.group(i + 1), s[key]))
        rep = re.search(r'ControlReport: Dr6 (0x[0-9a-f]+), Dr7 (0x[0-9a-f]+), EFlags (0x[0-9a-f]+), InstructionCount (\d+), ReportFlags (0x[0-9a-f]+), InstructionStream `([0-9a-f]+)`, Cs/Ds/Es/Fs (0x[0-9a-f]+)/(0x[0-9a-f]+)/(0x[0-9a-f]+)/(0x[0-9a-f]+)', b)
        r = one('SR', n)
        for i, key in enumerate(('dr6', 'dr7', 'eflags', 'icount', 'rflags')):
            check(num(rep.group(i + 1)) == num(r[key]), 'frame %s report %s' % (n, key))
        check(rep.group(6) == r['stream'], 'frame %s instruction stream' % n)
        for i, key in enumerate(('cs', 'ds', 'es', 'fs')):
            check(num(rep.group(7 + i)) == num(r[key]), 'frame %s %s' % (n, key))
        if state == '0x3031':
            ls = re.search(r"LoadSymbols: PathNameLength (\d+), BaseOfDll (0x[0-9a-f]+), ProcessId (0x[0-9a-f]+), CheckSum (0x[0-9a-f]+), SizeOfImage (0x[0-9a-f]+), UnloadSymbols (\d+), PathName '([^']*)'", b)
            l = one('SL', n)
            for i, key in enumerate(('pln', 'base', 'pid', 'checksum', 'size', 'unload')):
                check(num(ls.group(i + 1)) == num(l[key]), 'frame %s LoadSymbols %s' % (n, key))
            check(bytes.fromhex(l['path']).decode() == ls.group(7), 'frame %s path %r' % (n, l['path']))
        else:
            ex = re.search(r'Exception: Code (0x[0-9a-f]+).*?Flags (0x[0-9a-f]+), Record (0x[0-9a-f]+), Address (0x[0-9a-f]+), NumberParameters (\d+), ExceptionInformation\[0\.\.2\] = \[([^\]]*)\], FirstChance (\d+)', b)
            e = one('SE', n)
            for i, key in enumerate(('code', 'flags', 'record', 'address', 'nparams')):
                check(num(ex.group(i + 1)) == num(e[key]), 'frame %s exception %s' % (n, key))
            info = [num(x) for x in ast.literal_eval('[' + ex.group(6) + ']')]
            check(info == [num(e['info0']), num(e['info1']), num(e['info2'])], 'frame %s info' % n)
            check(num(ex.group(7)) == num(e['first']), 'frame %s first chance' % n)

    # ---- DbgPrint strings (section 5) ----
    sec = summary.split('## 5.')[1].split('## 6.')[0]
    prints = re.findall(r"^- frame (\d+) id 0x[0-9a-f]+(?: \(RETRANSMISSION\))?: ('.*')$", sec, re.M)
    check(len(prints) == 7, 'expected 7 DbgPrints, found %d' % len(prints))
    check(len(by_kind.get('D', [])) == len(prints), 'decoded %d DEBUG_IO' % len(by_kind.get('D', [])))
    for n, text in prints:
        d = one('D', n)
        want = ast.literal_eval(text)
        got = bytes.fromhex(d.get('text', '')).decode('latin-1')
        check(got == want, 'frame %s DbgPrint %r != %r' % (n, got, want))
        check(num(d['api']) == 0x3230, 'frame %s api' % n)

    # ---- memory reads (section 8) ----
    sec = summary.split('## 8.')[1].split('## 9.')[0]
    rows = re.findall(r'^\| (\d+) \| (\d+) \| (0x[0-9a-f]+) \| (0x[0-9a-f]+) \| (0x[0-9a-f]+) \| (\d+) \| (0x[0-9a-f]+) \([A-Z_]+\) \| (0x[0-9a-f]+) \|', sec, re.M)
    check(len(rows) == 44, 'expected 44 reads in summary, found %d' % len(rows))
    for idx, req_n, req_id, addr, size, resp_n, status, actual in rows:
        q = one('M', req_n)
        check(q.get('api') == '0x3130' and num(q['addr']) == num(addr) and num(q['count']) == num(size),
              'read %s request frame %s: %s/%s' % (idx, req_n, q.get('addr'), q.get('count')))
        r = one('M', resp_n)
        check(num(r['addr']) == num(addr) and num(r['status']) == num(status) and
              num(r['actual']) == num(actual) and int(r['datalen']) == num(actual),
              'read %s response frame %s' % (idx, resp_n))
        reqp = [p for p in packets if p['n'] == req_n][0]
        check(num(reqp['id']) == num(req_id), 'read %s id' % idx)

    # ---- our encodings vs WinDbg's ----
    enc = by_kind.get('E', [])
    counts = {}
    for e in enc:
        counts[e['api']] = counts.get(e['api'], 0) + 1
        check(e['identical'] == 'yes', 'frame %s api %s: our encoding differs at %s (masked: %s)' %
              (e['n'], e['api'], e.get('first_diff'), e['masked']))
    for api, want in (('0x3146', 1), ('0x3130', 44), ('0x3132', 5), ('0x313c', 2)):
        check(counts.get(api) == want, 'compared %s %s requests, want %d' % (counts.get(api), api, want))

    # ---- FILE_IO decline equals WinDbg's reply ----
    fd, fr = by_kind.get('FD', []), by_kind.get('FR', [])
    check(len(fd) == 33 and len(fr) == 33, 'FILE_IO pairs %d/%d' % (len(fd), len(fr)))
    for a, b in zip(fd, fr):
        check(a['decline'] == b['reply'], 'FILE_IO decline for frame %s != reply frame %s' % (a['n'], b['n']))

    if failures:
        for f in failures[:50]:
            print('FAIL', f)
        print('%d failures' % len(failures))
        return 1
    print('ok: %d packets, %d reads, %d state changes, %d DbgPrints, %d encodings compared' %
          (len(packets), len(rows), len(blocks), len(prints), len(enc)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
