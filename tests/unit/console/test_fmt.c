/*
 * test_fmt.c - con_snprintf against the host's snprintf (glibc) on the same directives, plus
 * the behaviour where the two deliberately differ (documented in console/fmt.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <console/fmt.h>

/* Deliberately odd formats (flags the compiler calls useless, mismatched hh/h widths, NULL
 * for %s) are wrapped in these; gcc and clang know different warning names, hence -Wpragmas
 * and -Wunknown-warning-option. */
// clang-format off
#define ODD_FORMATS_BEGIN                                                \
    _Pragma("GCC diagnostic push")                                       \
    _Pragma("GCC diagnostic ignored \"-Wpragmas\"")                      \
    _Pragma("GCC diagnostic ignored \"-Wunknown-warning-option\"")       \
    _Pragma("GCC diagnostic ignored \"-Wformat\"")                       \
    _Pragma("GCC diagnostic ignored \"-Wformat-extra-args\"")            \
    _Pragma("GCC diagnostic ignored \"-Wformat-overflow\"")              \
    _Pragma("GCC diagnostic ignored \"-Wformat-truncation\"")            \
    _Pragma("GCC diagnostic ignored \"-Wformat-zero-length\"")
#define ODD_FORMATS_END _Pragma("GCC diagnostic pop")
// clang-format on

static size_t compared;

/* Format with both implementations into a roomy buffer; fail naming the format if they
 * disagree in bytes or return value. */
__attribute__((format(printf, 1, 2))) static void same_as_host(const char *fmt, ...)
{
    char host[512], ours[512];
    va_list a, b;
    va_start(a, fmt);
    va_copy(b, a);
    int hr = vsnprintf(host, sizeof host, fmt, a);
    memset(ours, 0x5A, sizeof ours);
    int or = con_vsnprintf(ours, sizeof ours, fmt, b);
    va_end(b);
    va_end(a);
    compared++;
    if (hr != or || strcmp(host, ours) != 0) {
        print_error("format \"%s\": host %d [%s], ours %d [%s]\n", fmt, hr, host, or, ours);
        fail();
    }
}

/* At every buffer size 0..len+1: same return value, the host's output as prefix, terminated,
 * and nothing written past n. */
__attribute__((format(printf, 1, 2))) static void truncates_like_host(const char *fmt, ...)
{
    char full[256];
    va_list ap, cp;
    va_start(ap, fmt);
    va_copy(cp, ap);
    int len = vsnprintf(full, sizeof full, fmt, cp);
    va_end(cp);
    assert_true(len >= 0 && (size_t)len < sizeof full);
    for (size_t n = 0; n <= (size_t)len + 1; n++) {
        char buf[258];
        memset(buf, 0x5A, sizeof buf);
        va_copy(cp, ap);
        int r = con_vsnprintf(n ? buf : NULL, n, fmt, cp);
        va_end(cp);
        assert_int_equal(r, len);
        if (n > 0) {
            size_t kept = n - 1 < (size_t)len ? n - 1 : (size_t)len;
            assert_memory_equal(buf, full, kept);
            assert_int_equal(buf[kept], '\0');
        }
        for (size_t i = n; i < sizeof buf; i++)
            assert_int_equal((unsigned char)buf[i], 0x5A);
    }
    va_end(ap);
}

static void test_fmt_signed_integers_match_host(void **state)
{
    (void)state;
    same_as_host("%d", 0);
    same_as_host("%d", 42);
    same_as_host("%d", -42);
    same_as_host("%i", INT_MAX);
    same_as_host("%i", INT_MIN);
    same_as_host("%lld", (long long)INT64_MIN);
    same_as_host("%lld", (long long)INT64_MAX);
    same_as_host("%ld", LONG_MIN);
    same_as_host("%.0d", 0);
    same_as_host("%.0d|%.0i", 1, -1);
    same_as_host("%5.0d|", 0);
    same_as_host("%+.0d", 0);
    same_as_host("% .0d", 0);
    same_as_host("%.5d", -42);
    same_as_host("%8.5d", -42);
    same_as_host("%-8.5d|", 42);
    ODD_FORMATS_BEGIN
    /* '0' is ignored when a precision is given. */
    same_as_host("%08.5d", 42);
    ODD_FORMATS_END
    same_as_host("%.1d", 0);
}

