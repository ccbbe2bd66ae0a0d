/* Tests for mm/memmap.h: normalising nasty boot memory maps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mm/memmap.h"

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define U MM_REGION_USABLE
#define R MM_REGION_RESERVED

static struct mm_region out[64];
static size_t count;
static struct mm_memmap_stats stats;

static enum mm_status norm(const struct mm_region *in, size_t n, const struct mm_region *res,
                           size_t nres)
{
    memset(out, 0xa5, sizeof(out));
    return mm_memmap_normalise(in, n, res, nres, out, N(out), &count, &stats);
}

static void expect(size_t i, uint64_t base, uint64_t length, enum mm_region_type type)
{
    assert_true(i < count);
    assert_int_equal(out[i].base, base);
    assert_int_equal(out[i].length, length);
    assert_int_equal(out[i].type, type);
}

static void test_memmap_sorts_unsorted_input(void **state)
{
    (void)state;
    const struct mm_region in[] = {
        {MiB(16), MiB(16), U},
        {0, KiB(64), R},
        {MiB(1), MiB(4), U},
    };

    assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
    assert_int_equal(count, 3);
    expect(0, 0, KiB(64), R);
    expect(1, MiB(1), MiB(4), U);
    expect(2, MiB(16), MiB(16), U);
    assert_int_equal(stats.usable_bytes, MiB(20));
    assert_int_equal(stats.count, 3);
}

static void test_memmap_merges_adjacent_and_overlapping_same_type(void **state)
{
    (void)state;
    const struct mm_region in[] = {
        {MiB(2), MiB(2), U},  {MiB(1), MiB(1), U},  {MiB(3), MiB(3), U},
        {MiB(10), MiB(1), R}, {MiB(11), MiB(1), R},
    };

    assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
    assert_int_equal(count, 2);
    expect(0, MiB(1), MiB(5), U);
    expect(1, MiB(10), MiB(2), R);
    assert_int_equal(stats.usable_bytes, MiB(5));
}

static void test_memmap_reserved_inside_usable_splits_it(void **state)
{
    (void)state;
    const struct mm_region in[] = {{MiB(4), MiB(1), R}, {0, MiB(8), U}};

    assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
    assert_int_equal(count, 3);
    expect(0, 0, MiB(4), U);
    expect(1, MiB(4), MiB(1), R);
    expect(2, MiB(5), MiB(3), U);
}

static void test_memmap_any_non_usable_type_wins_over_usable(void **state)
{
    (void)state;
    for (unsigned t = MM_REGION_BOOTLOADER_RECLAIMABLE; t < MM_REGION_TYPE_COUNT; t++) {
        const struct mm_region in[] = {{0, MiB(2), U}, {MiB(1), MiB(2), (enum mm_region_type)t}};

        assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
        assert_int_equal(count, 2);
        expect(0, 0, MiB(1), U);
        expect(1, MiB(1), MiB(2), (enum mm_region_type)t);
    }
}

static void test_memmap_ranking_among_non_usable_types(void **state)
{
    (void)state;
    /* Overlapping pairs: the documented stronger type must take the overlap either way round. */
    const enum mm_region_type order[] = {
        MM_REGION_BOOTLOADER_RECLAIMABLE,
        MM_REGION_MODULES,
        MM_REGION_KERNEL,
        MM_REGION_FRAME_METADATA,
        MM_REGION_ACPI_RECLAIMABLE,
        MM_REGION_ACPI_NVS,
        MM_REGION_RESERVED,
        MM_REGION_BAD,
    };

    for (size_t w = 1; w < N(order); w++) {
        const struct mm_region in[] = {
            {MiB(8), MiB(8), U},
            {0, MiB(2), order[w]},
            {MiB(1), MiB(2), order[w - 1]},
        };
        const struct mm_region rev[] = {
            {MiB(1), MiB(2), order[w - 1]},
            {0, MiB(2), order[w]},
            {MiB(8), MiB(8), U},
        };

        assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
        expect(0, 0, MiB(2), order[w]);
        expect(1, MiB(2), MiB(1), order[w - 1]);
        assert_int_equal(norm(rev, N(rev), NULL, 0), MM_OK);
        expect(0, 0, MiB(2), order[w]);
        expect(1, MiB(2), MiB(1), order[w - 1]);
    }
}

