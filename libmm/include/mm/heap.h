/*
 * mm/heap.h - kernel heaps behind one interface.
 *
 * Four allocators share struct mm_heap and the mm_heap_* calls below:
 *   bump   (mm/heap_bump.h)   - a pointer that only moves up; free only counts, and the heap
 *                              resets itself when the last live block is freed.
 *   list   (mm/heap_list.h)  - an address-ordered free list, first fit, coalescing.
 *   fixed  (mm/heap_fixed.h) - power-of-two size classes 8..2048 over a list heap.
 *   tlsf   (mm/heap_tlsf.h)  - the default: headerless slabs for small sizes over a two-level
 *                              segregated fit core; O(1) for every size.
 *
 * Each heap starts from one region given at init and may grow through the grow hook. It
 * never touches memory outside the regions it was given, and it needs nothing else from the
 * platform: no locks, no page tables, no libc.
 *
 * Locking: none inside. Every call on one heap must be serialised by the caller (the kernel
 * wraps its global heap in a spinlock, with interrupts off if an interrupt handler may
 * allocate). The hooks are called with that lock held, so grow must not allocate from the
 * same heap.
 *
 * Bad input (freeing a pointer the heap does not own, a misaligned pointer, a double free
 * that can be detected, a non-power-of-two alignment) is never silently ignored: it is
 * counted and passed to the report hook, and the heap is left unchanged.
 *
 * Debug option (MM_HEAP_DEBUG at init): every block gets a canary before and after it, new
 * memory is filled with 0xA5 and freed memory with 0xDD, and free checks the canaries and
 * tells double frees from frees of foreign pointers. See docs/heaps.md.
 */
#ifndef MM_HEAP_H
#define MM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <mm/platform.h>

#define MM_HEAP_MUST_CHECK __attribute__((warn_unused_result))

/* Alignment used when the caller passes 0; also the minimum alignment of every block. */
#define MM_HEAP_DEFAULT_ALIGN 16u
/* Largest alignment accepted (larger requests fail with NULL and a report). */
#define MM_HEAP_MAX_ALIGN ((size_t)1 << 20)
/* Largest request any heap accepts; larger ones fail with NULL (no report: not bad input). */
#define MM_HEAP_MAX_ALLOC ((size_t)1 << 38)
/* How many separate regions a heap can track (init region + non-adjacent grows). */
#define MM_HEAP_MAX_REGIONS 16

/* Flags for struct mm_heap_config.flags. */
#define MM_HEAP_DEBUG 0x1u /* canaries, poisoning, precise double-free reports */

/* Bytes written over new (debug only) and freed (debug only) memory. */
#define MM_HEAP_FILL_NEW 0xA5
#define MM_HEAP_FILL_FREED 0xDD

/*
 * The embedder's hooks; both are optional (NULL).
 *
 * grow(ctx, min_bytes, &base, &len): map at least min_bytes of new memory and return true with
 *   the region in *base and *len (len >= min_bytes), or return false. The region may be adjacent
 *   to an earlier one (the heap then merges them) or anywhere else. Called with the caller's
 *   heap lock held, only from inside an allocation.
 * report(ctx, what, ptr): bad input or a detected corruption; what is a constant string such
 *   as "free: double free", ptr the offending pointer. May be called from any heap call.
 *   It may panic; if it returns, the heap carries on unchanged.
 */
typedef bool (*mm_heap_grow_fn)(void *ctx, size_t min_bytes, void **base, size_t *len);
typedef void (*mm_heap_report_fn)(void *ctx, const char *what, void *ptr);

struct mm_heap_config {
    unsigned flags;           /* MM_HEAP_DEBUG or 0 */
    mm_heap_grow_fn grow;     /* NULL: the heap never grows */
    mm_heap_report_fn report; /* NULL: bad input is only counted */
    void *ctx;                /* passed to both hooks */
};

