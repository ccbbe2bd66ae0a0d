/*
 * frame.c - the physical frame allocator of mm/frame.h: binary buddy, out-of-band metadata.
 *
 * Frames are numbered by a dense "index": usable region ("zone") z covers indices
 * [z.first, z.first + z.count), in address order. Within a zone index and frame number differ
 * by a constant, so buddy arithmetic (pfn ^ 2^k) can be done on either. Per index the metadata
 * holds one state byte and two uint32 links (next, prev) used only while the frame heads a
 * free block. Metadata layout, at plan.base:
 *
 *     struct mm_frame_zone zones[nzones] | uint32_t links[2 * frames] | uint8_t state[frames]
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_impl.h"
#include "mm/frame.h"
#include "mm_assert.h"

struct mm_frame_zone {
    uint64_t base_pfn;
    uint32_t first; /* index of base_pfn */
    uint32_t count; /* frames in the zone */
};

/* State byte: a block head carries its order in the low bits and FREE or ALLOC; every other
 * frame of a block is TAIL; frames holding the metadata itself are RESERVED forever. */
#define FS_TAIL 0x00u
#define FS_RESERVED 0x20u
#define FS_ALLOC 0x40u
#define FS_FREE 0x80u
#define FS_ORDER_MASK 0x0fu

#define NONE UINT32_MAX

static unsigned fs_order(uint8_t s)
{
    return s & FS_ORDER_MASK;
}

static bool fs_is_head(uint8_t s)
{
    return (s & (FS_FREE | FS_ALLOC)) != 0;
}

/* ---- planning ---------------------------------------------------------------------------- */

/* The whole-page frame range [*b, *e) of usable region r; false if it holds no whole page. */
static bool usable_pfns(const struct mm_region *r, uint64_t *b, uint64_t *e)
{
    uint64_t base;

    if (r->type != MM_REGION_USABLE || r->length == 0 ||
        !mm_align_up_checked(r->base, MM_PAGE_SIZE, &base))
        return false;
    *b = base >> MM_PAGE_SHIFT;
    *e = (r->base + r->length) >> MM_PAGE_SHIFT;
    return *e > *b;
}

static uint64_t meta_bytes(uint64_t zones, uint64_t frames)
{
    uint64_t raw = zones * sizeof(struct mm_frame_zone) + frames * 2 * sizeof(uint32_t) + frames;

    return mm_align_up(raw, MM_PAGE_SIZE);
}

/* Count the zones and frames of a normalised map; checks order and wrapping. */
static enum mm_status count_usable(const struct mm_region *map, size_t n, uint64_t *zones_out,
                                   uint64_t *frames_out)
{
    uint64_t prev_end = 0, frames = 0, zones = 0, end, b, e;

    for (size_t i = 0; i < n; i++) {
        if (map[i].length == 0)
            continue;
        if (__builtin_add_overflow(map[i].base, map[i].length, &end) || map[i].base < prev_end)
            return MM_ERR_BAD_MAP;
        prev_end = end;
        if (!usable_pfns(&map[i], &b, &e))
            continue;
        zones++;
        frames += e - b;
        if (frames >= NONE)
            return MM_ERR_TOO_LARGE;
    }
    if (frames == 0)
        return MM_ERR_NO_USABLE;
    *zones_out = zones;
    *frames_out = frames;
    return MM_OK;
}

enum mm_status mm_frames_plan_below(const struct mm_region *map, size_t n, uint64_t limit,
                                    struct mm_frames_plan *out)
{
    uint64_t frames, zones, b, e, size;
    enum mm_status st;

