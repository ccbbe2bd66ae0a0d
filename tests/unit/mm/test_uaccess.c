/* test_uaccess.c - mm_user_range_check: the ranges a syscall may hand the kernel. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mm/uaccess.h>

#define TOP UINT64_C(0x00007ffffffff000)

static void test_ordinary_ranges(void **state)
{
    (void)state;
    assert_int_equal(mm_user_range_check(0x400000, 4096, TOP), MM_OK);
    assert_int_equal(mm_user_range_check(0, 1, TOP), MM_OK);
    /* The last byte below the end, and a range ending exactly at it. */
    assert_int_equal(mm_user_range_check(TOP - 1, 1, TOP), MM_OK);
    assert_int_equal(mm_user_range_check(TOP - 4096, 4096, TOP), MM_OK);
    assert_int_equal(mm_user_range_check(0, TOP, TOP), MM_OK);
}

static void test_empty_range_touches_nothing(void **state)
{
    (void)state;
    /* write(fd, anything, 0) reads nothing: even a kernel address is fine. */
    assert_int_equal(mm_user_range_check(UINT64_C(0xffffffff80000000), 0, TOP), MM_OK);
    assert_int_equal(mm_user_range_check(UINT64_MAX, 0, TOP), MM_OK);
}

static void test_kernel_addresses(void **state)
{
    (void)state;
    assert_int_equal(mm_user_range_check(UINT64_C(0xffffffff80000000), 1, TOP),
                     MM_ERR_NON_CANONICAL);
    assert_int_equal(mm_user_range_check(UINT64_C(0xffff800000000000), 8, TOP),
                     MM_ERR_NON_CANONICAL);
    assert_int_equal(mm_user_range_check(TOP, 1, TOP), MM_ERR_NON_CANONICAL);
    /* The non-canonical hole. */
    assert_int_equal(mm_user_range_check(UINT64_C(0x0000800000000000), 1, MM_USER_HALF_END),
                     MM_ERR_NON_CANONICAL);
}

static void test_straddling_the_boundary(void **state)
{
    (void)state;
    assert_int_equal(mm_user_range_check(TOP - 1, 2, TOP), MM_ERR_NON_CANONICAL);
    assert_int_equal(mm_user_range_check(TOP - 4096, 4097, TOP), MM_ERR_NON_CANONICAL);
    assert_int_equal(mm_user_range_check(0x1000, TOP, TOP), MM_ERR_NON_CANONICAL);
    /* A length so large that addr + len lands back in the user half only by wrapping. */
    assert_int_equal(mm_user_range_check(0x1000, UINT64_MAX - 0xfff, TOP), MM_ERR_WRAP);
}

static void test_wrapping(void **state)
{
    (void)state;
    assert_int_equal(mm_user_range_check(0x400000, UINT64_MAX, TOP), MM_ERR_WRAP);
    assert_int_equal(mm_user_range_check(UINT64_MAX, 2, TOP), MM_ERR_WRAP);
    /* Ending exactly at 2^64 counts as wrapping (the end is not representable). */
    assert_int_equal(mm_user_range_check(UINT64_MAX, 1, TOP), MM_ERR_WRAP);
    assert_int_equal(mm_user_range_check(UINT64_MAX - 1, 1, TOP), MM_ERR_NON_CANONICAL);
}

static void test_bad_limit(void **state)
{
    (void)state;
    assert_int_equal(mm_user_range_check(0x1000, 1, 0), MM_ERR_INVALID);
    assert_int_equal(mm_user_range_check(0x1000, 1, MM_USER_HALF_END + 1), MM_ERR_INVALID);
    assert_int_equal(mm_user_range_check(0x1000, 1, MM_USER_HALF_END), MM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary_ranges),  cmocka_unit_test(test_empty_range_touches_nothing),
        cmocka_unit_test(test_kernel_addresses), cmocka_unit_test(test_straddling_the_boundary),
        cmocka_unit_test(test_wrapping),         cmocka_unit_test(test_bad_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
