/*
 * bootinfo.h - the boot information both loader paths are normalised into, and the parsers
 * that build it from a multiboot1 or multiboot2 information structure.
 *
 * The parsers never trust the loader: every size and offset is checked against the bytes the
 * caller says are readable, and a malformed structure yields an error status, never a read
 * past the end. They are plain C, so the host tests run them over synthetic blobs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KBOOT_MAX_MMAP 128
#define KBOOT_MAX_MODULES 16
#define KBOOT_MAX_SECTIONS 64
#define KBOOT_CMDLINE_MAX 256
#define KBOOT_NAME_MAX 64

/* Memory types as the multiboot specifications number them. */
enum kboot_mem_type {
    KBOOT_MEM_USABLE = 1,
    KBOOT_MEM_RESERVED = 2,
    KBOOT_MEM_ACPI_RECLAIMABLE = 3,
    KBOOT_MEM_ACPI_NVS = 4,
    KBOOT_MEM_BAD = 5,
};

struct kboot_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* enum kboot_mem_type; unknown values are kept and count as reserved */
};

struct kboot_module {
    uint64_t start, end; /* physical, end exclusive */
    char name[KBOOT_NAME_MAX];
};

struct kboot_section {
    uint64_t addr, size, flags; /* ELF section header fields (virtual address) */
    uint32_t type;
};

/* The screen the loader set up (multiboot2 framebuffer tag, or multiboot1 flags bit 12). */
enum kboot_fb_kind {
    KBOOT_FB_NONE = 0,     /* no framebuffer described (or it was rejected) */
    KBOOT_FB_RGB = 1,      /* direct colour: pixels at phys, `pitch` bytes per row */
    KBOOT_FB_EGA_TEXT = 2, /* EGA/VGA text mode: use the VGA text console */
};

struct kboot_framebuffer {
    enum kboot_fb_kind kind;
    uint64_t phys;                 /* physical address of the first pixel (or text cell) */
    uint32_t pitch, width, height; /* bytes per row; pixels (or characters) */
    uint8_t bpp;                   /* bits per pixel: 15, 16, 24 or 32 for RGB */
    uint8_t red_pos, red_size;     /* bit position and width of each colour field */
    uint8_t green_pos, green_size;
    uint8_t blue_pos, blue_size;
};

/* Sizes of the ACPI RSDP copies multiboot2 passes (tags 14 and 15). */
#define KBOOT_RSDP_V1_SIZE 20
#define KBOOT_RSDP_V2_SIZE 36

enum kboot_protocol { KBOOT_PROTOCOL_NONE = 0, KBOOT_MULTIBOOT1 = 1, KBOOT_MULTIBOOT2 = 2 };

/* Problems the parser found and worked around: the offending item was dropped (or, for
 * KBOOT_NOTE_*, only noted) and the rest of the boot information is valid. Each is one bit
 * of kboot_info.warnings; kboot_warning_str() describes it. */
enum kboot_warning {
    KBOOT_WARN_FB_TRUNCATED = 1u << 0, /* framebuffer tag too short for its type */
    KBOOT_WARN_FB_INDEXED = 1u << 1,   /* indexed-colour framebuffer (not supported) */
    KBOOT_WARN_FB_TYPE = 1u << 2,      /* unknown framebuffer type */
    KBOOT_WARN_FB_ZERO = 1u << 3,      /* zero address, width, height or pitch */
    KBOOT_WARN_FB_BPP = 1u << 4,       /* bits per pixel not 15/16/24/32 (16 for EGA text) */
    KBOOT_WARN_FB_PITCH = 1u << 5,     /* pitch smaller than width x bytes per pixel */
    KBOOT_WARN_FB_WRAPS = 1u << 6,     /* buffer wraps or ends past the physical address space */
    KBOOT_WARN_FB_FIELDS = 1u << 7,    /* colour fields empty, overlapping or outside a pixel */
    KBOOT_WARN_FB_IN_RAM = 1u << 8,    /* buffer overlaps usable RAM in the memory map */
    KBOOT_WARN_BAD_MODULE = 1u << 9,   /* a module with end < start was dropped */
    KBOOT_WARN_RSDP_SHORT = 1u << 10,  /* an ACPI RSDP tag shorter than the RSDP was dropped */
    KBOOT_WARN_EFI_MMAP = 1u << 11,    /* malformed EFI memory map tag ignored */
    KBOOT_NOTE_EFI_BOOT_SERVICES = 1u << 12, /* tag 18: EFI boot services not terminated */
    KBOOT_NOTE_MMAP_FROM_EFI = 1u << 13,     /* memory map built from the EFI map (tag 17) */
};
#define KBOOT_WARN_FB_ANY 0x1FFu /* the framebuffer bits: the framebuffer was rejected */
#define KBOOT_WARNING_BITS 14

