/* libFuzzer target: the page mapper over fake physical memory, against a reference list of
 * mappings. Every result (status, translation, frames handed back) must match the model, and
 * unmapping everything must give back every table but the PML4 and kernel-half PDPTs. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/paging.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_paging: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MEM (UINT64_C(2) << 20)
#define POOL (MEM / 4096)
#define MAX_MAPS 512

static uint8_t *phys;
static uint64_t pool[POOL];
static size_t npool, live_tables;
static long budget;

static struct {
    uint64_t va, pa, size;
    unsigned flags;
} model[MAX_MAPS];
static size_t nmodel;

static void *p2v(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    CHECK(pa.v < MEM && pa.v % 8 == 0);
    return phys + pa.v;
}

static bool alloc_table(void *ctx, struct mm_paddr *out)
{
    (void)ctx;
    if (npool == 0 || budget == 0)
        return false;
    budget--;
    *out = mm_paddr(pool[--npool]);
    memset(phys + out->v, 0x5a, 4096);
    live_tables++;
    return true;
}

static void free_table(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    CHECK(pa.v % 4096 == 0 && pa.v < MEM && npool < POOL);
    pool[npool++] = pa.v;
    live_tables--;
}

static const struct mm_paging_ops ops = {NULL, p2v, alloc_table, free_table, NULL};

static uint64_t take(const uint8_t **p, size_t *n, size_t bytes)
{
    uint64_t v = 0;

    for (size_t i = 0; i<bytes && * n> 0; i++, (*p)++, (*n)--)
        v |= (uint64_t) * *p << (8 * i);
    return v;
}

static long find(uint64_t va)
{
    for (size_t i = 0; i < nmodel; i++)
        if (va >= model[i].va && va - model[i].va < model[i].size)
            return (long)i;
    return -1;
}

/* An address from a small window in both halves (so tables are shared and collide), plus
 * rarely a raw 64-bit value (non-canonical, misaligned...). */
