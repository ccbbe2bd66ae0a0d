#!/bin/sh
# mkiso.sh KERNEL GRUB_CFG OUT.iso WORKDIR [INITRD] - one hybrid GRUB 2 rescue ISO booting KERNEL on
# BIOS (i386-pc: El Torito + MBR) and UEFI (x86_64-efi: an EFI system partition image with
# EFI/BOOT/BOOTX64.EFI). grub-mkrescue builds every platform found under /usr/lib/grub: both
# platform packages should be installed (grub-pc-bin, grub-efi-amd64-bin: ./kit setup).
set -eu
kernel=$1 cfg=$2 out=$3 work=$4 initrd=${5:-}
if [ ! -f /usr/lib/grub/i386-pc/modinfo.sh ]; then
    echo "mkiso.sh: /usr/lib/grub/i386-pc is missing (grub-pc-bin; ./kit setup installs it)" >&2
    exit 1
fi
if [ ! -f /usr/lib/grub/x86_64-efi/modinfo.sh ]; then
    # Still a working BIOS ISO; the uefi tests are not defined without this directory.
    echo "mkiso.sh: /usr/lib/grub/x86_64-efi is missing (grub-efi-amd64-bin; ./kit setup" \
        "installs it): this ISO boots on BIOS only" >&2
fi
rm -rf "$work"
mkdir -p "$work/iso/boot/grub"
cp "$kernel" "$work/iso/boot/kernel.elf"
cp "$cfg" "$work/iso/boot/grub/grub.cfg"
# The initrd (a USTAR archive of the user programs) as /boot/initrd.tar: grub.cfg loads it as
# a module when it is there.
[ -z "$initrd" ] || cp "$initrd" "$work/iso/boot/initrd.tar"
# Only the modules grub.cfg uses (dependencies follow: all_video brings vbe/vga on BIOS and
# efi_gop/efi_uga on UEFI), no locales/themes/fonts: smaller and faster to build. The list
# must name modules both platforms have.
mods="multiboot2 normal iso9660 test regexp smbios video all_video"
# grub-mkrescue's EFI image probes every partition map it knows: give it all of them (tiny)
# instead of an error line per missing one on the screen.
mods="$mods part_msdos part_gpt part_acorn part_amiga part_bsd part_dfly part_dvh part_plan"
mods="$mods part_sun part_sunpc part_apple"
grub-mkrescue --locales= --themes= --fonts= --install-modules="$mods" \
    -o "$out" "$work/iso" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
