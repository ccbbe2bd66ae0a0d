/* test_utf8.c - UTF-8 decoding (streaming and in strings), encoding and stepping back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <console/utf8.h>

#define FFFD CON_UTF8_REPLACEMENT

/* Feed all of s[0..n) to a fresh decoder; the code points go to out, their count is returned. */
static size_t feed_all(const char *s, size_t n, uint32_t *out, size_t cap)
{
    struct con_utf8_decoder d;
    con_utf8_init(&d);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t got[2];
        size_t m = con_utf8_feed(&d, (uint8_t)s[i], got);
        assert_true(m <= 2);
        for (size_t j = 0; j < m; j++) {
            assert_true(k < cap);
            out[k++] = got[j];
        }
    }
    if (con_utf8_pending(&d)) {
        assert_true(k < cap);
        out[k++] = FFFD; /* what a caller flushing at the end of input reports */
    }
    return k;
}

/* Decode s[0..n) with con_utf8_decode_at; same output convention as feed_all. */
static size_t decode_all(const char *s, size_t n, uint32_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = con_utf8_decode_at(s, n, i, &cp);
        assert_true(len >= 1 && len <= 4 && i + len <= n);
        assert_true(k < cap);
        out[k++] = cp;
        i += len;
    }
    return k;
}

struct example {
    const char *bytes;
    size_t len;
    uint32_t cps[8];
    size_t count;
};

#define EX(s, ...)                                                                                 \
    {                                                                                              \
        s, sizeof(s) - 1, {__VA_ARGS__}, sizeof((uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)      \
    }

static const struct example examples[] = {
    EX("a", 'a'),
    EX("\xc3\xa9", 0xE9),                           /* é */
    EX("\xe2\x82\xac", 0x20AC),                     /* € */
    EX("\xf0\x9f\x98\x80", 0x1F600),                /* an emoji, 4 bytes */
    EX("\xf4\x8f\xbf\xbf", 0x10FFFF),               /* the last code point */
    EX("\xef\xbf\xbd", 0xFFFD),                     /* a real U+FFFD */
    EX("\x80", FFFD),                               /* stray continuation */
    EX("\xc0\xaf", FFFD, FFFD),                     /* overlong '/' : C0 never starts a sequence */
    EX("\xe0\x80\xaf", FFFD, FFFD, FFFD),           /* overlong 3-byte form */
    EX("\xed\xa0\x80", FFFD, FFFD, FFFD),           /* a surrogate */
    EX("\xf4\x90\x80\x80", FFFD, FFFD, FFFD, FFFD), /* above U+10FFFF */
    EX("\xf5", FFFD),
    EX("\xc3(", FFFD, '('),             /* cut short by ASCII: the ASCII survives */
    EX("\xe2\x82x", FFFD, 'x'),         /* two-byte prefix is one replacement */
    EX("\xe2\x82\xc3\xa9", FFFD, 0xE9), /* cut short by a new lead */
    EX("\xe2\x82", FFFD),               /* cut short by the end */
    EX("x\xf0\x9f\x98", 'x', FFFD),
};

static void test_utf8_stream_and_string_decoders_agree_on_examples(void **state)
{
    (void)state;
    for (size_t e = 0; e < sizeof examples / sizeof examples[0]; e++) {
        const struct example *x = &examples[e];
        uint32_t a[16], b[16];
        size_t na = feed_all(x->bytes, x->len, a, 16);
        size_t nb = decode_all(x->bytes, x->len, b, 16);
        assert_int_equal(na, x->count);
        assert_int_equal(nb, x->count);
        for (size_t i = 0; i < x->count; i++) {
            assert_int_equal(a[i], x->cps[i]);
            assert_int_equal(b[i], x->cps[i]);
        }
    }
}

static void test_utf8_feed_reports_pending_inside_a_sequence(void **state)
{
    (void)state;
    struct con_utf8_decoder d;
    uint32_t out[2];
    con_utf8_init(&d);
    assert_false(con_utf8_pending(&d));
    assert_int_equal(con_utf8_feed(&d, 0xE2, out), 0);
    assert_true(con_utf8_pending(&d));
    assert_int_equal(con_utf8_feed(&d, 0x82, out), 0);
    assert_true(con_utf8_pending(&d));
    assert_int_equal(con_utf8_feed(&d, 0xAC, out), 1);
    assert_int_equal(out[0], 0x20AC);
    assert_false(con_utf8_pending(&d));
}

static void test_utf8_encode_round_trips_every_scalar_value(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp <= CON_UTF8_MAX; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char buf[4];
        size_t n = con_utf8_encode(cp, buf);
        size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        assert_int_equal(n, want);
        uint32_t back;
        assert_int_equal(con_utf8_decode_at(buf, n, 0, &back), n);
        assert_int_equal(back, cp);
    }
}

static void test_utf8_decode_at_end_of_string_is_zero_length(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(con_utf8_decode_at("ab", 2, 2, &cp), 0);
    assert_int_equal(con_utf8_decode_at("ab", 2, 5, &cp), 0);
}

/* Stepping back with con_utf8_prev must land on exactly the starts forward decoding visits,
 * for valid and malformed text alike. */
static void check_prev_matches_forward(const char *s, size_t n)
{
    size_t starts[64], k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        starts[k++] = i;
        i += con_utf8_decode_at(s, n, i, &cp);
    }
    size_t pos = n;
    while (k > 0) {
        pos = con_utf8_prev(s, pos);
        assert_int_equal(pos, starts[--k]);
    }
    assert_int_equal(con_utf8_prev(s, 0), 0);
}

static void test_utf8_prev_steps_back_one_character(void **state)
{
    (void)state;
    static const char *texts[] = {
        "plain ascii",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!",
        "a\x80\x80\x80\x80z",
        "\xe2\x82x\xc3",
        "\x80\xc3\xa9\xe2\x28\xa1",
        "\xf0\x9f\x98\xf0\x9f\x98\x80",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_prev_matches_forward(texts[i], strlen(texts[i]));
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
        check_prev_matches_forward(examples[i].bytes, examples[i].len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_stream_and_string_decoders_agree_on_examples),
        cmocka_unit_test(test_utf8_feed_reports_pending_inside_a_sequence),
        cmocka_unit_test(test_utf8_encode_round_trips_every_scalar_value),
        cmocka_unit_test(test_utf8_decode_at_end_of_string_is_zero_length),
        cmocka_unit_test(test_utf8_prev_steps_back_one_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
