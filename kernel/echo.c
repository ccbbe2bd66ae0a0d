/*
 * echo.c - the shell without the executor: drain the keyboard and serial rings into the
 * shell's sessions, halting while nothing arrives. The executor's input tasks (tasks.c) do the
 * same job with wakers; this loop serves the in-kernel tests that type into a plain loop.
 */
#include "echo.h"

#include "interrupts.h"
#include "platform.h"
#include "shell.h"

#include <x86/cpu.h>

#define ESC_TIMEOUT_MS 50

void kecho_init(void)
{
    kshell_init();
}

bool kecho_saw(const char *text)
{
    return kshell_saw(text);
}

void kecho_key_byte(uint8_t scancode)
{
    kshell_key_byte(scancode);
}

void kecho_serial_byte(uint8_t byte)
{
    kshell_serial_byte(byte);
}

bool kecho_poll(void)
{
    static uint64_t last_serial_ms;
    bool any = false;
    uint8_t b;
    while (async_ring_try_pop(&kinterrupts_kbd_ring, &b) == ASYNC_OK) {
        any = true;
        kshell_key_byte(b);
    }
    while (async_ring_try_pop(&kinterrupts_serial_ring, &b) == ASYNC_OK) {
        any = true;
        last_serial_ms = kplatform_clock_us() / 1000;
        kshell_serial_byte(b);
    }
    if (kshell_serial_pending() && kplatform_clock_us() / 1000 - last_serial_ms >= ESC_TIMEOUT_MS)
        kshell_serial_idle();
    return any;
}

void kecho_run(void)
{
    kecho_init();
    for (;;) {
        if (kecho_poll())
            continue;
        /* Interrupts off, look again, then sti;hlt as one step: a byte that arrives after the
         * check wakes the hlt instead of being noticed only at the next interrupt (the timer
         * tick ends the wait for a lone ESC). */
        x86_cli();
        if (async_ring_len(&kinterrupts_kbd_ring) || async_ring_len(&kinterrupts_serial_ring))
            x86_sti();
        else
            x86_enable_and_halt();
    }
}
