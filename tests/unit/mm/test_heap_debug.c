/*
 * test_heap_debug.c - the MM_HEAP_DEBUG layer on every heap: fresh memory is filled, freed
 * memory poisoned, canaries on both sides are checked on free, and double and invalid frees
 * reach the report hook with a precise message while the heap stays consistent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mm/heap_bump.h"
#include "mm/heap_fixed.h"
#include "mm/heap_list.h"
#include "mm/heap_tlsf.h"

#define REGION (128u << 10)
enum kind { K_BUMP, K_LIST, K_FIXED, K_TLSF, K_COUNT };

static union {
    struct mm_bump_heap b;
    struct mm_list_heap l;
    struct mm_fixed_heap f;
    struct mm_tlsf_heap t;
} U;
static unsigned char *mem;
static int nreports;
static char what_log[16][96];
static void *last_ptr;

static void t_report(void *ctx, const char *what, void *ptr)
{
    (void)ctx;
    if (nreports < 16)
        strncpy(what_log[nreports], what, sizeof what_log[0] - 1);
    nreports++;
    last_ptr = ptr;
}

static bool reported(const char *needle)
{
    for (int i = 0; i < nreports && i < 16; i++)
        if (strstr(what_log[i], needle))
            return true;
    return false;
}

static struct mm_heap *make(enum kind k)
{
    struct mm_heap_config c = {.flags = MM_HEAP_DEBUG, .report = t_report};
    nreports = 0;
    memset(what_log, 0, sizeof what_log);
    switch (k) {
    case K_BUMP:
        assert_int_equal(mm_bump_init(&U.b, mem, REGION, &c), MM_OK);
        return &U.b.heap;
    case K_LIST:
        assert_int_equal(mm_list_init(&U.l, mem, REGION, &c), MM_OK);
        return &U.l.heap;
    case K_FIXED:
        assert_int_equal(mm_fixed_init(&U.f, mem, REGION, &c), MM_OK);
        return &U.f.heap;
    default:
        assert_int_equal(mm_tlsf_init(&U.t, mem, REGION, &c), MM_OK);
        return &U.t.heap;
    }
}

static void assert_check_ok(struct mm_heap *h)
{
    const char *why = NULL;
    if (mm_heap_check(h, &why) != MM_OK)
        fail_msg("%s: check failed: %s", mm_heap_name(h), why);
}

static void test_debug_new_memory_is_filled_and_freed_memory_poisoned(void **state)
{
    (void)state;
    for (enum kind k = 0; k < K_COUNT; k++) {
        struct mm_heap *h = make(k);
        void *keep = mm_heap_alloc(h, 8, 0); /* stops the bump heap from resetting */
        unsigned char *p = mm_heap_alloc(h, 100, 0);
        assert_non_null(p);
        for (int i = 0; i < 100; i++)
            assert_int_equal(p[i], MM_HEAP_FILL_NEW);
        assert_int_equal(mm_heap_usable_size(h, p), 100);
        memset(p, 0x11, 100);
        mm_heap_free(h, p);
        /* Past the allocator's own links (at most the first 16 bytes of a free block, which
         * the debug header keeps away from the caller's bytes) all of it reads as poison. */
        for (int i = 0; i < 100; i++)
            assert_int_equal(p[i], MM_HEAP_FILL_FREED);
        assert_int_equal(nreports, 0);
        assert_check_ok(h);
        mm_heap_free(h, keep);
    }
}

static void test_debug_canary_overwrite_detected_on_free(void **state)
{
    (void)state;
    for (enum kind k = 0; k < K_COUNT; k++) {
        struct mm_heap *h = make(k);
        unsigned char *p = mm_heap_alloc(h, 40, 0);
        p[40] = 0; /* one byte past the end */
        mm_heap_free(h, p);
        assert_int_equal(nreports, 1);
        assert_true(reported("canary after block"));
        assert_ptr_equal(last_ptr, p);

        unsigned char *q = mm_heap_alloc(h, 40, 0);
        q[-1] = 0; /* one byte before the start */
        mm_heap_free(h, q);
        assert_int_equal(nreports, 2);
        assert_true(reported("canary before block"));
        assert_check_ok(h); /* the heap itself is intact: the canaries took the hit */
    }
}

