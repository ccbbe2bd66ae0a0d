/* test_madt.c - MADT decoding on an iasl-built q35-like table and hand-broken variants. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acpi/acpi.h"
#include "acpi_fixture.h"

struct arrays {
    struct acpi_madt_cpu cpus[8];
    struct acpi_madt_ioapic ioapics[4];
    struct acpi_madt_iso isos[16];
    struct acpi_madt_nmi_source nmis[4];
    struct acpi_madt_lapic_nmi lnmis[4];
};

static struct acpi_madt madt_for(struct arrays *a)
{
    return (struct acpi_madt){
        .cpus = a->cpus,
        .cpu_cap = 8,
        .ioapics = a->ioapics,
        .ioapic_cap = 4,
        .isos = a->isos,
        .iso_cap = 16,
        .nmi_sources = a->nmis,
        .nmi_source_cap = 4,
        .lapic_nmis = a->lnmis,
        .lapic_nmi_cap = 4,
    };
}

/* Byte offset of the n-th entry (0-based) of a MADT, walked by the test itself. */
static size_t entry_offset(const uint8_t *t, int n)
{
    size_t off = 44;
    while (n-- > 0)
        off += t[off + 1];
    return off;
}

static void test_q35_madt_fixed_fields(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_OK);
    assert_int_equal(m.lapic_address, 0xFEE00000u);
    assert_false(m.lapic_overridden);
    assert_true(m.pcat_compat);
    assert_int_equal(m.flags, ACPI_MADT_PCAT_COMPAT);
    free(t);
}

static void test_q35_madt_processors(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_OK);
    assert_int_equal(m.cpu_count, 5);
    assert_int_equal(m.cpu_total, 5);
    const struct {
        uint32_t uid, id;
        bool enabled, online, x2;
    } want[5] = {
        {0, 0, true, false, false}, {1, 1, true, false, false},    {2, 2, false, false, false},
        {3, 4, false, true, false}, {4, 0x100, true, false, true},
    };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(a.cpus[i].uid, want[i].uid);
        assert_int_equal(a.cpus[i].apic_id, want[i].id);
        assert_int_equal(a.cpus[i].enabled, want[i].enabled);
        assert_int_equal(a.cpus[i].online_capable, want[i].online);
        assert_int_equal(a.cpus[i].x2apic, want[i].x2);
    }
    free(t);
}

static void test_q35_madt_ioapic_and_overrides(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_OK);
    assert_int_equal(m.ioapic_count, 1);
    assert_int_equal(a.ioapics[0].id, 0);
    assert_int_equal(a.ioapics[0].address, 0xFEC00000u);
    assert_int_equal(a.ioapics[0].gsi_base, 0);

    assert_int_equal(m.iso_count, 5);
    assert_int_equal(a.isos[0].source, 0);
    assert_int_equal(a.isos[0].gsi, 2);
    assert_int_equal(a.isos[0].inti.polarity, ACPI_ACTIVE_HIGH);
    assert_int_equal(a.isos[0].inti.trigger, ACPI_TRIGGER_EDGE);
    assert_int_equal(a.isos[0].inti.raw, 0);
    assert_int_equal(a.isos[2].source, 9);
    assert_int_equal(a.isos[2].inti.polarity, ACPI_ACTIVE_HIGH);
    assert_int_equal(a.isos[2].inti.trigger, ACPI_TRIGGER_LEVEL);
    assert_int_equal(a.isos[2].inti.raw, 0xD);
    assert_int_equal(a.isos[4].source, 11);
    assert_int_equal(a.isos[4].inti.polarity, ACPI_ACTIVE_LOW);
    assert_int_equal(a.isos[4].inti.trigger, ACPI_TRIGGER_LEVEL);
    free(t);
}

