/*
 * heap_impl.h - what the heap implementations (heap_*.c) share with the common layer
 * (heap.c): the per-allocator operations table and the helpers they call (internal header;
 * embedders use mm/heap.h and the mm/heap_*.h of the allocator they pick).
 */
#ifndef MM_HEAP_IMPL_H
#define MM_HEAP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/heap.h"

/* The per-allocator implementation. Implementations see only validated arguments:
 * size <= MM_HEAP_MAX_ALLOC, align a power of two in [16, MM_HEAP_MAX_ALIGN], ptr != NULL
 * (and, unless checks_ptr is set, ptr 16-aligned and inside the heap's regions). */
struct mm_heap_ops {
    const char *name;
    void *(*alloc)(struct mm_heap *h, size_t size, size_t align);
    /* false (after a report) if ptr is not a live block of this heap. */
    bool (*free)(struct mm_heap *h, void *ptr);
    /* Resize in place or move; NULL on failure with ptr untouched. */
    void *(*realloc)(struct mm_heap *h, void *ptr, size_t size, size_t align);
    /* Usable bytes of a live block, 0 (after a report) if ptr is not one. */
    size_t (*usable_size)(struct mm_heap *h, void *ptr);
    /* Whether ptr lies inside one of the heap's regions (not necessarily a live block). */
    bool (*owns)(const struct mm_heap *h, const void *ptr);
    void (*stats)(struct mm_heap *h, struct mm_heap_stats *out);
    enum mm_status (*check)(struct mm_heap *h, const char **reason);
    /* true: free, realloc and usable_size check ptr themselves (alignment, ownership, with a
     * report), so the common layer skips its own check and owns() on those paths. */
    bool checks_ptr;
    /* Optional (NULL: not used). The whole of mm_heap_alloc / mm_heap_free for this heap, with
     * exactly their semantics (argument checks, reports, counters, debug layer): a heap with a
     * short fast path handles the common case itself and passes the rest to
     * mm_heap_alloc_common / mm_heap_free_common. This saves the common layer's checks and
     * one indirect call on every operation. */
    void *(*entry_alloc)(struct mm_heap *h, size_t size, size_t align);
    void (*entry_free)(struct mm_heap *h, void *ptr);
};

/* mm_heap_alloc / mm_heap_free without the ops->entry_* shortcut: the common layer's
 * checks, counters and debug layer around ops->alloc / ops->free. For entry_alloc /
 * entry_free implementations, which call them for everything their fast path leaves. */
void *mm_heap_alloc_common(struct mm_heap *h, size_t size, size_t align);
void mm_heap_free_common(struct mm_heap *h, void *ptr);

/* Count a piece of bad input and pass it to the report hook. */
void mm_heap_report(struct mm_heap *h, const char *what, void *ptr);

/* Ask the grow hook for at least min_bytes; false if there is no hook or it failed. The region
 * is aligned to 16 on both ends (possibly shrinking it) before it is returned. */
bool mm_heap_grow(struct mm_heap *h, size_t min_bytes, uintptr_t *base, uintptr_t *end);

/* Generic realloc for allocators without an in-place path: allocate, copy, free. */
void *mm_heap_realloc_move(struct mm_heap *h, void *ptr, size_t old_usable, size_t size,
                           size_t align);

/* Whether p lies in one of regions[0..n). */
bool mm_heap_regions_own(const struct mm_heap_region *regions, unsigned n, const void *p);

#endif /* MM_HEAP_IMPL_H */
