/*
 * heap_tlsf.c - slab front end over a two-level segregated fit core with a wilderness chunk
 * (see mm/heap_tlsf.h).
 *
 * Core block layout (address b, "stride" S = distance to the next block, a multiple of 16):
 *   b + 0   prev_phys  address of the previous block; valid only while that block is free,
 *                      so it lives in the last 8 bytes of the previous block's payload
 *   b + 8   hdr        MAGIC << 48 | S | flags (FREE, PREV_FREE)
 *   b + 16  payload    S - 8 usable bytes (the last 8 overlap the next block's prev_phys)
 *           free blocks keep next_free/prev_free in the first 16 payload bytes
 * Invariants: no two free blocks touch; no free block touches the top chunk; every free
 * block is in exactly the list its stride maps to; bitmaps mirror list emptiness.
 *
 * Region layout: [base .. blocks .. top .. top_end) [sentinel 16 B) [chunk map) end.
 *
 * Slab layout: a used core block whose payload A is MM_TLSF_SLAB_BYTES-aligned and whose
 * chunk-map bit is set. [A, A + 96) is struct mm_tlsf_slab, slots follow; the slab never
 * uses [A + SLAB_BYTES - 8, ...), which holds the next block's header. Every pointer whose
 * chunk-map bit is set belongs to that slab: no other block's payload starts inside it.
 */
#include "mm/heap_tlsf.h"
#include "heap_impl.h"

#include "heap_tlsf_slab.h"
#include "mm_assert.h"

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
#define SENTINEL 16u                        /* bytes kept at each region end */

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
    MM_ASSERT((b->hdr & F_FREE) && stride_of(b) == s && s >= MIN_STRIDE);
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
    MM_ASSERT((b->hdr & F_FREE) && stride_of(b) == s);
    unsigned fl, sl;
    map_insert(s, &fl, &sl);
    blk_t *n = b->next_free, *p = b->prev_free;
    MM_ASSERT(p ? p->next_free == b : t->heads[fl][sl] == b);
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
    MM_ASSERT(b && (b->hdr & F_FREE) && stride_of(b) >= s && !b->prev_free);
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

/* ---- regions, top chunk and chunk maps ---- */

#define CHUNK ((uintptr_t)MM_TLSF_SLAB_BYTES)
#define SLAB_HDR ((uintptr_t)sizeof(struct mm_tlsf_slab))
typedef struct mm_tlsf_slab slab_t;

_Static_assert(sizeof(struct mm_tlsf_slab) % 16 == 0, "slab objects must stay 16-aligned");

/* Bytes of chunk map for a region [base, end): one bit per chunk slot, 16-byte granular. */
static inline size_t map_bytes(uintptr_t base, uintptr_t end)
{
    uintptr_t mb = base & ~(CHUNK - 1);
    size_t bits = (size_t)((end - mb + CHUNK - 1) >> MM_TLSF_SLAB_SHIFT);
    return ((bits + 127) / 128) * 16;
}

static inline uintptr_t cur_base(const struct mm_tlsf_heap *t)
{
    return t->regions[t->nregions - 1].base;
}

static inline size_t cur_footprint(const struct mm_tlsf_heap *t)
{
    unsigned r = t->nregions - 1;
    return t->closed_footprint + (t->top - cur_base(t)) + SENTINEL + t->map_len[r];
}

static inline void note_footprint(struct mm_tlsf_heap *t)
{
    size_t fp = cur_footprint(t);
    if (fp > t->peak_footprint)
        t->peak_footprint = fp;
}

static void write_sentinel(uintptr_t at)
{
    blk_at(at)->hdr = MAGIC_BITS; /* stride 0, in use: walks and merges stop here */
}

/* Index of the region holding address a, or -1. Newest first: it serves most blocks. */
static inline int region_of(const struct mm_tlsf_heap *t, uintptr_t a)
{
    for (int i = (int)t->nregions - 1; i >= 0; i--)
        if (a - t->regions[i].base < t->regions[i].end - t->regions[i].base)
            return i;
    return -1;
}

static inline bool map_test(const struct mm_tlsf_heap *t, int r, uintptr_t a)
{
    size_t bit = (size_t)((a - t->map_base[r]) >> MM_TLSF_SLAB_SHIFT);
    return (t->map[r][bit >> 6] >> (bit & 63)) & 1u;
}

