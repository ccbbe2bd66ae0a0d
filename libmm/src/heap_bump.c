/*
 * heap_bump.c - bump allocation over a list of regions (see mm/heap_bump.h).
 *
 * Block: user - 16 holds the usable size, user - 8 holds TAG (live) or FREED_TAG.
 * Regions are used in order; when the current one is full the next one (or a new one from
 * the grow hook) takes over, and the rest of the full one is wasted until the next reset.
 */
#include "mm/heap_bump.h"
#include "heap_impl.h"

#define TAG 0x42554D504C495645ull       /* "BUMPLIVE" */
#define FREED_TAG 0x42554D5046524545ull /* "BUMPFREE" */

static inline size_t round16(size_t v)
{
    return (v + 15u) & ~(size_t)15u;
}

static inline uint64_t *word(uintptr_t a)
{
    return (uint64_t *)a;
}

/* Bytes handed out so far, counted from each region's base (the footprint). */
static size_t used_now(const struct mm_bump_heap *b)
{
    return b->used_before + (b->next - b->regions[b->cur].base);
}

/* Carve from the current region; NULL if it does not fit. */
static void *carve(struct mm_bump_heap *b, size_t size, size_t align)
{
    const struct mm_heap_region *r = &b->regions[b->cur];
    uintptr_t u = (b->next + 16 + align - 1) & ~(uintptr_t)(align - 1);
    if (u > r->end || size > r->end - u)
        return NULL;
    /* u and end are 16-aligned, so the rounded size fits whenever size does; never 0. */
    size_t usable = round16(size ? size : 1);
    if (usable > r->end - u)
        return NULL;
    *word(u - 16) = usable;
    *word(u - 8) = TAG;
    b->next = u + usable;
    b->live++;
    b->in_use += usable;
    if (b->in_use > b->peak_in_use)
        b->peak_in_use = b->in_use;
    size_t fp = used_now(b);
    if (fp > b->peak_footprint)
        b->peak_footprint = fp;
    return (void *)u;
}

static bool next_region(struct mm_bump_heap *b, size_t need)
{
    if (b->cur + 1 < b->nregions) {
        b->used_before += b->regions[b->cur].end - b->regions[b->cur].base;
        b->cur++;
        b->next = b->regions[b->cur].base;
        return true;
    }
    uintptr_t base, end;
    /* With every region slot taken, memory from the hook could not be tracked: don't ask. */
    if (b->nregions == MM_HEAP_MAX_REGIONS || !mm_heap_grow(&b->heap, need, &base, &end))
        return false;
    struct mm_heap_region *r = &b->regions[b->cur];
    if (base == r->end) {
        r->end = end;
        b->region_bytes += end - base;
        return true;
    }
    b->used_before += r->end - r->base;
    b->regions[b->nregions].base = base;
    b->regions[b->nregions].end = end;
    b->cur = b->nregions++;
    b->next = base;
    b->region_bytes += end - base;
    return true;
}

static void *bump_alloc(struct mm_heap *h, size_t size, size_t align)
{
    struct mm_bump_heap *b = (struct mm_bump_heap *)h;
    for (;;) {
        void *p = carve(b, size, align);
        if (p)
            return p;
        if (!next_region(b, size + align + 16))
            return NULL;
    }
}

void mm_bump_reset(struct mm_bump_heap *b)
{
    b->cur = 0;
    b->next = b->regions[0].base;
    b->used_before = 0;
    b->live = 0;
    b->in_use = 0;
}

/* The usable size of live block p, or 0 after a report. */
static size_t live_size(struct mm_bump_heap *b, void *p, const char *op)
{
    uintptr_t u = (uintptr_t)p;
    uint64_t tag = *word(u - 8);
    if (tag == FREED_TAG) {
        mm_heap_report(&b->heap, "bump: double free (block is already free)", p);
        return 0;
    }
    if (tag != TAG) {
        mm_heap_report(&b->heap, op, p);
        return 0;
    }
    return (size_t)*word(u - 16);
}

static bool bump_free(struct mm_heap *h, void *p)
{
    struct mm_bump_heap *b = (struct mm_bump_heap *)h;
    size_t s = live_size(b, p, "bump: free of a pointer that is not a block");
    if (!s)
        return false;
    *word((uintptr_t)p - 8) = FREED_TAG;
    b->in_use -= s;
    if (--b->live == 0)
        mm_bump_reset(b);
    return true;
}

