/*
 * interrupts.h - the reference kernel's CPU and interrupt setup on top of libx86:
 * GDT + TSS (IST stacks), IDT with a reporting default handler, the platform's interrupt
 * controller, clock and timer (platform.h), PS/2 keyboard and COM1 receive interrupts
 * feeding libasync's interrupt-fed rings (async/channel.h), as docs/porting-async.md shows.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <async/channel.h>
#include <x86/idt.h>

/* Scancodes from IRQ1 and bytes from COM1's receive interrupt, one byte per item. The
 * handlers only push (which wakes the ring's one reader, if it waits); everything else
 * happens in task context. One consumer at a time: the executor's input task, the plain
 * loop of echo.c or an in-kernel test. */
extern struct async_ring kinterrupts_kbd_ring, kinterrupts_serial_ring;

/* GDT+TSS, IDT, platform (controller, clock, timer at `hz`), keyboard and serial interrupts,
 * then sti and a check that interrupts and timer ticks arrive; one status line per step. */
void kinterrupts_init(uint32_t hz);

/* The report every unhandled exception gets, then a panic. Exposed for the in-kernel tests. */
void kinterrupts_report_exception(struct x86_interrupt_frame *frame);
/* The TSS (process.c sets RSP0 on every switch to a user thread). */
struct x86_tss *kinterrupts_tss(void);

/* Asked first for every exception without a handler of its own: true means the hook reported
 * and resumed it (it changed the frame), false lets the report and panic go on. The shell's
 * `fault` command sets it to resume a fault it caused on purpose. Interrupts are off when it
 * runs; NULL (the default) means no hook. */
extern bool (*kinterrupts_exception_recover)(struct x86_interrupt_frame *frame);

/* True when the PS/2 controller and keyboard initialised. */
bool kinterrupts_keyboard_present(void);

/* Send a set-LEDs command to the keyboard. Runs the command with interrupts off so the IRQ1
 * handler neither eats the acknowledgement nor races the command's stray-byte sink on the
 * keyboard ring. Task context. */
void kinterrupts_keyboard_set_leds(uint8_t leds);
