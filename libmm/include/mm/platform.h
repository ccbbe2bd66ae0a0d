/*
 * mm/platform.h - what libmm shares with the kernel that embeds it.
 *
 * libmm depends on no other library. It never dereferences a physical address itself and
 * never executes a privileged instruction: everything platform-specific reaches it through
 * the hooks below, passed in structs (not global functions) so that one program - a host test,
 * say - can run several independent instances over fake physical memory.
 *
 * The hooks, in full (see docs/porting-mm.md for a kernel-side sketch):
 *   phys_to_virt(ctx, pa)        a pointer through which physical memory at pa is accessed.
 *                                [pa, pa + n) must be virtually contiguous for every range
 *                                libmm asks for (a direct map / fixed offset satisfies this).
 *                                Used by the frame allocator (its metadata) and the mapper.
 *   alloc_table(ctx, &pa)        one 4 KiB frame for a new page table (mapper only).
 *   free_table(ctx, pa)          gives back a page-table frame that became empty (optional).
 *   flush(ctx, root, va)         invalidate the TLB entry for va in the space whose PML4 is at
 *                                root (invlpg if root is the live CR3; nothing, or a
 *                                shootdown, otherwise). Optional.
 *
 * Locking: libmm takes no locks and never disables interrupts. Each frame allocator and each
 * address space must be serialised by the caller (a spinlock with interrupts off if it is
 * used from interrupt handlers).
 */
#ifndef MM_PLATFORM_H
#define MM_PLATFORM_H

#include <stdbool.h>

#include "mm/addr.h"

#define MM_MUST_CHECK __attribute__((warn_unused_result))

/* One status enum for every libmm operation that can fail (memmap, frames, paging). */
enum mm_status {
    MM_OK = 0,
    MM_ERR_INVALID,        /* NULL pointer, unknown enum/flag value, nonsense argument */
    MM_ERR_WRAP,           /* a region's base + length wraps past 2^64 */
    MM_ERR_NO_USABLE,      /* the memory map has no usable page left */
    MM_ERR_NO_SPACE,       /* the caller's output storage is too small */
    MM_ERR_BAD_MAP,        /* the map given to the frame allocator is not normalised */
    MM_ERR_TOO_LARGE,      /* more memory than the allocator's metadata can describe */
    MM_ERR_NO_FRAMES,      /* out of physical frames (allocator or page-table hook) */
    MM_ERR_DOUBLE_FREE,    /* the frame is already free */
    MM_ERR_FOREIGN_FRAME,  /* the frame is not one this allocator hands out */
    MM_ERR_BAD_ORDER,      /* not the start of an allocated block of that order */
    MM_ERR_MISALIGNED,     /* an address is not aligned to the page/block size */
    MM_ERR_ALREADY_MAPPED, /* something is mapped there already */
    MM_ERR_PARENT_HUGE,    /* a huge page at a higher level covers the address */
    MM_ERR_NON_CANONICAL,  /* a virtual address outside the 48-bit canonical ranges */
    MM_ERR_NOT_MAPPED,     /* nothing is mapped at the address */
    MM_ERR_HEAP_CORRUPT,   /* mm_heap_check found a broken invariant (see its reason) */
    MM_STATUS_COUNT
};

/* A one-line, constant English description of s (never NULL; "unknown status" for values
 * outside the enum). Safe from any context. */
const char *mm_status_str(enum mm_status s);

/* The physical-memory access hook shared by the frame allocator and the mapper. */
typedef void *(*mm_phys_to_virt_fn)(void *ctx, struct mm_paddr pa);

/*
 * Hooks of an address space (mm/paging.h). ctx is passed back untouched to every hook.
 * phys_to_virt and alloc_table are required; free_table and flush may be NULL (empty tables
 * are then kept, and TLB maintenance is the caller's business). The hooks may be called with
 * whatever interrupt state the caller of the paging function has; they must not call back
 * into the same address space.
 */
struct mm_paging_ops {
    void *ctx;
    mm_phys_to_virt_fn phys_to_virt;
    /* Store a 4 KiB-aligned frame in *out and return true, or return false when out of
     * memory. The content does not matter: the mapper zeroes it. */
    bool (*alloc_table)(void *ctx, struct mm_paddr *out);
    void (*free_table)(void *ctx, struct mm_paddr pa);
    void (*flush)(void *ctx, struct mm_paddr root, struct mm_vaddr va);
};

#endif /* MM_PLATFORM_H */
