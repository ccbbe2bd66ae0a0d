/* test_pit.c - PIT divisor math, channel 0 programming (against fake_pit) and uptime. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <x86/pit.h>

#include "fake_io.h"
#include "fake_pit.h"

static struct fake_pit pit;

static int setup(void **state)
{
    (void)state;
    fake_io_reset();
    fake_pit_init(&pit);
    return 0;
}

static void tick_n(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        x86_pit_tick();
}

static void test_pit_divisor_for_1000hz_is_1193(void **state)
{
    (void)state;
    uint16_t d = 0;
    uint32_t hz = 0;
    assert_int_equal(x86_pit_divisor(1000, &d, &hz), X86_OK);
    assert_int_equal(d, 1193);
    assert_int_equal(hz, 1000); /* really 1000.15 Hz */
}

static void test_pit_divisor_rounds_to_nearest(void **state)
{
    (void)state;
    uint16_t d = 0;
    uint32_t hz = 0;
    /* 1193182 / 100 = 11931.82 -> 11932, not the truncated 11931. */
    assert_int_equal(x86_pit_divisor(100, &d, &hz), X86_OK);
    assert_int_equal(d, 11932);
    assert_int_equal(hz, 100);
    /* 1193182 / 60 = 19886.37 -> 19886 (rounds down when the fraction is below one half). */
    assert_int_equal(x86_pit_divisor(60, &d, &hz), X86_OK);
    assert_int_equal(d, 19886);
    assert_int_equal(hz, 60);
}

static void test_pit_divisor_lowest_rate_is_19hz(void **state)
{
    (void)state;
    uint16_t d = 0;
    uint32_t hz = 0;
    assert_int_equal(x86_pit_divisor(X86_PIT_MIN_HZ, &d, &hz), X86_OK);
    assert_int_equal(d, 62799); /* 1193182 / 19 = 62799.05 */
    assert_int_equal(hz, 19);
    /* 18 Hz needs 66288: that does not fit and must not wrap to 722. */
    d = 0x5A5A;
    hz = 7;
    assert_int_equal(x86_pit_divisor(18, &d, &hz), X86_ERR_RATE_TOO_LOW);
    assert_int_equal(d, 0x5A5A);
    assert_int_equal(hz, 7);
}

static void test_pit_divisor_zero_hz_is_an_error(void **state)
{
    (void)state;
    uint16_t d = 0x5A5A;
    assert_int_equal(x86_pit_divisor(0, &d, NULL), X86_ERR_RATE_TOO_LOW);
    assert_int_equal(d, 0x5A5A);
    assert_int_equal(x86_pit_divisor(1, &d, NULL), X86_ERR_RATE_TOO_LOW);
}

static void test_pit_divisor_highest_rate_uses_divisor_2(void **state)
{
    (void)state;
    uint16_t d = 0;
    uint32_t hz = 0;
    assert_int_equal(x86_pit_divisor(X86_PIT_MAX_HZ, &d, &hz), X86_OK);
    assert_int_equal(d, 2);
    assert_int_equal(hz, 596591);
    /* One Hz more would round to divisor 1, illegal in mode 2. */
    assert_int_equal(x86_pit_divisor(X86_PIT_MAX_HZ + 1, &d, NULL), X86_ERR_RATE_TOO_HIGH);
}

static void test_pit_divisor_input_clock_rate_is_too_high(void **state)
{
    (void)state;
    uint16_t d = 0x5A5A;
    assert_int_equal(x86_pit_divisor(X86_PIT_BASE_HZ, &d, NULL), X86_ERR_RATE_TOO_HIGH);
    assert_int_equal(x86_pit_divisor(UINT32_MAX, &d, NULL), X86_ERR_RATE_TOO_HIGH);
    assert_int_equal(d, 0x5A5A);
}

static void test_pit_divisor_accepts_null_outputs(void **state)
{
    (void)state;
    assert_int_equal(x86_pit_divisor(1000, NULL, NULL), X86_OK);
}

static void test_pit_status_strings_are_distinct(void **state)
{
    (void)state;
    assert_string_not_equal(x86_status_str(X86_ERR_RATE_TOO_LOW),
                            x86_status_str(X86_ERR_RATE_TOO_HIGH));
    assert_string_not_equal(x86_status_str(X86_ERR_BAD_DIVISOR),
                            x86_status_str(X86_ERR_RATE_TOO_HIGH));
    assert_string_equal(x86_status_str(X86_OK), "ok");
    assert_non_null(x86_status_str((enum x86_status)99));
}

