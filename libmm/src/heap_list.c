/*
 * heap_list.c - address-ordered first-fit free list (see mm/heap_list.h).
 *
 * Every block starts on a 16-byte boundary and the blocks of a region tile it exactly.
 *   word 0 (b + 0)  stride (bytes to the next block, multiple of 16) | USED
 *   word 1 (b + 8)  used: TAG(off) where off = user - b (16, or 32 when 16 bytes of alignment
 *                   padding are accounted in the block); free: next free block
 *   user - 8        always TAG(off) for a used block (it is word 1 when off == 16)
 */
#include "mm/heap_list.h"
#include "heap_impl.h"

#include "mm_assert.h"

struct mm_list_free {
    uint64_t hdr; /* stride; USED clear */
    struct mm_list_free *next;
};
typedef struct mm_list_free fblk_t;

#define USED 0x1u
#define LMAGIC 0x4C495354ull /* "LIST" */
#define TAG(off) ((LMAGIC << 32) | (uint64_t)(off))
#define MIN_STRIDE 32u

static inline size_t round16(size_t v)
{
    return (v + 15u) & ~(size_t)15u;
}

static inline uint64_t *word(uintptr_t a)
{
    return (uint64_t *)a;
}

static int region_of(const struct mm_list_heap *l, uintptr_t a)
{
    for (unsigned i = 0; i < l->nregions; i++)
        if (a >= l->regions[i].base && a < l->regions[i].end)
            return (int)i;
    return -1;
}

static void note_high(struct mm_list_heap *l, uintptr_t b, size_t s)
{
    int r = region_of(l, b);
    if (r < 0 || b + s <= l->high[r])
        return;
    l->high[r] = b + s;
    size_t fp = 0;
    for (unsigned i = 0; i < l->nregions; i++)
        fp += l->high[i] - l->regions[i].base;
    if (fp > l->peak_footprint)
        l->peak_footprint = fp;
}

/* Put [b, b + s) on the free list in address order, merging with touching neighbours. */
static void insert_free(struct mm_list_heap *l, uintptr_t b, size_t s)
{
    fblk_t *prev = NULL, *cur = l->head;
    while (cur && (uintptr_t)cur < b) {
        prev = cur;
        cur = cur->next;
    }
    /* The block must not overlap a free neighbour (a double insert would). */
    MM_ASSERT(s >= 16 && (s & 15u) == 0 && (b & 15u) == 0);
    MM_ASSERT(!cur || b + s <= (uintptr_t)cur);
    MM_ASSERT(!prev || (uintptr_t)prev + prev->hdr <= b);
    fblk_t *f = (fblk_t *)b;
    l->free_bytes += s;
    l->free_blocks++;
    if (cur && b + s == (uintptr_t)cur) {
        s += cur->hdr;
        f->next = cur->next;
        l->free_blocks--;
    } else {
        f->next = cur;
    }
    f->hdr = s;
    if (prev && (uintptr_t)prev + prev->hdr == b) {
        prev->hdr += s;
        prev->next = f->next;
        l->free_blocks--;
        f->hdr = 0; /* a stale header inside a free block must not look like a block */
    } else if (prev) {
        prev->next = f;
    } else {
        l->head = f;
    }
}

/* Merge region records that touch, so that no block (free blocks coalesce across touching
 * regions) ever straddles two records. */
static void merge_touching(struct mm_list_heap *l)
{
    for (unsigned i = 0; i < l->nregions; i++) {
        for (unsigned j = 0; j < l->nregions; j++) {
            if (i == j || l->regions[i].end != l->regions[j].base)
                continue;
            l->regions[i].end = l->regions[j].end;
            if (l->high[j] > l->regions[j].base)
                l->high[i] = l->high[j];
            l->nregions--;
            l->regions[j] = l->regions[l->nregions];
            l->high[j] = l->high[l->nregions];
            i = (unsigned)-1; /* start over: indices moved */
            break;
        }
    }
}

