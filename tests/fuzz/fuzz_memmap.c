/* libFuzzer target: random boot maps and reserve lists through mm_memmap_normalise.
 * Invariants of a successful result: sorted, non-overlapping, no zero-length region, usable
 * regions whole pages, no two touching regions of one type, never more usable memory than
 * the input had, and every usable byte usable in the input and reserved nowhere. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/memmap.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_memmap: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_IN 48

static uint64_t take(const uint8_t **p, size_t *n, size_t bytes)
{
    uint64_t v = 0;

    for (size_t i = 0; i<bytes && * n> 0; i++, (*p)++, (*n)--)
        v |= (uint64_t) * *p << (8 * i);
    return v;
}

/* The highest-ranked input type covering x, or -1 (mirrors the documented rules). */
static int type_at(const struct mm_region *r, size_t n, uint64_t x)
{
    int best = -1;

    for (size_t i = 0; i < n; i++) {
        int t = r[i].type < MM_REGION_TYPE_COUNT ? (int)r[i].type : MM_REGION_RESERVED;

        if (r[i].length && x >= r[i].base && x - r[i].base < r[i].length && t > best)
            best = t;
    }
    return best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mm_region all[MAX_IN], out[2 * MAX_IN];
    size_t n = 0, n_res, count = 0, cap;
    uint64_t usable_in = 0, usable_out = 0;
    struct mm_memmap_stats stats;
    enum mm_status st;
    uint8_t mode;

    if (size < 2)
        return 0;
    mode = data[0];
    cap = (size_t)data[1] % (2 * MAX_IN + 1);
    data += 2;
    size -= 2;
    while (size > 0 && n < MAX_IN) {
        /* Mostly small page-ish coordinates so regions collide; sometimes raw 64-bit values. */
        uint8_t kind = (uint8_t)take(&data, &size, 1);
        struct mm_region r;

        if (kind & 0x80) {
            r.base = take(&data, &size, 8);
            r.length = take(&data, &size, 8);
        } else {
            r.base = take(&data, &size, 2) * 0x800 + (kind & 0x10 ? take(&data, &size, 1) : 0);
            r.length = take(&data, &size, 2) * 0x400;
        }
        r.type = (enum mm_region_type)(kind % 11); /* 9 and 10 are unknown types */
        all[n++] = r;
    }
    /* The last (mode % 8) non-usable regions act as the reserve list. */
    n_res = 0;
    while (n_res < (size_t)(mode % 8) && n_res < n && all[n - 1 - n_res].type != MM_REGION_USABLE)
        n_res++;

    st = mm_memmap_normalise(all, n - n_res, n_res ? &all[n - n_res] : NULL, n_res, out, cap,
                             &count, &stats);
    if (st != MM_OK) {
        CHECK(count == 0);
        CHECK(st == MM_ERR_WRAP || st == MM_ERR_NO_USABLE || st == MM_ERR_NO_SPACE);
        if (cap == 2 * MAX_IN)
            CHECK(st != MM_ERR_NO_SPACE); /* the documented bound always suffices */
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t end;

        CHECK(!__builtin_add_overflow(all[i].base, all[i].length, &end)); /* else WRAP */
        if (all[i].type == MM_REGION_USABLE && i < n - n_res &&
            __builtin_add_overflow(usable_in, all[i].length, &usable_in))
            usable_in = UINT64_MAX; /* overlapping inputs can sum past 2^64 */
    }
    CHECK(count <= cap && count == stats.count);
    for (size_t i = 0; i < count; i++) {
        const struct mm_region *r = &out[i];

        CHECK(r->length > 0);
        CHECK(r->type < MM_REGION_TYPE_COUNT);
        if (i > 0) {
            const struct mm_region *p = &out[i - 1];

            CHECK(p->base + p->length <= r->base);
            CHECK(p->base + p->length < r->base || p->type != r->type);
        }
        /* The type at both ends of each output region is the input's winner there. */
        if (r->type == MM_REGION_USABLE) {
            CHECK(r->base % 4096 == 0 && r->length % 4096 == 0);
            usable_out += r->length;
        }
        CHECK(type_at(all, n, r->base) == (int)r->type);
        CHECK(type_at(all, n, r->base + r->length - 1) == (int)r->type);
    }
    CHECK(usable_out == stats.usable_bytes);
    CHECK(usable_out > 0);
    CHECK(usable_out <= usable_in);
    return 0;
}
