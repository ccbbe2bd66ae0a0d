/*
 * multi_platform.h - libasync platform hooks for several executors, each on its own host
 * thread playing a CPU.
 *
 * Each executor gets its own struct mplat: "interrupts masked" is holding its mutex (as in
 * host_platform.h), idle waits on its condition variable. The kick follows the SMP rule of
 * docs/porting-async.md in its cheap form: it signals only an executor that announced it is
 * idle. The idle hook announces first (a seq_cst store), then asks
 * async_executor_has_work(), and waits only if there is none; the kick fences, then reads
 * the announcement. So either the kick sees "idle" (and signals under the mutex the idler
 * holds until its wait begins) or the idler sees the task. The wait has no timeout when no
 * timer is armed: a lost wake hangs, it is not papered over.
 * Task memory is counted over all executors (allocs/frees), so leaks show.
 */
#ifndef MULTI_PLATFORM_H
#define MULTI_PLATFORM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "async/async.h"

struct mplat {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool sleeping;
    bool fake_clock; /* single-thread tests: now() is 0 and idle never waits */
    atomic_uint_fast64_t kicks_sent, kicks_skipped;
    struct async_executor *ex;
};

static atomic_uint_fast64_t mp_allocs, mp_frees;

static inline unsigned long mp_irq_save(void *ctx)
{
    pthread_mutex_lock(&((struct mplat *)ctx)->mu);
    return 0;
}

static inline void mp_irq_restore(void *ctx, unsigned long flags)
{
    (void)flags;
    pthread_mutex_unlock(&((struct mplat *)ctx)->mu);
}

static inline uint64_t mp_now(void *ctx)
{
    if (((struct mplat *)ctx)->fake_clock)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void mp_idle(void *ctx, uint64_t deadline)
{
    struct mplat *p = ctx;
    if (p->fake_clock)
        return;
    atomic_store(&p->sleeping, true);
    if (!async_executor_has_work(p->ex)) {
        if (deadline == UINT64_MAX) {
            pthread_cond_wait(&p->cv, &p->mu);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 1000000L; /* timers are not used across threads here: 1 ms naps */
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        }
    }
    atomic_store(&p->sleeping, false);
}

static inline void mp_kick(void *ctx)
{
    struct mplat *p = ctx;
    atomic_thread_fence(memory_order_seq_cst);
    if (!atomic_load(&p->sleeping)) {
        atomic_fetch_add_explicit(&p->kicks_skipped, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&p->kicks_sent, 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static inline void *mp_alloc(void *ctx, size_t size)
{
    (void)ctx;
    void *m = aligned_alloc(16, (size + 15u) & ~(size_t)15u);
    if (m)
        atomic_fetch_add(&mp_allocs, 1);
    return m;
}

static inline void mp_free(void *ctx, void *m, size_t size)
{
    (void)ctx;
    (void)size;
    atomic_fetch_add(&mp_frees, 1);
    free(m);
}

/* Initialise p and ex over it. */
static inline void mp_setup(struct mplat *p, struct async_executor *ex, bool fake_clock)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&p->mu, &a);
    pthread_mutexattr_destroy(&a);
    pthread_cond_init(&p->cv, NULL);
    atomic_store(&p->sleeping, false);
    p->fake_clock = fake_clock;
    atomic_store(&p->kicks_sent, 0);
    atomic_store(&p->kicks_skipped, 0);
    p->ex = ex;
    struct async_platform plat = {
        .ctx = p,
        .irq_save = mp_irq_save,
        .irq_restore = mp_irq_restore,
        .idle = mp_idle,
        .kick = mp_kick,
        .now = mp_now,
        .ticks_per_second = 1000,
        .alloc = mp_alloc,
        .free = mp_free,
    };
    if (async_executor_init(ex, &plat) != ASYNC_OK)
        abort();
}

static inline void mp_teardown(struct mplat *p)
{
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

#endif /* MULTI_PLATFORM_H */
