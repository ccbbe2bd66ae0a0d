/*
 * test_cmdline.c - kcmdline_get and kcmdline_get_u64 (kernel/cmdline.c): word splitting, key
 * matching that does not confuse a key with its prefix, last-occurrence-wins, cutting to the
 * caller's buffer, and number parsing with every way a value can be wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cmdline.h"

/* Look `key` up into a roomy buffer pre-filled with junk, so a missing NUL shows. */
static bool get(const char *cmdline, const char *key, char *buf)
{
    memset(buf, 'X', 64);
    return kcmdline_get(cmdline, key, buf, 64);
}

static void test_get_present_key_copies_its_value(void **state)
{
    (void)state;
    char v[64];
    const char *cl = "console=ttyS0 ktest=boot_info quiet";
    assert_true(get(cl, "console", v));
    assert_string_equal(v, "ttyS0");
    assert_true(get(cl, "ktest", v));
    assert_string_equal(v, "boot_info");
}

static void test_get_absent_key_returns_false(void **state)
{
    (void)state;
    char v[64];
    assert_false(get("console=ttyS0 quiet", "ktest", v));
    /* A key that only appears as someone's value is not present. */
    assert_false(get("init=ktest root=ktest=1", "ktest", v));
}

static void test_get_bare_key_has_empty_value(void **state)
{
    (void)state;
    char v[64];
    assert_true(get("console=ttyS0 quiet nosmp", "quiet", v));
    assert_string_equal(v, "");
    assert_true(get("quiet", "quiet", v));
    assert_string_equal(v, "");
    /* An explicit empty value is the same thing. */
    assert_true(get("a=1 mem= b=2", "mem", v));
    assert_string_equal(v, "");
}

static void test_get_key_that_prefixes_another_key_does_not_match_it(void **state)
{
    (void)state;
    char v[64];
    assert_false(get("ktests=1", "ktest", v));
    assert_false(get("ktests", "ktest", v));
    assert_false(get("ktest=1", "ktests", v));
    assert_false(get("xktest=1", "ktest", v));
    assert_true(get("ktests=1 ktest=pf ktestx", "ktest", v));
    assert_string_equal(v, "pf");
    assert_true(get("ktest=pf ktests=1", "ktests", v));
    assert_string_equal(v, "1");
}

static void test_get_last_occurrence_wins(void **state)
{
    (void)state;
    char v[64];
    assert_true(get("log=1 other log=22 x=3", "log", v));
    assert_string_equal(v, "22");
    /* A later bare occurrence replaces an earlier value. */
    assert_true(get("log=1 log", "log", v));
    assert_string_equal(v, "");
    /* A longer value followed by a shorter one leaves only the shorter, NUL-terminated. */
    assert_true(get("log=abcdef log=xy", "log", v));
    assert_string_equal(v, "xy");
}

static void test_get_value_keeps_later_equals_signs(void **state)
{
    (void)state;
    char v[64];
    assert_true(get("root=LABEL=boot", "root", v));
    assert_string_equal(v, "LABEL=boot");
}

static void test_get_value_is_cut_to_fit_the_buffer(void **state)
{
    (void)state;
    char v[8];
    memset(v, 'X', sizeof v);
    assert_true(kcmdline_get("name=abcdefghij", "name", v, 4));
    assert_string_equal(v, "abc");
    assert_int_equal(v[4], 'X'); /* nothing written past n */

    memset(v, 'X', sizeof v);
    assert_true(kcmdline_get("name=abc", "name", v, 4)); /* exactly fits */
    assert_string_equal(v, "abc");

    memset(v, 'X', sizeof v);
    assert_true(kcmdline_get("name=abcdefghij", "name", v, 1));
    assert_string_equal(v, "");
    assert_int_equal(v[1], 'X');

    /* n == 0: presence is still reported and nothing is written. */
    assert_true(kcmdline_get("name=abc", "name", NULL, 0));
    assert_false(kcmdline_get("other=abc", "name", NULL, 0));
}

static void test_get_splits_on_tabs_newlines_and_runs_of_spaces(void **state)
{
    (void)state;
    char v[64];
    const char *cl = "   a=1\t\tb=22    c\n d=4  \t";
    assert_true(get(cl, "a", v));
    assert_string_equal(v, "1");
    assert_true(get(cl, "b", v));
    assert_string_equal(v, "22");
    assert_true(get(cl, "c", v));
    assert_string_equal(v, "");
    assert_true(get(cl, "d", v));
    assert_string_equal(v, "4");
    assert_false(get(cl, "e", v));
}