    if (!map || !out)
        return MM_ERR_INVALID;
    st = count_usable(map, n, &zones, &frames);
    if (st != MM_OK)
        return st;
    size = meta_bytes(zones, frames);
    for (size_t i = 0; i < n; i++) {
        if (!usable_pfns(&map[i], &b, &e) || (e - b) << MM_PAGE_SHIFT < size)
            continue;
        /* Page frame numbers fit in 52 bits and size in 46: no overflow. */
        if ((b << MM_PAGE_SHIFT) + size > limit)
            continue;
        out->base = mm_paddr_from_pfn(b);
        out->size = size;
        out->zones = (size_t)zones;
        out->frames = frames;
        return MM_OK;
    }
    return MM_ERR_NO_FRAMES;
}

enum mm_status mm_frames_plan(const struct mm_region *map, size_t n, struct mm_frames_plan *out)
{
    return mm_frames_plan_below(map, n, UINT64_MAX, out);
}

uint64_t mm_frames_metadata_size(const struct mm_region *map, size_t n)
{
    struct mm_frames_plan plan;

    if (mm_frames_plan(map, n, &plan) != MM_OK)
        return 0;
    return plan.size;
}

/* ---- free lists ---------------------------------------------------------------------------- */

/* Callers set g's state byte to FREE | order first: the lists hold free heads only. */
static void list_push(struct mm_frames *fa, uint32_t g, unsigned order)
{
    uint32_t next = fa->heads[order];

    MM_ASSERT(g != NONE && order <= MM_FRAME_MAX_ORDER && fa->state[g] == (FS_FREE | order));
    MM_ASSERT(next != g);

    fa->links[2 * (size_t)g] = next;
    fa->links[2 * (size_t)g + 1] = NONE;
    if (next != NONE)
        fa->links[2 * (size_t)next + 1] = g;
    fa->heads[order] = g;
    fa->nonempty |= 1u << order;
}

static void list_remove(struct mm_frames *fa, uint32_t g, unsigned order)
{
    uint32_t next = fa->links[2 * (size_t)g], prev = fa->links[2 * (size_t)g + 1];

    /* Only a free head of this order is on this list, and its neighbours point back at it. */
    MM_ASSERT(fa->state[g] == (FS_FREE | order));
    MM_ASSERT(prev == NONE ? fa->heads[order] == g : fa->links[2 * (size_t)prev] == g);
    MM_ASSERT(next == NONE || fa->links[2 * (size_t)next + 1] == g);
    if (prev != NONE)
        fa->links[2 * (size_t)prev] = next;
    else
        fa->heads[order] = next;
    if (next != NONE)
        fa->links[2 * (size_t)next + 1] = prev;
    if (fa->heads[order] == NONE)
        fa->nonempty &= ~(1u << order);
}

/* ---- zone lookup --------------------------------------------------------------------------- */

/* Offset of v inside zone z, counted from z's base frame number (by_index false) or from its
 * first index (by_index true); >= z->count (wrapping below the base) when v is outside z. */
static uint64_t zone_offset(const struct mm_frame_zone *z, uint64_t v, bool by_index)
{
    return v - (by_index ? z->first : z->base_pfn);
}

/* Position in fa->zones of the zone holding v (a frame number, or an index when by_index),
 * or fa->nzones if none, by binary search (zones are sorted by both keys alike). Reads only
 * what init wrote, so it needs no lock. */
static size_t zone_search(const struct mm_frames *fa, uint64_t v, bool by_index)
{
    size_t lo = 0, hi = fa->nzones;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct mm_frame_zone *z = &fa->zones[mid];

        if (v < (by_index ? z->first : z->base_pfn))
            hi = mid;
        else if (zone_offset(z, v, by_index) >= z->count)
            lo = mid + 1;
        else
            return mid;
    }
    return fa->nzones;
}

/* zone_search with the last hit tried first. */
static size_t zone_find(const struct mm_frames *fa, uint64_t v, bool by_index)
{
    if (zone_offset(&fa->zones[fa->last_zone], v, by_index) < fa->zones[fa->last_zone].count)
        return fa->last_zone;
    return zone_search(fa, v, by_index);
}

