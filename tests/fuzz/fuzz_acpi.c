/* libFuzzer target: random bytes as one ACPI table, or as physical memory holding an RSDP and
 * the tables it leads to. The map hook hands out heap copies of exactly the bytes asked for,
 * so any read past a mapping is caught by ASan. Invariants checked on success: MADT counts
 * within capacities and totals, TOO_MANY only when something was dropped, FADT optional
 * fields only when the table holds them, every mapping given back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_acpi: %s:%d: %s\n", __FILE__, __LINE__, #c);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct mem {
    const uint8_t *bytes;
    size_t size;
    uint64_t base;
    long live;
};

static const void *map(void *ctx, uint64_t phys, size_t len)
{
    struct mem *m = ctx;
    if (len == 0 || phys < m->base || phys - m->base > m->size || len > m->size - (phys - m->base))
        return NULL;
    uint8_t *copy = malloc(len);
    CHECK(copy != NULL);
    memcpy(copy, m->bytes + (phys - m->base), len);
    m->live++;
    return copy;
}

static void unmap(void *ctx, const void *ptr, size_t len)
{
    struct mem *m = ctx;
    CHECK(ptr != NULL && len > 0);
    m->live--;
    free((void *)ptr);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_madt(const uint8_t *t, size_t n)
{
    struct acpi_madt_cpu cpus[3];
    struct acpi_madt_ioapic ioapics[2];
    struct acpi_madt_iso isos[4];
    struct acpi_madt_lapic_nmi lnmis[2];
    struct acpi_madt m = {.cpus = cpus,
                          .cpu_cap = 3,
                          .ioapics = ioapics,
                          .ioapic_cap = 2,
                          .isos = isos,
                          .iso_cap = 4,
                          .lapic_nmis = lnmis,
                          .lapic_nmi_cap = 2};
    enum acpi_status st = acpi_madt_collect(t, n, &m);
    if (st == ACPI_OK || st == ACPI_ERR_TOO_MANY) {
        CHECK(m.cpu_count <= 3 && m.cpu_count <= m.cpu_total);
        CHECK(m.ioapic_count <= 2 && m.ioapic_count <= m.ioapic_total);
        CHECK(m.iso_count <= 4 && m.iso_count <= m.iso_total);
        CHECK(m.lapic_nmi_count <= 2 && m.lapic_nmi_count <= m.lapic_nmi_total);
        CHECK(m.nmi_source_count == 0); /* NULL array: only counted */
        bool dropped = m.cpu_count < m.cpu_total || m.ioapic_count < m.ioapic_total ||
                       m.iso_count < m.iso_total || m.lapic_nmi_count < m.lapic_nmi_total;
        CHECK(dropped == (st == ACPI_ERR_TOO_MANY));
        for (uint8_t irq = 0; irq < 16; irq++) {
            struct acpi_irq_route r;
            CHECK(acpi_isa_irq_route(isos, m.iso_count, irq, &r) == ACPI_OK);
            CHECK(r.overridden || r.gsi == irq);
        }
    }

    /* The iterator agrees with collect about where the walk ends. */
    struct acpi_madt_iter it;
    if (acpi_madt_iter_init(&it, t, n, NULL, NULL) == ACPI_OK) {
        struct acpi_madt_entry e;
        size_t seen = 0;
        while ((st = acpi_madt_next(&it, &e)) == ACPI_OK) {
            CHECK(e.length >= 2);
            seen++;
        }
        CHECK(st == ACPI_END || st == ACPI_ERR_BAD_ENTRY);
        CHECK(acpi_madt_next(&it, &e) == st);
        CHECK(seen <= n / 2);
    }
}

static void check_single(const uint8_t *t, size_t n)
{
    (void)acpi_table_check(t, n, NULL);
    check_madt(t, n);

    struct acpi_hpet h;
    if (acpi_hpet_parse(t, n, &h) == ACPI_OK)
        CHECK(h.address != 0 && h.comparators >= 1 && h.comparators <= 32);

    struct acpi_fadt f;
    if (acpi_fadt_parse(t, n, &f) == ACPI_OK) {
        CHECK(f.length <= n);
        CHECK(!f.has_reset || ((f.flags & ACPI_FADT_RESET_REG_SUP) && f.length >= 129));
        CHECK(!f.has_boot_arch || (f.revision >= 3 && f.length >= 111));
        CHECK(f.pm_timer_bits == 24 || f.pm_timer_bits == 32);
        CHECK(!f.has_pm_timer || f.pm_timer.address != 0);
    }

    struct acpi_rsdp_info r;
    if (acpi_rsdp_validate(t, n, &r) == ACPI_OK)
        CHECK(r.revision >= 2 || r.xsdt == 0);
}

