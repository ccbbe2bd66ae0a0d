/*
 * mm/heap_tlsf.h - the default kernel heap: two-level segregated fit (TLSF) with a
 * wilderness ("top") chunk.
 *
 * Every operation does bounded work whatever the heap's size or history: a free block is
 * found through two bitmap lookups (first level: power of two, second level: 32 linear
 * subdivisions), free blocks are coalesced with both neighbours at once through boundary
 * tags, and each block costs 8 bytes of header (blocks are 16-byte granular; the smallest
 * holds 24 bytes). Requests that no free block can serve are carved from the top of the
 * newest region, which keeps the footprint low; the grow hook extends it (or opens a new,
 * non-adjacent region). Only the largest regions are limited: a region longer than
 * MM_TLSF_MAX_REGION is used up to that length.
 *
 * The struct is about 8.5 KiB (the free-list heads); place it in .bss or in the first region.
 */
#ifndef MM_HEAP_TLSF_H
#define MM_HEAP_TLSF_H

#include "mm/heap.h"

#define MM_TLSF_SL_LOG 5
#define MM_TLSF_SL_COUNT (1u << MM_TLSF_SL_LOG)
#define MM_TLSF_FL_COUNT 32u
#define MM_TLSF_MAX_REGION ((size_t)1 << 39)

struct mm_tlsf_block;

struct mm_tlsf_heap {
    struct mm_heap heap; /* must be first: pass &t->heap to the mm_heap_* calls */
    uint32_t fl_bitmap;
    uint32_t sl_bitmap[MM_TLSF_FL_COUNT];
    struct mm_tlsf_block *heads[MM_TLSF_FL_COUNT][MM_TLSF_SL_COUNT];
    uintptr_t top, top_end; /* wilderness of the newest region; a sentinel sits at top_end */
    size_t in_use, peak_in_use, live, bin_bytes;
    size_t closed_footprint, peak_footprint, region_bytes;
    unsigned nregions;
    struct mm_heap_region regions[MM_HEAP_MAX_REGIONS];
};

/*
 * Set up t over [base, base + len). cfg may be NULL (no hooks, no debug). The region must
 * hold at least 64 bytes after aligning both ends to 16.
 * Errors: MM_HEAP_ERR_INVALID (t or base NULL, region too small or wrapping).
 * Call once, before any other use; not concurrently with anything on t.
 */
MM_HEAP_MUST_CHECK enum mm_heap_status mm_tlsf_init(struct mm_tlsf_heap *t, void *base,
                                                    size_t len,
                                                    const struct mm_heap_config *cfg);

#endif /* MM_HEAP_TLSF_H */
