/*
 * mm/memmap.h - one clean physical memory map out of whatever the boot protocol reported.
 *
 * Firmware maps (e820, multiboot, UEFI, limine...) come unsorted, with overlaps, zero-length
 * and even wrapping entries. mm_memmap_normalise turns such a list, plus the ranges the kernel
 * knows must not be handed out (its own image, boot info, modules, the first MiB), into a
 * sorted, non-overlapping list in caller-provided storage - no heap exists yet at this point.
 *
 * Overlaps are resolved by rank: the enum below is ordered from weakest to strongest, and
 * where two regions overlap the stronger type wins. Usable is the weakest, so any other type
 * beats it. Among the others, the more permanent the reason memory is unavailable, the higher
 * the rank: memory the kernel may reclaim later (bootloader data, modules, the kernel image's
 * init parts, ACPI tables once parsed) loses to memory it can never use (ACPI NVS, reserved),
 * and bad RAM beats everything - reclaiming anything must never resurrect a broken page.
 */
#ifndef MM_MEMMAP_H
#define MM_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include "mm/platform.h"

/* Ordered by rank: a later value wins over an earlier one where regions overlap. */
enum mm_region_type {
    MM_REGION_USABLE = 0,
    MM_REGION_BOOTLOADER_RECLAIMABLE, /* boot info, bootloader page tables/stacks */
    MM_REGION_MODULES,                /* boot modules (initrd...) */
    MM_REGION_KERNEL,                 /* the kernel image */
    MM_REGION_FRAME_METADATA,         /* the frame allocator's own metadata */
    MM_REGION_ACPI_RECLAIMABLE,       /* ACPI tables: usable once parsed */
    MM_REGION_ACPI_NVS,               /* ACPI non-volatile storage: never usable */
    MM_REGION_RESERVED,               /* firmware/hardware reserved, MMIO holes */
    MM_REGION_BAD,                    /* defective RAM */
    MM_REGION_TYPE_COUNT
};

/* [base, base + length). In normalised output base + length never wraps and usable regions
 * are whole 4 KiB pages. */
struct mm_region {
    uint64_t base;
    uint64_t length;
    enum mm_region_type type;
};

struct mm_memmap_stats {
    uint64_t usable_bytes; /* sum of the usable regions in the output */
    size_t count;          /* number of regions written */
};

/* A short lowercase name for t ("usable", "acpi-nvs", ...; "unknown" outside the enum). */
const char *mm_region_type_str(enum mm_region_type t);

/*
 * Normalise a boot memory map.
 *
 * in[0..n_in)       regions as reported, any order. A type outside the enum (e.g. an e820
 *                   code cast blindly) counts as MM_REGION_RESERVED.
 * reserve[0..n_res) ranges that must not be handed out, with the type they should get (e.g.
 *                   MM_REGION_KERNEL for the kernel image, MM_REGION_RESERVED for the first
 *                   MiB). They win over usable memory like any other non-usable type and
 *                   appear in the output. A reserve range of type MM_REGION_USABLE is
 *                   MM_ERR_INVALID. May be NULL when n_res is 0.
 * out[0..cap)       receives the result: sorted by base, non-overlapping, adjacent regions of
 *                   equal type merged, zero-length regions dropped, usable regions shrunk
 *                   inwards to whole 4 KiB pages (partial pages around them become holes).
 *                   cap = 2 * (n_in + n_res) always suffices.
 * stats             optional (may be NULL): usable bytes and count.
 *
 * Errors: MM_ERR_INVALID (NULL in/out with a non-zero count, usable reserve range),
 * MM_ERR_WRAP (some base + length exceeds 2^64 - 1: a region cannot end exactly at 2^64),
 * MM_ERR_NO_SPACE (cap too small; nothing useful in out), MM_ERR_NO_USABLE (the result has
 * no usable page). On error out may hold partial results; *count_out is 0.
 *
 * Cost: O((n_in + n_res)^2) time (fine for boot maps of a few hundred entries), no memory
 * beyond the output. Pure function; callable from any context.
 */
MM_MUST_CHECK enum mm_status mm_memmap_normalise(const struct mm_region *in, size_t n_in,
                                                 const struct mm_region *reserve, size_t n_res,
                                                 struct mm_region *out, size_t cap,
                                                 size_t *count_out, struct mm_memmap_stats *stats);

/* Sum of the lengths of the usable regions of map[0..n) (no normalisation assumed). */
uint64_t mm_memmap_usable_bytes(const struct mm_region *map, size_t n);

#endif /* MM_MEMMAP_H */
