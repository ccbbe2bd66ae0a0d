/* test_tables.c - table header checks, the RSDT/XSDT walk, lookup by signature. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acpi/acpi.h"
#include "acpi_fixture.h"

static struct acpi_rsdp_info rsdp_from(const char *name)
{
    size_t len;
    uint8_t *r = fx_load(name, &len);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_rsdp_validate(r, len, &info), ACPI_OK);
    free(r);
    return info;
}

static void test_table_check_accepts_an_iasl_table(void **state)
{
    size_t len;
    uint8_t *t = fx_load("hpet", &len);
    assert_int_equal(acpi_table_check(t, len, "HPET"), ACPI_OK);
    assert_int_equal(acpi_table_check(t, len, NULL), ACPI_OK);
    assert_int_equal(acpi_table_check(t, len, "APIC"), ACPI_ERR_BAD_SIGNATURE);
    assert_int_equal(acpi_table_check(t, len, "HP"), ACPI_ERR_INVALID);
    free(t);
}

static void test_table_check_rejects_bad_checksum(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    t[len - 1] ^= 0x40;
    assert_int_equal(acpi_table_check(t, len, "APIC"), ACPI_ERR_BAD_CHECKSUM);
    free(t);
}

static void test_table_check_rejects_lengths_outside_header_and_mapping(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    /* Mapped fewer bytes than the length field says. */
    assert_int_equal(acpi_table_check(t, len - 1, "APIC"), ACPI_ERR_BAD_LENGTH);
    /* Mapped fewer bytes than a header. */
    assert_int_equal(acpi_table_check(t, 35, "APIC"), ACPI_ERR_BAD_LENGTH);
    /* A length field smaller than the header. */
    fx_set_length(t, 35);
    assert_int_equal(acpi_table_check(t, len, "APIC"), ACPI_ERR_BAD_LENGTH);
    assert_int_equal(acpi_table_check(NULL, len, "APIC"), ACPI_ERR_INVALID);
    free(t);
}

static void test_init_uses_rsdt_for_acpi_1(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v1");
    struct acpi_tables t;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    assert_false(t.xsdt);
    assert_int_equal(t.root_phys, FX_RSDT);
    assert_int_equal(t.count, 3);
    assert_int_equal(m.live, 0);
    fx_free(&m);
}

static void test_init_prefers_xsdt_for_acpi_2(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    assert_true(t.xsdt);
    assert_int_equal(t.root_phys, FX_XSDT);
    assert_int_equal(t.count, 5);

    r.xsdt = 0; /* revision 2 without an XSDT: the RSDT */
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    assert_false(t.xsdt);
    assert_int_equal(t.count, 3);
    r.rsdt = 0;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_ERR_INVALID);
    fx_free(&m);
}

static void test_find_follows_the_chosen_root(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_tables t;
    struct acpi_table tab;

    struct acpi_rsdp_info r1 = rsdp_from("rsdp_v1");
    assert_int_equal(acpi_tables_init(&t, &p, &r1), ACPI_OK);
    assert_int_equal(acpi_table_find(&t, "FACP", 0, &tab), ACPI_OK);
    assert_int_equal(tab.phys, FX_FACP1);
    assert_int_equal(tab.revision, 1);
    assert_int_equal(tab.length, 116);
    assert_string_equal(tab.signature, "FACP");
    assert_string_equal(tab.oem_table_id, "KKFADT1 ");
    assert_string_equal(tab.oem_id, "KKIT  ");
    acpi_table_unmap(&t, &tab);
    assert_null(tab.data);

    struct acpi_rsdp_info r2 = rsdp_from("rsdp_v2");
    assert_int_equal(acpi_tables_init(&t, &p, &r2), ACPI_OK);
    assert_int_equal(acpi_table_find(&t, "FACP", 0, &tab), ACPI_OK);
    assert_int_equal(tab.phys, FX_FACP6);
    assert_int_equal(tab.revision, 6);
    assert_int_equal(tab.length, 276);
    assert_int_equal(m.live, 1);
    acpi_table_unmap(&t, &tab);
    assert_int_equal(m.live, 0);
    fx_free(&m);
}

