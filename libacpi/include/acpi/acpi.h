/*
 * acpi/acpi.h - ACPI static tables: RSDP, RSDT/XSDT, MADT, HPET, FADT.
 *
 * libacpi depends on no other library of the kit and never dereferences a physical address
 * itself: every table is reached through the embedder's map hook (struct acpi_platform), so
 * the same code runs in a kernel (hook = direct map) and on the host (hook = offset into a
 * buffer). It keeps no global state, takes no locks, allocates nothing and never enables or
 * disables interrupts; every function may run with interrupts off. Nothing here interprets
 * AML: only the fixed-layout tables an interrupt controller and a clock need.
 *
 * Malformed firmware data (bad checksum, a length past the mapping, a MADT entry of length 0
 * or running past the table, more entries than the caller has room for) is reported as an
 * enum acpi_status value, never by a crash or a read outside what the hook mapped.
 *
 * Typical use (see docs/porting-acpi.md):
 *     struct acpi_rsdp_info rsdp;       acpi_rsdp_validate(copy, 36, &rsdp)
 *                                       or acpi_rsdp_find_bios(&plat, &rsdp)
 *     struct acpi_tables t;             acpi_tables_init(&t, &plat, &rsdp)
 *     struct acpi_madt madt = {arrays}; acpi_tables_madt(&t, &madt)
 *     struct acpi_irq_route r;          acpi_isa_irq_route(madt.isos, madt.iso_count, 0, &r)
 */
#ifndef ACPI_ACPI_H
#define ACPI_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MUST_CHECK __attribute__((warn_unused_result))

/* One status enum for every libacpi operation. */
enum acpi_status {
    ACPI_OK = 0,
    ACPI_END,               /* an iterator has no more entries (not an error) */
    ACPI_ERR_INVALID,       /* NULL pointer or nonsense argument from the caller */
    ACPI_ERR_NOT_FOUND,     /* no RSDP in the scanned areas / no table with that signature */
    ACPI_ERR_BAD_CHECKSUM,  /* the bytes of a structure do not sum to 0 mod 256 */
    ACPI_ERR_BAD_LENGTH,    /* a length field too small for the structure, or larger than
                               the bytes available (the copy or the mapping) */
    ACPI_ERR_BAD_SIGNATURE, /* the structure is not what was asked for */
    ACPI_ERR_BAD_REVISION,  /* a revision the structure's layout does not allow */
    ACPI_ERR_BAD_ENTRY,     /* a MADT entry of length 0, shorter than its type needs, or
                               running past the end of the table */
    ACPI_ERR_TOO_MANY,      /* more entries than the caller's arrays or the library's limits
                               hold (what fitted is still filled in) */
    ACPI_ERR_UNMAPPABLE,    /* the map hook could not map the range */
    ACPI_ERR_UNSUPPORTED,   /* valid ACPI but not usable here (e.g. HPET not in memory) */
    ACPI_STATUS_COUNT
};

/* A one-line, constant English description of s (never NULL; "unknown status" for values
 * outside the enum). Safe from any context. */
const char *acpi_status_str(enum acpi_status s);

/*
 * The embedder's hooks. ctx is passed back untouched.
 *   map(ctx, phys, len)   a pointer through which the len bytes of physical memory at phys
 *                         can be read, or NULL if they cannot all be mapped. Required. The
 *                         library reads only [ptr, ptr + len) and never writes.
 *   unmap(ctx, ptr, len)  gives back a mapping made by map (optional; may be NULL for a
 *                         direct map). Every successful map is paired with one unmap.
 * Both are called with whatever interrupt state the caller of libacpi has.
 */
struct acpi_platform {
    void *ctx;
    const void *(*map)(void *ctx, uint64_t phys, size_t len);
    void (*unmap)(void *ctx, const void *ptr, size_t len);
};

