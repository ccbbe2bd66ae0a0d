/*
 * acpi_fixture.h - fake physical memory for the libacpi tests, and the iasl-built tables.
 *
 * The map hook hands out a fresh heap copy of exactly the bytes asked for, so a read past a
 * mapping is a heap-buffer-overflow under ASan, and a missing unmap shows in fx->live (and as
 * a leak). Tables come from the .dsl sources in tables/, compiled by iasl at build time into
 * ACPI_TABLES_DIR.
 */
#ifndef ACPI_FIXTURE_H
#define ACPI_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/acpi.h"

/* Where fx_standard places each table (the RSDT/XSDT sources name these addresses). */
#define FX_RSDT 0x100000u
#define FX_XSDT 0x101000u
#define FX_FACP6 0x102000u
#define FX_APIC 0x103000u
#define FX_HPET 0x104000u
#define FX_FACP1 0x105000u
#define FX_APIC2 0x106000u
#define FX_MEM_SIZE 0x200000u /* fake physical memory: [0, 2 MiB) */

struct fx_mem {
    uint8_t *mem;
    size_t size;
    long live;          /* maps not yet unmapped */
    unsigned long maps; /* map calls that succeeded */
    bool direct;        /* map returns pointers into mem itself, like a kernel's direct map */
};

/* Fresh fake memory of size bytes, zeroed; fx_free checks that every mapping was returned. */
void fx_init(struct fx_mem *m, size_t size);
void fx_free(struct fx_mem *m);
/* A platform whose hooks reach m. */
struct acpi_platform fx_platform(struct fx_mem *m);

/* The compiled table name (e.g. "apic_q35"): a malloc'd copy, its size in *len. */
uint8_t *fx_load(const char *name, size_t *len);
/* Load a table into fake memory at phys; returns its size. */
size_t fx_place(struct fx_mem *m, uint64_t phys, const char *name);
/* Fake memory with the RSDT, XSDT and all the tables they name at the FX_* addresses. */
void fx_standard(struct fx_mem *m);

/* Set a table's length field and fix its checksum (byte 9) so only the change is wrong. */
void fx_set_length(uint8_t *table, uint32_t length);
void fx_fix_checksum(uint8_t *table);
/* Fix the RSDP checksums (byte 8 over 20 bytes; byte 32 over the length field's bytes). */
void fx_fix_rsdp(uint8_t *rsdp);

/* Little-endian stores for hand-broken variants. */
void fx_put16(uint8_t *p, uint16_t v);
void fx_put32(uint8_t *p, uint32_t v);
void fx_put64(uint8_t *p, uint64_t v);

#endif /* ACPI_FIXTURE_H */