static void test_find_by_instance_skips_unmappable_entries(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    struct acpi_table tab;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    /* Entry 1 of the XSDT points far outside the fake memory. */
    assert_int_equal(acpi_table_find(&t, "APIC", 0, &tab), ACPI_OK);
    assert_int_equal(tab.phys, FX_APIC);
    acpi_table_unmap(&t, &tab);
    assert_int_equal(acpi_table_find(&t, "APIC", 1, &tab), ACPI_OK);
    assert_int_equal(tab.phys, FX_APIC2);
    assert_string_equal(tab.oem_table_id, "KKOVR   ");
    acpi_table_unmap(&t, &tab);
    assert_int_equal(acpi_table_find(&t, "APIC", 2, &tab), ACPI_ERR_NOT_FOUND);
    assert_int_equal(acpi_table_find(&t, "SSDT", 0, &tab), ACPI_ERR_NOT_FOUND);
    assert_int_equal(acpi_table_find(&t, "AP", 0, &tab), ACPI_ERR_INVALID);
    assert_int_equal(m.live, 0);
    fx_free(&m);
}

static void test_table_at_walks_every_entry(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    struct acpi_table tab;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    static const char *const sigs[5] = {"FACP", NULL, "APIC", "HPET", "APIC"};
    for (uint32_t i = 0; i < t.count; i++) {
        enum acpi_status st = acpi_table_at(&t, i, &tab);
        if (sigs[i] == NULL) {
            assert_int_equal(st, ACPI_ERR_UNMAPPABLE);
            continue;
        }
        assert_int_equal(st, ACPI_OK);
        assert_string_equal(tab.signature, sigs[i]);
        acpi_table_unmap(&t, &tab);
    }
    assert_int_equal(acpi_table_at(&t, 5, &tab), ACPI_ERR_INVALID);
    assert_int_equal(m.live, 0);
    fx_free(&m);
}

static void test_find_reports_a_broken_match(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    m.mem[FX_HPET + 40] ^= 1; /* HPET checksum now wrong */
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    struct acpi_table tab;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    assert_int_equal(acpi_table_find(&t, "HPET", 0, &tab), ACPI_ERR_BAD_CHECKSUM);
    struct acpi_hpet h;
    assert_int_equal(acpi_tables_hpet(&t, &h), ACPI_ERR_BAD_CHECKSUM);
    assert_int_equal(m.live, 0);
    fx_free(&m);
}

static void test_table_length_past_the_memory_is_unmappable(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    /* The HPET claims to run past the end of fake memory. */
    fx_put32(m.mem + FX_HPET + 4, FX_MEM_SIZE - FX_HPET + 1);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    struct acpi_table tab;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    assert_int_equal(acpi_table_find(&t, "HPET", 0, &tab), ACPI_ERR_UNMAPPABLE);
    /* Longer than any table may be: refused before mapping (else it would be UNMAPPABLE). */
    fx_put32(m.mem + FX_HPET + 4, 0xFFFFFFF0u);
    assert_int_equal(acpi_table_find(&t, "HPET", 0, &tab), ACPI_ERR_BAD_LENGTH);
    assert_int_equal(m.live, 0);
    fx_free(&m);
}

static void test_root_with_bad_checksum_or_signature_is_refused(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    m.mem[FX_XSDT + 40] ^= 1;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_ERR_BAD_CHECKSUM);
    r.xsdt = FX_HPET; /* points at a table that is not an XSDT */
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_ERR_BAD_SIGNATURE);
    r.xsdt = 0x7FFFFFFF000ull;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_ERR_UNMAPPABLE);
    assert_int_equal(m.live, 0);
    fx_free(&m);
}

static void test_root_with_absurd_entry_count_is_too_many(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    uint8_t *x = m.mem + FX_XSDT;
    fx_set_length(x, ACPI_HEADER_SIZE + 8 * (ACPI_ROOT_MAX_ENTRIES + 1));
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_ERR_TOO_MANY);
    fx_set_length(x, ACPI_HEADER_SIZE + 8 * ACPI_ROOT_MAX_ENTRIES);
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    assert_int_equal(t.count, ACPI_ROOT_MAX_ENTRIES);
    fx_free(&m);
}

static void test_root_partial_entry_is_ignored(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    fx_set_length(m.mem + FX_RSDT, ACPI_HEADER_SIZE + 4 + 3);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v1");
    struct acpi_tables t;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    assert_int_equal(t.count, 1);
    fx_free(&m);
}

