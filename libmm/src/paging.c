/*
 * paging.c - the 4-level page-table mapper.
 *
 * Levels are numbered as in the SDM's walk: 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT. A leaf is a
 * PT entry, or a PD/PDPT entry with PS set (2 MiB / 1 GiB page). Every table is reached with
 * ops->phys_to_virt; nothing here knows where physical memory really is.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/paging.h"
#include "mm_assert.h"

#define PTE_P (UINT64_C(1) << 0)
#define PTE_RW (UINT64_C(1) << 1)
#define PTE_US (UINT64_C(1) << 2)
#define PTE_PWT (UINT64_C(1) << 3)
#define PTE_PCD (UINT64_C(1) << 4)
#define PTE_PS (UINT64_C(1) << 7)
#define PTE_PAT_4K (UINT64_C(1) << 7) /* in a level-1 entry bit 7 is PAT, not PS */
#define PTE_PAT_HUGE (UINT64_C(1) << 12)
#define PTE_G (UINT64_C(1) << 8)
#define PTE_NX (UINT64_C(1) << 63)
#define PTE_ADDR UINT64_C(0x000ffffffffff000)
/* Intermediate entries allow everything; the leaf restricts. */
#define PTE_TABLE (PTE_P | PTE_RW | PTE_US)

static unsigned level_shift(unsigned level)
{
    MM_ASSERT(level >= 1 && level <= 4);
    return MM_PAGE_SHIFT + 9 * (level - 1);
}

static unsigned level_index(struct mm_vaddr va, unsigned level)
{
    return (unsigned)(va.v >> level_shift(level)) & 511u;
}

/* Physical address bits of a leaf at level: above bit 12 a huge entry holds the PAT bit. */
static uint64_t leaf_addr(uint64_t e, unsigned level)
{
    return e & PTE_ADDR & ~((UINT64_C(1) << level_shift(level)) - 1);
}

static bool is_leaf(uint64_t e, unsigned level)
{
    return level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
}

/* Our flags and the entry bits they stand for, one table for both directions. */
static const struct {
    unsigned flag;
    uint64_t bit;
} flag_bits[] = {
    {MM_PAGE_WRITABLE, PTE_RW}, {MM_PAGE_USER, PTE_US},           {MM_PAGE_NO_EXECUTE, PTE_NX},
    {MM_PAGE_GLOBAL, PTE_G},    {MM_PAGE_WRITE_THROUGH, PTE_PWT}, {MM_PAGE_CACHE_DISABLE, PTE_PCD},
};

/* The PAT bit of a leaf at level: bit 7 in a PT entry, bit 12 in a huge page's entry. */
static uint64_t pat_bit(unsigned level)
{
    return level == 1 ? PTE_PAT_4K : PTE_PAT_HUGE;
}

/* Leaf entry bits (present, flags, PAT, PS; no address) for flags at level in space s. */
static uint64_t flags_to_pte(const struct mm_space *s, unsigned flags, unsigned level)
{
    uint64_t e = PTE_P | (level > 1 ? PTE_PS : 0);
    if (s->no_nx)
        flags &= ~(unsigned)MM_PAGE_NO_EXECUTE;
    for (size_t i = 0; i < sizeof flag_bits / sizeof flag_bits[0]; i++)
        if (flags & flag_bits[i].flag)
            e |= flag_bits[i].bit;
    if (flags & MM_PAGE_PAT)
        e |= pat_bit(level);
    return e;
}

static unsigned pte_to_flags(uint64_t e, unsigned level)
{
    unsigned f = MM_PAGE_PRESENT;
    for (size_t i = 0; i < sizeof flag_bits / sizeof flag_bits[0]; i++)
        if (e & flag_bits[i].bit)
            f |= flag_bits[i].flag;
    if (e & pat_bit(level))
        f |= MM_PAGE_PAT;
    return f;
}

