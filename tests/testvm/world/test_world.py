#!/usr/bin/env python3
"""VM test of the test kernel's "small Windows world" (tests/testvm/world/).

Boots testnt.exe, attaches with the core's minimal KD client (../kdmini.py)
and checks, with every structure offset taken from `llvm-pdbutil dump
-types testnt.pdb` (never hard-coded):
  - LoadSymbols for testdrv.sys at its base; its headers in target memory
    are the built file's;
  - the NtCreateFile worker's DbgPrint heartbeat arrives at >= 20 calls/s;
  - GetVersion64.DebuggerDataList -> KDDEBUGGER_DATA64 with OwnerTag 'KDBG',
    Size, KernBase, PsLoadedModuleList, PsActiveProcessHead and Offset/Size
    fields that agree with the PDB;
  - PsLoadedModuleList = ntoskrnl.exe, testdrv.sys;
  - PsActiveProcessHead = System, smss.exe, ..., explorer.exe in order;
  - user memory through a process's DirectoryTableBase (page walk done here
    with ReadPhysicalMemory): the PEB at the same virtual address differs
    between lsass.exe and services.exe and leads to each one's own
    ImagePathName; the kernel's own address space has no user half;
  - every waiting thread's saved stack unwinds (with the .pdata of
    testnt.exe) to the documented chain, ending in KiStartSystemThread;
  - a breakpoint on nt!NtCreateFile sees the six file names in order through
    r8 (ObjectAttributes) -> +0x10 ObjectName -> Buffer;
  - a breakpoint in testdrv!TestDrvDispatchCreate unwinds through nt
    (IofCallDriver, IopCreateFile, NtCreateFile, TestFileWorkerThread);
  - KUSER_SHARED_DATA (fffff780`00000000, 7ffe0000 in user space) with the
    version and a SystemTime that advances;
  - explorer.exe's ticker thread calls nt!NtDelayExecution from ring 3 with
    explorer's CR3, and a breakpoint on its user return address hits in
    ring 3.
"""
import os
import re
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from kdmini import (Kd, VM, KdError, StateChange, u16, u32, u64,  # noqa: E402
                    CTX_RIP, PT_STATE_CHANGE64, STATUS_SUCCESS,
                    check, failures, finish)  # noqa: F401 (failures: test_world_static)

EXE = os.environ["TESTNT_EXE"]
PDB = os.environ["TESTNT_PDB"]
WORLD_BUILD = os.environ.get("WORLD_BUILD_DIR", os.path.join(os.path.dirname(EXE), "world"))
PDBUTIL = os.environ.get("LLVM_PDBUTIL", "llvm-pdbutil")

PROCESS_NAMES = ["System", "smss.exe", "csrss.exe", "wininit.exe", "winlogon.exe",
                 "services.exe", "lsass.exe", "explorer.exe"]
FILE_NAMES = [r"\??\C:\Windows\System32\config\SYSTEM",
              r"\??\C:\Windows\System32\drivers\etc\hosts",
              r"\??\C:\pagefile.sys",
              r"\??\C:\Users\Public\desktop.ini",
              r"\??\C:\Windows\System32\winevt\Logs\System.evtx",
              r"\??\C:\ProgramData\test\kd-trace.txt"]
USER_PEB = 0x000000D12A4F3000
USER_IMAGE_BASE = 0x00007FF612340000
USER_NTDLL_BASE = 0x00007FFC00000000
EXPLORER_TICKER_TID = 0x1174
TESTDRV_BASE = 0xFFFFF80002000000

# ---- the PDB as llvm-pdbutil prints it ------------------------------------

class Types:
    """Struct layouts from `llvm-pdbutil dump -types`: name -> (size, fields)."""

    def __init__(self, pdb):
        out = subprocess.run([PDBUTIL, "dump", "-types", pdb], check=True,
                             capture_output=True, text=True).stdout
        self.fieldlists = {}
        self.index_name = {}
        self.structs = {}
        cur_fl = None
        rec = re.compile(r"^\s*(0x[0-9A-F]+) \| (LF_\w+) \[size = \d+\](?: `([^`]*)`)?")
        member = re.compile(r"- LF_MEMBER \[name = `([^`]+)`, Type = (0x[0-9A-F]+)[^,]*, offset = (\d+)")
        lines = out.splitlines()
        for i, line in enumerate(lines):
            m = rec.match(line)
            if m:
                idx, kind, name = int(m.group(1), 16), m.group(2), m.group(3)
                cur_fl = None
                if kind == "LF_FIELDLIST":
                    cur_fl = self.fieldlists.setdefault(idx, {})
                elif kind in ("LF_STRUCTURE", "LF_UNION"):
                    self.index_name[idx] = name
                    body = " ".join(lines[i + 1:i + 3])
                    fl = re.search(r"field list: (0x[0-9A-F]+)", body)
                    size = re.search(r"sizeof (\d+)", body)
                    if fl and "forward ref" not in body:
                        self.structs[name] = (int(size.group(1)), int(fl.group(1), 16))
                continue
            if cur_fl is not None:
                mm = member.search(line)
                if mm:
                    cur_fl[mm.group(1)] = (int(mm.group(3)), int(mm.group(2), 16))

    def size(self, struct_name):
        return self.structs[struct_name][0]

    def off(self, struct_name, path):
        """Offset of a dotted member path, e.g. ('_EPROCESS', 'Pcb.DirectoryTableBase')."""
        total, name = 0, struct_name
        for part in path.split("."):
            fields = self.fieldlists[self.structs[name][1]]
            o, ti = fields[part]
            total += o
            name = self.index_name.get(ti)
        return total


_publics_cache = {}


