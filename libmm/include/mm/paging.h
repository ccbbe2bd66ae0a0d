/*
 * mm/paging.h - x86_64 4-level page tables (PML4 -> PDPT -> PD -> PT).
 *
 * Tables are only ever reached through the phys_to_virt hook (mm/platform.h), so the same
 * code runs in a kernel (over its direct map) and in host tests (over a buffer standing in
 * for physical memory). New tables come from the alloc_table hook, emptied ones go back
 * through free_table: paging does not know which frame allocator the kernel uses.
 *
 * TLB: the mapper calls the flush hook for every entry it weakens or removes (unmap,
 * protect, and after unhooking an emptied table - invlpg also drops the paging-structure
 * caches). Mapping into an empty slot needs no flush on x86 (not-present entries are never
 * cached), so map does not call it. All operations that change tables return a status marked
 * warn_unused_result: a "successful" call whose error was dropped is the usual source of
 * stale-TLB bugs.
 *
 * Intermediate entries are created present + writable + user and never carry NX: the leaf
 * decides the permissions.
 *
 * No locking inside: serialise calls per address space (and across spaces that share the
 * kernel half when they change it). Operations are bounded (a handful of table levels),
 * never sleep, and may run with interrupts off if the hooks may.
 */
#ifndef MM_PAGING_H
#define MM_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/addr.h"
#include "mm/platform.h"

/* Page sizes the mapper handles, by value in bytes. */
enum mm_page_size {
    MM_PAGE_4K = 1u << 12,
    MM_PAGE_2M = 1u << 21,
    MM_PAGE_1G = 1u << 30,
};

/* Mapping flags (the library's own bits, converted to PTE bits inside). */
enum mm_page_flags {
    MM_PAGE_PRESENT = 1u << 0, /* always set by map/protect, reported by translate */
    MM_PAGE_WRITABLE = 1u << 1,
    MM_PAGE_USER = 1u << 2,
    MM_PAGE_NO_EXECUTE = 1u << 3,    /* needs EFER.NXE set by the kernel */
    MM_PAGE_GLOBAL = 1u << 4,        /* needs CR4.PGE */
    MM_PAGE_WRITE_THROUGH = 1u << 5, /* PWT: bit 0 of the PAT entry index */
    MM_PAGE_CACHE_DISABLE = 1u << 6, /* PCD: bit 1 of the PAT entry index */
    MM_PAGE_PAT = 1u << 7,           /* PAT: bit 2 of the PAT entry index (needs PAT support) */
};
#define MM_PAGE_FLAGS_ALL 0xffu
/* The cache-type bits of the flags: together they select one of the eight PAT entries. */
#define MM_PAGE_CACHE_MASK (MM_PAGE_WRITE_THROUGH | MM_PAGE_CACHE_DISABLE | MM_PAGE_PAT)

/* The flags that select PAT entry `index` (0..7; higher bits ignored). The entry's meaning is
 * whatever the kernel programmed into the PAT MSR; the mapper only places the bits (PAT is bit
 * 7 of a 4 KiB entry and bit 12 of a 2 MiB / 1 GiB entry). */
static inline unsigned mm_page_cache_flags(unsigned index)
{
    return ((index & 1u) ? MM_PAGE_WRITE_THROUGH : 0u) |
           ((index & 2u) ? MM_PAGE_CACHE_DISABLE : 0u) | ((index & 4u) ? MM_PAGE_PAT : 0u);
}

/* The PAT entry index that flags select (the inverse of mm_page_cache_flags). */
static inline unsigned mm_page_cache_index(unsigned flags)
{
    return ((flags & MM_PAGE_WRITE_THROUGH) ? 1u : 0u) |
           ((flags & MM_PAGE_CACHE_DISABLE) ? 2u : 0u) | ((flags & MM_PAGE_PAT) ? 4u : 0u);
}

/* First index of the kernel half in a PML4 (addresses >= 0xffff800000000000). */
#define MM_PML4_KERNEL_FIRST 256

/* An address space: the hooks and the physical address of its PML4. Fields are public so a
 * kernel can load root into CR3; treat them as read-only (use mm_space_set_nx for no_nx). */
struct mm_space {
    const struct mm_paging_ops *ops;
    struct mm_paddr root;
    bool no_nx; /* the CPU runs without EFER.NXE: MM_PAGE_NO_EXECUTE is never written */
};

/* What translate reports. */
struct mm_translation {
    struct mm_paddr pa;        /* physical address of the queried byte */
    struct mm_paddr page_base; /* physical start of the page containing it */
    struct mm_vaddr page_va;   /* virtual start of that page */
    enum mm_page_size size;
    unsigned flags; /* enum mm_page_flags bits */
};

/* One run of mappings, as given to the walk callback: virtually and physically contiguous,
 * same flags. */
struct mm_mapping_range {
    struct mm_vaddr va;
    struct mm_paddr pa;
    uint64_t length;
    unsigned flags;
};

/* Walk callback: return false to stop the walk early. */
typedef bool (*mm_walk_fn)(void *ctx, const struct mm_mapping_range *range);

/*
 * Create an empty address space: one new zeroed PML4 from ops->alloc_table.
 * ops must stay valid as long as the space is used.
 * Errors: MM_ERR_INVALID (NULL, required hook missing), MM_ERR_NO_FRAMES.
 */
MM_MUST_CHECK enum mm_status mm_space_create(struct mm_space *s, const struct mm_paging_ops *ops);

/*
 * Wrap an existing PML4 (e.g. the one the boot code built, read from CR3). Nothing is
 * allocated or checked beyond alignment. Errors: MM_ERR_INVALID, MM_ERR_MISALIGNED.
 */
