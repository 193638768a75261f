"""kdmini.py - a minimal host-side KDCOM client for the test-VM tests.

Deliberately independent of the engine (kdclient/, transport/) so the VM can
be validated on its own.  Byte layouts follow the fact sheet
(../shared/reference/kd-protocol-facts.md); every field is read at an
explicit little-endian offset.
"""
import os
import select
import socket
import struct
import subprocess
import termios
import time
import tty

LEADER_DATA = 0x30303030
LEADER_CONTROL = 0x69696969
PT_MANIPULATE, PT_DEBUG_IO, PT_ACK, PT_RESEND, PT_RESET, PT_STATE_CHANGE64 = 2, 3, 4, 5, 6, 7
INITIAL_ID = 0x80800000
SYNC_ID = 0x800

API = {
    "ReadVirtualMemory": 0x3130, "WriteVirtualMemory": 0x3131, "GetContext": 0x3132,
    "SetContext": 0x3133, "WriteBreakPoint": 0x3134, "RestoreBreakPoint": 0x3135,
    "Continue": 0x3136, "ReadControlSpace": 0x3137, "WriteControlSpace": 0x3138,
    "Reboot": 0x313B, "Continue2": 0x313C, "ReadPhysicalMemory": 0x313D,
    "WritePhysicalMemory": 0x313E, "GetVersion": 0x3146, "CauseBugCheck": 0x3149,
    "ReadMsr": 0x3152, "WriteMsr": 0x3153, "GetContextEx": 0x315F,
}
STATUS_SUCCESS = 0
STATUS_UNSUCCESSFUL = 0xC0000001
STATUS_BREAKPOINT = 0x80000003
STATUS_SINGLE_STEP = 0x80000004
DBG_CONTINUE = 0x00010002


class KdError(Exception):
    pass


def u16(b, o): return struct.unpack_from("<H", b, o)[0]
def u32(b, o): return struct.unpack_from("<I", b, o)[0]
def u64(b, o): return struct.unpack_from("<Q", b, o)[0]