def publics(pdb, exe_path):
    sys.path.insert(0, os.path.dirname(HERE))
    import oracle
    if pdb not in _publics_cache:
        _publics_cache[pdb] = oracle.publics(pdb, exe_path)
    return _publics_cache[pdb]


# ---- x64 unwinding with the image's .pdata --------------------------------

class Unwinder:
    """Just enough of the x64 unwinder to follow saved stacks with the
    modules' .pdata (kernel and, through a trap frame, user mode)."""

    def __init__(self):
        self.modules = []

    def add(self, image_path, base):
        img = open(image_path, "rb").read()
        e = u32(img, 0x3C)
        opt = e + 24
        size = u32(img, opt + 56)
        exc_rva, exc_size = u32(img, opt + 112 + 3 * 8), u32(img, opt + 112 + 3 * 8 + 4)
        funcs = [struct.unpack_from("<III", img, exc_rva + i) for i in range(0, exc_size, 12)]
        self.modules.append((base, base + size, img, funcs))

    def step(self, rip, rsp, read_u64):
        """Return (caller_rip, caller_rsp) for a frame at rip/rsp."""
        mod = [m for m in self.modules if m[0] <= rip < m[1]]
        if not mod:
            raise KdError("no module at %#x" % rip)
        base, _, img, funcs = mod[0]
        rva = rip - base
        f = next((f for f in funcs if f[0] <= rva < f[1]), None)
        while f is not None:                    # no entry: a leaf, [rsp] is the return
            begin, _, info = f
            ver_flags, prolog, ncodes, frame = struct.unpack_from("<BBBB", img, info)
            flags = ver_flags >> 3
            check(frame & 0xF == 0, "unwind: frame register used at %#x" % rip)
            codes = [struct.unpack_from("<BB", img, info + 4 + 2 * i) for i in range(ncodes)]
            i = 0
            in_prolog = rva - begin < prolog
            while i < ncodes:
                code_off, op_info = codes[i]
                op, opi = op_info & 0xF, op_info >> 4
                slots = 1
                apply = not in_prolog or code_off <= rva - begin
                if op == 0:                     # PUSH_NONVOL
                    delta = 8
                elif op == 1:                   # ALLOC_LARGE
                    if opi == 0:
                        delta = (codes[i + 1][0] | codes[i + 1][1] << 8) * 8
                        slots = 2
                    else:
                        delta = (codes[i + 1][0] | codes[i + 1][1] << 8 |
                                 codes[i + 2][0] << 16 | codes[i + 2][1] << 24)
                        slots = 3
                elif op == 2:                   # ALLOC_SMALL
                    delta = opi * 8 + 8
                elif op in (4, 8):              # SAVE_NONVOL, SAVE_XMM128
                    delta, slots = 0, 2
                elif op in (5, 9):              # ..._FAR
                    delta, slots = 0, 3
                elif op == 10:                  # PUSH_MACHFRAME: into the trap frame
                    if apply:
                        rsp += 8 if opi else 0
                        return read_u64(rsp), read_u64(rsp + 0x18)
                    delta = 0
                else:
                    raise KdError("unsupported unwind op %d at %#x" % (op, rip))
                if apply:
                    rsp += delta
                i += slots
            if flags & 4:                       # UNW_FLAG_CHAININFO
                ci = info + 4 + 2 * ((ncodes + 1) & ~1)
                f = struct.unpack_from("<III", img, ci)
                rva = f[0]                      # chained: whole prologue applies
                continue
            break
        return read_u64(rsp), rsp + 8


def symbolize(syms_sorted, addr):
    best = None
    for a, n in syms_sorted:
        if a <= addr:
            best = (a, n)
        else:
            break
    if best is None or addr - best[0] > 0x2000:
        return "%#x" % addr
    return "%s+%#x" % (best[1], addr - best[0])


# ---- target access ----------------------------------------------------------

class Target:
    """Reads through the KD link.  While `cached` is set (only while the
    target is stopped), virtual pages, physical pages and translations are
    kept, so walking many structures costs few round trips."""

    def __init__(self, kd):
        self.kd = kd
        self.cached = False
        self.vpages, self.ppages, self.xlat = {}, {}, {}

    def cache(self, on):
        self.cached = on
        self.vpages, self.ppages, self.xlat = {}, {}, {}

    def read(self, addr, n):
        if not self.cached:
            return self.kd.read_virtual_all(addr, n)
        out = b""
        while len(out) < n:
            cur = addr + len(out)
            page = cur & ~0xFFF
            if page not in self.vpages:
                self.vpages[page] = self.kd.read_virtual_all(page, 0x1000)
            chunk = min(n - len(out), 0x1000 - (cur & 0xFFF))
            out += self.vpages[page][cur & 0xFFF:(cur & 0xFFF) + chunk]
        return out

    def q(self, addr):
        return u64(self.read(addr, 8), 0)

    def phys(self, pa, n):
        if self.cached and (pa & 0xFFF) + n <= 0x1000:
            page = pa & ~0xFFF
            if page not in self.ppages:
                self.ppages[page] = self._phys(page, 0x1000)
            return self.ppages[page][pa & 0xFFF:(pa & 0xFFF) + n]
        return self._phys(pa, n)

    def _phys(self, pa, n):
        out = b""
        while len(out) < n:
            st, d = self.kd.read_physical(pa + len(out), min(3944, n - len(out)))
            if not d:
                raise KdError("physical read failed at %#x" % (pa + len(out)))
            out += d
        return out

    def translate(self, dtb, va):
        """4-level walk through ReadPhysicalMemory (4 KiB / 2 MiB / 1 GiB pages)."""
        key = (dtb, va & ~0xFFF)
        if self.cached and key in self.xlat:
            return self.xlat[key] | (va & 0xFFF)
        pa = self._translate(dtb, va)
        if self.cached and pa is not None:
            self.xlat[key] = pa & ~0xFFF
        return pa

    def _translate(self, dtb, va):
        table = dtb & 0x000FFFFFFFFFF000
        for level, shift in enumerate((39, 30, 21, 12)):
            e = u64(self.phys(table + ((va >> shift) & 0x1FF) * 8, 8), 0)
            if not e & 1:
                return None
            if level in (1, 2) and e & 0x80:
                mask = (1 << shift) - 1
                return (e & 0x000FFFFFFFFFF000 & ~mask) | (va & mask)
            table = e & 0x000FFFFFFFFFF000
        return table | (va & 0xFFF)

    def uread(self, dtb, va, n):
        out = b""
        while len(out) < n:
            cur = va + len(out)
            pa = self.translate(dtb, cur)
            if pa is None:
                raise KdError("%#x not mapped under DTB %#x" % (cur, dtb))
            chunk = min(n - len(out), 0x1000 - (cur & 0xFFF))
            out += self.phys(pa, chunk)
        return out

    def ustring(self, types, raw, off, reader):
        length = u16(raw, off + types.off("_UNICODE_STRING", "Length"))
        buf = u64(raw, off + types.off("_UNICODE_STRING", "Buffer"))
        return reader(buf, length).decode("utf-16-le") if length else ""


