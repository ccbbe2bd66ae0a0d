/*
 * power.c - reset and halt.
 *
 * Reset: pulse the CPU reset line through the keyboard controller (command 0xFE to port
 * 0x64, once its input buffer is empty), and if the machine is still running after a moment,
 * load an empty IDT and raise an exception: with no gate to deliver it, the CPU shuts down
 * with a triple fault, which resets a PC.
 */
#include "power.h"

#include "kernel.h"
#include "platform.h"

#include <x86/cpu.h>
#include <x86/io.h>

#define I8042_STATUS 0x64
#define I8042_STATUS_INPUT_FULL 0x02
#define I8042_CMD_PULSE_RESET 0xFE

void kpower_reboot(void)
{
    kconsole_sync();
    x86_cli();
    (void)kplatform_reset_fadt(); /* ACPI's reset register first, when the FADT has one */
    x86_cli();
    for (int i = 0; i < 100000 && (inb(I8042_STATUS) & I8042_STATUS_INPUT_FULL); i++)
        x86_pause();
    outb(I8042_STATUS, I8042_CMD_PULSE_RESET);
    for (int i = 0; i < 1000000; i++)
        x86_pause();
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty = {0, 0};
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty));
    khalt();
}

void kpower_halt(void)
{
    khalt();
}