struct mm_heap_stats {
    size_t bytes_in_use;   /* usable bytes of live blocks (debug: including debug padding) */
    size_t bytes_free;     /* bytes that could still be handed out without growing */
    size_t peak_in_use;    /* maximum of bytes_in_use so far */
    size_t footprint;      /* bytes of the regions touched so far (headers and holes too) */
    size_t peak_footprint; /* maximum of footprint so far */
    size_t region_bytes;   /* bytes given at init and by grow */
    size_t largest_free;   /* largest single block that could be handed out now */
    size_t live_blocks;    /* blocks allocated and not freed */
    uint64_t allocs;       /* successful mm_heap_alloc and mm_heap_realloc(NULL, ...) */
    uint64_t frees;        /* successful mm_heap_free and mm_heap_realloc(p, 0) */
    uint64_t failed;       /* allocations that returned NULL */
    uint64_t reports;      /* calls of the report hook (bad input, corruption) */
};

struct mm_heap;

/* The per-allocator implementation (src/heap_impl.h). */
struct mm_heap_ops;

/* The common part every heap struct starts with. Treat the fields as private. */
struct mm_heap {
    const struct mm_heap_ops *ops;
    struct mm_heap_config cfg;
    uint64_t allocs, frees, failed, reports;
};

/* One region a heap manages; [base, end). */
struct mm_heap_region {
    uintptr_t base, end;
};

/*
 * Allocate size bytes aligned to align (0 = MM_HEAP_DEFAULT_ALIGN; otherwise a power of two
 * up to MM_HEAP_MAX_ALIGN; smaller values are raised to 16). size 0 gives a minimum-sized
 * block that must be freed like any other. Returns NULL when out of memory (after trying the
 * grow hook), when size > MM_HEAP_MAX_ALLOC, and for a bad alignment (reported).
 * Bounded time for tlsf; O(free blocks) for list/fixed fallback. Not from IRQ context unless
 * the caller's lock allows it; never sleeps (the grow hook must not either).
 */
void *mm_heap_alloc(struct mm_heap *h, size_t size, size_t align);

/*
 * Free a block from mm_heap_alloc/mm_heap_realloc of this heap. NULL is a no-op. A pointer
 * the heap does not own, a misaligned one, or a detected double free is reported and ignored.
 */
void mm_heap_free(struct mm_heap *h, void *ptr);

/*
 * Resize ptr to size bytes keeping its contents up to min(old usable size, size). ptr NULL
 * behaves like mm_heap_alloc; size 0 frees ptr and returns NULL. Shrinks and grows in place
 * when the heap can; when it moves, the new block is aligned to align (same rules as
 * mm_heap_alloc). On failure returns NULL and ptr is still valid and unchanged. A bad ptr is
 * reported and NULL returned.
 */
void *mm_heap_realloc(struct mm_heap *h, void *ptr, size_t size, size_t align);

/* Usable bytes of the live block ptr (>= the size asked for). 0 for NULL; a pointer that is
 * not a live block of this heap is reported and gives 0. */
size_t mm_heap_usable_size(struct mm_heap *h, void *ptr);

/* Fill *out with the heap's statistics. O(1) except largest_free (list/fixed: O(free
 * blocks)). */
void mm_heap_get_stats(struct mm_heap *h, struct mm_heap_stats *out);

/*
 * Walk every structure of the heap and verify its invariants (block tiling, free lists,
 * bitmaps, counters). MM_OK, or MM_ERR_HEAP_CORRUPT with a constant string naming the
 * broken invariant in *reason (reason may be NULL). O(size of the heap): for tests and
 * debugging, not for hot paths.
 */
MM_HEAP_MUST_CHECK enum mm_status mm_heap_check(struct mm_heap *h, const char **reason);

/* The allocator's name ("bump", "list", "fixed", "tlsf"). */
const char *mm_heap_name(const struct mm_heap *h);

#endif /* MM_HEAP_H */
