#!/usr/bin/env python3
"""Parse QEMU's own ACPI tables with libacpi.

Boots QEMU with no disk (the firmware builds its ACPI tables, finds nothing to boot and waits),
saves guest memory through QMP's pmemsave, runs qemu_dump (libacpi over the memory image) and
checks its "key=value" lines against facts of QEMU's machine models. Prints TAP.

    qemu_tables.py --qemu QEMU --dump QEMU_DUMP --case NAME [--timeout S]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

MEM_MB = 32

# Each case: QEMU arguments and the lines qemu_dump must print. The expected values are what
# QEMU 7.2 (Debian 12) builds, checked once by hand against ACPICA's disassembler (`iasl -d` on
# the tables cut out of the same memory images): local APIC and I/O APIC at their architectural
# addresses, ISA IRQ0 on GSI 2, IRQs 5/9/10/11 level-triggered active high, the HPET at
# 0xFED00000 (block ID 0x8086A201: 3 comparators, 64-bit, legacy capable; minimum tick 0), the
# PM timer at the PM base the firmware programs (0x600) + 8 with 24 bits. `pc` has a revision-1
# FADT (116 bytes: no reset register, no boot flags); `q35` a revision-3 FADT with the reset
# register at I/O 0xCF9 (value 0xF) and the 8042 boot flag. One enabled processor per CPU.
COMMON = [
    "lapic=0xfee00000 pcat=1 cpus=2 enabled=2",
    "ioapic=id:0,0xfec00000,gsi_base:0",
    "irq0=gsi:2,edge,high,override",
    "irq1=gsi:1,edge,high",
    "irq5=gsi:5,level,high,override",
    "irq9=gsi:9,level,high,override",
    "lapic_nmi=all,lint1",
    "hpet=0xfed00000 comparators=3 counter64=1 legacy=1 min_tick=0",
    "pm_timer=io:0x608,24bit",
]
PC_FADT = ["fadt=revision:1,length:116 sci=9 century=0x32", "reset=none", "boot_arch=absent"]
CASES = {
    "pc": {
        "args": ["-machine", "pc"],
        "expect": COMMON + PC_FADT,
    },
    "q35": {
        "args": ["-machine", "q35"],
        "expect": COMMON + [
            "fadt=revision:3,length:244 sci=9 century=0x32",
            "reset=io:0xcf9,value:0xf",
            "boot_arch=0x2 i8042=1 no_vga=0 legacy=0",
        ],
    },
    "qboot": {
        "args": ["-machine", "pc", "-bios", "/usr/share/qemu/qboot.rom"],
        "expect": COMMON + PC_FADT,
    },
}

class Qmp:
    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buf = b""
        self.read()  # greeting
        self.call("qmp_capabilities")

    def read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, cmd, **args):
        self.sock.sendall(json.dumps({"execute": cmd, "arguments": args}).encode() + b"\n")
        while True:
            msg = self.read()
            if "return" in msg or "error" in msg:
                return msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--timeout", type=float, default=60)
    opts = ap.parse_args()
    case = CASES[opts.case]
    for a in case["args"]:
        if a.startswith("/") and not os.path.exists(a):
            print("1..0 # SKIP %s not installed" % a)
            return 0

    deadline = time.monotonic() + opts.timeout
    with tempfile.TemporaryDirectory(prefix="acpi-qemu-") as tmp:
        qmp_path = os.path.join(tmp, "qmp")
        image = os.path.join(tmp, "mem.bin")
        cmd = [opts.qemu, "-accel", "tcg", "-display", "none", "-no-reboot", "-nodefaults",
               "-m", "%dM" % MEM_MB, "-smp", "2", "-serial", "none",
               "-qmp", "unix:%s,server=on,wait=off" % qmp_path] + case["args"]
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        lines, err = None, "no dump taken"
        try:
            qmp = Qmp(qmp_path, deadline)
            # The firmware needs a moment under TCG: retry until the RSDP is there.
            while time.monotonic() < deadline:
                r = qmp.call("pmemsave", val=0, size=MEM_MB << 20, filename=image)
                if "error" in r:
                    err = r["error"].get("desc", "pmemsave failed")
                    break
                out = subprocess.run([opts.dump, image], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, timeout=30)
                text = out.stdout.decode(errors="replace")
                if out.returncode == 0:
                    lines = text.splitlines()
                    break
                err = text.strip()
                time.sleep(0.5)
            qmp.call("quit")
        finally:
            try:
                qemu.wait(timeout=10)
            except subprocess.TimeoutExpired:
                qemu.kill()
                qemu.wait()

    expect = case["expect"]
    print("1..%d" % (len(expect) + 1))
    if lines is None:
        print("not ok 1 - libacpi read the tables of QEMU %s # %s" % (opts.case, err))
        for i, e in enumerate(expect, 2):
            print("not ok %d - %s" % (i, e))
        return 1
    print("ok 1 - libacpi read the tables of QEMU %s" % opts.case)
    for l in lines:
        print("# " + l)
    failed = 0
    for i, e in enumerate(expect, 2):
        if e in lines:
            print("ok %d - %s" % (i, e))
        else:
            failed += 1
            print("not ok %d - %s" % (i, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
