"""oracle.py - what the built image says, from LLVM's own tools, so the VM
tests compare live target data against an independent reading of
testnt.exe / testnt.pdb."""
import os
import re
import subprocess


def _tool(env, name):
    return os.environ.get(env) or name


def image_info(exe):
    out = subprocess.run([_tool("LLVM_READOBJ", "llvm-readobj"), "--file-headers", "--sections", exe],
                         check=True, capture_output=True, text=True).stdout
    info = {
        "image_base": int(re.search(r"ImageBase: (0x[0-9A-Fa-f]+)", out).group(1), 16),
        "size_of_image": int(re.search(r"SizeOfImage: (\d+)", out).group(1)),
        "entry": int(re.search(r"AddressOfEntryPoint: (0x[0-9A-Fa-f]+)", out).group(1), 16),
        "sections": [],
    }
    for m in re.finditer(r"Name: (\S+) .*?VirtualSize: (0x[0-9A-F]+)\s+VirtualAddress: (0x[0-9A-F]+)"
                         r"\s+RawDataSize: (\d+)\s+PointerToRawData: (0x[0-9A-F]+)", out, re.S):
        info["sections"].append({"name": m.group(1), "vsize": int(m.group(2), 16),
                                 "rva": int(m.group(3), 16), "rawsize": int(m.group(4)),
                                 "rawptr": int(m.group(5), 16)})
    return info


def publics(pdb, exe):
    """name -> virtual address, from the PDB's public symbols."""
    info = image_info(exe)
    out = subprocess.run([_tool("LLVM_PDBUTIL", "llvm-pdbutil"), "dump", "-publics", pdb],
                         check=True, capture_output=True, text=True).stdout
    syms = {}
    for m in re.finditer(r"`([^`]+)`\s+flags = [^,]*, addr = (\d+):(\d+)", out):
        sec, off = int(m.group(2)), int(m.group(3))
        if 1 <= sec <= len(info["sections"]):
            syms[m.group(1)] = info["image_base"] + info["sections"][sec - 1]["rva"] + off
    return syms
