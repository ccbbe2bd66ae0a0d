/*
 * test_heap_fixed.c - the fixed-size-block heap.
 *
 * The contract every heap shares comes from heap_contract.h (COMMON_TESTS); the tests
 * below are specific to this allocator.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mm/heap_fixed.h"
#define CONTRACT_HEAP struct mm_fixed_heap
#define CONTRACT_INIT mm_fixed_init
#define CONTRACT_KEEPS_BLOCKS false
#include "heap_contract.h"

/* ---- fixed-specific ---- */

static void test_fixed_freed_block_serves_its_class_again(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    void *a = mm_heap_alloc(h, 24, 0); /* class 32 */
    assert_int_equal(mm_heap_usable_size(h, a), 32);
    mm_heap_free(h, a);
    assert_ptr_equal(mm_heap_alloc(h, 30, 0), a);
    void *b = mm_heap_alloc(h, 1, 0);
    assert_int_equal(mm_heap_usable_size(h, b), 8);
    void *c = mm_heap_alloc(h, 2048, 0);
    assert_int_equal(mm_heap_usable_size(h, c), 2048);
    assert_check_ok(h);
}

static void test_fixed_large_and_aligned_go_to_fallback(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    void *big = mm_heap_alloc(h, 5000, 0);
    assert_non_null(big);
    assert_true(mm_heap_usable_size(h, big) >= 5000);
    assert_true(mm_heap_usable_size(h, big) < 8192); /* no power-of-two rounding there */
    void *al = mm_heap_alloc(h, 64, 256);
    assert_int_equal((uintptr_t)al % 256, 0);
    mm_heap_free(h, big);
    mm_heap_free(h, al);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 0);
    assert_int_equal(st.bytes_in_use, 0);
    assert_check_ok(h);
}

static void test_fixed_class_running_dry_takes_from_fallback(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, 8192);
    int n = 0;
    void *p[400];
    while (n < 400 && (p[n] = mm_heap_alloc(h, 64, 0)) != NULL)
        n++;
    assert_true(n > 40 && n < 400); /* several, until the fallback is exhausted */
    for (int i = 0; i < n; i++)
        mm_heap_free(h, p[i]);
    assert_check_ok(h);
    /* The class keeps its blocks: a 64-byte request is served without the fallback. */
    assert_non_null(mm_heap_alloc(h, 64, 0));
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 1);
    assert_int_equal(st.bytes_in_use, 64);
}

/* p - 16 of a class block is the fallback heap's own pointer to it: freeing it must be
 * refused and reported, not hand the live class block back to the fallback. */
static void test_fixed_free_of_class_block_inside_is_reported(void **state)
{
    (void)state;
    struct mm_heap_config c = cfg_of(0, false);
    struct mm_heap *h = heap_init(&c, REGION);
    unsigned char *p = mm_heap_alloc(h, 64, 0);
    assert_non_null(p);
    mm_heap_free(h, p - 16);
    assert_int_equal(nreports, 1);
    assert_check_ok(h);
    unsigned char *q = mm_heap_alloc(h, 80, 0);
    assert_ptr_not_equal(q, p); /* p is still live: never handed out again */
    mm_heap_free(h, q);
    mm_heap_free(h, p);
    assert_int_equal(nreports, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        COMMON_TESTS,
        cmocka_unit_test_setup_teardown(test_fixed_freed_block_serves_its_class_again, setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_fixed_large_and_aligned_go_to_fallback, setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_fixed_class_running_dry_takes_from_fallback, setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_fixed_free_of_class_block_inside_is_reported, setup_mem, teardown_mem),
    };
    return cmocka_run_group_tests_name("heap_fixed", tests, NULL, NULL);
}
