/*
 * mm/heap_tlsf.h - the default kernel heap: a headerless slab front end for small requests
 * over a two-level segregated fit (TLSF) core with a wilderness ("top") chunk.
 *
 * Small requests (size <= MM_TLSF_SLAB_MAX, default alignment) are served from slabs: 8 KiB
 * chunks, aligned to 8 KiB, that the core hands out like any other block. Each slab holds
 * objects of one of MM_TLSF_NCLASSES size classes (multiples of 16: 16 B steps up to 256,
 * 32 B steps up to 512) and keeps a bitmap of its free slots in a header at the chunk's
 * start, so objects carry no header and freed objects are never written to. free(p) finds
 * p's slab through a per-region chunk map (one bit per 8 KiB of region, kept at the region's
 * end), never through a value read from the block itself. A slab that becomes empty goes
 * back to the core unless it is the only slab of its class with free slots: that one stays as
 * the class's spare (at most one per class, always alone on its class's list). A spare goes
 * back as soon as another slab of its class gets a free slot, before an allocation fails or
 * the heap grows, and on mm_tlsf_trim.
 *
 * Everything else goes to the core. It does bounded work whatever the heap's size or
 * history: a free block is found through two bitmap lookups (first level: power of two,
 * second level: 32 linear subdivisions), free blocks are coalesced with both neighbours at
 * once through boundary tags, and each block costs 8 bytes of header (blocks are 16-byte
 * granular; the smallest holds 24 bytes). Requests that no free block can serve are carved
 * from the top of the newest region, which keeps the footprint low; the grow hook extends it
 * (or opens a new, non-adjacent region). A region longer than MM_TLSF_MAX_REGION is used up
 * to that length.
 *
 * Every block, slab object or not, is at least 16-byte aligned. Bad frees are detected
 * exactly for slab objects (a pointer between objects, or a slot already free) and through
 * header checks for core blocks; both are reported through the report hook.
 *
 * Cost of an operation: O(1) for alloc, free, realloc and usable_size; the grow hook's call
 * additionally copies the region's chunk map when an adjacent grow extends it (1 bit per
 * 8 KiB, i.e. O(region bytes / 64 KiB) bytes). The struct is about 9 KiB (free-list heads);
 * place it in .bss or in the first region.
 */
#ifndef MM_HEAP_TLSF_H
#define MM_HEAP_TLSF_H

#include "mm/heap.h"

#define MM_TLSF_SL_LOG 5
#define MM_TLSF_SL_COUNT (1u << MM_TLSF_SL_LOG)
#define MM_TLSF_FL_COUNT 32u
#define MM_TLSF_MAX_REGION ((size_t)1 << 39)

/* Slab front end. */
#define MM_TLSF_SLAB_SHIFT 13u
#define MM_TLSF_SLAB_BYTES ((size_t)1 << MM_TLSF_SLAB_SHIFT) /* chunk size and alignment */
#define MM_TLSF_SLAB_MAX 512u                                /* largest slab object */
#define MM_TLSF_NCLASSES 24u

/* cfg.flags bit for mm_tlsf_init: no slab front end, every request goes to the TLSF core
 * (smaller footprint on mixed-size workloads, slower small requests). */
#define MM_TLSF_NO_SLABS 0x100u

struct mm_tlsf_block;

/* Header of a slab chunk: private to heap_tlsf.c (src/heap_tlsf_slab.h). */
struct mm_tlsf_slab;

/* The heap's state. Its layout is public only so an embedder can place a heap in .bss or in
 * its first region without an allocator; the fields are private to heap_tlsf.c (read them
 * through mm_heap_get_stats / mm_tlsf_class_stats). */