# ---- the checks ---------------------------------------------------------------

def wait_stop(kd, timeout=20):
    return StateChange(kd.wait_data(PT_STATE_CHANGE64, timeout))


def skip_hardcoded_int3(kd, sc):
    """A breakin stops on the int3 at RtlpBreakWithStatusInstruction, which the
    debugger did not place: step Rip over it before continuing, as WinDbg
    does (open-points.md #5)."""
    st, code = kd.read_virtual(sc.pc, 1)
    if code == b"\xcc":
        st, ctx = kd.get_context()
        struct.pack_into("<Q", ctx, CTX_RIP, u64(ctx, CTX_RIP) + 1)
        check(kd.set_context(ctx) == STATUS_SUCCESS, "SetContext Rip+1")


def check_boot_and_heartbeat(kd):
    """From attach to the running world: testdrv LoadSymbols, heartbeat rate."""
    sc = StateChange(kd.attach())
    drv = None
    for _ in range(4):
        if sc.new_state == 0x3031 and "testdrv.sys" in sc.ls_path:
            drv = sc
            break
        kd.continue2()
        sc = wait_stop(kd)
    if check(drv is not None, "LoadSymbols for testdrv.sys"):
        check(drv.ls_base == TESTDRV_BASE, "testdrv base %#x" % drv.ls_base)
        check(drv.ls_path == r"\SystemRoot\system32\drivers\testdrv.sys", "testdrv path %r" % drv.ls_path)
        sys_file = open(os.path.join(WORLD_BUILD, "testdrv.sys"), "rb").read()
        check(drv.ls_size == u32(sys_file, u32(sys_file, 0x3C) + 24 + 56), "testdrv SizeOfImage")
        hdr = Target(kd).read(TESTDRV_BASE, 0x1000)
        check(hdr == sys_file[:0x1000], "testdrv.sys headers in target memory == the built file")
        check(b"RSDS" in sys_file and b"testdrv.pdb" in sys_file, "testdrv.sys has an RSDS record")
    kd.continue2()

    # Heartbeat: "NtCreateFile worker: N calls" every 200 calls.
    beats = []
    deadline = time.monotonic() + 25
    seen = 0
    while len(beats) < 2 and time.monotonic() < deadline:
        kd.read_packet(0.2)
        for s in kd.prints[seen:]:
            m = re.search(r"NtCreateFile worker: (\d+) calls", s)
            if m:
                beats.append((time.monotonic(), int(m.group(1))))
        seen = len(kd.prints)
    if check(len(beats) >= 2, "two NtCreateFile heartbeats within 25 s (got %r)" % beats):
        (t0, n0), (t1, n1) = beats[0], beats[-1]
        rate = (n1 - n0) / max(t1 - t0, 1e-3)
        print("NtCreateFile rate: %.1f calls/s (host time)" % rate)
        check(rate >= 20, "NtCreateFile rate %.1f/s < 20/s" % rate)


