/* test_timers.c - HPET, ACPI PM timer, TSC detection, counter calibration and extension, and
 * the choice of clock and tick source. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <x86/clock.h>
#include <x86/hpet.h>
#include <x86/pmtimer.h>
#include <x86/tsc.h>

#include "fake_hpet.h"
#include "fake_io.h"
#include "fake_pmtimer.h"

/* QEMU's HPET: 10 ns period (100 MHz). A typical chipset HPET: 69841279 fs (14.318 MHz). */
static void test_hpet_caps_decoded(void **state)
{
    (void)state;
    struct fake_hpet hw;
    fake_hpet_init(&hw, 69841279u, 3, true, 1);
    struct x86_hpet h;
    assert_int_equal(x86_hpet_init(&h, &hw.mmio), X86_OK);
    assert_int_equal(h.period_fs, 69841279u);
    assert_int_equal(h.hz, 14318180);
    assert_true(h.counter_64);
    assert_int_equal(h.comparators, 3);
    assert_int_equal(h.vendor, 0x8086);
}

static void test_hpet_bad_period_rejected(void **state)
{
    (void)state;
    struct x86_hpet h;
    assert_int_equal(x86_hpet_decode_caps(&h, 0), X86_ERR_BAD_PERIOD);
    assert_int_equal(x86_hpet_decode_caps(&h, UINT64_MAX), X86_ERR_BAD_PERIOD);
    assert_int_equal(x86_hpet_decode_caps(&h, (uint64_t)100000001u << 32), X86_ERR_BAD_PERIOD);
    assert_int_equal(x86_hpet_decode_caps(&h, (uint64_t)100000000u << 32), X86_OK);
    assert_int_equal(h.hz, 10000000);
}

static void test_hpet_counts_only_when_enabled(void **state)
{
    (void)state;
    struct fake_hpet hw;
    fake_hpet_init(&hw, 10000000u, 3, true, 7);
    hw.config = X86_HPET_CONFIG_LEGACY; /* firmware left legacy routing on */
    struct x86_hpet h;
    assert_int_equal(x86_hpet_init(&h, &hw.mmio), X86_OK);
    assert_int_equal(x86_hpet_read(&h), 0);
    assert_int_equal(x86_hpet_read(&h), 0);
    x86_hpet_enable(&h);
    assert_int_equal(hw.config, X86_HPET_CONFIG_ENABLE);
    uint64_t a = x86_hpet_read(&h), b = x86_hpet_read(&h);
    assert_int_equal(b - a, 7);
    x86_hpet_disable(&h);
    assert_int_equal(x86_hpet_read(&h), x86_hpet_read(&h));
    assert_int_equal(hw.bad_accesses, 0);
}

static void test_hpet_32bit_counter_masked(void **state)
{
    (void)state;
    struct fake_hpet hw;
    fake_hpet_init(&hw, 69841279u, 3, false, 0x10);
    hw.counter = 0xFFFFFFF8u;
    struct x86_hpet h;
    assert_int_equal(x86_hpet_init(&h, &hw.mmio), X86_OK);
    assert_false(h.counter_64);
    x86_hpet_enable(&h);
    assert_int_equal(x86_hpet_read(&h), 0x8);
}

static void test_pmtimer_24bit_wraps(void **state)
{
    (void)state;
    fake_io_reset();
    struct fake_pmtimer hw;
    fake_pmtimer_init(&hw, 0x608, false, 0xFFFFF0, 0x20);
    struct x86_pmtimer pm;
    x86_pmtimer_init(&pm, 0x608, false);
    uint32_t a = x86_pmtimer_read(&pm);
    uint32_t b = x86_pmtimer_read(&pm);
    assert_int_equal(a, 0xFFFFF0);
    assert_int_equal(b, 0x000010);
    assert_int_equal(x86_pmtimer_delta(&pm, a, b), 0x20);
    assert_true(x86_pmtimer_probe(&pm, 4));
}

