/*
 * mm/heap_bump.h - the bump heap: allocation moves a pointer up, free only counts.
 *
 * The fastest possible allocation, and no reuse: memory comes back only when every block has
 * been freed (the heap then resets itself) or on mm_bump_reset. Good for boot-time data and
 * per-request arenas. Each block has a 16-byte header (its size and a tag) so that
 * usable_size, realloc and bad-free detection work like in the other heaps; realloc grows the
 * newest block in place. A freed pointer used again after an automatic reset can no longer
 * be told from a live block.
 */
#ifndef MM_HEAP_BUMP_H
#define MM_HEAP_BUMP_H

#include "mm/heap.h"

struct mm_bump_heap {
    struct mm_heap heap; /* must be first: pass &b->heap to the mm_heap_* calls */
    uintptr_t next;      /* first free byte of regions[cur] */
    unsigned cur, nregions;
    size_t live, in_use, peak_in_use, used_before, peak_footprint, region_bytes;
    struct mm_heap_region regions[MM_HEAP_MAX_REGIONS];
};

/*
 * Set up b over [base, base + len). cfg may be NULL.
 * Errors: MM_ERR_INVALID (b or base NULL, region smaller than 32 bytes or wrapping).
 */
MM_HEAP_MUST_CHECK enum mm_status mm_bump_init(struct mm_bump_heap *b, void *base, size_t len,
                                               const struct mm_heap_config *cfg);

/* Forget every block at once (they must no longer be used); regions from grow are kept and
 * reused. Same locking rules as the other calls. */
void mm_bump_reset(struct mm_bump_heap *b);

#endif /* MM_HEAP_BUMP_H */