struct mm_tlsf_heap {
    struct mm_heap heap; /* must be first: pass &t->heap to the mm_heap_* calls */
    size_t slab_end;     /* requests below this size go to the slabs (0: front end off) */
    size_t fast_end;     /* slab_end, or 0 in debug mode: bound of the entry fast path */
    struct mm_tlsf_slab *avail[MM_TLSF_NCLASSES]; /* slabs with a free slot, per class */
    size_t used;                    /* usable bytes of every live block, slab objects too */
    size_t nslabs, slab_slot_bytes; /* slabs, bytes of their slots */
    uint32_t fl_bitmap;
    uint32_t sl_bitmap[MM_TLSF_FL_COUNT];
    struct mm_tlsf_block *heads[MM_TLSF_FL_COUNT][MM_TLSF_SL_COUNT];
    uintptr_t top, top_end; /* wilderness of the newest region; a sentinel sits at top_end */
    size_t in_use, peak_in_use, live, bin_bytes; /* in_use: core blocks only */
    size_t closed_footprint, peak_footprint, region_bytes;
    unsigned nregions;
    struct mm_heap_region regions[MM_HEAP_MAX_REGIONS];
    /* Per region: the chunk map (bit per MM_TLSF_SLAB_BYTES from map_base, set for a live
     * slab), its length in bytes, and the region's sentinel address (map - 16). */
    uint64_t *map[MM_HEAP_MAX_REGIONS];
    uintptr_t map_base[MM_HEAP_MAX_REGIONS];
    size_t map_len[MM_HEAP_MAX_REGIONS];
    /* Copies of the newest region's base, length, chunk map and map_base, so the free fast
     * path needs no dependent load of nregions first. */
    uintptr_t cur_base, cur_len, cur_map_base;
    uint64_t *cur_map;
};

/*
 * Set up t over [base, base + len). cfg may be NULL (no hooks, no debug); cfg->flags may add
 * MM_TLSF_NO_SLABS. The region must hold at least 64 bytes after aligning both ends to 16
 * and setting aside its chunk map.
 * Errors: MM_ERR_INVALID (t or base NULL, region too small or wrapping).
 * Call once, before any other use; not concurrently with anything on t.
 */
MM_HEAP_MUST_CHECK enum mm_status mm_tlsf_init(struct mm_tlsf_heap *t, void *base, size_t len,
                                               const struct mm_heap_config *cfg);

/*
 * Direct entry points: exactly mm_heap_alloc(&t->heap, size, align) and
 * mm_heap_free(&t->heap, ptr) (same argument checks, reports, counters and debug layer), as
 * direct calls with the slab hit handled first. mm_heap_alloc / mm_heap_free on a tlsf heap
 * end up in the same code after one more indirect call, so both can be mixed freely on one
 * heap. Same locking and context rules as the mm_heap_* calls.
 */
void *mm_tlsf_alloc(struct mm_tlsf_heap *t, size_t size, size_t align);
void mm_tlsf_free(struct mm_tlsf_heap *t, void *ptr);

/*
 * Give every spare slab (an empty slab kept as the only one of its class) back to the core,
 * so that after freeing everything the heap is one free block again (stats.largest_free).
 * Allocations do this by themselves before they grow the heap or fail; this call is for
 * callers that want the memory coalesced now. O(MM_TLSF_NCLASSES). Same locking as the
 * mm_heap_* calls.
 */
void mm_tlsf_trim(struct mm_tlsf_heap *t);

/* One size class of the slab front end, as mm_tlsf_class_stats reports it. */
struct mm_tlsf_class_stats {
    size_t size;       /* object size of the class */
    size_t slabs;      /* slabs of this class */
    size_t slots;      /* object slots in them */
    size_t free_slots; /* of those, free */
};

/*
 * Per-class statistics of the slab front end into out[0..MM_TLSF_NCLASSES) (all zero counts
 * when the front end is off). Walks the chunk maps: O(heap size / MM_TLSF_SLAB_BYTES), for
 * reports, not hot paths. Same locking as the mm_heap_* calls.
 */
void mm_tlsf_class_stats(const struct mm_tlsf_heap *t,
                         struct mm_tlsf_class_stats out[MM_TLSF_NCLASSES]);

#endif /* MM_HEAP_TLSF_H */
