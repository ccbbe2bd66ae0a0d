/*
 * heap_tlsf.c - two-level segregated fit with a wilderness chunk (see mm/heap_tlsf.h).
 *
 * Block layout (address b, "stride" S = distance to the next block, a multiple of 16):
 *   b + 0   prev_phys  address of the previous block; valid only while that block is free,
 *                      so it lives in the last 8 bytes of the previous block's payload
 *   b + 8   hdr        MAGIC << 48 | S | flags (FREE, PREV_FREE)
 *   b + 16  payload    S - 8 usable bytes (the last 8 overlap the next block's prev_phys)
 *           free blocks keep next_free/prev_free in the first 16 payload bytes
 * Invariants: no two free blocks touch; no free block touches the top chunk; every free
 * block is in exactly the list its stride maps to; bitmaps mirror list emptiness.
 */
#include "mm/heap_tlsf.h"

struct mm_tlsf_block {
    struct mm_tlsf_block *prev_phys;
    uint64_t hdr;
    struct mm_tlsf_block *next_free, *prev_free;
};
typedef struct mm_tlsf_block blk_t;

#define F_FREE 0x1u
#define F_PREV_FREE 0x2u
#define MAGIC 0xA11Cull
#define MAGIC_SHIFT 48
#define MAGIC_BITS (MAGIC << MAGIC_SHIFT)
#define STRIDE_MASK 0x0000FFFFFFFFFFF0ull
#define MIN_STRIDE 32u
#define SMALL_LIMIT (MM_TLSF_SL_COUNT << 4) /* strides below map linearly, 16 per list */
#define SENTINEL 16u                         /* bytes kept at each region end */

static inline size_t stride_of(const blk_t *b)
{
    return (size_t)(b->hdr & STRIDE_MASK);
}
static inline bool hdr_valid(uint64_t hdr)
{
    return (hdr >> MAGIC_SHIFT) == MAGIC;
}
static inline blk_t *blk_at(uintptr_t a)
{
    return (blk_t *)a;
}
static inline blk_t *next_phys(const blk_t *b)
{
    return blk_at((uintptr_t)b + stride_of(b));
}
static inline blk_t *blk_of_ptr(void *p)
{
    return blk_at((uintptr_t)p - 16);
}
static inline void *ptr_of_blk(blk_t *b)
{
    return (char *)b + 16;
}

/* Stride needed for a request of size bytes at 16-byte alignment. */
static inline size_t stride_for(size_t size)
{
    size_t s = (size + 8 + 15) & ~(size_t)15;
    return s < MIN_STRIDE ? MIN_STRIDE : s;
}

static inline unsigned msb(size_t v)
{
    return 63u - (unsigned)__builtin_clzll((unsigned long long)v);
}

static inline void map_insert(size_t s, unsigned *fl, unsigned *sl)
{
    if (s < SMALL_LIMIT) {
        *fl = 0;
        *sl = (unsigned)(s >> 4);
    } else {
        unsigned m = msb(s);
        *fl = m - 8;
        *sl = (unsigned)(s >> (m - MM_TLSF_SL_LOG)) ^ MM_TLSF_SL_COUNT;
    }
}

/* The first list whose every block is >= s; false if beyond the table. */
static inline bool map_search(size_t s, unsigned *fl, unsigned *sl)
{
    if (s >= SMALL_LIMIT)
        s += ((size_t)1 << (msb(s) - MM_TLSF_SL_LOG)) - 1;
    map_insert(s, fl, sl);
    return *fl < MM_TLSF_FL_COUNT;
}

static inline void bin_insert(struct mm_tlsf_heap *t, blk_t *b, size_t s)
{
    unsigned fl, sl;
    map_insert(s, &fl, &sl);
    blk_t *head = t->heads[fl][sl];
    b->next_free = head;
    b->prev_free = NULL;
    if (head)
        head->prev_free = b;
    t->heads[fl][sl] = b;
    t->fl_bitmap |= 1u << fl;
    t->sl_bitmap[fl] |= 1u << sl;
    t->bin_bytes += s;
}

static inline void bin_remove(struct mm_tlsf_heap *t, blk_t *b, size_t s)
{
    unsigned fl, sl;
    map_insert(s, &fl, &sl);
    blk_t *n = b->next_free, *p = b->prev_free;
    if (n)
        n->prev_free = p;
    if (p) {
        p->next_free = n;
    } else {
        t->heads[fl][sl] = n;
        if (!n) {
            t->sl_bitmap[fl] &= ~(1u << sl);
            if (!t->sl_bitmap[fl])
                t->fl_bitmap &= ~(1u << fl);
        }
    }
    t->bin_bytes -= s;
}