def check_kdbg(kd, t, types, syms, version):
    kdbg = t.q(version["debuggerdatalist"])
    check(kdbg == syms["KdDebuggerDataBlock"], "DebuggerDataList -> KdDebuggerDataBlock")
    size = types.size("_KDDEBUGGER_DATA64")
    d = t.read(kdbg, size)
    o = lambda f: types.off("_KDDEBUGGER_DATA64", f)  # noqa: E731
    check(u32(d, 0x10) == 0x4742444B, "OwnerTag 'KDBG' at +0x10")
    check(u32(d, 0x14) == size, "Size %#x == sizeof(_KDDEBUGGER_DATA64) %#x" % (u32(d, 0x14), size))
    # The fact sheet's offsets (section 13) are what debuggers use without a PDB.
    for name, fixed in (("KernBase", 0x18), ("PsLoadedModuleList", 0x48),
                        ("PsActiveProcessHead", 0x50), ("MmPageSize", 0x138),
                        ("KiProcessorBlock", 0x218), ("OffsetKThreadApcProcess", 0x2A0),
                        ("OffsetEprocessPeb", 0x2AA), ("OffsetEprocessDirectoryTableBase", 0x2AE),
                        ("OffsetPrcbCurrentThread", 0x2B4), ("SizeEThread", 0x2C0)):
        check(o(name) == fixed, "KDDEBUGGER_DATA64.%s at %#x" % (name, o(name)))
    check(u64(d, 0x18) == version["kernbase"], "KDBG KernBase")
    check(u64(d, 0x48) == version["psloadedmodulelist"] == syms["PsLoadedModuleList"],
          "KDBG PsLoadedModuleList")
    check(u64(d, 0x50) == syms["PsActiveProcessHead"], "KDBG PsActiveProcessHead")
    check(u64(d, 0x138) == 0x1000, "MmPageSize")
    check(u64(d, o("KiBugcheckData")) == syms["KiBugCheckData"], "KDBG KiBugcheckData")
    check(u64(d, o("BreakpointWithStatus")) == syms["RtlpBreakWithStatusInstruction"],
          "KDBG BreakpointWithStatus")
    check(t.q(u64(d, 0x218)) == syms["KiInitialPcr"] + types.off("_KPCR", "Prcb"),
          "KiProcessorBlock[0] is the KPRCB inside KiInitialPcr")
    for field, struct_name, path in (
            ("OffsetKThreadApcProcess", "_KTHREAD", "ApcState.Process"),
            ("OffsetKThreadKernelStack", "_KTHREAD", "KernelStack"),
            ("OffsetKThreadTeb", "_KTHREAD", "Teb"),
            ("OffsetKThreadState", "_KTHREAD", "State"),
            ("OffsetEprocessPeb", "_EPROCESS", "Peb"),
            ("OffsetEprocessParentCID", "_EPROCESS", "InheritedFromUniqueProcessId"),
            ("OffsetEprocessDirectoryTableBase", "_EPROCESS", "Pcb.DirectoryTableBase"),
            ("OffsetPrcbCurrentThread", "_KPRCB", "CurrentThread"),
            ("OffsetPcrSelfPcr", "_KPCR", "Self"),
            ("OffsetPcrCurrentPrcb", "_KPCR", "CurrentPrcb"),
            ("OffsetPcrContainedPrcb", "_KPCR", "Prcb"),
            ("OffsetPrcbProcStateContext", "_KPRCB", "ProcessorState.ContextFrame")):
        check(u16(d, o(field)) == types.off(struct_name, path),
              "KDBG %s %#x != PDB %s.%s" % (field, u16(d, o(field)), struct_name, path))
    check(u16(d, o("SizeEProcess")) == types.size("_EPROCESS"), "SizeEProcess")
    check(u16(d, o("SizeEThread")) == types.size("_ETHREAD"), "SizeEThread")
    return d


def check_processor(kd, t, types, syms, brk):
    """GS base, control space 0/1/3 and the KPCR's own pointers agree."""
    pcr = syms["KiInitialPcr"]
    prcb = pcr + types.off("_KPCR", "Prcb")
    st, gs = kd.read_msr(0xC0000101)
    check(st == STATUS_SUCCESS and gs == pcr, "GS base %#x == nt!KiInitialPcr" % gs)
    for sel, want, what in ((0, pcr, "KPCR"), (1, prcb, "KPRCB"), (3, brk.thread, "KTHREAD")):
        st, dat = kd.read_control(sel, 8)
        check(st == STATUS_SUCCESS and u64(dat, 0) == want, "control space %d = %s" % (sel, what))
    raw = t.read(pcr, 0x40)
    check(u64(raw, types.off("_KPCR", "Self")) == pcr, "KPCR.Self")
    check(u64(raw, types.off("_KPCR", "CurrentPrcb")) == prcb, "KPCR.CurrentPrcb")
    check(t.q(prcb + types.off("_KPRCB", "CurrentThread")) == brk.thread,
          "KPRCB.CurrentThread is the stop's thread")
    idle = t.q(syms["KiInitialThread"])
    check(t.q(prcb + types.off("_KPRCB", "IdleThread")) == idle,
          "KPRCB.IdleThread is nt!KiInitialThread")
    base = t.q(idle + types.off("_KTHREAD", "StackBase"))
    check(t.q(idle + types.off("_KTHREAD", "StackLimit")) == syms["KiBootStack"],
          "the idle thread's stack is the boot stack (nt!KiBootStack)")
    check(base > syms["KiBootStack"], "idle StackBase above StackLimit")
    # The breakin may be taken in the idle loop or from the timer interrupt
    # in whichever thread runs: RSP lies within the stop thread's stack.
    st, ctx = kd.get_context()
    rsp = u64(ctx, 0x98)
    lim = t.q(brk.thread + types.off("_KTHREAD", "StackLimit"))
    top = t.q(brk.thread + types.off("_KTHREAD", "StackBase"))
    check(lim <= rsp < top, "breakin RSP %#x within the current thread's stack %#x-%#x" % (rsp, lim, top))
    st, sp = kd.read_control(2, 0x70)
    check(u64(raw, types.off("_KPCR", "IdtBase")) == u64(sp, 0x68), "KPCR.IdtBase == IDTR base")
    check(u64(raw, types.off("_KPCR", "GdtBase")) == u64(sp, 0x58), "KPCR.GdtBase == GDTR base")
    check(u64(raw, types.off("_KPCR", "TssBase")) >> 44 == 0xFFFFF, "KPCR.TssBase in the kernel")


def walk_list(t, head, link_off, limit=64):
    out = []
    e = t.q(head)
    while e != head and len(out) < limit:
        out.append(e - link_off)
        e = t.q(e)
    return out


