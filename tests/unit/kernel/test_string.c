/*
 * test_string.c - the kernel's memset/memcpy/memmove/memcmp (kernel/string.c, built here as
 * kstr_*) against the host C library on every alignment of source and destination, every
 * short length (where the word-at-a-time middle starts and stops) and a few long ones.
 *
 * Every call works inside a guarded buffer and the whole buffer is compared afterwards, so a
 * write one byte before or after the range fails as surely as a wrong byte inside it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/* kernel/string.c compiled with -Dmemcpy=kstr_memcpy etc. (tests/unit/kernel/meson.build). */
void *kstr_memset(void *dst, int c, size_t n);
void *kstr_memcpy(void *restrict dst, const void *restrict src, size_t n);
void *kstr_memmove(void *dst, const void *src, size_t n);
int kstr_memcmp(const void *a, const void *b, size_t n);

#define MAX_ALIGN 16
#define MAX_SHORT 70
#define GUARD 24
/* Room for the largest offset plus the largest short length, with guards either side. */
#define AREA (GUARD + MAX_ALIGN + MAX_SHORT + GUARD)

/* A 16-byte aligned area, so "alignment k" really is address % 16 == k. */
struct area {
    _Alignas(16) unsigned char b[AREA];
};

/* Fill with a position-dependent pattern so a byte copied from the wrong offset shows. */
static void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 131u + seed * 17u + 7u);
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static void test_memset_matches_host_at_every_alignment_and_short_length(void **state)
{
    (void)state;
    static const int values[] = {0, 0xA5, 0x1FF /* only the low byte counts */, -1};
    struct area ours, ref;
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
        for (size_t align = 0; align < MAX_ALIGN; align++)
            for (size_t len = 0; len <= MAX_SHORT; len++) {
                fill_pattern(ours.b, AREA, (unsigned)len);
                fill_pattern(ref.b, AREA, (unsigned)len);
                unsigned char *dst = ours.b + GUARD + align;
                void *ret = kstr_memset(dst, values[v], len);
                memset(ref.b + GUARD + align, values[v], len);
                assert_ptr_equal(ret, dst);
                assert_memory_equal(ours.b, ref.b, AREA);
            }
}

static void test_memcpy_matches_host_for_every_src_dst_alignment_pair(void **state)
{
    (void)state;
    struct area src, ours, ref;
    for (size_t sa = 0; sa < MAX_ALIGN; sa++)
        for (size_t da = 0; da < MAX_ALIGN; da++)
            for (size_t len = 0; len <= MAX_SHORT; len++) {
                fill_pattern(src.b, AREA, 1);
                memset(ours.b, 0xEE, AREA);
                memset(ref.b, 0xEE, AREA);
                unsigned char *dst = ours.b + GUARD + da;
                void *ret = kstr_memcpy(dst, src.b + GUARD + sa, len);
                memcpy(ref.b + GUARD + da, src.b + GUARD + sa, len);
                assert_ptr_equal(ret, dst);
                assert_memory_equal(ours.b, ref.b, AREA);
            }
}

/* Long copies exercise many iterations of the word loop, with a ragged head and tail. */
static void test_memcpy_and_memset_large_lengths(void **state)
{
    (void)state;
    static const size_t lens[] = {4096, 4099, 65536 + 7, 1u << 20};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i], total = n + 64;
        unsigned char *src = malloc(total), *ours = malloc(total), *ref = malloc(total);
        assert_non_null(src);
        assert_non_null(ours);
        assert_non_null(ref);
        for (size_t off = 0; off < 16; off += 5) {
            fill_pattern(src, total, (unsigned)off);
            memset(ours, 0x11, total);
            memset(ref, 0x11, total);
            assert_ptr_equal(kstr_memcpy(ours + 8 + off, src + 3, n), ours + 8 + off);
            memcpy(ref + 8 + off, src + 3, n);
            assert_memory_equal(ours, ref, total);

            assert_ptr_equal(kstr_memset(ours + off, 0x5C, n), ours + off);
            memset(ref + off, 0x5C, n);
            assert_memory_equal(ours, ref, total);
        }
        free(src);
        free(ours);
        free(ref);
    }
}

/* Non-overlapping memmove takes memcpy's path; check it at every alignment pair too. */
static void test_memmove_disjoint_matches_host(void **state)
{
    (void)state;
    struct area src, ours, ref;
    for (size_t sa = 0; sa < MAX_ALIGN; sa++)
        for (size_t da = 0; da < MAX_ALIGN; da++)
            for (size_t len = 0; len <= MAX_SHORT; len += 3) {
                fill_pattern(src.b, AREA, 2);
                memset(ours.b, 0x33, AREA);
                memset(ref.b, 0x33, AREA);
                unsigned char *dst = ours.b + GUARD + da;
                assert_ptr_equal(kstr_memmove(dst, src.b + GUARD + sa, len), dst);
                memmove(ref.b + GUARD + da, src.b + GUARD + sa, len);
                assert_memory_equal(ours.b, ref.b, AREA);
            }
}

/* Within one buffer: source at every alignment, destination at every distance from -len-1 to
 * len+1 (both overlap directions, touching ranges, and d == s). */
