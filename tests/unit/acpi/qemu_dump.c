/*
 * qemu_dump.c - read the ACPI tables out of a QEMU guest's memory image with libacpi.
 *
 * Usage: qemu_dump <file>. The file is a pmemsave of guest-physical memory from address 0,
 * taken after the firmware (SeaBIOS, qboot) installed its tables. Prints one "key=value"
 * line per fact; tests/unit/acpi/qemu_tables.py compares them with what QEMU documents.
 */
#include <stdio.h>
#include <stdlib.h>

#include "acpi/acpi.h"

struct image {
    unsigned char *bytes;
    size_t size;
};

static const void *image_map(void *ctx, uint64_t phys, size_t len)
{
    struct image *im = ctx;
    if (phys > im->size || len > im->size - phys)
        return NULL;
    return im->bytes + phys;
}

static const char *space(uint8_t id)
{
    return id == ACPI_SPACE_IO ? "io" : id == ACPI_SPACE_MEMORY ? "mem" : "other";
}

static int fail(const char *what, enum acpi_status st)
{
    printf("error=%s:%s\n", what, acpi_status_str(st));
    return 1;
}

static void print_route(const struct acpi_madt_iso *isos, size_t n, uint8_t irq)
{
    struct acpi_irq_route r;
    if (acpi_isa_irq_route(isos, n, irq, &r) != ACPI_OK)
        return;
    printf("irq%u=gsi:%u,%s,%s%s\n", irq, r.gsi, r.trigger == ACPI_TRIGGER_LEVEL ? "level" : "edge",
           r.polarity == ACPI_ACTIVE_LOW ? "low" : "high", r.overridden ? ",override" : "");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <memory image>\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    static struct image im;
    fseek(f, 0, SEEK_END);
    im.size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    im.bytes = malloc(im.size);
    if (im.bytes == NULL || fread(im.bytes, 1, im.size, f) != im.size) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    fclose(f);

    struct acpi_platform p = {.ctx = &im, .map = image_map};
    struct acpi_rsdp_info rsdp;
    enum acpi_status st = acpi_rsdp_find_bios(&p, &rsdp);
    if (st != ACPI_OK)
        return fail("rsdp", st);
    printf("rsdp=0x%llx revision=%u oem=%s\n", (unsigned long long)rsdp.phys, rsdp.revision,
           rsdp.oem_id);

    struct acpi_tables t;
    st = acpi_tables_init(&t, &p, &rsdp);
    if (st != ACPI_OK)
        return fail("root", st);
    printf("root=%s count=%u\n", t.xsdt ? "xsdt" : "rsdt", t.count);
    for (uint32_t i = 0; i < t.count; i++) {
        struct acpi_table tab;
        st = acpi_table_at(&t, i, &tab);
        if (st != ACPI_OK)
            return fail("table", st);
        printf("table=%s length=%u revision=%u\n", tab.signature, tab.length, tab.revision);
        acpi_table_unmap(&t, &tab);
    }

    static struct acpi_madt_cpu cpus[64];
    static struct acpi_madt_ioapic ioapics[8];
    static struct acpi_madt_iso isos[16];
    static struct acpi_madt_lapic_nmi nmis[8];
    struct acpi_madt m = {.cpus = cpus,
                          .cpu_cap = 64,
                          .ioapics = ioapics,
                          .ioapic_cap = 8,
                          .isos = isos,
                          .iso_cap = 16,
                          .lapic_nmis = nmis,
                          .lapic_nmi_cap = 8};
    st = acpi_tables_madt(&t, &m);
    if (st != ACPI_OK)
        return fail("madt", st);
    size_t enabled = 0;
    for (size_t i = 0; i < m.cpu_count; i++)
        enabled += cpus[i].enabled;
    printf("lapic=0x%llx pcat=%d cpus=%zu enabled=%zu\n", (unsigned long long)m.lapic_address,
           m.pcat_compat, m.cpu_count, enabled);
    for (size_t i = 0; i < m.ioapic_count; i++)
        printf("ioapic=id:%u,0x%x,gsi_base:%u\n", ioapics[i].id, ioapics[i].address,
               ioapics[i].gsi_base);
    printf("isos=%zu lapic_nmis=%zu nmi_sources=%zu\n", m.iso_count, m.lapic_nmi_count,
           m.nmi_source_total);
    for (size_t i = 0; i < m.lapic_nmi_count; i++)
        printf("lapic_nmi=%s,lint%u\n", nmis[i].all_cpus ? "all" : "one", nmis[i].lint);
    for (uint8_t irq = 0; irq < 16; irq++)
        print_route(isos, m.iso_count, irq);

    struct acpi_hpet h;
    st = acpi_tables_hpet(&t, &h);
    if (st == ACPI_OK)
        printf("hpet=0x%llx comparators=%u counter64=%d legacy=%d min_tick=%u\n",
               (unsigned long long)h.address, h.comparators, h.counter_64bit, h.legacy_replacement,
               h.min_tick);
    else
        printf("hpet=%s\n", acpi_status_str(st));

    struct acpi_fadt fa;
    st = acpi_tables_fadt(&t, &fa);
    if (st != ACPI_OK)
        return fail("fadt", st);
    printf("fadt=revision:%u,length:%u sci=%u century=0x%x\n", fa.revision, fa.length, fa.sci_irq,
           fa.century);
    if (fa.has_pm_timer)
        printf("pm_timer=%s:0x%llx,%ubit\n", space(fa.pm_timer.space_id),
               (unsigned long long)fa.pm_timer.address, fa.pm_timer_bits);
    else
        printf("pm_timer=none\n");
    if (fa.has_reset)
        printf("reset=%s:0x%llx,value:0x%x\n", space(fa.reset_reg.space_id),
               (unsigned long long)fa.reset_reg.address, fa.reset_value);
    else
        printf("reset=none\n");
    if (fa.has_boot_arch)
        printf("boot_arch=0x%x i8042=%d no_vga=%d legacy=%d\n", fa.boot_arch, fa.i8042, fa.no_vga,
               fa.legacy_devices);
    else
        printf("boot_arch=absent\n");
    free(im.bytes);
    return 0;
}
