/* hpet.c - the IA-PC HPET Description Table. */
#include "acpi/acpi.h"

#include "bytes.h"

#define HPET_BLOCK_ID 36
#define HPET_BASE 40 /* Generic Address Structure */
#define HPET_NUMBER 52
#define HPET_MIN_TICK 53
#define HPET_PAGE_PROTECTION 55
#define HPET_SIZE 56

enum acpi_status acpi_hpet_parse(const void *table, size_t mapped_len, struct acpi_hpet *out)
{
    if (table == NULL || out == NULL)
        return ACPI_ERR_INVALID;
    enum acpi_status st = acpi_table_check(table, mapped_len, "HPET");
    if (st != ACPI_OK)
        return st;
    const uint8_t *p = table;
    if (acpi_le32(p + 4) < HPET_SIZE)
        return ACPI_ERR_BAD_LENGTH;

    struct acpi_gas base;
    acpi_read_gas(p + HPET_BASE, &base);
    if (base.space_id != ACPI_SPACE_MEMORY || base.address == 0)
        return ACPI_ERR_UNSUPPORTED;

    uint32_t id = acpi_le32(p + HPET_BLOCK_ID);
    *out = (struct acpi_hpet){
        .address = base.address,
        .hpet_number = p[HPET_NUMBER],
        .min_tick = acpi_le16(p + HPET_MIN_TICK),
        /* Bits 12:8 hold the index of the last comparator, as in the capabilities register. */
        .comparators = (uint8_t)(((id >> 8) & 0x1Fu) + 1),
        .counter_64bit = (id & (1u << 13)) != 0,
        .legacy_replacement = (id & (1u << 15)) != 0,
        .hardware_rev = (uint8_t)(id & 0xFFu),
        .pci_vendor_id = (uint16_t)(id >> 16),
        .page_protection = p[HPET_PAGE_PROTECTION],
    };
    return ACPI_OK;
}

enum acpi_status acpi_tables_hpet(const struct acpi_tables *t, struct acpi_hpet *out)
{
    if (t == NULL || out == NULL)
        return ACPI_ERR_INVALID;
    struct acpi_table tab;
    enum acpi_status st = acpi_table_find(t, "HPET", 0, &tab);
    if (st != ACPI_OK)
        return st;
    st = acpi_hpet_parse(tab.data, tab.length, out);
    acpi_table_unmap(t, &tab);
    return st;
}