struct kboot_info {
    enum kboot_protocol protocol;
    uint64_t info_phys, info_size; /* where the loader's structure is (to keep it reserved) */
    char cmdline[KBOOT_CMDLINE_MAX];
    char loader[KBOOT_NAME_MAX];
    size_t mmap_count;
    struct kboot_mmap_entry mmap[KBOOT_MAX_MMAP];
    size_t module_count;
    struct kboot_module modules[KBOOT_MAX_MODULES];
    size_t section_count;
    struct kboot_section sections[KBOOT_MAX_SECTIONS];
    uint64_t mem_lower_kib, mem_upper_kib; /* basic memory info when given, else 0 */
    struct kboot_framebuffer fb;
    /* Copies of the ACPI RSDP from the loader: the ACPI 1.0 form (tag 14) and the 2.0+ form
     * (tag 15), each present when its flag is set. Neither on multiboot1: scan the BIOS areas. */
    bool has_rsdp_v1, has_rsdp_v2;
    uint8_t rsdp_v1[KBOOT_RSDP_V1_SIZE];
    uint8_t rsdp_v2[KBOOT_RSDP_V2_SIZE];
    bool truncated;    /* more entries than the arrays hold were dropped, or a string was cut */
    uint32_t warnings; /* enum kboot_warning bits */
    /* EFI: the system table (tag 12, or tag 11 on 32-bit firmware), the EFI memory map as the
     * loader passed it (tag 17: descriptors at efi_mmap_phys, efi_mmap_size bytes), and
     * whether boot services were left running (tag 18). */
    bool has_efi_system_table, efi_system_table_64, efi_boot_services;
    uint64_t efi_system_table;
    bool has_efi_mmap;
    uint64_t efi_mmap_phys;
    uint32_t efi_mmap_size, efi_desc_size, efi_desc_version;
};

enum kboot_status {
    KBOOT_OK = 0,
    KBOOT_BAD_MAGIC,      /* the loader's magic number is not one we know */
    KBOOT_UNREADABLE,     /* the structure lies (partly) outside readable memory */
    KBOOT_MISALIGNED,     /* structure or tag not 8-byte aligned (multiboot2) */
    KBOOT_BAD_TOTAL_SIZE, /* total size smaller than the header or past readable memory */
    KBOOT_TRUNCATED_TAG,  /* a tag's size is too small for its type or runs past the total */
    KBOOT_NO_END_TAG,     /* the tag list ended without the terminating tag */
    KBOOT_BAD_MMAP,       /* memory map entry size too small or not a multiple as required */
    KBOOT_NO_MEMORY_MAP,  /* neither a memory map nor basic memory information */
};

/* The physical memory the parser may read: physical address p is at virt[p], readable for
 * p < limit. In the kernel virt is the direct map; in host tests a buffer. */
struct kboot_mem {
    const uint8_t *virt;
    uint64_t limit;
};

#define KBOOT_MB1_MAGIC 0x2BADB002u
#define KBOOT_MB2_MAGIC 0x36D76289u

/* Normalise the structure at physical `info` given the loader's `magic` (either protocol).
 * Returns KBOOT_OK and fills *out, or an error and leaves *out in a defined but partial state. */
__attribute__((warn_unused_result)) enum kboot_status
kboot_parse(uint32_t magic, uint64_t info, const struct kboot_mem *mem, struct kboot_info *out);

/* The multiboot2 parser alone: `info` is the physical address of the fixed header
 * (total_size, reserved) followed by 8-byte aligned tags ending in an end tag. */
__attribute__((warn_unused_result)) enum kboot_status
kboot_parse_mb2(uint64_t info, const struct kboot_mem *mem, struct kboot_info *out);

/* The multiboot1 parser alone: `info` is the physical address of the information structure;
 * the memory map, command line, loader name and modules are followed through their physical
 * pointers, each checked against `mem`. A string pointer outside readable memory gives "". */
__attribute__((warn_unused_result)) enum kboot_status
kboot_parse_mb1(uint64_t info, const struct kboot_mem *mem, struct kboot_info *out);

/* A short English description of a status, for error messages. */
const char *kboot_status_str(enum kboot_status status);

/* A short English description of one enum kboot_warning bit (for boot messages). */
const char *kboot_warning_str(uint32_t bit);

/* Check a framebuffer description (kind RGB or EGA text) as the parser does: returns 0 when it
 * is usable, else the KBOOT_WARN_FB_* bit of the first problem. Does not consult a memory map. */
uint32_t kboot_fb_check(const struct kboot_framebuffer *fb);

/* Total bytes of usable memory in the map (overlaps are not resolved here). */
uint64_t kboot_usable_bytes(const struct kboot_info *info);
