/* clock.c - counter calibration and extension, clock and tick source choice. */
#include <stddef.h>

#include <x86/clock.h>

#include "muldiv.h"
#include "x86_assert.h"

uint64_t x86_clock_rate(uint64_t counts, uint64_t ref_counts, uint64_t ref_hz)
{
    if (!ref_counts)
        return 0;
    return x86_muldiv64_round(counts, ref_hz, ref_counts);
}

uint64_t x86_counts_to_ns(uint64_t counts, uint64_t hz)
{
    if (!hz)
        return 0;
    return x86_muldiv64(counts, 1000000000u, hz);
}

/* One measurement. The subject is read between two reference reads at each end, so a pause
 * (an SMI, a host that deschedules this virtual CPU) between a subject read and its reference
 * shows up as a gap in that bracket: *gap returns both brackets' widths in reference counts. */
static enum x86_status calibrate_once(const struct x86_counter *subject,
                                      const struct x86_counter *ref, uint64_t ref_mask,
                                      uint64_t ref_counts, uint64_t max_polls, uint64_t *hz,
                                      uint64_t *gap)
{
    /* Start right after a reference edge so the measured window is not short by up to one
     * reference count. */
    uint64_t r0 = ref->read(ref->ctx) & ref_mask, r;
    uint64_t polls = 0;
    do {
        if (++polls > max_polls)
            return X86_ERR_REF_STUCK;
        r = ref->read(ref->ctx) & ref_mask;
    } while (r == r0);
    uint64_t r_start = r;
    uint64_t s_start = subject->read(subject->ctx);
    uint64_t start_gap = ((ref->read(ref->ctx) & ref_mask) - r_start) & ref_mask;
    uint64_t elapsed, r_end;
    polls = 0;
    do {
        if (++polls > max_polls)
            return X86_ERR_REF_STUCK;
        r_end = ref->read(ref->ctx) & ref_mask;
        elapsed = (r_end - r_start) & ref_mask;
    } while (elapsed < ref_counts);
    uint64_t s_end = subject->read(subject->ctx);
    uint64_t end_gap = ((ref->read(ref->ctx) & ref_mask) - r_end) & ref_mask;
    if (s_end == s_start)
        return X86_ERR_SUBJECT_STUCK;
    *hz = x86_clock_rate(s_end - s_start, elapsed, ref->hz);
    *gap = start_gap + end_gap;
    return X86_OK;
}

enum x86_status x86_clock_calibrate(const struct x86_counter *subject,
                                    const struct x86_counter *ref, uint64_t ref_mask,
                                    uint64_t ref_counts, uint64_t max_polls, uint64_t *hz)
{
    if (!subject || !ref || !hz || !subject->read || !ref->read || !ref->hz || !ref_counts ||
        ref_counts > ref_mask / 2)
        return X86_ERR_BAD_ARGUMENT;
    /* A clean measurement has brackets of a count or two; one with more than 1 % of the
     * window in them was interrupted and is measured again. After X86_CLOCK_CAL_TRIES the
     * least disturbed one counts. */
    uint64_t allowed = ref_counts / 100 > 2 ? ref_counts / 100 : 2;
    uint64_t best_hz = 0, best_gap = UINT64_MAX;
    for (unsigned attempt = 0; attempt < X86_CLOCK_CAL_TRIES; attempt++) {
        uint64_t rate = 0, gap = 0;
        enum x86_status st =
            calibrate_once(subject, ref, ref_mask, ref_counts, max_polls, &rate, &gap);
        if (st != X86_OK) {
            if (attempt == 0)
                return st;
            break; /* keep the measurement made before */
        }
        if (attempt == 0 || gap < best_gap) {
            best_gap = gap;
            best_hz = rate;
        }
        if (gap <= allowed)
            break;
    }
    *hz = best_hz;
    return X86_OK;
}

uint64_t x86_ns_to_counts(uint64_t ns, uint64_t hz)
{
    return x86_muldiv64(ns, hz, 1000000000u);
}

void x86_counter_ext_init(struct x86_counter_ext *e, uint64_t mask, uint64_t first)
{
    e->mask = mask;
    e->last = first & mask;
    e->total = 0;
}

uint64_t x86_counter_extend(struct x86_counter_ext *e, uint64_t raw)
{
    raw &= e->mask;
    X86_ASSERT(e->last <= e->mask); /* init masked it, and so does every step */
    e->total += (raw - e->last) & e->mask;
    e->last = raw;
    return e->total;
}

struct x86_clock_choice x86_clock_choose(const struct x86_clock_caps *caps)
{
    struct x86_clock_choice c = {X86_CLOCK_NONE, X86_CLOCK_NONE, X86_TICK_NONE};
    enum x86_clock_source ref = caps->hpet      ? X86_CLOCK_HPET
                                : caps->pmtimer ? X86_CLOCK_PMTIMER
                                : caps->pit     ? X86_CLOCK_PIT
                                                : X86_CLOCK_NONE;
    if (caps->tsc_invariant && ref != X86_CLOCK_NONE) {
        c.clock = X86_CLOCK_TSC;
        c.reference = ref;
    } else if (caps->hpet) {
        c.clock = X86_CLOCK_HPET;
    } else if (caps->pmtimer) {
        c.clock = X86_CLOCK_PMTIMER;
    } else if (caps->pit) {
        c.clock = X86_CLOCK_PIT;
    }
    /* The PIT's tick count is only a clock if the PIT ticks: then it is the tick source too. */
    if (caps->lapic && c.clock != X86_CLOCK_NONE && c.clock != X86_CLOCK_PIT)
        c.tick = c.clock == X86_CLOCK_TSC && caps->tsc_deadline ? X86_TICK_LAPIC_DEADLINE
                                                                : X86_TICK_LAPIC_PERIODIC;
    else if (caps->pit)
        c.tick = X86_TICK_PIT;
    return c;
}

const char *x86_clock_source_name(enum x86_clock_source s)
{
    switch (s) {
    case X86_CLOCK_TSC:
        return "tsc";
    case X86_CLOCK_HPET:
        return "hpet";
    case X86_CLOCK_PMTIMER:
        return "pmtimer";
    case X86_CLOCK_PIT:
        return "pit";
    case X86_CLOCK_NONE:
        break;
    }
    return "none";
}

const char *x86_tick_source_name(enum x86_tick_source s)
{
    switch (s) {
    case X86_TICK_LAPIC_DEADLINE:
        return "lapic tsc-deadline";
    case X86_TICK_LAPIC_PERIODIC:
        return "lapic periodic";
    case X86_TICK_LAPIC_ONESHOT:
        return "lapic one-shot";
    case X86_TICK_PIT:
        return "pit";
    case X86_TICK_NONE:
        break;
    }
    return "none";
}