MM_MUST_CHECK enum mm_status mm_space_adopt(struct mm_space *s, const struct mm_paging_ops *ops,
                                            struct mm_paddr root);

/*
 * Tell the mapper whether the CPU has EFER.NXE set (the default after create/adopt is yes).
 * Without it bit 63 of an entry is reserved and a page walk that meets it faults, so with
 * nx_enabled false map and protect leave MM_PAGE_NO_EXECUTE out of the entries they write
 * (translate then reports the page executable, which it is). Entries written earlier are not
 * changed. Spaces made with mm_space_create_sharing_kernel inherit the setting.
 */
void mm_space_set_nx(struct mm_space *s, bool nx_enabled);

/*
 * Create a new address space whose kernel half (PML4 entries 256..511) is a copy of kernel's:
 * both point at the same PDPTs, so later changes below those PDPTs are seen by both. A PML4
 * slot that is empty in kernel at that moment is not shared - fill them all first with
 * mm_space_populate_kernel_half if the kernel half will grow. Uses s->ops = kernel->ops.
 * Errors: MM_ERR_INVALID, MM_ERR_NO_FRAMES.
 */
MM_MUST_CHECK enum mm_status mm_space_create_sharing_kernel(struct mm_space *s,
                                                            const struct mm_space *kernel);

/*
 * Give every empty kernel-half PML4 slot of s its own (empty) PDPT, so that spaces created
 * afterwards with mm_space_create_sharing_kernel see all future kernel mappings. Costs up to
 * 256 frames (1 MiB). Errors: MM_ERR_INVALID, MM_ERR_NO_FRAMES (slots filled so far stay).
 */
MM_MUST_CHECK enum mm_status mm_space_populate_kernel_half(struct mm_space *s);

/*
 * Free the user half's page tables (entries 0..255, not the frames they map) and the PML4
 * itself through free_table. The kernel half is assumed shared and left alone. s must not be
 * the live address space. Errors: MM_ERR_INVALID (NULL, no free_table hook).
 */
MM_MUST_CHECK enum mm_status mm_space_destroy(struct mm_space *s);

/*
 * Map the page of the given size at va to pa. va and pa must be aligned to size; flags are
 * enum mm_page_flags (PRESENT implied). Missing tables are allocated; if that fails, the
 * tables this call created are given back.
 * Errors: MM_ERR_INVALID (bad size or flags, pa above 52 bits), MM_ERR_NON_CANONICAL,
 * MM_ERR_MISALIGNED, MM_ERR_ALREADY_MAPPED (a page, or a table of smaller pages, is already in
 * that slot), MM_ERR_PARENT_HUGE (a larger page covers va), MM_ERR_NO_FRAMES.
 */
MM_MUST_CHECK enum mm_status mm_map(struct mm_space *s, struct mm_vaddr va, struct mm_paddr pa,
                                    enum mm_page_size size, unsigned flags);

/*
 * Map len bytes at va to pa with the largest pages that fit: a 2 MiB or 1 GiB page (up to
 * max_size) only where va and pa are both aligned to it and the whole page lies inside the
 * range; 4 KiB pages elsewhere. va, pa and len must be 4 KiB aligned. So a caller that wants
 * no large page to cross a boundary (a change of memory type) maps each side separately.
 * Stops at the first error; the pages mapped before it stay mapped and *mapped (optional)
 * gets their byte count. Errors: those of mm_map, MM_ERR_INVALID (max_size not a page size,
 * len 0), MM_ERR_MISALIGNED (va, pa or len), MM_ERR_WRAP (va or pa + len wraps).
 */
MM_MUST_CHECK enum mm_status mm_map_range(struct mm_space *s, struct mm_vaddr va,
                                          struct mm_paddr pa, uint64_t len, unsigned flags,
                                          enum mm_page_size max_size, uint64_t *mapped);

/*
 * Remove the page that starts at va (whatever its size) and report the frame it mapped and
 * its size (both optional). Flushes va through the hook, then gives back tables that became
 * empty (never the PML4 and never a kernel-half PDPT, which other spaces may share).
 * Errors: MM_ERR_NON_CANONICAL, MM_ERR_NOT_MAPPED, MM_ERR_MISALIGNED (va is inside a page but
 * not its start).
 */
MM_MUST_CHECK enum mm_status mm_unmap(struct mm_space *s, struct mm_vaddr va,
                                      struct mm_paddr *pa_out, enum mm_page_size *size_out);

/*
 * Replace the flags of the page that starts at va (PRESENT implied), then flush va.
 * Errors: MM_ERR_INVALID (flags), MM_ERR_NON_CANONICAL, MM_ERR_NOT_MAPPED, MM_ERR_MISALIGNED.
 */
MM_MUST_CHECK enum mm_status mm_protect(struct mm_space *s, struct mm_vaddr va, unsigned flags);

/*
 * Translate va: physical address, page size and flags of the page containing it.
 * Errors: MM_ERR_INVALID, MM_ERR_NON_CANONICAL, MM_ERR_NOT_MAPPED. Changes nothing.
 */
MM_MUST_CHECK enum mm_status mm_translate(const struct mm_space *s, struct mm_vaddr va,
                                          struct mm_translation *out);

/*
 * Call fn once per run of mappings in ascending virtual order; neighbouring pages are merged
 * into one run when both their virtual and physical addresses are contiguous and their flags
 * equal (page sizes may differ). Prints nothing. fn must not change the space.
 * Errors: MM_ERR_INVALID. Stopping early through fn is not an error.
 */
MM_MUST_CHECK enum mm_status mm_walk(const struct mm_space *s, mm_walk_fn fn, void *ctx);

#endif /* MM_PAGING_H */
