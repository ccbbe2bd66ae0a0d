/*
 * Private to libasync: what the source files share without making it API.
 */
#ifndef ASYNC_INTERNAL_H
#define ASYNC_INTERNAL_H

#include <stdint.h>

#include "async/executor.h"
#include "async/sync.h"
#include "async/timer.h"
#include "async_assert.h"

/*
 * executor.c: wake w on behalf of executor ex, from ex's executor context only (inside a poll
 * that ex runs - cx->executor - or in ex's timer pass; never from an interrupt handler or
 * another thread). A task waker of a task of ex then goes on ex's ready list without any
 * atomic; any other waker (or ex == NULL: context unknown) is woken the ordinary way.
 * _in consumes w like async_waker_wake, _by_ref_in keeps it.
 */
void async_waker_wake_in(struct async_executor *ex, struct async_waker *w);
void async_waker_wake_by_ref_in(struct async_executor *ex, const struct async_waker *w);

/* timer.c: take the earliest timer off ex's heap and mark it fired if its deadline is <= now,
 * else NULL. The caller (the executor's pass) wakes its waker: timer.c calls nothing of
 * executor.c. */
struct async_timer *async_timers_pop_due(struct async_executor *ex, uint64_t now);
/* timer.c: deadline of the earliest armed timer, UINT64_MAX if none. */
uint64_t async_timers_next(const struct async_executor *ex);

/* sync.c: intrusive waiter lists (no locking; callers serialise). */
void async_waitq_push(struct async_waitq *q, struct async_waiter *w);
void async_waitq_remove(struct async_waitq *q, struct async_waiter *w);
/* Wake the first waiter not yet notified and mark it notified. Returns false if none.
 * ex as for async_waker_wake_by_ref_in (NULL: any context). */
bool async_waitq_notify_one(struct async_waitq *q, struct async_executor *ex);
/* Wake and mark every waiter. ex as for async_waker_wake_by_ref_in (NULL: any context). */
void async_waitq_notify_all(struct async_waitq *q, struct async_executor *ex);
/* A waiter's future gives up (drop): unlink it, and if it had been notified but had not
 * consumed the notification, pass the notification on to the next waiter. Returns true if
 * it had been notified and nobody took the notification over. */
bool async_waitq_abandon(struct async_waitq *q, struct async_waiter *w);
/* Initialise a waiter (unlinked, no waker). */
void async_waiter_init(struct async_waiter *w);

#endif /* ASYNC_INTERNAL_H */