static bool add_region(struct mm_list_heap *l, uintptr_t base, uintptr_t end)
{
    if (l->nregions == MM_HEAP_MAX_REGIONS)
        return false;
    l->regions[l->nregions].base = base;
    l->regions[l->nregions].end = end;
    l->high[l->nregions] = base;
    l->nregions++;
    l->region_bytes += end - base;
    insert_free(l, base, end - base);
    merge_touching(l);
    return true;
}

/* First fit; NULL if no free block can hold it. */
static void *first_fit(struct mm_list_heap *l, size_t size, size_t align)
{
    fblk_t *prev = NULL;
    for (fblk_t *f = l->head; f; prev = f, f = f->next) {
        uintptr_t fa = (uintptr_t)f;
        size_t fs = f->hdr;
        uintptr_t u = (fa + 16 + align - 1) & ~(uintptr_t)(align - 1);
        size_t pad = u - 16 - fa, off = 16, front = 0;
        if (pad == 16)
            off = 32;
        else if (pad >= MIN_STRIDE)
            front = pad;
        if (size > fs) /* also keeps the sums below from wrapping */
            continue;
        size_t need = round16(off + (size ? size : 1)); /* user < block end, always */
        if (need < MIN_STRIDE)
            need = MIN_STRIDE;
        if (front + need > fs)
            continue;
        size_t tail = fs - front - need;
        if (tail < MIN_STRIDE) {
            need += tail;
            tail = 0;
        }
        fblk_t *next = f->next;
        uintptr_t b = fa + front;
        if (tail) {
            fblk_t *t = (fblk_t *)(b + need);
            t->hdr = tail;
            t->next = next;
            next = t;
            l->free_blocks++;
        }
        if (front) {
            f->hdr = front;
            f->next = next;
        } else {
            if (prev)
                prev->next = next;
            else
                l->head = next;
            l->free_blocks--;
        }
        l->free_bytes -= need;
        *word(b) = need | USED;
        *word(b + 8) = TAG(off);
        if (off == 32)
            *word(b + 24) = TAG(off);
        l->in_use += need - off;
        l->live++;
        if (l->in_use > l->peak_in_use)
            l->peak_in_use = l->in_use;
        note_high(l, b, need);
        return (void *)(b + off);
    }
    return NULL;
}

static void *list_alloc(struct mm_heap *h, size_t size, size_t align)
{
    struct mm_list_heap *l = (struct mm_list_heap *)h;
    void *p = first_fit(l, size, align);
    if (p)
        return p;
    uintptr_t base, end;
    /* With every region slot taken, memory from the hook could not be tracked: don't ask. */
    if (l->nregions == MM_HEAP_MAX_REGIONS ||
        !mm_heap_grow(h, size + align + 2 * MIN_STRIDE, &base, &end))
        return NULL;
    if (!add_region(l, base, end)) {
        mm_heap_report(h, "list: grow: too many regions", (void *)base);
        return NULL;
    }
    return first_fit(l, size, align);
}

/* Whether p lies inside a free block: tells a double free from a wild pointer. */
static bool inside_free(const struct mm_list_heap *l, uintptr_t p)
{
    for (const fblk_t *f = l->head; f && (uintptr_t)f <= p; f = f->next)
        if (p < (uintptr_t)f + f->hdr)
            return true;
    return false;
}

/* The block start of the used block p (its offset to *off), or 0 after a report. */
static uintptr_t used_block(struct mm_list_heap *l, void *p, const char *op, size_t *off)
{
    uintptr_t u = (uintptr_t)p;
    uint64_t tag = *word(u - 8);
    size_t o = (uint32_t)tag;
    uintptr_t b = u - o;
    int r;
    if ((tag >> 32) != LMAGIC || (o != 16 && o != 32) || (r = region_of(l, b)) < 0 ||
        !(*word(b) & USED) || *word(b + 8) != tag) {
        if (inside_free(l, u))
            mm_heap_report(&l->heap, "list: double free (block is already free)", p);
        else
            mm_heap_report(&l->heap, op, p);
        return 0;
    }
    size_t s = (size_t)(*word(b) & ~(uint64_t)15u);
    if (s < MIN_STRIDE || s > l->regions[r].end - b) {
        mm_heap_report(&l->heap, "list: block header corrupt (bad size)", p);
        return 0;
    }
    *off = o;
    return b;
}

