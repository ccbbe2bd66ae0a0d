/*
 * async/sync.h - wait queues and the event (notify) primitive.
 *
 * struct async_waitq is the intrusive list of waiting futures that the channel and the event
 * are built on; it is public only so that those structs can be embedded. It does no locking.
 *
 * struct async_event: notify_one wakes one waiter, or - if nobody waits - leaves a permit
 * that the next wait consumes at once, so a notification that races ahead of the wait is not
 * lost (at most one permit is stored). notify_all wakes every current waiter and stores no
 * permit. notify_one / notify_all may be called from any context on any CPU, interrupt handlers
 * included: the event masks interrupts through the executor's irq hooks and takes a spin
 * lock of its own around its list (held for a few list steps and the wakes). Waiters are
 * tasks of the event's executor only: a wait polled by another executor finishes at once
 * with ASYNC_ERR_INVALID in base.result (its result is 0 when notified). The kick hook must
 * not take a lock that is held around calls of notify (it is called under the spin lock).
 */
#ifndef ASYNC_SYNC_H
#define ASYNC_SYNC_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>

#include "async/future.h"

struct async_waiter {
    struct async_waiter *prev, *next;
    struct async_waker waker;
    bool linked;
    bool notified;
};

struct async_waitq {
    struct async_waiter *head, *tail;
};

struct async_event {
    struct async_executor *ex;
    struct async_waitq waiters;
    bool permit;
    atomic_bool lock;
};

/* ex provides the irq hooks. */
void async_event_init(struct async_event *e, struct async_executor *ex);

/* Any context. */
void async_event_notify_one(struct async_event *e);
void async_event_notify_all(struct async_event *e);

/* A future that is READY (result 0) once notified (or at once if a permit was stored);
 * READY with result ASYNC_ERR_INVALID if polled by a task of another executor. */
struct async_event_wait {
    struct async_future base;
    struct async_event *event;
    struct async_waiter w;
    bool done;
};

void async_event_wait_init(struct async_event_wait *f, struct async_event *e);

#endif /* ASYNC_SYNC_H */
