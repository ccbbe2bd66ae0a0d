#!/bin/sh
# mkiso.sh KERNEL GRUB_CFG OUT.iso WORKDIR - a BIOS-only GRUB 2 rescue ISO booting KERNEL.
set -eu
kernel=$1 cfg=$2 out=$3 work=$4
rm -rf "$work"
mkdir -p "$work/iso/boot/grub"
cp "$kernel" "$work/iso/boot/kernel.elf"
cp "$cfg" "$work/iso/boot/grub/grub.cfg"
# Only the i386-pc (BIOS) platform, no locales/themes/fonts: smaller and faster to build.
grub-mkrescue -d /usr/lib/grub/i386-pc --locales= --themes= --fonts= \
    --install-modules="multiboot2 normal part_msdos part_gpt iso9660 biosdisk" \
    -o "$out" "$work/iso" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