static void test_memmap_bad_inside_acpi_nvs_inside_usable(void **state)
{
    (void)state;
    const struct mm_region in[] = {
        {0, MiB(16), U},
        {MiB(2), MiB(4), MM_REGION_ACPI_NVS},
        {MiB(3), MiB(1), MM_REGION_BAD},
    };

    assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
    assert_int_equal(count, 5);
    expect(0, 0, MiB(2), U);
    expect(1, MiB(2), MiB(1), MM_REGION_ACPI_NVS);
    expect(2, MiB(3), MiB(1), MM_REGION_BAD);
    expect(3, MiB(4), MiB(2), MM_REGION_ACPI_NVS);
    expect(4, MiB(6), MiB(10), U);
}

static void test_memmap_drops_zero_length_regions(void **state)
{
    (void)state;
    const struct mm_region in[] = {
        {MiB(1), 0, R},
        {MiB(2), MiB(2), U},
        {MiB(3), 0, MM_REGION_BAD},
        {0, 0, U},
    };

    assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
    assert_int_equal(count, 1);
    expect(0, MiB(2), MiB(2), U);
}

static void test_memmap_wrapping_length_is_an_error(void **state)
{
    (void)state;
    const struct mm_region in[] = {{0, MiB(2), U}, {GiB(4), UINT64_MAX, R}};
    const struct mm_region ends_at_top[] = {{0, MiB(2), U}, {UINT64_MAX - 0xfff, 0x1000, R}};
    const struct mm_region ends_below_top[] = {{0, MiB(2), U}, {UINT64_MAX - 0xfff, 0xfff, R}};
    const struct mm_region res[] = {{UINT64_MAX, 2, R}};

    assert_int_equal(norm(in, N(in), NULL, 0), MM_ERR_WRAP);
    assert_int_equal(count, 0);
    assert_int_equal(norm(ends_at_top, N(ends_at_top), NULL, 0), MM_ERR_WRAP);
    assert_int_equal(norm(ends_below_top, N(ends_below_top), NULL, 0), MM_OK);
    expect(1, UINT64_MAX - 0xfff, 0xfff, R);
    assert_int_equal(norm(in, 1, res, 1), MM_ERR_WRAP);
}

static void test_memmap_no_usable_memory_is_an_error(void **state)
{
    (void)state;
    const struct mm_region none[] = {{0, MiB(2), R}, {MiB(4), MiB(2), MM_REGION_ACPI_NVS}};
    const struct mm_region sliver[] = {{0x1001, 0xffe, U}}; /* no whole page */
    const struct mm_region covered[] = {{MiB(1), MiB(1), U}};
    const struct mm_region res[] = {{0, MiB(4), R}};

    assert_int_equal(norm(none, N(none), NULL, 0), MM_ERR_NO_USABLE);
    assert_int_equal(norm(sliver, N(sliver), NULL, 0), MM_ERR_NO_USABLE);
    assert_int_equal(norm(covered, N(covered), res, N(res)), MM_ERR_NO_USABLE);
    assert_int_equal(norm(NULL, 0, NULL, 0), MM_ERR_NO_USABLE);
    assert_int_equal(count, 0);
}

static void test_memmap_reserve_ranges_split_and_appear_typed(void **state)
{
    (void)state;
    const struct mm_region in[] = {{MiB(1), MiB(63), U}};
    const struct mm_region res[] = {
        {MiB(2), MiB(2), MM_REGION_KERNEL},
        {MiB(8), KiB(16), MM_REGION_BOOTLOADER_RECLAIMABLE},
        {MiB(16), MiB(4), MM_REGION_MODULES},
    };

    assert_int_equal(norm(in, N(in), res, N(res)), MM_OK);
    assert_int_equal(count, 7);
    expect(0, MiB(1), MiB(1), U);
    expect(1, MiB(2), MiB(2), MM_REGION_KERNEL);
    expect(2, MiB(4), MiB(4), U);
    expect(3, MiB(8), KiB(16), MM_REGION_BOOTLOADER_RECLAIMABLE);
    expect(4, MiB(8) + KiB(16), MiB(8) - KiB(16), U);
    expect(5, MiB(16), MiB(4), MM_REGION_MODULES);
    expect(6, MiB(20), MiB(44), U);
    assert_int_equal(stats.usable_bytes, MiB(63) - MiB(2) - KiB(16) - MiB(4));
}