static void test_root_that_shrinks_after_init_is_refused(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    struct acpi_table tab;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    fx_set_length(m.mem + FX_XSDT, ACPI_HEADER_SIZE + 8);
    assert_int_equal(acpi_table_find(&t, "HPET", 0, &tab), ACPI_ERR_BAD_LENGTH);
    assert_int_equal(acpi_table_at(&t, 4, &tab), ACPI_ERR_BAD_LENGTH);
    assert_int_equal(m.live, 0);
    fx_free(&m);
}

static void test_a_direct_map_needs_no_unmap_hook(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    m.direct = true;
    struct acpi_platform p = fx_platform(&m);
    p.unmap = NULL;
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    struct acpi_fadt f;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    assert_int_equal(acpi_tables_fadt(&t, &f), ACPI_OK);
    assert_int_equal(f.revision, 6);
    assert_int_equal(m.live, (long)m.maps); /* nothing was given back, and nothing needed to */
    m.live = 0;
    fx_free(&m);
}

static void test_convenience_calls_parse_and_unmap(void **state)
{
    struct fx_mem m;
    fx_standard(&m);
    struct acpi_platform p = fx_platform(&m);
    struct acpi_rsdp_info r = rsdp_from("rsdp_v2");
    struct acpi_tables t;
    assert_int_equal(acpi_tables_init(&t, &p, &r), ACPI_OK);
    struct acpi_madt_cpu cpus[8];
    struct acpi_madt madt = {.cpus = cpus, .cpu_cap = 8};
    assert_int_equal(acpi_tables_madt(&t, &madt), ACPI_OK);
    assert_int_equal(madt.cpu_count, 5);
    struct acpi_hpet h;
    assert_int_equal(acpi_tables_hpet(&t, &h), ACPI_OK);
    assert_int_equal(h.address, 0xFED00000u);
    struct acpi_fadt f;
    assert_int_equal(acpi_tables_fadt(&t, &f), ACPI_OK);
    assert_true(f.has_reset);
    assert_int_equal(m.live, 0);

    struct acpi_rsdp_info r1 = rsdp_from("rsdp_v1");
    assert_int_equal(acpi_tables_init(&t, &p, &r1), ACPI_OK);
    assert_int_equal(acpi_tables_fadt(&t, &f), ACPI_OK);
    assert_false(f.has_reset);
    fx_free(&m);
}

static void test_status_strings_are_distinct(void **state)
{
    for (int a = 0; a < ACPI_STATUS_COUNT; a++) {
        const char *sa = acpi_status_str((enum acpi_status)a);
        assert_non_null(sa);
        assert_string_not_equal(sa, "unknown status");
        for (int b = a + 1; b < ACPI_STATUS_COUNT; b++)
            assert_string_not_equal(sa, acpi_status_str((enum acpi_status)b));
    }
    assert_string_equal(acpi_status_str(ACPI_STATUS_COUNT), "unknown status");
    assert_string_equal(acpi_status_str((enum acpi_status) - 1), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_check_accepts_an_iasl_table),
        cmocka_unit_test(test_table_check_rejects_bad_checksum),
        cmocka_unit_test(test_table_check_rejects_lengths_outside_header_and_mapping),
        cmocka_unit_test(test_init_uses_rsdt_for_acpi_1),
        cmocka_unit_test(test_init_prefers_xsdt_for_acpi_2),
        cmocka_unit_test(test_find_follows_the_chosen_root),
        cmocka_unit_test(test_find_by_instance_skips_unmappable_entries),
        cmocka_unit_test(test_table_at_walks_every_entry),
        cmocka_unit_test(test_find_reports_a_broken_match),
        cmocka_unit_test(test_table_length_past_the_memory_is_unmappable),
        cmocka_unit_test(test_root_with_bad_checksum_or_signature_is_refused),
        cmocka_unit_test(test_root_with_absurd_entry_count_is_too_many),
        cmocka_unit_test(test_root_partial_entry_is_ignored),
        cmocka_unit_test(test_root_that_shrinks_after_init_is_refused),
        cmocka_unit_test(test_a_direct_map_needs_no_unmap_hook),
        cmocka_unit_test(test_convenience_calls_parse_and_unmap),
        cmocka_unit_test(test_status_strings_are_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
