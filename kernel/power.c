/*
 * power.c - reset and halt, as the shell's commands use them.
 *
 * Reset is the platform's sequence (kplatform_reboot): the ACPI reset register when the FADT
 * has one, the keyboard controller's reset pulse when the machine has an 8042, and finally an
 * empty IDT and an exception, which the CPU cannot deliver: a triple fault resets a PC.
 */
#include "power.h"

#include "kernel.h"
#include "platform.h"

void kpower_reboot(void)
{
    kconsole_sync();
    kplatform_reboot();
}

void kpower_halt(void)
{
    khalt();
}
