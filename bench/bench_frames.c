/* Benchmark: the buddy frame allocator. Allocate every frame (or every 2 MiB block) of a fake
 * memory map, then free them all; time per block for the whole cycle. Only the metadata
 * lives in host memory (the allocator never touches the frames), so 4 GiB costs ~9 MiB.
 * A plain array stack of frame numbers is the reference row. Best of REPS runs. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mm/frame.h"

#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)
#define REPS 3

static uint8_t *meta_buf;
static uint64_t meta_limit;

static void *p2v(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    if (pa.v >= meta_limit) {
        fprintf(stderr, "bench_frames: metadata outside the buffer\n");
        exit(1);
    }
    return meta_buf + pa.v;
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID,
                  &ts); /* CPU time: other jobs on a shared machine do not count */
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t *blocks; /* addresses handed out in one cycle */

/* One alloc-everything/free-everything cycle; returns ns per block, *n = blocks. */
static double cycle(struct mm_frames *fa, unsigned order, uint64_t *n)
{
    struct mm_paddr pa;
    uint64_t count = 0;
    double t0 = now_ns();

    while (mm_frames_alloc(fa, order, &pa) == MM_OK)
        blocks[count++] = pa.v;
    for (uint64_t i = 0; i < count; i++)
        if (mm_frames_free(fa, mm_paddr(blocks[i]), order) != MM_OK) {
            fprintf(stderr, "bench_frames: free failed\n");
            exit(1);
        }
    *n = count;
    return (now_ns() - t0) / (double)count;
}

static void run(uint64_t mem, const char *label)
{
    /* A PC-like map: the first MiB reserved, everything else usable. */
    const struct mm_region map[] = {
        {0, MiB(1), MM_REGION_RESERVED},
        {MiB(1), mem - MiB(1), MM_REGION_USABLE},
    };
    struct mm_frames_plan plan;
    struct mm_frames fa;

    if (mm_frames_plan(map, 2, &plan) != MM_OK)
        exit(1);
    meta_limit = plan.base.v + plan.size;
    meta_buf = malloc(meta_limit);
    blocks = malloc(sizeof(uint64_t) * (mem / 4096));
    if (!meta_buf || !blocks || mm_frames_init(&fa, map, 2, p2v, NULL) != MM_OK)
        exit(1);
    for (unsigned order = 0; order <= 9; order += 9) {
        double best = 1e30;
        uint64_t n = 0;

        for (int r = 0; r < REPS; r++) {
            double ns = cycle(&fa, order, &n);

            best = ns < best ? ns : best;
        }
        printf("bench frames mem=%s order=%u blocks=%llu ns_per_frame=%.1f\n", label, order,
               (unsigned long long)n, best);
    }
    if (mm_frames_check(&fa, NULL) != MM_OK)
        exit(1);
    free(blocks);
    free(meta_buf);
}

/* The reference: pop every frame number off an array stack, then push them all back. */
static void reference(uint64_t mem)
{
    uint64_t n = mem / 4096, *stack = malloc(sizeof(uint64_t) * n), sp = n, sum = 0;
    uint64_t *out = malloc(sizeof(uint64_t) * n);
    double best = 1e30;

    if (!stack || !out)
        exit(1);
    for (uint64_t i = 0; i < n; i++)
        stack[i] = i;
    for (int r = 0; r < REPS; r++) {
        double t0 = now_ns(), ns;
        uint64_t k = 0;

        while (sp > 0)
            out[k++] = stack[--sp];
        for (uint64_t i = 0; i < k; i++)
            stack[sp++] = out[i];
        ns = (now_ns() - t0) / (double)k;
        best = ns < best ? ns : best;
        sum += out[k / 2];
    }
    printf("bench frames reference=array_stack mem=4GiB ns_per_frame=%.1f check=%llu\n", best,
           (unsigned long long)(sum % 7));
    free(stack);
    free(out);
}

int main(void)
{
    run(MiB(128), "128MiB");
    run(GiB(4), "4GiB");
    reference(GiB(4));
    return 0;
}
