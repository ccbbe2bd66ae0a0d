/* Benchmark: the buddy frame allocator. Allocate every frame (or every 2 MiB block) of a fake
 * memory map, then free them all; time per block for the whole cycle. Only the metadata
 * lives in host memory (the allocator never touches the frames), so 4 GiB costs ~9 MiB.
 * A plain array stack of frame numbers is the reference row. Best of REPS runs.
 *
 * Then N = 1, 2, 4, 8 threads over one allocator (see threaded()): every thread allocates and
 * frees single frames, either each call under one shared mutex (mode=lock, the reference) or
 * through its own per-CPU cache (mode=cache, mm/frame_cache.h, with the same mutex as the
 * pool's lock). mode=private is the machine's row: each thread pushes and pops a private
 * array of frame addresses, sharing nothing, so its scaling is the most any mode can get on
 * this machine at this moment (other jobs on a shared machine take cores away). Wall-clock
 * time, median of MT_REPS runs:
 *
 *   bench frames mode=<private|lock|cache> workload=<pairs|burst64> threads=<N> ops=<per thread>
 *       ns_per_op=<wall ns / all ops> cpu_ns_per_op=<CPU ns of all threads / all ops>
 *       mops_total=<x> mops_per_thread=<y>
 *       vs_1thread=<mops_total / the same mode's 1-thread mops_total>
 *       scaling=<vs_1thread / min(N, cores)> cores=<online CPUs> [of_private=<vs_1thread /
 *       the private row's vs_1thread at this N>] [vs_lock=<cache / lock mops_total at this
 *       N>] [oversubscribed=1 when N > cores]
 *
 * The allocator is fragmented first: MT_SCATTER free single frames whose buddies stay
 * allocated, as in a kernel that has run for a while. Every order-0 allocation then takes a
 * frame off the order-0 list and every free puts one back without merging, whatever the
 * number of threads (on a fresh allocator one thread's alloc/free pair splits and merges a
 * 4 MiB block every time, while several threads keep small blocks around for each other).
 *
 * pairs: alloc one frame, free it. burst64: alloc 64 frames, then free the 64. scaling is 1.0
 * for perfectly linear scaling up to the core count; beyond it the threads share the cores,
 * so min(N, cores) is the best possible speedup. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench_threads.h"
#include "mm/frame.h"
#include "mm/frame_cache.h"

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

/* ---- several threads over one allocator ---------------------------------------------------- */

#define MT_THREADS_MAX BENCH_THREADS_MAX
#define MT_OPS 4000000  /* allocator calls per thread and run */
#define MT_SCATTER 4096 /* free single frames whose buddies stay allocated */
#define MT_REPS 5
#define BURST 64

enum mt_mode { MT_PRIVATE, MT_LOCK, MT_CACHE };
enum mt_workload { MT_PAIRS, MT_BURST };
static const char *const mt_mode_name[] = {"private", "lock", "cache"};
static const char *const mt_workload_name[] = {"pairs", "burst64"};

static struct {
    struct mm_frames fa;
    struct mm_frame_pool pool;
    struct mm_frame_cache caches[MT_THREADS_MAX];
    pthread_mutex_t mutex;
    pthread_barrier_t start;
    enum mt_mode mode;
    enum mt_workload workload;
} mt;

static uint64_t mt_lock(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&mt.mutex);
    return 0;
}

static void mt_unlock(void *ctx, uint64_t token)
{
    (void)ctx;
    (void)token;
    pthread_mutex_unlock(&mt.mutex);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_frames: %s\n", what);
    exit(1);
}

/* mode=private: each thread pops and pushes its own array of frame addresses, sharing
 * nothing - how well this machine runs N threads at all right now. Out of line, like the
 * library calls of the other modes. */
static __thread struct {
    uint64_t frames[2 * BURST];
    unsigned n;
} private_stack;

__attribute__((noinline)) static enum mm_status private_alloc(struct mm_paddr *out)
{
    if (private_stack.n == 0)
        return MM_ERR_NO_FRAMES;
    *out = mm_paddr(private_stack.frames[--private_stack.n]);
    return MM_OK;
}

__attribute__((noinline)) static enum mm_status private_free(struct mm_paddr pa)
{
    if (private_stack.n == 2 * BURST)
        return MM_ERR_NO_SPACE;
    private_stack.frames[private_stack.n++] = pa.v;
    return MM_OK;
}

static struct mm_paddr mt_alloc(struct mm_frame_cache *c)
{
    struct mm_paddr pa;
    enum mm_status st;

    if (mt.mode == MT_PRIVATE) {
        st = private_alloc(&pa);
    } else if (mt.mode == MT_CACHE) {
        st = mm_frame_cache_alloc(c, &pa);
    } else {
        pthread_mutex_lock(&mt.mutex);
        st = mm_frames_alloc(&mt.fa, 0, &pa);
        pthread_mutex_unlock(&mt.mutex);
    }
    if (st != MM_OK)
        die("allocation failed");
    return pa;
}

static void mt_free(struct mm_frame_cache *c, struct mm_paddr pa)
{
    enum mm_status st;

    if (mt.mode == MT_PRIVATE) {
        st = private_free(pa);
    } else if (mt.mode == MT_CACHE) {
        st = mm_frame_cache_free(c, pa);
    } else {
        pthread_mutex_lock(&mt.mutex);
        st = mm_frames_free(&mt.fa, pa, 0);
        pthread_mutex_unlock(&mt.mutex);
    }
    if (st != MM_OK)
        die("free failed");
}