bool mm_frames_usable_frame(const struct mm_frames *fa, struct mm_paddr pa)
{
    uint64_t meta_off = pa.v - fa->meta_base.v;

    if (!mm_paddr_is_aligned(pa, MM_PAGE_SIZE) || meta_off < fa->meta_size)
        return false;
    return zone_search(fa, mm_paddr_pfn(pa), false) < fa->nzones;
}

static const struct mm_frame_zone *zone_of_pfn(const struct mm_frames *fa, uint64_t pfn)
{
    size_t i = zone_find(fa, pfn, false);

    return i < fa->nzones ? &fa->zones[i] : NULL;
}

/* The zone of index g, which must be an index of some zone (a listed or allocated block). */
static const struct mm_frame_zone *zone_of_index(struct mm_frames *fa, uint32_t g)
{
    size_t i = zone_find(fa, g, true);

    MM_ASSERT(i < fa->nzones);
    fa->last_zone = i;
    return &fa->zones[i];
}

static uint32_t index_of(const struct mm_frame_zone *z, uint64_t pfn)
{
    return z->first + (uint32_t)(pfn - z->base_pfn);
}

/* ---- init ------------------------------------------------------------------------------------ */

/* Hand the frames [b, e) of zone z to the free lists as the largest aligned blocks that fit. */
static void seed_range(struct mm_frames *fa, const struct mm_frame_zone *z, uint64_t b, uint64_t e)
{
    while (b < e) {
        unsigned order = b ? (unsigned)__builtin_ctzll(b) : MM_FRAME_MAX_ORDER;

        if (order > MM_FRAME_MAX_ORDER)
            order = MM_FRAME_MAX_ORDER;
        while ((UINT64_C(1) << order) > e - b)
            order--;
        fa->state[index_of(z, b)] = (uint8_t)(FS_FREE | order);
        list_push(fa, index_of(z, b), order);
        fa->free_frames += UINT64_C(1) << order;
        b += UINT64_C(1) << order;
    }
}

enum mm_status mm_frames_init_planned(struct mm_frames *fa, const struct mm_region *map, size_t n,
                                      const struct mm_frames_plan *plan,
                                      mm_phys_to_virt_fn phys_to_virt, void *ctx)
{
    enum mm_status st;
    uint8_t *meta;
    uint64_t b, e, meta_b, meta_e, zones, frames;
    uint32_t first = 0;
    size_t zi = 0;
    bool meta_inside = false;

    if (!fa || !phys_to_virt || !map || !plan)
        return MM_ERR_INVALID;
    st = count_usable(map, n, &zones, &frames);
    if (st != MM_OK)
        return st;
    if (plan->zones != zones || plan->frames != frames || plan->size != meta_bytes(zones, frames) ||
        !mm_paddr_is_aligned(plan->base, MM_PAGE_SIZE))
        return MM_ERR_INVALID;
    meta_b = mm_paddr_pfn(plan->base);
    meta_e = meta_b + (plan->size >> MM_PAGE_SHIFT);
    for (size_t i = 0; i < n && !meta_inside; i++)
        meta_inside = usable_pfns(&map[i], &b, &e) && meta_b >= b && meta_e <= e;
    if (!meta_inside)
        return MM_ERR_INVALID;
    meta = phys_to_virt(ctx, plan->base);
    if (!meta)
        return MM_ERR_INVALID;

    *fa = (struct mm_frames){0};
    fa->zones = (struct mm_frame_zone *)(void *)meta;
    fa->links = (uint32_t *)(void *)(meta + plan->zones * sizeof(struct mm_frame_zone));
    fa->state = (uint8_t *)(fa->links + 2 * plan->frames);
    fa->nzones = plan->zones;
    fa->meta_base = plan->base;
    fa->meta_size = plan->size;
    for (unsigned k = 0; k < MM_FRAME_ORDERS; k++)
        fa->heads[k] = NONE;
    __builtin_memset(fa->state, FS_TAIL, plan->frames);

    for (size_t i = 0; i < n; i++) {
        struct mm_frame_zone *z;

        if (!usable_pfns(&map[i], &b, &e))
            continue;
        z = &fa->zones[zi++];
        *z = (struct mm_frame_zone){b, first, (uint32_t)(e - b)};
        first += (uint32_t)(e - b);
        if (meta_b >= b && meta_b < e) {
            for (uint64_t p = meta_b; p < meta_e; p++)
                fa->state[index_of(z, p)] = FS_RESERVED;
            seed_range(fa, z, b, meta_b);
            seed_range(fa, z, meta_e, e);
        } else {
            seed_range(fa, z, b, e);
        }
    }
    fa->total_frames = plan->frames - (meta_e - meta_b);
    return MM_OK;
}