static void test_pit_start_programs_channel0_rate_generator(void **state)
{
    (void)state;
    assert_int_equal(x86_pit_start(1000), X86_OK);
    assert_int_equal(pit.commands, 1);
    assert_int_equal(pit.last_command, 0x34);
    const struct fake_pit_channel *c = &pit.ch[0];
    assert_true(c->programmed);
    assert_int_equal(c->access, FAKE_PIT_LOHI);
    assert_int_equal(c->mode, 2);
    assert_false(c->bcd);
    assert_true(c->running);
    assert_int_equal(c->reloads, 1);
    assert_int_equal(c->reload, 1193);
    assert_false(pit.ch[1].programmed);
    assert_false(pit.ch[2].programmed);
    assert_int_equal(c->bad_writes, 0);
    assert_int_equal(x86_pit_hz(), 1000);
}

static void test_pit_start_writes_low_byte_then_high_byte(void **state)
{
    (void)state;
    assert_int_equal(x86_pit_start(100), X86_OK);
    assert_int_equal(fake_io_writes_to(X86_PIT_CHANNEL0), 2);
    assert_int_equal(fake_io_nth_write(X86_PIT_CHANNEL0, 0), 11932 & 0xFF);
    assert_int_equal(fake_io_nth_write(X86_PIT_CHANNEL0, 1), 11932 >> 8);
    assert_int_equal(pit.ch[0].reload, 11932);
}

static void test_pit_start_divisor_65536_is_written_as_zero(void **state)
{
    (void)state;
    assert_int_equal(x86_pit_start_divisor(65536), X86_OK);
    assert_int_equal(pit.ch[0].reload_raw, 0);
    assert_int_equal(pit.ch[0].reload, 65536);
    assert_int_equal(x86_pit_hz(), 18); /* 18.2 Hz, the BIOS default */
}

static void test_pit_start_rejects_bad_rate_without_touching_the_chip(void **state)
{
    (void)state;
    assert_int_equal(x86_pit_start(0), X86_ERR_RATE_TOO_LOW);
    assert_int_equal(x86_pit_start(X86_PIT_BASE_HZ), X86_ERR_RATE_TOO_HIGH);
    assert_int_equal(x86_pit_start_divisor(1), X86_ERR_BAD_DIVISOR);
    assert_int_equal(x86_pit_start_divisor(65537), X86_ERR_BAD_DIVISOR);
    assert_int_equal(x86_pit_start_divisor(0), X86_ERR_BAD_DIVISOR);
    assert_int_equal(pit.commands, 0);
    assert_int_equal(fake_io_log_count(), 0);
}

static void test_pit_start_resets_tick_count(void **state)
{
    (void)state;
    assert_int_equal(x86_pit_start(1000), X86_OK);
    tick_n(5);
    assert_int_equal(x86_pit_ticks(), 5);
    assert_int_equal(x86_pit_start(100), X86_OK);
    assert_int_equal(x86_pit_ticks(), 0);
    assert_int_equal(x86_pit_hz(), 100);
}

static void test_pit_uptime_uses_exact_rate_not_rounded_hz(void **state)
{
    (void)state;
    /* 1000 Hz is really 1193182 / 1193 = 1000.1525 Hz: 1,000,000 ticks are 999,847.5 ms.
     * Counting 1 ms per tick would be 152 ms fast. */
    assert_int_equal(x86_pit_start(1000), X86_OK);
    tick_n(1000000);
    assert_int_equal(x86_pit_ticks(), 1000000);
    assert_int_equal(x86_pit_uptime_ms(), 999847);
}

static void test_pit_uptime_rounds_down_within_a_tick(void **state)
{
    (void)state;
    /* 100 Hz: divisor 11932, one tick = 10.0001 ms. */
    assert_int_equal(x86_pit_start(100), X86_OK);
    assert_int_equal(x86_pit_uptime_ms(), 0);
    tick_n(1);
    assert_int_equal(x86_pit_uptime_ms(), 10);
    /* 18.2 Hz: one tick = 65536 / 1193182 s = 54.925 ms; 3 ticks = 164.77 ms. */
    assert_int_equal(x86_pit_start_divisor(65536), X86_OK);
    tick_n(3);
    assert_int_equal(x86_pit_uptime_ms(), 164);
}