static bool list_free(struct mm_heap *h, void *p)
{
    struct mm_list_heap *l = (struct mm_list_heap *)h;
    size_t off;
    uintptr_t b = used_block(l, p, "list: free of a pointer that is not a block", &off);
    if (!b)
        return false;
    size_t s = (size_t)(*word(b) & ~(uint64_t)15u);
    l->in_use -= s - off;
    l->live--;
    *word((uintptr_t)p - 8) = 0;
    insert_free(l, b, s);
    return true;
}

static size_t list_usable(struct mm_heap *h, void *p)
{
    struct mm_list_heap *l = (struct mm_list_heap *)h;
    size_t off;
    uintptr_t b = used_block(l, p, "list: usable_size of a pointer that is not a block", &off);
    return b ? (size_t)(*word(b) & ~(uint64_t)15u) - off : 0;
}

static void *list_realloc(struct mm_heap *h, void *p, size_t size, size_t align)
{
    struct mm_list_heap *l = (struct mm_list_heap *)h;
    size_t off;
    uintptr_t b = used_block(l, p, "list: realloc of a pointer that is not a block", &off);
    if (!b)
        return NULL;
    size_t s = (size_t)(*word(b) & ~(uint64_t)15u);
    size_t need = round16(off + (size ? size : 1)); /* user < block end, always */
    if (need < MIN_STRIDE)
        need = MIN_STRIDE;
    if (((uintptr_t)p & (align - 1)) == 0) {
        if (need <= s) {
            if (s - need >= MIN_STRIDE) {
                *word(b) = need | USED;
                l->in_use -= s - need;
                insert_free(l, b + need, s - need);
            }
            return p;
        }
        fblk_t *prev = NULL, *f = l->head;
        while (f && (uintptr_t)f < b + s) {
            prev = f;
            f = f->next;
        }
        if (f && (uintptr_t)f == b + s && s + f->hdr >= need) {
            size_t all = s + f->hdr;
            fblk_t *next = f->next;
            l->free_bytes -= f->hdr;
            l->free_blocks--;
            if (all - need >= MIN_STRIDE) {
                fblk_t *t = (fblk_t *)(b + need);
                t->hdr = all - need;
                t->next = next;
                next = t;
                l->free_bytes += all - need;
                l->free_blocks++;
            } else {
                need = all;
            }
            if (prev)
                prev->next = next;
            else
                l->head = next;
            *word(b) = need | USED;
            l->in_use += need - s;
            if (l->in_use > l->peak_in_use)
                l->peak_in_use = l->in_use;
            note_high(l, b, need);
            return p;
        }
    }
    void *q = list_alloc(h, size, align);
    if (!q)
        return NULL;
    __builtin_memcpy(q, p, s - off < size ? s - off : size);
    (void)list_free(h, p);
    return q;
}

static bool list_owns(const struct mm_heap *h, const void *p)
{
    const struct mm_list_heap *l = (const struct mm_list_heap *)h;
    uintptr_t a = (uintptr_t)p;
    for (unsigned i = 0; i < l->nregions; i++)
        if (a >= l->regions[i].base + 16 && a < l->regions[i].end)
            return true;
    return false;
}

