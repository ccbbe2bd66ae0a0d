/* test_rsdp.c - RSDP validation (multiboot2 copies) and the BIOS scan over fake memory. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acpi/acpi.h"
#include "acpi_fixture.h"

static void test_rsdp_v1_copy_is_valid(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v1", &len);
    assert_int_equal(len, ACPI_RSDP_V1_SIZE);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, len, &info), ACPI_OK);
    assert_int_equal(info.revision, 0);
    assert_string_equal(info.oem_id, "KKIT  ");
    assert_int_equal(info.rsdt, FX_RSDT);
    assert_int_equal(info.xsdt, 0);
    assert_int_equal(info.phys, 0);
    free(r);
}

static void test_rsdp_v2_copy_is_valid(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v2", &len);
    assert_int_equal(len, ACPI_RSDP_V2_SIZE);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, len, &info), ACPI_OK);
    assert_int_equal(info.revision, 2);
    assert_int_equal(info.rsdt, FX_RSDT);
    assert_int_equal(info.xsdt, FX_XSDT);
    free(r);
}

static void test_rsdp_v1_copy_in_a_larger_buffer_ignores_the_rest(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v1", &len);
    uint8_t buf[64];
    memset(buf, 0xA5, sizeof(buf));
    memcpy(buf, r, len);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(buf, sizeof(buf), &info), ACPI_OK);
    assert_int_equal(info.xsdt, 0);
    free(r);
}

static void test_rsdp_rejects_bad_signature(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v1", &len);
    r[3] = 'X';
    fx_fix_rsdp(r);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, len, &info), ACPI_ERR_BAD_SIGNATURE);
    free(r);
}

static void test_rsdp_rejects_bad_v1_checksum(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v1", &len);
    r[16] ^= 0x10; /* the RSDT address */
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, len, &info), ACPI_ERR_BAD_CHECKSUM);
    free(r);
}

static void test_rsdp_rejects_bad_extended_checksum(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v2", &len);
    r[25] ^= 0x01; /* the XSDT address: outside the first 20 bytes */
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, len, &info), ACPI_ERR_BAD_CHECKSUM);
    free(r);
}

static void test_rsdp_v2_in_a_v1_sized_copy_is_bad_length(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v2", &len);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, ACPI_RSDP_V1_SIZE, &info), ACPI_ERR_BAD_LENGTH);
    free(r);
}

static void test_rsdp_v2_length_field_must_cover_the_v2_fields(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v2", &len);
    fx_put32(r + 20, 20);
    fx_fix_rsdp(r);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, len, &info), ACPI_ERR_BAD_LENGTH);
    free(r);
}

static void test_rsdp_v2_length_field_past_the_copy_is_bad_length(void **state)
{
    uint8_t buf[40] = {0};
    size_t len;
    uint8_t *r = fx_load("rsdp_v2", &len);
    memcpy(buf, r, len);
    fx_put32(buf + 20, 40);
    fx_fix_rsdp(buf);
    struct acpi_rsdp_info info;
    /* Valid with the 40 bytes there, invalid when the copy is only 36 bytes. */
    assert_int_equal(acpi_rsdp_validate(buf, 40, &info), ACPI_OK);
    assert_int_equal(acpi_rsdp_validate(buf, 36, &info), ACPI_ERR_BAD_LENGTH);
    fx_put32(buf + 20, 0xFFFFFFF0u); /* refused before any checksum is computed */
    assert_int_equal(acpi_rsdp_validate(buf, 40, &info), ACPI_ERR_BAD_LENGTH);
    free(r);
}

static void test_rsdp_revision_1_is_read_as_acpi_1(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v2", &len);
    r[15] = 1;
    fx_fix_rsdp(r);
    r[32] ^= 0xFF; /* the extended checksum is not part of a 1.0 RSDP */
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, ACPI_RSDP_V1_SIZE, &info), ACPI_OK);
    assert_int_equal(info.revision, 1);
    assert_int_equal(info.xsdt, 0);
    free(r);
}

static void test_rsdp_rejects_short_copies_and_null(void **state)
{
    size_t len;
    uint8_t *r = fx_load("rsdp_v1", &len);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, 19, &info), ACPI_ERR_BAD_LENGTH);
    assert_int_equal(acpi_rsdp_validate(NULL, 20, &info), ACPI_ERR_INVALID);
    assert_int_equal(acpi_rsdp_validate(r, 20, NULL), ACPI_ERR_INVALID);
    free(r);
}