static void test_q35_madt_nmis(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_OK);
    assert_int_equal(m.nmi_source_count, 1);
    assert_int_equal(a.nmis[0].gsi, 23);
    assert_int_equal(a.nmis[0].inti.polarity, ACPI_ACTIVE_LOW);
    assert_int_equal(a.nmis[0].inti.trigger, ACPI_TRIGGER_EDGE);

    assert_int_equal(m.lapic_nmi_count, 2);
    assert_true(a.lnmis[0].all_cpus);
    assert_int_equal(a.lnmis[0].lint, 1);
    assert_false(a.lnmis[0].x2apic);
    assert_int_equal(a.lnmis[0].inti.trigger, ACPI_TRIGGER_EDGE);
    assert_false(a.lnmis[1].all_cpus);
    assert_int_equal(a.lnmis[1].uid, 4);
    assert_int_equal(a.lnmis[1].lint, 0);
    assert_true(a.lnmis[1].x2apic);
    free(t);
}

static void test_iterator_yields_entries_in_table_order(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    struct acpi_madt_iter it;
    uint32_t lapic = 0, flags = 0;
    assert_int_equal(acpi_madt_iter_init(&it, t, len, &lapic, &flags), ACPI_OK);
    assert_int_equal(lapic, 0xFEE00000u);
    assert_int_equal(flags, 1);
    static const uint8_t order[] = {0, 0, 0, 0, 9, 1, 2, 2, 2, 2, 2, 3, 4, 0xA};
    struct acpi_madt_entry e;
    for (size_t i = 0; i < sizeof(order); i++) {
        assert_int_equal(acpi_madt_next(&it, &e), ACPI_OK);
        assert_int_equal(e.type, order[i]);
        assert_int_equal(e.length, t[entry_offset(t, (int)i) + 1]);
    }
    assert_int_equal(acpi_madt_next(&it, &e), ACPI_END);
    assert_int_equal(acpi_madt_next(&it, &e), ACPI_END);
    free(t);
}

static void test_reserved_inti_encodings_take_the_bus_defaults(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    /* ISO for IRQ5: polarity 10b and trigger 10b, both reserved. */
    fx_put16(t + entry_offset(t, 7) + 8, 0x000A);
    fx_fix_checksum(t);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_OK);
    assert_int_equal(a.isos[1].source, 5);
    assert_int_equal(a.isos[1].inti.polarity, ACPI_ACTIVE_HIGH);
    assert_int_equal(a.isos[1].inti.trigger, ACPI_TRIGGER_EDGE);
    assert_int_equal(a.isos[1].inti.raw, 0x000A);
    free(t);
}

static void test_isa_irq_route_applies_overrides(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_OK);
    struct acpi_irq_route r;
    assert_int_equal(acpi_isa_irq_route(a.isos, m.iso_count, 0, &r), ACPI_OK);
    assert_int_equal(r.gsi, 2);
    assert_true(r.overridden);
    assert_int_equal(r.trigger, ACPI_TRIGGER_EDGE);
    assert_int_equal(r.polarity, ACPI_ACTIVE_HIGH);
    assert_int_equal(acpi_isa_irq_route(a.isos, m.iso_count, 9, &r), ACPI_OK);
    assert_int_equal(r.gsi, 9);
    assert_true(r.overridden);
    assert_int_equal(r.trigger, ACPI_TRIGGER_LEVEL);
    assert_int_equal(r.polarity, ACPI_ACTIVE_HIGH);
    assert_int_equal(acpi_isa_irq_route(a.isos, m.iso_count, 1, &r), ACPI_OK);
    assert_int_equal(r.gsi, 1);
    assert_false(r.overridden);
    assert_int_equal(r.trigger, ACPI_TRIGGER_EDGE);
    assert_int_equal(r.polarity, ACPI_ACTIVE_HIGH);
    assert_int_equal(acpi_isa_irq_route(a.isos, m.iso_count, 16, &r), ACPI_ERR_INVALID);
    assert_int_equal(acpi_isa_irq_route(NULL, 1, 1, &r), ACPI_ERR_INVALID);
    assert_int_equal(acpi_isa_irq_route(NULL, 0, 4, &r), ACPI_OK);
    assert_int_equal(r.gsi, 4);
    free(t);
}

