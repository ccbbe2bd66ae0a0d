/*
 * console/console.h - the console output multiplexer: every registered sink receives
 * everything written with con_write / con_printf, in registration order.
 *
 * Locking is the embedder's job. This module has no lock: the kernel wraps con_write and
 * con_printf in its own interrupt-safe lock (spinlock with interrupts off) if more than one
 * context prints. The registry (con_sink_register / con_sink_unregister) must not be changed
 * while another context is printing; register sinks during boot or under the same lock.
 * Nothing here allocates or sleeps, so printing may happen with interrupts off and from
 * interrupt handlers, as far as the sinks allow (the VGA and UART sinks below do).
 *
 * A sink is any struct con_sink the caller owns; embed it in a larger struct and recover the
 * container in `write` (as the VGA and UART adaptors below do). Registration keeps the pointer,
 * so the sink must stay alive until it is unregistered.
 *
 * Kernel example:
 *     static struct con_vga_sink vga_sink;
 *     con_vga_sink_init(&vga_sink, &vga);
 *     con_sink_register(&vga_sink.sink);
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <console/fb.h>
#include <console/uart.h>
#include <console/vga.h>

struct con_sink {
    /* Receives `len` (> 0) bytes, not NUL-terminated; '\n' ends a line. */
    void (*write)(struct con_sink *self, const char *s, size_t len);
    struct con_sink *next; /* owned by the registry */
    bool registered;       /* owned by the registry */
};

/*
 * Append `sink` to the registry. Registering a sink that is already registered does nothing,
 * so its output is never doubled; a NULL sink or one without `write` is ignored. Not
 * concurrently with printing.
 */
void con_sink_register(struct con_sink *sink);

/* Remove `sink` from the registry; does nothing if it is not registered. Not concurrently with
 * printing. */
void con_sink_unregister(struct con_sink *sink);

/* Pass s[0..len) to every registered sink (nothing if len == 0 or no sink is registered). */
void con_write(const char *s, size_t len);

/*
 * Format with con_vcbprintf (see console/fmt.h for the directives) and stream the result to
 * every sink. Returns the number of bytes produced (also when no sink is registered), or -1 if
 * it would exceed INT_MAX.
 */
int con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int con_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* A sink that writes to a VGA text console. */
struct con_vga_sink {
    struct con_sink sink;
    struct con_vga *vga;
};

/* Make `s` (not currently registered) a sink for `vga`, an initialised console; register
 * &s->sink afterwards. */
void con_vga_sink_init(struct con_vga_sink *s, struct con_vga *vga);

/* A sink that writes to a 16550 UART (with con_uart_write's "\n" -> "\r\n"). */
struct con_uart_sink {
    struct con_sink sink;
    struct con_uart *uart;
};

/* Make `s` (not currently registered) a sink for `uart`, passed through con_uart_init;
 * register &s->sink afterwards. */
void con_uart_sink_init(struct con_uart_sink *s, struct con_uart *uart);

/* A sink that writes to a framebuffer text console (console/fb.h). */
struct con_fb_sink {
    struct con_sink sink;
    struct con_fb *fb;
};

/* Make `s` (not currently registered) a sink for `fb`, an initialised console; register
 * &s->sink afterwards. */
void con_fb_sink_init(struct con_fb_sink *s, struct con_fb *fb);