enum mm_status mm_frames_init(struct mm_frames *fa, const struct mm_region *map, size_t n,
                              mm_phys_to_virt_fn phys_to_virt, void *ctx)
{
    struct mm_frames_plan plan;
    enum mm_status st;

    if (!fa || !phys_to_virt)
        return MM_ERR_INVALID;
    st = mm_frames_plan(map, n, &plan);
    if (st != MM_OK)
        return st;
    return mm_frames_init_planned(fa, map, n, &plan, phys_to_virt, ctx);
}

/* ---- alloc / free ------------------------------------------------------------------------ */

/* Allocate the free block headed by g (order j, already off its list) down to order. */
static struct mm_paddr take_block(struct mm_frames *fa, uint32_t g, unsigned j, unsigned order)
{
    const struct mm_frame_zone *z;

    MM_ASSERT(fa->state[g] == (FS_FREE | j) && j >= order);
    MM_ASSERT(fa->free_frames >= (UINT64_C(1) << order));
    /* Split: keep the lower half each time, give the upper half back. */
    while (j > order) {
        uint32_t upper;

        j--;
        upper = g + (UINT32_C(1) << j);
        fa->state[upper] = (uint8_t)(FS_FREE | j);
        list_push(fa, upper, j);
    }
    fa->state[g] = (uint8_t)(FS_ALLOC | order);
    fa->free_frames -= UINT64_C(1) << order;
    z = zone_of_index(fa, g);
    MM_ASSERT(z && g - z->first + (UINT32_C(1) << order) <= z->count);
    return mm_paddr_from_pfn(z->base_pfn + (g - z->first));
}

enum mm_status mm_frames_alloc(struct mm_frames *fa, unsigned order, struct mm_paddr *out)
{
    uint32_t avail, g;
    unsigned j;

    if (!fa || !out || order > MM_FRAME_MAX_ORDER)
        return MM_ERR_INVALID;
    avail = fa->nonempty >> order;
    if (!avail)
        return MM_ERR_NO_FRAMES;
    j = order + (unsigned)__builtin_ctz(avail);
    g = fa->heads[j];
    MM_ASSERT(g != NONE); /* nonempty mirrors the heads */
    list_remove(fa, g, j);
    *out = take_block(fa, g, j, order);
    return MM_OK;
}

enum mm_status mm_frames_alloc_below(struct mm_frames *fa, unsigned order, uint64_t limit,
                                     struct mm_paddr *out)
{
    if (!fa || !out || order > MM_FRAME_MAX_ORDER)
        return MM_ERR_INVALID;
    for (unsigned j = order; j < MM_FRAME_ORDERS; j++) {
        for (uint32_t g = fa->heads[j]; g != NONE; g = fa->links[2 * (size_t)g]) {
            const struct mm_frame_zone *z = zone_of_index(fa, g);
            uint64_t start = (z->base_pfn + (g - z->first)) << MM_PAGE_SHIFT;

            /* The split keeps the lowest part of the block. */
            if (start < limit && limit - start >= (MM_PAGE_SIZE << order)) {
                list_remove(fa, g, j);
                *out = take_block(fa, g, j, order);
                return MM_OK;
            }
        }
    }
    return MM_ERR_NO_FRAMES;
}