static void test_pmtimer_32bit_wraps(void **state)
{
    (void)state;
    fake_io_reset();
    struct fake_pmtimer hw;
    fake_pmtimer_init(&hw, 0xB008, true, 0xFFFFFFF0u, 0x20);
    struct x86_pmtimer pm;
    x86_pmtimer_init(&pm, 0xB008, true);
    uint32_t a = x86_pmtimer_read(&pm), b = x86_pmtimer_read(&pm);
    assert_int_equal(b, 0x10);
    assert_int_equal(x86_pmtimer_delta(&pm, a, b), 0x20);
}

static void test_pmtimer_probe_rejects_absent_and_stuck(void **state)
{
    (void)state;
    fake_io_reset(); /* nothing attached: the port floats to all ones */
    struct x86_pmtimer pm;
    x86_pmtimer_init(&pm, 0x608, false);
    assert_false(x86_pmtimer_probe(&pm, 100));
    struct fake_pmtimer hw;
    fake_pmtimer_init(&hw, 0x608, false, 5, 0); /* present but not counting */
    assert_false(x86_pmtimer_probe(&pm, 100));
}

static void test_tsc_invariant_bit(void **state)
{
    (void)state;
    assert_true(x86_tsc_invariant_from_cpuid(0x80000008u, 1u << 8));
    assert_false(x86_tsc_invariant_from_cpuid(0x80000008u, 0));
    /* Bit set but the leaf does not exist: garbage, not a feature. */
    assert_false(x86_tsc_invariant_from_cpuid(0x80000004u, 1u << 8));
}

static void test_tsc_hz_from_leaf_15(void **state)
{
    (void)state;
    /* 24 MHz crystal, ratio 250/2: 3.0 GHz. */
    assert_int_equal(x86_tsc_hz_from_cpuid15(2, 250, 24000000), UINT64_C(3000000000));
    assert_int_equal(x86_tsc_hz_from_cpuid15(2, 250, 0), 0);
    assert_int_equal(x86_tsc_hz_from_cpuid15(0, 250, 24000000), 0);
}

/* A fake counter that advances by `step` per read. */
struct fake_counter {
    uint64_t value, step, mask;
};

static uint64_t fc_read(void *ctx)
{
    struct fake_counter *c = ctx;
    c->value = (c->value + c->step) & c->mask;
    return c->value;
}

/* Interleaved reads make the subject advance only when read; model time instead. */
struct timeline {
    uint64_t now_ps; /* picoseconds of model time */
    uint64_t per_read_ps;
};

struct timed_counter {
    struct timeline *t;
    uint64_t hz, mask;
};

static uint64_t tc_read(void *ctx)
{
    struct timed_counter *c = ctx;
    c->t->now_ps += c->t->per_read_ps;
    unsigned __int128 v = (unsigned __int128)c->t->now_ps * c->hz / 1000000000000u;
    return (uint64_t)v & c->mask;
}

static void test_calibrate_tsc_against_hpet_in_model_time(void **state)
{
    (void)state;
    struct timeline t = {123456789, 50000}; /* each read costs 50 ns */
    struct timed_counter hpet = {&t, 14318180, UINT64_MAX};
    struct timed_counter tsc = {&t, UINT64_C(2900000000), UINT64_MAX};
    struct x86_counter r = {tc_read, &hpet, 14318180};
    struct x86_counter s = {tc_read, &tsc, 0};
    uint64_t hz = 0;
    assert_int_equal(x86_clock_calibrate(&s, &r, UINT64_MAX, 143182, 10000000, &hz), X86_OK);
    /* Within 0.1 %: the window is 10 ms and read costs are 50 ns. */
    assert_in_range(hz, 2897100000u, 2902900000u);
}

