/*
 * mm/frame.h - the physical frame allocator: a binary buddy system over all usable memory.
 *
 * Blocks are 2^order contiguous 4 KiB frames, naturally aligned (a block of order k starts at
 * a physical address that is a multiple of 4 KiB << k), for order 0 (4 KiB) to
 * MM_FRAME_MAX_ORDER (10: 4 MiB). Every operation costs O(MM_FRAME_MAX_ORDER + log R), R the
 * number of usable regions, whatever the memory size.
 *
 * Metadata lives outside the frames it describes, in one physically contiguous block carved
 * out of the map's own usable memory before anything is handed out (so it works before any
 * heap exists, and frames are never touched by the allocator). It is sparse: only usable
 * regions are described, holes cost nothing. Per usable frame it takes 9 bytes - a state byte
 * (order + free/allocated/tail) that makes double-free detection exact, and two 32-bit links
 * of the intrusive doubly-linked free lists, so removing a buddy is O(1) - which is 0.22 % of
 * memory (144 MiB for 64 GiB). Up to 2^32 - 1 usable frames (16 TiB) are supported.
 *
 * No locking inside: serialise calls per allocator. Every function is bounded, never sleeps
 * and may run with interrupts off; from interrupt handlers only if the caller's lock also
 * masks interrupts everywhere else.
 */
#ifndef MM_FRAME_H
#define MM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "mm/memmap.h"
#include "mm/platform.h"

#define MM_FRAME_MAX_ORDER 10
#define MM_FRAME_ORDERS (MM_FRAME_MAX_ORDER + 1)

/* Where and how big the metadata will be for a given map (see mm_frames_plan). */
struct mm_frames_plan {
    struct mm_paddr base; /* 4 KiB aligned, inside a usable region */
    uint64_t size;        /* bytes, a multiple of 4 KiB */
    size_t zones;         /* usable regions described */
    uint64_t frames;      /* usable frames described (metadata frames included) */
};

struct mm_frames_stats {
    uint64_t total_frames; /* frames the allocator can hand out (metadata excluded) */
    uint64_t free_frames;
    uint64_t largest_free; /* bytes in the largest free block (0 if none) */
    uint64_t metadata_bytes;
};

struct mm_frame_zone; /* private */

/* The allocator. Caller-provided storage; the fields are private. */
struct mm_frames {
    struct mm_frame_zone *zones;
    uint32_t *links; /* next/prev per frame, by frame index */
    uint8_t *state;  /* one byte per frame */
    size_t nzones;
    size_t last_zone; /* lookup hint */
    uint32_t heads[MM_FRAME_ORDERS];
    uint32_t nonempty; /* bit k set: heads[k] is not empty */
    uint64_t total_frames;
    uint64_t free_frames;
    struct mm_paddr meta_base;
    uint64_t meta_size;
};

/*
 * Decide where the metadata for map[0..n) goes without writing anything: the start of the
 * lowest usable region big enough (low memory is the part every early direct map covers).
 * map must be normalised (mm_memmap_normalise): sorted, non-overlapping; usable regions that
 * are not whole pages are shrunk to whole pages.
 * Errors: MM_ERR_INVALID (NULL), MM_ERR_BAD_MAP (unsorted, overlapping or wrapping),
 * MM_ERR_NO_USABLE (no usable page), MM_ERR_TOO_LARGE (more than 2^32 - 1 frames),
 * MM_ERR_NO_FRAMES (no usable region can hold the metadata).
 * Same as mm_frames_plan_below(map, n, UINT64_MAX, out).
 */
MM_MUST_CHECK enum mm_status mm_frames_plan(const struct mm_region *map, size_t n,
                                            struct mm_frames_plan *out);

/*
 * As mm_frames_plan, but the metadata must end at or below physical address limit: the
 * caller can only write through phys_to_virt below it (e.g. the part of memory its early
 * page tables map). The metadata still describes all usable memory, above limit too.
 * Errors: those of mm_frames_plan; MM_ERR_NO_FRAMES also when the metadata fits somewhere,
 * but not wholly below limit - then the caller maps more (mm_frames_plan says where the
 * metadata would go) and calls mm_frames_init_planned.
 */
MM_MUST_CHECK enum mm_status mm_frames_plan_below(const struct mm_region *map, size_t n,
                                                  uint64_t limit, struct mm_frames_plan *out);

/* Bytes of metadata map[0..n) needs (a multiple of 4 KiB), or 0 if mm_frames_plan fails. */
uint64_t mm_frames_metadata_size(const struct mm_region *map, size_t n);

