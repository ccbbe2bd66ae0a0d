/*
 * async/timer.h - sleeps and timeouts driven by the tick hook.
 *
 * Each executor keeps its armed timers in a pairing heap (intrusive, no allocation): arming is
 * O(1), and firing the earliest or cancelling any timer is O(log n) amortised. Equal deadlines
 * fire in the order they were armed. At every pass the executor fires the timers whose
 * deadline is <= now() (never earlier) and hands the next deadline to the idle hook.
 * All of this runs in executor context; timers need no locking. A sleep belongs to the
 * executor of its first poll (its heap): poll and drop it only there (debug builds trap).
 */
#ifndef ASYNC_TIMER_H
#define ASYNC_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "async/future.h"

/* One armed deadline. Private fields. */
struct async_timer {
    uint64_t deadline;
    uint64_t seq;
    struct async_timer *child, *sibling, *prev;
    struct async_executor *ex;
    struct async_waker waker;
    bool armed;
    bool fired;
};

/* A future that becomes READY (result 0) once `ticks` ticks have passed since its first
 * poll - or, for async_sleep_until_init, once now() >= deadline. */
struct async_sleep {
    struct async_future base;
    struct async_timer timer;
    uint64_t ticks;
    bool absolute;
    bool started;
};

/* Executor-context or before first poll; re-initialising a sleep that is armed is a bug:
 * drop it first. */
void async_sleep_init(struct async_sleep *s, uint64_t ticks);
void async_sleep_until_init(struct async_sleep *s, uint64_t deadline);

/* A future that polls `inner` until it is READY (result = inner's result, status ASYNC_OK)
 * or until `ticks` ticks passed since the first poll (inner is dropped, result 0, status
 * ASYNC_ERR_TIMEDOUT). Inner is polled first, so a future ready at the deadline wins. */
struct async_timeout {
    struct async_future base;
    struct async_future *inner;
    struct async_sleep sleep;
    enum async_status status;
    bool done;
};

void async_timeout_init(struct async_timeout *t, struct async_future *inner, uint64_t ticks);

#endif /* ASYNC_TIMER_H */