static void walk(struct mem *m, const struct acpi_rsdp_info *r)
{
    struct acpi_platform p = {.ctx = m, .map = map, .unmap = unmap};
    struct acpi_tables t;
    if (acpi_tables_init(&t, &p, r) != ACPI_OK)
        return;
    CHECK(t.count <= ACPI_ROOT_MAX_ENTRIES);
    for (uint32_t i = 0; i < t.count && i < 64; i++) {
        struct acpi_table tab;
        if (acpi_table_at(&t, i, &tab) == ACPI_OK) {
            CHECK(tab.length >= ACPI_HEADER_SIZE);
            check_single(tab.data, tab.length);
            acpi_table_unmap(&t, &tab);
        }
    }
    struct acpi_madt_iso isos[2];
    struct acpi_madt madt = {.isos = isos, .iso_cap = 2};
    (void)acpi_tables_madt(&t, &madt);
    struct acpi_hpet h;
    (void)acpi_tables_hpet(&t, &h);
    struct acpi_fadt f;
    (void)acpi_tables_fadt(&t, &f);
    struct acpi_table tab;
    if (acpi_table_find(&t, "SSDT", 1, &tab) == ACPI_OK)
        acpi_table_unmap(&t, &tab);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    size_t n = size - 1;
    uint8_t *buf = malloc(n ? n : 1);
    CHECK(buf != NULL);
    memcpy(buf, data + 1, n);

    switch (mode % 3) {
    case 0:
        /* One table. With bit 7, its checksum is fixed first so parsing goes deeper. */
        if ((mode & 0x80) && n >= ACPI_HEADER_SIZE && le32(buf + 4) <= n &&
            le32(buf + 4) >= ACPI_HEADER_SIZE) {
            uint8_t s = 0;
            buf[9] = 0;
            for (size_t i = 0; i < le32(buf + 4); i++)
                s = (uint8_t)(s + buf[i]);
            buf[9] = (uint8_t)-s;
        }
        check_single(buf, n);
        break;
    case 1: {
        /* Physical memory from 0, with an RSDP copy at its start. */
        struct mem m = {.bytes = buf, .size = n, .base = 0};
        struct acpi_rsdp_info r;
        struct acpi_platform p = {.ctx = &m, .map = map, .unmap = unmap};
        if (acpi_rsdp_map(&p, 0, &r) == ACPI_OK) {
            CHECK(r.phys == 0);
            walk(&m, &r);
        } else if (acpi_rsdp_validate(buf, n, &r) == ACPI_OK)
            walk(&m, &r);
        else if (n >= 12) /* or an RSDP the input names directly */
            walk(&m, &(struct acpi_rsdp_info){
                         .revision = buf[0], .rsdt = le32(buf + 4), .xsdt = le32(buf + 8)});
        CHECK(m.live == 0);
        break;
    }
    default: {
        /* The BIOS area 0xE0000-0xFFFFF, zero but for the input placed at a 16-byte slot
         * its first two bytes choose; scanned for an RSDP. */
        size_t area = ACPI_BIOS_AREA_END - ACPI_BIOS_AREA_START;
        uint8_t *bios = calloc(1, area);
        CHECK(bios != NULL);
        if (n >= 2) {
            size_t at = ((size_t)(buf[0] | buf[1] << 8) * 16) % area;
            size_t len = n - 2 < area - at ? n - 2 : area - at;
            memcpy(bios + at, buf + 2, len);
        }
        struct mem m = {.bytes = bios, .size = area, .base = ACPI_BIOS_AREA_START};
        struct acpi_platform p = {.ctx = &m, .map = map, .unmap = unmap};
        struct acpi_rsdp_info r;
        if (acpi_rsdp_find_bios(&p, &r) == ACPI_OK) {
            CHECK(r.phys >= ACPI_BIOS_AREA_START && r.phys % 16 == 0);
            walk(&m, &r);
        }
        CHECK(m.live == 0);
        free(bios);
        break;
    }
    }
    free(buf);
    return 0;
}