class Stream:
    """Raw byte stream to COM1: 'unix:PATH', 'tcp:HOST:PORT' or a pty path."""

    def __init__(self, endpoint):
        self.sock = None
        self.fd = None
        if endpoint.startswith("unix:"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(endpoint[5:])
        elif endpoint.startswith("tcp:"):
            host, port = endpoint[4:].rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            self.fd = os.open(endpoint, os.O_RDWR | os.O_NOCTTY)
            tty.setraw(self.fd)
            attrs = termios.tcgetattr(self.fd)
            attrs[2] &= ~termios.CRTSCTS
            termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        self.buf = b""

    def fileno(self):
        return self.sock.fileno() if self.sock else self.fd

    def write(self, data):
        if self.sock:
            self.sock.sendall(data)
        else:
            while data:
                n = os.write(self.fd, data)
                data = data[n:]

    def read_some(self, timeout):
        r, _, _ = select.select([self.fileno()], [], [], max(0, timeout))
        if not r:
            return b""
        data = self.sock.recv(65536) if self.sock else os.read(self.fd, 65536)
        if not data:
            raise KdError("connection closed")
        return data

    def read_byte(self, deadline):
        while not self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.buf += self.read_some(left)
        b, self.buf = self.buf[0], self.buf[1:]
        return b

    def wait_first_byte(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KdError("no byte from the guest")
            self.buf += self.read_some(left)

    def close(self):
        if self.sock:
            self.sock.close()
        elif self.fd is not None:
            os.close(self.fd)


class Packet:
    def __init__(self, leader, ptype, pid, payload):
        self.leader, self.type, self.id, self.payload = leader, ptype, pid, payload

    def __repr__(self):
        return "Packet(type=%d id=%#x len=%d)" % (self.type, self.id, len(self.payload))


class Kd:
    def __init__(self, endpoint):
        self.s = Stream(endpoint)
        self.next_id = INITIAL_ID
        self.prints = []              # DbgPrint strings seen
        self.control = []             # control packets seen (type, id)
        self.last_data_id = None
        self.auto_ack = True          # tests of the link turn this off

    def close(self):
        self.s.close()

    # ---- framing ----
    def send_control(self, ptype, pid=0):
        self.s.write(struct.pack("<IHHII", LEADER_CONTROL, ptype, 0, pid, 0))

    def send_data(self, ptype, payload, pid=None):
        pid = self.next_id if pid is None else pid
        self.s.write(struct.pack("<IHHII", LEADER_DATA, ptype, len(payload), pid,
                                 sum(payload) & 0xFFFFFFFF) + payload + b"\xaa")

    def read_packet(self, timeout):
        """Next well-formed packet (data packets are ACKed), or None."""
        deadline = time.monotonic() + timeout
        while True:
            count, leader = 0, None
            while count < 4:
                b = self.s.read_byte(deadline)
                if b is None:
                    return None
                if b in (0x30, 0x69):
                    if count and b != leader:
                        count = 0
                    leader = b
                    count += 1
                else:
                    count = 0
            hdr = bytes(self.s.read_byte(deadline + 1) or 0 for _ in range(12))
            ptype, n, pid, csum = struct.unpack("<HHII", hdr)
            if leader == 0x69:
                self.control.append((ptype, pid))
                return Packet(LEADER_CONTROL, ptype, pid, b"")
            if n > 4000:
                continue
            payload = bytes(self.s.read_byte(deadline + 2) or 0 for _ in range(n))
            trailer = self.s.read_byte(deadline + 2)
            if (sum(payload) & 0xFFFFFFFF) != csum or trailer != 0xAA:
                self.send_control(PT_RESEND)
                continue
            if not self.auto_ack:
                return Packet(LEADER_DATA, ptype, pid, payload)
            # ACK with the SYNC bit masked (fact sheet section 3).
            self.send_control(PT_ACK, pid & ~SYNC_ID)
            dup = (pid == self.last_data_id)
            self.last_data_id = pid
            if dup:
                continue
            if ptype == PT_DEBUG_IO and u32(payload, 0) == 0x3230:
                ln = u32(payload, 8)
                self.prints.append(payload[16:16 + ln].decode("latin-1"))
            return Packet(LEADER_DATA, ptype, pid, payload)

    def first_data_packet(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.read_packet(deadline - time.monotonic())
            if p is not None and p.leader == LEADER_DATA:
                return p
        raise KdError("no data packet")

    def wait_data(self, want_type, timeout, pred=None):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KdError("timeout waiting for packet type %d" % want_type)
            p = self.read_packet(left)
            if p is None:
                continue
            if p.leader == LEADER_DATA and p.type == want_type and (pred is None or pred(p)):
                return p

    # ---- attach ----
    def attach(self, timeout=10):
        """Wait for the guest, RESET, and return the first STATE_CHANGE64."""
        if self.last_data_id is None:
            self.s.wait_first_byte(timeout)
        self.send_control(PT_RESET)
        self.next_id = INITIAL_ID
        self.last_data_id = None
        return self.wait_data(PT_STATE_CHANGE64, timeout)

    def breakin(self, timeout=10, skip_load_symbols=True):
        """Send 0x62 until a state change arrives.  LoadSymbols stops the
        kernel makes on its own (drivers loading at boot) are continued."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.s.write(b"b")
            try:
                p = self.wait_data(PT_STATE_CHANGE64, 0.5)
            except KdError:
                continue
            if skip_load_symbols and u32(p.payload, 0) == 0x3031:
                self.continue2()
                continue
            return p
        raise KdError("no state change after breakin")

    def run_boot(self, settle=0.3):
        """Continue from the current stop and through the boot-time
        LoadSymbols stops, until the kernel has been quiet for `settle` s."""
        self.continue2()
        while True:
            try:
                p = self.wait_data(PT_STATE_CHANGE64, settle)
            except KdError:
                return
            if u32(p.payload, 0) != 0x3031:
                raise KdError("unexpected stop while booting: %#x" % u32(p.payload, 0x20))
            self.continue2()

    # ---- manipulate ----
    def request(self, api, u=b"", data=b"", reply=True, timeout=10):
        name = api
        api = API[api] if isinstance(api, str) else api
        hdr = struct.pack("<IHHI", api, 0, 0, 0x103) + b"\0" * 4
        hdr += (u + b"\0" * 40)[:40]
        pkt = hdr + data
        deadline = time.monotonic() + timeout
        self.send_data(PT_MANIPULATE, pkt)
        # Wait for the ACK of our packet.
        while True:
            p = self.read_packet(max(0.01, deadline - time.monotonic()))
            if time.monotonic() > deadline:
                raise KdError("no ACK for %s" % name)
            if p is None:
                self.send_data(PT_MANIPULATE, pkt)
                continue
            if p.leader == LEADER_CONTROL and p.type == PT_ACK and p.id == self.next_id:
                break
            if p.leader == LEADER_CONTROL and p.type in (PT_RESEND,):
                self.send_data(PT_MANIPULATE, pkt)
        self.next_id ^= 1
        if not reply:
            return None
        p = self.wait_data(PT_MANIPULATE, max(0.1, deadline - time.monotonic()),
                           lambda p: u32(p.payload, 0) == api)
        return p.payload

    def get_version(self):
        r = self.request("GetVersion")
        v = r[0x10:0x38]
        return {
            "status": u32(r, 8), "major": u16(v, 0), "minor": u16(v, 2), "protocol": v[4],
            "secondary": v[5], "flags": u16(v, 6), "machine": u16(v, 8),
            "kernbase": u64(v, 0x10), "psloadedmodulelist": u64(v, 0x18),
            "debuggerdatalist": u64(v, 0x20),
        }

    def _mem(self, api, addr, length):
        r = self.request(api, struct.pack("<QII", addr, length, 0))
        got = u32(r, 0x1C)
        return u32(r, 8), r[0x38:0x38 + got]

    def read_virtual(self, addr, length):
        return self._mem("ReadVirtualMemory", addr, length)

    def read_physical(self, addr, length):
        return self._mem("ReadPhysicalMemory", addr, length)

    def read_control(self, selector, length):
        return self._mem("ReadControlSpace", selector, length)

    def write_virtual(self, addr, data):
        r = self.request("WriteVirtualMemory", struct.pack("<QII", addr, len(data), 0), data)
        return u32(r, 8), u32(r, 0x1C)

    def read_virtual_all(self, addr, length):
        out = b""
        while len(out) < length:
            st, d = self.read_virtual(addr + len(out), min(3944, length - len(out)))
            if not d:
                raise KdError("read failed at %#x" % (addr + len(out)))
            out += d
        return out

    def get_context(self):
        r = self.request("GetContext", struct.pack("<II", 0, 0x4D0))
        return u32(r, 8), bytearray(r[0x38:])

    def set_context(self, ctx):
        r = self.request("SetContext", struct.pack("<I", 0x10001F), bytes(ctx))
        return u32(r, 8)

    def write_breakpoint(self, addr):
        r = self.request("WriteBreakPoint", struct.pack("<Q", addr))
        return u32(r, 8), u32(r, 0x18)

    def restore_breakpoint(self, handle):
        r = self.request("RestoreBreakPoint", struct.pack("<I", handle))
        return u32(r, 8)

    def continue2(self, trace=False, dr7=0, status=DBG_CONTINUE, sym_range=(1, 0)):
        self.request("Continue2", struct.pack("<IIQQQ", status, 1 if trace else 0, dr7,
                                              sym_range[0], sym_range[1]), reply=False)

    def read_msr(self, msr):
        r = self.request("ReadMsr", struct.pack("<III", msr, 0, 0))
        return u32(r, 8), u32(r, 0x14) | (u32(r, 0x18) << 32)


class StateChange:
    def __init__(self, p):
        b = p.payload
        self.raw = b
        self.new_state = u32(b, 0)
        self.processor_level = u16(b, 4)
        self.nprocs = u32(b, 8)
        self.thread = u64(b, 0x10)
        self.pc = u64(b, 0x18)
        self.code = u32(b, 0x20)
        self.exc_address = u64(b, 0x30)
        self.nparams = u32(b, 0x38)
        self.params = [u64(b, 0x40 + 8 * i) for i in range(15)]
        self.first_chance = u32(b, 0xB8)
        self.dr6 = u64(b, 0xC0)
        self.dr7 = u64(b, 0xC8)
        self.eflags = u32(b, 0xD0)
        self.icount = u16(b, 0xD4)
        self.report_flags = u16(b, 0xD6)
        self.stream = b[0xD8:0xD8 + self.icount]
        self.cs = u16(b, 0xE8)
        # load symbols view
        self.ls_pathlen = u32(b, 0x20)
        self.ls_base = u64(b, 0x28)
        self.ls_size = u32(b, 0x3C)
        self.ls_unload = b[0x40]
        self.ls_path = b[len(b) - self.ls_pathlen:].rstrip(b"\0").decode("latin-1") if self.ls_pathlen else ""


CTX_RIP = 0xF8
CTX_RAX = 0x78
CTX_RSP = 0x98
CTX_EFLAGS = 0x44


class VM:
    """run-vm as a context manager: yields the READY endpoint."""

    def __init__(self, backend, dump_to=None, extra=()):
        self.backend = backend
        self.dump_to = dump_to
        self.extra = list(extra)
        self.proc = None
        self.endpoint = None
        self.tmp = None

    def __enter__(self):
        import tempfile
        self.tmp = tempfile.mkdtemp(prefix="testvm-")
        run_vm = os.environ["RUN_VM"]
        args = [run_vm, "--image", os.environ["TESTNT_EXE"]]
        if self.backend == "unix":
            args += ["--unix", os.path.join(self.tmp, "com1.sock")]
        elif self.backend == "tcp":
            args += ["--tcp", str(free_port())]
        else:
            args += ["--pty"]
        if self.dump_to:
            args += ["--dump-to", self.dump_to]
        if self.extra:
            args += ["--"] + self.extra
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.ready_time = time.monotonic() - self.t0
        if not line.startswith("READY "):
            self.__exit__(None, None, None)
            raise KdError("run-vm said %r" % line)
        self.endpoint = line.split(" ", 1)[1].strip()
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        import shutil
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- check bookkeeping shared by the VM test scripts -------------------------
# Every failed check is printed at once and remembered here, so a script runs
# all of its checks and its exit status still says whether any failed.
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def finish(passed="all checks passed"):
    """main()'s exit status: 1 if any check failed, else 0."""
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print(passed)
    return 0


def skip_int3(kd):
    """Step over a hard-coded int3 the debugger did not place (fact sheet 8)."""
    st, ctx = kd.get_context()
    rip = u64(ctx, CTX_RIP)
    st, b = kd.read_virtual(rip, 1)
    if b == b"\xcc":
        struct.pack_into("<Q", ctx, CTX_RIP, rip + 1)
        check(kd.set_context(ctx) == STATUS_SUCCESS, "SetContext Rip+1")
