/* Host tests for command-line splitting and number parsing (args.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <console/args.h>

static char buf[128];
static char *argv[9];
static size_t argc, pos;

static enum con_status split(const char *line)
{
    return con_args_split(line, buf, sizeof buf, argv, 8, &argc, &pos);
}

static void test_plain_words_split_on_blanks(void **state)
{
    (void)state;
    assert_int_equal(split("  vm\t0x1000   x "), CON_OK);
    assert_int_equal(argc, 3);
    assert_string_equal(argv[0], "vm");
    assert_string_equal(argv[1], "0x1000");
    assert_string_equal(argv[2], "x");
    assert_null(argv[3]);
    assert_int_equal(split(""), CON_OK);
    assert_int_equal(argc, 0);
    assert_int_equal(split(" \t "), CON_OK);
    assert_int_equal(argc, 0);
}

static void test_quotes_and_backslashes(void **state)
{
    (void)state;
    assert_int_equal(split("echo \"a b\" 'c  d' e\\ f"), CON_OK);
    assert_int_equal(argc, 4);
    assert_string_equal(argv[1], "a b");
    assert_string_equal(argv[2], "c  d");
    assert_string_equal(argv[3], "e f");
    assert_int_equal(split("x\"y z\"'w' \"\" ''"), CON_OK);
    assert_int_equal(argc, 3);
    assert_string_equal(argv[0], "xy zw");
    assert_string_equal(argv[1], "");
    assert_string_equal(argv[2], "");
    /* In double quotes only \" and \\ are escapes; in single quotes nothing is. */
    assert_int_equal(split("\"q\\\"\\\\\\n\" 'a\\b'"), CON_OK);
    assert_string_equal(argv[0], "q\"\\\\n");
    assert_string_equal(argv[1], "a\\b");
    assert_int_equal(split("\\'x\\\""), CON_OK);
    assert_string_equal(argv[0], "'x\"");
}

static void test_errors_name_their_column(void **state)
{
    (void)state;
    assert_int_equal(split("echo \"open"), CON_ERR_UNTERMINATED_QUOTE);
    assert_int_equal(pos, 5);
    assert_int_equal(argc, 0);
    assert_int_equal(split("echo 'a\" b"), CON_ERR_UNTERMINATED_QUOTE);
    assert_int_equal(pos, 5);
    assert_int_equal(split("echo x\\"), CON_ERR_TRAILING_BACKSLASH);
    assert_int_equal(pos, 6);
    assert_int_equal(split("1 2 3 4 5 6 7 8 nine"), CON_ERR_TOO_MANY_ARGS);
    assert_int_equal(pos, 16);
    assert_string_equal(con_status_str(CON_ERR_TOO_MANY_ARGS), "too many arguments");
    assert_string_equal(con_status_str(CON_ERR_UNTERMINATED_QUOTE), "unterminated quote");
}

static void test_small_buffer_is_reported(void **state)
{
    (void)state;
    char small[6];
    char *av[4];
    assert_int_equal(con_args_split("ab cd", small, sizeof small, av, 3, &argc, NULL), CON_OK);
    assert_string_equal(av[1], "cd");
    assert_int_equal(con_args_split("ab cde", small, sizeof small, av, 3, &argc, &pos),
                     CON_ERR_ARGS_TOO_LONG);
    assert_int_equal(con_args_split("\"abcdef\"", small, sizeof small, av, 3, &argc, &pos),
                     CON_ERR_ARGS_TOO_LONG);
    assert_int_equal(con_args_split(NULL, small, sizeof small, av, 3, &argc, &pos),
                     CON_ERR_BAD_ARGUMENT);
}

static void test_numbers(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(con_args_u64("0", UINT64_MAX, &v), CON_OK);
    assert_int_equal(v, 0);
    assert_int_equal(con_args_u64("1234", UINT64_MAX, &v), CON_OK);
    assert_int_equal(v, 1234);
    assert_int_equal(con_args_u64("0xffffffff80000000", UINT64_MAX, &v), CON_OK);
    assert_true(v == 0xffffffff80000000ull);
    assert_int_equal(con_args_u64("0XAbC", UINT64_MAX, &v), CON_OK);
    assert_int_equal(v, 0xabc);
    assert_int_equal(con_args_u64("0xffff_8000_0000_0000", UINT64_MAX, &v), CON_OK);
    assert_true(v == 0xffff800000000000ull);
    assert_int_equal(con_args_u64("18446744073709551615", UINT64_MAX, &v), CON_OK);
    assert_true(v == UINT64_MAX);
}

static void test_bad_numbers(void **state)
{
    (void)state;
    uint64_t v = 7;
    const char *bad[] = {"", "0x", "12a", "-1", "1_", "_1", "1__2", "0x_", " 1", "1 ", "ff"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(con_args_u64(bad[i], UINT64_MAX, &v), CON_ERR_NOT_A_NUMBER);
    assert_int_equal(con_args_u64("18446744073709551616", UINT64_MAX, &v), CON_ERR_OUT_OF_RANGE);
    assert_int_equal(con_args_u64("0x10000000000000000", UINT64_MAX, &v), CON_ERR_OUT_OF_RANGE);
    assert_int_equal(con_args_u64("256", 255, &v), CON_ERR_OUT_OF_RANGE);
    assert_int_equal(v, 7);
    assert_int_equal(con_args_u64("255", 255, &v), CON_OK);
    assert_int_equal(v, 255);
}

static void test_every_status_has_its_own_text(void **state)
{
    (void)state;
    const char *seen[CON_STATUS_COUNT];
    for (int st = CON_OK; st < CON_STATUS_COUNT; st++) {
        seen[st] = con_status_str((enum con_status)st);
        assert_true(strlen(seen[st]) > 1);
        for (int k = 0; k < st; k++)
            assert_string_not_equal(seen[k], seen[st]);
    }
    assert_string_equal(con_status_str((enum con_status)99), "unknown libconsole status");
    assert_string_equal(con_status_str(CON_STATUS_COUNT), "unknown libconsole status");
    uint64_t v;
    assert_int_equal(con_args_u64(NULL, 1, &v), CON_ERR_BAD_ARGUMENT);
    assert_int_equal(con_args_u64("1", 1, NULL), CON_ERR_BAD_ARGUMENT);
    /* An unquoted word that overflows the buffer. */
    char small[4];
    char *av[4];
    assert_int_equal(con_args_split("abcdef", small, sizeof small, av, 3, &argc, &pos),
                     CON_ERR_ARGS_TOO_LONG);
    assert_int_equal(pos, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_words_split_on_blanks),
        cmocka_unit_test(test_quotes_and_backslashes),
        cmocka_unit_test(test_errors_name_their_column),
        cmocka_unit_test(test_small_buffer_is_reported),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_every_status_has_its_own_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