def check_shared_data(t, types, info):
    """KUSER_SHARED_DATA at fffff780`00000000, the same page at 7ffe0000 in a
    user process, with a clock that moves."""
    S = lambda f: types.off("_KUSER_SHARED_DATA", f)  # noqa: E731
    kva = 0xFFFFF78000000000
    d = t.kd.read_virtual_all(kva, types.size("_KUSER_SHARED_DATA"))
    check(u32(d, S("NtMajorVersion")) == 10 and u32(d, S("NtBuildNumber")) & 0xFFFF == 19041,
          "KUSER_SHARED_DATA version")
    check(d[S("KdDebuggerEnabled")] & 1, "KUSER_SHARED_DATA.KdDebuggerEnabled")
    root = d[S("NtSystemRoot"):S("NtSystemRoot") + 20].decode("utf-16-le")
    check(root == "C:\\Windows", "NtSystemRoot %r" % root)
    ls = info.get("lsass.exe")
    if ls:
        u = t.uread(ls["dtb"], 0x7FFE0000 + S("NtSystemRoot"), 20)
        check(u == d[S("NtSystemRoot"):S("NtSystemRoot") + 20], "7ffe0000 in lsass is the shared page")
    return u64(d, S("SystemTime")) & 0xFFFFFFFFFFFFFFFF


def check_modules(t, types, head):
    entries = walk_list(t, head, types.off("_KLDR_DATA_TABLE_ENTRY", "InLoadOrderLinks"))
    names, bases = [], []
    size = types.size("_KLDR_DATA_TABLE_ENTRY")
    for m in entries:
        raw = t.read(m, size)
        names.append(t.ustring(types, raw, types.off("_KLDR_DATA_TABLE_ENTRY", "BaseDllName"), t.read))
        bases.append(u64(raw, types.off("_KLDR_DATA_TABLE_ENTRY", "DllBase")))
    print("modules:", names)
    check(names == ["ntoskrnl.exe", "testdrv.sys"], "PsLoadedModuleList names %r" % names)
    check(bases[:2] == [0xFFFFF80000100000, TESTDRV_BASE], "module bases %r" % bases)


def check_processes(t, types, head, syms_sorted, unw):
    E = lambda f: types.off("_EPROCESS", f)  # noqa: E731
    procs = walk_list(t, head, E("ActiveProcessLinks"))
    names, info = [], {}
    esize = types.size("_EPROCESS")
    for p in procs:
        raw = t.read(p, esize)
        name = raw[E("ImageFileName"):E("ImageFileName") + 15].split(b"\0")[0].decode()
        names.append(name)
        info[name] = {"eprocess": p, "raw": raw,
                      "pid": u64(raw, E("UniqueProcessId")),
                      "ppid": u64(raw, E("InheritedFromUniqueProcessId")),
                      "dtb": u64(raw, E("Pcb.DirectoryTableBase")),
                      "peb": u64(raw, E("Peb")),
                      "session": u32(raw, E("SessionId"))}
    print("processes:", ["%s(%#x)" % (n, info[n]["pid"]) for n in names])
    check(names == PROCESS_NAMES, "PsActiveProcessHead order %r" % names)
    if "System" in info:
        check(info["System"]["pid"] == 4 and info["System"]["peb"] == 0, "System: PID 4, no PEB")
    dtbs = [info[n]["dtb"] for n in names if n in info]
    check(len(set(dtbs[1:])) == len(dtbs) - 1 and dtbs[0] not in dtbs[1:],
          "every user process has its own DirectoryTableBase")
    check_user_memory(t, types, info)
    check_threads(t, types, info, syms_sorted, unw)
    return info


def check_user_memory(t, types, info):
    # The kernel's own address space has no user half: a plain virtual read fails.
    st, d = t.kd.read_virtual(USER_PEB, 8)
    check(st != STATUS_SUCCESS and not d, "PEB address readable in the kernel address space")
    pebs = {}
    P = lambda f: types.off("_PEB", f)  # noqa: E731
    R = lambda f: types.off("_RTL_USER_PROCESS_PARAMETERS", f)  # noqa: E731
    for name in ("lsass.exe", "services.exe", "explorer.exe"):
        p = info.get(name)
        if not check(p is not None, "%s in the process list" % name):
            continue
        check(p["peb"] == USER_PEB, "%s EPROCESS.Peb %#x" % (name, p["peb"]))
        dtb = p["dtb"]
        rd = lambda va, n, dtb=dtb: t.uread(dtb, va, n)  # noqa: E731
        peb = rd(USER_PEB, types.size("_PEB"))
        pebs[name] = peb
        check(u64(peb, P("ImageBaseAddress")) == USER_IMAGE_BASE, "%s PEB.ImageBaseAddress" % name)
        params = rd(u64(peb, P("ProcessParameters")), types.size("_RTL_USER_PROCESS_PARAMETERS"))
        path = t.ustring(types, params, R("ImagePathName"), rd)
        cmd = t.ustring(types, params, R("CommandLine"), rd)
        print("%s: ImagePathName %r CommandLine %r" % (name, path, cmd))
        check(path.lower().endswith("\\" + name), "%s ImagePathName %r" % (name, path))
        env = rd(u64(params, R("Environment")), u64(params, R("EnvironmentSize"))).decode("utf-16-le")
        check("SystemRoot=C:\\Windows" in env.split("\0"), "%s environment %r" % (name, env[:80]))
        # Ldr: exe then ntdll in load order, with the exe's MZ at its DllBase.
        ldr = rd(u64(peb, P("Ldr")), types.size("_PEB_LDR_DATA"))
        L = lambda f: types.off("_LDR_DATA_TABLE_ENTRY", f)  # noqa: E731
        e = u64(ldr, types.off("_PEB_LDR_DATA", "InLoadOrderModuleList"))
        mods = []
        for _ in range(4):
            if e == u64(peb, P("Ldr")) + types.off("_PEB_LDR_DATA", "InLoadOrderModuleList"):
                break
            ent = rd(e - L("InLoadOrderLinks"), types.size("_LDR_DATA_TABLE_ENTRY"))
            mods.append((t.ustring(types, ent, L("BaseDllName"), rd), u64(ent, L("DllBase"))))
            e = u64(ent, L("InLoadOrderLinks"))
        check([m[0] for m in mods] == [name, "ntdll.dll"], "%s Ldr modules %r" % (name, mods))
        for mod, base in mods:
            check(rd(base, 2) == b"MZ", "%s: %s headers at %#x" % (name, mod, base))
        exe = open(os.path.join(WORLD_BUILD, name), "rb").read()
        check(rd(USER_IMAGE_BASE, 0x1000) == exe[:0x1000], "%s image == the built %s" % (name, name))
    if "lsass.exe" in pebs and "services.exe" in pebs:
        check(pebs["lsass.exe"] != pebs["services.exe"],
              "PEB at the same VA is the same in lsass.exe and services.exe")


