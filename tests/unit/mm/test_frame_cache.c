/* Tests for mm/frame_cache.h: per-CPU frame caches over one buddy allocator, on one thread
 * (refill/drain boundaries, statistics, bad frees) and on several pthreads sharing one
 * allocator under a mutex (each frame owned by at most one thread at a time). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mm/frame_cache.h"

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SIZE MM_FRAME_CACHE_SIZE
#define BATCH MM_FRAME_CACHE_BATCH

/* "Physical memory" for the metadata; the frames themselves are never touched. */
#define FAKE_SIZE MiB(2)
static uint8_t *fake;

static void *fake_p2v(void *ctx, struct mm_paddr pa)
{
    (void)ctx;
    assert_true(pa.v < FAKE_SIZE);
    return fake + pa.v;
}

static int setup(void **state)
{
    (void)state;
    fake = aligned_alloc(4096, FAKE_SIZE);
    if (!fake)
        return -1;
    memset(fake, 0xcc, FAKE_SIZE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(fake);
    return 0;
}

/* A lock that checks it is never taken twice or released unheld, and counts its uses. */
struct test_lock {
    bool held;
    unsigned taken;
};

static uint64_t test_lock_take(void *ctx)
{
    struct test_lock *l = ctx;

    assert_false(l->held);
    l->held = true;
    return ++l->taken;
}

static void test_lock_release(void *ctx, uint64_t token)
{
    struct test_lock *l = ctx;

    assert_true(l->held);
    assert_int_equal(token, l->taken);
    l->held = false;
}

/* 1 MiB reserved, then `usable` bytes of usable memory (the metadata at its start). */
struct fixture {
    struct mm_frames fa;
    struct mm_frame_pool pool;
    struct mm_frame_cache caches[2];
    struct test_lock lock;
    uint64_t total;
};

static void fixture_init(struct fixture *f, uint64_t usable)
{
    const struct mm_region map[] = {{0, MiB(1), MM_REGION_RESERVED},
                                    {MiB(1), usable, MM_REGION_USABLE}};
    struct mm_frames_stats s;

    memset(f, 0, sizeof *f);
    assert_int_equal(mm_frames_init(&f->fa, map, N(map), fake_p2v, NULL), MM_OK);
    assert_int_equal(mm_frame_pool_init(&f->pool, &f->fa, f->caches, N(f->caches), test_lock_take,
                                        test_lock_release, &f->lock),
                     MM_OK);
    mm_frames_get_stats(&f->fa, &s);
    f->total = s.total_frames;
}

static uint64_t allocator_free(struct fixture *f)
{
    struct mm_frames_stats s;

    mm_frames_get_stats(&f->fa, &s);
    return s.free_frames;
}

static void check_allocator(struct fixture *f)
{
    const char *why = NULL;

    if (mm_frames_check(&f->fa, &why) != MM_OK)
        fail_msg("allocator invariant broken: %s", why);
}

static void test_frame_pool_init_rejects_bad_arguments(void **state)
{
    (void)state;
    struct fixture f;
    struct mm_frame_pool pool;
    struct mm_frames blank = {0};
    struct mm_paddr pa;

    fixture_init(&f, MiB(1));
    assert_int_equal(
        mm_frame_pool_init(NULL, &f.fa, f.caches, 2, test_lock_take, test_lock_release, NULL),
        MM_ERR_INVALID);
    assert_int_equal(
        mm_frame_pool_init(&pool, NULL, f.caches, 2, test_lock_take, test_lock_release, NULL),
        MM_ERR_INVALID);
    assert_int_equal(
        mm_frame_pool_init(&pool, &blank, f.caches, 2, test_lock_take, test_lock_release, NULL),
        MM_ERR_INVALID);
    assert_int_equal(
        mm_frame_pool_init(&pool, &f.fa, NULL, 2, test_lock_take, test_lock_release, NULL),
        MM_ERR_INVALID);
    assert_int_equal(
        mm_frame_pool_init(&pool, &f.fa, f.caches, 0, test_lock_take, test_lock_release, NULL),
        MM_ERR_INVALID);
    assert_int_equal(mm_frame_pool_init(&pool, &f.fa, f.caches, 2, NULL, test_lock_release, NULL),
                     MM_ERR_INVALID);
    assert_int_equal(mm_frame_pool_init(&pool, &f.fa, f.caches, 2, test_lock_take, NULL, NULL),
                     MM_ERR_INVALID);
    assert_ptr_equal(mm_frame_pool_cache(&f.pool, 1), &f.caches[1]);
    assert_null(mm_frame_pool_cache(&f.pool, 2));
    assert_null(mm_frame_pool_cache(NULL, 0));
    assert_int_equal(mm_frame_cache_alloc(NULL, &pa), MM_ERR_INVALID);
    assert_int_equal(mm_frame_cache_alloc(&f.caches[0], NULL), MM_ERR_INVALID);
    assert_int_equal(mm_frame_cache_free(NULL, mm_paddr(MiB(2))), MM_ERR_INVALID);
    assert_int_equal(mm_frame_cache_drain(NULL), MM_ERR_INVALID);
    assert_int_equal(mm_frame_cache_count(NULL), 0);
}

static void test_frame_cache_refills_one_batch_when_empty(void **state)
{
    (void)state;
    struct fixture f;
    struct mm_frame_cache *c;
    struct mm_paddr pa[BATCH + 1];

    fixture_init(&f, MiB(4));
    c = mm_frame_pool_cache(&f.pool, 0);
    assert_int_equal(mm_frame_cache_alloc(c, &pa[0]), MM_OK);
    assert_int_equal(f.lock.taken, 1);
    assert_int_equal(mm_frame_cache_count(c), BATCH - 1);
    assert_int_equal(allocator_free(&f), f.total - BATCH);
    assert_true(mm_frames_is_allocated(&f.fa, pa[0]));
    /* The rest of the batch comes without the lock; the frames are distinct pages. */
    for (unsigned i = 1; i < BATCH; i++) {
        assert_int_equal(mm_frame_cache_alloc(c, &pa[i]), MM_OK);
        assert_true(mm_paddr_is_aligned(pa[i], MM_PAGE_SIZE));
        for (unsigned j = 0; j < i; j++)
            assert_true(pa[i].v != pa[j].v);
    }
    assert_int_equal(f.lock.taken, 1);
    assert_int_equal(mm_frame_cache_count(c), 0);
    /* One more: the next batch. The other cache is untouched. */
    assert_int_equal(mm_frame_cache_alloc(c, &pa[BATCH]), MM_OK);
    assert_int_equal(f.lock.taken, 2);
    assert_int_equal(mm_frame_cache_count(c), BATCH - 1);
    assert_int_equal(mm_frame_cache_count(&f.caches[1]), 0);
    assert_int_equal(allocator_free(&f), f.total - 2 * BATCH);
    check_allocator(&f);
}

static void test_frame_cache_full_cache_gives_back_oldest_half(void **state)
{
    (void)state;
    struct fixture f;
    struct mm_frame_cache *c;
    struct mm_paddr pa[SIZE + 1];

    fixture_init(&f, MiB(4));
    c = mm_frame_pool_cache(&f.pool, 0);
    /* Straight from the allocator, so the cache starts empty and fills only by frees. */
    for (unsigned i = 0; i <= SIZE; i++)
        assert_int_equal(mm_frames_alloc(&f.fa, 0, &pa[i]), MM_OK);
    for (unsigned i = 0; i < SIZE; i++)
        assert_int_equal(mm_frame_cache_free(c, pa[i]), MM_OK);
    assert_int_equal(f.lock.taken, 0);
    assert_int_equal(mm_frame_cache_count(c), SIZE);
    assert_int_equal(allocator_free(&f), f.total - SIZE - 1);
    /* The free that finds the cache full gives back the BATCH frames freed first. */
    assert_int_equal(mm_frame_cache_free(c, pa[SIZE]), MM_OK);
    assert_int_equal(f.lock.taken, 1);
    assert_int_equal(mm_frame_cache_count(c), SIZE - BATCH + 1);
    assert_int_equal(allocator_free(&f), f.total - (SIZE - BATCH + 1));
    for (unsigned i = 0; i <= SIZE; i++)
        assert_int_equal(mm_frames_is_allocated(&f.fa, pa[i]), i >= BATCH);
    /* What stays is a stack: the last frame freed is the first handed out. */
    struct mm_paddr again;
    assert_int_equal(mm_frame_cache_alloc(c, &again), MM_OK);
    assert_int_equal(again.v, pa[SIZE].v);
    assert_int_equal(mm_frame_cache_alloc(c, &again), MM_OK);
    assert_int_equal(again.v, pa[SIZE - 1].v);
    check_allocator(&f);
}

static void test_frame_cache_drain_returns_everything(void **state)
{
    (void)state;
    struct fixture f;
    struct mm_paddr held[200];
    unsigned nheld = 0;
    uint32_t seed = 12345;

    fixture_init(&f, MiB(4));
    /* Random traffic on both caches, then give everything back. */
    for (unsigned i = 0; i < 5000; i++) {
        struct mm_frame_cache *c = &f.caches[i & 1];

        seed = seed * 1103515245u + 12345u;
        if (nheld < N(held) && (nheld == 0 || (seed >> 16) % 3 != 0)) {
            assert_int_equal(mm_frame_cache_alloc(c, &held[nheld]), MM_OK);
            nheld++;
        } else {
            unsigned k = (seed >> 8) % nheld;

            assert_int_equal(mm_frame_cache_free(c, held[k]), MM_OK);
            held[k] = held[--nheld];
        }
    }
    while (nheld) {
        nheld--;
        assert_int_equal(mm_frame_cache_free(&f.caches[nheld & 1], held[nheld]), MM_OK);
    }
    assert_true(mm_frame_cache_count(&f.caches[0]) + mm_frame_cache_count(&f.caches[1]) > 0);
    assert_int_equal(mm_frame_cache_drain(&f.caches[0]), MM_OK);
    assert_int_equal(mm_frame_cache_drain(&f.caches[1]), MM_OK);
    assert_int_equal(mm_frame_cache_drain(&f.caches[1]), MM_OK); /* empty: a no-op */
    assert_int_equal(mm_frame_cache_count(&f.caches[0]), 0);
    assert_int_equal(mm_frame_cache_count(&f.caches[1]), 0);
    assert_int_equal(allocator_free(&f), f.total);
    check_allocator(&f);
    /* Everything merged back: one frame alloc + free leaves the largest block as before. */
    struct mm_frames_stats s;
    mm_frames_get_stats(&f.fa, &s);
    assert_true(s.largest_free >= MiB(1));
}

static void test_frame_pool_stats_add_up(void **state)
{
    (void)state;
    struct fixture f;
    struct mm_frame_pool_stats st;
    struct mm_paddr a[40], b[5];

    fixture_init(&f, MiB(4));
    for (unsigned i = 0; i < N(a); i++)
        assert_int_equal(mm_frame_cache_alloc(&f.caches[0], &a[i]), MM_OK);
    for (unsigned i = 0; i < N(b); i++)
        assert_int_equal(mm_frame_cache_alloc(&f.caches[1], &b[i]), MM_OK);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(mm_frame_cache_free(&f.caches[1], a[i]), MM_OK);
    mm_frame_pool_get_stats(&f.pool, &st);
    /* cache 0: two batches, 40 handed out; cache 1: one batch, 5 out, 10 of cache 0's in. */
    assert_int_equal(st.frames.total_frames, f.total);
    assert_int_equal(st.frames.free_frames, f.total - 3 * BATCH);
    assert_int_equal(st.cached_frames, (2 * BATCH - 40) + (BATCH - 5 + 10));
    assert_int_equal(st.cached_frames,
                     mm_frame_cache_count(&f.caches[0]) + mm_frame_cache_count(&f.caches[1]));
    assert_int_equal(st.in_use_frames, 40 - 10 + 5);
    assert_int_equal(st.frames.free_frames + st.cached_frames + st.in_use_frames, f.total);
    assert_int_equal(st.refills, 3);
    assert_int_equal(st.drains, 0);
    assert_int_equal(st.hits, (40 - 2) + (5 - 1) + 10);
    assert_int_equal(st.bad_frees, 0);
    assert_false(f.lock.held);
    assert_int_equal(mm_frame_cache_drain(&f.caches[1]), MM_OK);
    mm_frame_pool_get_stats(&f.pool, &st);
    assert_int_equal(st.cached_frames, 2 * BATCH - 40);
    assert_int_equal(st.in_use_frames, 35);
    assert_int_equal(st.drains, 1);
    mm_frame_pool_get_stats(NULL, &st);
    assert_int_equal(st.frames.total_frames, 0);
    mm_frame_pool_get_stats(&f.pool, NULL);
}

static void test_frame_cache_double_free_in_own_cache_caught_at_free(void **state)
{
    (void)state;
#if MM_DEBUG
    struct fixture f;
    struct mm_frame_cache *c;
    struct mm_paddr pa, other;

    fixture_init(&f, MiB(4));
    c = mm_frame_pool_cache(&f.pool, 0);
    assert_int_equal(mm_frame_cache_alloc(c, &pa), MM_OK);
    assert_int_equal(mm_frame_cache_alloc(c, &other), MM_OK);
    assert_int_equal(mm_frame_cache_free(c, pa), MM_OK);
    assert_int_equal(mm_frame_cache_free(c, other), MM_OK);
    uint64_t count = mm_frame_cache_count(c);
    assert_int_equal(mm_frame_cache_free(c, pa), MM_ERR_DOUBLE_FREE);
    assert_int_equal(mm_frame_cache_count(c), count);
    /* Not a free-time check of the frames handed out: a fresh frame is still accepted. */
    assert_int_equal(mm_frame_cache_alloc(c, &pa), MM_OK);
    assert_int_equal(mm_frame_cache_free(c, pa), MM_OK);
    assert_int_equal(mm_frame_cache_drain(c), MM_OK);
    assert_int_equal(allocator_free(&f), f.total);
    check_allocator(&f);
#else
    skip();
#endif
}

static void test_frame_cache_double_free_caught_at_drain(void **state)
{
    (void)state;
    struct fixture f;
    struct mm_frame_pool_stats st;
    struct mm_paddr pa, keep;

    fixture_init(&f, MiB(4));
    /* Freed, given back, then freed again through the cache: the drain finds it free. */
    assert_int_equal(mm_frame_cache_alloc(&f.caches[0], &pa), MM_OK);
    assert_int_equal(mm_frame_cache_alloc(&f.caches[0], &keep), MM_OK);
    assert_int_equal(mm_frame_cache_free(&f.caches[0], pa), MM_OK);
    assert_int_equal(mm_frame_cache_drain(&f.caches[0]), MM_OK);
    assert_false(mm_frames_is_allocated(&f.fa, pa));
    assert_int_equal(mm_frame_cache_free(&f.caches[0], pa), MM_OK);
    assert_int_equal(mm_frame_cache_free(&f.caches[0], keep), MM_OK);
    assert_int_equal(mm_frame_cache_drain(&f.caches[0]), MM_ERR_DOUBLE_FREE);
    /* The good frame went back anyway, the bad one was dropped and counted. */
    assert_int_equal(mm_frame_cache_count(&f.caches[0]), 0);
    assert_int_equal(allocator_free(&f), f.total);
    check_allocator(&f);
    mm_frame_pool_get_stats(&f.pool, &st);
    assert_int_equal(st.bad_frees, 1);

    /* The same frame freed into two CPUs' caches: the second drain catches it. */
    assert_int_equal(mm_frames_alloc(&f.fa, 0, &pa), MM_OK);
    assert_int_equal(mm_frame_cache_free(&f.caches[0], pa), MM_OK);
    assert_int_equal(mm_frame_cache_free(&f.caches[1], pa), MM_OK);
    assert_int_equal(mm_frame_cache_drain(&f.caches[0]), MM_OK);
    assert_int_equal(mm_frame_cache_drain(&f.caches[1]), MM_ERR_DOUBLE_FREE);
    assert_int_equal(allocator_free(&f), f.total);
    check_allocator(&f);

    /* A double free found by a drain that a full cache's free triggers: the free reports it
     * and still keeps its own frame. */
    struct mm_paddr frames[SIZE + 1];
    for (unsigned i = 0; i <= SIZE; i++)
        assert_int_equal(mm_frames_alloc(&f.fa, 0, &frames[i]), MM_OK);
    assert_int_equal(mm_frames_free(&f.fa, frames[3], 0), MM_OK); /* freed behind the cache */
    for (unsigned i = 0; i < SIZE; i++)
        assert_int_equal(mm_frame_cache_free(&f.caches[0], frames[i]), MM_OK);
    assert_int_equal(mm_frame_cache_free(&f.caches[0], frames[SIZE]), MM_ERR_DOUBLE_FREE);
    assert_int_equal(mm_frame_cache_count(&f.caches[0]), SIZE - BATCH + 1);
    assert_int_equal(mm_frame_cache_drain(&f.caches[0]), MM_OK);
    assert_int_equal(allocator_free(&f), f.total);
    mm_frame_pool_get_stats(&f.pool, &st);
    assert_int_equal(st.bad_frees, 3);
    check_allocator(&f);
}

static void test_frame_cache_frame_of_larger_block_refused_at_drain(void **state)
{
    (void)state;
    struct fixture f;
    struct mm_paddr pa;

    fixture_init(&f, MiB(4));
    assert_int_equal(mm_frames_alloc(&f.fa, 1, &pa), MM_OK);
    assert_int_equal(mm_frame_cache_free(&f.caches[0], mm_paddr(pa.v + 4096)), MM_OK);
    assert_int_equal(mm_frame_cache_drain(&f.caches[0]), MM_ERR_BAD_ORDER);
    assert_true(mm_frames_is_allocated(&f.fa, pa));
    assert_int_equal(mm_frames_free(&f.fa, pa, 1), MM_OK);
    assert_int_equal(allocator_free(&f), f.total);
    check_allocator(&f);
}

static void test_frame_cache_refuses_foreign_and_misaligned_frames(void **state)
{
    (void)state;
    struct fixture f;
    struct mm_frames_plan plan;
    const struct mm_region map[] = {{0, MiB(1), MM_REGION_RESERVED},
                                    {MiB(1), MiB(4), MM_REGION_USABLE}};

    fixture_init(&f, MiB(4));
    assert_int_equal(mm_frames_plan(map, N(map), &plan), MM_OK);
    assert_int_equal(mm_frame_cache_free(&f.caches[0], mm_paddr(MiB(2) + 8)), MM_ERR_MISALIGNED);
    assert_int_equal(mm_frame_cache_free(&f.caches[0], mm_paddr(KiB(64))), MM_ERR_FOREIGN_FRAME);
    assert_int_equal(mm_frame_cache_free(&f.caches[0], mm_paddr(MiB(5))), MM_ERR_FOREIGN_FRAME);
    assert_int_equal(mm_frame_cache_free(&f.caches[0], plan.base), MM_ERR_FOREIGN_FRAME);
    assert_int_equal(
        mm_frame_cache_free(&f.caches[0], mm_paddr(plan.base.v + plan.size - MM_PAGE_SIZE)),
        MM_ERR_FOREIGN_FRAME);
    assert_int_equal(mm_frame_cache_count(&f.caches[0]), 0);
    assert_int_equal(f.lock.taken, 0);
}

static void test_frame_cache_runs_dry_then_drained_frames_serve_another_cpu(void **state)
{
    (void)state;
    struct fixture f;
    struct mm_paddr pa, *held;
    uint64_t n = 0;

    fixture_init(&f, KiB(256)); /* 64 frames, one of them metadata */
    held = calloc(f.total, sizeof *held);
    assert_non_null(held);
    while (mm_frame_cache_alloc(&f.caches[0], &pa) == MM_OK)
        held[n++] = pa;
    assert_int_equal(n, f.total);
    /* A full batch, a short one (31 frames), and one that found nothing. */
    assert_int_equal(f.lock.taken, 3);
    assert_int_equal(mm_frame_cache_alloc(&f.caches[1], &pa), MM_ERR_NO_FRAMES);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(mm_frame_cache_free(&f.caches[0], held[--n]), MM_OK);
    /* Frames cached on CPU 0 do not reach CPU 1 until CPU 0 drains. */
    assert_int_equal(mm_frame_cache_alloc(&f.caches[1], &pa), MM_ERR_NO_FRAMES);
    assert_int_equal(mm_frame_cache_drain(&f.caches[0]), MM_OK);
    for (unsigned i = 0; i < 10; i++) {
        assert_int_equal(mm_frame_cache_alloc(&f.caches[1], &pa), MM_OK);
        held[n++] = pa;
    }
    assert_int_equal(mm_frame_cache_alloc(&f.caches[1], &pa), MM_ERR_NO_FRAMES);
    while (n)
        assert_int_equal(mm_frame_cache_free(&f.caches[1], held[--n]), MM_OK);
    assert_int_equal(mm_frame_cache_drain(&f.caches[1]), MM_OK);
    assert_int_equal(allocator_free(&f), f.total);
    check_allocator(&f);
    free(held);
}

/* ---- several threads, one allocator ------------------------------------------------------- */

#define THREADS 4
#define THREAD_OPS 200000
#define MT_FRAMES 256   /* 1 MiB, one frame of it metadata */
#define THREAD_HOLD 300 /* more than all frames: each thread's random walk runs them dry */

struct mt_shared {
    struct mm_frames fa;
    struct mm_frame_pool pool;
    struct mm_frame_cache caches[THREADS];
    pthread_mutex_t mutex;
    pthread_barrier_t start;        /* the workers start together */
    uint64_t owned[MT_FRAMES / 64]; /* bit per frame: held by some thread now */
    unsigned failures;              /* double hand-outs, bad statuses */
    unsigned done;
};

struct mt_thread {
    struct mt_shared *sh;
    unsigned id;
    unsigned dry; /* allocations that found no frame */
};

static uint64_t mt_lock(void *ctx)
{
    pthread_mutex_lock(&((struct mt_shared *)ctx)->mutex);
    return 0;
}

static void mt_unlock(void *ctx, uint64_t token)
{
    (void)token;
    pthread_mutex_unlock(&((struct mt_shared *)ctx)->mutex);
}

static void mt_fail(struct mt_shared *sh)
{
    __atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
}

/* Mark frame pa as owned (false if some thread owns it already) or not owned (false if no
 * thread did). */
static bool mt_mark(struct mt_shared *sh, struct mm_paddr pa, bool own)
{
    uint64_t i = (pa.v - MiB(1)) >> MM_PAGE_SHIFT, bit = UINT64_C(1) << (i % 64), old;

    if (i >= MT_FRAMES)
        return false;
    /* Relaxed: the bitmap must not order the threads' allocator calls for ThreadSanitizer;
     * only the pool's lock may. */
    if (own)
        old = __atomic_fetch_or(&sh->owned[i / 64], bit, __ATOMIC_RELAXED);
    else
        old = __atomic_fetch_and(&sh->owned[i / 64], ~bit, __ATOMIC_RELAXED);
    return ((old & bit) != 0) != own;
}

static void mt_give(struct mt_thread *t, struct mm_frame_cache *c, struct mm_paddr pa)
{
    if (!mt_mark(t->sh, pa, false) || mm_frame_cache_free(c, pa) != MM_OK)
        mt_fail(t->sh);
}

static void *mt_worker(void *arg)
{
    struct mt_thread *t = arg;
    struct mm_frame_cache *c = mm_frame_pool_cache(&t->sh->pool, t->id);
    struct mm_paddr held[THREAD_HOLD];
    unsigned n = 0;
    uint32_t seed = 0x9e3779b9u * (t->id + 1);

    pthread_barrier_wait(&t->sh->start);
    for (unsigned op = 0; op < THREAD_OPS; op++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        if (n < THREAD_HOLD && (n == 0 || seed % 5 < 3)) {
            enum mm_status st = mm_frame_cache_alloc(c, &held[n]);

            if (st == MM_OK) {
                if (!mt_mark(t->sh, held[n], true))
                    mt_fail(t->sh);
                n++;
            } else if (st == MM_ERR_NO_FRAMES) {
                /* Memory pressure: give back half of what this thread holds and caches. */
                t->dry++;
                while (n > THREAD_HOLD / 2)
                    mt_give(t, c, held[--n]);
                if (mm_frame_cache_drain(c) != MM_OK)
                    mt_fail(t->sh);
            } else {
                mt_fail(t->sh);
            }
        } else if (n) {
            unsigned k = (seed >> 8) % n;

            mt_give(t, c, held[k]);
            held[k] = held[--n];
        }
    }
    while (n)
        mt_give(t, c, held[--n]);
    if (mm_frame_cache_drain(c) != MM_OK)
        mt_fail(t->sh);
    __atomic_fetch_add(&t->sh->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_frame_cache_threads_never_share_a_frame(void **state)
{
    (void)state;
    const struct mm_region map[] = {{0, MiB(1), MM_REGION_RESERVED},
                                    {MiB(1), MT_FRAMES * MM_PAGE_SIZE, MM_REGION_USABLE}};
    /* The caches are cache-line aligned: so must their container be. */
    struct mt_shared *sh = aligned_alloc(_Alignof(struct mt_shared), sizeof *sh);
    struct mt_thread th[THREADS];
    pthread_t tid[THREADS];
    struct mm_frame_pool_stats st;
    unsigned dry = 0, snapshots = 0;

    assert_non_null(sh);
    memset(sh, 0, sizeof *sh);
    pthread_mutex_init(&sh->mutex, NULL);
    pthread_barrier_init(&sh->start, NULL, THREADS);
    assert_int_equal(mm_frames_init(&sh->fa, map, N(map), fake_p2v, NULL), MM_OK);
    assert_int_equal(
        mm_frame_pool_init(&sh->pool, &sh->fa, sh->caches, THREADS, mt_lock, mt_unlock, sh), MM_OK);
    for (unsigned i = 0; i < THREADS; i++) {
        th[i] = (struct mt_thread){sh, i, 0};
        assert_int_equal(pthread_create(&tid[i], NULL, mt_worker, &th[i]), 0);
    }
    /* Statistics read from another thread while the caches are busy stay within bounds. */
    while (__atomic_load_n(&sh->done, __ATOMIC_ACQUIRE) < THREADS) {
        mm_frame_pool_get_stats(&sh->pool, &st);
        assert_true(st.frames.free_frames <= st.frames.total_frames);
        assert_true(st.frames.free_frames + st.in_use_frames <= st.frames.total_frames);
        snapshots++;
    }
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        dry += th[i].dry;
    }
    assert_int_equal(sh->failures, 0);
    for (unsigned i = 0; i < N(sh->owned); i++)
        assert_int_equal(sh->owned[i], 0);
    mm_frame_pool_get_stats(&sh->pool, &st);
    assert_int_equal(st.frames.free_frames, st.frames.total_frames);
    assert_int_equal(st.cached_frames, 0);
    assert_int_equal(st.in_use_frames, 0);
    assert_int_equal(st.bad_frees, 0);
    assert_true(st.hits > 0 && st.refills > 0 && st.drains > 0);
    assert_true(snapshots > 0);
    /* Allocations outnumber frees 3:2 up to THREAD_HOLD, so the allocator ran dry and the
     * pressure path (give back, drain) ran too. */
    assert_true(dry > 0);
    const char *why = NULL;
    if (mm_frames_check(&sh->fa, &why) != MM_OK)
        fail_msg("allocator invariant broken: %s", why);
    pthread_mutex_destroy(&sh->mutex);
    pthread_barrier_destroy(&sh->start);
    free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_pool_init_rejects_bad_arguments),
        cmocka_unit_test(test_frame_cache_refills_one_batch_when_empty),
        cmocka_unit_test(test_frame_cache_full_cache_gives_back_oldest_half),
        cmocka_unit_test(test_frame_cache_drain_returns_everything),
        cmocka_unit_test(test_frame_pool_stats_add_up),
        cmocka_unit_test(test_frame_cache_double_free_in_own_cache_caught_at_free),
        cmocka_unit_test(test_frame_cache_double_free_caught_at_drain),
        cmocka_unit_test(test_frame_cache_frame_of_larger_block_refused_at_drain),
        cmocka_unit_test(test_frame_cache_refuses_foreign_and_misaligned_frames),
        cmocka_unit_test(test_frame_cache_runs_dry_then_drained_frames_serve_another_cpu),
        cmocka_unit_test(test_frame_cache_threads_never_share_a_frame),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