static void test_get_empty_or_blank_command_line_has_no_keys(void **state)
{
    (void)state;
    char v[64];
    assert_false(get("", "ktest", v));
    assert_false(get("    ", "ktest", v));
    assert_false(get("\t\n", "quiet", v));
}

static void test_get_u64_parses_value_in_range(void **state)
{
    (void)state;
    uint64_t x = 7;
    bool bad = true;
    assert_true(kcmdline_get_u64("hz=100 cpus=4", "hz", 1, 1000, &x, &bad));
    assert_int_equal(x, 100);
    assert_false(bad);
    /* Both bounds are inclusive. */
    assert_true(kcmdline_get_u64("hz=1", "hz", 1, 1000, &x, &bad));
    assert_int_equal(x, 1);
    assert_true(kcmdline_get_u64("hz=1000", "hz", 1, 1000, &x, &bad));
    assert_int_equal(x, 1000);
    assert_true(kcmdline_get_u64("hz=007", "hz", 0, 10, &x, &bad));
    assert_int_equal(x, 7);
    assert_false(bad);
}

static void test_get_u64_absent_key_is_not_bad(void **state)
{
    (void)state;
    uint64_t x = 99;
    bool bad = true;
    assert_false(kcmdline_get_u64("cpus=4", "hz", 0, 1000, &x, &bad));
    assert_false(bad);
    assert_int_equal(x, 99); /* untouched */
}

/* Each of these must say "present but bad" and leave *out alone. */
static void expect_bad(const char *cmdline, uint64_t min, uint64_t max)
{
    uint64_t x = 12345;
    bool bad = false;
    assert_false(kcmdline_get_u64(cmdline, "n", min, max, &x, &bad));
    assert_true(bad);
    assert_int_equal(x, 12345);
}

static void test_get_u64_out_of_range_is_bad(void **state)
{
    (void)state;
    expect_bad("n=1001", 1, 1000);
    expect_bad("n=0", 1, 1000);
    expect_bad("n=5", 6, 6);
}

static void test_get_u64_malformed_value_is_bad(void **state)
{
    (void)state;
    expect_bad("n=12x", 0, UINT64_MAX);
    expect_bad("n=x12", 0, UINT64_MAX);
    expect_bad("n=-1", 0, UINT64_MAX);
    expect_bad("n=+1", 0, UINT64_MAX);
    expect_bad("n=0x10", 0, UINT64_MAX);
    expect_bad("n=1.5", 0, UINT64_MAX);
    expect_bad("n=1:", 0, UINT64_MAX); /* ':' is the character after '9' */
    expect_bad("n=/1", 0, UINT64_MAX); /* '/' is the character before '0' */
}

static void test_get_u64_empty_value_is_bad(void **state)
{
    (void)state;
    expect_bad("n=", 0, UINT64_MAX);
    expect_bad("n", 0, UINT64_MAX);
    expect_bad("a=1 n= b=2", 0, UINT64_MAX);
}

static void test_get_u64_accepts_uint64_max_and_rejects_overflow(void **state)
{
    (void)state;
    uint64_t x = 0;
    bool bad = true;
    assert_true(kcmdline_get_u64("n=18446744073709551615", "n", 0, UINT64_MAX, &x, &bad));
    assert_true(x == UINT64_MAX);
    assert_false(bad);
    expect_bad("n=18446744073709551616", 0, UINT64_MAX); /* UINT64_MAX + 1 */
    expect_bad("n=18446744073709551620", 0, UINT64_MAX); /* overflows in the last digit */
    expect_bad("n=99999999999999999999", 0, UINT64_MAX);
    expect_bad("n=184467440737095516150", 0, UINT64_MAX); /* one digit too many */
}

/* A value longer than the parser's internal buffer must not be parsed as its first digits:
 * "000...0007" with 100 leading zeros is either 7 or rejected, never 0. */
