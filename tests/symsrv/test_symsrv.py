#!/usr/bin/env python3
"""Symbol-server test: a symstore tree served by `python3 -m http.server` on
127.0.0.1 (a free port picked by the server), searched through symsrv_tool.

The tree holds, under two server roots:
  srv1: a plain PDB, a CAB-compressed `.pd_`, a `file.ptr` pointing at a
        local file, and a PDB filed under a key it does not have (mismatch)
  srv2: a PDB that srv1 does not have (404 on srv1 -> found on srv2) and an
        image filed by TimeDateStamp+SizeOfImage
Afterwards the cache must hold exactly the symstore layout of what was
found, nothing for the mismatched or missing ones, and no temp files.
Hostile PDB names (traversal, absolute paths, control characters, also
patched into an image's RSDS record) must never write outside the cache.

usage: test_symsrv.py TOOL DLL1..DLL5 PDB1..PDB5
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

SYM_E_NOTFOUND = -2
SYM_E_INVAL = -6

failures = []


def check(cond, what):
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        failures.append(what)


def cab_mszip(payload, name):
    """A one-file CAB, MSZIP-compressed in 32 KiB blocks (what
    `symstore add /compress` writes), built from the CAB format spec."""
    blocks = []
    for off in range(0, max(len(payload), 1), 32768):
        chunk = payload[off:off + 32768]
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = b"CK" + co.compress(chunk) + co.flush()
        blocks.append(struct.pack("<IHH", 0, len(data), len(chunk)) + data)
    fname = name.encode() + b"\0"
    hdr_len, folder_len = 36, 8
    file_len = 16 + len(fname)
    data_off = hdr_len + folder_len + file_len
    total = data_off + sum(len(b) for b in blocks)
    header = b"MSCF" + struct.pack("<IIIIIBBHHHHH", 0, total, 0, hdr_len + folder_len, 0,
                                   3, 1, 1, 1, 0, 0x1234, 0)
    folder = struct.pack("<IHH", data_off, len(blocks), 1)
    cffile = struct.pack("<IIHHHH", len(payload), 0, 0, 0x5021, 0, 0x20) + fname
    return header + folder + cffile + b"".join(blocks)


def rsds(image_bytes):
    at = image_bytes.find(b"RSDS")
    if at < 0:
        raise SystemExit("no RSDS record in test image")
    guid = image_bytes[at + 4:at + 20]
    age = struct.unpack_from("<I", image_bytes, at + 20)[0]
    return at, guid, age


def run_tool(tool, *args, env):
    p = subprocess.run([tool, *args], capture_output=True, env=env, timeout=120)
    out = p.stdout.decode("utf-8", "replace").strip()
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


def tree(root):
    found = set()
    for d, _, files in os.walk(root):
        for f in files:
            found.add(os.path.relpath(os.path.join(d, f), root))
    return found


def main():
    if len(sys.argv) != 12:
        raise SystemExit(__doc__)
    tool = sys.argv[1]
    dlls = sys.argv[2:7]
    pdbs = sys.argv[7:12]
    tmp = tempfile.mkdtemp(prefix="symsrv-test-")
    server = None
    try:
        www = os.path.join(tmp, "www")
        cache = os.path.join(tmp, "cache")
        elsewhere = os.path.join(tmp, "elsewhere")
        os.makedirs(elsewhere)
        env = dict(os.environ)
        env["SYMSRV_TEST_DEFAULT_CACHE"] = os.path.join(tmp, "default-cache")
        # A proxy from the environment must not see the local server.
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"

        keys = []
        for dll in dlls:
            rc, out, _ = run_tool(tool, "key", dll, env=env)
            name, key = out.split()
            check(rc == 0 and name == "symtest.pdb", "key of %s: %s" % (os.path.basename(dll), out))
            keys.append(key)
        check(len(set(keys)) == 5, "five distinct GUID+age keys")

        def put(root, rel, data):
            path = os.path.join(www, root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)

        pdb_bytes = [open(p, "rb").read() for p in pdbs]
        put("srv1", "symtest.pdb/%s/symtest.pdb" % keys[0], pdb_bytes[0])
        put("srv1", "symtest.pdb/%s/symtest.pd_" % keys[1], cab_mszip(pdb_bytes[1], "symtest.pdb"))
        local3 = os.path.join(elsewhere, "symtest.pdb")
        shutil.copy(pdbs[2], local3)
        put("srv1", "symtest.pdb/%s/file.ptr" % keys[2], ("PATH:%s\r\n" % local3).encode())
        put("srv1", "symtest.pdb/%s/symtest.pdb" % keys[3], pdb_bytes[0])   # wrong GUID
        put("srv2", "symtest.pdb/%s/symtest.pdb" % keys[4], pdb_bytes[4])
        rc, ikey, _ = run_tool(tool, "imagekey", dlls[0], env=env)
        dll0 = os.path.basename(dlls[0])
        put("srv2", "%s/%s/%s" % (dll0, ikey, dll0), open(dlls[0], "rb").read())
        # A pointer file that explains instead of pointing.
        put("srv1", "withheld.pdb/%s/file.ptr" % keys[0], b"MSG: withheld by policy\r\n")
        # A two-tier server (index2.txt at its root: na/name/key/name).
        put("srv3", "index2.txt", b"")
        put("srv3", "sy/symtest.pdb/%s/symtest.pdb" % keys[0], pdb_bytes[0])
        # Served under the sanitized name of the hostile tests below.
        put("srv1", "x/%s/x" % keys[0], pdb_bytes[0])

        server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind",
                                   "127.0.0.1", "--directory", www],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = server.stdout.readline()
        # "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        port = int(line.split(" port ")[1].split()[0])
        base = "http://127.0.0.1:%d" % port
        path = "srv*%s*%s/srv1;srv*%s*%s/srv2" % (cache, base, cache, base)

        def found_at(i, rel):
            rc, out, err = run_tool(tool, "find", path, dlls[i], env=env)
            want = os.path.join(cache, rel)
            ok = rc == 0 and out == "FOUND " + want
            check(ok, "variant %d found at %s (%s)" % (i + 1, rel, out))
            if ok:
                check(open(want, "rb").read() == pdb_bytes[i],
                      "variant %d cached bytes equal the original PDB" % (i + 1))
            return err

        err = found_at(0, "symtest.pdb/%s/symtest.pdb" % keys[0])
        check("PROGRESS " in err, "download progress reported")
        found_at(1, "symtest.pdb/%s/symtest.pdb" % keys[1])   # .pd_ decompressed
        found_at(2, "symtest.pdb/%s/symtest.pdb" % keys[2])   # file.ptr
        found_at(4, "symtest.pdb/%s/symtest.pdb" % keys[4])   # 404 on srv1, srv2 has it

        rc, out, err = run_tool(tool, "find", path, dlls[3], env=env)
        check(rc == 1 and "mismatch" in out, "GUID-mismatched PDB refused (%s)" % out)
        check(not os.path.exists(os.path.join(cache, "symtest.pdb", keys[3])),
              "nothing cached for the mismatched PDB")

        cache404 = os.path.join(tmp, "cache404")
        only1 = "srv*%s*%s/srv1" % (cache404, base)
        rc, out, _ = run_tool(tool, "find", only1, dlls[4], env=env)
        check(rc == 1 and out.startswith("ERROR %d " % SYM_E_NOTFOUND),
              "404 everywhere -> not found (%s)" % out)
        check(not tree(cache404), "nothing left in the cache after 404s: %s" % sorted(tree(cache404)))

        _, g0, a0 = rsds(open(dlls[0], "rb").read())
        rc, out, err = run_tool(tool, "findpdb", only1, "withheld.pdb", g0.hex(), str(a0), env=env)
        check(rc == 1 and "file.ptr says:  withheld by policy" in err and "withheld by policy" in out,
              "file.ptr MSG: reported, nothing found (%s)" % out)

        cache3 = os.path.join(tmp, "cache3")
        rc, out, _ = run_tool(tool, "find", "srv*%s*%s/srv3" % (cache3, base), dlls[0], env=env)
        check(rc == 0 and out == "FOUND " + os.path.join(cache3, "symtest.pdb", keys[0], "symtest.pdb"),
              "two-tier server (index2.txt) read, one-tier cache written (%s)" % out)
        check(tree(cache3) == {"symtest.pdb/%s/symtest.pdb" % keys[0]}, "cache3 layout: %s" % sorted(tree(cache3)))

        cancel_env = dict(env, SYMSRV_TEST_CANCEL="1")
        cachec = os.path.join(tmp, "cache-cancel")
        rc, out, _ = run_tool(tool, "find", "srv*%s*%s/srv1" % (cachec, base), dlls[0], env=cancel_env)
        check(rc == 1 and "cancelled" in out, "a download the progress callback cancels fails (%s)" % out)
        check(not tree(cachec), "nothing left behind by a cancelled download: %s" % sorted(tree(cachec)))

        rc, out, _ = run_tool(tool, "findimage", path, dlls[0], env=env)
        check(rc == 0 and out == "FOUND " + os.path.join(cache, dll0, ikey, dll0),
              "image found by TimeDateStamp+SizeOfImage (%s)" % out)

        # ---- hostile names ----
        _, guid0, age0 = rsds(open(dlls[0], "rb").read())
        guid0, age0 = guid0.hex(), str(age0)
        outside_before = tree(tmp) - {os.path.join("cache", f) for f in tree(cache)}
        outside_before = {f for f in outside_before if not f.startswith("cache404/")
                          and not f.startswith("cache-cancel/")}
        for name in ["../../x", "..\\..\\x", "/tmp/../../x", "\\\\server\\share\\x",
                     "C:\\Windows\\..\\x"]:
            rc, out, _ = run_tool(tool, "findpdb", path, name, guid0, age0, env=env)
            want = os.path.join(cache, "x", keys[0], "x")
            check(rc == 0 and out == "FOUND " + want,
                  "hostile name %r reduced to its basename inside the cache (%s)" % (name, out))
        for name in ["..", ".", "", "a/..", "..\\", "dir/", "x\x1b[31m", "x\ny", "x\x7f",
                     "C:x"]:
            rc, out, _ = run_tool(tool, "findpdb", path, name, guid0, age0, env=env)
            check(rc == 1 and out.startswith("ERROR %d " % SYM_E_INVAL) and "refusing" in out,
                  "hostile name %r refused with a clear error (%s)" % (name, out[:90]))
        # The same through an image's RSDS record.
        img = bytearray(open(dlls[0], "rb").read())
        at = rsds(bytes(img))[0]
        name_at = at + 24
        end = img.index(b"\0", name_at)
        for i, hostile in enumerate([b"../../x", b"..\\..\\x", b"/etc/x", b"x\x1b]0;pwn\x07"]):
            patched = bytearray(img)
            patched[name_at:end] = hostile.ljust(end - name_at, b"\0")[:end - name_at]
            hp = os.path.join(tmp, "elsewhere", "hostile%d.dll" % i)
            open(hp, "wb").write(patched)
            rc, out, _ = run_tool(tool, "find", path, hp, env=env)
            if b"\x1b" in hostile:
                check(rc == 1 and "refusing" in out and "\x1b" not in out,
                      "RSDS name with control characters refused (%s)" % out)
            else:
                check(rc == 0 and out == "FOUND " + os.path.join(cache, "x", keys[0], "x"),
                      "RSDS name %r stays inside the cache (%s)" % (hostile, out))
        outside_after = tree(tmp) - {os.path.join("cache", f) for f in tree(cache)}
        new_outside = {f for f in outside_after - outside_before
                       if not f.startswith("elsewhere/hostile")}
        check(not new_outside, "nothing written outside the cache: %s" % sorted(new_outside))

        # ---- exact layout ----
        expect = {"symtest.pdb/%s/symtest.pdb" % keys[i] for i in (0, 1, 2, 4)}
        expect.add("%s/%s/%s" % (dll0, ikey, dll0))
        expect.add("x/%s/x" % keys[0])
        got = tree(cache)
        check(got == expect, "cache is exactly the symstore layout: extra %s, missing %s"
              % (sorted(got - expect), sorted(expect - got)))

        # ---- offline: the cache answers without the server ----
        server.terminate()
        server.wait(timeout=10)
        server = None
        rc, out, err = run_tool(tool, "find", path, dlls[0], env=env)
        check(rc == 0 and out == "FOUND " + os.path.join(cache, "symtest.pdb", keys[0], "symtest.pdb")
              and "GET " not in err, "cached PDB found with the server gone, no download")
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