/* Sizes and limits. */
#define ACPI_RSDP_V1_SIZE 20u
#define ACPI_RSDP_V2_SIZE 36u
#define ACPI_RSDP_MAX_LENGTH 4096u        /* a larger RSDP length field is rejected */
#define ACPI_HEADER_SIZE 36u              /* the common System Description Table header */
#define ACPI_TABLE_MAX_LENGTH (16u << 20) /* a larger table length field is rejected */
#define ACPI_ROOT_MAX_ENTRIES 1024u       /* RSDT/XSDT entry limit (ACPI_ERR_TOO_MANY above) */

/* Where the BIOS scan looks (ACPI spec, "Finding the RSDP on IA-PC systems"). */
#define ACPI_BDA_EBDA_SEGMENT 0x40Eu /* 16-bit real-mode segment of the EBDA */
#define ACPI_EBDA_SCAN_LENGTH 1024u
#define ACPI_BIOS_AREA_START 0xE0000u
#define ACPI_BIOS_AREA_END 0x100000u /* exclusive */

/* What a validated RSDP says. */
struct acpi_rsdp_info {
    uint8_t revision; /* 0 (ACPI 1.0) or >= 2 (ACPI 2.0+); 1 is treated as 1.0 */
    char oem_id[7];   /* NUL-terminated */
    uint32_t rsdt;    /* physical address of the RSDT (0 if none) */
    uint64_t xsdt;    /* physical address of the XSDT (0 before revision 2, or if none) */
    uint64_t phys;    /* where the RSDP was found (0 when validated from a copy) */
};

/*
 * Validate an RSDP held in memory (e.g. the copy in multiboot2 tag 14 or 15) of len readable
 * bytes and fill *out. Rules: signature "RSD PTR "; the first 20 bytes sum to 0; when
 * revision >= 2, the length field is at least 36, at most len and at most
 * ACPI_RSDP_MAX_LENGTH, and all length bytes sum to 0. A revision >= 2 RSDP given in fewer
 * than 36 bytes is ACPI_ERR_BAD_LENGTH.
 * Errors: INVALID (NULL), BAD_LENGTH, BAD_SIGNATURE, BAD_CHECKSUM. out->phys is set to 0.
 */
ACPI_MUST_CHECK enum acpi_status acpi_rsdp_validate(const void *rsdp, size_t len,
                                                    struct acpi_rsdp_info *out);

/*
 * Validate the RSDP at physical address phys (e.g. from the EFI configuration table) through
 * the map hook, mapping 20 bytes, then, from revision 2 on, 36 bytes and the whole length.
 * Fills *out like acpi_rsdp_validate, with out->phys = phys.
 * Errors: INVALID, UNMAPPABLE, and those of acpi_rsdp_validate.
 */
ACPI_MUST_CHECK enum acpi_status acpi_rsdp_map(const struct acpi_platform *p, uint64_t phys,
                                               struct acpi_rsdp_info *out);

/*
 * Find the RSDP on a BIOS machine: the first 1 KiB of the EBDA (segment read at physical
 * 0x40E; skipped when 0 or not below 0xA0000), then 0xE0000-0xFFFFF, both on 16-byte
 * boundaries only. A candidate whose signature matches but which fails validation is skipped.
 * Fills *out (with out->phys) from the first valid one.
 * Errors: INVALID, NOT_FOUND, UNMAPPABLE (the BIOS area could not be mapped).
 */
ACPI_MUST_CHECK enum acpi_status acpi_rsdp_find_bios(const struct acpi_platform *p,
                                                     struct acpi_rsdp_info *out);

/*
 * Check the System Description Table header at table, of which mapped_len bytes are readable:
 * mapped_len >= 36, 36 <= length field <= mapped_len, bytes [0, length) sum to 0, and - when
 * signature is not NULL - the 4-byte signature matches.
 * Errors: INVALID (NULL table, or a signature shorter than 4 characters), BAD_LENGTH,
 * BAD_SIGNATURE, BAD_CHECKSUM.
 */
ACPI_MUST_CHECK enum acpi_status acpi_table_check(const void *table, size_t mapped_len,
                                                  const char *signature);