static uint64_t pick_va(const uint8_t **p, size_t *n)
{
    uint64_t r = take(p, n, 4);
    static const unsigned slots[] = {0, 3, 256, 511};

    if ((r & 0xff) == 0xff)
        return take(p, n, 8);
    return mm_vaddr_canonical(((uint64_t)slots[r & 3] << 39) | (((r >> 2) & 1) << 30) |
                              (((r >> 3) & 3) << 21) | (((r >> 5) & 7) << 12) |
                              ((r >> 8) & 1 ? (r >> 9) & 0xfff : 0))
        .v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t sizes[] = {MM_PAGE_4K, MM_PAGE_2M, MM_PAGE_1G};
    struct mm_space s;
    size_t base_tables;

    if (!phys && !(phys = calloc(1, MEM)))
        abort();
    npool = 0;
    for (uint64_t i = POOL; i-- > 1;)
        pool[npool++] = i * 4096;
    live_tables = 0;
    nmodel = 0;
    budget = -1;
    CHECK(mm_space_create(&s, &ops) == MM_OK);
    /* Half the inputs run as on a CPU without NX: no entry may then carry bit 63. */
    bool nx = size > 0 && !(take(&data, &size, 1) & 1);
    unsigned keep = nx ? MM_PAGE_FLAGS_ALL : MM_PAGE_FLAGS_ALL & ~(unsigned)MM_PAGE_NO_EXECUTE;
    mm_space_set_nx(&s, nx);
    base_tables = live_tables;
    /* Kernel-half PDPTs are kept once created (other spaces may share them): count the
     * distinct kernel-half PML4 slots this input mapped into. */
    static bool kslot[256];
    size_t kslots = 0;
    for (size_t i = 0; i < 256; i++)
        kslot[i] = false;

    while (size > 0) {
        uint8_t op = (uint8_t)take(&data, &size, 1);
        uint64_t va = pick_va(&data, &size);
        struct mm_translation t;
        enum mm_status st;
        long m = find(va);
        bool canon = mm_vaddr_is_canonical(mm_vaddr(va));

        switch (op % 5) {
        case 0:
        case 1: { /* map; sometimes with a small table budget */
            uint64_t sz = sizes[(op >> 3) % 3], pa = take(&data, &size, 2) * sz;
            unsigned flags = (unsigned)take(&data, &size, 1) & MM_PAGE_FLAGS_ALL;
            enum mm_status want = MM_OK;
            size_t before = live_tables;

            budget = (op & 0x80) ? (long)((op >> 5) & 3) : -1;
            if (!canon)
                want = MM_ERR_NON_CANONICAL;
            else if (va % sz || pa % sz)
                want = MM_ERR_MISALIGNED;
            else if (pa > MM_PADDR_MAX - (sz - 1))
                want = MM_ERR_INVALID;
            for (size_t i = 0; want == MM_OK && i < nmodel; i++)
                if (model[i].va < va + sz && va < model[i].va + model[i].size)
                    want = model[i].size > sz ? MM_ERR_PARENT_HUGE : MM_ERR_ALREADY_MAPPED;
            st = mm_map(&s, mm_vaddr(va), mm_paddr(pa), (enum mm_page_size)sz, flags);
            budget = -1;
            if (st == MM_ERR_NO_FRAMES) {
                CHECK(want == MM_OK && live_tables == before);
                break;
            }
            CHECK(st == want);
            if (st == MM_OK && (va >> 47) & 1 && !kslot[(va >> 39) & 255]) {
                kslot[(va >> 39) & 255] = true;
                kslots++;
            }
            if (st == MM_OK && nmodel < MAX_MAPS) {
                model[nmodel].va = va;
                model[nmodel].pa = pa;
                model[nmodel].size = sz;
                model[nmodel++].flags = (flags & keep) | MM_PAGE_PRESENT;
            } else if (st == MM_OK) {
                CHECK(mm_unmap(&s, mm_vaddr(va), NULL, NULL) == MM_OK);
            }
            break;
        }
        case 2: { /* unmap */
            struct mm_paddr pa;
            enum mm_page_size sz;

            st = mm_unmap(&s, mm_vaddr(va), &pa, &sz);
            if (!canon) {
                CHECK(st == MM_ERR_NON_CANONICAL);
            } else if (m < 0) {
                CHECK(st == MM_ERR_NOT_MAPPED);
            } else if (model[m].va != va) {
                CHECK(st == MM_ERR_MISALIGNED);
            } else {
                CHECK(st == MM_OK && pa.v == model[m].pa && sz == model[m].size);
                model[m] = model[--nmodel];
            }
            break;
        }
        case 3: { /* protect */
            unsigned flags = (unsigned)take(&data, &size, 1) & MM_PAGE_FLAGS_ALL;

            st = mm_protect(&s, mm_vaddr(va), flags);
            CHECK(st == (!canon              ? MM_ERR_NON_CANONICAL
                         : m < 0             ? MM_ERR_NOT_MAPPED
                         : model[m].va != va ? MM_ERR_MISALIGNED
                                             : MM_OK));
            if (st == MM_OK)
                model[m].flags = (flags & keep) | MM_PAGE_PRESENT;
            break;
        }
        default: /* translate */
            st = mm_translate(&s, mm_vaddr(va), &t);
            if (!canon) {
                CHECK(st == MM_ERR_NON_CANONICAL);
            } else if (m < 0) {
                CHECK(st == MM_ERR_NOT_MAPPED);
            } else {
                CHECK(st == MM_OK && t.pa.v == model[m].pa + (va - model[m].va));
                CHECK(t.size == model[m].size && t.flags == model[m].flags);
            }
            break;
        }
    }
    while (nmodel > 0) {
        nmodel--;
        CHECK(mm_unmap(&s, mm_vaddr(model[nmodel].va), NULL, NULL) == MM_OK);
    }
    CHECK(live_tables <= base_tables + kslots); /* kernel-half PDPTs stay */
    CHECK(mm_space_destroy(&s) == MM_OK);
    CHECK(live_tables <= kslots); /* only the shared kernel-half PDPTs outlive the space */
    return 0;
}
