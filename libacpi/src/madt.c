/* madt.c - the Multiple APIC Description Table: entry iterator, collection, ISA IRQ routing. */
#include "acpi/acpi.h"

#include "bytes.h"

#define MADT_LAPIC_ADDRESS 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44

#define CPU_ENABLED 0x1u
#define CPU_ONLINE_CAPABLE 0x2u

/* The smallest length each decoded entry type may have (ACPI 6.5, 5.2.12). */
static uint8_t min_length(uint8_t type)
{
    switch (type) {
    case ACPI_MADT_LAPIC:
        return 8;
    case ACPI_MADT_IOAPIC:
        return 12;
    case ACPI_MADT_ISO:
        return 10;
    case ACPI_MADT_NMI_SOURCE:
        return 8;
    case ACPI_MADT_LAPIC_NMI:
        return 6;
    case ACPI_MADT_LAPIC_OVERRIDE:
        return 12;
    case ACPI_MADT_X2APIC:
        return 16;
    case ACPI_MADT_X2APIC_NMI:
        return 12;
    default:
        return 2;
    }
}

/* MPS INTI flags: bits 0-1 polarity (01 high, 11 low), bits 2-3 trigger (01 edge, 11 level);
 * 00 (conforms to the bus) and the reserved 10 take the ISA defaults. */
static struct acpi_inti decode_inti(uint16_t raw)
{
    struct acpi_inti i = {.polarity = ACPI_ACTIVE_HIGH, .trigger = ACPI_TRIGGER_EDGE, .raw = raw};
    if ((raw & 0x3u) == 0x3u)
        i.polarity = ACPI_ACTIVE_LOW;
    if (((raw >> 2) & 0x3u) == 0x3u)
        i.trigger = ACPI_TRIGGER_LEVEL;
    return i;
}

static struct acpi_madt_cpu decode_cpu(uint32_t uid, uint32_t apic_id, uint32_t flags, bool x2apic)
{
    return (struct acpi_madt_cpu){
        .uid = uid,
        .apic_id = apic_id,
        .enabled = (flags & CPU_ENABLED) != 0,
        .online_capable = (flags & CPU_ENABLED) == 0 && (flags & CPU_ONLINE_CAPABLE) != 0,
        .x2apic = x2apic,
    };
}

enum acpi_status acpi_madt_iter_init(struct acpi_madt_iter *it, const void *table,
                                     size_t mapped_len, uint32_t *lapic_address, uint32_t *flags)
{
    if (it == NULL || table == NULL)
        return ACPI_ERR_INVALID;
    enum acpi_status st = acpi_table_check(table, mapped_len, "APIC");
    if (st != ACPI_OK)
        return st;
    const uint8_t *p = table;
    uint32_t length = acpi_le32(p + 4);
    if (length < MADT_ENTRIES)
        return ACPI_ERR_BAD_LENGTH;
    if (lapic_address != NULL)
        *lapic_address = acpi_le32(p + MADT_LAPIC_ADDRESS);
    if (flags != NULL)
        *flags = acpi_le32(p + MADT_FLAGS);
    *it = (struct acpi_madt_iter){
        .table = p, .length = length, .offset = MADT_ENTRIES, .sticky = ACPI_OK};
    return ACPI_OK;
}