static void test_get_u64_long_value_is_not_parsed_as_its_prefix(void **state)
{
    (void)state;
    char long_value[128] = "n=";
    memset(long_value + 2, '0', 100);
    strcpy(long_value + 102, "7");
    uint64_t x = 12345;
    bool bad = false;
    bool ok = kcmdline_get_u64(long_value, "n", 0, UINT64_MAX, &x, &bad);
    if (ok)
        assert_int_equal(x, 7);
    else
        assert_true(bad);

    /* Likewise junk far into a value must not be overlooked. */
    memset(long_value + 2, '0', 100);
    strcpy(long_value + 102, "5junk");
    x = 12345;
    bad = false;
    ok = kcmdline_get_u64(long_value, "n", 0, UINT64_MAX, &x, &bad);
    assert_false(ok);
    assert_true(bad);
}

/* kcmdline_get_bool: `heapdebug=0` must mean off, not "the key is present". */
static void test_get_bool_accepts_the_six_words_and_a_bare_key(void **state)
{
    (void)state;
    const struct {
        const char *cl;
        bool want;
    } cases[] = {
        {"heapdebug", true},
        {"heapdebug=1", true},
        {"heapdebug=on", true},
        {"heapdebug=true", true},
        {"heapdebug=0", false},
        {"heapdebug=off", false},
        {"heapdebug=false", false},
        {"x heapdebug=0 y", false},
        {"heapdebug=1 heapdebug=off", false},
        {"heapdebug=off heapdebug", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool out = !cases[i].want, bad = true;
        assert_true(kcmdline_get_bool(cases[i].cl, "heapdebug", &out, &bad));
        assert_false(bad);
        if (out != cases[i].want)
            fail_msg("\"%s\" gave %d", cases[i].cl, out);
    }
}

static void test_get_bool_rejects_other_values_and_leaves_out_alone(void **state)
{
    (void)state;
    const char *bad_values[] = {
        "heapdebug=2",         "heapdebug=yes", "heapdebug=ON",  "heapdebug=of", "heapdebug=truex",
        "heapdebug=falsehood", "heapdebug=-1",  "heapdebug=0x1", "heapdebug==1", "heapdebug=on1"};
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        bool out = true, bad = false;
        assert_false(kcmdline_get_bool(bad_values[i], "heapdebug", &out, &bad));
        if (!bad)
            fail_msg("\"%s\" was not reported bad", bad_values[i]);
        assert_true(out);
    }
}

static void test_get_bool_absent_key_is_not_bad(void **state)
{
    (void)state;
    bool out = true, bad = true;
    assert_false(kcmdline_get_bool("heapdebugx=1 quiet", "heapdebug", &out, &bad));
    assert_false(bad);
    assert_true(out);
    assert_false(kcmdline_get_bool("", "heapdebug", &out, &bad));
    assert_false(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_present_key_copies_its_value),
        cmocka_unit_test(test_get_absent_key_returns_false),
        cmocka_unit_test(test_get_bare_key_has_empty_value),
        cmocka_unit_test(test_get_key_that_prefixes_another_key_does_not_match_it),
        cmocka_unit_test(test_get_last_occurrence_wins),
        cmocka_unit_test(test_get_value_keeps_later_equals_signs),
        cmocka_unit_test(test_get_value_is_cut_to_fit_the_buffer),
        cmocka_unit_test(test_get_splits_on_tabs_newlines_and_runs_of_spaces),
        cmocka_unit_test(test_get_empty_or_blank_command_line_has_no_keys),
        cmocka_unit_test(test_get_u64_parses_value_in_range),
        cmocka_unit_test(test_get_u64_absent_key_is_not_bad),
        cmocka_unit_test(test_get_u64_out_of_range_is_bad),
        cmocka_unit_test(test_get_u64_malformed_value_is_bad),
        cmocka_unit_test(test_get_u64_empty_value_is_bad),
        cmocka_unit_test(test_get_u64_accepts_uint64_max_and_rejects_overflow),
        cmocka_unit_test(test_get_u64_long_value_is_not_parsed_as_its_prefix),
        cmocka_unit_test(test_get_bool_accepts_the_six_words_and_a_bare_key),
        cmocka_unit_test(test_get_bool_rejects_other_values_and_leaves_out_alone),
        cmocka_unit_test(test_get_bool_absent_key_is_not_bad),
    };
    return cmocka_run_group_tests_name("kernel_cmdline", tests, NULL, NULL);
}