/* Fake memory of 1 MiB with an EBDA segment at 0x40E and RSDPs placed by the test. */
static void bios_memory(struct fx_mem *m, uint16_t ebda_segment)
{
    fx_init(m, 0x100000);
    fx_put16(m->mem + ACPI_BDA_EBDA_SEGMENT, ebda_segment);
}

static void test_scan_finds_rsdp_in_the_ebda(void **state)
{
    struct fx_mem m;
    bios_memory(&m, 0x9FC0);
    fx_place(&m, 0x9FC00 + 0x30, "rsdp_v2");
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_OK);
    assert_int_equal(info.phys, 0x9FC30);
    assert_int_equal(info.revision, 2);
    assert_int_equal(info.xsdt, FX_XSDT);
    fx_free(&m);
}

static void test_scan_finds_rsdp_in_the_bios_area(void **state)
{
    struct fx_mem m;
    bios_memory(&m, 0x9FC0);
    fx_place(&m, 0xF6A50, "rsdp_v1");
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_OK);
    assert_int_equal(info.phys, 0xF6A50);
    assert_int_equal(info.revision, 0);
    fx_free(&m);
}

static void test_scan_prefers_the_ebda(void **state)
{
    struct fx_mem m;
    bios_memory(&m, 0x9000);
    fx_place(&m, 0xE0000, "rsdp_v1");
    fx_place(&m, 0x903D0, "rsdp_v2"); /* the last 16-byte slot with room for 36 bytes */
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_OK);
    assert_int_equal(info.phys, 0x903D0);
    fx_free(&m);
}

static void test_scan_ignores_unaligned_rsdp(void **state)
{
    struct fx_mem m;
    bios_memory(&m, 0x9FC0);
    fx_place(&m, 0xE0008, "rsdp_v1");
    fx_place(&m, 0x9FC04, "rsdp_v2");
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_ERR_NOT_FOUND);
    fx_free(&m);
}

static void test_scan_skips_a_candidate_with_bad_checksum(void **state)
{
    struct fx_mem m;
    bios_memory(&m, 0);
    fx_place(&m, 0xE1000, "rsdp_v1");
    m.mem[0xE1000 + 16] ^= 1;
    fx_place(&m, 0xE2000, "rsdp_v2");
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_OK);
    assert_int_equal(info.phys, 0xE2000);
    fx_free(&m);
}

static void test_scan_skips_ebda_outside_low_memory(void **state)
{
    struct fx_mem m;
    bios_memory(&m, 0xA000); /* 0xA0000: video memory, not an EBDA */
    fx_place(&m, 0xA0000, "rsdp_v1");
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_ERR_NOT_FOUND);
    fx_free(&m);

    bios_memory(&m, 0); /* no EBDA: physical 0 is not scanned */
    fx_place(&m, 0, "rsdp_v1");
    p = fx_platform(&m);
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_ERR_NOT_FOUND);
    fx_free(&m);
}

static void test_scan_ebda_near_640k_is_clipped(void **state)
{
    struct fx_mem m;
    bios_memory(&m, 0x9FF0); /* EBDA at 0x9FF00: only 256 bytes below 0xA0000 */
    fx_place(&m, 0x9FFE0, "rsdp_v1");
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_OK);
    assert_int_equal(info.phys, 0x9FFE0);
    fx_free(&m);
}

static void test_scan_at_the_end_of_the_bios_area_stays_inside(void **state)
{
    struct fx_mem m;
    bios_memory(&m, 0);
    /* A 2.0 RSDP whose 36 bytes would run past 1 MiB is skipped; a 1.0 one fits. */
    fx_place(&m, 0xFFFE0, "rsdp_v1");
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_OK);
    assert_int_equal(info.phys, 0xFFFE0);
    fx_free(&m);

    size_t len;
    uint8_t *r = fx_load("rsdp_v2", &len);
    bios_memory(&m, 0);
    memcpy(m.mem + 0xFFFE0, r, 32);
    p = fx_platform(&m);
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_ERR_NOT_FOUND);
    fx_free(&m);
    free(r);
}

