#!/bin/sh
# qemu-run.sh ISO [extra qemu args] - boot the ISO through GRUB with serial on this terminal.
# Quit with Ctrl-A then X (QEMU's stdio multiplexer).
set -eu
iso=$1
shift
display="-display none"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${KIT_HEADLESS:-}" ]; then
    display=""
fi
# shellcheck disable=SC2086
exec qemu-system-x86_64 -accel tcg -m 256M -cdrom "$iso" -boot d -no-reboot \
    -serial mon:stdio $display -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@"
