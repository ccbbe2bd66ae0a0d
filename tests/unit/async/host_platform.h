/*
 * host_platform.h - the libasync platform hooks for host tests.
 *
 * "Interrupts masked" is modelled by holding a recursive mutex: an "interrupt handler" is
 * code (another thread) that runs while holding the same mutex, so it can never run inside a
 * masked section - just like a real IRQ. idle() waits on a condition variable with that mutex,
 * which releases it and sleeps atomically (the `sti; hlt` of the host). In fake-clock mode
 * (the default, single-threaded tests) idle() instead jumps the clock to the next deadline,
 * and records an error if there is none (a real kernel would sleep forever).
 */
#ifndef HOST_PLATFORM_H
#define HOST_PLATFORM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "async/async.h"

struct host_plat {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool real_clock;       /* stress mode: now() = ms since start, idle waits on cv */
    struct timespec start;
    atomic_uint_fast64_t fake_now;
    atomic_uint_fast64_t allocs, frees, idles, kicks;
    atomic_int fail_allocs; /* > 0: that many allocations fail */
    uint64_t last_deadline;
    bool idle_forever;      /* fake mode: idle with no deadline (would hang) */
    struct async_executor *ex;
};

static struct host_plat hp;

static inline unsigned long hp_irq_save(void *ctx)
{
    struct host_plat *p = ctx;
    pthread_mutex_lock(&p->mu);
    return 0;
}

static inline void hp_irq_restore(void *ctx, unsigned long flags)
{
    struct host_plat *p = ctx;
    (void)flags;
    pthread_mutex_unlock(&p->mu);
}

static inline uint64_t hp_now(void *ctx)
{
    struct host_plat *p = ctx;
    if (p->real_clock) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)(ts.tv_sec - p->start.tv_sec) * 1000u +
               (uint64_t)((ts.tv_nsec - p->start.tv_nsec) / 1000000);
    }
    return atomic_load(&p->fake_now);
}

static inline void hp_idle(void *ctx, uint64_t deadline)
{
    struct host_plat *p = ctx;
    atomic_fetch_add(&p->idles, 1);
    p->last_deadline = deadline;
    if (p->real_clock) {
        if (deadline == UINT64_MAX) {
            pthread_cond_wait(&p->cv, &p->mu);
        } else {
            uint64_t now = hp_now(p);
            uint64_t ms = deadline > now ? deadline - now : 0;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)(ms / 1000u);
            ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        }
        return;
    }
    if (deadline == UINT64_MAX) {
        p->idle_forever = true;
        async_executor_stop(p->ex);
        return;
    }
    atomic_store(&p->fake_now, deadline);
}

static inline void hp_kick(void *ctx)
{
    struct host_plat *p = ctx;
    atomic_fetch_add(&p->kicks, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static inline void *hp_alloc(void *ctx, size_t size)
{
    struct host_plat *p = ctx;
    if (atomic_load(&p->fail_allocs) > 0) {
        atomic_fetch_sub(&p->fail_allocs, 1);
        return NULL;
    }
    void *m = aligned_alloc(16, (size + 15u) & ~(size_t)15u);
    if (m)
        atomic_fetch_add(&p->allocs, 1);
    return m;
}

static inline void hp_free(void *ctx, void *m, size_t size)
{
    struct host_plat *p = ctx;
    (void)size;
    atomic_fetch_add(&p->frees, 1);
    free(m);
}

/* Reset hp and initialise ex over it. */
static inline void hp_setup(struct async_executor *ex, bool real_clock)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&hp.mu, &a);
    pthread_mutexattr_destroy(&a);
    pthread_cond_init(&hp.cv, NULL);
    hp.real_clock = real_clock;
    clock_gettime(CLOCK_MONOTONIC, &hp.start);
    atomic_store(&hp.fake_now, 0);
    atomic_store(&hp.allocs, 0);
    atomic_store(&hp.frees, 0);
    atomic_store(&hp.idles, 0);
    atomic_store(&hp.kicks, 0);
    atomic_store(&hp.fail_allocs, 0);
    hp.last_deadline = 0;
    hp.idle_forever = false;
    hp.ex = ex;
    struct async_platform plat = {
        .ctx = &hp,
        .irq_save = hp_irq_save,
        .irq_restore = hp_irq_restore,
        .idle = hp_idle,
        .kick = hp_kick,
        .now = hp_now,
        .ticks_per_second = 1000,
        .alloc = hp_alloc,
        .free = hp_free,
    };
    if (async_executor_init(ex, &plat) != ASYNC_OK)
        abort();
}

static inline void hp_teardown(void)
{
    pthread_cond_destroy(&hp.cv);
    pthread_mutex_destroy(&hp.mu);
}

static inline void hp_set_now(uint64_t t)
{
    atomic_store(&hp.fake_now, t);
}

#endif /* HOST_PLATFORM_H */
