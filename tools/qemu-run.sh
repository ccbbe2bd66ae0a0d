#!/bin/sh
# qemu-run.sh [--uefi] ISO [extra qemu args] - boot the hybrid ISO through GRUB with serial on
# this terminal: on SeaBIOS (VGA text) by default, on OVMF (UEFI, framebuffer) with --uefi.
# Quit with Ctrl-A then X (QEMU's stdio multiplexer). Two CPUs by default (KIT_CPUS=N for
# another count; each vCPU is a host thread of QEMU's multi-threaded TCG).
set -eu
uefi=0
if [ "${1:-}" = "--uefi" ]; then
    uefi=1
    shift
fi
iso=$1
shift
display="-display none"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${KIT_HEADLESS:-}" ]; then
    display=""
fi
firmware=""
if [ $uefi -eq 1 ]; then
    code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
    if [ ! -f "$code" ] || [ ! -f "$vars" ]; then
        echo "qemu-run.sh: OVMF is not installed (./kit setup installs the ovmf package)" >&2
        exit 1
    fi
    # The firmware read-only; its variable store a private writable copy for this run.
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT INT TERM
    cp "$vars" "$tmp/OVMF_VARS.fd"
    firmware="-machine q35 -drive if=pflash,format=raw,unit=0,readonly=on,file=$code"
    firmware="$firmware -drive if=pflash,format=raw,unit=1,file=$tmp/OVMF_VARS.fd"
fi
# shellcheck disable=SC2086
qemu-system-x86_64 -accel tcg,thread=multi -smp "${KIT_CPUS:-2}" -m 256M -cdrom "$iso" -boot d \
    -no-reboot $firmware \
    -serial mon:stdio $display -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@"
