/* test_fadt.c - the FADT, revisions 1 and 6, and truncated or edited variants. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acpi/acpi.h"
#include "acpi_fixture.h"

/* Field offsets in the FADT (ACPI 6.5, table 5.9), used to edit copies. */
#define OFF_PM_TMR_LEN 91
#define OFF_FLAGS 112
#define OFF_X_PM_TMR_BLK 208

/* Parse a heap copy of exactly len bytes, so ASan sees any read past the table. */
static enum acpi_status parse_exact(const uint8_t *t, size_t len, struct acpi_fadt *f)
{
    uint8_t *exact = malloc(len);
    memcpy(exact, t, len);
    enum acpi_status st = acpi_fadt_parse(exact, len, f);
    free(exact);
    return st;
}

static void test_fadt_rev6_fields(void **state)
{
    size_t len;
    uint8_t *t = fx_load("facp_rev6", &len);
    struct acpi_fadt f;
    assert_int_equal(parse_exact(t, len, &f), ACPI_OK);
    assert_int_equal(f.revision, 6);
    assert_int_equal(f.length, 276);
    assert_int_equal(f.sci_irq, 9);
    assert_int_equal(f.century, 0x32);
    assert_int_equal(f.dsdt, 0x10007D000ull); /* X_DSDT wins */
    assert_int_equal(f.facs, 0x7E000);        /* X_FIRMWARE_CTRL is 0: FIRMWARE_CTRL */
    assert_false(f.hw_reduced);

    assert_true(f.has_pm_timer);
    assert_int_equal(f.pm_timer.space_id, ACPI_SPACE_IO);
    assert_int_equal(f.pm_timer.address, 0xB008); /* X_PM_TMR_BLK, not PM_TMR_BLK (0x608) */
    assert_int_equal(f.pm_timer_bits, 32);

    assert_true(f.has_reset);
    assert_int_equal(f.reset_reg.space_id, ACPI_SPACE_IO);
    assert_int_equal(f.reset_reg.address, 0xCF9);
    assert_int_equal(f.reset_reg.bit_width, 8);
    assert_int_equal(f.reset_value, 6);

    assert_true(f.has_boot_arch);
    assert_int_equal(f.boot_arch, ACPI_BOOT_8042 | ACPI_BOOT_NO_VGA);
    assert_true(f.i8042);
    assert_true(f.no_vga);
    assert_false(f.legacy_devices);
    free(t);
}

static void test_fadt_rev1_has_only_acpi_1_fields(void **state)
{
    size_t len;
    uint8_t *t = fx_load("facp_rev1", &len);
    assert_int_equal(len, 116);
    struct acpi_fadt f;
    assert_int_equal(parse_exact(t, len, &f), ACPI_OK);
    assert_int_equal(f.revision, 1);
    assert_int_equal(f.sci_irq, 9);
    assert_int_equal(f.century, 0x32);
    assert_int_equal(f.dsdt, 0x7D000);
    assert_int_equal(f.flags, ACPI_FADT_RESET_REG_SUP);
    assert_true(f.has_pm_timer);
    assert_int_equal(f.pm_timer.space_id, ACPI_SPACE_IO);
    assert_int_equal(f.pm_timer.address, 0x608);
    assert_int_equal(f.pm_timer_bits, 24);
    /* RESET_REG_SUP is set, but the register lies past the table's end. */
    assert_false(f.has_reset);
    assert_int_equal(f.reset_reg.address, 0);
    /* The bytes at IAPC_BOOT_ARCH are non-zero but reserved in revision 1. */
    assert_false(f.has_boot_arch);
    assert_int_equal(f.boot_arch, 0);
    assert_false(f.i8042);
    free(t);
}

static void test_reset_register_needs_the_flag(void **state)
{
    size_t len;
    uint8_t *t = fx_load("facp_rev6", &len);
    fx_put32(t + OFF_FLAGS, ACPI_FADT_TMR_VAL_EXT);
    fx_fix_checksum(t);
    struct acpi_fadt f;
    assert_int_equal(parse_exact(t, len, &f), ACPI_OK);
    assert_false(f.has_reset);
    assert_int_equal(f.reset_value, 0);
    assert_int_equal(f.pm_timer_bits, 32);
    free(t);
}

static void test_pm_timer_falls_back_to_the_port(void **state)
{
    size_t len;
    uint8_t *t = fx_load("facp_rev6", &len);
    struct acpi_fadt f;
    /* X_PM_TMR_BLK with address 0. */
    fx_put64(t + OFF_X_PM_TMR_BLK + 4, 0);
    fx_fix_checksum(t);
    assert_int_equal(parse_exact(t, len, &f), ACPI_OK);
    assert_true(f.has_pm_timer);
    assert_int_equal(f.pm_timer.address, 0x608);
    assert_int_equal(f.pm_timer.space_id, ACPI_SPACE_IO);
    /* X_PM_TMR_BLK in PCI configuration space: not usable as a timer. */
    fx_put64(t + OFF_X_PM_TMR_BLK + 4, 0xB008);
    t[OFF_X_PM_TMR_BLK] = ACPI_SPACE_PCI_CONFIG;
    fx_fix_checksum(t);
    assert_int_equal(parse_exact(t, len, &f), ACPI_OK);
    assert_int_equal(f.pm_timer.address, 0x608);
    /* In system memory it is used. */
    t[OFF_X_PM_TMR_BLK] = ACPI_SPACE_MEMORY;
    fx_fix_checksum(t);
    assert_int_equal(parse_exact(t, len, &f), ACPI_OK);
    assert_int_equal(f.pm_timer.address, 0xB008);
    assert_int_equal(f.pm_timer.space_id, ACPI_SPACE_MEMORY);
    free(t);
}

