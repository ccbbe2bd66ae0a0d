/*
 * kernel.h - what every part of the reference kernel uses: printing, panic, the boot info.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct con_uart;

#include "bootinfo.h"
#include "layout.h"

#ifndef KIT_VERSION
#define KIT_VERSION "unknown"
#endif

/* The normalised boot information (valid after kernel_entry parsed it). */
extern struct kboot_info kboot;

/* Physical to direct-mapped virtual address. */
static inline void *kphys_to_virt(uint64_t phys)
{
    return (void *)(phys + DIRECT_MAP);
}

/* Print to every console (serial and VGA) under the console lock. Interrupt-safe; may be
 * called from interrupt handlers (but handlers in this kernel do not print). */
__attribute__((format(printf, 1, 2))) int kprintf(const char *fmt, ...);
__attribute__((format(printf, 1, 0))) int kvprintf(const char *fmt, va_list ap);

/* Bring up the serial console (COM1). Safe to call once, first thing. */
void kconsole_init(void);
/* Which screen console is active (kconsole_init_screen's choice). */
enum kconsole_screen { KCONSOLE_SCREEN_NONE, KCONSOLE_SCREEN_VGA, KCONSOLE_SCREEN_FB };
/* Choose and start the screen console from the boot information: the framebuffer console on
 * an RGB framebuffer, VGA text in EGA text mode or when no screen is described and the
 * firmware is not UEFI, else none (serial only). When the parser rejected the information
 * (`valid` false, a panic follows) only multiboot1 gets VGA text. Once, after parsing. */
void kconsole_init_screen(const struct kboot_info *info, bool valid);
/* After the heap exists: give the framebuffer console its pixel shadow (no-op otherwise). */
void kconsole_late_init(void);
/* Print the boot report lines about the screen, EFI, ACPI RSDP, parser warnings and caches. */
void kconsole_print_boot_report(void);
enum kconsole_screen kconsole_screen(void);
/* Write for the exception and panic reports: takes the console lock when another CPU holds it
 * briefly (bounded wait), writes without it when this CPU holds it (the report interrupted its
 * own printing) or the holder never lets go; queued output goes first, then this by polling. */
void kconsole_write_report(const char *s, size_t n);
/* After a panic stopped the other CPUs: kconsole_sync no longer waits for a busy console lock
 * (its holder may be stopped). */
void kconsole_stop_waiting(void);
/* COM1's receive interrupt is routed: from now on serial output is queued and sent by the
 * transmit interrupt (kconsole_serial_tx_irq from the IRQ4 handler). False without a UART. */
bool kconsole_serial_irq_ready(void);
/* For the IRQ4 handler: hand the UART its next FIFO-full of queued output. */
void kconsole_serial_tx_irq(void);
/* When serial output is queued: bytes waiting in the queue and bytes sent by polling since
 * (queue full or flushed); false while output is polled. */
bool kconsole_serial_queue_stats(size_t *pending, uint64_t *polled);
/* Send everything queued and wait (bounded) until the UART is idle: before halting, exiting
 * QEMU or resetting, so the last lines are not lost. Any context, interrupts in any state. */
void kconsole_sync(void);
/* COM1, or NULL when the port failed its self-test. */
struct con_uart *kconsole_uart(void);
/* Set the screen colour (VGA colours: foreground, background) for following output; 0..15
 * each. */
void kconsole_set_color(uint8_t fg, uint8_t bg);
/* Show "up <seconds>s" in the top-right corner of the screen (the clock task). */
void kconsole_status_clock(uint64_t seconds);
/* Read back what the active screen shows at (row, col), for tests: the code point on the
 * framebuffer console, the character byte on VGA text (CP437, = ASCII below 0x80); 0 outside
 * the screen or without one. */
uint32_t kconsole_screen_char(int row, int col);
/* The screen row the next character goes to (-1 without a screen), and the screen's size in
 * cells (0 without a screen). */
int kconsole_screen_row(void);
/* The colour attribute (background << 4 | foreground, VGA colours) of the cell at (row, col)
 * of the active screen; -1 outside the screen or without one. */
int kconsole_screen_attr(int row, int col);
int kconsole_screen_rows(void);
int kconsole_screen_cols(void);

/* One console at a time, for the shell's sessions. Output functions and the line-editing
 * operations of the screen console are called with the console lock held (kconsole_lock /
 * kconsole_unlock: interrupts masked while held). kconsole_serial_write adds '\r' before '\n';
 * the screen functions do nothing without a screen. */
uint64_t kconsole_lock(void);
void kconsole_unlock(uint64_t flags);
void kconsole_serial_write(const char *s, size_t n);
void kconsole_screen_write(const char *s, size_t n);
void kconsole_screen_set_col(unsigned col);
void kconsole_screen_clear_eol(void);
void kconsole_screen_clear(void);
/* A visible mark for a refused key (the line editor's bell) in the last column of the row. */
void kconsole_screen_mark(void);
/* Hooks kprintf calls under the console lock: `before` the text, and `after` it with
 * line_ended true when the text ended in '\n'. NULL hooks are not called. */
void kconsole_set_log_hooks(void (*before)(void), void (*after)(bool line_ended));

/* Print `PANIC at <file>:<line>: <message>` (red on VGA) and halt with interrupts off. In test
 * mode the running test ends (passed if it was expected to panic, failed otherwise). */
__attribute__((noreturn, format(printf, 3, 4))) void kpanic_at(const char *file, int line,
                                                               const char *fmt, ...);
#define kpanic(...) kpanic_at(__FILE__, __LINE__, __VA_ARGS__)
/* Install the one function kpanic calls after printing its message, with interrupts off
 * (the in-kernel test runner ends QEMU through it); kpanic halts if it returns. NULL removes
 * it. A hook keeps panic.c from depending on its users. */
void kpanic_set_hook(void (*hook)(void));

/* Halt forever with interrupts off. The kernel-wide last resort (panic, power-off fallback,
 * the test runner's end), so it carries the kernel's own prefix rather than panic.c's. */
__attribute__((noreturn)) void khalt(void);

void kmain(void);
/* True when kmain found its `Hello World!` banner on the active screen console right after
 * printing it (false without a screen). */
extern bool kbanner_on_screen;

/* What the 32-bit entry (boot.S) found and left: CR0 as firmware left it and after clearing
 * CD/NW, and COM1's line control and divisor read back after programming them. */
extern uint32_t boot_cr0_firmware, boot_cr0_entry;
extern uint8_t boot_uart_lcr;
extern uint16_t boot_uart_divisor;