static inline void map_set(struct mm_tlsf_heap *t, uintptr_t a, bool on)
{
    int r = region_of(t, a);
    size_t bit = (size_t)((a - t->map_base[r]) >> MM_TLSF_SLAB_SHIFT);
    if (on)
        t->map[r][bit >> 6] |= (uint64_t)1 << (bit & 63);
    else
        t->map[r][bit >> 6] &= ~((uint64_t)1 << (bit & 63));
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

/* Add [base, end) (16-aligned) to the heap; false if no region slot is left or the piece
 * cannot even hold its own chunk map. */
static bool add_region(struct mm_tlsf_heap *t, uintptr_t base, uintptr_t end)
{
    if (end - base > MM_TLSF_MAX_REGION)
        end = base + MM_TLSF_MAX_REGION;
    if (t->nregions > 0) {
        unsigned i = t->nregions - 1;
        struct mm_heap_region *r = &t->regions[i];
        if (base == r->end && end - r->base <= MM_TLSF_MAX_REGION) {
            /* Adjacent: move the map to the new end; old sentinel and map join the top. */
            size_t nl = map_bytes(r->base, end);
            uintptr_t nmap = end - nl;
            if (nmap - SENTINEL < t->top)
                return false;
            __builtin_memmove((void *)nmap, t->map[i], t->map_len[i]);
            __builtin_memset((char *)nmap + t->map_len[i], 0, nl - t->map_len[i]);
            t->map[i] = (uint64_t *)nmap;
            t->map_len[i] = nl;
            r->end = end;
            t->top_end = nmap - SENTINEL;
            write_sentinel(t->top_end);
            t->region_bytes += end - base;
            note_footprint(t);
            return true;
        }
        if (t->nregions == MM_HEAP_MAX_REGIONS)
            return false;
    }
    size_t ml = map_bytes(base, end);
    if (end - base < ml + SENTINEL + MIN_STRIDE)
        return false;
    if (t->nregions > 0)
        retire_top(t);
    unsigned i = t->nregions++;
    t->regions[i].base = base;
    t->regions[i].end = end;
    t->map[i] = (uint64_t *)(end - ml);
    t->map_len[i] = ml;
    t->map_base[i] = base & ~(CHUNK - 1);
    __builtin_memset(t->map[i], 0, ml);
    t->top = base;
    t->top_end = end - ml - SENTINEL;
    write_sentinel(t->top_end);
    t->region_bytes += end - base;
    note_footprint(t);
    return true;
}

/* Refresh the fast path's copy of the newest region's fields. */
static void note_cur_region(struct mm_tlsf_heap *t)
{
    unsigned i = t->nregions - 1;
    t->cur_base = t->regions[i].base;
    t->cur_len = t->regions[i].end - t->regions[i].base;
    t->cur_map = t->map[i];
    t->cur_map_base = t->map_base[i];
}

static bool grow(struct mm_tlsf_heap *t, size_t need)
{
    uintptr_t base, end;
    /* With every region slot taken, memory from the hook could not be tracked: don't ask. */
    if (t->nregions == MM_HEAP_MAX_REGIONS)
        return false;
    /* Room for the block, a sentinel, a new chunk map (1 bit per 8 KiB) and alignment. */
    size_t want = need + 2 * SENTINEL + 64 + (need >> 15);
    if (!mm_heap_grow(&t->heap, want, &base, &end))
        return false;
    if (end - base < 64 || !add_region(t, base, end)) {
        mm_heap_report(&t->heap, "tlsf: grow: region too small", (void *)base);
        return false;
    }
    note_cur_region(t);
    return true;
}

/* Finish taking the free block b (already out of its list) as a used block of stride s. */
static inline blk_t *split_taken(struct mm_tlsf_heap *t, blk_t *b, size_t s)
{
    size_t bs = stride_of(b);
    MM_ASSERT(bs >= s);
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

/* A used block of stride >= s from the free lists or the top; NULL if neither has one. */
static inline blk_t *find_block(struct mm_tlsf_heap *t, size_t s)
{
    blk_t *b = bin_take(t, s);
    if (!b)
        return top_take(t, s);
    return split_taken(t, b, s);
}

static unsigned release_spare_slabs(struct mm_tlsf_heap *t);

/* find_block; when that fails, give the spare slabs back and, failing that, ask the grow
 * hook once. */
static inline blk_t *get_block(struct mm_tlsf_heap *t, size_t s)
{
    blk_t *b = find_block(t, s);
    if (b)
        return b;
    if (release_spare_slabs(t) && (b = find_block(t, s)) != NULL)
        return b;
    if (!grow(t, s))
        return NULL;
    return find_block(t, s);
}

/* Turn the used block b into free space, merging with free neighbours and the top. Counters
 * of live data are the caller's business. */
static inline void release(struct mm_tlsf_heap *t, blk_t *b)
{
    size_t s = stride_of(b);
    MM_ASSERT(!(b->hdr & F_FREE) && s >= MIN_STRIDE);
    if (b->hdr & F_PREV_FREE) {
        blk_t *p = b->prev_phys;
        size_t ps = stride_of(p);
        MM_ASSERT((uintptr_t)p + ps == (uintptr_t)b);
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

/* A used block of stride >= s whose payload is aligned to align (> 16). */
static blk_t *aligned_block(struct mm_tlsf_heap *t, size_t s, size_t align)
{
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
    return b;
}

static inline void account_alloc(struct mm_tlsf_heap *t, blk_t *b)
{
    t->in_use += stride_of(b) - 8;
    t->used += stride_of(b) - 8;
    t->live++;
    if (t->used > t->peak_in_use)
        t->peak_in_use = t->used;
}

/* ---- slab front end ---- */

static const uint16_t cls_size[MM_TLSF_NCLASSES] = {
    16,  32,  48,  64,  80,  96,  112, 128, 144, 160, 176, 192,
    208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512,
};
/* Class of a request of n bytes, indexed by (n + 15) / 16 for n <= MM_TLSF_SLAB_MAX. */
static const uint8_t cls_of16[MM_TLSF_SLAB_MAX / 16 + 1] = {
    0,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
    16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23,
};

static inline unsigned cls_of(size_t n)
{
    return cls_of16[(n + 15) >> 4];
}

/* Slots of a slab for objects of size sz. */
static inline unsigned slab_cap(size_t sz)
{
    return (unsigned)((CHUNK - 8 - SLAB_HDR) / sz);
}

/* A core block of stride exactly CHUNK whose payload is CHUNK-aligned, or NULL. The head of
 * the list for that stride is tried first: a slab given back earlier usually sits there,
 * already aligned. */
static blk_t *chunk_block(struct mm_tlsf_heap *t)
{
    unsigned fl, sl;
    map_insert(CHUNK, &fl, &sl);
    blk_t *b = t->heads[fl][sl];
    if (b && (((uintptr_t)b + 16) & (CHUNK - 1)) == 0) {
        bin_remove(t, b, stride_of(b));
        return split_taken(t, b, CHUNK);
    }
    return aligned_block(t, CHUNK, CHUNK);
}

/* A fresh slab for class c (the class has none with a free slot), or NULL. */
static slab_t *slab_new(struct mm_tlsf_heap *t, unsigned c)
{
    blk_t *b = chunk_block(t);
    if (!b)
        return NULL;
    slab_t *s = (slab_t *)ptr_of_blk(b);
    size_t sz = cls_size[c];
    unsigned cap = slab_cap(sz);
    __builtin_memset(s, 0, sizeof *s);
    for (unsigned w = 0; w < cap / 64; w++)
        s->free_bits[w] = ~(uint64_t)0;
    if (cap % 64)
        s->free_bits[cap / 64] = ((uint64_t)1 << (cap % 64)) - 1;
    s->summary = (uint8_t)((1u << ((cap + 63) / 64)) - 1);
    s->size = (uint32_t)sz;
    s->recip = (uint32_t)(((uint64_t)1 << 32) / sz + 1);
    s->cap = (uint16_t)cap;
    s->nfree = (uint16_t)cap;
    s->cls = (uint8_t)c;
    map_set(t, (uintptr_t)s, true);
    t->avail[c] = s;
    t->nslabs++;
    t->slab_slot_bytes += cap * sz;
    return s;
}

/* Give the empty slab s (already off its class list) back to the core. */
static void slab_release(struct mm_tlsf_heap *t, slab_t *s)
{
    MM_ASSERT(s->nfree == s->cap && !s->next && !s->prev && t->avail[s->cls] != s);
    map_set(t, (uintptr_t)s, false);
    t->nslabs--;
    t->slab_slot_bytes -= (size_t)s->cap * s->size;
    release(t, blk_of_ptr(s));
}

static inline void slab_unlink(struct mm_tlsf_heap *t, slab_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        t->avail[s->cls] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

/* Give back every spare (empty, last of its class) slab; how many there were. O(classes). */
static unsigned release_spare_slabs(struct mm_tlsf_heap *t)
{
    unsigned n = 0;
    for (unsigned c = 0; c < MM_TLSF_NCLASSES; c++) {
        slab_t *s = t->avail[c];
        if (s && s->nfree == s->cap && !s->next) {
            slab_unlink(t, s);
            slab_release(t, s);
            n++;
        }
    }
    return n;
}

/* Take a slot from s, the head of its class list. */
static inline void *slab_take(struct mm_tlsf_heap *t, slab_t *s)
{
    MM_ASSERT(s == t->avail[s->cls] && !s->prev && s->nfree && s->summary);
    unsigned w = (unsigned)__builtin_ctz(s->summary);
    uint64_t bits = s->free_bits[w];
    unsigned i = (unsigned)__builtin_ctzll(bits);
    bits &= bits - 1;
    s->free_bits[w] = bits;
    if (!bits)
        s->summary &= (uint8_t) ~(1u << w);
    if (--s->nfree == 0) {
        t->avail[s->cls] = s->next;
        if (s->next)
            s->next->prev = NULL;
        s->next = NULL;
    }
    size_t used = t->used + s->size;
    t->used = used;
    t->live++;
    if (used > t->peak_in_use)
        t->peak_in_use = used;
    return (char *)s + SLAB_HDR + (size_t)(w * 64 + i) * s->size;
}

/* Slot index of p in s, or -1 (after a report) if p is not the start of a live slot. */
static inline long slab_slot(struct mm_tlsf_heap *t, slab_t *s, uintptr_t p, const char *op)
{
    uintptr_t off = p - (uintptr_t)s - SLAB_HDR;
    if (off >= (uintptr_t)s->cap * s->size) {
        mm_heap_report(&t->heap, op, (void *)p);
        return -1;
    }
    unsigned i = (unsigned)((off * s->recip) >> 32);
    if ((uintptr_t)i * s->size != off) {
        mm_heap_report(&t->heap, "tlsf: pointer into the middle of a slab object", (void *)p);
        return -1;
    }
    if ((s->free_bits[i >> 6] >> (i & 63)) & 1u) {
        mm_heap_report(&t->heap, "tlsf: double free (slab slot is already free)", (void *)p);
        return -1;
    }
    return (long)i;
}

/* s just got its first free slot, or became empty. */
static __attribute__((noinline)) void slab_edge(struct mm_tlsf_heap *t, slab_t *s)
{
    if (s->nfree == 1) {
        /* Was full: it becomes the class's current slab (nearly full slabs fill first, so
         * emptier ones can drain and go back to the core). An empty slab is only ever kept
         * alone on its list, as the class's spare; with s there the class no longer needs a
         * spare, and one left behind s would be empty in the middle of the list, where
         * nothing gives it back. */
        MM_ASSERT(!s->next && !s->prev && s->cap > 1);
        slab_t *h = t->avail[s->cls];
        if (h && h->nfree == h->cap) {
            MM_ASSERT(!h->next);
            slab_unlink(t, h);
            slab_release(t, h);
            h = NULL;
        }
        s->prev = NULL;
        s->next = h;
        if (h)
            h->prev = s;
        t->avail[s->cls] = s;
    } else if (s->nfree == s->cap && (s->next || s->prev)) {
        slab_unlink(t, s);
        slab_release(t, s);
    }
}

static inline void slab_put(struct mm_tlsf_heap *t, slab_t *s, unsigned i)
{
    s->free_bits[i >> 6] |= (uint64_t)1 << (i & 63);
    s->summary |= (uint8_t)(1u << (i >> 6));
    MM_ASSERT(s->nfree < s->cap && t->used >= s->size);
    t->used -= s->size;
    t->live--;
    unsigned n = ++s->nfree;
    /* The last slab of a class emptying (every free in an alloc/free loop) needs nothing. */
    if (__builtin_expect(n == 1, 0) || (__builtin_expect(n == s->cap, 0) && (s->next || s->prev)))
        slab_edge(t, s);
}

/* The slab holding p, or NULL if p's chunk is not a slab. r: p's region. */
static inline slab_t *slab_of(const struct mm_tlsf_heap *t, int r, uintptr_t p)
{
    return map_test(t, r, p) ? (slab_t *)(p & ~(CHUNK - 1)) : NULL;
}

/* ---- the interface ---- */

/* Everything but a slab hit: a new slab, or a core block. */
static __attribute__((noinline)) void *alloc_slow(struct mm_tlsf_heap *t, size_t size, size_t align)
{
    if (size < t->slab_end && align <= 16) {
        slab_t *s = slab_new(t, cls_of(size));
        if (s)
            return slab_take(t, s);
        /* No chunk to be had: a core block may still fit this one object. */
    }
    size_t s = stride_for(size);
    blk_t *b = align <= 16 ? get_block(t, s) : aligned_block(t, s, align);
    if (!b)
        return NULL;
    account_alloc(t, b);
    return ptr_of_blk(b);
}

static void *tlsf_alloc(struct mm_heap *h, size_t size, size_t align)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    if (__builtin_expect(size < t->slab_end && align <= 16, 1)) {
        slab_t *s = t->avail[cls_of(size)];
        if (__builtin_expect(s != NULL, 1))
            return slab_take(t, s);
    }
    return alloc_slow(t, size, align);
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
    /* A block freed into the top chunk, or merged into its free predecessor, keeps a stale
     * "used" header: catch a second free of it here, before release() trusts that header. */
    if ((uintptr_t)b >= t->top && (uintptr_t)b <= t->top_end) {
        mm_heap_report(&t->heap, "tlsf: double free (block lies in the unused top chunk)", p);
        return NULL;
    }
    if (hdr & F_PREV_FREE) {
        blk_t *pv = b->prev_phys;
        if (!mm_heap_regions_own(t->regions, t->nregions, (void *)((uintptr_t)pv + 8)) ||
            !hdr_valid(pv->hdr) || !(pv->hdr & F_FREE) ||
            (uintptr_t)pv + stride_of(pv) != (uintptr_t)b) {
            mm_heap_report(&t->heap, "tlsf: double free (block was merged into a free block)", p);
            return NULL;
        }
    }
    uintptr_t na = (uintptr_t)b + stride_of(b);
    if (na != t->top && (!mm_heap_regions_own(t->regions, t->nregions, (void *)(na + 8)) ||
                         !hdr_valid(blk_at(na)->hdr))) {
        mm_heap_report(&t->heap, "tlsf: block header corrupt (bad size)", p);
        return NULL;
    }
    return b;
}

/* Validate p (alignment, ownership); its region index, or -1 after a report. */
static inline int ptr_region(struct mm_tlsf_heap *t, void *p, const char *op)
{
    int r = region_of(t, (uintptr_t)p);
    if (r < 0 || ((uintptr_t)p & 15u) || (uintptr_t)p < t->regions[r].base + 16) {
        mm_heap_report(&t->heap, op, p);
        return -1;
    }
    return r;
}

static __attribute__((noinline)) bool free_slow(struct mm_tlsf_heap *t, void *p)
{
    int r = ptr_region(t, p, "free: misaligned or foreign pointer");
    if (r < 0)
        return false;
    slab_t *s = slab_of(t, r, (uintptr_t)p);
    if (s) {
        long i = slab_slot(t, s, (uintptr_t)p, "tlsf: free of a pointer that is not a block");
        if (i < 0)
            return false;
        slab_put(t, s, (unsigned)i);
        return true;
    }
    blk_t *b = used_block(t, p, "tlsf: free of a pointer that is not a block");
    if (!b)
        return false;
    t->in_use -= stride_of(b) - 8;
    t->used -= stride_of(b) - 8;
    t->live--;
    release(t, b);
    return true;
}

/* Free p if it is a live slot of a slab in the newest region; false for anything else
 * (including every kind of bad pointer, left for free_slow to report). */
static inline bool slab_free_fast(struct mm_tlsf_heap *t, void *p)
{
    uintptr_t a = (uintptr_t)p;
    size_t bit = (size_t)((a - t->cur_map_base) >> MM_TLSF_SLAB_SHIFT);
    if (__builtin_expect(a - t->cur_base < t->cur_len && !(a & 15u) &&
                             ((t->cur_map[bit >> 6] >> (bit & 63)) & 1u),
                         1)) {
        slab_t *s = (slab_t *)(a & ~(CHUNK - 1));
        uintptr_t off = a - (uintptr_t)s - SLAB_HDR;
        unsigned i = (unsigned)((off * s->recip) >> 32);
        if (off < (uintptr_t)s->cap * s->size && (uintptr_t)i * s->size == off &&
            !((s->free_bits[i >> 6] >> (i & 63)) & 1u)) {
            slab_put(t, s, i);
            return true;
        }
    }
    return false;
}

static bool tlsf_free(struct mm_heap *h, void *p)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    return slab_free_fast(t, p) || free_slow(t, p);
}

/* ---- direct entry points (also ops->entry_alloc / entry_free) ---- */

void *mm_tlsf_alloc(struct mm_tlsf_heap *t, size_t size, size_t align)
{
    /* fast_end is 0 in debug mode. align 0 or a power of two up to 16: the default. */
    if (__builtin_expect(size < t->fast_end && ((align & (align - 1)) | (align >> 5)) == 0, 1)) {
        slab_t *s = t->avail[cls_of(size)];
        if (__builtin_expect(s != NULL, 1)) {
            t->heap.allocs++;
            return slab_take(t, s);
        }
    }
    return mm_heap_alloc_common(&t->heap, size, align);
}

void mm_tlsf_free(struct mm_tlsf_heap *t, void *ptr)
{
    if (__builtin_expect(!(t->heap.cfg.flags & MM_HEAP_DEBUG), 1)) {
        /* What mm_heap_free_common would do here, minus its tests. */
        if (slab_free_fast(t, ptr) || (ptr && free_slow(t, ptr)))
            t->heap.frees++;
        return;
    }
    mm_heap_free_common(&t->heap, ptr);
}

static void *tlsf_entry_alloc(struct mm_heap *h, size_t size, size_t align)
{
    return mm_tlsf_alloc((struct mm_tlsf_heap *)h, size, align);
}

static void tlsf_entry_free(struct mm_heap *h, void *ptr)
{
    mm_tlsf_free((struct mm_tlsf_heap *)h, ptr);
}

static size_t tlsf_usable(struct mm_heap *h, void *p)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    const char *op = "tlsf: usable_size of a pointer that is not a block";
    int r = ptr_region(t, p, op);
    if (r < 0)
        return 0;
    slab_t *s = slab_of(t, r, (uintptr_t)p);
    if (s)
        return slab_slot(t, s, (uintptr_t)p, op) < 0 ? 0 : s->size;
    blk_t *b = used_block(t, p, op);
    return b ? stride_of(b) - 8 : 0;
}

/* realloc of the slab object p (slot i of s). */
static void *slab_realloc(struct mm_tlsf_heap *t, slab_t *s, unsigned i, void *p, size_t size,
                          size_t align)
{
    bool fits = size <= s->size && align <= 16;
    if (fits && size < t->slab_end && cls_of(size) == s->cls)
        return p;
    void *q = tlsf_alloc(&t->heap, size, align);
    if (!q)
        return fits ? p : NULL; /* a smaller class was wanted but the old slot still serves */
    __builtin_memcpy(q, p, s->size < size ? s->size : size);
    slab_put(t, s, i);
    return q;
}

static void *tlsf_realloc(struct mm_heap *h, void *p, size_t size, size_t align)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    const char *op = "tlsf: realloc of a pointer that is not a block";
    int r = ptr_region(t, p, op);
    if (r < 0)
        return NULL;
    slab_t *sl = slab_of(t, r, (uintptr_t)p);
    if (sl) {
        long i = slab_slot(t, sl, (uintptr_t)p, op);
        return i < 0 ? NULL : slab_realloc(t, sl, (unsigned)i, p, size, align);
    }
    blk_t *b = used_block(t, p, op);
    if (!b)
        return NULL;
    size_t s = stride_for(size), bs = stride_of(b);
    if (((uintptr_t)p & (align - 1)) == 0) {
        if (s <= bs) {
            trim(t, b, s);
            t->in_use -= bs - stride_of(b);
            t->used -= bs - stride_of(b);
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
    t->used -= bs - 8;
    t->live--;
    release(t, b);
    return q;
grown:
    t->in_use += stride_of(b) - bs;
    t->used += stride_of(b) - bs;
    if (t->used > t->peak_in_use)
        t->peak_in_use = t->used;
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
    out->bytes_in_use = t->used;
    out->bytes_free = t->bin_bytes + top + (t->slab_slot_bytes - (t->used - t->in_use));
    out->peak_in_use = t->peak_in_use;
    out->footprint = cur_footprint(t);
    out->peak_footprint = t->peak_footprint;
    out->region_bytes = t->region_bytes;
    out->live_blocks = t->live;
    size_t largest = top >= MIN_STRIDE ? top - 8 : 0;
    if (t->fl_bitmap) {
        /* Look at a few blocks of the top bucket only, so stats stay bounded work; a bucket
         * spans 1/32 of its power of two, so the figure is at most ~3% low. */
        unsigned fl = msb(t->fl_bitmap);
        unsigned sl = msb(t->sl_bitmap[fl]);
        unsigned seen = 0;
        for (blk_t *b = t->heads[fl][sl]; b && seen < 8; b = b->next_free, seen++)
            if (stride_of(b) - 8 > largest)
                largest = stride_of(b) - 8;
    }
    for (unsigned c = MM_TLSF_NCLASSES; c-- > 0 && cls_size[c] > largest;)
        if (t->avail[c]) {
            largest = cls_size[c];
            break;
        }
    out->largest_free = largest;
}

#define FAIL(msg)                                                                                  \
    do {                                                                                           \
        *reason = (msg);                                                                           \
        return MM_ERR_HEAP_CORRUPT;                                                                \
    } while (0)

/* Bits set in v. Not __builtin_popcountll: without -mpopcnt that calls libgcc, which a
 * kernel linked with -nostdlib does not have. */
static unsigned popcount64(uint64_t v)
{
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (unsigned)((v * 0x0101010101010101ull) >> 56);
}

/* Verify one slab's header; its live objects are added to *live and *bytes. */
static enum mm_status check_slab(const slab_t *s, size_t *live, size_t *bytes, const char **reason)
{
    if (s->cls >= MM_TLSF_NCLASSES || s->size != cls_size[s->cls] || s->cap != slab_cap(s->size) ||
        s->recip != (uint32_t)(((uint64_t)1 << 32) / s->size + 1))
        FAIL("tlsf: slab header damaged (class, size or capacity)");
    unsigned nfree = 0;
    for (unsigned w = 0; w < MM_TLSF_SLAB_WORDS; w++) {
        uint64_t bits = s->free_bits[w];
        unsigned lo = w * 64;
        uint64_t valid = lo >= s->cap         ? 0
                         : s->cap - lo >= 64u ? ~(uint64_t)0
                                              : ((uint64_t)1 << (s->cap - lo)) - 1;
        if (bits & ~valid)
            FAIL("tlsf: slab free bitmap marks a slot past the slab's end");
        if (!!(s->summary & (1u << w)) != (bits != 0))
            FAIL("tlsf: slab free bitmap summary disagrees with its words");
        nfree += popcount64(bits);
    }
    if (nfree != s->nfree)
        FAIL("tlsf: slab free bitmap disagrees with its free count");
    *live += s->cap - s->nfree;
    *bytes += (size_t)(s->cap - s->nfree) * s->size;
    return MM_OK;
}

static enum mm_status tlsf_check(struct mm_heap *h, const char **reason)
{
    struct mm_tlsf_heap *t = (struct mm_tlsf_heap *)h;
    size_t free_blocks = 0, free_bytes = 0, live = 0, in_use = 0, slab_bytes = 0;
    size_t slabs = 0, slots = 0, map_bits = 0;

    if (t->top > t->top_end || (t->top & 15u))
        FAIL("tlsf: top chunk out of range");
    {
        unsigned n = t->nregions - 1;
        if (t->cur_base != t->regions[n].base ||
            t->cur_len != t->regions[n].end - t->regions[n].base || t->cur_map != t->map[n] ||
            t->cur_map_base != t->map_base[n])
            FAIL("tlsf: fast-path copy of the newest region disagrees with it");
    }
    for (unsigned i = 0; i < t->nregions; i++) {
        const struct mm_heap_region *r = &t->regions[i];
        bool last = i + 1 == t->nregions;
        uintptr_t tail = (uintptr_t)t->map[i] - SENTINEL; /* the region's sentinel */
        if ((uintptr_t)t->map[i] + t->map_len[i] != r->end ||
            t->map_len[i] != map_bytes(r->base, r->end) ||
            t->map_base[i] != (r->base & ~(CHUNK - 1)))
            FAIL("tlsf: chunk map misplaced");
        if (last && tail != t->top_end)
            FAIL("tlsf: top chunk does not end at the region's sentinel");
        for (size_t w = 0; w < t->map_len[i] / 8; w++)
            map_bits += (size_t)popcount64(t->map[i][w]);
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
                if (last || (a != tail && a + SENTINEL != tail))
                    FAIL("tlsf: sentinel in the middle of a region");
                break;
            }
            if (s < MIN_STRIDE || (s & 15u))
                FAIL("tlsf: bad block size");
            if (a + s > (last ? t->top : tail))
                FAIL("tlsf: block runs past its region");
            uintptr_t pl = a + 16;
            bool slab =
                (b->hdr & F_FREE) == 0 && (pl & (CHUNK - 1)) == 0 && map_test(t, (int)i, pl);
            if (b->hdr & F_FREE) {
                if (prev_free)
                    FAIL("tlsf: two adjacent free blocks (missed coalescing)");
                free_blocks++;
                free_bytes += s;
                prev_free = true;
            } else if (slab) {
                if (s < CHUNK)
                    FAIL("tlsf: slab chunk shorter than a chunk");
                const slab_t *sl = (const slab_t *)pl;
                if (check_slab(sl, &live, &slab_bytes, reason) != MM_OK)
                    return MM_ERR_HEAP_CORRUPT;
                slabs++;
                slots += (size_t)sl->cap * sl->size;
                prev_free = false;
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
    if (map_bits != slabs || slabs != t->nslabs)
        FAIL("tlsf: chunk map disagrees with the slabs in the heap");
    size_t listed_slabs = 0, with_free = 0;
    for (unsigned c = 0; c < MM_TLSF_NCLASSES; c++) {
        const slab_t *pv = NULL;
        for (const slab_t *s = t->avail[c]; s; pv = s, s = s->next) {
            int r = region_of(t, (uintptr_t)s);
            if (r < 0 || ((uintptr_t)s & (CHUNK - 1)) || !map_test(t, r, (uintptr_t)s))
                FAIL("tlsf: slab list points at something that is not a slab");
            if (s->cls != c || s->prev != pv)
                FAIL("tlsf: slab list links broken");
            if (s->nfree == 0 || (s->nfree == s->cap && (pv || s->next)))
                FAIL("tlsf: full or surplus empty slab on a class list");
            if (++listed_slabs > slabs)
                FAIL("tlsf: slab lists hold more slabs than the heap");
        }
    }
    /* Every slab with a free slot must be listed: count them through the map. */
    for (unsigned i = 0; i < t->nregions; i++)
        for (size_t w = 0; w < t->map_len[i] / 8; w++)
            for (uint64_t bits = t->map[i][w]; bits; bits &= bits - 1) {
                size_t bit = w * 64 + (size_t)__builtin_ctzll(bits);
                const slab_t *s = (const slab_t *)(t->map_base[i] + (bit << MM_TLSF_SLAB_SHIFT));
                if (s->nfree)
                    with_free++;
            }
    if (with_free != listed_slabs)
        FAIL("tlsf: a slab with free slots is missing from its class list");
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
    if (live != t->live || in_use != t->in_use || t->used < t->in_use ||
        slab_bytes != t->used - t->in_use || slots != t->slab_slot_bytes)
        FAIL("tlsf: live block counters wrong");
    return MM_OK;
}

void mm_tlsf_trim(struct mm_tlsf_heap *t)
{
    (void)release_spare_slabs(t);
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
    .checks_ptr = true,
    .entry_alloc = tlsf_entry_alloc,
    .entry_free = tlsf_entry_free,
};

enum mm_status mm_tlsf_init(struct mm_tlsf_heap *t, void *base, size_t len,
                            const struct mm_heap_config *cfg)
{
    if (!t || !base)
        return MM_ERR_INVALID;
    uintptr_t lo = ((uintptr_t)base + 15u) & ~(uintptr_t)15u;
    uintptr_t hi = ((uintptr_t)base + len) & ~(uintptr_t)15u;
    if ((uintptr_t)base + len < (uintptr_t)base || hi <= lo || hi - lo < 64)
        return MM_ERR_INVALID;
    __builtin_memset(t, 0, sizeof *t);
    t->heap.ops = &tlsf_ops;
    if (cfg)
        t->heap.cfg = *cfg;
    t->slab_end = (t->heap.cfg.flags & MM_TLSF_NO_SLABS) ? 0 : MM_TLSF_SLAB_MAX + 1;
    t->fast_end = (t->heap.cfg.flags & MM_HEAP_DEBUG) ? 0 : t->slab_end;
    if (!add_region(t, lo, hi))
        return MM_ERR_INVALID;
    note_cur_region(t);
    return MM_OK;
}

void mm_tlsf_class_stats(const struct mm_tlsf_heap *t,
                         struct mm_tlsf_class_stats out[MM_TLSF_NCLASSES])
{
    for (unsigned c = 0; c < MM_TLSF_NCLASSES; c++)
        out[c] = (struct mm_tlsf_class_stats){.size = cls_size[c]};
    for (unsigned i = 0; i < t->nregions; i++)
        for (size_t w = 0; w < t->map_len[i] / 8; w++)
            for (uint64_t bits = t->map[i][w]; bits; bits &= bits - 1) {
                size_t bit = w * 64 + (size_t)__builtin_ctzll(bits);
                const slab_t *s = (const slab_t *)(t->map_base[i] + (bit << MM_TLSF_SLAB_SHIFT));
                MM_ASSERT(s->cls < MM_TLSF_NCLASSES);
                struct mm_tlsf_class_stats *o = &out[s->cls];
                o->slabs++;
                o->slots += s->cap;
                o->free_slots += s->nfree;
            }
}