static void test_fmt_unsigned_conversions_match_host(void **state)
{
    (void)state;
    same_as_host("%u", 0u);
    same_as_host("%u", UINT_MAX);
    same_as_host("%x", 0xdeadbeefu);
    same_as_host("%X", 0xdeadbeefu);
    same_as_host("%o", 8u);
    same_as_host("%llx", (unsigned long long)UINT64_MAX);
    same_as_host("%llo", (unsigned long long)UINT64_MAX);
    same_as_host("%llu", (unsigned long long)UINT64_MAX);
    same_as_host("%#x", 0u);
    same_as_host("%#x", 255u);
    same_as_host("%#X", 255u);
    same_as_host("%#o", 0u);
    same_as_host("%#o", 8u);
    same_as_host("%#.0o", 0u);
    same_as_host("%#.0x", 0u);
    same_as_host("%#.5o", 8u);
    same_as_host("%#10x|", 0xabcu);
    same_as_host("%#010x", 0xabcu);
    same_as_host("%#-10X|", 0xabcu);
    same_as_host("%.0x|%.0u|%.0o", 0u, 0u, 0u);
}

static void test_fmt_flags_match_host(void **state)
{
    (void)state;
    same_as_host("%+d|%+d|%+d", 5, -5, 0);
    same_as_host("% d|% d|% d", 5, -5, 0);
    same_as_host("%-5d|", -3);
    same_as_host("%05d", -3);
    same_as_host("%+05d", 3);
    same_as_host("% 05d", 3);
    same_as_host("%#5o|", 8u);
    ODD_FORMATS_BEGIN
    /* '+' beats ' ', '-' beats '0'. */
    same_as_host("%+ d|% +d", 5, 5);
    same_as_host("%-05d|", 3);
    same_as_host("%0-5d|", 3);
    /* '+' and ' ' have no effect on unsigned conversions, '0' none on %c and %s. */
    same_as_host("%+u|% u|%+x", 5u, 5u, 5u);
    same_as_host("%05c|%05s", 'a', "ab");
    ODD_FORMATS_END
}

static void test_fmt_width_and_precision_match_host(void **state)
{
    (void)state;
    same_as_host("[%10d]", 12345);
    same_as_host("[%3d]", 12345);
    same_as_host("[%-10u]", 7u);
    same_as_host("[%10.4d]", 7);
    same_as_host("[%-10.4x]", 0x7u);
    same_as_host("[%.10d]", INT_MIN);
    same_as_host("[%25lld]", (long long)INT64_MIN);
    same_as_host("[%-25.22llo]", 1ULL << 63);
    same_as_host("[%1d]", 0);
    same_as_host("[%0d]", 0);
    same_as_host("[%.d]", 0);
    same_as_host("[%120d]", 1);
}

static void test_fmt_star_arguments_match_host(void **state)
{
    (void)state;
    same_as_host("[%*d]", 6, 42);
    same_as_host("[%*d]", -6, 42);
    same_as_host("[%-*d]", -6, 42);
    same_as_host("[%.*d]", 4, 42);
    same_as_host("[%.*d]", -4, 42);
    same_as_host("[%.*d]", 0, 0);
    same_as_host("[%.*d]", -1, 0);
    same_as_host("[%*.*x]", 8, 3, 0xau);
    same_as_host("[%0*d]", 5, -1);
    same_as_host("[%*s]", -7, "ab");
    same_as_host("[%.*s]", 1, "abc");
    same_as_host("[%*c]", 3, 'z');
}

static void test_fmt_length_modifiers_match_host(void **state)
{
    (void)state;
    ODD_FORMATS_BEGIN
    same_as_host("%hhd|%hhd|%hhu|%hhx", 127, -128, 255, 0xffu);
    /* hh and h truncate a wider int argument to char and short, as C requires. */
    same_as_host("%hhd|%hhu|%hd|%hu|%hx", 300, 300, 70000, 70000, 0x12345u);
    same_as_host("%hd|%hd|%hu", SHRT_MAX, SHRT_MIN, USHRT_MAX);
    ODD_FORMATS_END
    same_as_host("%ld|%lu|%lx", LONG_MAX, ULONG_MAX, ULONG_MAX);
    same_as_host("%lld|%llu|%llX", LLONG_MIN, ULLONG_MAX, ULLONG_MAX);
    same_as_host("%zu|%zx|%zd", SIZE_MAX, (size_t)0x1234, (size_t)77);
    same_as_host("%zd", (ptrdiff_t)-5);
    same_as_host("%jd|%ju|%jx", INTMAX_MIN, UINTMAX_MAX, UINTMAX_MAX);
    same_as_host("%td|%td|%tx", PTRDIFF_MIN, PTRDIFF_MAX, (ptrdiff_t)0x99);
}

static void test_fmt_strings_and_chars_match_host(void **state)
{
    (void)state;
    const char *null_str = NULL;
    same_as_host("%s", "hello");
    same_as_host("%s|", "");
    same_as_host("[%8s]", "hi");
    same_as_host("[%-8s]", "hi");
    same_as_host("[%.3s]", "hello");
    same_as_host("[%8.3s]", "hello");
    same_as_host("[%.0s]", "hello");
    same_as_host("%c%c%c", 'a', 'b', 'c');
    same_as_host("[%-3c]", 'q');
    same_as_host("[%c]", 0xE9);
    same_as_host("100%%");
    same_as_host("%%%d%%", 5);
    ODD_FORMATS_BEGIN
    same_as_host("%s", null_str);
    same_as_host("[%10s]", null_str);
    same_as_host("[%.6s]", null_str);
    same_as_host("[%.5s]", null_str);
    ODD_FORMATS_END
}

