/*
 * mm/addr.h - physical and virtual addresses as distinct types.
 *
 * struct mm_paddr and struct mm_vaddr each wrap one uint64_t so that passing a physical
 * address where a virtual one is expected (or the reverse) is a compile error, not a bug
 * found at 3 a.m. Everything here is a pure inline function: no state, no hooks, safe from
 * any context (interrupts off, interrupt handlers, before any allocator exists).
 *
 * Alignment helpers take power-of-two alignments only. The unchecked align_up wraps modulo
 * 2^64 exactly like the arithmetic it replaces (align_up(~0, 4096) == 0); callers that cannot
 * rule that out use the *_checked variant, which reports the wrap (and a non-power-of-two
 * alignment) by returning false.
 */
#ifndef MM_ADDR_H
#define MM_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#define MM_PAGE_SHIFT 12
#define MM_PAGE_SIZE (UINT64_C(1) << MM_PAGE_SHIFT) /* 4 KiB */
#define MM_HUGE_2M_SIZE (UINT64_C(1) << 21)         /* 2 MiB */
#define MM_HUGE_1G_SIZE (UINT64_C(1) << 30)         /* 1 GiB */
/* x86_64 physical addresses have at most 52 bits (the architectural limit of MAXPHYADDR). */
#define MM_PADDR_BITS 52
#define MM_PADDR_MAX ((UINT64_C(1) << MM_PADDR_BITS) - 1)
/* 4-level paging: 48-bit virtual addresses, bits 63..48 must copy bit 47. */
#define MM_VADDR_BITS 48
#define MM_PT_ENTRIES 512

struct mm_paddr {
    uint64_t v;
};

struct mm_vaddr {
    uint64_t v;
};

/* ---- power-of-two arithmetic on plain integers ---------------------------------------- */

/* True if a is a non-zero power of two. */
static inline bool mm_is_pow2(uint64_t a)
{
    return a != 0 && (a & (a - 1)) == 0;
}

/* x rounded down to a multiple of align. Precondition: align is a power of two. */
static inline uint64_t mm_align_down(uint64_t x, uint64_t align)
{
    return x & ~(align - 1);
}

/* x rounded up to a multiple of align, wrapping modulo 2^64 (so align_up(2^64 - 1, 4096)
 * is 0). Precondition: align is a power of two. Use mm_align_up_checked when x may be that
 * close to the top. */
static inline uint64_t mm_align_up(uint64_t x, uint64_t align)
{
    return (x + (align - 1)) & ~(align - 1);
}

/* *out = x rounded up to a multiple of align. Returns false (and leaves *out untouched) if
 * align is not a power of two or the result does not fit in 64 bits. */
static inline bool mm_align_up_checked(uint64_t x, uint64_t align, uint64_t *out)
{
    uint64_t sum;

    if (!mm_is_pow2(align) || __builtin_add_overflow(x, align - 1, &sum))
        return false;
    *out = sum & ~(align - 1);
    return true;
}

/* True if x is a multiple of align. Precondition: align is a power of two. */
static inline bool mm_is_aligned(uint64_t x, uint64_t align)
{
    return (x & (align - 1)) == 0;
}

/* ---- physical addresses ---------------------------------------------------------------- */

static inline struct mm_paddr mm_paddr(uint64_t v)
{
    return (struct mm_paddr){v};
}

static inline uint64_t mm_paddr_u64(struct mm_paddr pa)
{
    return pa.v;
}

/* True if pa fits in the 52 bits a page-table entry can hold. */
static inline bool mm_paddr_is_valid(struct mm_paddr pa)
{
    return pa.v <= MM_PADDR_MAX;
}

static inline struct mm_paddr mm_paddr_add(struct mm_paddr pa, uint64_t off)
{
    return mm_paddr(pa.v + off);
}

static inline struct mm_paddr mm_paddr_align_down(struct mm_paddr pa, uint64_t align)
{
    return mm_paddr(mm_align_down(pa.v, align));
}

/* Wraps like mm_align_up; see mm_paddr_align_up_checked. */
static inline struct mm_paddr mm_paddr_align_up(struct mm_paddr pa, uint64_t align)
{
    return mm_paddr(mm_align_up(pa.v, align));
}

static inline bool mm_paddr_align_up_checked(struct mm_paddr pa, uint64_t align,
                                             struct mm_paddr *out)
{
    uint64_t v;

    if (!mm_align_up_checked(pa.v, align, &v))
        return false;
    *out = mm_paddr(v);
    return true;
}

static inline bool mm_paddr_is_aligned(struct mm_paddr pa, uint64_t align)
{
    return mm_is_aligned(pa.v, align);
}

