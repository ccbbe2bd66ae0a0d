/*
 * test_heap_list.c - the linked-list heap.
 *
 * The contract every heap shares comes from heap_contract.h (COMMON_TESTS); the tests
 * below are specific to this allocator.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mm/heap_list.h"
#define CONTRACT_HEAP struct mm_list_heap
#define CONTRACT_INIT mm_list_init
#define CONTRACT_KEEPS_BLOCKS false
#include "heap_contract.h"

/* ---- list-specific ---- */

static void test_list_free_merges_with_both_neighbours(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    void *p[200];
    for (int i = 0; i < 200; i++)
        assert_non_null(p[i] = mm_heap_alloc(h, 16 + (size_t)(i * 53) % 900, 0));
    for (int i = 1; i < 200; i += 2)
        mm_heap_free(h, p[i]);
    for (int i = 0; i < 200; i += 2)
        mm_heap_free(h, p[i]);
    assert_check_ok(h);
    struct mm_heap_stats st;
    mm_heap_get_stats(h, &st);
    assert_int_equal(st.bytes_free, st.region_bytes); /* one block again */
    void *all = mm_heap_alloc(h, st.region_bytes - 16, 0);
    assert_non_null(all);
    mm_heap_free(h, all);
}

static void test_list_alignment_padding_does_not_leak(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    struct mm_heap_stats s0, s1;
    mm_heap_get_stats(h, &s0);
    void *p[20];
    for (int i = 0; i < 20; i++) {
        assert_non_null(p[i] = mm_heap_alloc(h, 100, (size_t)32 << (i % 8)));
        assert_check_ok(h);
    }
    mm_heap_get_stats(h, &s1);
    /* The gaps in front of aligned blocks are still free memory... */
    size_t accounted = s1.bytes_free + s1.bytes_in_use;
    assert_true(accounted + 16 * s1.live_blocks <= s1.region_bytes);
    assert_true(accounted + 32 * s1.live_blocks >= s1.region_bytes); /* header + <=16 pad */
    for (int i = 0; i < 20; i++)
        mm_heap_free(h, p[i]);
    /* ...and every byte is back afterwards. */
    mm_heap_get_stats(h, &s1);
    assert_int_equal(s1.bytes_free, s0.bytes_free);
    assert_check_ok(h);
}

static void test_list_realloc_in_place(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    void *a = mm_heap_alloc(h, 500, 0), *b = mm_heap_alloc(h, 500, 0);
    void *c = mm_heap_alloc(h, 64, 0);
    mm_heap_free(h, b);
    assert_ptr_equal(mm_heap_realloc(h, a, 900, 0), a); /* grows into b's free space */
    assert_ptr_equal(mm_heap_realloc(h, a, 100, 0), a); /* shrinks, tail back to the list */
    assert_check_ok(h);
    void *d = mm_heap_alloc(h, 700, 0); /* the freed tail merged with the rest of b */
    assert_true((unsigned char *)d < (unsigned char *)c);
    mm_heap_free(h, a);
    mm_heap_free(h, c);
    mm_heap_free(h, d);
    assert_check_ok(h);
}

static void test_list_first_fit_takes_lowest_hole(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    void *a = mm_heap_alloc(h, 256, 0), *b = mm_heap_alloc(h, 256, 0);
    void *c = mm_heap_alloc(h, 256, 0), *d = mm_heap_alloc(h, 256, 0);
    mm_heap_free(h, c);
    mm_heap_free(h, a);
    assert_ptr_equal(mm_heap_alloc(h, 200, 0), a);
    (void)b;
    (void)d;
}

static void test_list_check_detects_a_smashed_header(void **state)
{
    (void)state;
    struct mm_heap *h = heap_init(NULL, REGION);
    unsigned char *a = mm_heap_alloc(h, 64, 0), *b = mm_heap_alloc(h, 64, 0);
    (void)b;
    const char *why = NULL;
    memset(a, 0x41, 64 + 16);
    assert_int_equal(mm_heap_check(h, &why), MM_ERR_HEAP_CORRUPT);
    assert_non_null(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        COMMON_TESTS,
        cmocka_unit_test_setup_teardown(test_list_free_merges_with_both_neighbours, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_list_alignment_padding_does_not_leak, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_list_realloc_in_place, setup_mem, teardown_mem),
        cmocka_unit_test_setup_teardown(test_list_first_fit_takes_lowest_hole, setup_mem,
                                        teardown_mem),
        cmocka_unit_test_setup_teardown(test_list_check_detects_a_smashed_header, setup_mem,
                                        teardown_mem),
    };
    return cmocka_run_group_tests_name("heap_list", tests, NULL, NULL);
}