static void test_fmt_null_string_prints_null_in_parentheses(void **state)
{
    (void)state;
    char buf[32];
    const char *null_str = NULL;
    ODD_FORMATS_BEGIN
    assert_int_equal(con_snprintf(buf, sizeof buf, "<%s>", null_str), 8);
    ODD_FORMATS_END
    assert_string_equal(buf, "<(null)>");
}

static void test_fmt_pointers_match_host(void **state)
{
    (void)state;
    int x;
    same_as_host("%p", (void *)&x);
    same_as_host("%p", (void *)0x1234);
    same_as_host("%p", (void *)UINTPTR_MAX);
    same_as_host("[%20p]", (void *)0x1234);
    same_as_host("[%-20p]", (void *)0x1234);
    same_as_host("[%p]", (void *)NULL);
    same_as_host("[%10p]", (void *)NULL);
    same_as_host("[%-10p]", (void *)NULL);
    ODD_FORMATS_BEGIN
    /* glibc honours these flags on %p; we promise to print like it. */
    same_as_host("[%020p]", (void *)0x1234);
    same_as_host("[%.8p]", (void *)0x1234);
    same_as_host("[%+p|% p]", (void *)0x1234, (void *)0x1234);
    same_as_host("[%010p|%.3p]", (void *)NULL, (void *)NULL);
    ODD_FORMATS_END
}

static void test_fmt_mixed_directives_match_host(void **state)
{
    (void)state;
    same_as_host("[ ok ] %-20s (%3u.%03u s) %c %#lx", "frame allocator", 1u, 7u, '!',
                 0xffff800000000000ul);
    same_as_host("%d %s %x %o %c %p %%", -1, "x", 16u, 8u, 'c', (void *)0x10);
    same_as_host("no directives at all");
    same_as_host("%s", "");
    ODD_FORMATS_BEGIN
    same_as_host("");
    ODD_FORMATS_END
}

static void test_fmt_truncation_at_every_buffer_length(void **state)
{
    (void)state;
    truncates_like_host("hello, world");
    truncates_like_host("%d", INT_MIN);
    truncates_like_host("[%-12s|%8.3x]", "abc", 0xabcdu);
    truncates_like_host("%#020llx", 0x1234ULL);
    truncates_like_host("%s=%lld (%p)", "key", (long long)INT64_MIN, (void *)0xdead);
    truncates_like_host("%*d%%", 40, -7);
}

static void test_fmt_zero_size_touches_nothing_and_returns_length(void **state)
{
    (void)state;
    char c = 'x';
    assert_int_equal(con_snprintf(&c, 0, "%d-%s", 12345, "abc"), 9);
    assert_int_equal(c, 'x');
    assert_int_equal(con_snprintf(NULL, 0, "%010d", 1), 10);
}

static void test_fmt_unknown_conversion_is_printed_literally(void **state)
{
    (void)state;
    char buf[64];
    ODD_FORMATS_BEGIN
    /* No argument is consumed by the unknown directive, so %d still gets 7. */
    assert_int_equal(con_snprintf(buf, sizeof buf, "a%yb%5.2lyc%d", 7), 12);
    assert_string_equal(buf, "a%yb%5.2lyc7");
    int n = 0;
    assert_int_equal(con_snprintf(buf, sizeof buf, "x%ny", &n), 4);
    assert_string_equal(buf, "x%ny");
    assert_int_equal(n, 0);
    assert_int_equal(con_snprintf(buf, sizeof buf, "%f|%d", 5), 4);
    assert_string_equal(buf, "%f|5");
    ODD_FORMATS_END
}

static void test_fmt_trailing_percent_is_printed_literally(void **state)
{
    (void)state;
    char buf[16];
    ODD_FORMATS_BEGIN
    assert_int_equal(con_snprintf(buf, sizeof buf, "abc%"), 4);
    assert_string_equal(buf, "abc%");
    assert_int_equal(con_snprintf(buf, sizeof buf, "x%-5l"), 5);
    assert_string_equal(buf, "x%-5l");
    ODD_FORMATS_END
}

