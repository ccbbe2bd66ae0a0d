/*
 * heap_contract.h - the tests every heap must pass, shared by test_heap_bump/list/fixed/tlsf.
 *
 * Before including it, a test file includes cmocka and its heap's header and defines:
 *   CONTRACT_HEAP          the heap's struct type (e.g. struct mm_list_heap)
 *   CONTRACT_INIT          its init function (e.g. mm_list_init)
 *   CONTRACT_KEEPS_BLOCKS  true when freeing cannot return memory (the bump heap), so the
 *                          alignment sweep keeps its blocks instead of freeing them
 * It then gets the fixtures (setup_mem/teardown_mem, a grow hook over a pool, a counting
 * report hook), heap_init() and COMMON_TESTS for its cmocka test array.
 */
#pragma once

#include <stdlib.h>
#include <string.h>

#define REGION (256u << 10)
static unsigned char *mem;
static unsigned char *pool; /* memory the grow hook hands out */
static size_t pool_used, pool_len;
static int grow_calls, grow_gap;
static bool grow_ok;
static int nreports;
static const char *last_what;
static void *last_ptr;

static bool t_grow(void *ctx, size_t min, void **base, size_t *len)
{
    (void)ctx;
    grow_calls++;
    size_t want = (min + 4095) & ~(size_t)4095;
    if (!grow_ok || pool_used + grow_gap + want > pool_len)
        return false;
    pool_used += grow_gap;
    *base = pool + pool_used;
    *len = want;
    pool_used += want;
    return true;
}

static void t_report(void *ctx, const char *what, void *ptr)
{
    (void)ctx;
    nreports++;
    last_what = what;
    last_ptr = ptr;
}

static struct mm_heap_config cfg_of(unsigned flags, bool with_grow)
{
    struct mm_heap_config c = {.flags = flags, .report = t_report};
    if (with_grow)
        c.grow = t_grow;
    return c;
}

static int setup_mem(void **state)
{
    (void)state;
    mem = aligned_alloc(4096, REGION);
    pool_len = 4u << 20;
    pool = aligned_alloc(4096, pool_len);
    pool_used = 0;
    grow_calls = 0;
    grow_gap = 0;
    grow_ok = true;
    nreports = 0;
    last_what = NULL;
    return mem && pool ? 0 : -1;
}

static int teardown_mem(void **state)
{
    (void)state;
    free(mem);
    free(pool);
    return 0;
}

static void assert_check_ok(struct mm_heap *h)
{
    const char *why = NULL;
    if (mm_heap_check(h, &why) != MM_OK)
        fail_msg("check failed: %s", why);
}

static CONTRACT_HEAP H;
static struct mm_heap *heap_init(const struct mm_heap_config *c, size_t len)
{
    assert_int_equal(CONTRACT_INIT(&H, mem, len, c), MM_OK);
    return &H.heap;
}
#define HEAP_INIT heap_init

/* ---- properties every heap shares; HEAP_INIT(cfg, len) builds the heap under test ---- */

static void test_alignment_honoured_for_1_to_4096(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = HEAP_INIT(&c, REGION);
    for (size_t a = 1; a <= 4096; a *= 2) {
        for (size_t sz = 1; sz < 300; sz += 37) {
            unsigned char *p = mm_heap_alloc(h, sz, a);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % (a < 16 ? 16 : a), 0);
            memset(p, 0x5A, sz);
            assert_true(mm_heap_usable_size(h, p) >= sz);
            assert_check_ok(h);
            if (!CONTRACT_KEEPS_BLOCKS)
                mm_heap_free(h, p);
        }
    }
    assert_int_equal(nreports, 0);
}

static void test_zero_size_gives_a_freeable_block(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = HEAP_INIT(&c, REGION);
    void *a = mm_heap_alloc(h, 0, 0), *b = mm_heap_alloc(h, 0, 0);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    mm_heap_free(h, a);
    mm_heap_free(h, b);
    assert_int_equal(nreports, 0);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 0);
    assert_int_equal(st.frees, 2);
}

