/*
 * x86/hpet.h - the High Precision Event Timer's main counter as a clock source.
 *
 * Registers (IA-PC HPET specification 1.0a): general capabilities at +0x000 (bits 63:32 the
 * counter period in femtoseconds, bit 13 a 64-bit counter, bits 12:8 the number of
 * comparators - 1, bits 31:16 the vendor), general configuration at +0x010 (bit 0 enable,
 * bit 1 legacy replacement routing) and the main counter at +0x0F0. The comparators are not
 * used here: the kit takes its ticks from the LAPIC timer or the PIT.
 *
 * The registers are reached through a struct x86_mmio (an uncached mapping, or hooks in host
 * tests). Reads are one 64-bit access; a 32-bit counter is masked to 32 bits and wraps about
 * every 5 minutes at 14.3 MHz, which x86_counter_extend (x86/clock.h) turns into 64 bits.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <x86/mmio.h>
#include <x86/status.h>

#define X86_HPET_CAPS 0x000u
#define X86_HPET_CONFIG 0x010u
#define X86_HPET_COUNTER 0x0F0u
#define X86_HPET_CAPS_COUNT_64 (1u << 13)
#define X86_HPET_CONFIG_ENABLE (1u << 0)
#define X86_HPET_CONFIG_LEGACY (1u << 1)
/* The specification caps the period at 100 ns (a counter of at least 10 MHz). */
#define X86_HPET_MAX_PERIOD_FS UINT32_C(100000000)

struct x86_hpet {
    struct x86_mmio mmio;
    uint32_t period_fs; /* counter period in femtoseconds */
    uint64_t hz;        /* 10^15 / period_fs, rounded */
    bool counter_64;
    uint8_t comparators;
    uint16_t vendor;
};

/* Decode a capabilities register value into h (period, hz, width, comparators, vendor).
 * Errors: BAD_PERIOD. Pure apart from writing *h. */
__attribute__((warn_unused_result)) enum x86_status x86_hpet_decode_caps(struct x86_hpet *h,
                                                                         uint64_t caps);

/* Describe the HPET at `mmio` and read its capabilities. Errors: BAD_PERIOD. Touches only
 * the capabilities register. */
__attribute__((warn_unused_result)) enum x86_status x86_hpet_init(struct x86_hpet *h,
                                                                  const struct x86_mmio *mmio);

/* Start the main counter (legacy replacement routing off, so the PIT and RTC keep their
 * interrupts). The counter continues from its current value. Interrupts off. */
void x86_hpet_enable(const struct x86_hpet *h);

/* Stop the main counter. */
void x86_hpet_disable(const struct x86_hpet *h);

/* The main counter (masked to 32 bits for a 32-bit counter). Any context. */
uint64_t x86_hpet_read(const struct x86_hpet *h);
