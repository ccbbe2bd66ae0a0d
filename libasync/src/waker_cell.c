/*
 * waker_cell.c - the waker cell: one stored waker that a consumer registers and any context
 * wakes, lock-free (see async/future.h). A file of its own so that the executor, the
 * channels and the sync primitives all depend on it, and it on nothing but wakers.
 */
#include <stdatomic.h>

#include "async/future.h"
#include "async_assert.h"

/* state: WAITING (idle), REGISTERING (the consumer is replacing the waker), WAKING (a
 * producer has claimed the waker). Whoever holds REGISTERING or WAKING alone owns the waker
 * field; a wake that finds REGISTERING only sets its bit, and the registrant, failing to go
 * back to WAITING, performs that wake itself. So no side ever waits for the other. */
#define CELL_WAITING 0u
#define CELL_REGISTERING 1u
#define CELL_WAKING 2u

void async_waker_cell_init(struct async_waker_cell *c)
{
    atomic_store_explicit(&c->state, CELL_WAITING, memory_order_relaxed);
    c->waker = ASYNC_WAKER_NONE;
}

void async_waker_cell_register(struct async_waker_cell *c, const struct async_waker *w)
{
    unsigned exp = CELL_WAITING;
    if (atomic_compare_exchange_strong_explicit(&c->state, &exp, CELL_REGISTERING,
                                                memory_order_acq_rel, memory_order_acquire)) {
        struct async_waker old = ASYNC_WAKER_NONE;
        if (!async_waker_will_wake(&c->waker, w)) {
            old = c->waker;
            c->waker = async_waker_clone(w);
        }
        exp = CELL_REGISTERING;
        if (!atomic_compare_exchange_strong_explicit(&c->state, &exp, CELL_WAITING,
                                                     memory_order_acq_rel, memory_order_acquire)) {
            /* a wake arrived while we held the cell: deliver it now */
            struct async_waker take = c->waker;
            c->waker = ASYNC_WAKER_NONE;
            atomic_store_explicit(&c->state, CELL_WAITING, memory_order_release);
            async_waker_wake(&take);
        }
        async_waker_drop(&old);
    } else if (exp & CELL_WAKING) {
        /* a producer is waking the previous waker right now; make sure this one hears it */
        async_waker_wake_by_ref(w);
    } else {
        ASYNC_ASSERT(!"async_waker_cell_register: concurrent registrants");
    }
}

void async_waker_cell_wake(struct async_waker_cell *c)
{
    unsigned prev = atomic_fetch_or_explicit(&c->state, CELL_WAKING, memory_order_acq_rel);
    if (prev == CELL_WAITING) {
        struct async_waker take = c->waker;
        c->waker = ASYNC_WAKER_NONE;
        atomic_fetch_and_explicit(&c->state, ~CELL_WAKING, memory_order_release);
        async_waker_wake(&take);
    }
}

void async_waker_cell_clear(struct async_waker_cell *c)
{
    unsigned exp = CELL_WAITING;
    if (atomic_compare_exchange_strong_explicit(&c->state, &exp, CELL_REGISTERING,
                                                memory_order_acq_rel, memory_order_acquire)) {
        struct async_waker take = c->waker;
        c->waker = ASYNC_WAKER_NONE;
        /* a wake that raced in found the cell empty-to-be: nothing to deliver */
        atomic_store_explicit(&c->state, CELL_WAITING, memory_order_release);
        async_waker_drop(&take);
    }
    /* else a producer owns the waker and will wake (and so release) it */
}