/* Reference in 128-bit arithmetic, which the freestanding code must not need. */
static uint64_t ref_ms(uint64_t ticks, uint32_t divisor)
{
    return (uint64_t)((unsigned __int128)ticks * divisor * 1000 / X86_PIT_BASE_HZ);
}

static void test_pit_ticks_to_ms_survives_a_millennium_without_overflow(void **state)
{
    (void)state;
    /* 1000 years at 18.2 Hz and at 1000 Hz: ticks * divisor * 1000 overflows 64 bits. */
    uint64_t seconds = 1000ull * 365 * 24 * 3600;
    uint64_t slow = seconds * X86_PIT_BASE_HZ / 65536;
    uint64_t fast = seconds * X86_PIT_BASE_HZ / 1193;
    assert_true(slow > UINT64_MAX / (65536ull * 1000)); /* the naive product would wrap */
    assert_true(fast > UINT64_MAX / (1193ull * 1000));
    assert_int_equal(x86_pit_ticks_to_ms(slow, 65536), ref_ms(slow, 65536));
    assert_int_equal(x86_pit_ticks_to_ms(fast, 1193), ref_ms(fast, 1193));
    /* And the result is about 1000 years in ms. */
    assert_true(x86_pit_ticks_to_ms(fast, 1193) / 1000 >= seconds - 1);
    assert_true(x86_pit_ticks_to_ms(fast, 1193) / 1000 <= seconds);
}

static void test_pit_ticks_to_ms_matches_reference_at_second_boundaries(void **state)
{
    (void)state;
    const uint32_t divisors[] = {2, 1193, 11932, 62799, 65536};
    for (size_t i = 0; i < sizeof(divisors) / sizeof(divisors[0]); i++) {
        for (uint64_t t = 0; t < 3000; t += 7)
            assert_int_equal(x86_pit_ticks_to_ms(t, divisors[i]), ref_ms(t, divisors[i]));
        uint64_t big = 0x0000FFFFFFFFFFFFull;
        assert_int_equal(x86_pit_ticks_to_ms(big, divisors[i]), ref_ms(big, divisors[i]));
    }
    assert_int_equal(x86_pit_ticks_to_ms(12345, 0), 0);
}

static void test_pit_not_started_reports_zero(void **state)
{
    (void)state;
    /* Runs first: nothing has started the PIT in this process yet. */
    assert_int_equal(x86_pit_hz(), 0);
    assert_int_equal(x86_pit_uptime_ms(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pit_not_started_reports_zero, setup),
        cmocka_unit_test(test_pit_divisor_for_1000hz_is_1193),
        cmocka_unit_test(test_pit_divisor_rounds_to_nearest),
        cmocka_unit_test(test_pit_divisor_lowest_rate_is_19hz),
        cmocka_unit_test(test_pit_divisor_zero_hz_is_an_error),
        cmocka_unit_test(test_pit_divisor_highest_rate_uses_divisor_2),
        cmocka_unit_test(test_pit_divisor_input_clock_rate_is_too_high),
        cmocka_unit_test(test_pit_divisor_accepts_null_outputs),
        cmocka_unit_test(test_pit_status_strings_are_distinct),
        cmocka_unit_test_setup(test_pit_start_programs_channel0_rate_generator, setup),
        cmocka_unit_test_setup(test_pit_start_writes_low_byte_then_high_byte, setup),
        cmocka_unit_test_setup(test_pit_start_divisor_65536_is_written_as_zero, setup),
        cmocka_unit_test_setup(test_pit_start_rejects_bad_rate_without_touching_the_chip, setup),
        cmocka_unit_test_setup(test_pit_start_resets_tick_count, setup),
        cmocka_unit_test_setup(test_pit_uptime_uses_exact_rate_not_rounded_hz, setup),
        cmocka_unit_test_setup(test_pit_uptime_rounds_down_within_a_tick, setup),
        cmocka_unit_test(test_pit_ticks_to_ms_survives_a_millennium_without_overflow),
        cmocka_unit_test(test_pit_ticks_to_ms_matches_reference_at_second_boundaries),
    };
    return cmocka_run_group_tests_name("x86_pit", tests, NULL, NULL);
}