/* A free block of stride >= s taken out of its list, or NULL. */
static inline blk_t *bin_take(struct mm_tlsf_heap *t, size_t s)
{
    unsigned fl, sl;
    if (!map_search(s, &fl, &sl))
        return NULL;
    uint32_t sm = t->sl_bitmap[fl] & (~0u << sl);
    if (!sm) {
        uint32_t fm = fl + 1 < MM_TLSF_FL_COUNT ? t->fl_bitmap & (~0u << (fl + 1)) : 0;
        if (!fm)
            return NULL;
        fl = (unsigned)__builtin_ctz(fm);
        sm = t->sl_bitmap[fl];
    }
    sl = (unsigned)__builtin_ctz(sm);
    blk_t *b = t->heads[fl][sl];
    blk_t *n = b->next_free;
    t->heads[fl][sl] = n;
    if (n) {
        n->prev_free = NULL;
    } else {
        t->sl_bitmap[fl] &= ~(1u << sl);
        if (!t->sl_bitmap[fl])
            t->fl_bitmap &= ~(1u << fl);
    }
    t->bin_bytes -= stride_of(b);
    return b;
}

static inline uintptr_t cur_base(const struct mm_tlsf_heap *t)
{
    return t->regions[t->nregions - 1].base;
}

static inline void note_footprint(struct mm_tlsf_heap *t)
{
    size_t fp = t->closed_footprint + (t->top - cur_base(t)) + SENTINEL;
    if (fp > t->peak_footprint)
        t->peak_footprint = fp;
}

static void write_sentinel(uintptr_t at)
{
    blk_at(at)->hdr = MAGIC_BITS; /* stride 0, in use: walks and merges stop here */
}

/* Carve a used block of stride s from the top chunk; NULL if it is too small. */
static inline blk_t *top_take(struct mm_tlsf_heap *t, size_t s)
{
    if (t->top_end - t->top < s)
        return NULL;
    blk_t *b = blk_at(t->top);
    t->top += s;
    b->hdr = MAGIC_BITS | s; /* the block before top is never free */
    note_footprint(t);
    return b;
}

/* Make [top, top_end) of the current region a free block (or give it up if too small to
 * hold one) before a non-adjacent region takes over. */
static void retire_top(struct mm_tlsf_heap *t)
{
    size_t rest = t->top_end - t->top;
    struct mm_heap_region *r = &t->regions[t->nregions - 1];
    if (rest >= MIN_STRIDE) {
        blk_t *b = blk_at(t->top);
        b->hdr = MAGIC_BITS | rest | F_FREE;
        bin_insert(t, b, rest);
        blk_t *s = blk_at(t->top_end);
        s->prev_phys = b;
        s->hdr |= F_PREV_FREE;
    } else {
        write_sentinel(t->top);
    }
    t->closed_footprint += r->end - r->base;
}

/* Add [base, end) (16-aligned) to the heap; false if no region slot is left. */
static bool add_region(struct mm_tlsf_heap *t, uintptr_t base, uintptr_t end)
{
    if (end - base > MM_TLSF_MAX_REGION)
        end = base + MM_TLSF_MAX_REGION;
    if (t->nregions > 0) {
        struct mm_heap_region *r = &t->regions[t->nregions - 1];
        if (base == r->end && end - r->base <= MM_TLSF_MAX_REGION) {
            /* Adjacent: the old sentinel becomes part of the top chunk. */
            r->end = end;
            t->top_end = end - SENTINEL;
            write_sentinel(t->top_end);
            t->region_bytes += end - base;
            return true;
        }
        if (t->nregions == MM_HEAP_MAX_REGIONS)
            return false;
        retire_top(t);
    }
    t->regions[t->nregions].base = base;
    t->regions[t->nregions].end = end;
    t->nregions++;
    t->top = base;
    t->top_end = end - SENTINEL;
    write_sentinel(t->top_end);
    t->region_bytes += end - base;
    return true;
}

static bool grow(struct mm_tlsf_heap *t, size_t need)
{
    uintptr_t base, end;
    /* With every region slot taken, memory from the hook could not be tracked: don't ask. */
    if (t->nregions == MM_HEAP_MAX_REGIONS)
        return false;
    if (!mm_heap_grow(&t->heap, need + 2 * SENTINEL + 64, &base, &end))
        return false;
    if (end - base < 64 || !add_region(t, base, end)) {
        mm_heap_report(&t->heap, "tlsf: grow: region too small",
                       (void *)base);
        return false;
    }
    return true;
}

