/*
 * x86/clock.h - clock sources as plain counters, their calibration, extension of narrow
 * counters to 64 bits, and the choice of clock and tick source from what the machine has.
 *
 * Everything here is plain logic over a `struct x86_counter` (a read hook and a rate), so it
 * runs on the host against fake counters. The kernel wires the TSC, HPET, PM timer and PIT
 * to counters and decides with x86_clock_choose / x86_tick_choose.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <x86/status.h>

/* A free-running counter: read() returns its current value (any width up to 64 bits). */
struct x86_counter {
    uint64_t (*read)(void *ctx);
    void *ctx;
    uint64_t hz; /* counts per second; 0 while unknown */
};

/* Measurements x86_clock_calibrate makes at most when each one was disturbed. */
#define X86_CLOCK_CAL_TRIES 5u

/*
 * Measure `subject`'s rate against `ref` (whose hz must be known): wait for the reference to
 * change (to start on an edge), read the subject, poll the reference until it advanced by at
 * least `ref_counts`, read the subject again; hz = subject delta * ref->hz / ref delta,
 * rounded. Each subject read is followed by a reference read: if the reference moved by more
 * than 1 % of the window (at least 2 counts) across the two subject reads together, something
 * stopped the CPU there (an SMI, a hypervisor descheduling it) and the subject's delta covers
 * time the reference delta does not - that measurement is made again, up to
 * X86_CLOCK_CAL_TRIES times, and if none was clean the least disturbed one is used. The
 * reference is treated as a counter of width `ref_mask` (e.g. 0xFFFFFF for a 24-bit PM
 * timer) and may wrap once. Every wait is bounded by `max_polls` reads. Stores the rate in
 * *hz. Errors: BAD_ARGUMENT (NULL, ref->hz 0, ref_counts 0 or > ref_mask / 2), REF_STUCK,
 * SUBJECT_STUCK. Interrupts off for a clean measurement.
 */
__attribute__((warn_unused_result)) enum x86_status
x86_clock_calibrate(const struct x86_counter *subject, const struct x86_counter *ref,
                    uint64_t ref_mask, uint64_t ref_counts, uint64_t max_polls, uint64_t *hz);

/* Rate from one measurement: round(counts * ref_hz / ref_counts); 0 if ref_counts is 0. */
uint64_t x86_clock_rate(uint64_t counts, uint64_t ref_counts, uint64_t ref_hz);

/* Nanoseconds in `counts` of a counter at `hz` (floor, saturating); 0 if hz is 0. Pure. */
uint64_t x86_counts_to_ns(uint64_t counts, uint64_t hz);

/* Counts of a counter at `hz` in `ns` nanoseconds (floor, saturating). Pure. */
uint64_t x86_ns_to_counts(uint64_t ns, uint64_t hz);

/*
 * A narrow counter (e.g. a 24-bit PM timer, a 32-bit HPET) extended to 64 bits. Read it at
 * least once per wrap period. Not locked: callers serialise (interrupts off on one CPU).
 */
struct x86_counter_ext {
    uint64_t mask; /* counter width: 2^bits - 1 */
    uint64_t last; /* last raw value */
    uint64_t total;
};

/* Start extending from raw value `first`; total starts at 0. */
void x86_counter_ext_init(struct x86_counter_ext *e, uint64_t mask, uint64_t first);

/* Account a new raw reading (at most one wrap since the last) and return the 64-bit total. */
uint64_t x86_counter_extend(struct x86_counter_ext *e, uint64_t raw);

/* Clock sources, best first in the order x86_clock_choose prefers them. */
enum x86_clock_source {
    X86_CLOCK_NONE = 0,
    X86_CLOCK_TSC,     /* invariant TSC, calibrated against a reference */
    X86_CLOCK_HPET,    /* HPET main counter */
    X86_CLOCK_PMTIMER, /* ACPI PM timer */
    X86_CLOCK_PIT,     /* PIT channel-0 tick count (loses time while interrupts are masked) */
};

/* Tick/deadline sources. */
enum x86_tick_source {
    X86_TICK_NONE = 0,
    X86_TICK_LAPIC_DEADLINE, /* LAPIC timer in TSC-deadline mode */
    X86_TICK_LAPIC_PERIODIC, /* LAPIC timer, periodic, calibrated against the clock */
    X86_TICK_PIT,            /* PIT channel 0 on ISA IRQ 0 */
    /* LAPIC timer re-armed one-shot per deadline. x86_clock_choose never picks it: a kernel
     * that wants to program each deadline (tickless) asks for it itself. */
    X86_TICK_LAPIC_ONESHOT,
};

/* What the machine has, as found by CPUID, ACPI and probing. */
struct x86_clock_caps {
    bool tsc_invariant;
    bool hpet;
    bool pmtimer;
    bool pit;          /* the 8254 answers (channel 2 counted down) */
    bool lapic;        /* a usable local APIC (CPUID and enabled) */
    bool tsc_deadline; /* CPUID: LVT timer TSC-deadline mode */
};

struct x86_clock_choice {
    enum x86_clock_source clock;
    enum x86_clock_source reference; /* what the TSC is calibrated against; NONE otherwise */
    enum x86_tick_source tick;
};

/*
 * Choose a clock: an invariant TSC when a reference exists to calibrate it against (HPET,
 * else PM timer, else PIT channel 2); else the HPET; else the PM timer; else the PIT's tick
 * count; else none. Choose a tick source: the LAPIC timer (TSC-deadline mode when the clock
 * is the TSC and the CPU has it, else periodic) when there is a LAPIC and a clock other than
 * the PIT's own tick count to calibrate it against; else the PIT; else none. Pure.
 */
struct x86_clock_choice x86_clock_choose(const struct x86_clock_caps *caps);

/* Short names for logs: "tsc", "hpet", "pmtimer", "pit", "none"; "lapic tsc-deadline",
 * "lapic periodic", "lapic one-shot", "pit", "none". */
const char *x86_clock_source_name(enum x86_clock_source s);
const char *x86_tick_source_name(enum x86_tick_source s);