static uint64_t *table_at(const struct mm_space *s, uint64_t pa)
{
    /* Tables are whole pages; a table address with low bits set means a corrupt entry. */
    MM_ASSERT((pa & ~PTE_ADDR) == 0);
    return s->ops->phys_to_virt(s->ops->ctx, mm_paddr(pa));
}

static bool ops_ok(const struct mm_paging_ops *ops)
{
    return ops && ops->phys_to_virt && ops->alloc_table;
}

static bool space_ok(const struct mm_space *s)
{
    return s && ops_ok(s->ops);
}

static void flush(const struct mm_space *s, struct mm_vaddr va)
{
    if (s->ops->flush)
        s->ops->flush(s->ops->ctx, s->root, va);
}

/* A zeroed table from the hook, or false. */
static bool new_table(const struct mm_space *s, uint64_t *pa_out)
{
    struct mm_paddr pa;
    uint64_t *t;

    if (!s->ops->alloc_table(s->ops->ctx, &pa))
        return false;
    t = table_at(s, pa.v);
    __builtin_memset(t, 0, MM_PAGE_SIZE);
    *pa_out = pa.v;
    return true;
}

/* ---- address spaces ---------------------------------------------------------------------- */

enum mm_status mm_space_create(struct mm_space *s, const struct mm_paging_ops *ops)
{
    uint64_t root;

    if (!s || !ops_ok(ops))
        return MM_ERR_INVALID;
    s->ops = ops;
    s->no_nx = false;
    if (!new_table(s, &root))
        return MM_ERR_NO_FRAMES;
    s->root = mm_paddr(root);
    return MM_OK;
}

enum mm_status mm_space_adopt(struct mm_space *s, const struct mm_paging_ops *ops,
                              struct mm_paddr root)
{
    if (!s || !ops_ok(ops))
        return MM_ERR_INVALID;
    if (!mm_paddr_is_aligned(root, MM_PAGE_SIZE))
        return MM_ERR_MISALIGNED;
    s->ops = ops;
    s->root = root;
    s->no_nx = false;
    return MM_OK;
}

void mm_space_set_nx(struct mm_space *s, bool nx_enabled)
{
    if (s)
        s->no_nx = !nx_enabled;
}

enum mm_status mm_space_create_sharing_kernel(struct mm_space *s, const struct mm_space *kernel)
{
    const uint64_t *src;
    uint64_t *dst;
    enum mm_status st;

    if (!s || !space_ok(kernel))
        return MM_ERR_INVALID;
    st = mm_space_create(s, kernel->ops);
    if (st != MM_OK)
        return st;
    s->no_nx = kernel->no_nx;
    src = table_at(kernel, kernel->root.v);
    dst = table_at(s, s->root.v);
    for (unsigned i = MM_PML4_KERNEL_FIRST; i < MM_PT_ENTRIES; i++)
        dst[i] = src[i];
    return MM_OK;
}

enum mm_status mm_space_populate_kernel_half(struct mm_space *s)
{
    uint64_t *pml4, pa;

    if (!space_ok(s))
        return MM_ERR_INVALID;
    pml4 = table_at(s, s->root.v);
    for (unsigned i = MM_PML4_KERNEL_FIRST; i < MM_PT_ENTRIES; i++) {
        if (pml4[i] & PTE_P)
            continue;
        if (!new_table(s, &pa))
            return MM_ERR_NO_FRAMES;
        pml4[i] = pa | PTE_TABLE;
    }
    return MM_OK;
}

/* Free the tables below the table at pa (level > 1), then the table itself. */
static void free_tree(const struct mm_space *s, uint64_t pa, unsigned level)
{
    const uint64_t *t = table_at(s, pa);

    for (unsigned i = 0; level > 1 && i < MM_PT_ENTRIES; i++)
        if ((t[i] & PTE_P) && !is_leaf(t[i], level))
            free_tree(s, t[i] & PTE_ADDR, level - 1);
    s->ops->free_table(s->ops->ctx, mm_paddr(pa));
}

enum mm_status mm_space_destroy(struct mm_space *s)
{
    uint64_t *pml4;

