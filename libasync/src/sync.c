/*
 * sync.c - intrusive wait queues and the event primitive.
 */
#include <stdbool.h>
#include <stddef.h>

#include "async/executor.h"
#include "async/sync.h"
#include "internal.h"

/* --- wait queues ------------------------------------------------------------------------- */

void async_waiter_init(struct async_waiter *w)
{
    w->prev = w->next = NULL;
    w->waker = ASYNC_WAKER_NONE;
    w->linked = false;
    w->notified = false;
}

void async_waitq_push(struct async_waitq *q, struct async_waiter *w)
{
    ASYNC_ASSERT(!w->linked);
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->linked = true;
}

void async_waitq_remove(struct async_waitq *q, struct async_waiter *w)
{
    if (!w->linked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
    w->linked = false;
}

bool async_waitq_notify_one(struct async_waitq *q, struct async_executor *ex)
{
    for (struct async_waiter *w = q->head; w; w = w->next) {
        if (!w->notified) {
            w->notified = true;
            async_waker_wake_by_ref_in(ex, &w->waker);
            return true;
        }
    }
    return false;
}

void async_waitq_notify_all(struct async_waitq *q, struct async_executor *ex)
{
    for (struct async_waiter *w = q->head; w; w = w->next) {
        w->notified = true;
        async_waker_wake_by_ref_in(ex, &w->waker);
    }
}

bool async_waitq_abandon(struct async_waitq *q, struct async_waiter *w)
{
    bool had = w->linked && w->notified;
    async_waitq_remove(q, w);
    w->notified = false;
    async_waker_drop(&w->waker);
    if (had)
        return !async_waitq_notify_one(q, NULL);
    return false;
}

/* --- event ------------------------------------------------------------------------------- */

void async_event_init(struct async_event *e, struct async_executor *ex)
{
    e->ex = ex;
    e->waiters.head = e->waiters.tail = NULL;
    e->permit = false;
    atomic_store_explicit(&e->lock, false, memory_order_relaxed);
}

/* Mask interrupts on this CPU (an interrupt handler here may notify), then exclude the other
 * CPUs. */
static unsigned long event_lock(struct async_event *e)
{
    unsigned long fl = e->ex->plat.irq_save(e->ex->plat.ctx);
    while (atomic_exchange_explicit(&e->lock, true, memory_order_acquire)) {
        while (atomic_load_explicit(&e->lock, memory_order_relaxed)) {
        }
    }
    return fl;
}

static void event_unlock(struct async_event *e, unsigned long fl)
{
    atomic_store_explicit(&e->lock, false, memory_order_release);
    e->ex->plat.irq_restore(e->ex->plat.ctx, fl);
}

void async_event_notify_one(struct async_event *e)
{
    unsigned long fl = event_lock(e);
    if (!async_waitq_notify_one(&e->waiters, NULL))
        e->permit = true;
    event_unlock(e, fl);
}

void async_event_notify_all(struct async_event *e)
{
    unsigned long fl = event_lock(e);
    async_waitq_notify_all(&e->waiters, NULL);
    event_unlock(e, fl);
}

static enum async_poll event_wait_poll(struct async_future *f, struct async_context *cx)
{
    struct async_event_wait *ew = (struct async_event_wait *)f;
    struct async_event *e = ew->event;
    if (ew->done)
        return ASYNC_READY;
    if (cx->executor != e->ex) {
        f->result = ASYNC_ERR_INVALID;
        ew->done = true;
        return ASYNC_READY;
    }
    struct async_waker stale = ASYNC_WAKER_NONE;
    unsigned long fl = event_lock(e);
    if (ew->w.notified || (!ew->w.linked && e->permit)) {
        if (!ew->w.linked)
            e->permit = false;
        async_waitq_remove(&e->waiters, &ew->w);
        ew->w.notified = false;
        stale = ew->w.waker;
        ew->w.waker = ASYNC_WAKER_NONE;
        ew->done = true;
    } else {
        /* Cloning a task waker is one atomic add, so it is fine under the mask; dropping
         * the old one is done after, in case it was the last reference. */
        if (!async_waker_will_wake(&ew->w.waker, &cx->waker)) {
            stale = ew->w.waker;
            ew->w.waker = async_waker_clone(&cx->waker);
        }
        if (!ew->w.linked)
            async_waitq_push(&e->waiters, &ew->w);
    }
    event_unlock(e, fl);
    async_waker_drop(&stale);
    return ew->done ? ASYNC_READY : ASYNC_PENDING;
}

static void event_wait_drop(struct async_future *f)
{
    struct async_event_wait *ew = (struct async_event_wait *)f;
    struct async_event *e = ew->event;
    unsigned long fl = event_lock(e);
    struct async_waker stale = ew->w.waker;
    ew->w.waker = ASYNC_WAKER_NONE;
    bool had = ew->w.linked && ew->w.notified;
    async_waitq_remove(&e->waiters, &ew->w);
    ew->w.notified = false;
    /* a notification given to us and not used goes to the next waiter, or back as a permit */
    if (had && !async_waitq_notify_one(&e->waiters, NULL))
        e->permit = true;
    event_unlock(e, fl);
    async_waker_drop(&stale);
}

void async_event_wait_init(struct async_event_wait *f, struct async_event *e)
{
    async_future_init(&f->base, event_wait_poll, event_wait_drop);
    f->event = e;
    async_waiter_init(&f->w);
    f->done = false;
}