static void test_no_pm_timer_when_port_length_is_short(void **state)
{
    size_t len;
    uint8_t *t = fx_load("facp_rev1", &len);
    t[OFF_PM_TMR_LEN] = 3;
    fx_fix_checksum(t);
    struct acpi_fadt f;
    assert_int_equal(parse_exact(t, len, &f), ACPI_OK);
    assert_false(f.has_pm_timer);
    assert_int_equal(f.pm_timer.address, 0);
    free(t);
}

static void test_truncated_fadts_read_nothing_past_their_end(void **state)
{
    size_t len;
    uint8_t *t = fx_load("facp_rev6", &len);
    struct acpi_fadt f;

    /* Ends right after RESET_VALUE: the reset register is there, the X fields are not. */
    fx_set_length(t, 129);
    assert_int_equal(parse_exact(t, 129, &f), ACPI_OK);
    assert_true(f.has_reset);
    assert_int_equal(f.pm_timer.address, 0x608);
    assert_int_equal(f.dsdt, 0x7D000);

    /* One byte shorter: no reset value, so no reset register. */
    fx_set_length(t, 128);
    assert_int_equal(parse_exact(t, 128, &f), ACPI_OK);
    assert_false(f.has_reset);

    /* Ends before Flags: no flags, so a 24-bit timer and no boot flags. */
    fx_set_length(t, 100);
    assert_int_equal(parse_exact(t, 100, &f), ACPI_OK);
    assert_int_equal(f.flags, 0);
    assert_int_equal(f.pm_timer_bits, 24);
    assert_false(f.has_boot_arch);
    assert_int_equal(f.century, 0);

    /* The ACPI 1.0 size: only the port is used. */
    fx_set_length(t, 112 + 4);
    assert_int_equal(parse_exact(t, 116, &f), ACPI_OK);
    assert_int_equal(f.pm_timer.address, 0x608);

    /* Too short to hold SCI_INT. */
    fx_set_length(t, 47);
    assert_int_equal(parse_exact(t, 47, &f), ACPI_ERR_BAD_LENGTH);
    free(t);
}

static void test_truncated_x_pm_timer_is_not_read(void **state)
{
    size_t len;
    uint8_t *t = fx_load("facp_rev6", &len);
    struct acpi_fadt f;
    fx_set_length(t, OFF_X_PM_TMR_BLK + 11);
    assert_int_equal(parse_exact(t, OFF_X_PM_TMR_BLK + 11, &f), ACPI_OK);
    assert_int_equal(f.pm_timer.address, 0x608);
    fx_set_length(t, OFF_X_PM_TMR_BLK + 12);
    assert_int_equal(parse_exact(t, OFF_X_PM_TMR_BLK + 12, &f), ACPI_OK);
    assert_int_equal(f.pm_timer.address, 0xB008);
    free(t);
}

static void test_hw_reduced_flag(void **state)
{
    size_t len;
    uint8_t *t = fx_load("facp_rev6", &len);
    fx_put32(t + OFF_FLAGS, ACPI_FADT_HW_REDUCED);
    fx_fix_checksum(t);
    struct acpi_fadt f;
    assert_int_equal(parse_exact(t, len, &f), ACPI_OK);
    assert_true(f.hw_reduced);
    free(t);
}

static void test_broken_fadt_is_refused(void **state)
{
    size_t len;
    uint8_t *t = fx_load("facp_rev6", &len);
    struct acpi_fadt f;
    assert_int_equal(acpi_fadt_parse(t, len - 1, &f), ACPI_ERR_BAD_LENGTH);
    t[200] ^= 4;
    assert_int_equal(acpi_fadt_parse(t, len, &f), ACPI_ERR_BAD_CHECKSUM);
    assert_int_equal(acpi_fadt_parse(NULL, len, &f), ACPI_ERR_INVALID);
    assert_int_equal(acpi_fadt_parse(t, len, NULL), ACPI_ERR_INVALID);
    free(t);
    t = fx_load("hpet", &len);
    assert_int_equal(acpi_fadt_parse(t, len, &f), ACPI_ERR_BAD_SIGNATURE);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fadt_rev6_fields),
        cmocka_unit_test(test_fadt_rev1_has_only_acpi_1_fields),
        cmocka_unit_test(test_reset_register_needs_the_flag),
        cmocka_unit_test(test_pm_timer_falls_back_to_the_port),
        cmocka_unit_test(test_no_pm_timer_when_port_length_is_short),
        cmocka_unit_test(test_truncated_fadts_read_nothing_past_their_end),
        cmocka_unit_test(test_truncated_x_pm_timer_is_not_read),
        cmocka_unit_test(test_hw_reduced_flag),
        cmocka_unit_test(test_broken_fadt_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