    if (!space_ok(s) || !s->ops->free_table)
        return MM_ERR_INVALID;
    pml4 = table_at(s, s->root.v);
    for (unsigned i = 0; i < MM_PML4_KERNEL_FIRST; i++) {
        if (pml4[i] & PTE_P)
            free_tree(s, pml4[i] & PTE_ADDR, 3);
        pml4[i] = 0;
    }
    s->ops->free_table(s->ops->ctx, s->root);
    s->root = mm_paddr(0);
    return MM_OK;
}

/* ---- map ------------------------------------------------------------------------------------ */

static unsigned size_to_level(enum mm_page_size size)
{
    switch (size) {
    case MM_PAGE_4K:
        return 1;
    case MM_PAGE_2M:
        return 2;
    case MM_PAGE_1G:
        return 3;
    }
    return 0;
}

static enum mm_page_size level_to_size(unsigned level)
{
    return level == 3 ? MM_PAGE_1G : level == 2 ? MM_PAGE_2M : MM_PAGE_4K;
}

enum mm_status mm_map(struct mm_space *s, struct mm_vaddr va, struct mm_paddr pa,
                      enum mm_page_size size, unsigned flags)
{
    unsigned leaf_level = size_to_level(size), level, nmade = 0;
    uint64_t *t, *made_slot[3], made_pa[3], e, child;

    if (!space_ok(s) || leaf_level == 0 || (flags & ~MM_PAGE_FLAGS_ALL) ||
        pa.v > MM_PADDR_MAX - (size - 1))
        return MM_ERR_INVALID;
    if (!mm_vaddr_is_canonical(va))
        return MM_ERR_NON_CANONICAL;
    if (!mm_is_aligned(va.v, size) || !mm_is_aligned(pa.v, size))
        return MM_ERR_MISALIGNED;

    t = table_at(s, s->root.v);
    for (level = 4; level > leaf_level; level--) {
        uint64_t *slot = &t[level_index(va, level)];

        e = *slot;
        if (e & PTE_P) {
            if (is_leaf(e, level))
                return MM_ERR_PARENT_HUGE;
            child = e & PTE_ADDR;
        } else if (new_table(s, &child)) {
            *slot = child | PTE_TABLE;
            made_slot[nmade] = slot;
            made_pa[nmade++] = child;
        } else {
            /* Leave no empty tables behind: unhook and give back what this call made. */
            while (nmade > 0) {
                nmade--;
                *made_slot[nmade] = 0;
                if (s->ops->free_table)
                    s->ops->free_table(s->ops->ctx, mm_paddr(made_pa[nmade]));
            }
            return MM_ERR_NO_FRAMES;
        }
        t = table_at(s, child);
    }
    t = &t[level_index(va, leaf_level)];
    if (*t & PTE_P)
        return MM_ERR_ALREADY_MAPPED; /* a page, or a table of smaller pages */
    *t = pa.v | flags_to_pte(s, flags, leaf_level);
    return MM_OK;
}

enum mm_status mm_map_range(struct mm_space *s, struct mm_vaddr va, struct mm_paddr pa,
                            uint64_t len, unsigned flags, enum mm_page_size max_size,
                            uint64_t *mapped)
{
    uint64_t done = 0, end;
    enum mm_status st = MM_OK;

    if (mapped)
        *mapped = 0;
    if (!space_ok(s) || size_to_level(max_size) == 0 || len == 0)
        return MM_ERR_INVALID;
    if (!mm_is_aligned(va.v | pa.v | len, MM_PAGE_SIZE))
        return MM_ERR_MISALIGNED;
    if (__builtin_add_overflow(va.v, len - 1, &end) || __builtin_add_overflow(pa.v, len - 1, &end))
        return MM_ERR_WRAP;
    while (done < len) {
        uint64_t v = va.v + done, p = pa.v + done;
        enum mm_page_size size = MM_PAGE_4K;

        if (max_size >= MM_PAGE_1G && mm_is_aligned(v | p, MM_PAGE_1G) && len - done >= MM_PAGE_1G)
            size = MM_PAGE_1G;
        else if (max_size >= MM_PAGE_2M && mm_is_aligned(v | p, MM_PAGE_2M) &&
                 len - done >= MM_PAGE_2M)
            size = MM_PAGE_2M;
        st = mm_map(s, mm_vaddr(v), mm_paddr(p), size, flags);
        if (st != MM_OK)
            break;
        done += size;
    }
    if (mapped)
        *mapped = done;
    return st;
}

