/* Tests for mm/addr.h: distinct address types, alignment, canonical form, table indices. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mm/addr.h"

/* _Generic picks by type: if the two structs were the same type (or a typedef of one
 * another), the selections below would be duplicates and the file would not compile; the
 * asserted values prove each maps to its own branch. */
#define ADDR_KIND(x)                                                                               \
    _Generic((x), struct mm_paddr : 1, struct mm_vaddr : 2, uint64_t : 3, default : 0)
_Static_assert(ADDR_KIND(mm_paddr(0)) == 1, "mm_paddr() yields struct mm_paddr");
_Static_assert(ADDR_KIND(mm_vaddr(0)) == 2, "mm_vaddr() yields struct mm_vaddr");
_Static_assert(ADDR_KIND(mm_paddr_u64(mm_paddr(0))) == 3, "accessor yields a plain integer");
_Static_assert(sizeof(struct mm_paddr) == 8 && sizeof(struct mm_vaddr) == 8,
               "wrappers cost nothing");

static void test_addr_types_are_distinct(void **state)
{
    (void)state;
    struct mm_paddr pa = mm_paddr(0x1000);
    struct mm_vaddr va = mm_vaddr(0x1000);

    assert_int_equal(ADDR_KIND(pa), 1);
    assert_int_equal(ADDR_KIND(va), 2);
    assert_int_not_equal(ADDR_KIND(pa), ADDR_KIND(va));
    assert_int_equal(mm_paddr_u64(pa), 0x1000);
    assert_int_equal(mm_vaddr_u64(va), 0x1000);
}

static void test_align_down_up_and_is_aligned(void **state)
{
    (void)state;
    assert_int_equal(mm_align_down(0x1fff, 0x1000), 0x1000);
    assert_int_equal(mm_align_down(0x2000, 0x1000), 0x2000);
    assert_int_equal(mm_align_up(0x1001, 0x1000), 0x2000);
    assert_int_equal(mm_align_up(0x1000, 0x1000), 0x1000);
    assert_int_equal(mm_align_up(0, 0x200000), 0);
    assert_true(mm_is_aligned(0x200000, 0x200000));
    assert_false(mm_is_aligned(0x201000, 0x200000));
    assert_true(mm_is_aligned(12345, 1));
    assert_int_equal(mm_paddr_align_up(mm_paddr(0x1234), 0x1000).v, 0x2000);
    assert_int_equal(mm_paddr_align_down(mm_paddr(0x1234), 0x1000).v, 0x1000);
    assert_int_equal(mm_vaddr_align_up(mm_vaddr(0x1234), 0x1000).v, 0x2000);
    assert_int_equal(mm_vaddr_align_down(mm_vaddr(0x1234), 0x1000).v, 0x1000);
    assert_true(mm_paddr_is_aligned(mm_paddr(0x40000000), MM_HUGE_1G_SIZE));
    assert_false(mm_vaddr_is_aligned(mm_vaddr(0x40001000), MM_HUGE_1G_SIZE));
}

static void test_align_up_wraps_and_checked_variant_detects_it(void **state)
{
    (void)state;
    uint64_t out = 77;
    struct mm_paddr pa = mm_paddr(5);
    struct mm_vaddr va = mm_vaddr(5);

    /* The unchecked form wraps as documented... */
    assert_int_equal(mm_align_up(UINT64_MAX, 0x1000), 0);
    /* ...and the checked one refuses. */
    assert_false(mm_align_up_checked(UINT64_MAX, 0x1000, &out));
    assert_int_equal(out, 77);
    assert_false(mm_align_up_checked(UINT64_MAX - 0xffe, 0x1000, &out));
    assert_true(mm_align_up_checked(UINT64_MAX - 0xfff, 0x1000, &out));
    assert_int_equal(out, UINT64_MAX - 0xfff);
    assert_false(mm_align_up_checked(10, 3, &out)); /* not a power of two */
    assert_false(mm_align_up_checked(10, 0, &out));
    assert_false(mm_paddr_align_up_checked(mm_paddr(UINT64_MAX), 0x1000, &pa));
    assert_int_equal(pa.v, 5);
    assert_true(mm_paddr_align_up_checked(mm_paddr(0x1001), 0x1000, &pa));
    assert_int_equal(pa.v, 0x2000);
    assert_false(mm_vaddr_align_up_checked(mm_vaddr(UINT64_MAX), 0x1000, &va));
    assert_true(mm_vaddr_align_up_checked(mm_vaddr(0x1), 0x200000, &va));
    assert_int_equal(va.v, 0x200000);
}

static void test_is_pow2(void **state)
{
    (void)state;
    assert_false(mm_is_pow2(0));
    assert_true(mm_is_pow2(1));
    assert_true(mm_is_pow2(UINT64_C(1) << 63));
    assert_false(mm_is_pow2(0x3000));
}

