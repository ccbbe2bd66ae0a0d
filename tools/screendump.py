#!/usr/bin/env python3
"""Screenshots of a QEMU guest's screen, with the Python standard library only.

  screendump.py to-png IN.ppm OUT.png        convert a QEMU screendump (binary PPM, P6)
  screendump.py grab QMP_SOCKET OUT.png      ask a running QEMU (-qmp unix:SOCK,server=on,wait=off)
                                             for a screendump and write it as PNG
  screendump.py boot ISO OUT.png [--uefi] [--after REGEX] [--append ARGS]
                                             boot ISO in QEMU (TCG, no display), wait for a serial
                                             line matching REGEX, grab the screen, stop QEMU

The functions are also imported by the kernel screen tests (tests/kernel/screen/).
"""
import argparse
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def read_ppm(path):
    """Return (width, height, bytes of RGB triplets) of a binary PPM (P6, maxval 255)."""
    with open(path, "rb") as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1  # the single whitespace byte before the raster
    if fields[0] != b"P6":
        raise ValueError(f"{path}: not a binary PPM (magic {fields[0]!r})")
    w, h, maxval = (int(x) for x in fields[1:])
    if maxval != 255:
        raise ValueError(f"{path}: maxval {maxval} not supported")
    raster = data[pos:pos + w * h * 3]
    if len(raster) != w * h * 3:
        raise ValueError(f"{path}: raster truncated")
    return w, h, raster


def png_bytes(w, h, rgb):
    """Encode RGB triplets as an 8-bit truecolour PNG (filter 0 on every row)."""
    def chunk(kind, payload):
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    stride = w * 3
    rows = b"".join(b"\x00" + rgb[y * stride:(y + 1) * stride] for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def ppm_to_png(ppm, png):
    w, h, rgb = read_ppm(ppm)
    with open(png, "wb") as f:
        f.write(png_bytes(w, h, rgb))
    return w, h


class Qmp:
    """A minimal QMP client over a unix socket."""

    def __init__(self, path, timeout=10):
        end = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        self.f = self.sock.makefile("rwb")
        self.f.readline()  # greeting
        self.command("qmp_capabilities")

    def command(self, name, **args):
        import json
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(f"QMP {name}: {reply['error']}")
            return reply.get("return")

    def screendump(self, ppm_path):
        self.command("screendump", filename=ppm_path)
        # The file is complete when the command returns (QEMU writes it synchronously for
        # the default console).
        return read_ppm(ppm_path)


def uefi_args(tmpdir):
    """QEMU arguments for OVMF: the firmware read-only, a private writable copy of its VARS."""
    vars_copy = os.path.join(tmpdir, "OVMF_VARS.fd")
    shutil.copyfile(OVMF_VARS, vars_copy)
    return ["-machine", "q35", "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]


def boot_and_grab(iso, png, uefi=False, after=r"executor: running", append="", timeout=120,
                  qemu="qemu-system-x86_64"):
    tmp = tempfile.mkdtemp(prefix="screendump-")
    qmp_path = os.path.join(tmp, "qmp.sock")
    cmd = [qemu, "-accel", "tcg", "-m", "256M", "-no-reboot", "-display", "none",
           "-monitor", "none", "-serial", "stdio", "-qmp", f"unix:{qmp_path},server=on,wait=off",
           "-cdrom", iso, "-boot", "d"]
    if uefi:
        cmd += uefi_args(tmp)
    if append:
        cmd += ["-smbios", f"type=11,value=kernelkit:{append}"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = threading.Event()
    rx = re.compile(after)

    def feed():
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            print(line, file=sys.stderr)
            if rx.search(line):
                seen.set()

    threading.Thread(target=feed, daemon=True).start()
    try:
        if not seen.wait(timeout):
            raise RuntimeError(f"no serial line matched {after!r} within {timeout}s")
        time.sleep(0.5)
        q = Qmp(qmp_path)
        ppm = os.path.join(tmp, "screen.ppm")
        q.screendump(ppm)
        return ppm_to_png(ppm, png)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("to-png")
    c.add_argument("ppm")
    c.add_argument("png")
    c = sub.add_parser("grab")
    c.add_argument("qmp")
    c.add_argument("png")
    c = sub.add_parser("boot")
    c.add_argument("iso")
    c.add_argument("png")
    c.add_argument("--uefi", action="store_true")
    c.add_argument("--after", default=r"executor: running")
    c.add_argument("--append", default="")
    c.add_argument("--timeout", type=float, default=120)
    a = p.parse_args()
    if a.cmd == "to-png":
        w, h = ppm_to_png(a.ppm, a.png)
    elif a.cmd == "grab":
        tmp = tempfile.mkdtemp(prefix="screendump-")
        ppm = os.path.join(tmp, "screen.ppm")
        Qmp(a.qmp).screendump(ppm)
        w, h = ppm_to_png(ppm, a.png)
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        w, h = boot_and_grab(a.iso, a.png, a.uefi, a.after, a.append, a.timeout)
    print(f"{a.png}: {w}x{h}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
