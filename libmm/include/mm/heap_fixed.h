/*
 * mm/heap_fixed.h - fixed-size-block heap: power-of-two size classes 8, 16, ..., 2048 in
 * front of a linked-list heap.
 *
 * A request of at most 2048 bytes with alignment <= 16 is served from the free list of its
 * class (the smallest power of two >= the size, at least 8): O(1) pop and push. When a class
 * runs dry, one block for it is taken from the list heap (the "fallback"); blocks of a class
 * are never given back to the fallback, so memory freed in one class serves only that class.
 * Larger requests, stricter alignments and requests the fallback cannot serve as a class
 * block go straight to the fallback.
 *
 * Block cost: a class block is its class size plus a 16-byte tag plus the list heap's own
 * 16-byte header, so this heap trades memory for speed.
 */
#ifndef MM_HEAP_FIXED_H
#define MM_HEAP_FIXED_H

#include "mm/heap_list.h"

#define MM_FIXED_CLASSES 9u /* 8 .. 2048 */
#define MM_FIXED_MAX 2048u

struct mm_fixed_heap {
    struct mm_heap heap; /* must be first: pass &f->heap to the mm_heap_* calls */
    struct mm_list_heap fallback;
    void *lists[MM_FIXED_CLASSES];
    size_t nfree[MM_FIXED_CLASSES];
    size_t class_live_bytes, class_free_bytes, class_blocks_fb_bytes, class_live;
    size_t peak_in_use;
};

/*
 * Set up f over [base, base + len) (all of it goes to the fallback list heap; the grow hook,
 * if any, feeds the fallback too). cfg may be NULL.
 * Errors: MM_ERR_INVALID (as mm_list_init).
 */
MM_HEAP_MUST_CHECK enum mm_status mm_fixed_init(struct mm_fixed_heap *f, void *base, size_t len,
                                                const struct mm_heap_config *cfg);

#endif /* MM_HEAP_FIXED_H */