static void test_fmt_width_beyond_int_max_returns_minus_one(void **state)
{
    (void)state;
    char buf[8];
    ODD_FORMATS_BEGIN
    assert_int_equal(con_snprintf(buf, sizeof buf, "ab%99999999999d", 1), -1);
    assert_string_equal(buf, "ab");
    assert_int_equal(con_snprintf(buf, sizeof buf, "%.3000000000d", 1), -1);
    assert_int_equal(con_snprintf(buf, sizeof buf, "%*d", INT_MIN, 1), -1);
    /* Each field fits, the sum does not. */
    assert_int_equal(con_snprintf(buf, sizeof buf, "%2000000000d%2000000000d", 1, 2), -1);
    assert_string_equal(buf, "       ");
    ODD_FORMATS_END
}

static void test_fmt_huge_width_into_small_buffer_is_counted_not_written(void **state)
{
    (void)state;
    char buf[8];
    clock_t t0 = clock();
    ODD_FORMATS_BEGIN
    assert_int_equal(con_snprintf(buf, sizeof buf, "%-2000000000d", 9), 2000000000);
    ODD_FORMATS_END
    assert_string_equal(buf, "9      ");
    /* Padding is counted, not looped over: 2e9 byte steps would take seconds. */
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
}

static void test_fmt_precision_bounds_reads_of_unterminated_string(void **state)
{
    (void)state;
    char buf[16];
    const char raw[3] = {'a', 'b', 'c'}; /* no NUL: reading a 4th byte is a bug ASan catches */
    assert_int_equal(con_snprintf(buf, sizeof buf, "%.3s", raw), 3);
    assert_string_equal(buf, "abc");
}

struct collect {
    char text[512];
    size_t len;
    size_t calls;
    size_t longest;
};

static void collect_put(void *ctx, const char *s, size_t len)
{
    struct collect *c = ctx;
    assert_true(len > 0);
    assert_true(c->len + len < sizeof c->text);
    memcpy(c->text + c->len, s, len);
    c->len += len;
    c->text[c->len] = '\0';
    c->calls++;
    if (len > c->longest)
        c->longest = len;
}

static void test_fmt_cbprintf_streams_the_same_bytes_as_snprintf(void **state)
{
    (void)state;
    struct collect c = {0};
    char buf[512];
    int r = con_cbprintf(collect_put, &c, "[%-40s|%#050llx|%+d] tail", "left", 0xabcULL, 3);
    int n = con_snprintf(buf, sizeof buf, "[%-40s|%#050llx|%+d] tail", "left", 0xabcULL, 3);
    assert_int_equal(r, n);
    assert_int_equal(c.len, (size_t)n);
    assert_string_equal(c.text, buf);
    /* Padding arrives in bounded pieces, never one byte at a time for the whole width. */
    assert_true(c.longest <= 16 || c.longest == strlen("] tail"));
    assert_true(c.calls < 20);
}

static void test_fmt_cbprintf_empty_format_calls_nothing(void **state)
{
    (void)state;
    struct collect c = {0};
    assert_int_equal(con_cbprintf(collect_put, &c, "%s", ""), 0);
    assert_int_equal(c.calls, 0);
}

static void test_fmt_compared_enough_formats_with_host(void **state)
{
    (void)state;
    /* Runs last: the suite's promise is at least 60 host comparisons. */
    assert_true(compared >= 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_signed_integers_match_host),
        cmocka_unit_test(test_fmt_unsigned_conversions_match_host),
        cmocka_unit_test(test_fmt_flags_match_host),
        cmocka_unit_test(test_fmt_width_and_precision_match_host),
        cmocka_unit_test(test_fmt_star_arguments_match_host),
        cmocka_unit_test(test_fmt_length_modifiers_match_host),
        cmocka_unit_test(test_fmt_strings_and_chars_match_host),
        cmocka_unit_test(test_fmt_null_string_prints_null_in_parentheses),
        cmocka_unit_test(test_fmt_pointers_match_host),
        cmocka_unit_test(test_fmt_mixed_directives_match_host),
        cmocka_unit_test(test_fmt_truncation_at_every_buffer_length),
        cmocka_unit_test(test_fmt_zero_size_touches_nothing_and_returns_length),
        cmocka_unit_test(test_fmt_unknown_conversion_is_printed_literally),
        cmocka_unit_test(test_fmt_trailing_percent_is_printed_literally),
        cmocka_unit_test(test_fmt_width_beyond_int_max_returns_minus_one),
        cmocka_unit_test(test_fmt_huge_width_into_small_buffer_is_counted_not_written),
        cmocka_unit_test(test_fmt_precision_bounds_reads_of_unterminated_string),
        cmocka_unit_test(test_fmt_cbprintf_streams_the_same_bytes_as_snprintf),
        cmocka_unit_test(test_fmt_cbprintf_empty_format_calls_nothing),
        cmocka_unit_test(test_fmt_compared_enough_formats_with_host),
    };
    return cmocka_run_group_tests_name("fmt", tests, NULL, NULL);
}
