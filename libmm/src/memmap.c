/*
 * memmap.c - normalising boot memory maps, and the status strings of libmm.
 *
 * The normaliser sweeps the address line over "elementary intervals": between two
 * consecutive boundaries (region starts and ends) the set of covering regions is constant, so
 * the winning type is the highest-ranked one covering the interval's start. Finding the next
 * boundary and the winner are both linear scans, which keeps the code free of scratch memory
 * (none exists this early) at O(n^2) for maps of a few hundred entries.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/memmap.h"

const char *mm_status_str(enum mm_status s)
{
    switch (s) {
    case MM_OK:
        return "ok";
    case MM_ERR_INVALID:
        return "invalid argument";
    case MM_ERR_WRAP:
        return "region wraps past the end of the address space";
    case MM_ERR_NO_USABLE:
        return "no usable memory";
    case MM_ERR_NO_SPACE:
        return "output storage too small";
    case MM_ERR_BAD_MAP:
        return "memory map not normalised (unsorted or overlapping)";
    case MM_ERR_TOO_LARGE:
        return "too much memory for the allocator metadata";
    case MM_ERR_NO_FRAMES:
        return "out of physical frames";
    case MM_ERR_DOUBLE_FREE:
        return "double free";
    case MM_ERR_FOREIGN_FRAME:
        return "frame not owned by this allocator";
    case MM_ERR_BAD_ORDER:
        return "not the start of an allocated block of that order";
    case MM_ERR_MISALIGNED:
        return "misaligned address";
    case MM_ERR_ALREADY_MAPPED:
        return "already mapped";
    case MM_ERR_PARENT_HUGE:
        return "a huge page covers the address";
    case MM_ERR_NON_CANONICAL:
        return "non-canonical virtual address";
    case MM_ERR_NOT_MAPPED:
        return "not mapped";
    case MM_ERR_HEAP_CORRUPT:
        return "heap structure corrupt";
    case MM_STATUS_COUNT:
        break;
    }
    return "unknown status";
}

const char *mm_region_type_str(enum mm_region_type t)
{
    switch (t) {
    case MM_REGION_USABLE:
        return "usable";
    case MM_REGION_BOOTLOADER_RECLAIMABLE:
        return "bootloader-reclaimable";
    case MM_REGION_MODULES:
        return "modules";
    case MM_REGION_KERNEL:
        return "kernel";
    case MM_REGION_FRAME_METADATA:
        return "frame-metadata";
    case MM_REGION_ACPI_RECLAIMABLE:
        return "acpi-reclaimable";
    case MM_REGION_ACPI_NVS:
        return "acpi-nvs";
    case MM_REGION_RESERVED:
        return "reserved";
    case MM_REGION_BAD:
        return "bad";
    case MM_REGION_TYPE_COUNT:
        break;
    }
    return "unknown";
}

uint64_t mm_memmap_usable_bytes(const struct mm_region *map, size_t n)
{
    uint64_t sum = 0;

    for (size_t i = 0; map && i < n; i++)
        if (map[i].type == MM_REGION_USABLE)
            sum += map[i].length;
    return sum;
}

/* The input and the reserve list seen as one list of n_in + n_res ranges. */
struct sweep {
    const struct mm_region *in, *res;
    size_t n_in, n_res;
};

/* Range i of the combined list as [*base, *end) with a rank; false for a zero-length one. */
static bool sweep_get(const struct sweep *sw, size_t i, uint64_t *base, uint64_t *end,
                      unsigned *rank)
{
    const struct mm_region *r = i < sw->n_in ? &sw->in[i] : &sw->res[i - sw->n_in];
    unsigned t = (unsigned)r->type;

    if (r->length == 0)
        return false;
    *base = r->base;
    *end = r->base + r->length; /* validated not to wrap before the sweep */
    *rank = t < MM_REGION_TYPE_COUNT ? t : (unsigned)MM_REGION_RESERVED;
    return true;
}

/* Output under construction: the pending run is extended while the type stays the same. */
struct emitter {
    struct mm_region *out;
    size_t cap, count;
    uint64_t usable;
    bool have;
    uint64_t base, end;
    unsigned type;
};

static enum mm_status emit_flush(struct emitter *e)
{
    uint64_t base = e->base, end = e->end;