static void test_isa_irq_route_ignores_other_buses(void **state)
{
    struct acpi_madt_iso isos[2] = {
        {.bus = 1, .source = 3, .gsi = 40, .inti = {ACPI_ACTIVE_LOW, ACPI_TRIGGER_LEVEL, 0xF}},
        {.bus = 0, .source = 3, .gsi = 19, .inti = {ACPI_ACTIVE_LOW, ACPI_TRIGGER_EDGE, 0x7}},
    };
    struct acpi_irq_route r;
    assert_int_equal(acpi_isa_irq_route(isos, 2, 3, &r), ACPI_OK);
    assert_int_equal(r.gsi, 19);
    assert_int_equal(r.polarity, ACPI_ACTIVE_LOW);
    assert_int_equal(r.trigger, ACPI_TRIGGER_EDGE);
}

static void test_address_override_and_unknown_entries(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_override", &len);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_OK);
    assert_true(m.lapic_overridden);
    assert_int_equal(m.lapic_address, 0x812340000ull); /* the first of two overrides */
    assert_false(m.pcat_compat);
    assert_int_equal(m.cpu_count, 1);
    assert_int_equal(m.ioapic_total, 0);
    assert_int_equal(m.iso_total, 0);
    free(t);
}

static void test_too_many_entries_fills_what_fits(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    m.cpu_cap = 2;
    memset(a.cpus, 0xEE, sizeof(a.cpus));
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_ERR_TOO_MANY);
    assert_int_equal(m.cpu_count, 2);
    assert_int_equal(m.cpu_total, 5);
    assert_int_equal(a.cpus[1].apic_id, 1);
    assert_int_equal(a.cpus[2].apic_id, 0xEEEEEEEEu); /* nothing written past the capacity */
    assert_int_equal(m.iso_count, 5);                 /* the rest is still complete */
    assert_int_equal(m.lapic_nmi_count, 2);
    free(t);
}

static void test_null_arrays_only_count(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    struct acpi_madt_iso isos[16];
    struct acpi_madt m = {.isos = isos, .iso_cap = 16};
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_OK);
    assert_int_equal(m.cpu_count, 0);
    assert_int_equal(m.cpu_total, 5);
    assert_int_equal(m.iso_count, 5);
    free(t);
}

/* Apply edit to a copy of the q35 MADT (the checksum fixed after), then collect it. */
static enum acpi_status collect_edited(void (*edit)(uint8_t *t, size_t *len))
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    edit(t, &len);
    fx_fix_checksum(t);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    /* A heap copy of exactly len bytes, so ASan sees any read past the table. */
    uint8_t *exact = malloc(len);
    memcpy(exact, t, len);
    enum acpi_status st = acpi_madt_collect(exact, len, &m);
    free(exact);
    free(t);
    return st;
}

static void zero_length_entry(uint8_t *t, size_t *len)
{
    t[entry_offset(t, 6) + 1] = 0;
}

static void entry_length_one(uint8_t *t, size_t *len)
{
    t[entry_offset(t, 6) + 1] = 1;
}

static void last_entry_past_the_end(uint8_t *t, size_t *len)
{
    t[entry_offset(t, 13) + 1] = 13;
}

static void entry_shorter_than_its_type(uint8_t *t, size_t *len)
{
    /* An ISO of 8 bytes: the table shrinks by 2 and the entries behind move up. */
    size_t off = entry_offset(t, 6);
    memmove(t + off + 8, t + off + 10, *len - off - 10);
    t[off + 1] = 8;
    *len -= 2;
    fx_put32(t + 4, (uint32_t)*len);
}

static void trailing_byte(uint8_t *t, size_t *len)
{
    /* The same table one byte longer (fx_load's buffer has room): the last byte cannot hold
     * an entry header. */
    t[*len] = 0;
    *len += 1;
    fx_put32(t + 4, (uint32_t)*len);
}