/* Frame number (address / 4 KiB) and back. */
static inline uint64_t mm_paddr_pfn(struct mm_paddr pa)
{
    return pa.v >> MM_PAGE_SHIFT;
}

static inline struct mm_paddr mm_paddr_from_pfn(uint64_t pfn)
{
    return mm_paddr(pfn << MM_PAGE_SHIFT);
}

/* ---- virtual addresses ----------------------------------------------------------------- */

/* Raw constructor: no canonical check (use mm_vaddr_is_canonical / mm_vaddr_canonical). */
static inline struct mm_vaddr mm_vaddr(uint64_t v)
{
    return (struct mm_vaddr){v};
}

static inline uint64_t mm_vaddr_u64(struct mm_vaddr va)
{
    return va.v;
}

static inline struct mm_vaddr mm_vaddr_from_ptr(const void *p)
{
    return mm_vaddr((uint64_t)(uintptr_t)p);
}

static inline void *mm_vaddr_ptr(struct mm_vaddr va)
{
    return (void *)(uintptr_t)va.v;
}

/* True if bits 63..47 are all equal (all zero: lower half, all one: higher half). */
static inline bool mm_vaddr_is_canonical(struct mm_vaddr va)
{
    uint64_t top = va.v >> (MM_VADDR_BITS - 1);

    return top == 0 || top == (UINT64_C(1) << (64 - MM_VADDR_BITS + 1)) - 1;
}

/* The canonical form of v: bits 63..48 replaced by copies of bit 47 (what the CPU would
 * require). Never fails; use it for addresses computed from indices, not to "fix" bad input. */
static inline struct mm_vaddr mm_vaddr_canonical(uint64_t v)
{
    uint64_t low = v & ((UINT64_C(1) << MM_VADDR_BITS) - 1);

    if (low & (UINT64_C(1) << (MM_VADDR_BITS - 1)))
        low |= ~((UINT64_C(1) << MM_VADDR_BITS) - 1);
    return mm_vaddr(low);
}

/* va + off, no canonical check: a sum that crosses into the non-canonical hole stays there
 * (check with mm_vaddr_is_canonical). */
static inline struct mm_vaddr mm_vaddr_add(struct mm_vaddr va, uint64_t off)
{
    return mm_vaddr(va.v + off);
}

static inline struct mm_vaddr mm_vaddr_align_down(struct mm_vaddr va, uint64_t align)
{
    return mm_vaddr(mm_align_down(va.v, align));
}

/* Wraps like mm_align_up; see mm_vaddr_align_up_checked. */
static inline struct mm_vaddr mm_vaddr_align_up(struct mm_vaddr va, uint64_t align)
{
    return mm_vaddr(mm_align_up(va.v, align));
}

static inline bool mm_vaddr_align_up_checked(struct mm_vaddr va, uint64_t align,
                                             struct mm_vaddr *out)
{
    uint64_t v;

    if (!mm_align_up_checked(va.v, align, &v))
        return false;
    *out = mm_vaddr(v);
    return true;
}

static inline bool mm_vaddr_is_aligned(struct mm_vaddr va, uint64_t align)
{
    return mm_is_aligned(va.v, align);
}

/* ---- page-table indices (9 bits each) and the offset inside a 4 KiB page ------------- */

static inline unsigned mm_pml4_index(struct mm_vaddr va)
{
    return (unsigned)(va.v >> 39) & 511u;
}

static inline unsigned mm_pdpt_index(struct mm_vaddr va)
{
    return (unsigned)(va.v >> 30) & 511u;
}

static inline unsigned mm_pd_index(struct mm_vaddr va)
{
    return (unsigned)(va.v >> 21) & 511u;
}

static inline unsigned mm_pt_index(struct mm_vaddr va)
{
    return (unsigned)(va.v >> 12) & 511u;
}

static inline unsigned mm_page_offset(struct mm_vaddr va)
{
    return (unsigned)(va.v & (MM_PAGE_SIZE - 1));
}

/* The canonical address whose indices are the given ones (each taken modulo 512). */
static inline struct mm_vaddr mm_vaddr_from_indices(unsigned pml4, unsigned pdpt, unsigned pd,
                                                    unsigned pt, unsigned offset)
{
    uint64_t v = ((uint64_t)(pml4 & 511u) << 39) | ((uint64_t)(pdpt & 511u) << 30) |
                 ((uint64_t)(pd & 511u) << 21) | ((uint64_t)(pt & 511u) << 12) |
                 (uint64_t)(offset & (MM_PAGE_SIZE - 1));

    return mm_vaddr_canonical(v);
}

#endif /* MM_ADDR_H */