def unwind_chain(t, unw, syms_sorted, kthread, types, dtb=None):
    K = lambda f: types.off("_KTHREAD", f)  # noqa: E731
    ks = t.q(kthread + K("KernelStack"))
    rip = t.q(ks + types.off("_KSWITCH_FRAME", "Return"))
    rsp = ks + types.size("_KSWITCH_FRAME")

    def read_u64(a):
        if a >= 1 << 63 or dtb is None:
            return t.q(a)
        return u64(t.uread(dtb, a, 8), 0)
    chain = []
    for _ in range(20):
        if rip == 0:
            break
        chain.append(symbolize(syms_sorted, rip).split("+")[0])
        if chain[-1] == "KiStartSystemThread":
            break
        rip, rsp = unw.step(rip, rsp, read_u64)
    return chain


def check_threads(t, types, info, syms_sorted, unw):
    K = lambda f: types.off("_KTHREAD", f)  # noqa: E731
    ET = lambda f: types.off("_ETHREAD", f)  # noqa: E731
    seen_worker = False
    seen_ticker = False
    for name, p in info.items():
        threads = walk_list(t, p["eprocess"] + types.off("_EPROCESS", "ThreadListHead"),
                            ET("ThreadListEntry"))
        check(threads, "%s has threads" % name)
        for th in threads:
            raw = t.read(th, types.size("_ETHREAD"))
            state = raw[K("State")]
            pid = u64(raw, ET("Cid") + types.off("_CLIENT_ID", "UniqueProcess"))
            check(pid == p["pid"], "%s thread Cid.UniqueProcess" % name)
            check(u64(raw, K("ApcState.Process")) == p["eprocess"], "%s thread ApcState.Process" % name)
            if state == 2:                       # Running: KernelStack is stale
                continue
            if name == "System":
                chain = unwind_chain(t, unw, syms_sorted, th, types)
            else:
                # the process's modules join the kernel for this walk
                pu = Unwinder()
                pu.modules = list(unw.modules)
                pu.add(os.path.join(WORLD_BUILD, name), USER_IMAGE_BASE)
                pu.add(os.path.join(WORLD_BUILD, "ntdll.dll"), USER_NTDLL_BASE)
                psyms = list(syms_sorted)
                for mod, img in ((name[:-4], name), ("ntdll", "ntdll.dll")):
                    pdb = os.path.join(WORLD_BUILD, img[:-4] + ".pdb")
                    psyms += [(a, mod + "!" + n) for n, a in
                              publics(pdb, os.path.join(WORLD_BUILD, img)).items()]
                chain = unwind_chain(t, pu, sorted(psyms), th, types, p["dtb"])
            print("%s thread %#x state %d: %s" % (name, th, state, " <- ".join(chain)))
            if name == "System" and "TestFileWorkerThread" in chain:
                seen_worker = True
                want = ["KiSwapContext", "KiSwapThread", "KeDelayExecutionThread",
                        "TestFileWorkerThread", "KiStartSystemThread"]
            elif name == "System":
                want = ["KiSwapContext", "KiSwapThread", "KeWaitForSingleObject",
                        "ExpWorkerThread", "KiStartSystemThread"]
            elif u64(raw, ET("Cid") + 8) == EXPLORER_TICKER_TID and name == "explorer.exe":
                seen_ticker = True
                want = ["KiSwapContext", "KiSwapThread", "KeDelayExecutionThread",
                        "NtDelayExecution", "KiSystemServiceCopyEnd",
                        "ntdll!NtDelayExecution", "explorer!AppTickerLoop",
                        "explorer!AppTickerThread", "ntdll!RtlUserThreadStart"]
            else:
                exe = name[:-4]
                want = ["KiSwapContext", "KiSwapThread", "KeWaitForSingleObject",
                        "NtWaitForSingleObject", "KiSystemServiceCopyEnd",
                        "ntdll!NtWaitForSingleObject", exe + "!AppServiceLoop",
                        exe + "!wmainCRTStartup", "ntdll!RtlUserThreadStart"]
                tf = u64(raw, K("TrapFrame"))
                tfraw = t.read(tf, types.size("_KTRAP_FRAME"))
                check(u16(tfraw, types.off("_KTRAP_FRAME", "SegCs")) == 0x33 and
                      u64(tfraw, types.off("_KTRAP_FRAME", "Rax")) == 4 and
                      u64(tfraw, types.off("_KTRAP_FRAME", "Rcx")) == 4,
                      "%s trap frame: from CS 0x33, service 4 (NtWaitForSingleObject), handle 4" % name)
                teb = u64(raw, K("Teb"))
                tebraw = t.uread(p["dtb"], teb, types.size("_TEB"))
                check(u64(tebraw, types.off("_TEB", "ProcessEnvironmentBlock")) == USER_PEB,
                      "%s TEB.ProcessEnvironmentBlock" % name)
            check(chain == want, "%s saved stack %r" % (name, chain))
        if name == "explorer.exe":
            check(len(threads) == 2, "explorer.exe has two threads")
    return seen_worker