enum mm_status mm_frames_alloc_frame(struct mm_frames *fa, struct mm_paddr *out)
{
    return mm_frames_alloc(fa, 0, out);
}

/*
 * The state byte of the head of the block containing pfn (in zone z), its pfn in *head.
 * A tail's head is the nearest aligned frame below it whose order reaches over pfn.
 * Returns FS_RESERVED for metadata frames, FS_TAIL if the metadata is inconsistent.
 */
static uint8_t containing_head(const struct mm_frames *fa, const struct mm_frame_zone *z,
                               uint64_t pfn, uint64_t *head)
{
    uint8_t s = fa->state[index_of(z, pfn)];

    *head = pfn;
    if (s != FS_TAIL)
        return s;
    for (unsigned k = 1; k <= MM_FRAME_MAX_ORDER; k++) {
        uint64_t h = pfn & ~((UINT64_C(1) << k) - 1);
        uint8_t sh;

        if (h < z->base_pfn)
            break;
        sh = fa->state[index_of(z, h)];
        if (fs_is_head(sh) && fs_order(sh) >= k) {
            *head = h;
            return sh;
        }
    }
    return FS_TAIL;
}

enum mm_status mm_frames_free(struct mm_frames *fa, struct mm_paddr pa, unsigned order)
{
    const struct mm_frame_zone *z;
    uint64_t pfn, head, zend;
    uint8_t s;

    if (!fa || order > MM_FRAME_MAX_ORDER)
        return MM_ERR_INVALID;
    if (!mm_paddr_is_aligned(pa, MM_PAGE_SIZE))
        return MM_ERR_MISALIGNED;
    pfn = mm_paddr_pfn(pa);
    z = zone_of_pfn(fa, pfn);
    if (!z)
        return MM_ERR_FOREIGN_FRAME;
    s = containing_head(fa, z, pfn, &head);
    if (s == FS_RESERVED)
        return MM_ERR_FOREIGN_FRAME;
    if (s & FS_FREE)
        return MM_ERR_DOUBLE_FREE;
    if (!(s & FS_ALLOC) || head != pfn || fs_order(s) != order)
        return MM_ERR_BAD_ORDER;

    fa->free_frames += UINT64_C(1) << order;
    zend = z->base_pfn + z->count;
    while (order < MM_FRAME_MAX_ORDER) {
        uint64_t buddy = pfn ^ (UINT64_C(1) << order);
        uint32_t gb;

        /* Blocks sit at frame numbers aligned to their size: buddy arithmetic relies on it. */
        MM_ASSERT((pfn & ((UINT64_C(1) << order) - 1)) == 0);

        if (buddy < z->base_pfn || buddy + (UINT64_C(1) << order) > zend)
            break;
        gb = index_of(z, buddy);
        if (fa->state[gb] != (FS_FREE | order))
            break;
        list_remove(fa, gb, order);
        fa->state[index_of(z, buddy > pfn ? buddy : pfn)] = FS_TAIL;
        pfn = buddy < pfn ? buddy : pfn;
        order++;
    }
    fa->state[index_of(z, pfn)] = (uint8_t)(FS_FREE | order);
    list_push(fa, index_of(z, pfn), order);
    return MM_OK;
}

bool mm_frames_is_allocated(const struct mm_frames *fa, struct mm_paddr pa)
{
    const struct mm_frame_zone *z;
    uint64_t head;

    if (!fa)
        return false;
    z = zone_of_pfn(fa, mm_paddr_pfn(pa));
    return z && (containing_head(fa, z, mm_paddr_pfn(pa), &head) & FS_ALLOC);
}