static void test_memmap_first_mib_reserve_removes_low_memory(void **state)
{
    (void)state;
    /* QEMU-like e820: low 639 KiB usable, BIOS area reserved, the rest from 1 MiB. */
    const struct mm_region in[] = {
        {MiB(1), MiB(127) - KiB(128), U},
        {0, 0x9fc00, U},
        {0x9fc00, 0x400, R},
        {0xf0000, 0x10000, R},
        {MiB(128) - KiB(128), KiB(128), R},
        {0xfffc0000, 0x40000, R},
    };
    const struct mm_region res[] = {{0, MiB(1), R}};

    assert_int_equal(norm(in, N(in), res, N(res)), MM_OK);
    assert_int_equal(count, 4);
    expect(0, 0, MiB(1), R);
    expect(1, MiB(1), MiB(127) - KiB(128), U);
    expect(2, MiB(128) - KiB(128), KiB(128), R);
    expect(3, 0xfffc0000, 0x40000, R);
}

static void test_memmap_clips_usable_to_whole_pages(void **state)
{
    (void)state;
    const struct mm_region in[] = {
        {0x1800, 0x3000, U},  /* [0x1800, 0x4800) -> [0x2000, 0x4000) */
        {0x10000, 0x1000, U}, /* already whole */
        {0x11000, 0x800, R},  /* the page it touches is not usable */
        {0x11800, 0x2800, U}, /* [0x11800, 0x14000) -> [0x12000, 0x14000) */
        {0x20000, 0x1ff, U},  /* dropped: no whole page */
    };

    assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
    assert_int_equal(count, 4);
    expect(0, 0x2000, 0x2000, U);
    expect(1, 0x10000, 0x1000, U);
    expect(2, 0x11000, 0x800, R);
    expect(3, 0x12000, 0x2000, U);
    for (size_t i = 0; i < count; i++)
        if (out[i].type == U)
            assert_true(out[i].base % 4096 == 0 && out[i].length % 4096 == 0);
}

static void test_memmap_output_too_small_is_an_error(void **state)
{
    (void)state;
    const struct mm_region in[] = {{0, MiB(8), U}, {MiB(4), MiB(1), R}};
    struct mm_region small[3];
    size_t n = 99;

    assert_int_equal(mm_memmap_normalise(in, N(in), NULL, 0, small, 2, &n, NULL), MM_ERR_NO_SPACE);
    assert_int_equal(n, 0);
    assert_int_equal(mm_memmap_normalise(in, N(in), NULL, 0, small, 0, &n, NULL), MM_ERR_NO_SPACE);
    assert_int_equal(mm_memmap_normalise(in, N(in), NULL, 0, small, 3, &n, NULL), MM_OK);
    assert_int_equal(n, 3);
}

static void test_memmap_unknown_type_counts_as_reserved(void **state)
{
    (void)state;
    const struct mm_region in[] = {{0, MiB(4), U}, {MiB(1), MiB(1), (enum mm_region_type)42}};

    assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
    expect(1, MiB(1), MiB(1), R);
}

