/* power.h - leaving the kernel: reset the machine, or stop it. */
#pragma once

/* Reset the machine: the 8042's reset line, then (if that did nothing) a triple fault. Under
 * QEMU -no-reboot, QEMU exits. Never returns. */
__attribute__((noreturn)) void kpower_reboot(void);
/* Stop: interrupts off, halt forever. */
__attribute__((noreturn)) void kpower_halt(void);
