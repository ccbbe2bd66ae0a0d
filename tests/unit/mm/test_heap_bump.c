/*
 * test_heap_bump.c - the bump heap.
 *
 * The contract every heap shares comes from heap_contract.h (COMMON_TESTS); the tests
 * below are specific to this allocator.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mm/heap_bump.h"
#define CONTRACT_HEAP struct mm_bump_heap
#define CONTRACT_INIT mm_bump_init
#define CONTRACT_KEEPS_BLOCKS true
#include "heap_contract.h"

/* ---- bump-specific ---- */

static void test_bump_free_only_counts_until_the_last_block(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    unsigned char *a = mm_heap_alloc(h, 100, 0), *b = mm_heap_alloc(h, 100, 0);
    mm_heap_free(h, a);
    unsigned char *c = mm_heap_alloc(h, 100, 0);
    assert_true(c > b); /* no reuse while something is live */
    mm_heap_free(h, b);
    mm_heap_free(h, c); /* last one: the heap resets */
    assert_ptr_equal(mm_heap_alloc(h, 100, 0), a);
}

static void test_bump_reset_frees_everything(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    void *a = mm_heap_alloc(h, 1000, 0);
    (void)mm_heap_alloc(h, 1000, 0);
    mm_bump_reset(&H);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.live_blocks, 0);
    assert_int_equal(st.bytes_in_use, 0);
    assert_ptr_equal(mm_heap_alloc(h, 8, 0), a);
}

static void test_bump_realloc_extends_newest_block_in_place(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    void *a = mm_heap_alloc(h, 100, 0);
    assert_ptr_equal(mm_heap_realloc(h, a, 5000, 0), a);
    void *b = mm_heap_alloc(h, 10, 0);
    void *a2 = mm_heap_realloc(h, a, 6000, 0); /* no longer the newest: moves */
    assert_ptr_not_equal(a2, a);
    assert_true((unsigned char *)a2 > (unsigned char *)b);
    assert_check_ok(h);
}

static void test_bump_runs_out_without_grow(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, 1024);
    int n = 0;
    while (mm_heap_alloc(h, 100, 0))
        n++;
    assert_int_equal(n, 1024 / 128);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.failed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        COMMON_TESTS,
        cmocka_unit_test_setup_teardown(test_bump_free_only_counts_until_the_last_block, setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_bump_reset_frees_everything, setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_bump_realloc_extends_newest_block_in_place, setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_bump_runs_out_without_grow, setup_mem, teardown_mem),
    };
    return cmocka_run_group_tests_name("heap_bump", tests, NULL, NULL);
}