/* ---- lookup --------------------------------------------------------------------------------- */

/* The path of a walk: tables[l] is the table at level l, idx[l] the entry used in it. */
struct path {
    uint64_t *tables[5];
    uint64_t pa[5];
    unsigned idx[5];
    unsigned leaf; /* level of the leaf */
};

static enum mm_status find_leaf(const struct mm_space *s, struct mm_vaddr va, struct path *p)
{
    uint64_t pa = s->root.v;

    if (!mm_vaddr_is_canonical(va))
        return MM_ERR_NON_CANONICAL;
    for (unsigned level = 4; level >= 1; level--) {
        uint64_t e;

        p->pa[level] = pa;
        p->tables[level] = table_at(s, pa);
        p->idx[level] = level_index(va, level);
        e = p->tables[level][p->idx[level]];
        if (!(e & PTE_P))
            return MM_ERR_NOT_MAPPED;
        if (is_leaf(e, level)) {
            /* A huge leaf's frame is aligned to its size (bit 12 is its PAT bit). */
            MM_ASSERT(level == 1 || (e & PTE_ADDR & ~PTE_PAT_HUGE &
                                     ((UINT64_C(1) << level_shift(level)) - 1)) == 0);
            p->leaf = level;
            return MM_OK;
        }
        pa = e & PTE_ADDR;
    }
    return MM_ERR_NOT_MAPPED; /* unreachable: level 1 entries are leaves */
}

static uint64_t *leaf_slot(struct path *p)
{
    return &p->tables[p->leaf][p->idx[p->leaf]];
}

enum mm_status mm_translate(const struct mm_space *s, struct mm_vaddr va,
                            struct mm_translation *out)
{
    struct path p;
    enum mm_status st;
    uint64_t e, size;

    if (!space_ok(s) || !out)
        return MM_ERR_INVALID;
    st = find_leaf(s, va, &p);
    if (st != MM_OK)
        return st;
    e = *leaf_slot(&p);
    size = UINT64_C(1) << level_shift(p.leaf);
    out->page_base = mm_paddr(leaf_addr(e, p.leaf));
    out->page_va = mm_vaddr(mm_align_down(va.v, size));
    out->pa = mm_paddr(out->page_base.v + (va.v - out->page_va.v));
    out->size = level_to_size(p.leaf);
    out->flags = pte_to_flags(e, p.leaf);
    return MM_OK;
}

/* ---- unmap / protect ------------------------------------------------------------------------- */

/* True if no entry of t but idx is present. Searches outwards from idx, where the neighbours
 * of a just-removed page usually are, so dense tables answer in a step or two. */
static bool table_empty_except(const uint64_t *t, unsigned idx)
{
    for (unsigned d = 1; d <= MM_PT_ENTRIES / 2; d++)
        if ((t[(idx + d) & 511u] & PTE_P) || (t[(idx - d) & 511u] & PTE_P))
            return false;
    return true;
}

enum mm_status mm_unmap(struct mm_space *s, struct mm_vaddr va, struct mm_paddr *pa_out,
                        enum mm_page_size *size_out)
{
    struct path p;
    enum mm_status st;
    uint64_t e, freed[3];
    unsigned nfreed = 0;

    if (!space_ok(s))
        return MM_ERR_INVALID;
    st = find_leaf(s, va, &p);
    if (st != MM_OK)
        return st;
    if (!mm_is_aligned(va.v, UINT64_C(1) << level_shift(p.leaf)))
        return MM_ERR_MISALIGNED;
    e = *leaf_slot(&p);
    *leaf_slot(&p) = 0;

