/*
 * test_heap_model.c - random operation sequences on every heap, checked against a model.
 *
 * The model remembers each live block's address, requested size, alignment and fill byte.
 * After every operation the heap's own consistency check runs (mm_heap_check: a heap that
 * breaks one of its invariants, or wrongly believes it did, fails on the spot) and the block
 * just touched is verified: aligned as asked, at least the usable size asked for, realloc
 * keeps the old contents. Every 100 operations every block's contents are verified and no
 * two blocks may overlap. At the end everything is freed and the heap must account for all
 * of its memory again.
 *
 * Sizes follow what programs ask a heap for: most requests are small (a few hot sizes, the
 * rest spread up to 512 bytes), a tail goes to some KiB and a thin one to hundreds of KiB.
 * The number of live blocks rises and falls in phases, so slabs and free lists fill up and
 * drain again many times in one run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/heap_bump.h"
#include "mm/heap_fixed.h"
#include "mm/heap_list.h"
#include "mm/heap_tlsf.h"

enum kind { K_BUMP, K_LIST, K_FIXED, K_TLSF };
enum growmode { G_NONE, G_ADJACENT, G_SCATTERED };

union any_heap {
    struct mm_bump_heap b;
    struct mm_list_heap l;
    struct mm_fixed_heap f;
    struct mm_tlsf_heap t;
};

#define ARENA (32u << 20)
#define INIT_LEN (256u << 10)

static unsigned char *arena;
static size_t arena_used;
static int grow_mode;
static unsigned reports;
static const char *last_report;

static bool test_grow(void *ctx, size_t min, void **base, size_t *len)
{
    (void)ctx;
    size_t want = min < 32768 ? 32768 : (min + 4095) & ~(size_t)4095;
    size_t gap = grow_mode == G_SCATTERED ? 4096 : 0;
    if (grow_mode == G_NONE || arena_used + gap + want > ARENA)
        return false;
    arena_used += gap;
    *base = arena + arena_used;
    *len = want;
    arena_used += want;
    return true;
}

static void test_report(void *ctx, const char *what, void *ptr)
{
    (void)ctx;
    (void)ptr;
    last_report = what;
    reports++;
}

static struct mm_heap *make(union any_heap *u, enum kind k, enum growmode g, unsigned flags)
{
    struct mm_heap_config cfg = {.flags = flags, .grow = test_grow, .report = test_report};
    grow_mode = g;
    arena_used = INIT_LEN;
    reports = 0;
    switch (k) {
    case K_BUMP:
        assert_int_equal(mm_bump_init(&u->b, arena, INIT_LEN, &cfg), MM_OK);
        return &u->b.heap;
    case K_LIST:
        assert_int_equal(mm_list_init(&u->l, arena, INIT_LEN, &cfg), MM_OK);
        return &u->l.heap;
    case K_FIXED:
        assert_int_equal(mm_fixed_init(&u->f, arena, INIT_LEN, &cfg), MM_OK);
        return &u->f.heap;
    case K_TLSF:
        assert_int_equal(mm_tlsf_init(&u->t, arena, INIT_LEN, &cfg), MM_OK);
        return &u->t.heap;
    }
    return NULL;
}

struct live {
    unsigned char *p;
    size_t size, align;
    unsigned char fill;
};

#define MAXLIVE 1000
static struct live lv[MAXLIVE];
static unsigned nlive;

static uint64_t rng;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Per mille: 400 hot sizes, 450 spread over 0..512, 120 up to 8 KiB, 25 up to 64 KiB,
 * 5 up to 512 KiB. */
static size_t rand_size(void)
{
    static const uint16_t hot[] = {16, 24, 32, 40, 48, 64, 96, 128, 200, 240, 256, 480};
    uint32_t r = rnd() % 1000;
    if (r < 400)
        return hot[rnd() % (sizeof hot / sizeof hot[0])];
    if (r < 850)
        return rnd() % 513;
    if (r < 970)
        return 513 + rnd() % (8192 - 512);
    if (r < 995)
        return 8193 + rnd() % (65536 - 8192);
    return 65537 + rnd() % (512u * 1024 - 65536);
}

static size_t rand_align(void)
{
    uint32_t r = rnd() % 10;
    if (r < 8)
        return 0;
    return (size_t)1 << (rnd() % 13); /* 1 .. 4096 */
}