def check_ntcreatefile_bp(kd, t, types, syms):
    """bp nt!NtCreateFile: six consecutive hits see the six names in order."""
    nt_create = syms["NtCreateFile"]
    OA = types.off("_OBJECT_ATTRIBUTES", "ObjectName")
    check(OA == 0x10, "OBJECT_ATTRIBUTES.ObjectName at +0x10")
    seen = []
    st, handle = kd.write_breakpoint(nt_create)
    check(st == STATUS_SUCCESS, "WriteBreakPoint nt!NtCreateFile")
    for _ in range(7):
        kd.continue2()
        sc = wait_stop(kd)
        for _ in range(3):
            # A second breakin byte (kdmini resends 'b' every 0.5 s until it
            # sees the stop) may still be queued: skip that stop.
            if sc.pc != syms.get("RtlpBreakWithStatusInstruction"):
                break
            skip_hardcoded_int3(kd, sc)
            kd.continue2()
            sc = wait_stop(kd)
        if not check(sc.pc == nt_create and sc.code == 0x80000003,
                     "stop at NtCreateFile (pc %#x)" % sc.pc):
            break
        st, ctx = kd.get_context()
        r8 = u64(ctx, 0x78 + 8 * 8)              # CONTEXT.R8
        rcx = u64(ctx, 0x80)
        us = t.q(r8 + OA)
        length = u16(t.read(us, 2), 0)
        name = t.read(t.q(us + 8), length).decode("utf-16-le")
        seen.append(name)
        check(rcx != 0 and u32(t.read(r8, 4), 0) == types.size("_OBJECT_ATTRIBUTES"),
              "rcx = &Handle, OBJECT_ATTRIBUTES.Length")
        # x64 convention: rdx = DesiredAccess, r9 = &IoStatus, arguments 5..11
        # at [rsp+0x28].. (above the return address and the 32-byte home area).
        rsp = u64(ctx, 0x98)
        stack = t.read(rsp, 0x60)
        args = [u64(stack, 0x28 + 8 * i) for i in range(7)]
        check(u64(ctx, 0x88) & 0xFFFFFFFF == 0x80100000 and u64(ctx, 0x78 + 9 * 8) != 0,
              "rdx = GENERIC_READ|SYNCHRONIZE, r9 = &IoStatus")
        check([args[0]] + [a & 0xFFFFFFFF for a in args[1:5]] + [args[5], args[6] & 0xFFFFFFFF] ==
              [0, 0x80, 3, 1, 0x60, 0, 0],
              "stack arguments AllocationSize..EaLength %r" % [hex(a) for a in args])
        # step over the breakpoint: restore, single-step, re-insert
        kd.restore_breakpoint(handle)
        kd.continue2(trace=True)
        s2 = wait_stop(kd)
        check(s2.code == 0x80000004, "single step after NtCreateFile bp")
        st, handle = kd.write_breakpoint(nt_create)
    kd.restore_breakpoint(handle)
    print("NtCreateFile names:", seen)
    if check(len(seen) == 7 and seen[0] in FILE_NAMES, "seven NtCreateFile hits"):
        i = FILE_NAMES.index(seen[0])
        want = [FILE_NAMES[(i + k) % 6] for k in range(7)]
        check(seen == want, "NtCreateFile names in the cyclic order")


def check_driver_breakpoint(kd, t, syms_sorted, unw):
    """bp testdrv!TestDrvDispatchCreate: the live stack crosses from the
    driver into nt and ends in KiStartSystemThread."""
    drv_syms = publics(os.path.join(WORLD_BUILD, "testdrv.pdb"), os.path.join(WORLD_BUILD, "testdrv.sys"))
    target = drv_syms["TestDrvDispatchCreate"]
    check(TESTDRV_BASE <= target < TESTDRV_BASE + 0x100000, "TestDrvDispatchCreate in testdrv.sys")
    allsyms = sorted(syms_sorted + [(a, "testdrv!" + n) for n, a in drv_syms.items()])
    st, h = kd.write_breakpoint(target)
    check(st == STATUS_SUCCESS, "WriteBreakPoint testdrv!TestDrvDispatchCreate")
    kd.continue2()
    sc = wait_stop(kd)
    kd.restore_breakpoint(h)
    if not check(sc.pc == target, "stop at TestDrvDispatchCreate (pc %#x)" % sc.pc):
        return
    st, ctx = kd.get_context()
    rip, rsp = u64(ctx, CTX_RIP), u64(ctx, 0x98)
    chain = []
    for _ in range(12):
        if rip == 0:
            break
        chain.append(symbolize(allsyms, rip).split("+")[0])
        if chain[-1] == "KiStartSystemThread":
            break
        rip, rsp = unw.step(rip, rsp, t.q)
    print("driver stop:", " <- ".join(chain))
    check(chain == ["testdrv!TestDrvDispatchCreate", "IofCallDriver", "IopCreateFile", "NtCreateFile",
                    "TestFileWorkerThread", "KiStartSystemThread"], "driver stack %r" % chain)


