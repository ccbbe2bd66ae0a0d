/*
 * mm/heap_list.h - the linked-list heap: one address-ordered list of free blocks, first fit.
 *
 * Simple and compact rather than fast: alloc, free and in-place realloc walk the free list,
 * so they cost O(number of free blocks). A freed block merges with both neighbours at once,
 * so the list never holds two touching blocks. Alignment padding never leaks: a gap of 32
 * bytes or more in front of an aligned block is returned to the list, a 16-byte one is
 * accounted in the block and comes back with it. realloc shrinks in place (the tail goes
 * back to the list) and grows in place into a free block that follows.
 *
 * Block cost: a 16-byte header, 16-byte granularity, 32 bytes minimum.
 */
#ifndef MM_HEAP_LIST_H
#define MM_HEAP_LIST_H

#include "mm/heap.h"

struct mm_list_free;

struct mm_list_heap {
    struct mm_heap heap; /* must be first: pass &l->heap to the mm_heap_* calls */
    struct mm_list_free *head;
    size_t in_use, peak_in_use, live, free_bytes, free_blocks, region_bytes;
    size_t peak_footprint;
    unsigned nregions;
    struct mm_heap_region regions[MM_HEAP_MAX_REGIONS];
    uintptr_t high[MM_HEAP_MAX_REGIONS]; /* end of the highest block handed out per region */
};

/*
 * Set up l over [base, base + len). cfg may be NULL. The region must hold at least 32 bytes
 * after aligning both ends to 16.
 * Errors: MM_ERR_INVALID (l or base NULL, region too small or wrapping).
 */
MM_HEAP_MUST_CHECK enum mm_status mm_list_init(struct mm_list_heap *l, void *base, size_t len,
                                               const struct mm_heap_config *cfg);

#endif /* MM_HEAP_LIST_H */