/* A used block of stride >= s from the free lists or the top; NULL if neither has one. */
static inline blk_t *find_block(struct mm_tlsf_heap *t, size_t s)
{
    blk_t *b = bin_take(t, s);
    if (!b)
        return top_take(t, s);
    size_t bs = stride_of(b);
    blk_t *n = blk_at((uintptr_t)b + bs);
    if (bs - s >= MIN_STRIDE) {
        blk_t *r = blk_at((uintptr_t)b + s);
        r->hdr = MAGIC_BITS | (bs - s) | F_FREE;
        bin_insert(t, r, bs - s);
        n->prev_phys = r; /* n keeps PREV_FREE: its neighbour is still free */
        b->hdr = MAGIC_BITS | s;
    } else {
        n->hdr &= ~(uint64_t)F_PREV_FREE;
        b->hdr = MAGIC_BITS | bs;
    }
    return b;
}

/* find_block, asking the grow hook once if the heap has nothing big enough. */
static inline blk_t *get_block(struct mm_tlsf_heap *t, size_t s)
{
    blk_t *b = find_block(t, s);
    if (b || !grow(t, s))
        return b;
    return find_block(t, s);
}

/* Turn the used block b into free space, merging with free neighbours and the top. Counters
 * of live data are the caller's business. */
static inline void release(struct mm_tlsf_heap *t, blk_t *b)
{
    size_t s = stride_of(b);
    if (b->hdr & F_PREV_FREE) {
        blk_t *p = b->prev_phys;
        size_t ps = stride_of(p);
        bin_remove(t, p, ps);
        s += ps;
        b = p;
    }
    uintptr_t na = (uintptr_t)b + s;
    if (na == t->top) {
        t->top = (uintptr_t)b;
        return;
    }
    blk_t *n = blk_at(na);
    if (n->hdr & F_FREE) {
        size_t ns = stride_of(n);
        bin_remove(t, n, ns);
        s += ns;
        n = blk_at((uintptr_t)b + s);
    }
    b->hdr = MAGIC_BITS | s | F_FREE; /* prev is not free now: it was merged or was used */
    bin_insert(t, b, s);
    n->prev_phys = b;
    n->hdr |= F_PREV_FREE;
}

/* Cut the used block b down to stride s, releasing the tail if it can stand alone. */
static void trim(struct mm_tlsf_heap *t, blk_t *b, size_t s)
{
    size_t bs = stride_of(b);
    if (bs - s < MIN_STRIDE)
        return;
    b->hdr = (b->hdr & ~STRIDE_MASK) | s;
    blk_t *r = blk_at((uintptr_t)b + s);
    r->hdr = MAGIC_BITS | (bs - s);
    release(t, r);
}

static inline void account_alloc(struct mm_tlsf_heap *t, blk_t *b)
{
    t->in_use += stride_of(b) - 8;
    t->live++;
    if (t->in_use > t->peak_in_use)
        t->peak_in_use = t->in_use;
}

static void *tlsf_alloc(struct mm_heap *h, size_t size, size_t align)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    size_t s = stride_for(size);
    if (align <= 16) {
        blk_t *b = get_block(t, s);
        if (!b)
            return NULL;
        account_alloc(t, b);
        return ptr_of_blk(b);
    }
    /* Over-allocate, then give back a front gap (>= MIN_STRIDE or none) and the tail. */
    blk_t *b = get_block(t, s + align + MIN_STRIDE);
    if (!b)
        return NULL;
    uintptr_t u = ((uintptr_t)b + 16 + align - 1) & ~(uintptr_t)(align - 1);
    if (u - 16 - (uintptr_t)b != 0 && u - 16 - (uintptr_t)b < MIN_STRIDE)
        u += align;
    size_t gap = u - 16 - (uintptr_t)b;
    if (gap) {
        size_t bs = stride_of(b);
        blk_t *nb = blk_at(u - 16);
        nb->hdr = MAGIC_BITS | (bs - gap);
        b->hdr = (b->hdr & ~STRIDE_MASK) | gap;
        release(t, b); /* frees the gap and marks nb PREV_FREE */
        b = nb;
    }
    trim(t, b, s);
    account_alloc(t, b);
    return ptr_of_blk(b);
}

