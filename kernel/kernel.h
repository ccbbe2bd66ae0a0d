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

/* Bring up serial (COM1) and VGA consoles. Safe to call once, first thing. */
void kconsole_init(void);
/* Write with the console lock not taken: for the panic path only. */
void kconsole_write_unlocked(const char *s, size_t n);
/* COM1, or NULL when the port failed its self-test. */
struct con_uart *kconsole_uart(void);
/* Set the VGA colour (foreground, background) for following output; 0..15 each. */
void kconsole_set_color(uint8_t fg, uint8_t bg);
/* Show "up <seconds>s" in the top-right corner of the VGA screen (the clock task). */
void kconsole_status_clock(uint64_t seconds);
/* Read back the character at (row, col) of the VGA screen, for tests. */
char kconsole_vga_char(int row, int col);
/* The VGA row the next character goes to, for tests. */
int kconsole_vga_row(void);

/* Print `PANIC at <file>:<line>: <message>` (red on VGA) and halt with interrupts off. In test
 * mode the running test ends (passed if it was expected to panic, failed otherwise). */
__attribute__((noreturn, format(printf, 3, 4))) void kpanic_at(const char *file, int line,
                                                               const char *fmt, ...);
#define kpanic(...) kpanic_at(__FILE__, __LINE__, __VA_ARGS__)

/* Halt forever with interrupts off. */
__attribute__((noreturn)) void khalt(void);

void kmain(void);
/* True when kmain found its `Hello World!` banner in VGA memory right after printing it. */
extern bool kbanner_on_vga;
