/*
 * echo.c - the shell without the executor: drain the keyboard and serial rings into the
 * shell's sessions by polling. The executor's input tasks (tasks.c) do the same job with
 * wakers; this serves the in-kernel tests that type into a plain loop.
 */
#include "echo.h"

#include "interrupts.h"
#include "platform.h"
#include "shell.h"


#define ESC_TIMEOUT_MS 250

void kecho_init(void)
{
    kshell_init();
}

bool kecho_saw(const char *text)
{
    return kshell_saw(text);
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

