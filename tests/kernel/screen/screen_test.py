#!/usr/bin/env python3
"""Boot the hybrid ISO, let ktest=screen_pattern draw a known pattern, and check the screen.

Prints TAP for one test. The kernel prints three lines (the banner, a UTF-8 line, the 16
colours) to every console and then, on serial only, the row where they start on the screen.
This script takes a QEMU screendump (QMP) and compares those three text rows of the screen,
pixel for pixel and across the full width, with the same text rendered by the host program
render_text (libconsole's framebuffer console and the same built-in font) in the framebuffer
format the kernel reported. It also checks the banner and the framebuffer line on serial.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools"))
import screendump  # noqa: E402

FB_LINE = re.compile(r"^boot: screen: framebuffer (\d+)x(\d+)x(\d+) at 0x[0-9a-f]+ \(pitch (\d+), "
                     r"red (\d+):(\d+) green (\d+):(\d+) blue (\d+):(\d+)\), console (\d+)x(\d+) cells")
READY = re.compile(r"^screen_pattern: ready, pattern at row (\d+) of (\d+)x(\d+)")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--iso", required=True)
    p.add_argument("--render", required=True, help="the render_text host program")
    p.add_argument("--name", default="uefi_screen_pattern")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--keep", help="directory to keep the screendump and the expected image in")
    a = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="screentest-")
    qmp_path = os.path.join(tmp, "qmp.sock")
    cmd = [a.qemu, "-accel", "tcg", "-m", "256M", "-no-reboot", "-display", "none", "-monitor", "none",
           "-serial", "stdio", "-qmp", f"unix:{qmp_path},server=on,wait=off",
           "-cdrom", a.iso, "-boot", "d", "-smbios", "type=11,value=kernelkit:ktest=screen_pattern",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] + screendump.uefi_args(tmp)
    lines = []
    ready = threading.Event()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def feed():
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line)
            if READY.search(line):
                ready.set()

    reader = threading.Thread(target=feed, daemon=True)
    reader.start()
    problems = []
    shot = os.path.join(tmp, "screen.ppm")
    try:
        if not ready.wait(a.timeout):
            problems.append(f"no ready line within {a.timeout:.0f}s")
        else:
            screendump.Qmp(qmp_path).screendump(shot)
    except Exception as e:  # a failed screendump is a failed test, with the reason
        problems.append(f"screendump failed: {e}")
    finally:
        proc.kill()
        proc.wait()
        reader.join(timeout=2)
    elapsed = time.monotonic() - start

    if not problems:
        problems += compare(a, lines, shot, tmp)
    if a.keep and os.path.exists(shot):
        os.makedirs(a.keep, exist_ok=True)
        for f in ("screen.ppm", "expected.ppm"):
            if os.path.exists(os.path.join(tmp, f)):
                shutil.copy(os.path.join(tmp, f), os.path.join(a.keep, f))
    shutil.rmtree(tmp, ignore_errors=True)

    print("1..1")
    for line in lines:
        print("# " + line)
    note = f" # {'; '.join(problems)}" if problems else ""
    print(f"{'ok' if not problems else 'not ok'} 1 - {a.name} ({elapsed:.1f}s){note}")
    return 0 if not problems else 1


def compare(a, lines, shot, tmp):
    fb = next((FB_LINE.search(l) for l in lines if FB_LINE.search(l)), None)
    if not fb:
        return ["no 'boot: screen: framebuffer' line: the kernel did not use the framebuffer console"]
    # kmain's banner, before the test starts (GRUB's EFI console may leave a '\r' before it).
    boot_lines = lines[:next((i for i, l in enumerate(lines) if l.startswith("ktest: running")), len(lines))]
    if not any(l.lstrip("\r").startswith("Hello World! kernelkit ") for l in boot_lines):
        return ["no banner on serial before the test started"]
    idx = next(i for i, l in enumerate(lines) if READY.search(l))
    if idx < 3:
        return ["fewer than three pattern lines before the ready line"]
    banner, utf8, colours = lines[idx - 3:idx]
    if not banner.startswith("Hello World! kernelkit ") or not utf8.startswith("UTF-8: "):
        return [f"unexpected pattern lines on serial: {banner!r} {utf8!r}"]
    row = int(READY.search(lines[idx]).group(1))
    w, h, bpp, pitch = (int(fb.group(i)) for i in (1, 2, 3, 4))
    fields = [fb.group(i) for i in range(5, 11)]
    cols, rows = int(fb.group(11)), int(fb.group(12))

    # The same bytes the kernel sent to its console: three lines, the third in 16 colours.
    text = (banner + "\n" + utf8 + "\n").encode()
    for c in range(16):
        text += bytes([1, (c << 4) | (15 - c)]) + f" {c:X} ".encode()
    text += bytes([1, 0x07]) + b"\n"
    if colours.strip().split() != [f"{c:X}" for c in range(16)]:
        return [f"unexpected colour line on serial: {colours!r}"]
    expected = os.path.join(tmp, "expected.ppm")
    r = subprocess.run([a.render, expected, str(w), str(h), str(pitch), str(bpp)] + fields,
                       input=text, capture_output=True)
    if r.returncode != 0:
        return [f"render_text failed: {r.stderr.decode().strip()}"]
    sw, sh, got = screendump.read_ppm(shot)
    ew, eh, want = screendump.read_ppm(expected)
    if (sw, sh) != (w, h) or (ew, eh) != (w, h):
        return [f"screen is {sw}x{sh}, expected {w}x{h} (rendered {ew}x{eh})"]
    cell_h = h // rows if rows else 0
    if cell_h == 0 or row + 3 > rows:
        return [f"pattern row {row} outside the {cols}x{rows} grid"]
    # Cell height = font height: the grid starts at the top and rows are font-height apart.
    line_bytes = w * 3
    problems = []
    for i in range(3):
        for y in range(cell_h):
            gy, ey = (row + i) * cell_h + y, i * cell_h + y
            g = got[gy * line_bytes:(gy + 1) * line_bytes]
            e = want[ey * line_bytes:(ey + 1) * line_bytes]
            if g != e:
                x = next(k for k in range(len(g)) if g[k] != e[k]) // 3
                problems.append(f"text row {row + i} (pattern line {i + 1}) differs from the rendered "
                                f"glyphs first at pixel ({x}, {gy}): screen {tuple(g[x*3:x*3+3])} "
                                f"expected {tuple(e[x*3:x*3+3])}")
                break
    return problems


if __name__ == "__main__":
    sys.exit(main())