static void test_huge_and_bad_requests_fail_cleanly(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, true);
    struct mm_heap *h = HEAP_INIT(&c, REGION);
    assert_null(mm_heap_alloc(h, SIZE_MAX, 0));
    assert_null(mm_heap_alloc(h, SIZE_MAX - 8, 16));
    assert_null(mm_heap_alloc(h, (size_t)1 << 37, 0)); /* the grow hook can't give that */
    assert_int_equal(nreports, 0);
    assert_null(mm_heap_alloc(h, 16, 24)); /* not a power of two: reported */
    assert_int_equal(nreports, 1);
    assert_null(mm_heap_alloc(h, 16, (size_t)1 << 40));
    assert_int_equal(nreports, 2);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.failed, 5);
    assert_int_equal(st.live_blocks, 0);
    assert_check_ok(h);
    void *p = mm_heap_alloc(h, 100, 0); /* still works afterwards */
    assert_non_null(p);
}

static void test_realloc_grows_shrinks_and_handles_null(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = HEAP_INIT(&c, REGION);
    unsigned char *p = mm_heap_realloc(h, NULL, 40, 0); /* NULL: like alloc */
    assert_non_null(p);
    for (int i = 0; i < 40; i++)
        p[i] = (unsigned char)i;
    void *other = mm_heap_alloc(h, 64, 0); /* something after p, so growth may move */
    assert_non_null(other);
    p = mm_heap_realloc(h, p, 5000, 0);
    assert_non_null(p);
    assert_true(mm_heap_usable_size(h, p) >= 5000);
    for (int i = 0; i < 40; i++)
        assert_int_equal(p[i], i);
    memset(p + 40, 0xEE, 5000 - 40);
    p = mm_heap_realloc(h, p, 20, 0);
    assert_non_null(p);
    for (int i = 0; i < 20; i++)
        assert_int_equal(p[i], i);
    assert_true(mm_heap_usable_size(h, p) >= 20);
    assert_null(mm_heap_realloc(h, p, SIZE_MAX, 0)); /* fails, p untouched */
    for (int i = 0; i < 20; i++)
        assert_int_equal(p[i], i);
    assert_null(mm_heap_realloc(h, p, 0, 0)); /* size 0 frees */
    mm_heap_free(h, other);
    assert_check_ok(h);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 0);
    assert_int_equal(nreports, 0);
}

static void test_stats_track_use_and_peak(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = HEAP_INIT(&c, REGION);
    struct mm_heap_stats s0, s1, s2;
    mm_heap_get_stats(h, &s0);
    assert_int_equal(s0.bytes_in_use, 0);
    assert_true(s0.region_bytes >= REGION - 32 && s0.region_bytes <= REGION);
    void *a = mm_heap_alloc(h, 1000, 0), *b = mm_heap_alloc(h, 3000, 0);
    mm_heap_get_stats(h, &s1);
    assert_int_equal(s1.live_blocks, 2);
    assert_true(s1.bytes_in_use >= 4000);
    assert_true(s1.bytes_in_use == mm_heap_usable_size(h, a) + mm_heap_usable_size(h, b));
    assert_true(s1.bytes_free < s0.bytes_free);
    assert_true(s1.largest_free <= s1.bytes_free);
    assert_true(s1.peak_footprint >= 4000);
    mm_heap_free(h, b);
    mm_heap_get_stats(h, &s2);
    assert_int_equal(s2.live_blocks, 1);
    assert_int_equal(s2.peak_in_use, s1.bytes_in_use);
    assert_int_equal(s2.allocs, 2);
    assert_int_equal(s2.frees, 1);
    mm_heap_free(h, a);
}

static void test_grow_hook_used_and_failing_grow_gives_null(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, true);
    struct mm_heap *h = HEAP_INIT(&c, 4096);
    void *ps[64];
    for (int i = 0; i < 64; i++) {
        ps[i] = mm_heap_alloc(h, 1000, 0);
        assert_non_null(ps[i]);
        memset(ps[i], i, 1000);
    }
    assert_true(grow_calls > 0);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_true(st.region_bytes > 4096);
    assert_check_ok(h);
    grow_ok = false;
    int before = grow_calls;
    void *q = mm_heap_alloc(h, 100000, 0);
    assert_null(q);
    assert_true(grow_calls > before);
    for (int i = 0; i < 64; i++)
        mm_heap_free(h, ps[i]);
    assert_check_ok(h);
    assert_int_equal(nreports, 0);
}