static void list_stats(struct mm_heap *h, struct mm_heap_stats *out)
{
    struct mm_list_heap *l = (struct mm_list_heap *)h;
    out->bytes_in_use = l->in_use;
    out->bytes_free = l->free_bytes;
    out->peak_in_use = l->peak_in_use;
    for (unsigned i = 0; i < l->nregions; i++)
        out->footprint += l->high[i] - l->regions[i].base;
    out->peak_footprint = l->peak_footprint;
    out->region_bytes = l->region_bytes;
    out->live_blocks = l->live;
    for (const fblk_t *f = l->head; f; f = f->next)
        if (f->hdr - 16 > out->largest_free)
            out->largest_free = f->hdr - 16;
}

#define FAIL(msg)                                                                                  \
    do {                                                                                           \
        *reason = (msg);                                                                           \
        return MM_ERR_HEAP_CORRUPT;                                                                \
    } while (0)

static enum mm_status list_check(struct mm_heap *h, const char **reason)
{
    struct mm_list_heap *l = (struct mm_list_heap *)h;
    size_t nfree = 0, fbytes = 0, live = 0, in_use = 0;
    for (unsigned i = 0; i < l->nregions; i++) {
        const struct mm_heap_region *r = &l->regions[i];
        bool prev_free = false;
        for (uintptr_t a = r->base; a != r->end;) {
            uint64_t w = *word(a);
            size_t s = (size_t)(w & ~(uint64_t)15u);
            if ((w & 14u) || s < MIN_STRIDE || s > r->end - a)
                FAIL("list: block size breaks the tiling of its region");
            if (w & USED) {
                uint64_t tag = *word(a + 8);
                size_t off = (uint32_t)tag;
                if ((tag >> 32) != LMAGIC || (off != 16 && off != 32) || *word(a + off - 8) != tag)
                    FAIL("list: used block has a bad tag");
                live++;
                in_use += s - off;
                prev_free = false;
            } else {
                if (prev_free)
                    FAIL("list: two adjacent free blocks (missed coalescing)");
                nfree++;
                fbytes += s;
                prev_free = true;
            }
            a += s;
        }
    }
    size_t listed = 0, lbytes = 0;
    for (const fblk_t *f = l->head; f; f = f->next) {
        if (++listed > nfree)
            FAIL("list: free list longer than the free blocks (cycle or stray entry)");
        if (region_of(l, (uintptr_t)f) < 0 || (f->hdr & 15u))
            FAIL("list: free list entry is not a free block");
        if (f->next && (uintptr_t)f->next <= (uintptr_t)f + f->hdr) {
            if ((uintptr_t)f->next < (uintptr_t)f + f->hdr)
                FAIL("list: free list not in address order or overlapping");
            FAIL("list: touching free blocks not merged");
        }
        lbytes += f->hdr;
    }
    if (listed != nfree || lbytes != fbytes)
        FAIL("list: free list disagrees with the blocks in the regions");
    if (nfree != l->free_blocks || fbytes != l->free_bytes)
        FAIL("list: free counters wrong");
    if (live != l->live || in_use != l->in_use)
        FAIL("list: live block counters wrong");
    return MM_OK;
}

static const struct mm_heap_ops list_ops = {
    .name = "list",
    .alloc = list_alloc,
    .free = list_free,
    .realloc = list_realloc,
    .usable_size = list_usable,
    .owns = list_owns,
    .stats = list_stats,
    .check = list_check,
};

enum mm_status mm_list_init(struct mm_list_heap *l, void *base, size_t len,
                            const struct mm_heap_config *cfg)
{
    if (!l || !base)
        return MM_ERR_INVALID;
    uintptr_t lo = ((uintptr_t)base + 15u) & ~(uintptr_t)15u;
    uintptr_t hi = ((uintptr_t)base + len) & ~(uintptr_t)15u;
    if ((uintptr_t)base + len < (uintptr_t)base || hi <= lo || hi - lo < MIN_STRIDE)
        return MM_ERR_INVALID;
    __builtin_memset(l, 0, sizeof *l);
    l->heap.ops = &list_ops;
    if (cfg)
        l->heap.cfg = *cfg;
    (void)add_region(l, lo, hi);
    return MM_OK;
}