static void test_calibrate_against_wrapping_24bit_pmtimer(void **state)
{
    (void)state;
    /* Start 1000 counts before the 24-bit wrap: the window crosses it. */
    struct timeline t = {(uint64_t)(0xFFFFFF - 1000) * 1000000000000u / X86_PMTIMER_HZ, 30000};
    struct timed_counter pm = {&t, X86_PMTIMER_HZ, 0xFFFFFF};
    struct timed_counter apic = {&t, 62500000, UINT64_MAX};
    struct x86_counter r = {tc_read, &pm, X86_PMTIMER_HZ};
    struct x86_counter s = {tc_read, &apic, 0};
    uint64_t hz = 0;
    assert_int_equal(x86_clock_calibrate(&s, &r, 0xFFFFFF, 35795, 10000000, &hz), X86_OK);
    assert_in_range(hz, 62437500, 62562500);
}

/* A subject whose given reads take a long pause first (the CPU stopped by an SMI, or the
 * host descheduling a virtual CPU right there): the value read is the one after the pause. */
struct paused_counter {
    struct timed_counter c;
    unsigned reads;
    uint32_t pause_reads; /* bit k: read number k (from 0) pauses */
    uint64_t pause_ps;
};

static uint64_t paused_read(void *ctx)
{
    struct paused_counter *p = ctx;
    if (p->reads < 32 && (p->pause_reads >> p->reads) & 1u)
        p->c.t->now_ps += p->pause_ps;
    p->reads++;
    return tc_read(&p->c);
}

/* The end read of the first measurement is late by 2 s in a 10 ms window: measured as it was,
 * the LAPIC timer's rate came out ~200 times too high (the kernel's timer then never ticked in
 * its 100 ms check). The bracket shows the pause and the measurement is made again. */
static void test_calibrate_measures_again_after_a_pause(void **state)
{
    (void)state;
    struct timeline t = {987654321, 50000};
    struct timed_counter hpet = {&t, 100000000, UINT64_MAX};
    struct paused_counter apic = {{&t, 62500000, UINT64_MAX}, 0, 1u << 1, 2000000000000u};
    struct x86_counter r = {tc_read, &hpet, 100000000};
    struct x86_counter s = {paused_read, &apic, 0};
    uint64_t hz = 0;
    assert_int_equal(x86_clock_calibrate(&s, &r, UINT64_MAX, 1000000, 100000000, &hz), X86_OK);
    assert_in_range(hz, 62437500, 62562500);
    assert_int_equal(apic.reads, 4); /* two measurements */

    /* A pause at the start read skews the other way (too low): measured again too. */
    t.now_ps = 5;
    apic.reads = 0;
    apic.pause_reads = 1u << 0;
    assert_int_equal(x86_clock_calibrate(&s, &r, UINT64_MAX, 1000000, 100000000, &hz), X86_OK);
    assert_in_range(hz, 62437500, 62562500);
    assert_int_equal(apic.reads, 4);

    /* Every end read late (reads 1, 3, 5, ...): no more than X86_CLOCK_CAL_TRIES are made, and the least
     * disturbed one is used. */
    struct paused_counter worst = {{&t, 62500000, UINT64_MAX}, 0, 0x2AAu, 2000000000000u};
    struct x86_counter s2 = {paused_read, &worst, 0};
    uint64_t hz_all = 0;
    assert_int_equal(x86_clock_calibrate(&s2, &r, UINT64_MAX, 1000000, 100000000, &hz_all),
                     X86_OK);
    assert_int_equal(worst.reads, 2 * X86_CLOCK_CAL_TRIES);
    assert_true(hz_all > 62562500); /* all were wrong; the rate reports what was measured */
}

static void test_calibrate_reports_stuck_counters(void **state)
{
    (void)state;
    struct fake_counter stuck = {5, 0, UINT64_MAX};
    struct fake_counter moving = {0, 1, UINT64_MAX};
    struct x86_counter r_stuck = {fc_read, &stuck, 1000};
    struct x86_counter r_moving = {fc_read, &moving, 1000};
    struct x86_counter s_stuck = {fc_read, &stuck, 0};
    uint64_t hz = 0;
    assert_int_equal(x86_clock_calibrate(&s_stuck, &r_stuck, UINT64_MAX, 10, 1000, &hz),
                     X86_ERR_REF_STUCK);
    assert_int_equal(x86_clock_calibrate(&s_stuck, &r_moving, UINT64_MAX, 10, 1000, &hz),
                     X86_ERR_SUBJECT_STUCK);
    assert_int_equal(x86_clock_calibrate(&s_stuck, &r_moving, 0xFF, 200, 1000, &hz),
                     X86_ERR_BAD_ARGUMENT);
    struct x86_counter no_rate = {fc_read, &moving, 0};
    assert_int_equal(x86_clock_calibrate(&s_stuck, &no_rate, UINT64_MAX, 10, 1000, &hz),
                     X86_ERR_BAD_ARGUMENT);
}