    if (!e->have)
        return MM_OK;
    e->have = false;
    if (e->type == MM_REGION_USABLE) {
        /* Only whole pages are usable; a partial page shares its frame with something else. */
        if (!mm_align_up_checked(base, MM_PAGE_SIZE, &base))
            return MM_OK;
        end = mm_align_down(end, MM_PAGE_SIZE);
        if (base >= end)
            return MM_OK;
        e->usable += end - base;
    }
    if (e->count == e->cap)
        return MM_ERR_NO_SPACE;
    e->out[e->count++] = (struct mm_region){base, end - base, (enum mm_region_type)e->type};
    return MM_OK;
}

static enum mm_status emit(struct emitter *e, uint64_t base, uint64_t end, unsigned type)
{
    enum mm_status st;

    if (e->have && e->type == type && e->end == base) {
        e->end = end;
        return MM_OK;
    }
    st = emit_flush(e);
    if (st != MM_OK)
        return st;
    e->have = true;
    e->base = base;
    e->end = end;
    e->type = type;
    return MM_OK;
}

/* The smallest boundary (start or end of a non-empty range) strictly above x, if any. */
static bool next_boundary(const struct sweep *sw, uint64_t x, uint64_t *next)
{
    size_t n = sw->n_in + sw->n_res;
    bool found = false;
    uint64_t best = 0, b, e;
    unsigned rank;

    for (size_t i = 0; i < n; i++) {
        if (!sweep_get(sw, i, &b, &e, &rank))
            continue;
        if (b > x && (!found || b < best)) {
            best = b;
            found = true;
        }
        if (e > x && (!found || e < best)) {
            best = e;
            found = true;
        }
    }
    *next = best;
    return found;
}

/* The highest rank among ranges covering x, or false if none does. */
static bool winner_at(const struct sweep *sw, uint64_t x, unsigned *type)
{
    size_t n = sw->n_in + sw->n_res;
    bool found = false;
    uint64_t b, e;
    unsigned rank, best = 0;

    for (size_t i = 0; i < n; i++) {
        if (!sweep_get(sw, i, &b, &e, &rank) || x < b || x >= e)
            continue;
        if (!found || rank > best)
            best = rank;
        found = true;
    }
    *type = best;
    return found;
}

enum mm_status mm_memmap_normalise(const struct mm_region *in, size_t n_in,
                                   const struct mm_region *reserve, size_t n_res,
                                   struct mm_region *out, size_t cap, size_t *count_out,
                                   struct mm_memmap_stats *stats)
{
    struct sweep sw = {in, reserve, n_in, n_res};
    struct emitter em = {.out = out, .cap = cap};
    uint64_t x = 0, next, sum;
    unsigned type;
    bool any = false;
    enum mm_status st;

    if (count_out)
        *count_out = 0;
    if (stats)
        *stats = (struct mm_memmap_stats){0, 0};
    if (!count_out || (n_in && !in) || (n_res && !reserve) || (cap && !out) || n_in + n_res < n_in)
        return MM_ERR_INVALID;
    for (size_t i = 0; i < n_res; i++)
        if (reserve[i].type == MM_REGION_USABLE)
            return MM_ERR_INVALID;
    for (size_t i = 0; i < n_in + n_res; i++) {
        const struct mm_region *r = i < n_in ? &in[i] : &reserve[i - n_in];

        if (__builtin_add_overflow(r->base, r->length, &sum))
            return MM_ERR_WRAP;
        if (r->length && (!any || r->base < x)) {
            x = r->base;
            any = true;
        }
    }
    if (!any)
        return MM_ERR_NO_USABLE;

    /* x is the lowest start; walk every elementary interval [x, next) above it. */
    while (next_boundary(&sw, x, &next)) {
        if (winner_at(&sw, x, &type)) {
            st = emit(&em, x, next, type);
            if (st != MM_OK)
                return st;
        } else {
            st = emit_flush(&em);
            if (st != MM_OK)
                return st;
        }
        x = next;
    }
    st = emit_flush(&em);
    if (st != MM_OK)
        return st;
    if (em.usable == 0)
        return MM_ERR_NO_USABLE;
    *count_out = em.count;
    if (stats)
        *stats = (struct mm_memmap_stats){em.usable, em.count};
    return MM_OK;
}
