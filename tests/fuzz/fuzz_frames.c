/* libFuzzer target: the buddy allocator under random maps and alloc/free/bogus-free
 * sequences, against a per-frame ownership shadow and the allocator's own invariant checker. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/frame.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_frames: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MEM (UINT64_C(64) << 20) /* the map stays below 64 MiB */
#define FRAMES (MEM / 4096)
#define MAX_LIVE 4096

static uint8_t *phys; /* metadata lands somewhere in [0, MEM) */
static uint8_t owner[FRAMES];
static struct {
    uint64_t pa;
    unsigned order;
} live[MAX_LIVE];

static void *p2v(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    CHECK(pa.v < MEM);
    return phys + pa.v;
}

static uint64_t take(const uint8_t **p, size_t *n, size_t bytes)
{
    uint64_t v = 0;

    for (size_t i = 0; i<bytes && * n> 0; i++, (*p)++, (*n)--)
        v |= (uint64_t) * *p << (8 * i);
    return v;
}

static void check(const struct mm_frames *fa)
{
    const char *why;

    if (mm_frames_check(fa, &why) != MM_OK) {
        fprintf(stderr, "fuzz_frames: invariant: %s\n", why);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mm_region map[8];
    size_t nmap = 0, nlive = 0;
    uint64_t cursor = 0, used = 0, total;
    struct mm_frames fa;
    struct mm_frames_stats s;
    unsigned nregions;

    if (!phys && !(phys = calloc(1, MEM)))
        abort();
    if (size < 1)
        return 0;
    /* A sorted map of up to 8 regions with random (sub-page) sizes and gaps. */
    nregions = 1 + (unsigned)(take(&data, &size, 1) % 8);
    for (unsigned i = 0; i < nregions; i++) {
        uint64_t gap = take(&data, &size, 2) * 0x300, len = take(&data, &size, 2) * 0x500;
        uint8_t t = (uint8_t)take(&data, &size, 1);

        if (cursor + gap + len > MEM)
            break;
        map[nmap++] =
            (struct mm_region){cursor + gap, len, t & 1 ? MM_REGION_RESERVED : MM_REGION_USABLE};
        cursor += gap + len;
    }
    /* Half the runs bound the metadata below a random address, as a kernel whose early map
     * covers only low memory does. */
    uint64_t bound = take(&data, &size, 3) * 0x100, limit_byte = take(&data, &size, 1);
    struct mm_frames_plan plan;
    enum mm_status pst = limit_byte & 1 ? mm_frames_plan_below(map, nmap, bound, &plan)
                                        : mm_frames_plan(map, nmap, &plan);
    if (pst != MM_OK)
        return 0;
    if (limit_byte & 1)
        CHECK(plan.base.v + plan.size <= bound);
    if (mm_frames_init_planned(&fa, map, nmap, &plan, p2v, NULL) != MM_OK)
        return 0;
    check(&fa);
    memset(owner, 0, sizeof(owner));
    mm_frames_get_stats(&fa, &s);
    total = s.total_frames;
    CHECK(s.free_frames == total);

    while (size > 0) {
        uint8_t op = (uint8_t)take(&data, &size, 1);

        if (op < 128 && nlive < MAX_LIVE) {
            unsigned order = op % (MM_FRAME_MAX_ORDER + 1);
            struct mm_paddr pa;
            /* One allocation in four must end below a random limit. */
            bool below = op >= 96;
            uint64_t limit = below ? take(&data, &size, 3) * 0x100 : UINT64_MAX;
            enum mm_status st = below ? mm_frames_alloc_below(&fa, order, limit, &pa)
                                      : mm_frames_alloc(&fa, order, &pa);

            mm_frames_get_stats(&fa, &s);
            if (st != MM_OK) {
                CHECK(st == MM_ERR_NO_FRAMES &&
                      (below || s.largest_free < (UINT64_C(4096) << order)));
                continue;
            }
            CHECK(pa.v + (UINT64_C(4096) << order) <= limit);
            CHECK(pa.v % (UINT64_C(4096) << order) == 0 && pa.v + (UINT64_C(4096) << order) <= MEM);
            for (uint64_t f = pa.v / 4096; f < pa.v / 4096 + (UINT64_C(1) << order); f++) {
                CHECK(!owner[f]); /* handed out twice */
                owner[f] = 1;
            }
            live[nlive].pa = pa.v;
            live[nlive++].order = order;
            used += UINT64_C(1) << order;
        } else if (op < 224 && nlive > 0) {
            size_t i = (size_t)take(&data, &size, 2) % nlive;

            CHECK(mm_frames_free(&fa, mm_paddr(live[i].pa), live[i].order) == MM_OK);
            for (uint64_t f = live[i].pa / 4096;
                 f < live[i].pa / 4096 + (UINT64_C(1) << live[i].order); f++)
                owner[f] = 0;
            used -= UINT64_C(1) << live[i].order;
            live[i] = live[--nlive];
        } else {
            /* A bogus free: any address, any order. Unless it names a live block exactly,
             * it must fail and change nothing. */
            uint64_t pa = take(&data, &size, 3) * 0x100;
            unsigned order = (unsigned)take(&data, &size, 1) % 12;
            bool exact = false;
            enum mm_status st;

            for (size_t i = 0; i < nlive && !exact; i++)
                exact = live[i].pa == pa && live[i].order == order;
            if (exact)
                continue;
            st = mm_frames_free(&fa, mm_paddr(pa), order);
            CHECK(st != MM_OK);
        }
        mm_frames_get_stats(&fa, &s);
        CHECK(s.free_frames == total - used);
    }
    check(&fa);
    while (nlive > 0) {
        nlive--;
        CHECK(mm_frames_free(&fa, mm_paddr(live[nlive].pa), live[nlive].order) == MM_OK);
    }
    check(&fa);
    mm_frames_get_stats(&fa, &s);
    CHECK(s.free_frames == total);
    return 0;
}