/* Fill e->u from the entry at q, whose length has been checked against min_length. */
static enum acpi_status decode_entry(const uint8_t *q, struct acpi_madt_entry *e)
{
    switch (e->type) {
    case ACPI_MADT_LAPIC:
        e->u.cpu = decode_cpu(q[2], q[3], acpi_le32(q + 4), false);
        break;
    case ACPI_MADT_IOAPIC:
        e->u.ioapic = (struct acpi_madt_ioapic){
            .id = q[2], .address = acpi_le32(q + 4), .gsi_base = acpi_le32(q + 8)};
        break;
    case ACPI_MADT_ISO:
        e->u.iso = (struct acpi_madt_iso){.bus = q[2],
                                          .source = q[3],
                                          .gsi = acpi_le32(q + 4),
                                          .inti = decode_inti(acpi_le16(q + 8))};
        break;
    case ACPI_MADT_NMI_SOURCE:
        e->u.nmi_src = (struct acpi_madt_nmi_source){.inti = decode_inti(acpi_le16(q + 2)),
                                                     .gsi = acpi_le32(q + 4)};
        break;
    case ACPI_MADT_LAPIC_NMI:
        if (q[5] > 1)
            return ACPI_ERR_BAD_ENTRY;
        e->u.lapic_nmi = (struct acpi_madt_lapic_nmi){.uid = q[2],
                                                      .all_cpus = q[2] == 0xFF,
                                                      .inti = decode_inti(acpi_le16(q + 3)),
                                                      .lint = q[5],
                                                      .x2apic = false};
        break;
    case ACPI_MADT_LAPIC_OVERRIDE:
        e->u.lapic_address = acpi_le64(q + 4);
        break;
    case ACPI_MADT_X2APIC:
        e->u.cpu = decode_cpu(acpi_le32(q + 12), acpi_le32(q + 4), acpi_le32(q + 8), true);
        break;
    case ACPI_MADT_X2APIC_NMI: {
        uint32_t uid = acpi_le32(q + 4);
        if (q[8] > 1)
            return ACPI_ERR_BAD_ENTRY;
        e->u.lapic_nmi = (struct acpi_madt_lapic_nmi){.uid = uid,
                                                      .all_cpus = uid == 0xFFFFFFFFu,
                                                      .inti = decode_inti(acpi_le16(q + 2)),
                                                      .lint = q[8],
                                                      .x2apic = true};
        break;
    }
    default:
        break;
    }
    return ACPI_OK;
}

enum acpi_status acpi_madt_next(struct acpi_madt_iter *it, struct acpi_madt_entry *e)
{
    if (it == NULL || e == NULL || it->table == NULL)
        return ACPI_ERR_INVALID;
    if (it->sticky != ACPI_OK)
        return it->sticky;
    ACPI_ASSERT(it->offset <= it->length);
    uint32_t left = it->length - it->offset;
    if (left == 0)
        return ACPI_END;
    const uint8_t *q = it->table + it->offset;
    /* Checked in this order so that no byte past the table is read. */
    if (left < 2 || q[1] < 2 || q[1] > left || q[1] < min_length(q[0])) {
        it->sticky = ACPI_ERR_BAD_ENTRY;
        return it->sticky;
    }
    *e = (struct acpi_madt_entry){.type = q[0], .length = q[1]};
    enum acpi_status st = decode_entry(q, e);
    if (st != ACPI_OK) {
        it->sticky = st;
        return st;
    }
    it->offset += q[1];
    return ACPI_OK;
}

/* Store item in arr[*count] if there is room; always counts it in *total. */
#define COLLECT(arr, cap, count, total, item)                                                      \
    do {                                                                                           \
        if ((arr) != NULL && *(count) < (cap))                                                     \
            (arr)[(*(count))++] = (item);                                                          \
        (*(total))++;                                                                              \
    } while (0)

/* True when entries did not fit into an array the caller provided. */
static bool dropped(const void *arr, size_t count, size_t total)
{
    return arr != NULL && count < total;
}

enum acpi_status acpi_madt_collect(const void *table, size_t mapped_len, struct acpi_madt *m)
{
    if (m == NULL)
        return ACPI_ERR_INVALID;
    struct acpi_madt_iter it;
    uint32_t lapic32, flags;
    enum acpi_status st = acpi_madt_iter_init(&it, table, mapped_len, &lapic32, &flags);
    if (st != ACPI_OK)
        return st;