static void *mt_worker(void *arg)
{
    struct mm_frame_cache *c = arg;
    struct mm_paddr burst[BURST];

    private_stack.n = 2 * BURST;
    for (unsigned i = 0; i < 2 * BURST; i++)
        private_stack.frames[i] = (uint64_t)(i + 1) << MM_PAGE_SHIFT;
    pthread_barrier_wait(&mt.start);
    if (mt.workload == MT_PAIRS) {
        for (unsigned i = 0; i < MT_OPS / 2; i++)
            mt_free(c, mt_alloc(c));
    } else {
        for (unsigned i = 0; i < MT_OPS / (2 * BURST); i++) {
            for (unsigned k = 0; k < BURST; k++)
                burst[k] = mt_alloc(c);
            for (unsigned k = 0; k < BURST; k++)
                mt_free(c, burst[k]);
        }
    }
    if (mt.mode == MT_CACHE && mm_frame_cache_drain(c) != MM_OK)
        die("drain failed");
    return NULL;
}

static void *mt_cache_of(unsigned i)
{
    return &mt.caches[i];
}

/* One run: n threads start together; wall time until the last one is done, in ns; the CPU
 * time all threads used meanwhile in *cpu. */
static double mt_run(unsigned n, double *cpu)
{
    return bench_threads_run(n, &mt.start, mt_worker, mt_cache_of, cpu);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void threaded(void)
{
    const struct mm_region map[] = {
        {0, MiB(1), MM_REGION_RESERVED},
        {MiB(1), GiB(1) - MiB(1), MM_REGION_USABLE},
    };
    static const unsigned counts[] = {1, 2, 4, 8};
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cores = online > 0 ? (unsigned)online : 1;
    struct mm_frames_plan plan;
    struct mm_frames_stats fs;
    double lock_mops[sizeof counts / sizeof counts[0]];
    double private_scaling[sizeof counts / sizeof counts[0]];

    if (mm_frames_plan(map, 2, &plan) != MM_OK)
        die("plan");
    meta_limit = plan.base.v + plan.size;
    meta_buf = malloc(meta_limit);
    if (!meta_buf || mm_frames_init(&mt.fa, map, 2, p2v, NULL) != MM_OK)
        die("init");
    static struct mm_paddr scatter[2 * MT_SCATTER];
    for (unsigned i = 0; i < 2 * MT_SCATTER; i++)
        if (mm_frames_alloc(&mt.fa, 0, &scatter[i]) != MM_OK)
            die("scatter");
    for (unsigned i = 0; i < 2 * MT_SCATTER; i += 2)
        if (mm_frames_free(&mt.fa, scatter[i], 0) != MM_OK)
            die("scatter");
    pthread_mutex_init(&mt.mutex, NULL);
    if (mm_frame_pool_init(&mt.pool, &mt.fa, mt.caches, MT_THREADS_MAX, mt_lock, mt_unlock, NULL) !=
        MM_OK)
        die("pool init");
    for (int w = MT_PAIRS; w <= MT_BURST; w++) {
        for (int m = MT_PRIVATE; m <= MT_CACHE; m++) {
            double one = 0;

            mt.mode = (enum mt_mode)m;
            mt.workload = (enum mt_workload)w;
            for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
                unsigned n = counts[i];
                double ns[MT_REPS], cpu[MT_REPS], med, total_ops = (double)n * MT_OPS, mops,
                                                       speedup;

                for (int r = 0; r < MT_REPS; r++)
                    ns[r] = mt_run(n, &cpu[r]);
                qsort(ns, MT_REPS, sizeof ns[0], cmp_double);
                qsort(cpu, MT_REPS, sizeof cpu[0], cmp_double);
                qsort(cpu, MT_REPS, sizeof cpu[0], cmp_double);
                med = ns[MT_REPS / 2];
                mops = total_ops / med * 1e3;
                if (n == 1)
                    one = mops;
                speedup = mops / one;
                printf("bench frames mode=%s workload=%s threads=%u ops=%u ns_per_op=%.2f "
                       "cpu_ns_per_op=%.2f "
                       "mops_total=%.2f mops_per_thread=%.2f vs_1thread=%.2f scaling=%.2f "
                       "cores=%u",
                       mt_mode_name[m], mt_workload_name[w], n, MT_OPS, med / total_ops,
                       cpu[MT_REPS / 2] / total_ops, mops, mops / n, speedup,
                       speedup / (n < cores ? n : cores), cores);
                if (m == MT_PRIVATE)
                    private_scaling[i] = speedup;
                else
                    printf(" of_private=%.2f", speedup / private_scaling[i]);
                if (m == MT_LOCK)
                    lock_mops[i] = mops;
                else if (m == MT_CACHE)
                    printf(" vs_lock=%.2f", mops / lock_mops[i]);
                if (n > cores)
                    printf(" oversubscribed=1");
                printf("\n");
                fflush(stdout);
            }
        }
    }
    for (unsigned i = 1; i < 2 * MT_SCATTER; i += 2)
        if (mm_frames_free(&mt.fa, scatter[i], 0) != MM_OK)
            die("scatter");
    mm_frames_get_stats(&mt.fa, &fs);
    if (fs.free_frames != fs.total_frames || mm_frames_check(&mt.fa, NULL) != MM_OK)
        die("frames lost or allocator inconsistent after the threaded runs");
    free(meta_buf);
}

int main(void)
{
    run(MiB(128), "128MiB");
    run(GiB(4), "4GiB");
    reference(GiB(4));
    threaded();
    return 0;
}
