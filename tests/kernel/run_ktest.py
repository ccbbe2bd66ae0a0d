#!/usr/bin/env python3
"""Boot the reference kernel in QEMU (TCG) for one test and judge what it printed.

Prints TAP for exactly one test case: the serial output as `# ` comment lines, then the
verdict. A test passes only if QEMU's exit status is the expected one (isa-debug-exit: 33 pass,
35 fail; a triple fault under -no-reboot exits 0), it finished within the timeout, and every
--expect regular expression matched a line of the serial output (in order).
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--kernel", help="ELF booted with -kernel (multiboot1 fast path)")
    p.add_argument("--iso", help="ISO booted through GRUB (multiboot2); --ktest/--append reach the "
                   "kernel through an SMBIOS OEM string the ISO's grub.cfg reads")
    p.add_argument("--uefi", action="store_true", help="boot on OVMF (q35) instead of SeaBIOS")
    p.add_argument("--name", required=True)
    p.add_argument("--ktest", help="in-kernel test to run (ktest=NAME)")
    p.add_argument("--append", default="", help="more kernel command line")
    p.add_argument("--expect-exit", type=int, default=33)
    p.add_argument("--expect", action="append", default=[], help="regex a serial line must match, in order")
    p.add_argument("--unordered", action="store_true", help="--expect lines may come in any order")
    p.add_argument("--reject", action="append", default=[], help="regex no serial line may match")
    p.add_argument("--until", help="regex: stop QEMU once a line matches (for boots that never exit)")
    p.add_argument("--mem", default="128M")
    p.add_argument("--timeout", type=float, default=90)
    p.add_argument("--usable-mib-near", type=float, help="boot summary's usable MiB must be within 3%% below this")
    p.add_argument("--sendkeys", default="", help="QEMU monitor sendkey names, space separated, sent after --keys-after")
    p.add_argument("--serial-input", default="", help="bytes written to the serial port after --keys-after")
    p.add_argument("--keys-after", default="", help="regex of a serial line after which input is sent")
    p.add_argument("--key-delay", type=float, default=0.05)
    p.add_argument("--serial-delay", type=float, default=0.01)
    p.add_argument("--repeat", type=int, default=1, help="send the first stage's keys/bytes this many times")
    p.add_argument("--then-after", default="", help="regex: a second input stage starts after a line matches")
    p.add_argument("--then-keys", default="")
    p.add_argument("--then-serial", default="")
    p.add_argument("--qemu-arg", action="append", default=[])
    p.add_argument("--accel", default="tcg", help="QEMU -accel value, e.g. tcg,thread=multi for -smp cases")
    p.add_argument("--step", action="append", default=[],
                   help="after the input stages, in order: wait:REGEX (a line matched), "
                        "serial:TEXT (escapes as in --serial-input), keys:KEYS, sleep:SECONDS")
    return p.parse_args()


def main():
    a = parse_args()
    tmp = tempfile.mkdtemp(prefix="ktest-")
    cmd = [a.qemu, "-accel", a.accel, "-m", a.mem, "-no-reboot", "-display", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-monitor", "none"]
    mon_path = os.path.join(tmp, "mon.sock")
    # A human monitor of our own, used only when the kernel hangs: where every CPU was.
    hmp_path = os.path.join(tmp, "hmp.sock")
    cmd += ["-chardev", f"socket,id=kithmp,path={hmp_path},server=on,wait=off",
            "-mon", "chardev=kithmp,mode=readline"]
    ser_path = os.path.join(tmp, "serial.sock")
    interactive = bool(a.sendkeys or a.serial_input or a.step)
    if a.sendkeys or a.then_keys or any(x.startswith("keys:") for x in a.step):
        cmd += ["-qmp", f"unix:{mon_path},server=on,wait=off"]
    if interactive:
        cmd += ["-chardev", f"socket,id=ser0,path={ser_path},server=on,wait=on",
                "-serial", "chardev:ser0"]
    else:
        cmd += ["-serial", "stdio"]
    if a.kernel:
        cmdline = " ".join(x for x in [f"ktest={a.ktest}" if a.ktest else "", a.append] if x)
        # SeaBIOS, not qboot: qboot boots faster but runs no VGA BIOS, so 0xB8000 is not a
        # text buffer and the VGA tests could not read back what the kernel wrote.
        cmd += ["-kernel", a.kernel, "-append", cmdline or "quiet"]
    elif a.iso:
        cmd += ["-cdrom", a.iso, "-boot", "d"]
        cmdline = " ".join(x for x in [f"ktest={a.ktest}" if a.ktest else "", a.append] if x)
        if cmdline:
            cmd += ["-smbios", f"type=11,value=kernelkit:{cmdline}"]
    if a.uefi:
        # OVMF read-only; its variable store written only to a temporary overlay (snapshot).
        cmd += ["-machine", "q35",
                "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                "-drive", "if=pflash,format=raw,unit=1,snapshot=on,file=/usr/share/OVMF/OVMF_VARS_4M.fd"]
    cmd += a.qemu_arg

    lines = []
    lock = threading.Lock()
    done = threading.Event()

    def feed(stream_lines):
        for raw in stream_lines:
            line = render(raw.decode("utf-8", "replace").rstrip("\r\n"))
            with lock:
                lines.append(line)
            if a.until and re.search(a.until, line):
                done.set()

    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    readers = [threading.Thread(target=feed, args=(iter(proc.stdout.readline, b""),), daemon=True)]
    readers[0].start()
    ser = None
    if interactive:
        ser = connect(ser_path, 10)
        sf = ser.makefile("rb")
        t = threading.Thread(target=feed, args=(iter(sf.readline, b""),), daemon=True)
        t.start()
        readers.append(t)
        threading.Thread(target=send_input, args=(a, lines, lock, ser, mon_path), daemon=True).start()

    timed_out = False
    while proc.poll() is None:
        if done.is_set():
            break
        if time.monotonic() - start > a.timeout:
            timed_out = True
            break
        time.sleep(0.05)
    stopped_by_us = proc.poll() is None
    hang_report = []
    if timed_out and stopped_by_us:
        hang_report = where_cpus(hmp_path, a.kernel)
    if stopped_by_us:
        proc.kill()
    rc = proc.wait()
    for t in readers:
        t.join(timeout=10)  # a loaded host may still be delivering the last lines
    elapsed = time.monotonic() - start

    print("1..1")
    for line in lines:
        print("# " + line)
    for line in hang_report:
        print("# hang: " + line)
    problems = []
    if timed_out:
        problems.append(f"timed out after {a.timeout:.0f}s")
    elif a.until:
        if not done.is_set():
            problems.append(f"QEMU exited ({rc}) before a line matched {a.until!r}")
    elif rc != a.expect_exit:
        what = {0: "QEMU exited 0: triple fault or shutdown", 33: "test passed (33)",
                35: "test failed (35)"}.get(rc, f"exit status {rc}")
        problems.append(f"expected exit {a.expect_exit}, got {what}")
    pos = 0
    for rx in a.expect:
        r = re.compile(rx)
        if a.unordered:
            pos = 0
        while pos < len(lines) and not r.search(lines[pos]):
            pos += 1
        if pos == len(lines):
            problems.append(f"no line matched {rx!r}" + ("" if a.unordered else " (in order)"))
            break
        pos += 1
    for rx in a.reject:
        if any(re.search(rx, l) for l in lines):
            problems.append(f"a line matched the rejected {rx!r}")
    if a.usable_mib_near:
        m = [re.search(r"\((\d+) MiB\)", l) for l in lines if "usable" in l]
        m = [x for x in m if x]
        if not m:
            problems.append("no usable-memory line")
        else:
            got = int(m[0].group(1))
            if not (a.usable_mib_near * 0.97 <= got <= a.usable_mib_near):
                problems.append(f"usable memory {got} MiB not within 3% below {a.usable_mib_near:.0f} MiB")
    verdict = "ok" if not problems else "not ok"
    note = f" # {'; '.join(problems)}" if problems else ""
    # A kernel test that skipped itself (`ok 1 - name # SKIP reason`) is reported as skipped.
    skips = [re.search(r"^ok 1 - \S+ # SKIP (.*)", l) for l in lines]
    skips = [m for m in skips if m]
    if not problems and skips:
        note = f" # SKIP {skips[-1].group(1)}"
    print(f"{verdict} 1 - {a.name} ({elapsed:.1f}s){note}")
    sys.stdout.flush()
    return 0 if not problems else 1


def render(line):
    """What a terminal shows for one line: '\\r' returns to column 0, ESC [ n C moves right,
    ESC [ K erases to the end, other escape sequences are dropped (the shell's line editor)."""
    if "\r" not in line and "\x1b" not in line:
        return line
    cells, col, i = [], 0, 0
    while i < len(line):
        c = line[i]
        m = re.match(r"\x1b\[([0-9;?]*)([A-Za-z])", line[i:])
        if m:
            if m.group(2) == "C":
                col += int(m.group(1) or 1)
            elif m.group(2) == "K":
                del cells[col:]
            i += m.end()
            continue
        if c == "\r":
            col = 0
        elif c >= " ":
            cells.extend(" " * (col + 1 - len(cells)))
            cells[col] = c
            col += 1
        i += 1
    return "".join(cells).rstrip()


def hmp(sock, command):
    """One human-monitor command; its output (without the echo and the next prompt)."""
    sock.sendall(command.encode() + b"\n")
    data = b""
    sock.settimeout(5)
    while not data.endswith(b"(qemu) "):
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", data.decode("utf-8", "replace")).replace("\r", "")
    out = text.split("\n")[1:]
    return [l for l in out if l and not l.startswith("(qemu)")]


def where_cpus(hmp_path, kernel):
    """After a timeout: each CPU's RIP, RSP, CR3 and the kernel-text words on its stack,
    symbolised with addr2line when the kernel ELF is at hand (a crude but useful backtrace)."""
    report = []
    try:
        s = connect(hmp_path, 2)
        hmp(s, "")
        regs = hmp(s, "info registers -a")
        cpus = []
        for l in regs:
            m = re.match(r"CPU#(\d+)", l)
            if m:
                cpus.append({"cpu": int(m.group(1))})
            for k, v in re.findall(r"(RIP|RSP|CR3|RFL)=([0-9a-f]+)", l):
                if cpus:
                    cpus[-1][k] = int(v, 16)
        for c in cpus:
            words = []
            hmp(s, f"cpu {c['cpu']}")
            c["apic"] = [" ".join(l.split()) for l in hmp(s, "info lapic")
                         if l.split()[:1] in (["ISR"], ["IRR"], ["LVTT"])]
            if "RSP" in c:
                for l in hmp(s, f"x /48gx {c['RSP']:#x}"):
                    words += [int(w, 16) for w in re.findall(r"0x([0-9a-f]{16})", l.split(":", 1)[-1])]
            c["stack"] = [w for w in words if w >> 31 == 0x1ffffffff]  # -2 GiB: kernel text
        s.close()
    except OSError as e:
        return [f"no monitor ({e})"]

    def sym(addrs):
        if not kernel or not addrs:
            return {x: "" for x in addrs}
        try:
            out = subprocess.run(["addr2line", "-f", "-s", "-e", kernel] + [f"{x:#x}" for x in addrs],
                                 capture_output=True, text=True, timeout=20).stdout.split("\n")
        except (OSError, subprocess.SubprocessError):
            return {x: "" for x in addrs}
        return {x: f"{out[2 * i]} {out[2 * i + 1]}" for i, x in enumerate(addrs) if 2 * i + 1 < len(out)}

    for c in cpus:
        names = sym([c.get("RIP", 0)] + c["stack"][:24])
        report.append(f"CPU {c['cpu']}: RIP {c.get('RIP', 0):#x} {names.get(c.get('RIP', 0), '')} "
                      f"RSP {c.get('RSP', 0):#x} CR3 {c.get('CR3', 0):#x} RFLAGS {c.get('RFL', 0):#x}")
        report += ["  " + l for l in c.get("apic", [])]
        for w in c["stack"][:24]:
            if "??" not in names.get(w, "??"):  # code only: not the stacks and data nearby
                report.append(f"  stack {w:#x} {names[w]}")
    return report


def connect(path, timeout):
    end = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def wait_for(rx_text, lines, lock):
    rx = re.compile(rx_text) if rx_text else None
    while rx:
        with lock:
            if any(rx.search(l) for l in lines):
                return
        time.sleep(0.05)


def send_input(a, lines, lock, ser, mon_path):
    qf = None
    if a.sendkeys or a.then_keys or any(x.startswith("keys:") for x in a.step):
        q = connect(mon_path, 10)
        qf = q.makefile("rwb")
        qf.readline()
        qf.write(b'{"execute":"qmp_capabilities"}\n')
        qf.flush()
        qf.readline()

    def keys(text, times):
        for _ in range(times):
            for key in text.split():
                codes = ",".join('{"type":"qcode","data":"%s"}' % k for k in key.split("-"))
                qf.write(('{"execute":"send-key","arguments":{"keys":[%s]}}\n' % codes).encode())
                qf.flush()
                qf.readline()
                time.sleep(a.key_delay)

    def serial(text, times):
        data = text.encode().decode("unicode_escape").encode("latin-1") * times
        # One write per key: an escape sequence (ESC [ ... final, ESC O x) goes out whole, as
        # a terminal sends it; split, a loaded host could hold its tail back past the
        # kernel's lone-Escape timeout.
        for key in re.findall(rb"\x1b\[[0-9;?]*[\x40-\x7e]|\x1bO.|[\x00-\xff]", data, re.S):
            ser.sendall(key)
            if a.serial_delay:
                time.sleep(a.serial_delay)

    wait_for(a.keys_after, lines, lock)
    keys(a.sendkeys, a.repeat)
    serial(a.serial_input, a.repeat)
    if a.then_after:
        wait_for(a.then_after, lines, lock)
        keys(a.then_keys, 1)
        serial(a.then_serial, 1)
    for step in a.step:
        kind, _, arg = step.partition(":")
        if kind == "wait":
            wait_for(arg, lines, lock)
        elif kind == "serial":
            serial(arg, 1)
        elif kind == "keys":
            keys(arg, 1)
        elif kind == "sleep":
            time.sleep(float(arg))


if __name__ == "__main__":
    sys.exit(main())