static void test_canonical_check_accepts_both_halves_only(void **state)
{
    (void)state;
    assert_true(mm_vaddr_is_canonical(mm_vaddr(0)));
    assert_true(mm_vaddr_is_canonical(mm_vaddr(0x00007fffffffffffULL)));
    assert_false(mm_vaddr_is_canonical(mm_vaddr(0x0000800000000000ULL)));
    assert_false(mm_vaddr_is_canonical(mm_vaddr(0xffff7fffffffffffULL)));
    assert_true(mm_vaddr_is_canonical(mm_vaddr(0xffff800000000000ULL)));
    assert_true(mm_vaddr_is_canonical(mm_vaddr(UINT64_MAX)));
    assert_false(mm_vaddr_is_canonical(mm_vaddr(0x0001000000000000ULL)));
}

static void test_canonicalisation_sign_extends_bit_47(void **state)
{
    (void)state;
    assert_int_equal(mm_vaddr_canonical(0x0000800000000000ULL).v, 0xffff800000000000ULL);
    assert_int_equal(mm_vaddr_canonical(0x00007fffffffffffULL).v, 0x00007fffffffffffULL);
    assert_int_equal(mm_vaddr_canonical(0x1234800000001000ULL).v, 0xffff800000001000ULL);
    assert_int_equal(mm_vaddr_canonical(0xffff000000001000ULL).v, 0x0000000000001000ULL);
    assert_true(mm_vaddr_is_canonical(mm_vaddr_canonical(0xdeadbeefcafef00dULL)));
}

static void test_page_table_indices_of_known_addresses(void **state)
{
    (void)state;
    /* 0xffffffff80000000: the -2 GiB kernel base: PML4 511, PDPT 510, PD 0, PT 0. */
    struct mm_vaddr k = mm_vaddr(0xffffffff80000000ULL);
    struct mm_vaddr v = mm_vaddr((UINT64_C(3) << 39) | (UINT64_C(5) << 30) | (UINT64_C(7) << 21) |
                                 (UINT64_C(9) << 12) | 0xabc);

    assert_int_equal(mm_pml4_index(k), 511);
    assert_int_equal(mm_pdpt_index(k), 510);
    assert_int_equal(mm_pd_index(k), 0);
    assert_int_equal(mm_pt_index(k), 0);
    assert_int_equal(mm_pml4_index(v), 3);
    assert_int_equal(mm_pdpt_index(v), 5);
    assert_int_equal(mm_pd_index(v), 7);
    assert_int_equal(mm_pt_index(v), 9);
    assert_int_equal(mm_page_offset(v), 0xabc);
    assert_int_equal(mm_pml4_index(mm_vaddr(0xffff800000000000ULL)), 256);
}

static void test_indices_round_trip_through_from_indices(void **state)
{
    (void)state;
    struct mm_vaddr v = mm_vaddr_from_indices(300, 1, 2, 3, 0x10);

    assert_int_equal(v.v, 0xffff960040403010ULL);
    assert_int_equal(mm_pml4_index(v), 300);
    assert_int_equal(mm_pdpt_index(v), 1);
    assert_int_equal(mm_pd_index(v), 2);
    assert_int_equal(mm_pt_index(v), 3);
    assert_int_equal(mm_page_offset(v), 0x10);
    assert_int_equal(mm_vaddr_from_indices(511, 510, 0, 0, 0).v, 0xffffffff80000000ULL);
}

static void test_pfn_and_add_helpers(void **state)
{
    (void)state;
    int x;

    assert_int_equal(mm_paddr_pfn(mm_paddr(0x5fff)), 5);
    assert_int_equal(mm_paddr_from_pfn(5).v, 0x5000);
    assert_int_equal(mm_paddr_add(mm_paddr(0x1000), 0x20).v, 0x1020);
    assert_int_equal(mm_vaddr_add(mm_vaddr(0x1000), 0x20).v, 0x1020);
    assert_true(mm_paddr_is_valid(mm_paddr(MM_PADDR_MAX)));
    assert_false(mm_paddr_is_valid(mm_paddr(MM_PADDR_MAX + 1)));
    assert_ptr_equal(mm_vaddr_ptr(mm_vaddr_from_ptr(&x)), &x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_types_are_distinct),
        cmocka_unit_test(test_align_down_up_and_is_aligned),
        cmocka_unit_test(test_align_up_wraps_and_checked_variant_detects_it),
        cmocka_unit_test(test_is_pow2),
        cmocka_unit_test(test_canonical_check_accepts_both_halves_only),
        cmocka_unit_test(test_canonicalisation_sign_extends_bit_47),
        cmocka_unit_test(test_page_table_indices_of_known_addresses),
        cmocka_unit_test(test_indices_round_trip_through_from_indices),
        cmocka_unit_test(test_pfn_and_add_helpers),
    };
    return cmocka_run_group_tests_name("mm_addr", tests, NULL, NULL);
}