static void test_memmove_overlapping_both_ways_at_every_offset(void **state)
{
    (void)state;
    /* base - len - 1 >= 0 and base + MAX_ALIGN + 2 * len + 1 <= BIG for every len. */
    enum { BIG = 3 * MAX_SHORT + MAX_ALIGN + 2 * GUARD + 16 };
    _Alignas(16) unsigned char ours[BIG], ref[BIG];
    const size_t base = MAX_SHORT + GUARD + 4;
    for (size_t len = 0; len <= MAX_SHORT; len++)
        for (size_t sa = 0; sa < MAX_ALIGN; sa++)
            for (long delta = -(long)len - 1; delta <= (long)len + 1; delta++) {
                size_t s = base + sa;
                size_t d = (size_t)((long)s + delta);
                fill_pattern(ours, BIG, (unsigned)sa);
                fill_pattern(ref, BIG, (unsigned)sa);
                assert_ptr_equal(kstr_memmove(ours + d, ours + s, len), ours + d);
                memmove(ref + d, ref + s, len);
                assert_memory_equal(ours, ref, BIG);
            }
}

static void test_memmove_long_overlap_in_both_directions(void **state)
{
    (void)state;
    /* The source sits 4128 bytes in, so a destination up to 4095 bytes either side of it
     * stays inside; 8000 bytes overlap even at the largest distance. */
    const size_t total = 16384 + 64, s = 4128, len = 8000;
    unsigned char *ours = malloc(total), *ref = malloc(total);
    assert_non_null(ours);
    assert_non_null(ref);
    static const long deltas[] = {1, 7, 8, 9, 4095, -1, -7, -8, -9, -4095};
    for (size_t i = 0; i < sizeof deltas / sizeof deltas[0]; i++) {
        size_t d = (size_t)((long)s + deltas[i]);
        fill_pattern(ours, total, (unsigned)i);
        fill_pattern(ref, total, (unsigned)i);
        assert_ptr_equal(kstr_memmove(ours + d, ours + s, len), ours + d);
        memmove(ref + d, ref + s, len);
        assert_memory_equal(ours, ref, total);
    }
    free(ours);
    free(ref);
}

static void test_memcmp_equal_ranges_compare_zero(void **state)
{
    (void)state;
    struct area a, b;
    fill_pattern(a.b, AREA, 9);
    fill_pattern(b.b, AREA, 9);
    for (size_t len = 0; len <= MAX_SHORT; len++)
        assert_int_equal(kstr_memcmp(a.b + GUARD, b.b + GUARD, len), 0);
    /* Length zero compares nothing, even when the bytes differ. */
    b.b[GUARD] ^= 0xFF;
    assert_int_equal(kstr_memcmp(a.b + GUARD, b.b + GUARD, 0), 0);
}

/* Bytes compare as unsigned char: 0x80 is greater than 0x01 even where char is signed. */
static void test_memcmp_compares_bytes_as_unsigned(void **state)
{
    (void)state;
    const unsigned char hi[] = {0x10, 0x80}, lo[] = {0x10, 0x01};
    assert_true(kstr_memcmp(hi, lo, 2) > 0);
    assert_true(kstr_memcmp(lo, hi, 2) < 0);
    const unsigned char ff[] = {0xFF}, zero[] = {0x00};
    assert_true(kstr_memcmp(ff, zero, 1) > 0);
    assert_true(kstr_memcmp(zero, ff, 1) < 0);
}

/* A difference at every position of every alignment pair: the sign matches the host's, and
 * the first difference decides, not a later one of the opposite sense. */
static void test_memcmp_sign_matches_host_at_every_position_and_alignment(void **state)
{
    (void)state;
    struct area a, b;
    for (size_t aa = 0; aa < MAX_ALIGN; aa++)
        for (size_t ba = 0; ba < MAX_ALIGN; ba += 3)
            for (size_t len = 1; len <= MAX_SHORT; len += 7)
                for (size_t pos = 0; pos < len; pos++) {
                    unsigned char *x = a.b + GUARD + aa, *y = b.b + GUARD + ba;
                    fill_pattern(x, len, 4);
                    fill_pattern(y, len, 4);
                    x[pos] = 0x80;
                    y[pos] = 0x01;
                    if (pos + 1 < len) { /* a later difference pointing the other way */
                        x[pos + 1] = 0x00;
                        y[pos + 1] = 0xFF;
                    }
                    assert_int_equal(sign(kstr_memcmp(x, y, len)), sign(memcmp(x, y, len)));
                    assert_int_equal(sign(kstr_memcmp(x, y, len)), 1);
                    assert_int_equal(sign(kstr_memcmp(y, x, len)), -1);
                    /* Stopping before the difference sees equal ranges. */
                    assert_int_equal(kstr_memcmp(x, y, pos), 0);
                }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memset_matches_host_at_every_alignment_and_short_length),
        cmocka_unit_test(test_memcpy_matches_host_for_every_src_dst_alignment_pair),
        cmocka_unit_test(test_memcpy_and_memset_large_lengths),
        cmocka_unit_test(test_memmove_disjoint_matches_host),
        cmocka_unit_test(test_memmove_overlapping_both_ways_at_every_offset),
        cmocka_unit_test(test_memmove_long_overlap_in_both_directions),
        cmocka_unit_test(test_memcmp_equal_ranges_compare_zero),
        cmocka_unit_test(test_memcmp_compares_bytes_as_unsigned),
        cmocka_unit_test(test_memcmp_sign_matches_host_at_every_position_and_alignment),
    };
    return cmocka_run_group_tests_name("kernel_string", tests, NULL, NULL);
}