static void test_scattered_grow_regions_all_usable(void **state)
{
    (void)state;
    grow_gap = 4096; /* each new region lies apart from the previous one */
    struct mm_heap_config c = cfg_of(0, true);
    struct mm_heap *h = HEAP_INIT(&c, 4096);
    void *ps[12];
    for (int i = 0; i < 12; i++) {
        ps[i] = mm_heap_alloc(h, 3000, 0);
        assert_non_null(ps[i]);
        memset(ps[i], i, 3000);
    }
    assert_check_ok(h);
    for (int i = 0; i < 12; i++) {
        unsigned char *p = ps[i];
        assert_int_equal(p[0], i);
        assert_int_equal(p[2999], i);
        mm_heap_free(h, p);
    }
    assert_check_ok(h);
    assert_int_equal(nreports, 0);
}

static void test_free_of_foreign_and_misaligned_pointers_is_reported(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = HEAP_INIT(&c, REGION);
    unsigned char *p = mm_heap_alloc(h, 64, 0);
    static unsigned char outside[64];
    mm_heap_free(h, outside + 16);
    assert_int_equal(nreports, 1);
    assert_ptr_equal(last_ptr, outside + 16);
    mm_heap_free(h, p + 8);
    assert_int_equal(nreports, 2);
    mm_heap_free(h, p + 32); /* aligned, inside the heap, but not a block start */
    assert_int_equal(nreports, 3);
    assert_int_equal(mm_heap_usable_size(h, outside), 0);
    assert_int_equal(nreports, 4);
    assert_null(mm_heap_realloc(h, p + 8, 10, 0));
    assert_int_equal(nreports, 5);
    assert_check_ok(h);
    mm_heap_free(h, p);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.reports, 5);
    assert_int_equal(st.live_blocks, 0);
}

static void test_double_free_is_reported(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = HEAP_INIT(&c, REGION);
    void *keep = mm_heap_alloc(h, 32, 0); /* keeps a bump heap from resetting */
    void *p = mm_heap_alloc(h, 48, 0);
    void *q = mm_heap_alloc(h, 48, 0);
    mm_heap_free(h, p);
    assert_int_equal(nreports, 0);
    mm_heap_free(h, p);
    assert_int_equal(nreports, 1);
    assert_non_null(strstr(last_what, "double free"));
    assert_check_ok(h);
    mm_heap_free(h, q);
    mm_heap_free(h, keep);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 0);
    assert_int_equal(st.frees, 3);
}

#define COMMON_TESTS                                                                               \
    cmocka_unit_test_setup_teardown(test_alignment_honoured_for_1_to_4096, setup_mem,              \
                                    teardown_mem),                                                 \
        cmocka_unit_test_setup_teardown(test_zero_size_gives_a_freeable_block, setup_mem,          \
                                        teardown_mem),                                             \
        cmocka_unit_test_setup_teardown(test_huge_and_bad_requests_fail_cleanly, setup_mem,        \
                                        teardown_mem),                                             \
        cmocka_unit_test_setup_teardown(test_realloc_grows_shrinks_and_handles_null, setup_mem,    \
                                        teardown_mem),                                             \
        cmocka_unit_test_setup_teardown(test_stats_track_use_and_peak, setup_mem, teardown_mem),   \
        cmocka_unit_test_setup_teardown(test_grow_hook_used_and_failing_grow_gives_null,           \
                                        setup_mem, teardown_mem),                                  \
        cmocka_unit_test_setup_teardown(test_scattered_grow_regions_all_usable, setup_mem,         \
                                        teardown_mem),                                             \
        cmocka_unit_test_setup_teardown(test_free_of_foreign_and_misaligned_pointers_is_reported,  \
                                        setup_mem, teardown_mem),                                  \
        cmocka_unit_test_setup_teardown(test_double_free_is_reported, setup_mem, teardown_mem)