/*
 * Build an allocator over the usable regions of map[0..n) (same rules as mm_frames_plan,
 * which decides the metadata placement). The metadata is written through
 * phys_to_virt(ctx, plan.base), which must give plan.size contiguous writable bytes; it is
 * only called during init. Afterwards every usable frame except the metadata's is free,
 * split into the largest naturally aligned blocks that fit each region.
 * Errors: those of mm_frames_plan, MM_ERR_INVALID (fa or phys_to_virt NULL, or phys_to_virt
 * returned NULL).
 * O(usable frames) time for the metadata initialisation; holes are free.
 */
MM_MUST_CHECK enum mm_status mm_frames_init(struct mm_frames *fa, const struct mm_region *map,
                                            size_t n, mm_phys_to_virt_fn phys_to_virt, void *ctx);

/*
 * As mm_frames_init, with the metadata where *plan says (from mm_frames_plan or
 * mm_frames_plan_below over the same map; base may also be moved by the caller to any page
 * of a usable region where plan->size bytes fit). Frames of that region before and after the
 * metadata are free.
 * Errors: those of mm_frames_init; MM_ERR_INVALID when plan is NULL, its size or counts do
 * not match the map, or [base, base + size) is not whole pages inside one usable region.
 */
MM_MUST_CHECK enum mm_status mm_frames_init_planned(struct mm_frames *fa,
                                                    const struct mm_region *map, size_t n,
                                                    const struct mm_frames_plan *plan,
                                                    mm_phys_to_virt_fn phys_to_virt, void *ctx);

/*
 * Allocate a naturally aligned block of 2^order frames; its address goes to *out.
 * Errors: MM_ERR_INVALID (order > MM_FRAME_MAX_ORDER, NULL), MM_ERR_NO_FRAMES (no free block
 * that large - there may still be smaller ones). The content of the block is not cleared.
 */
MM_MUST_CHECK enum mm_status mm_frames_alloc(struct mm_frames *fa, unsigned order,
                                             struct mm_paddr *out);

/*
 * As mm_frames_alloc, but the block must end at or below physical address limit (for page
 * tables a kernel builds before all memory is mapped, and devices that reach only low
 * memory). Searches the free lists from the requested order up for a block that starts
 * below limit and splits it; takes O(free blocks) time in the worst case, so it is for
 * boot-time and rare uses. Errors: as mm_frames_alloc; MM_ERR_NO_FRAMES when no free block
 * lies low enough.
 */
MM_MUST_CHECK enum mm_status mm_frames_alloc_below(struct mm_frames *fa, unsigned order,
                                                   uint64_t limit, struct mm_paddr *out);

/* mm_frames_alloc(fa, 0, out). */
MM_MUST_CHECK enum mm_status mm_frames_alloc_frame(struct mm_frames *fa, struct mm_paddr *out);

/*
 * Give back a block from mm_frames_alloc with the same order; it merges with its free buddy
 * as far as possible. Nothing is changed on error:
 * MM_ERR_MISALIGNED (pa not 4 KiB aligned), MM_ERR_FOREIGN_FRAME (pa not in usable memory of
 * this allocator, or in its metadata), MM_ERR_DOUBLE_FREE (pa is inside a free block),
 * MM_ERR_BAD_ORDER (pa is not the start of an allocated block of exactly this order),
 * MM_ERR_INVALID (order > MM_FRAME_MAX_ORDER).
 */
MM_MUST_CHECK enum mm_status mm_frames_free(struct mm_frames *fa, struct mm_paddr pa,
                                            unsigned order);

/* True if the frame at pa belongs to this allocator and is currently allocated. */
bool mm_frames_is_allocated(const struct mm_frames *fa, struct mm_paddr pa);

/* Totals, free frames, the largest free block. O(1). */
void mm_frames_get_stats(const struct mm_frames *fa, struct mm_frames_stats *out);

/* The free blocks of each order: counts[k] = free blocks of 2^k frames, for k = 0 ..
 * MM_FRAME_MAX_ORDER (all 0 for a NULL fa). O(free blocks): for reports such as a shell's
 * `mem`, not for hot paths. */
void mm_frames_free_blocks(const struct mm_frames *fa, uint64_t counts[MM_FRAME_ORDERS]);

/*
 * Walk all metadata and check every invariant (free lists consistent with state bytes,
 * no mergeable buddies left, counts match). O(frames); for tests and debug builds.
 * Returns MM_OK or MM_ERR_INVALID; *why (optional) gets a constant reason.
 */
MM_MUST_CHECK enum mm_status mm_frames_check(const struct mm_frames *fa, const char **why);

#endif /* MM_FRAME_H */