static void verify_block(struct mm_heap *h, const struct live *b)
{
    size_t a = b->align < 16 ? 16 : b->align;
    assert_int_equal((uintptr_t)b->p % a, 0);
    assert_true(mm_heap_usable_size(h, b->p) >= b->size);
    static unsigned char pat[4096];
    memset(pat, b->fill, sizeof pat);
    for (size_t at = 0; at < b->size; at += sizeof pat) {
        size_t n = b->size - at < sizeof pat ? b->size - at : sizeof pat;
        if (memcmp(b->p + at, pat, n) == 0)
            continue;
        for (size_t i = at; i < at + n; i++)
            if (b->p[i] != b->fill)
                fail_msg("block %p byte %zu is %02x, expected %02x", (void *)b->p, i, b->p[i],
                         b->fill);
    }
}

struct span {
    uintptr_t lo, hi;
};

static int span_cmp(const void *a, const void *b)
{
    uintptr_t x = ((const struct span *)a)->lo, y = ((const struct span *)b)->lo;
    return x < y ? -1 : x > y;
}

/* No two live blocks share a byte of their usable sizes: sorted by start, each ends before
 * the next begins. */
static void verify_no_overlap(struct mm_heap *h)
{
    static struct span sp[MAXLIVE];
    for (unsigned i = 0; i < nlive; i++) {
        sp[i].lo = (uintptr_t)lv[i].p;
        sp[i].hi = sp[i].lo + mm_heap_usable_size(h, lv[i].p);
    }
    qsort(sp, nlive, sizeof sp[0], span_cmp);
    for (unsigned i = 1; i < nlive; i++)
        if (sp[i - 1].hi > sp[i].lo)
            fail_msg("blocks %p and %p overlap", (void *)sp[i - 1].lo, (void *)sp[i].lo);
}

static void check_heap(struct mm_heap *h)
{
    const char *why = NULL;
    enum mm_status s = mm_heap_check(h, &why);
    if (s != MM_OK)
        fail_msg("%s: check failed: %s", mm_heap_name(h), why ? why : "?");
}

static void run_model(enum kind k, enum growmode g, unsigned flags, uint64_t seed, unsigned ops)
{
    union any_heap *u = calloc(1, sizeof *u);
    assert_non_null(u);
    struct mm_heap *h = make(u, k, g, flags);
    struct mm_heap_stats st0;
    mm_heap_get_stats(h, &st0);
    rng = seed;
    nlive = 0;
    for (unsigned n = 0; n < ops; n++) {
        /* Phases of 1,500 operations: the live set grows (65% allocations), then shrinks
         * (25%); realloc takes 15% in both. */
        unsigned alloc_pct = (n / 1500) % 2 ? 25 : 65;
        uint32_t op = rnd() % 100;
        if (op < alloc_pct && nlive < MAXLIVE) {
            struct live b = {
                .size = rand_size(), .align = rand_align(), .fill = (unsigned char)rnd()};
            b.p = mm_heap_alloc(h, b.size, b.align);
            if (b.p) {
                memset(b.p, b.fill, b.size);
                for (unsigned i = 0; i < nlive; i++)
                    assert_ptr_not_equal(lv[i].p, b.p);
                lv[nlive++] = b;
                verify_block(h, &b);
            }
        } else if (op < 85 && nlive) {
            unsigned i = rnd() % nlive;
            verify_block(h, &lv[i]);
            mm_heap_free(h, lv[i].p);
            lv[i] = lv[--nlive];
        } else if (nlive) {
            unsigned i = rnd() % nlive;
            size_t ns = rand_size();
            if (ns == 0)
                ns = 1;
            unsigned char *q = mm_heap_realloc(h, lv[i].p, ns, lv[i].align);
            if (q) {
                size_t keep = ns < lv[i].size ? ns : lv[i].size;
                for (size_t j = 0; j < keep; j++)
                    if (q[j] != lv[i].fill)
                        fail_msg("realloc lost byte %zu", j);
                lv[i].p = q;
                lv[i].size = ns;
                lv[i].fill = (unsigned char)rnd();
                memset(q, lv[i].fill, ns);
            } else {
                verify_block(h, &lv[i]); /* failed realloc leaves the block alone */
            }
        }
        check_heap(h);
        if (n % 100 == 0) {
            for (unsigned i = 0; i < nlive; i++)
                verify_block(h, &lv[i]);
            verify_no_overlap(h);
        }
    }
    check_heap(h);
    verify_no_overlap(h);
    while (nlive) {
        verify_block(h, &lv[nlive - 1]);
        mm_heap_free(h, lv[--nlive].p);
    }
    check_heap(h);
    if (k == K_TLSF)
        mm_tlsf_trim(&u->t); /* spare slabs back to the core, so it is one block again */
    check_heap(h);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 0);
    if (reports)
        fail_msg("%u unexpected reports, last: %s", reports, last_report);
    assert_int_equal(st.reports, 0);
    assert_int_equal(st.allocs, st.frees);
    if (k != K_FIXED)
        assert_int_equal(st.bytes_in_use, 0);
    if ((k == K_LIST || k == K_TLSF || k == K_BUMP) && g != G_SCATTERED) {
        /* Everything came back: one block spanning the whole memory is available again. */
        assert_true(st.largest_free + 64 + (k == K_TLSF ? 16 + (st.region_bytes >> 14) : 0) >=
                    st.region_bytes); /* TLSF: minus its chunk map */
    }
    free(u);
}

