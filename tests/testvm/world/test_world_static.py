#!/usr/bin/env python3
"""Static test of the world's build products (no VM, suite 'unit').

What a debugger needs before it ever attaches, checked with LLVM's tools:
  - testnt.pdb describes the Windows structures and every member path the
    engine's nt layer looks up (kdclient/nt_types.c names), including the
    KSWITCH_FRAME/KTRAP_FRAME the stack walker starts from;
  - the stack-chain functions are public symbols with .pdata, and the unwind
    codes of the hand-written ones are the documented ones;
  - every embedded PE has an RSDS record naming only its PDB, with the GUID
    and age of the PDB built next to it; the exes import from ntdll.dll what
    ntdll.dll exports.
"""
import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from test_world import Types, check, failures  # noqa: E402
import oracle  # noqa: E402

EXE = os.environ["TESTNT_EXE"]
PDB = os.environ["TESTNT_PDB"]
WORLD_BUILD = os.environ["WORLD_BUILD_DIR"]
READOBJ = os.environ.get("LLVM_READOBJ", "llvm-readobj")
PDBUTIL = os.environ.get("LLVM_PDBUTIL", "llvm-pdbutil")

MEMBER_PATHS = {
    "_EPROCESS": ["Pcb.DirectoryTableBase", "Pcb.ThreadListHead", "UniqueProcessId",
                  "ActiveProcessLinks", "ImageFileName", "Peb", "InheritedFromUniqueProcessId",
                  "ObjectTable", "SessionId", "ThreadListHead", "ActiveThreads", "CreateTime"],
    "_ETHREAD": ["Tcb.KernelStack", "Tcb.InitialStack", "Tcb.StackLimit", "Tcb.StackBase",
                 "Tcb.Teb", "Tcb.State", "Tcb.WaitReason", "Tcb.WaitMode", "Tcb.ApcState.Process",
                 "Tcb.Process", "Tcb.TrapFrame", "Tcb.Priority", "Tcb.BasePriority",
                 "Tcb.ContextSwitches", "Tcb.KernelTime", "Tcb.UserTime", "Tcb.ThreadListEntry",
                 "Tcb.Win32Thread", "Cid.UniqueProcess", "Cid.UniqueThread", "ThreadListEntry",
                 "StartAddress", "Win32StartAddress"],
    "_KPCR": ["Self", "CurrentPrcb", "Prcb.CurrentThread", "Prcb.ProcessorState.ContextFrame"],
    "_KLDR_DATA_TABLE_ENTRY": ["InLoadOrderLinks", "DllBase", "EntryPoint", "SizeOfImage",
                               "FullDllName.Buffer", "BaseDllName.Length"],
    "_PEB": ["ImageBaseAddress", "Ldr", "ProcessParameters", "ProcessHeap", "SessionId",
             "BeingDebugged"],
    "_PEB_LDR_DATA": ["InLoadOrderModuleList", "InMemoryOrderModuleList",
                      "InInitializationOrderModuleList", "Initialized"],
    "_LDR_DATA_TABLE_ENTRY": ["InLoadOrderLinks", "InMemoryOrderLinks", "DllBase",
                              "SizeOfImage", "FullDllName", "BaseDllName", "TimeDateStamp"],
    "_RTL_USER_PROCESS_PARAMETERS": ["CurrentDirectory.DosPath", "DllPath", "ImagePathName",
                                     "CommandLine", "Environment", "EnvironmentSize",
                                     "WindowTitle", "DesktopInfo"],
    "_TEB": ["NtTib.StackBase", "NtTib.StackLimit", "NtTib.Self", "ClientId",
             "ProcessEnvironmentBlock", "LastErrorValue"],
    "_HANDLE_TABLE": ["HandleCount"],
    "_KSWITCH_FRAME": ["Rbp", "Return"],
    "_KTRAP_FRAME": ["Rip", "SegCs", "EFlags", "Rsp", "SegSs", "Rax", "Rcx"],
    "_OBJECT_ATTRIBUTES": ["ObjectName"],
    "_KUSER_SHARED_DATA": ["SystemTime", "NtBuildNumber", "KdDebuggerEnabled"],
}
FIXED = {("_KSWITCH_FRAME", "Return"): 0x38, ("_KTRAP_FRAME", "Rip"): 0x168,
         ("_KTRAP_FRAME", "Rsp"): 0x180, ("_OBJECT_ATTRIBUTES", "ObjectName"): 0x10,
         ("_KPCR", "Self"): 0x18, ("_KPCR", "CurrentPrcb"): 0x20}
CHAIN = ["KiSwapContext", "SwapContext", "KiSwapThread", "KeWaitForSingleObject",
         "KeDelayExecutionThread", "NtWaitForSingleObject", "NtDelayExecution",
         "KiSystemCall64", "KiSystemServiceCopyEnd", "KiStartSystemThread", "KiStartUserThread",
         "NtCreateFile", "IopCreateFile", "IofCallDriver", "TestFileWorkerThread",
         "ExpWorkerThread", "KiIdleLoop"]