static void test_memmap_rejects_invalid_arguments(void **state)
{
    (void)state;
    const struct mm_region in[] = {{0, MiB(4), U}};
    const struct mm_region usable_res[] = {{0, MiB(1), U}};
    size_t n;

    assert_int_equal(mm_memmap_normalise(NULL, 1, NULL, 0, out, N(out), &n, NULL), MM_ERR_INVALID);
    assert_int_equal(mm_memmap_normalise(in, 1, NULL, 1, out, N(out), &n, NULL), MM_ERR_INVALID);
    assert_int_equal(mm_memmap_normalise(in, 1, NULL, 0, NULL, 4, &n, NULL), MM_ERR_INVALID);
    assert_int_equal(mm_memmap_normalise(in, 1, NULL, 0, out, N(out), NULL, NULL), MM_ERR_INVALID);
    assert_int_equal(norm(in, 1, usable_res, 1), MM_ERR_INVALID);
}

static void test_memmap_normalised_map_is_a_fixed_point(void **state)
{
    (void)state;
    /* Normalising an already normalised map returns it unchanged. */
    const struct mm_region in[] = {
        {0, MiB(1), R},
        {MiB(1), MiB(3), U},
        {MiB(4), MiB(1), MM_REGION_KERNEL},
        {MiB(5), MiB(59), U},
        {GiB(3), MiB(1), MM_REGION_ACPI_NVS},
    };

    assert_int_equal(norm(in, N(in), NULL, 0), MM_OK);
    assert_int_equal(count, N(in));
    for (size_t i = 0; i < N(in); i++)
        expect(i, in[i].base, in[i].length, in[i].type);
    assert_int_equal(mm_memmap_usable_bytes(out, count), MiB(62));
}

static void test_memmap_strings_are_never_null(void **state)
{
    (void)state;
    for (int s = 0; s <= MM_STATUS_COUNT; s++)
        assert_non_null(mm_status_str((enum mm_status)s));
    for (int t = 0; t <= MM_REGION_TYPE_COUNT; t++)
        assert_non_null(mm_region_type_str((enum mm_region_type)t));
    assert_string_equal(mm_status_str(MM_ERR_WRAP),
                        "region wraps past the end of the address space");
    assert_string_equal(mm_status_str((enum mm_status)1000), "unknown status");
    /* One enum for the whole library, heaps included: every value has its own reason. */
    for (int a = MM_OK; a < MM_STATUS_COUNT; a++) {
        assert_string_not_equal(mm_status_str((enum mm_status)a), "unknown status");
        for (int b = a + 1; b < MM_STATUS_COUNT; b++)
            assert_string_not_equal(mm_status_str((enum mm_status)a),
                                    mm_status_str((enum mm_status)b));
    }
    assert_string_equal(mm_status_str(MM_ERR_HEAP_CORRUPT), "heap structure corrupt");
    assert_string_equal(mm_region_type_str(MM_REGION_ACPI_NVS), "acpi-nvs");
    assert_string_equal(mm_region_type_str((enum mm_region_type)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memmap_sorts_unsorted_input),
        cmocka_unit_test(test_memmap_merges_adjacent_and_overlapping_same_type),
        cmocka_unit_test(test_memmap_reserved_inside_usable_splits_it),
        cmocka_unit_test(test_memmap_any_non_usable_type_wins_over_usable),
        cmocka_unit_test(test_memmap_ranking_among_non_usable_types),
        cmocka_unit_test(test_memmap_bad_inside_acpi_nvs_inside_usable),
        cmocka_unit_test(test_memmap_drops_zero_length_regions),
        cmocka_unit_test(test_memmap_wrapping_length_is_an_error),
        cmocka_unit_test(test_memmap_no_usable_memory_is_an_error),
        cmocka_unit_test(test_memmap_reserve_ranges_split_and_appear_typed),
        cmocka_unit_test(test_memmap_first_mib_reserve_removes_low_memory),
        cmocka_unit_test(test_memmap_clips_usable_to_whole_pages),
        cmocka_unit_test(test_memmap_output_too_small_is_an_error),
        cmocka_unit_test(test_memmap_unknown_type_counts_as_reserved),
        cmocka_unit_test(test_memmap_rejects_invalid_arguments),
        cmocka_unit_test(test_memmap_normalised_map_is_a_fixed_point),
        cmocka_unit_test(test_memmap_strings_are_never_null),
    };
    return cmocka_run_group_tests_name("mm_memmap", tests, NULL, NULL);
}