/* The root table (RSDT or XSDT) found from an RSDP. Filled by acpi_tables_init; read only. */
struct acpi_tables {
    struct acpi_platform platform;
    uint64_t root_phys; /* physical address of the root table */
    bool xsdt;          /* true: XSDT (64-bit entries), false: RSDT (32-bit entries) */
    uint32_t count;     /* number of entries in the root table */
    uint8_t rsdp_revision;
};

/*
 * Validate the root table named by rsdp and fill *t. The XSDT is used when rsdp->revision >= 2
 * and rsdp->xsdt != 0, else the RSDT. The root table is mapped only during calls.
 * A root length not a whole number of entries past the header ignores the partial entry.
 * Errors: INVALID (NULL, no hook, or no root address), UNMAPPABLE, BAD_LENGTH (incl. longer
 * than ACPI_TABLE_MAX_LENGTH), BAD_SIGNATURE, BAD_CHECKSUM, TOO_MANY (more than
 * ACPI_ROOT_MAX_ENTRIES).
 */
ACPI_MUST_CHECK enum acpi_status acpi_tables_init(struct acpi_tables *t,
                                                  const struct acpi_platform *p,
                                                  const struct acpi_rsdp_info *rsdp);

/* A table mapped through the hook. Give it back with acpi_table_unmap. */
struct acpi_table {
    const void *data; /* the whole table, header included; length bytes readable */
    uint32_t length;
    uint64_t phys;
    char signature[5]; /* NUL-terminated */
    uint8_t revision;
    char oem_id[7];       /* NUL-terminated */
    char oem_table_id[9]; /* NUL-terminated */
};

/*
 * Map and validate (acpi_table_check) the index-th entry of the root table (0 <= index <
 * t->count). On success the table stays mapped until acpi_table_unmap.
 * Errors: INVALID (index out of range), UNMAPPABLE, BAD_LENGTH, BAD_CHECKSUM.
 */
ACPI_MUST_CHECK enum acpi_status acpi_table_at(const struct acpi_tables *t, uint32_t index,
                                               struct acpi_table *out);

/*
 * Map and validate the instance-th (0-based) table with the 4-character signature, in root
 * table order. Entries whose header cannot be mapped or whose signature differs are skipped;
 * a match that fails validation is returned as that error. On success the table stays mapped
 * until acpi_table_unmap.
 * Errors: INVALID, NOT_FOUND, UNMAPPABLE, BAD_LENGTH, BAD_CHECKSUM.
 */
ACPI_MUST_CHECK enum acpi_status acpi_table_find(const struct acpi_tables *t, const char *signature,
                                                 uint32_t instance, struct acpi_table *out);

/* Give back a table from acpi_table_at/acpi_table_find (calls the unmap hook); clears *table.
 * A cleared or zeroed table is ignored. */
void acpi_table_unmap(const struct acpi_tables *t, struct acpi_table *table);

/* ---- Generic Address Structure -------------------------------------------------------- */

enum acpi_address_space {
    ACPI_SPACE_MEMORY = 0,
    ACPI_SPACE_IO = 1,
    ACPI_SPACE_PCI_CONFIG = 2,
};

struct acpi_gas {
    uint8_t space_id; /* enum acpi_address_space or another ACPI value */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size; /* 0 undefined, 1 byte, 2 word, 3 dword, 4 qword */
    uint64_t address;
};

/* ---- MADT ("APIC") --------------------------------------------------------------------- */

enum acpi_madt_type {
    ACPI_MADT_LAPIC = 0,
    ACPI_MADT_IOAPIC = 1,
    ACPI_MADT_ISO = 2,
    ACPI_MADT_NMI_SOURCE = 3,
    ACPI_MADT_LAPIC_NMI = 4,
    ACPI_MADT_LAPIC_OVERRIDE = 5,
    ACPI_MADT_X2APIC = 9,
    ACPI_MADT_X2APIC_NMI = 0xA,
};

#define ACPI_MADT_PCAT_COMPAT 0x1u /* MADT flags: dual 8259s present (mask them in APIC mode) */