def unwind_table(path):
    out = subprocess.run([READOBJ, "--unwind", path], check=True, capture_output=True,
                         text=True).stdout
    funcs = []
    for m in re.finditer(r"StartAddress: [^(]*\((0x[0-9A-F]+)\)\s+EndAddress: [^(]*\((0x[0-9A-F]+)\)"
                         r".*?UnwindCodes \[(.*?)\]", out, re.S):
        codes = re.findall(r"0x[0-9A-F]+: (\w+)(?: reg=(\w+))?(?:, offset=(0x[0-9A-F]+))?"
                           r"(?: size=(\d+))?", m.group(3))
        funcs.append((int(m.group(1), 16), int(m.group(2), 16), codes))
    return funcs


def covering(funcs, addr):
    return next((f for f in funcs if f[0] <= addr < f[1]), None)


def rsds(path):
    out = subprocess.run([READOBJ, "--coff-debug-directory", path], check=True,
                         capture_output=True, text=True).stdout
    guid = re.search(r"PDBGUID: \(([0-9A-F ]+)\)", out).group(1).split()
    age = int(re.search(r"PDBAge: (\d+)", out).group(1))
    name = re.search(r"PDBFileName: (\S+)", out).group(1)
    g = bytes(int(x, 16) for x in guid)
    d1, d2, d3 = struct.unpack_from("<IHH", g)
    text = "{%08X-%04X-%04X-%s-%s}" % (d1, d2, d3, g[8:10].hex().upper(), g[10:].hex().upper())
    return text, age, name


def pdb_guid_age(pdb):
    out = subprocess.run([PDBUTIL, "dump", "-summary", pdb], check=True, capture_output=True,
                         text=True).stdout
    return (re.search(r"GUID: (\{[0-9A-F-]+\})", out).group(1),
            int(re.search(r"Age: (\d+)", out).group(1)))


def main():
    types = Types(PDB)
    for struct_name, paths in MEMBER_PATHS.items():
        if not check(struct_name in types.structs, "testnt.pdb has %s" % struct_name):
            continue
        for p in paths:
            try:
                off = types.off(struct_name, p)
            except KeyError:
                check(False, "testnt.pdb: %s.%s" % (struct_name, p))
                continue
            if (struct_name, p) in FIXED:
                check(off == FIXED[(struct_name, p)], "%s.%s at %#x" % (struct_name, p, off))
    check(types.size("_CONTEXT") == 0x4D0, "CONTEXT is 0x4D0 bytes")
    check(types.size("_KTRAP_FRAME") == 0x190, "KTRAP_FRAME is 0x190 bytes")

    syms = oracle.publics(PDB, EXE)
    funcs = unwind_table(EXE)
    for name in CHAIN:
        if check(name in syms, "public symbol nt!%s" % name) and name != "KiSystemServiceCopyEnd":
            check(covering(funcs, syms[name]) is not None, ".pdata covers nt!%s" % name)
    f = covering(funcs, syms.get("KiSwapContext", 0))
    if f:
        ops = [c[0] for c in f[2]]
        check(ops.count("PUSH_NONVOL") == 8 and ops.count("SAVE_XMM128") == 10 and
              ("ALLOC_LARGE" in ops or "ALLOC_SMALL" in ops), "KiSwapContext unwind codes %r" % ops)
    f = covering(funcs, syms.get("KiSystemServiceCopyEnd", 0))
    check(f is not None and f[0] == syms.get("KiSystemCall64") and
          any(c[0] == "PUSH_MACHFRAME" for c in f[2]),
          "KiSystemServiceCopyEnd is inside KiSystemCall64, which unwinds through a machine frame")

    pes = ["ntdll.dll", "testdrv.sys"] + [n + ".exe" for n in (
        "smss", "csrss", "wininit", "winlogon", "services", "lsass", "explorer")]
    for pe in pes:
        path = os.path.join(WORLD_BUILD, pe)
        pdb = os.path.splitext(path)[0] + ".pdb"
        guid, age, name = rsds(path)
        check(name == os.path.basename(pdb), "%s RSDS names %r (the file name only)" % (pe, name))
        check((guid, age) == pdb_guid_age(pdb), "%s RSDS GUID/age match %s" % (pe, name))
    exports = subprocess.run([READOBJ, "--coff-exports", os.path.join(WORLD_BUILD, "ntdll.dll")],
                             check=True, capture_output=True, text=True).stdout
    for e in ("RtlUserThreadStart", "NtWaitForSingleObject", "NtDelayExecution"):
        check("Name: %s" % e in exports, "ntdll.dll exports %s" % e)
    imports = subprocess.run([READOBJ, "--coff-imports", os.path.join(WORLD_BUILD, "lsass.exe")],
                             check=True, capture_output=True, text=True).stdout
    check("Name: ntdll.dll" in imports and "NtWaitForSingleObject" in imports,
          "lsass.exe imports NtWaitForSingleObject from ntdll.dll")

    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all static world checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
