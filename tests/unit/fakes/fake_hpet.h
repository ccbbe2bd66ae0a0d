/*
 * fake_hpet.h - a model of the HPET's general registers for host tests (x86_mmio hooks):
 * capabilities (read-only), configuration (enable, legacy routing) and a main counter that
 * advances by `step` on every read while enabled and is writable only while halted, 32 or
 * 64 bits wide. Other offsets and non-64-bit accesses to the 64-bit registers are counted.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <x86/mmio.h>

struct fake_hpet {
    uint64_t caps;
    uint64_t config;
    uint64_t counter;
    uint64_t step; /* counts per read while enabled */
    bool wide;     /* 64-bit counter */
    unsigned bad_accesses;
    struct x86_mmio mmio;
};

/* Halted, counter 0, period `period_fs`, `comparators` timers, 64-bit when `wide`. */
void fake_hpet_init(struct fake_hpet *f, uint32_t period_fs, unsigned comparators, bool wide,
                    uint64_t step);