enum acpi_polarity { ACPI_ACTIVE_HIGH = 0, ACPI_ACTIVE_LOW = 1 };
enum acpi_trigger { ACPI_TRIGGER_EDGE = 0, ACPI_TRIGGER_LEVEL = 1 };

/* MPS INTI flags decoded. "Conforms to the bus" (and the reserved encoding) are resolved to
 * the ISA defaults, active high and edge; the raw field is kept. */
struct acpi_inti {
    enum acpi_polarity polarity;
    enum acpi_trigger trigger;
    uint16_t raw;
};

/* A processor: MADT type 0 (xAPIC, 8-bit IDs) or 9 (x2APIC, 32-bit IDs). */
struct acpi_madt_cpu {
    uint32_t uid; /* ACPI processor UID */
    uint32_t apic_id;
    bool enabled;        /* usable now */
    bool online_capable; /* disabled but may be brought online (ACPI 6.3+) */
    bool x2apic;         /* came from a type-9 entry */
};

struct acpi_madt_ioapic {
    uint8_t id;
    uint32_t address; /* physical MMIO base */
    uint32_t gsi_base;
};

struct acpi_madt_iso {
    uint8_t bus;    /* 0 = ISA */
    uint8_t source; /* bus-relative IRQ */
    uint32_t gsi;
    struct acpi_inti inti;
};

struct acpi_madt_nmi_source {
    uint32_t gsi;
    struct acpi_inti inti;
};

/* Local APIC NMI (type 4, 8-bit UID) or local x2APIC NMI (type 0xA, 32-bit UID). */
struct acpi_madt_lapic_nmi {
    uint32_t uid;  /* processor UID; see all_cpus */
    bool all_cpus; /* UID 0xFF (type 4) or 0xFFFFFFFF (type 0xA) */
    uint8_t lint;  /* 0 or 1 */
    struct acpi_inti inti;
    bool x2apic;
};

/* One MADT entry, decoded. Unknown types come back with only type and length set. */
struct acpi_madt_entry {
    uint8_t type;
    uint8_t length;
    union {
        struct acpi_madt_cpu cpu;             /* ACPI_MADT_LAPIC, ACPI_MADT_X2APIC */
        struct acpi_madt_ioapic ioapic;       /* ACPI_MADT_IOAPIC */
        struct acpi_madt_iso iso;             /* ACPI_MADT_ISO */
        struct acpi_madt_nmi_source nmi_src;  /* ACPI_MADT_NMI_SOURCE */
        struct acpi_madt_lapic_nmi lapic_nmi; /* ACPI_MADT_LAPIC_NMI, ACPI_MADT_X2APIC_NMI */
        uint64_t lapic_address;               /* ACPI_MADT_LAPIC_OVERRIDE */
    } u;
};

/* Iterator over the entries of a MADT held in memory. Fields are private. */
struct acpi_madt_iter {
    const uint8_t *table;
    uint32_t length;
    uint32_t offset;
    enum acpi_status sticky; /* once an entry is bad, every later call returns it */
};

/*
 * Check the MADT at table (mapped_len readable bytes: acpi_table_check with "APIC", plus the
 * 8 bytes of local APIC address and flags) and start an iterator over its entries.
 * *lapic_address and *flags receive the fixed fields (either may be NULL); the 64-bit override
 * (type 5) is an entry, applied by acpi_madt_collect.
 * Errors: INVALID, BAD_LENGTH, BAD_SIGNATURE, BAD_CHECKSUM.
 */
ACPI_MUST_CHECK enum acpi_status acpi_madt_iter_init(struct acpi_madt_iter *it, const void *table,
                                                     size_t mapped_len, uint32_t *lapic_address,
                                                     uint32_t *flags);

/*
 * Decode the next entry into *e. Returns ACPI_OK with an entry, ACPI_END after the last one,
 * or ACPI_ERR_BAD_ENTRY when an entry's length is below 2, below what its type needs, or runs
 * past the table (and from then on keeps returning that error). Trailing bytes too short for
 * an entry header are BAD_ENTRY as well.
 */
