"""e2e.py - drive the kdclient executable against the test VM.

VM:  tests/testvm/run-vm as a context manager (READY <endpoint>).
Kd:  kdclient with stdin/stdout pipes; commands are written one per line
     (stdin is not a terminal, so kdclient prints "N: kd> " + the echoed
     command) and the output up to the next prompt is returned.
Oracle: addresses and sizes from llvm-readobj / llvm-pdbutil, so the tests
compare kdclient's view with an independent reading of testnt.exe/.pdb.
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

PROMPT = re.compile(r"(?m)^(\d+): kd> ")


class TestFailure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise TestFailure(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class VM:
    def __init__(self, backend, dump_to=None):
        self.backend = backend
        self.dump_to = dump_to
        self.proc = None
        self.tmp = None

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="e2e-")
        args = [os.environ["RUN_VM"], "--image", os.environ["TESTNT_EXE"]]
        if self.backend == "unix":
            args += ["--unix", os.path.join(self.tmp, "com1.sock")]
        elif self.backend == "tcp":
            args += ["--tcp", str(free_port())]
        else:
            args += ["--pty"]
        if self.dump_to:
            args += ["--dump-to", self.dump_to]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.__exit__()
            raise TestFailure("run-vm said %r" % line)
        ep = line.split(" ", 1)[1].strip()
        # kdclient connection strings: WinDbg's pipe form for the unix
        # socket, the short tcp form, WinDbg's com form for the pty.
        if self.backend == "unix":
            self.spec = "com:pipe,port=" + ep[len("unix:"):]
        elif self.backend == "tcp":
            self.spec = ep
        else:
            self.spec = "com:port=%s,baud=115200" % ep
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.tmp:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)


class Kd:
    def __init__(self, spec, args=(), break_in=True):
        cmd = [os.environ["KDCLIENT"], "-k", spec]
        if break_in:
            cmd.append("-b")
        cmd += list(args)
        self.log = []
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        self.buf = ""
        self.pos = 0
        self.cv = threading.Condition()
        self.eof = False
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    def _reader(self):
        while True:
            b = self.proc.stdout.read1(65536) if hasattr(self.proc.stdout, "read1") \
                else os.read(self.proc.stdout.fileno(), 65536)
            with self.cv:
                if not b:
                    self.eof = True
                    self.cv.notify_all()
                    return
                text = b.decode("utf-8", "replace")
                print(text, end="", flush=True)
                self.buf += text
                self.cv.notify_all()

    def expect(self, regex, timeout=30):
        """Wait for regex after the current position; return the text up to
        and including the match, and move past it."""
        rx = re.compile(regex) if isinstance(regex, str) else regex
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                m = rx.search(self.buf, self.pos)
                if m:
                    out = self.buf[self.pos:m.end()]
                    self.pos = m.end()
                    return out, m
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    raise TestFailure("timed out waiting for %r; got %r" %
                                      (rx.pattern, self.buf[self.pos:][-2000:]))
                self.cv.wait(min(left, 0.5))

    def running_for(self, seconds):
        """True if the target did not stop (no prompt, no exception text)
        for this long; DbgPrint output may come meanwhile."""
        with self.cv:
            n = len(self.buf)
        time.sleep(seconds)
        with self.cv:
            new = self.buf[n:]
        return not PROMPT.search(new) and "exception - code" not in new

    def prompt(self, timeout=60):
        out, _ = self.expect(PROMPT, timeout)
        return out

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def cmd(self, line, timeout=60):
        """Run one command at the prompt (the prompt must already be
        consumed); return its output (without the echo and next prompt)."""
        self.send(line)
        self.expect(re.escape(line) + r"\n", timeout)
        out = self.prompt(timeout)
        return PROMPT.sub("", out)

    def sigint(self):
        self.proc.send_signal(signal.SIGINT)

    def close(self, line="q"):
        if self.proc.poll() is None:
            try:
                self.send(line)
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def image_info():
    out = subprocess.run([os.environ.get("LLVM_READOBJ", "llvm-readobj"), "--file-headers",
                          "--sections", os.environ["TESTNT_EXE"]],
                         check=True, capture_output=True, text=True).stdout
    info = {
        "image_base": int(re.search(r"ImageBase: (0x[0-9A-Fa-f]+)", out).group(1), 16),
        "size_of_image": int(re.search(r"SizeOfImage: (\d+)", out).group(1)),
        "sections": [],
    }
    for m in re.finditer(r"Name: (\S+) .*?VirtualAddress: (0x[0-9A-F]+)", out, re.S):
        info["sections"].append(int(m.group(2), 16))
    return info


def publics():
    info = image_info()
    out = subprocess.run([os.environ.get("LLVM_PDBUTIL", "llvm-pdbutil"), "dump", "-publics",
                          os.environ["TESTNT_PDB"]],
                         check=True, capture_output=True, text=True).stdout
    syms = {}
    for m in re.finditer(r"`([^`]+)`\s+flags = [^,]*, addr = (\d+):(\d+)", out):
        sec, off = int(m.group(2)), int(m.group(3))
        if 1 <= sec <= len(info["sections"]):
            syms[m.group(1)] = info["image_base"] + info["sections"][sec - 1] + off
    return syms


def kd_hex(v):
    return "%08x`%08x" % (v >> 32, v & 0xFFFFFFFF)


def reg(out, name):
    m = re.search(r"\b%s=([0-9a-f]+)" % name, out)
    check(m is not None, "no %s= in %r" % (name, out))
    return int(m.group(1), 16)


def location(out):
    """(address, bytes, mnemonic) of the disassembly line at a stop."""
    m = re.search(r"(?m)^([0-9a-f]{8}`[0-9a-f]{8}) ([0-9a-f]+)\s+(\S+)", out)
    check(m is not None, "no disassembly line in %r" % out)
    return int(m.group(1).replace("`", ""), 16), len(m.group(2)) // 2, m.group(3)


def run(main):
    try:
        main()
    except TestFailure as e:
        print("\nFAIL:", e)
        raise SystemExit(1)
    print("\nPASS")