static void test_counts_to_ns_and_rate(void **state)
{
    (void)state;
    assert_int_equal(x86_counts_to_ns(X86_PMTIMER_HZ, X86_PMTIMER_HZ), 1000000000u);
    assert_int_equal(x86_counts_to_ns(1, 100000000), 10);
    assert_int_equal(x86_counts_to_ns(5, 0), 0);
    /* A 2.9 GHz TSC after 100 years does not overflow. */
    uint64_t hundred_years = UINT64_C(2900000000) * 3600 * 24 * 365 * 100;
    assert_int_equal(x86_counts_to_ns(hundred_years, UINT64_C(2900000000)),
                     UINT64_C(1000000000) * 3600 * 24 * 365 * 100);
    assert_int_equal(x86_ns_to_counts(1000000, 62500000), 62500);
    assert_int_equal(x86_ns_to_counts(1, 1000), 0);
    assert_int_equal(x86_ns_to_counts(UINT64_MAX, UINT64_MAX), UINT64_MAX); /* saturates */
    /* Round trip at a rate that divides evenly. */
    assert_int_equal(x86_counts_to_ns(x86_ns_to_counts(123456789, 100000000), 100000000),
                     123456780);
    assert_int_equal(x86_clock_rate(1, 0, 5), 0);
    assert_int_equal(x86_clock_rate(3, 2, 1000), 1500);
}

static void test_counter_extend_across_wraps(void **state)
{
    (void)state;
    struct x86_counter_ext e;
    x86_counter_ext_init(&e, 0xFFFFFF, 0xFFFF00);
    assert_int_equal(x86_counter_extend(&e, 0xFFFFFF), 0xFF);
    assert_int_equal(x86_counter_extend(&e, 0x000100), 0x200);
    /* Four more full-ish steps of 0x800000 each: total grows past 2^24 repeatedly. */
    uint64_t raw = 0x100;
    for (int i = 0; i < 4; i++) {
        raw = (raw + 0x800000) & 0xFFFFFF;
        x86_counter_extend(&e, raw);
    }
    assert_int_equal(e.total, 0x200 + 4 * 0x800000);
    /* Bits above the width in a raw reading are ignored. */
    assert_int_equal(x86_counter_extend(&e, 0xFF000000u | raw), e.total);
}

static void test_choose_invariant_tsc_calibrated_against_best_reference(void **state)
{
    (void)state;
    struct x86_clock_caps c = {.tsc_invariant = true,
                               .hpet = true,
                               .pmtimer = true,
                               .pit = true,
                               .lapic = true,
                               .tsc_deadline = true};
    struct x86_clock_choice ch = x86_clock_choose(&c);
    assert_int_equal(ch.clock, X86_CLOCK_TSC);
    assert_int_equal(ch.reference, X86_CLOCK_HPET);
    assert_int_equal(ch.tick, X86_TICK_LAPIC_DEADLINE);
    c.hpet = false;
    ch = x86_clock_choose(&c);
    assert_int_equal(ch.reference, X86_CLOCK_PMTIMER);
    c.pmtimer = false;
    ch = x86_clock_choose(&c);
    assert_int_equal(ch.reference, X86_CLOCK_PIT);
    c.tsc_deadline = false;
    ch = x86_clock_choose(&c);
    assert_int_equal(ch.tick, X86_TICK_LAPIC_PERIODIC);
    /* Nothing to calibrate against: the TSC's rate is unknown, so not a clock. */
    c.pit = false;
    ch = x86_clock_choose(&c);
    assert_int_equal(ch.clock, X86_CLOCK_NONE);
    assert_int_equal(ch.tick, X86_TICK_NONE);
}