/* The used block behind p, or NULL after a report. */
static blk_t *used_block(struct mm_tlsf_heap *t, void *p, const char *op)
{
    blk_t *b = blk_of_ptr(p);
    uint64_t hdr = b->hdr;
    if (!hdr_valid(hdr) || stride_of(b) < MIN_STRIDE) {
        mm_heap_report(&t->heap, op, p);
        return NULL;
    }
    if (hdr & F_FREE) {
        mm_heap_report(&t->heap, "tlsf: double free (block is already free)", p);
        return NULL;
    }
    uintptr_t na = (uintptr_t)b + stride_of(b);
    if (na != t->top && (!mm_heap_regions_own(t->regions, t->nregions, (void *)(na + 8)) ||
                         !hdr_valid(blk_at(na)->hdr))) {
        mm_heap_report(&t->heap, "tlsf: block header corrupt (bad size)", p);
        return NULL;
    }
    return b;
}

static bool tlsf_free(struct mm_heap *h, void *p)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    blk_t *b = used_block(t, p, "tlsf: free of a pointer that is not a block");
    if (!b)
        return false;
    t->in_use -= stride_of(b) - 8;
    t->live--;
    release(t, b);
    return true;
}

static size_t tlsf_usable(struct mm_heap *h, void *p)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    blk_t *b = used_block(t, p, "tlsf: usable_size of a pointer that is not a block");
    return b ? stride_of(b) - 8 : 0;
}

static void *tlsf_realloc(struct mm_heap *h, void *p, size_t size, size_t align)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    blk_t *b = used_block(t, p, "tlsf: realloc of a pointer that is not a block");
    if (!b)
        return NULL;
    size_t s = stride_for(size), bs = stride_of(b);
    if (((uintptr_t)p & (align - 1)) == 0) {
        if (s <= bs) {
            trim(t, b, s);
            t->in_use -= bs - stride_of(b);
            return p;
        }
        uintptr_t na = (uintptr_t)b + bs;
        if (na == t->top && t->top_end - (uintptr_t)b >= s) {
            t->top = (uintptr_t)b + s;
            b->hdr = (b->hdr & ~STRIDE_MASK) | s;
            note_footprint(t);
            goto grown;
        }
        blk_t *n = blk_at(na);
        if (na != t->top && (n->hdr & F_FREE) && bs + stride_of(n) >= s) {
            size_t ns = stride_of(n);
            bin_remove(t, n, ns);
            b->hdr = (b->hdr & ~STRIDE_MASK) | (bs + ns);
            next_phys(b)->hdr &= ~(uint64_t)F_PREV_FREE;
            trim(t, b, s);
            goto grown;
        }
    }
    void *q = tlsf_alloc(h, size, align);
    if (!q)
        return NULL;
    __builtin_memcpy(q, p, bs - 8 < size ? bs - 8 : size);
    t->in_use -= bs - 8;
    t->live--;
    release(t, b);
    return q;
grown:
    t->in_use += stride_of(b) - bs;
    if (t->in_use > t->peak_in_use)
        t->peak_in_use = t->in_use;
    return p;
}

static bool tlsf_owns(const struct mm_heap *h, const void *p)
{
    const struct mm_tlsf_heap *t = (const struct mm_tlsf_heap *)h;
    uintptr_t a = (uintptr_t)p;
    for (unsigned i = 0; i < t->nregions; i++)
        if (a >= t->regions[i].base + 16 && a < t->regions[i].end)
            return true;
    return false;
}

static void tlsf_stats(struct mm_heap *h, struct mm_heap_stats *out)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    size_t top = t->top_end - t->top;
    out->bytes_in_use = t->in_use;
    out->bytes_free = t->bin_bytes + top;
    out->peak_in_use = t->peak_in_use;
    out->footprint = t->closed_footprint + (t->top - cur_base(t)) + SENTINEL;
    out->peak_footprint = t->peak_footprint;
    out->region_bytes = t->region_bytes;
    out->live_blocks = t->live;
    size_t largest = top >= MIN_STRIDE ? top - 8 : 0;
    if (t->fl_bitmap) {
        unsigned fl = msb(t->fl_bitmap);
        unsigned sl = msb(t->sl_bitmap[fl]);
        for (blk_t *b = t->heads[fl][sl]; b; b = b->next_free)
            if (stride_of(b) - 8 > largest)
                largest = stride_of(b) - 8;
    }
    out->largest_free = largest;
}

#define FAIL(msg)                                                                              \
    do {                                                                                       \
        *reason = (msg);                                                                       \
        return MM_HEAP_ERR_CORRUPT;                                                            \
    } while (0)