    /* Unhook tables that are now empty, bottom-up. The PML4 stays, and so does every
     * kernel-half PDPT: other address spaces may point at it. */
    for (unsigned level = p.leaf; s->ops->free_table && level < 4; level++) {
        if (!table_empty_except(p.tables[level], p.idx[level]) ||
            (p.tables[level][p.idx[level]] & PTE_P))
            break;
        if (level == 3 && p.idx[4] >= MM_PML4_KERNEL_FIRST)
            break;
        MM_ASSERT(nfreed < 3 && (p.tables[level + 1][p.idx[level + 1]] & PTE_ADDR) == p.pa[level]);
        p.tables[level + 1][p.idx[level + 1]] = 0;
        freed[nfreed++] = p.pa[level];
    }
    /* One invlpg drops the TLB entry and every paging-structure cache entry, so the tables
     * may be reused only after it. */
    flush(s, va);
    for (unsigned i = 0; i < nfreed; i++)
        s->ops->free_table(s->ops->ctx, mm_paddr(freed[i]));
    if (pa_out)
        *pa_out = mm_paddr(leaf_addr(e, p.leaf));
    if (size_out)
        *size_out = level_to_size(p.leaf);
    return MM_OK;
}

enum mm_status mm_protect(struct mm_space *s, struct mm_vaddr va, unsigned flags)
{
    struct path p;
    enum mm_status st;
    uint64_t *slot;

    if (!space_ok(s) || (flags & ~MM_PAGE_FLAGS_ALL))
        return MM_ERR_INVALID;
    st = find_leaf(s, va, &p);
    if (st != MM_OK)
        return st;
    if (!mm_is_aligned(va.v, UINT64_C(1) << level_shift(p.leaf)))
        return MM_ERR_MISALIGNED;
    slot = leaf_slot(&p);
    *slot = leaf_addr(*slot, p.leaf) | flags_to_pte(s, flags, p.leaf);
    flush(s, va);
    return MM_OK;
}

/* ---- walk ------------------------------------------------------------------------------------ */

struct walker {
    const struct mm_space *s;
    mm_walk_fn fn;
    void *ctx;
    bool have, stopped;
    struct mm_mapping_range cur;
};

static void walk_emit(struct walker *w)
{
    if (w->have && !w->stopped && !w->fn(w->ctx, &w->cur))
        w->stopped = true;
    w->have = false;
}

static void walk_add(struct walker *w, uint64_t va, uint64_t pa, uint64_t len, unsigned flags)
{
    if (w->have && w->cur.va.v + w->cur.length == va && w->cur.pa.v + w->cur.length == pa &&
        w->cur.flags == flags) {
        w->cur.length += len;
        return;
    }
    walk_emit(w);
    w->cur = (struct mm_mapping_range){mm_vaddr(va), mm_paddr(pa), len, flags};
    w->have = true;
}

static void walk_table(struct walker *w, uint64_t pa, unsigned level, uint64_t va_base)
{
    const uint64_t *t = table_at(w->s, pa);

    for (unsigned i = 0; i < MM_PT_ENTRIES && !w->stopped; i++) {
        uint64_t e = t[i];
        uint64_t va = mm_vaddr_canonical(va_base | ((uint64_t)i << level_shift(level))).v;

        if (!(e & PTE_P))
            continue;
        if (is_leaf(e, level))
            walk_add(w, va, leaf_addr(e, level), UINT64_C(1) << level_shift(level),
                     pte_to_flags(e, level));
        else
            walk_table(w, e & PTE_ADDR, level - 1, va);
    }
}

enum mm_status mm_walk(const struct mm_space *s, mm_walk_fn fn, void *ctx)
{
    struct walker w = {.s = s, .fn = fn, .ctx = ctx};

    if (!space_ok(s) || !fn)
        return MM_ERR_INVALID;
    walk_table(&w, s->root.v, 4, 0);
    walk_emit(&w);
    return MM_OK;
}