static size_t bump_usable(struct mm_heap *h, void *p)
{
    struct mm_bump_heap *b = (struct mm_bump_heap *)h;
    return live_size(b, p, "bump: usable_size of a pointer that is not a block");
}

static void *bump_realloc(struct mm_heap *h, void *p, size_t size, size_t align)
{
    struct mm_bump_heap *b = (struct mm_bump_heap *)h;
    size_t s = live_size(b, p, "bump: realloc of a pointer that is not a block");
    if (!s)
        return NULL;
    uintptr_t u = (uintptr_t)p;
    if ((u & (align - 1)) == 0) {
        if (size <= s)
            return p; /* shrinking gives nothing back in a bump heap */
        const struct mm_heap_region *r = &b->regions[b->cur];
        size_t want = round16(size);
        if (u + s == b->next && want <= r->end - u) {
            *word(u - 16) = want;
            b->next = u + want;
            b->in_use += want - s;
            if (b->in_use > b->peak_in_use)
                b->peak_in_use = b->in_use;
            if (used_now(b) > b->peak_footprint)
                b->peak_footprint = used_now(b);
            return p;
        }
    }
    return mm_heap_realloc_move(h, p, s, size, align);
}

static bool bump_owns(const struct mm_heap *h, const void *p)
{
    const struct mm_bump_heap *b = (const struct mm_bump_heap *)h;
    uintptr_t a = (uintptr_t)p;
    for (unsigned i = 0; i < b->nregions; i++)
        if (a >= b->regions[i].base + 16 && a < b->regions[i].end)
            return true;
    return false;
}

static void bump_stats(struct mm_heap *h, struct mm_heap_stats *out)
{
    struct mm_bump_heap *b = (struct mm_bump_heap *)h;
    size_t left = b->regions[b->cur].end - b->next;
    out->bytes_in_use = b->in_use;
    out->peak_in_use = b->peak_in_use;
    out->footprint = used_now(b);
    out->peak_footprint = b->peak_footprint;
    out->region_bytes = b->region_bytes;
    out->live_blocks = b->live;
    out->largest_free = left > 16 ? left - 16 : 0;
    out->bytes_free = left;
    for (unsigned i = b->cur + 1; i < b->nregions; i++) {
        size_t n = b->regions[i].end - b->regions[i].base;
        out->bytes_free += n;
        if (n > 16 && n - 16 > out->largest_free)
            out->largest_free = n - 16;
    }
}

static enum mm_status bump_check(struct mm_heap *h, const char **reason)
{
    struct mm_bump_heap *b = (struct mm_bump_heap *)h;
    if (b->nregions == 0 || b->cur >= b->nregions) {
        *reason = "bump: current region index out of range";
        return MM_ERR_HEAP_CORRUPT;
    }
    const struct mm_heap_region *r = &b->regions[b->cur];
    if (b->next < r->base || b->next > r->end) {
        *reason = "bump: next pointer outside the current region";
        return MM_ERR_HEAP_CORRUPT;
    }
    if (b->live == 0 && b->in_use != 0) {
        *reason = "bump: bytes in use without live blocks";
        return MM_ERR_HEAP_CORRUPT;
    }
    return MM_OK;
}

static const struct mm_heap_ops bump_ops = {
    .name = "bump",
    .alloc = bump_alloc,
    .free = bump_free,
    .realloc = bump_realloc,
    .usable_size = bump_usable,
    .owns = bump_owns,
    .stats = bump_stats,
    .check = bump_check,
};

enum mm_status mm_bump_init(struct mm_bump_heap *b, void *base, size_t len,
                            const struct mm_heap_config *cfg)
{
    if (!b || !base)
        return MM_ERR_INVALID;
    uintptr_t lo = ((uintptr_t)base + 15u) & ~(uintptr_t)15u;
    uintptr_t hi = ((uintptr_t)base + len) & ~(uintptr_t)15u;
    if ((uintptr_t)base + len < (uintptr_t)base || hi <= lo || hi - lo < 32)
        return MM_ERR_INVALID;
    __builtin_memset(b, 0, sizeof *b);
    b->heap.ops = &bump_ops;
    if (cfg)
        b->heap.cfg = *cfg;
    b->regions[0].base = lo;
    b->regions[0].end = hi;
    b->nregions = 1;
    b->next = lo;
    b->region_bytes = hi - lo;
    return MM_OK;
}