ACPI_MUST_CHECK enum acpi_status acpi_madt_next(struct acpi_madt_iter *it,
                                                struct acpi_madt_entry *e);

/*
 * The whole MADT gathered into caller-provided arrays. Before acpi_madt_collect, set each
 * pointer and its capacity; a NULL array (capacity ignored) means "not wanted": those entries
 * are only counted. After it, *_count is how many entries were stored and *_total how many the
 * table has. When a non-NULL array was too small (total > count), the call returned
 * ACPI_ERR_TOO_MANY after filling it and everything else.
 */
struct acpi_madt {
    /* in */
    struct acpi_madt_cpu *cpus;
    size_t cpu_cap;
    struct acpi_madt_ioapic *ioapics;
    size_t ioapic_cap;
    struct acpi_madt_iso *isos;
    size_t iso_cap;
    struct acpi_madt_nmi_source *nmi_sources;
    size_t nmi_source_cap;
    struct acpi_madt_lapic_nmi *lapic_nmis;
    size_t lapic_nmi_cap;
    /* out */
    uint64_t lapic_address; /* the 32-bit field, or the type-5 override if present */
    bool lapic_overridden;
    uint32_t flags;   /* ACPI_MADT_PCAT_COMPAT, ... */
    bool pcat_compat; /* 8259s present */
    size_t cpu_count, cpu_total;
    size_t ioapic_count, ioapic_total;
    size_t iso_count, iso_total;
    size_t nmi_source_count, nmi_source_total;
    size_t lapic_nmi_count, lapic_nmi_total;
};

/*
 * Walk the MADT at table (mapped_len readable bytes) into m (see struct acpi_madt). Entries of
 * types this library does not decode are skipped (after the length checks).
 * Errors: INVALID, BAD_LENGTH, BAD_SIGNATURE, BAD_CHECKSUM, BAD_ENTRY (outputs undefined),
 * TOO_MANY (outputs valid, entries past a non-NULL array's capacity dropped).
 */
ACPI_MUST_CHECK enum acpi_status acpi_madt_collect(const void *table, size_t mapped_len,
                                                   struct acpi_madt *m);

/* How an ISA IRQ reaches the I/O APIC. */
struct acpi_irq_route {
    uint32_t gsi;
    enum acpi_polarity polarity;
    enum acpi_trigger trigger;
    bool overridden; /* an interrupt source override (bus 0) named this IRQ */
};

/*
 * Route ISA IRQ irq (0..15) through the overrides isos[0..n) (as filled by
 * acpi_madt_collect): the first override with bus 0 and source irq decides; otherwise the
 * identity mapping, edge, active high. isos may be NULL when n is 0.
 * Errors: INVALID (irq > 15, NULL out, or NULL isos with n > 0).
 */
ACPI_MUST_CHECK enum acpi_status acpi_isa_irq_route(const struct acpi_madt_iso *isos, size_t n,
                                                    uint8_t irq, struct acpi_irq_route *out);

/* ---- HPET ("HPET") --------------------------------------------------------------------- */

struct acpi_hpet {
    uint64_t address; /* MMIO base of the event timer block (system memory) */
    uint8_t hpet_number;
    uint16_t min_tick;       /* main counter minimum clock tick in periodic mode */
    uint8_t comparators;     /* number of comparators in the first block (1..32) */
    bool counter_64bit;      /* COUNT_SIZE_CAP */
    bool legacy_replacement; /* LegacyReplacement IRQ routing capable */
    uint8_t hardware_rev;
    uint16_t pci_vendor_id;
    uint8_t page_protection; /* low 4 bits: 0 none, 1 4 KiB, 2 64 KiB */
};

/*
 * Parse the HPET table at table (mapped_len readable bytes; it must be at least 56 bytes).
 * Errors: INVALID, BAD_LENGTH, BAD_SIGNATURE, BAD_CHECKSUM, UNSUPPORTED (base address not in
 * system memory, or 0).
 */