static void test_scan_reports_unmappable_bios_area(void **state)
{
    struct fx_mem m;
    fx_init(&m, 0x80000); /* 512 KiB: no BIOS area */
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_ERR_UNMAPPABLE);
    p.map = NULL;
    assert_int_equal(acpi_rsdp_find_bios(&p, &info), ACPI_ERR_INVALID);
    fx_free(&m);
}

static void test_rsdp_map_validates_through_the_hook(void **state)
{
    struct fx_mem m;
    fx_init(&m, 0x1000);
    fx_place(&m, 0x100, "rsdp_v2");
    fx_place(&m, 0x200, "rsdp_v1");
    fx_place(&m, 0xFDC, "rsdp_v2"); /* ends exactly at the end of memory */
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_map(&p, 0x100, &info), ACPI_OK);
    assert_int_equal(info.phys, 0x100);
    assert_int_equal(info.xsdt, FX_XSDT);
    assert_int_equal(acpi_rsdp_map(&p, 0x200, &info), ACPI_OK);
    assert_int_equal(info.revision, 0);
    assert_int_equal(acpi_rsdp_map(&p, 0xFDC, &info), ACPI_OK);
    /* A 2.0 RSDP whose 36 bytes run past the memory: its first 20 map, the rest do not. */
    fx_place(&m, 0xFEC, "rsdp_v1");
    m.mem[0xFEC + 15] += 2; /* revision 2, with the 1.0 checksum still right */
    m.mem[0xFEC + 8] -= 2;
    assert_int_equal(acpi_rsdp_map(&p, 0xFEC, &info), ACPI_ERR_UNMAPPABLE);
    /* A length field past the limit is refused before the mapping is attempted. */
    fx_put32(m.mem + 0x100 + 20, ACPI_RSDP_MAX_LENGTH + 1);
    assert_int_equal(acpi_rsdp_map(&p, 0x100, &info), ACPI_ERR_BAD_LENGTH);
    assert_int_equal(acpi_rsdp_map(&p, 0x2000, &info), ACPI_ERR_UNMAPPABLE);
    m.mem[0x200] = 'X';
    assert_int_equal(acpi_rsdp_map(&p, 0x200, &info), ACPI_ERR_BAD_SIGNATURE);
    assert_int_equal(acpi_rsdp_map(NULL, 0x200, &info), ACPI_ERR_INVALID);
    assert_int_equal(m.live, 0);
    fx_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsdp_v1_copy_is_valid),
        cmocka_unit_test(test_rsdp_v2_copy_is_valid),
        cmocka_unit_test(test_rsdp_v1_copy_in_a_larger_buffer_ignores_the_rest),
        cmocka_unit_test(test_rsdp_rejects_bad_signature),
        cmocka_unit_test(test_rsdp_rejects_bad_v1_checksum),
        cmocka_unit_test(test_rsdp_rejects_bad_extended_checksum),
        cmocka_unit_test(test_rsdp_v2_in_a_v1_sized_copy_is_bad_length),
        cmocka_unit_test(test_rsdp_v2_length_field_must_cover_the_v2_fields),
        cmocka_unit_test(test_rsdp_v2_length_field_past_the_copy_is_bad_length),
        cmocka_unit_test(test_rsdp_revision_1_is_read_as_acpi_1),
        cmocka_unit_test(test_rsdp_rejects_short_copies_and_null),
        cmocka_unit_test(test_scan_finds_rsdp_in_the_ebda),
        cmocka_unit_test(test_scan_finds_rsdp_in_the_bios_area),
        cmocka_unit_test(test_scan_prefers_the_ebda),
        cmocka_unit_test(test_scan_ignores_unaligned_rsdp),
        cmocka_unit_test(test_scan_skips_a_candidate_with_bad_checksum),
        cmocka_unit_test(test_scan_skips_ebda_outside_low_memory),
        cmocka_unit_test(test_scan_ebda_near_640k_is_clipped),
        cmocka_unit_test(test_scan_at_the_end_of_the_bios_area_stays_inside),
        cmocka_unit_test(test_scan_reports_unmappable_bios_area),
        cmocka_unit_test(test_rsdp_map_validates_through_the_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