/* Operations per run; each test makes two runs with different seeds. */
#ifndef MODEL_OPS
#define MODEL_OPS 20000u
#endif

#define MODEL_TEST(name, k, g, flags, seed)                                                        \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        run_model(k, g, flags, seed, MODEL_OPS);                                                   \
        run_model(k, g, flags, seed * 7919u + 1, MODEL_OPS);                                       \
    }

MODEL_TEST(test_model_bump_random_ops_match_model, K_BUMP, G_ADJACENT, 0, 11)
MODEL_TEST(test_model_bump_scattered_growth, K_BUMP, G_SCATTERED, 0, 12)
MODEL_TEST(test_model_list_random_ops_match_model, K_LIST, G_NONE, 0, 21)
MODEL_TEST(test_model_list_adjacent_growth, K_LIST, G_ADJACENT, 0, 22)
MODEL_TEST(test_model_list_scattered_growth, K_LIST, G_SCATTERED, 0, 23)
MODEL_TEST(test_model_list_debug_layer, K_LIST, G_ADJACENT, MM_HEAP_DEBUG, 24)
MODEL_TEST(test_model_fixed_random_ops_match_model, K_FIXED, G_NONE, 0, 31)
MODEL_TEST(test_model_fixed_scattered_growth, K_FIXED, G_SCATTERED, 0, 32)
MODEL_TEST(test_model_fixed_debug_layer, K_FIXED, G_ADJACENT, MM_HEAP_DEBUG, 33)
MODEL_TEST(test_model_tlsf_random_ops_match_model, K_TLSF, G_NONE, 0, 41)
MODEL_TEST(test_model_tlsf_adjacent_growth, K_TLSF, G_ADJACENT, 0, 42)
MODEL_TEST(test_model_tlsf_scattered_growth, K_TLSF, G_SCATTERED, 0, 43)
MODEL_TEST(test_model_tlsf_debug_layer, K_TLSF, G_SCATTERED, MM_HEAP_DEBUG, 44)
MODEL_TEST(test_model_bump_debug_layer, K_BUMP, G_ADJACENT, MM_HEAP_DEBUG, 45)

int main(void)
{
    arena = aligned_alloc(4096, ARENA);
    if (!arena)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_bump_random_ops_match_model),
        cmocka_unit_test(test_model_bump_scattered_growth),
        cmocka_unit_test(test_model_bump_debug_layer),
        cmocka_unit_test(test_model_list_random_ops_match_model),
        cmocka_unit_test(test_model_list_adjacent_growth),
        cmocka_unit_test(test_model_list_scattered_growth),
        cmocka_unit_test(test_model_list_debug_layer),
        cmocka_unit_test(test_model_fixed_random_ops_match_model),
        cmocka_unit_test(test_model_fixed_scattered_growth),
        cmocka_unit_test(test_model_fixed_debug_layer),
        cmocka_unit_test(test_model_tlsf_random_ops_match_model),
        cmocka_unit_test(test_model_tlsf_adjacent_growth),
        cmocka_unit_test(test_model_tlsf_scattered_growth),
        cmocka_unit_test(test_model_tlsf_debug_layer),
    };
    int r = cmocka_run_group_tests_name("heap_model", tests, NULL, NULL);
    free(arena);
    return r;
}