ACPI_MUST_CHECK enum acpi_status acpi_hpet_parse(const void *table, size_t mapped_len,
                                                 struct acpi_hpet *out);

/* ---- FADT ("FACP") --------------------------------------------------------------------- */

/* FADT Flags bits used here. */
#define ACPI_FADT_TMR_VAL_EXT (1u << 8)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED (1u << 20)
/* IAPC_BOOT_ARCH bits. */
#define ACPI_BOOT_LEGACY_DEVICES (1u << 0)
#define ACPI_BOOT_8042 (1u << 1)
#define ACPI_BOOT_NO_VGA (1u << 2)
#define ACPI_BOOT_NO_MSI (1u << 3)
#define ACPI_BOOT_NO_CMOS_RTC (1u << 5)

/* The FADT fields a kernel needs before it has an AML interpreter. Fields the table is too
 * short (or its revision too old) to contain read as absent (has_* false, 0), never as bytes
 * from past its end. */
struct acpi_fadt {
    uint8_t revision;
    uint32_t length;
    uint32_t flags; /* 0 when the table ends before the Flags field */
    uint16_t sci_irq;
    uint64_t dsdt; /* X_DSDT when present and non-zero, else DSDT */
    uint64_t facs; /* X_FIRMWARE_CTRL when present and non-zero, else FIRMWARE_CTRL */

    /* PM timer: X_PM_TMR_BLK when present with a non-zero address in memory or I/O space,
     * else PM_TMR_BLK (I/O port) when non-zero and PM_TMR_LEN >= 4. */
    bool has_pm_timer;
    struct acpi_gas pm_timer;
    uint8_t pm_timer_bits; /* 32 with TMR_VAL_EXT, else 24 */

    /* Reset register: only when the table holds it, RESET_REG_SUP is set and the address is
     * non-zero. Write reset_value to it to reset the machine. */
    bool has_reset;
    struct acpi_gas reset_reg;
    uint8_t reset_value;

    /* IAPC_BOOT_ARCH: only from revision 3 (ACPI 2.0) on; earlier it is reserved. */
    bool has_boot_arch;
    uint16_t boot_arch;  /* ACPI_BOOT_* bits */
    bool legacy_devices; /* ACPI_BOOT_LEGACY_DEVICES */
    bool i8042;          /* ACPI_BOOT_8042 */
    bool no_vga;         /* ACPI_BOOT_NO_VGA */

    uint8_t century; /* CMOS RTC index of the century, 0 if none */
    bool hw_reduced; /* HW_REDUCED_ACPI: no fixed hardware (no PM timer, no SCI_EN) */
};

/*
 * Parse the FADT at table (mapped_len readable bytes). A revision-1 FADT of 116 bytes is
 * valid; anything shorter than the fields up to SCI_INT (48 bytes) is BAD_LENGTH.
 * Errors: INVALID, BAD_LENGTH, BAD_SIGNATURE, BAD_CHECKSUM.
 */
ACPI_MUST_CHECK enum acpi_status acpi_fadt_parse(const void *table, size_t mapped_len,
                                                 struct acpi_fadt *out);

/* ---- Convenience: find + parse + unmap ----------------------------------------------- */

/* acpi_table_find(t, "APIC", 0) then acpi_madt_collect; the table is unmapped before return.
 * Errors: those of both calls. */
ACPI_MUST_CHECK enum acpi_status acpi_tables_madt(const struct acpi_tables *t, struct acpi_madt *m);
/* acpi_table_find(t, "HPET", 0) then acpi_hpet_parse. */
ACPI_MUST_CHECK enum acpi_status acpi_tables_hpet(const struct acpi_tables *t,
                                                  struct acpi_hpet *out);
/* acpi_table_find(t, "FACP", 0) then acpi_fadt_parse. */
ACPI_MUST_CHECK enum acpi_status acpi_tables_fadt(const struct acpi_tables *t,
                                                  struct acpi_fadt *out);

#endif /* ACPI_ACPI_H */