static void header_too_short(uint8_t *t, size_t *len)
{
    *len = 40;
    fx_put32(t + 4, 40);
}

static void lint_2(uint8_t *t, size_t *len)
{
    t[entry_offset(t, 12) + 5] = 2;
}

static void x2apic_lint_2(uint8_t *t, size_t *len)
{
    t[entry_offset(t, 13) + 8] = 2;
}

static void test_broken_entries_are_errors(void **state)
{
    assert_int_equal(collect_edited(zero_length_entry), ACPI_ERR_BAD_ENTRY);
    assert_int_equal(collect_edited(entry_length_one), ACPI_ERR_BAD_ENTRY);
    assert_int_equal(collect_edited(last_entry_past_the_end), ACPI_ERR_BAD_ENTRY);
    assert_int_equal(collect_edited(entry_shorter_than_its_type), ACPI_ERR_BAD_ENTRY);
    assert_int_equal(collect_edited(trailing_byte), ACPI_ERR_BAD_ENTRY);
    assert_int_equal(collect_edited(header_too_short), ACPI_ERR_BAD_LENGTH);
    assert_int_equal(collect_edited(lint_2), ACPI_ERR_BAD_ENTRY);
    assert_int_equal(collect_edited(x2apic_lint_2), ACPI_ERR_BAD_ENTRY);
}

static void test_bad_entry_error_sticks(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    t[entry_offset(t, 2) + 1] = 0;
    fx_fix_checksum(t);
    struct acpi_madt_iter it;
    assert_int_equal(acpi_madt_iter_init(&it, t, len, NULL, NULL), ACPI_OK);
    struct acpi_madt_entry e;
    assert_int_equal(acpi_madt_next(&it, &e), ACPI_OK);
    assert_int_equal(acpi_madt_next(&it, &e), ACPI_OK);
    assert_int_equal(acpi_madt_next(&it, &e), ACPI_ERR_BAD_ENTRY);
    assert_int_equal(acpi_madt_next(&it, &e), ACPI_ERR_BAD_ENTRY);
    free(t);
}

static void test_madt_checksum_signature_and_mapping(void **state)
{
    size_t len;
    uint8_t *t = fx_load("apic_q35", &len);
    struct arrays a;
    struct acpi_madt m = madt_for(&a);
    assert_int_equal(acpi_madt_collect(t, len - 1, &m), ACPI_ERR_BAD_LENGTH);
    t[100] ^= 1;
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_ERR_BAD_CHECKSUM);
    free(t);
    t = fx_load("hpet", &len);
    assert_int_equal(acpi_madt_collect(t, len, &m), ACPI_ERR_BAD_SIGNATURE);
    assert_int_equal(acpi_madt_collect(NULL, len, &m), ACPI_ERR_INVALID);
    assert_int_equal(acpi_madt_collect(t, len, NULL), ACPI_ERR_INVALID);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q35_madt_fixed_fields),
        cmocka_unit_test(test_q35_madt_processors),
        cmocka_unit_test(test_q35_madt_ioapic_and_overrides),
        cmocka_unit_test(test_q35_madt_nmis),
        cmocka_unit_test(test_iterator_yields_entries_in_table_order),
        cmocka_unit_test(test_reserved_inti_encodings_take_the_bus_defaults),
        cmocka_unit_test(test_isa_irq_route_applies_overrides),
        cmocka_unit_test(test_isa_irq_route_ignores_other_buses),
        cmocka_unit_test(test_address_override_and_unknown_entries),
        cmocka_unit_test(test_too_many_entries_fills_what_fits),
        cmocka_unit_test(test_null_arrays_only_count),
        cmocka_unit_test(test_broken_entries_are_errors),
        cmocka_unit_test(test_bad_entry_error_sticks),
        cmocka_unit_test(test_madt_checksum_signature_and_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