static enum mm_heap_status tlsf_check(struct mm_heap *h, const char **reason)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    size_t free_blocks = 0, free_bytes = 0, live = 0, in_use = 0;

    if (t->top > t->top_end || (t->top & 15u))
        FAIL("tlsf: top chunk out of range");
    for (unsigned i = 0; i < t->nregions; i++) {
        const struct mm_heap_region *r = &t->regions[i];
        bool last = i + 1 == t->nregions;
        uintptr_t a = r->base;
        bool prev_free = false;
        blk_t *prev = NULL;
        for (;;) {
            if (last && a == t->top)
                break;
            blk_t *b = blk_at(a);
            if (!hdr_valid(b->hdr))
                FAIL("tlsf: bad block magic");
            if (!!(b->hdr & F_PREV_FREE) != prev_free)
                FAIL("tlsf: PREV_FREE flag disagrees with the previous block");
            if (prev_free && b->prev_phys != prev)
                FAIL("tlsf: prev_phys does not point at the free predecessor");
            size_t s = stride_of(b);
            if (s == 0) {
                if (last || (a + SENTINEL != r->end && a + 2 * SENTINEL != r->end))
                    FAIL("tlsf: sentinel in the middle of a region");
                break;
            }
            if (s < MIN_STRIDE || (s & 15u))
                FAIL("tlsf: bad block size");
            if (a + s > (last ? t->top : r->end - SENTINEL))
                FAIL("tlsf: block runs past its region");
            if (b->hdr & F_FREE) {
                if (prev_free)
                    FAIL("tlsf: two adjacent free blocks (missed coalescing)");
                free_blocks++;
                free_bytes += s;
                prev_free = true;
            } else {
                live++;
                in_use += s - 8;
                prev_free = false;
            }
            prev = b;
            a += s;
        }
        if (last && prev_free)
            FAIL("tlsf: free block next to the top chunk");
        if (last && (!hdr_valid(blk_at(t->top_end)->hdr) || stride_of(blk_at(t->top_end)) != 0))
            FAIL("tlsf: sentinel after the top chunk damaged");
    }
    size_t listed = 0;
    for (unsigned fl = 0; fl < MM_TLSF_FL_COUNT; fl++) {
        if (!!(t->fl_bitmap & (1u << fl)) != (t->sl_bitmap[fl] != 0))
            FAIL("tlsf: first-level bitmap disagrees with second level");
        for (unsigned sl = 0; sl < MM_TLSF_SL_COUNT; sl++) {
            blk_t *b = t->heads[fl][sl];
            if (!!(t->sl_bitmap[fl] & (1u << sl)) != (b != NULL))
                FAIL("tlsf: second-level bitmap disagrees with its list");
            blk_t *pv = NULL;
            for (; b; pv = b, b = b->next_free) {
                unsigned f, s;
                if (!mm_heap_regions_own(t->regions, t->nregions, b))
                    FAIL("tlsf: free list points outside the heap");
                if (!hdr_valid(b->hdr) || !(b->hdr & F_FREE))
                    FAIL("tlsf: free list holds a used block");
                if (b->prev_free != pv)
                    FAIL("tlsf: free list back link broken");
                map_insert(stride_of(b), &f, &s);
                if (f != fl || s != sl)
                    FAIL("tlsf: free block in the wrong size list");
                if (++listed > free_blocks)
                    FAIL("tlsf: free lists hold more blocks than the heap");
            }
        }
    }
    if (listed != free_blocks)
        FAIL("tlsf: a free block is missing from the free lists");
    if (free_bytes != t->bin_bytes)
        FAIL("tlsf: free byte counter wrong");
    if (live != t->live || in_use != t->in_use)
        FAIL("tlsf: live block counters wrong");
    return MM_HEAP_OK;
}

static const struct mm_heap_ops tlsf_ops = {
    .name = "tlsf",
    .alloc = tlsf_alloc,
    .free = tlsf_free,
    .realloc = tlsf_realloc,
    .usable_size = tlsf_usable,
    .owns = tlsf_owns,
    .stats = tlsf_stats,
    .check = tlsf_check,
};

enum mm_heap_status mm_tlsf_init(struct mm_tlsf_heap *t, void *base, size_t len,
                                 const struct mm_heap_config *cfg)
{
    if (!t || !base)
        return MM_HEAP_ERR_INVALID;
    uintptr_t lo = ((uintptr_t)base + 15u) & ~(uintptr_t)15u;
    uintptr_t hi = ((uintptr_t)base + len) & ~(uintptr_t)15u;
    if ((uintptr_t)base + len < (uintptr_t)base || hi <= lo || hi - lo < 64)
        return MM_HEAP_ERR_INVALID;
    __builtin_memset(t, 0, sizeof *t);
    t->heap.ops = &tlsf_ops;
    if (cfg)
        t->heap.cfg = *cfg;
    (void)add_region(t, lo, hi);
    note_footprint(t);
    return MM_HEAP_OK;
}
