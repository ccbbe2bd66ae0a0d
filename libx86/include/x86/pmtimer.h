/*
 * x86/pmtimer.h - the ACPI power-management timer: a free-running 3.579545 MHz counter read
 * from an I/O port (the FADT's PM_TMR_BLK / X_PM_TMR_BLK). It is 24 bits wide unless the
 * FADT sets TMR_VAL_EXT (then 32), so it wraps every 4.7 s (24 bits) or 20 minutes (32 bits);
 * x86_counter_extend (x86/clock.h) extends it to 64 bits when read at least once per wrap.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define X86_PMTIMER_HZ 3579545u

struct x86_pmtimer {
    uint16_t port;
    bool ext32; /* 32-bit counter (FADT flag TMR_VAL_EXT) */
};

/* Describe the timer at `port`. Touches no hardware. */
void x86_pmtimer_init(struct x86_pmtimer *pm, uint16_t port, bool ext32);

/* The counter's mask: 0xFFFFFF or 0xFFFFFFFF. */
uint32_t x86_pmtimer_mask(const struct x86_pmtimer *pm);

/* Read the counter (one 32-bit port read, masked to the counter width). Any context. */
uint32_t x86_pmtimer_read(const struct x86_pmtimer *pm);

/* Counts from `earlier` to `later` across at most one wrap. Pure. */
uint32_t x86_pmtimer_delta(const struct x86_pmtimer *pm, uint32_t earlier, uint32_t later);

/*
 * Whether the port behaves like a running PM timer: `samples` reads must not all be equal
 * and must never read all-ones above the counter width (a missing device). Bounded; any
 * context.
 */
bool x86_pmtimer_probe(const struct x86_pmtimer *pm, uint32_t samples);
