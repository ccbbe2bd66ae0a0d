/* test_hpet.c - the HPET table on iasl-built and hand-broken tables. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "acpi/acpi.h"
#include "acpi_fixture.h"

static void test_hpet_fields(void **state)
{
    size_t len;
    uint8_t *t = fx_load("hpet", &len);
    struct acpi_hpet h;
    assert_int_equal(acpi_hpet_parse(t, len, &h), ACPI_OK);
    assert_int_equal(h.address, 0xFED00000u);
    assert_int_equal(h.hpet_number, 0);
    assert_int_equal(h.min_tick, 0x80);
    /* Block ID 0x8086A201: revision 1, last comparator index 2, 64-bit, legacy capable. */
    assert_int_equal(h.comparators, 3);
    assert_true(h.counter_64bit);
    assert_true(h.legacy_replacement);
    assert_int_equal(h.hardware_rev, 1);
    assert_int_equal(h.pci_vendor_id, 0x8086);
    assert_int_equal(h.page_protection, 0);
    free(t);
}

static void test_hpet_block_id_bits_are_independent(void **state)
{
    size_t len;
    uint8_t *t = fx_load("hpet", &len);
    fx_put32(t + 36, 0x10DE1F00u); /* 32 comparators, 32-bit counter, no legacy routing */
    fx_fix_checksum(t);
    struct acpi_hpet h;
    assert_int_equal(acpi_hpet_parse(t, len, &h), ACPI_OK);
    assert_int_equal(h.comparators, 32);
    assert_false(h.counter_64bit);
    assert_false(h.legacy_replacement);
    assert_int_equal(h.pci_vendor_id, 0x10DE);
    assert_int_equal(h.hardware_rev, 0);
    free(t);
}

static void test_hpet_in_io_space_is_unsupported(void **state)
{
    size_t len;
    uint8_t *t = fx_load("hpet_io", &len);
    struct acpi_hpet h;
    assert_int_equal(acpi_hpet_parse(t, len, &h), ACPI_ERR_UNSUPPORTED);
    free(t);
}

static void test_hpet_at_address_zero_is_unsupported(void **state)
{
    size_t len;
    uint8_t *t = fx_load("hpet", &len);
    fx_put64(t + 44, 0);
    fx_fix_checksum(t);
    struct acpi_hpet h;
    assert_int_equal(acpi_hpet_parse(t, len, &h), ACPI_ERR_UNSUPPORTED);
    free(t);
}

static void test_short_or_broken_hpet_is_refused(void **state)
{
    size_t len;
    uint8_t *t = fx_load("hpet", &len);
    struct acpi_hpet h;
    assert_int_equal(acpi_hpet_parse(t, len - 1, &h), ACPI_ERR_BAD_LENGTH);
    t[50] ^= 1;
    assert_int_equal(acpi_hpet_parse(t, len, &h), ACPI_ERR_BAD_CHECKSUM);
    fx_set_length(t, 52); /* ends inside the fixed fields */
    assert_int_equal(acpi_hpet_parse(t, len, &h), ACPI_ERR_BAD_LENGTH);
    assert_int_equal(acpi_hpet_parse(NULL, len, &h), ACPI_ERR_INVALID);
    free(t);
    t = fx_load("apic_q35", &len);
    assert_int_equal(acpi_hpet_parse(t, len, &h), ACPI_ERR_BAD_SIGNATURE);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hpet_fields),
        cmocka_unit_test(test_hpet_block_id_bits_are_independent),
        cmocka_unit_test(test_hpet_in_io_space_is_unsupported),
        cmocka_unit_test(test_hpet_at_address_zero_is_unsupported),
        cmocka_unit_test(test_short_or_broken_hpet_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