/* An overflow from the block below reaches the stored size before the magic: a corrupt size
 * must be reported, never used to scan or poison memory past the block. */
static void test_debug_corrupt_size_word_reported_not_trusted(void **state)
{
    (void)state;
    for (enum kind k = 0; k < K_COUNT; k++) {
        struct mm_heap *h = make(k);
        unsigned char *p = mm_heap_alloc(h, 64, 0);
        assert_non_null(p);
        uint64_t huge = (uint64_t)1 << 40;
        memcpy(p - 24, &huge, sizeof huge);
        assert_int_equal(mm_heap_usable_size(h, p), 0);
        mm_heap_free(h, p);
        assert_true(reported("block header corrupt (size)"));
        uint64_t big = 4096; /* plausible, but larger than the block */
        unsigned char *q = mm_heap_alloc(h, 64, 0);
        memcpy(q - 24, &big, sizeof big);
        nreports = 0;
        mm_heap_free(h, q);
        assert_true(reported("block header corrupt (size)"));
    }
}

static void test_debug_double_free_reported_through_hook(void **state)
{
    (void)state;
    for (enum kind k = 0; k < K_COUNT; k++) {
        struct mm_heap *h = make(k);
        void *keep = mm_heap_alloc(h, 8, 0);
        void *p = mm_heap_alloc(h, 64, 0);
        mm_heap_free(h, p);
        mm_heap_free(h, p);
        assert_int_equal(nreports, 1);
        assert_true(reported("double free"));
        assert_ptr_equal(last_ptr, p);
        assert_check_ok(h);
        struct mm_heap_stats st;
        mm_heap_get_stats(h, &st);
        assert_int_equal(st.frees, 1);
        assert_int_equal(st.reports, 1);
        mm_heap_free(h, keep);
    }
}

static void test_debug_invalid_free_reported_through_hook(void **state)
{
    (void)state;
    static unsigned char outside[256];
    for (enum kind k = 0; k < K_COUNT; k++) {
        struct mm_heap *h = make(k);
        unsigned char *p = mm_heap_alloc(h, 200, 0);
        mm_heap_free(h, outside + 64);
        assert_int_equal(nreports, 1);
        mm_heap_free(h, p + 4); /* misaligned */
        assert_int_equal(nreports, 2);
        mm_heap_free(h, p + 64); /* inside a live block */
        assert_int_equal(nreports, 3);
        assert_true(reported("invalid free"));
        assert_null(mm_heap_realloc(h, p + 64, 10, 0));
        assert_int_equal(nreports, 4);
        /* The real block is unharmed and still frees cleanly. */
        for (int i = 0; i < 200; i++)
            assert_int_equal(p[i], MM_HEAP_FILL_NEW);
        mm_heap_free(h, p);
        assert_int_equal(nreports, 4);
        assert_check_ok(h);
    }
}

static void test_debug_realloc_keeps_contents_and_alignment(void **state)
{
    (void)state;
    for (enum kind k = 0; k < K_COUNT; k++) {
        struct mm_heap *h = make(k);
        unsigned char *p = mm_heap_alloc(h, 10, 256);
        assert_int_equal((uintptr_t)p % 256, 0);
        memcpy(p, "0123456789", 10);
        p = mm_heap_realloc(h, p, 3000, 256);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 256, 0);
        assert_memory_equal(p, "0123456789", 10);
        assert_int_equal(p[10], MM_HEAP_FILL_NEW);
        mm_heap_free(h, p);
        assert_int_equal(nreports, 0);
        assert_check_ok(h);
    }
}

int main(void)
{
    mem = aligned_alloc(4096, REGION);
    if (!mem)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debug_new_memory_is_filled_and_freed_memory_poisoned),
        cmocka_unit_test(test_debug_canary_overwrite_detected_on_free),
        cmocka_unit_test(test_debug_corrupt_size_word_reported_not_trusted),
        cmocka_unit_test(test_debug_double_free_reported_through_hook),
        cmocka_unit_test(test_debug_invalid_free_reported_through_hook),
        cmocka_unit_test(test_debug_realloc_keeps_contents_and_alignment),
    };
    int r = cmocka_run_group_tests_name("heap_debug", tests, NULL, NULL);
    free(mem);
    return r;
}