def check_user_breakpoint(kd, t, types, syms, info):
    """A kernel bp in NtDelayExecution stops in explorer's ticker thread with
    explorer's CR3; a bp on the user return address from its trap frame then
    hits in ring 3 (SegCs 0x33) in the same thread."""
    ex = info.get("explorer.exe")
    if not check(ex is not None, "explorer.exe present"):
        return
    st, h = kd.write_breakpoint(syms["NtDelayExecution"])
    check(st == STATUS_SUCCESS, "WriteBreakPoint nt!NtDelayExecution")
    kd.continue2()
    sc = wait_stop(kd)
    for _ in range(3):
        if sc.pc != syms.get("RtlpBreakWithStatusInstruction"):
            break
        skip_hardcoded_int3(kd, sc)
        kd.continue2()
        sc = wait_stop(kd)
    kd.restore_breakpoint(h)
    if not check(sc.pc == syms["NtDelayExecution"], "stop in nt!NtDelayExecution (pc %#x)" % sc.pc):
        return
    K = lambda f: types.off("_KTHREAD", f)  # noqa: E731
    cid = t.read(sc.thread + types.off("_ETHREAD", "Cid"), 16)
    check(u64(cid, 0) == ex["pid"] and u64(cid, 8) == EXPLORER_TICKER_TID,
          "NtDelayExecution called by explorer's ticker thread")
    st, sp = kd.read_control(2, 0x20)
    check(u64(sp, 0x10) == ex["dtb"], "CR3 is explorer's DirectoryTableBase in its thread")
    tf = t.q(sc.thread + K("TrapFrame"))
    user_rip = t.q(tf + types.off("_KTRAP_FRAME", "Rip"))
    check(USER_NTDLL_BASE <= user_rip < USER_NTDLL_BASE + 0x10000, "trap frame Rip in ntdll")
    original = t.read(user_rip, 1)
    st, h = kd.write_breakpoint(user_rip)
    check(st == STATUS_SUCCESS, "WriteBreakPoint at a user address in explorer's context")
    kd.continue2()
    sc = wait_stop(kd)
    st, ctx = kd.get_context()
    check(sc.pc == user_rip and u16(ctx, 0x38) == 0x33,
          "user-mode breakpoint hit in ring 3 (pc %#x cs %#x)" % (sc.pc, u16(ctx, 0x38)))
    check(t.read(sc.thread + types.off("_ETHREAD", "Cid") + 8, 8) ==
          struct.pack("<Q", EXPLORER_TICKER_TID), "user bp in the ticker thread")
    # The target may already have removed a breakpoint inside the reported
    # instruction bytes (open-points.md #6): what matters is the original byte.
    kd.restore_breakpoint(h)
    check(t.read(user_rip, 1) == original, "original byte back at the user address")
    print("user-mode bp at %#x hit in explorer's ticker thread" % user_rip)


def patient(kd):
    """The machine running the VM is shared and can starve QEMU past kdmini's
    10 s ACK wait.  Resend the same request (same packet id, as a debugger
    does after a timeout) up to twice before giving up."""
    request = kd.request

    def request_again(*args, **kwargs):
        for attempt in range(3):
            try:
                return request(*args, **kwargs)
            except KdError as e:
                if attempt == 2 or "no ACK" not in str(e):
                    raise
                print("resending after a link timeout:", e)
    kd.request = request_again
    return kd


def main():
    types = Types(PDB)
    syms = publics(PDB, EXE)
    syms_sorted = sorted((a, n) for n, a in syms.items())
    unw = Unwinder()
    unw.add(EXE, 0xFFFFF80000100000)
    unw.add(os.path.join(WORLD_BUILD, "testdrv.sys"), TESTDRV_BASE)
    for s in ("KiSwapContext", "SwapContext", "KiStartSystemThread", "KiSwapThread",
              "KeWaitForSingleObject", "NtCreateFile", "PsActiveProcessHead",
              "KdDebuggerDataBlock", "KiInitialPcr"):
        check(s in syms, "public symbol %s" % s)
    with VM("unix") as vm:
        kd = None
        for _ in range(20):
            try:
                kd = Kd(vm.endpoint)
                break
            except (ConnectionRefusedError, FileNotFoundError):
                time.sleep(0.1)             # READY can precede QEMU's listen()
        if kd is None:
            kd = Kd(vm.endpoint)
        patient(kd)
        try:
            check_boot_and_heartbeat(kd)
            brk = StateChange(kd.breakin())
            t = Target(kd)
            v = kd.get_version()
            check(v["flags"] & 2, "GetVersion64 DATA flag (DebuggerDataList valid)")
            d = check_kdbg(kd, t, types, syms, v)
            check_processor(kd, t, types, syms, brk)
            t.cache(True)                       # stopped: structures do not change
            check_modules(t, types, u64(d, 0x48))
            info = check_processes(t, types, u64(d, 0x50), syms_sorted, unw)
            t.cache(False)
            time0 = check_shared_data(t, types, info)
            skip_hardcoded_int3(kd, brk)
            check_ntcreatefile_bp(kd, t, types, syms)
            check_driver_breakpoint(kd, t, syms_sorted, unw)
            check_user_breakpoint(kd, t, types, syms, info)
            time1 = check_shared_data(t, types, info)
            items = u32(t.read(syms["ExpWorkItemsProcessed"], 4), 0)
            print("ExpWorkerThread work items:", items)
            check(items >= 1, "ExpWorkerThread woke for a work item (KeSetEvent -> wait satisfied)")
            check(time1 > time0, "KUSER_SHARED_DATA.SystemTime advances while running")
            kd.continue2()
        finally:
            kd.close()
    return finish("all world checks passed")


if __name__ == "__main__":
    sys.exit(main())