    m->lapic_address = lapic32;
    m->lapic_overridden = false;
    m->flags = flags;
    m->pcat_compat = (flags & ACPI_MADT_PCAT_COMPAT) != 0;
    m->cpu_count = m->cpu_total = 0;
    m->ioapic_count = m->ioapic_total = 0;
    m->iso_count = m->iso_total = 0;
    m->nmi_source_count = m->nmi_source_total = 0;
    m->lapic_nmi_count = m->lapic_nmi_total = 0;

    struct acpi_madt_entry e;
    while ((st = acpi_madt_next(&it, &e)) == ACPI_OK) {
        switch (e.type) {
        case ACPI_MADT_LAPIC:
        case ACPI_MADT_X2APIC:
            COLLECT(m->cpus, m->cpu_cap, &m->cpu_count, &m->cpu_total, e.u.cpu);
            break;
        case ACPI_MADT_IOAPIC:
            COLLECT(m->ioapics, m->ioapic_cap, &m->ioapic_count, &m->ioapic_total, e.u.ioapic);
            break;
        case ACPI_MADT_ISO:
            COLLECT(m->isos, m->iso_cap, &m->iso_count, &m->iso_total, e.u.iso);
            break;
        case ACPI_MADT_NMI_SOURCE:
            COLLECT(m->nmi_sources, m->nmi_source_cap, &m->nmi_source_count, &m->nmi_source_total,
                    e.u.nmi_src);
            break;
        case ACPI_MADT_LAPIC_NMI:
        case ACPI_MADT_X2APIC_NMI:
            COLLECT(m->lapic_nmis, m->lapic_nmi_cap, &m->lapic_nmi_count, &m->lapic_nmi_total,
                    e.u.lapic_nmi);
            break;
        case ACPI_MADT_LAPIC_OVERRIDE:
            /* The spec allows at most one; the first wins if firmware repeats it. */
            if (!m->lapic_overridden) {
                m->lapic_address = e.u.lapic_address;
                m->lapic_overridden = true;
            }
            break;
        default:
            break;
        }
    }
    if (st != ACPI_END)
        return st;
    if (dropped(m->cpus, m->cpu_count, m->cpu_total) ||
        dropped(m->ioapics, m->ioapic_count, m->ioapic_total) ||
        dropped(m->isos, m->iso_count, m->iso_total) ||
        dropped(m->nmi_sources, m->nmi_source_count, m->nmi_source_total) ||
        dropped(m->lapic_nmis, m->lapic_nmi_count, m->lapic_nmi_total))
        return ACPI_ERR_TOO_MANY;
    return ACPI_OK;
}

enum acpi_status acpi_isa_irq_route(const struct acpi_madt_iso *isos, size_t n, uint8_t irq,
                                    struct acpi_irq_route *out)
{
    if (out == NULL || irq > 15 || (isos == NULL && n > 0))
        return ACPI_ERR_INVALID;
    *out = (struct acpi_irq_route){.gsi = irq,
                                   .polarity = ACPI_ACTIVE_HIGH,
                                   .trigger = ACPI_TRIGGER_EDGE,
                                   .overridden = false};
    for (size_t i = 0; i < n; i++) {
        if (isos[i].bus != 0 || isos[i].source != irq)
            continue;
        out->gsi = isos[i].gsi;
        out->polarity = isos[i].inti.polarity;
        out->trigger = isos[i].inti.trigger;
        out->overridden = true;
        break;
    }
    return ACPI_OK;
}

enum acpi_status acpi_tables_madt(const struct acpi_tables *t, struct acpi_madt *m)
{
    if (t == NULL || m == NULL)
        return ACPI_ERR_INVALID;
    struct acpi_table tab;
    enum acpi_status st = acpi_table_find(t, "APIC", 0, &tab);
    if (st != ACPI_OK)
        return st;
    st = acpi_madt_collect(tab.data, tab.length, m);
    acpi_table_unmap(t, &tab);
    return st;
}