static void test_choose_without_invariant_tsc(void **state)
{
    (void)state;
    /* QEMU TCG: no invariant TSC, HPET and PM timer present. */
    struct x86_clock_caps c = {
        .hpet = true, .pmtimer = true, .pit = true, .lapic = true, .tsc_deadline = true};
    struct x86_clock_choice ch = x86_clock_choose(&c);
    assert_int_equal(ch.clock, X86_CLOCK_HPET);
    assert_int_equal(ch.reference, X86_CLOCK_NONE);
    assert_int_equal(ch.tick, X86_TICK_LAPIC_PERIODIC); /* deadline mode needs the TSC clock */
    c.hpet = false;
    assert_int_equal(x86_clock_choose(&c).clock, X86_CLOCK_PMTIMER);
    /* -cpu qemu64,-apic: PIT ticks. */
    c.lapic = false;
    ch = x86_clock_choose(&c);
    assert_int_equal(ch.tick, X86_TICK_PIT);
    /* Only the PIT: it is clock and tick source at once, never the LAPIC timer. */
    c = (struct x86_clock_caps){.pit = true, .lapic = true};
    ch = x86_clock_choose(&c);
    assert_int_equal(ch.clock, X86_CLOCK_PIT);
    assert_int_equal(ch.tick, X86_TICK_PIT);
}

static void test_choose_q35_pit_off(void **state)
{
    (void)state;
    struct x86_clock_caps c = {.hpet = true, .pmtimer = true, .lapic = true};
    struct x86_clock_choice ch = x86_clock_choose(&c);
    assert_int_equal(ch.clock, X86_CLOCK_HPET);
    assert_int_equal(ch.tick, X86_TICK_LAPIC_PERIODIC);
    c.lapic = false;
    assert_int_equal(x86_clock_choose(&c).tick, X86_TICK_NONE);
}

static void test_source_names(void **state)
{
    (void)state;
    assert_string_equal(x86_clock_source_name(X86_CLOCK_TSC), "tsc");
    assert_string_equal(x86_clock_source_name(X86_CLOCK_PMTIMER), "pmtimer");
    assert_string_equal(x86_clock_source_name(X86_CLOCK_NONE), "none");
    assert_string_equal(x86_tick_source_name(X86_TICK_LAPIC_PERIODIC), "lapic periodic");
    assert_string_equal(x86_tick_source_name(X86_TICK_LAPIC_DEADLINE), "lapic tsc-deadline");
    assert_string_equal(x86_tick_source_name(X86_TICK_LAPIC_ONESHOT), "lapic one-shot");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hpet_caps_decoded),
        cmocka_unit_test(test_hpet_bad_period_rejected),
        cmocka_unit_test(test_hpet_counts_only_when_enabled),
        cmocka_unit_test(test_hpet_32bit_counter_masked),
        cmocka_unit_test(test_pmtimer_24bit_wraps),
        cmocka_unit_test(test_pmtimer_32bit_wraps),
        cmocka_unit_test(test_pmtimer_probe_rejects_absent_and_stuck),
        cmocka_unit_test(test_tsc_invariant_bit),
        cmocka_unit_test(test_tsc_hz_from_leaf_15),
        cmocka_unit_test(test_calibrate_tsc_against_hpet_in_model_time),
        cmocka_unit_test(test_calibrate_against_wrapping_24bit_pmtimer),
        cmocka_unit_test(test_calibrate_measures_again_after_a_pause),
        cmocka_unit_test(test_calibrate_reports_stuck_counters),
        cmocka_unit_test(test_counts_to_ns_and_rate),
        cmocka_unit_test(test_counter_extend_across_wraps),
        cmocka_unit_test(test_choose_invariant_tsc_calibrated_against_best_reference),
        cmocka_unit_test(test_choose_without_invariant_tsc),
        cmocka_unit_test(test_choose_q35_pit_off),
        cmocka_unit_test(test_source_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
