/*
 * platform.h - what the reference kernel finds out about the machine and how it uses it:
 * ACPI tables, the interrupt controller (local APIC + I/O APIC, or the 8259 as a fallback),
 * the clock source (invariant TSC, HPET, ACPI PM timer or the PIT's tick count), the tick
 * source (LAPIC timer or PIT) and reset.
 *
 * ISA interrupts keep their vectors 32 + IRQ in both controller modes, so handlers do not
 * care which controller is in use; they acknowledge through kplatform_irq_eoi.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <x86/idt.h>

/* Vectors of the local APIC's own interrupts. */
#define KVEC_LAPIC_TIMER 0x40
#define KVEC_SELF_TEST 0x41
#define KVEC_APIC_ERROR 0xFE
#define KVEC_APIC_SPURIOUS 0xFF

/*
 * Find the ACPI tables, choose and set up the interrupt controller (the 8259 is remapped to
 * 32..47 in every mode, and fully masked in APIC mode), then choose and calibrate the clock
 * and program the tick source at `hz`. One status line per step. Interrupts off; after the
 * IDT is loaded.
 */
void kplatform_init(uint32_t hz);

/*
 * With interrupts on: check that interrupts arrive (a self-IPI in APIC mode) and that the
 * timer ticks at its rate against the clock source, and print the `interrupts enabled` and
 * `timer:` lines as [ ok ] only when they did.
 */
void kplatform_verify(void);

/* True when the local APIC + I/O APIC deliver interrupts, false for the 8259. */
bool kplatform_irq_apic_mode(void);

/*
 * Install `h` on vector 32 + `isa_irq` and route the line there (through the I/O APIC with
 * the MADT's overrides in APIC mode), still masked. False if the line cannot be routed.
 * Interrupts off.
 */
bool kplatform_irq_route(uint8_t isa_irq, x86_isr_handler h);

/* Mask / unmask an ISA line. Any context: the controller's read-modify-write runs under a
 * lock with interrupts off. */
void kplatform_irq_mask(uint8_t isa_irq);
void kplatform_irq_unmask(uint8_t isa_irq);

/* End of interrupt for ISA line `isa_irq`. IRQ context. */
void kplatform_irq_eoi(uint8_t isa_irq);

/* Nanoseconds since the clock source was chosen, read from the clock source itself (no tick
 * counter): masked interrupts lose no time. 0 before kplatform_init. Any context. */
uint64_t kplatform_clock_ns(void);

/* Microseconds since the clock started: the kernel executor's `now`. Any context. */
uint64_t kplatform_clock_us(void);

/* Milliseconds since the clock source was chosen (0 before), from the clock itself. */
uint64_t kplatform_uptime_ms(void);

/* Timer interrupts since the tick source started, and its rate in Hz (0 if none). */
uint64_t kplatform_tick_count(void);
uint32_t kplatform_tick_hz(void);

/* Names of what was chosen: "tsc", "hpet", "pmtimer", "pit", "none"; "lapic periodic",
 * "lapic tsc-deadline", "pit", "none"; "ioapic", "8259". */
const char *kplatform_clock_name(void);
const char *kplatform_tick_name(void);
const char *kplatform_irq_controller_name(void);

/* The clock's rate in counts per second, and the TSC's rate (0 when not measured). */
uint64_t kplatform_clock_hz(void);
uint64_t kplatform_tsc_hz(void);

/* The local APIC in use, NULL in 8259 mode (for the in-kernel tests and benchmarks). */
const struct x86_lapic *kplatform_lapic(void);

/* The MADT's processor entries (local APIC and x2APIC, in table order) in *cpus; returns
 * how many (0 without a MADT). Valid after kplatform_init. */
struct acpi_madt_cpu;
size_t kplatform_madt_cpus(const struct acpi_madt_cpu **cpus);

/* On an AP, with its LAPIC enabled: start its LAPIC timer at the boot CPU's rate with the
 * boot CPU's calibration (TSC-deadline mode stays TSC-deadline; periodic and one-shot run
 * periodic). False when the tick source is not the LAPIC timer (the AP then has none). Its
 * interrupts count in ksmp_note_ap_tick. Interrupts off. */
bool kplatform_ap_timer_start(void);

/* Read each clock the machine has, for benchmarks: returns false when `name` ("tsc", "hpet",
 * "pmtimer") is not available, else stores one raw read's value. */
bool kplatform_clock_read_raw(const char *name, uint64_t *value);

/*
 * Write the FADT's reset value to its reset register when ACPI offers one (I/O port or
 * memory) and wait a moment. Returns false when there is none, true when it was tried and the
 * machine is still running (the caller goes on with the next method). Any context.
 */
bool kplatform_reset_fadt(void);

/* False only when the FADT says the machine has no 8042 keyboard controller. */
bool kplatform_has_8042(void);

/*
 * Reset the machine: the FADT reset register when ACPI offers one, then an 8042 reset pulse
 * (unless the FADT says there is no 8042), then a triple fault. Never returns. Prints one
 * line per attempt.
 */
__attribute__((noreturn)) void kplatform_reboot(void);
