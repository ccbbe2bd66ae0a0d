/* Benchmark: the page mapper over fake physical memory. Map, translate and unmap 1M
 * consecutive 4 KiB pages (4 GiB of virtual space); a plain array store/load of 1M entries is
 * the reference row. Best of REPS runs. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mm/paging.h"

#define PAGES (UINT64_C(1) << 20)
#define MEM (UINT64_C(16) << 20) /* tables: ~2050 frames = 8 MiB, with room */
#define REPS 3

static uint8_t *phys;
static uint64_t pool[MEM / 4096];
static size_t npool;
static unsigned long flushes;

static void *p2v(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    return phys + pa.v;
}

static bool alloc_table(void *ctx, struct mm_paddr *out)
{
    (void)ctx;
    if (npool == 0)
        return false;
    *out = mm_paddr(pool[--npool]);
    return true;
}

static void free_table(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    pool[npool++] = pa.v;
}

static void flush(void *ctx, struct mm_paddr root, struct mm_vaddr va)
{
    (void)ctx;
    (void)root;
    (void)va;
    flushes++;
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID,
                  &ts); /* CPU time: other jobs on a shared machine do not count */
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define VA_BASE UINT64_C(0x100000000)

static void die(const char *what)
{
    fprintf(stderr, "bench_paging: %s failed\n", what);
    exit(1);
}

int main(void)
{
    static const struct mm_paging_ops ops = {NULL, p2v, alloc_table, free_table, flush};
    double best[3] = {1e30, 1e30, 1e30}, ref_store = 1e30, ref_load = 1e30;
    uint64_t *arr = malloc(sizeof(uint64_t) * PAGES), sum = 0;
    struct mm_space s;

    phys = aligned_alloc(4096, MEM);
    if (!phys || !arr)
        die("malloc");
    for (uint64_t i = MEM / 4096; i-- > 1;)
        pool[npool++] = i * 4096;
    if (mm_space_create(&s, &ops) != MM_OK)
        die("create");
    for (int r = 0; r < REPS; r++) {
        double t0 = now_ns(), t1, t2, t3;

        for (uint64_t i = 0; i < PAGES; i++)
            if (mm_map(&s, mm_vaddr(VA_BASE + i * 4096), mm_paddr(i * 4096), MM_PAGE_4K,
                       MM_PAGE_WRITABLE) != MM_OK)
                die("map");
        t1 = now_ns();
        for (uint64_t i = 0; i < PAGES; i++) {
            struct mm_translation t;

            if (mm_translate(&s, mm_vaddr(VA_BASE + i * 4096 + 8), &t) != MM_OK)
                die("translate");
            sum += t.pa.v;
        }
        t2 = now_ns();
        for (uint64_t i = 0; i < PAGES; i++)
            if (mm_unmap(&s, mm_vaddr(VA_BASE + i * 4096), NULL, NULL) != MM_OK)
                die("unmap");
        t3 = now_ns();
        best[0] = (t1 - t0) / PAGES < best[0] ? (t1 - t0) / PAGES : best[0];
        best[1] = (t2 - t1) / PAGES < best[1] ? (t2 - t1) / PAGES : best[1];
        best[2] = (t3 - t2) / PAGES < best[2] ? (t3 - t2) / PAGES : best[2];

        /* Reference: the same number of entries stored to and loaded from a flat array. */
        t0 = now_ns();
        for (uint64_t i = 0; i < PAGES; i++)
            ((volatile uint64_t *)arr)[i] = (i * 4096) | 3;
        t1 = now_ns();
        for (uint64_t i = 0; i < PAGES; i++)
            sum += ((volatile uint64_t *)arr)[i];
        t2 = now_ns();
        ref_store = (t1 - t0) / PAGES < ref_store ? (t1 - t0) / PAGES : ref_store;
        ref_load = (t2 - t1) / PAGES < ref_load ? (t2 - t1) / PAGES : ref_load;
    }
    printf("bench paging op=map pages=%llu ns_per_page=%.1f\n", (unsigned long long)PAGES, best[0]);
    printf("bench paging op=translate pages=%llu ns_per_page=%.1f\n", (unsigned long long)PAGES,
           best[1]);
    printf("bench paging op=unmap pages=%llu ns_per_page=%.1f\n", (unsigned long long)PAGES,
           best[2]);
    printf("bench paging reference=array_store ns_per_page=%.1f\n", ref_store);
    printf("bench paging reference=array_load ns_per_page=%.1f check=%llu\n", ref_load,
           (unsigned long long)(sum % 7 + flushes % 1));
    free(arr);
    free(phys);
    return 0;
}
