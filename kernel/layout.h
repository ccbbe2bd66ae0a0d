/*
 * layout.h - the reference kernel's address-space layout, shared by assembly, C and (as
 * literal numbers) the linker script.
 *
 *   0xffffffff80000000  kernel image (-mcmodel=kernel): virtual = physical + KERNEL_VMA
 *   0xffff800000000000  direct map of physical memory: virtual = physical + DIRECT_MAP
 *   0xffffc80000000000  kernel thread stacks: KTHREAD_STACKS_SIZE bytes of 64 KiB slots, each
 *                       a stack at its top and the rest unmapped (its guard; threads.h)
 *
 * The 32-bit entry maps the first 4 GiB of physical memory at DIRECT_MAP (and identity, only
 * for the jump to the higher half) and the first 1 GiB at KERNEL_VMA, with 2 MiB pages.
 */
#pragma once

#define KERNEL_VMA 0xffffffff80000000
#define DIRECT_MAP 0xffff800000000000
#define EARLY_MAP_GIB 4
#define BOOT_STACK_SIZE 32768
#define KTHREAD_STACKS_BASE 0xffffc80000000000
#define KTHREAD_STACKS_SIZE 0x1000000