void mm_frames_free_blocks(const struct mm_frames *fa, uint64_t counts[MM_FRAME_ORDERS])
{
    for (unsigned k = 0; k < MM_FRAME_ORDERS; k++) {
        counts[k] = 0;
        if (fa)
            for (uint32_t g = fa->heads[k]; g != NONE; g = fa->links[2 * (size_t)g])
                counts[k]++;
    }
}

void mm_frames_get_stats(const struct mm_frames *fa, struct mm_frames_stats *out)
{
    if (!out)
        return;
    *out = (struct mm_frames_stats){0};
    if (!fa)
        return;
    out->total_frames = fa->total_frames;
    out->free_frames = fa->free_frames;
    out->metadata_bytes = fa->meta_size;
    if (fa->nonempty)
        out->largest_free = MM_PAGE_SIZE << (31 - __builtin_clz(fa->nonempty));
}

/* ---- invariant checker ------------------------------------------------------------------- */

#define CHECK(cond, reason)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (why)                                                                               \
                *why = (reason);                                                                   \
            return MM_ERR_INVALID;                                                                 \
        }                                                                                          \
    } while (0)

enum mm_status mm_frames_check(const struct mm_frames *fa, const char **why)
{
    uint64_t free_by_state = 0, heads_by_state[MM_FRAME_ORDERS] = {0}, reserved = 0;

    if (why)
        *why = "ok";
    CHECK(fa && fa->zones, "allocator not initialised");
    for (size_t zi = 0; zi < fa->nzones; zi++) {
        const struct mm_frame_zone *z = &fa->zones[zi];
        uint64_t p = z->base_pfn, end = z->base_pfn + z->count;

        CHECK(zi == 0 || z->first == fa->zones[zi - 1].first + fa->zones[zi - 1].count,
              "zone indices not dense");
        CHECK(zi == 0 || z->base_pfn >= fa->zones[zi - 1].base_pfn + fa->zones[zi - 1].count,
              "zones not sorted");
        while (p < end) {
            uint8_t s = fa->state[index_of(z, p)];
            uint64_t len;

            if (s == FS_RESERVED) {
                reserved++;
                p++;
                continue;
            }
            CHECK(fs_is_head(s) && fs_order(s) <= MM_FRAME_MAX_ORDER, "tail without a head");
            len = UINT64_C(1) << fs_order(s);
            CHECK((p & (len - 1)) == 0, "block not naturally aligned");
            CHECK(p + len <= end, "block runs past its zone");
            for (uint64_t t = p + 1; t < p + len; t++)
                CHECK(fa->state[index_of(z, t)] == FS_TAIL, "frame inside a block is not a tail");
            if (s & FS_FREE) {
                uint64_t buddy = p ^ len;

                free_by_state += len;
                heads_by_state[fs_order(s)]++;
                CHECK(fs_order(s) == MM_FRAME_MAX_ORDER || buddy < z->base_pfn ||
                          buddy + len > end || fa->state[index_of(z, buddy)] != s,
                      "two free buddies left unmerged");
            }
            p += len;
        }
    }
    CHECK(free_by_state == fa->free_frames, "free frame count differs from the state bytes");
    CHECK(reserved == fa->meta_size >> MM_PAGE_SHIFT, "metadata frames not all reserved");
    for (unsigned k = 0; k < MM_FRAME_ORDERS; k++) {
        uint64_t count = 0;
        uint32_t prev = NONE;

        CHECK(((fa->nonempty >> k) & 1u) == (fa->heads[k] != NONE), "nonempty mask wrong");
        for (uint32_t g = fa->heads[k]; g != NONE; g = fa->links[2 * (size_t)g]) {
            CHECK(count < heads_by_state[k], "free list longer than its free blocks (cycle?)");
            CHECK(fa->state[g] == (FS_FREE | k), "free list holds a block that is not free");
            CHECK(fa->links[2 * (size_t)g + 1] == prev, "free list back link broken");
            prev = g;
            count++;
        }
        CHECK(count == heads_by_state[k], "free list misses free blocks");
    }
    return MM_OK;
}
