/*
 * sched/sync.h - what threads block on: wait queues, mutexes, semaphores, condition
 * variables; and the spin locks that keep the CPU (preemption off) instead of blocking.
 *
 * All blocking functions need thread context and take an absolute deadline on the platform
 * clock (SCHED_NO_DEADLINE: wait forever); they return SCHED_ERR_TIMEDOUT when it passes
 * first. Every wake function may also be called from an interrupt handler or another CPU: a
 * waiter checks its condition and queues itself under the scheduler's lock (interrupts
 * masked), and a waker changes the condition before it takes that same lock to wake, so no
 * wakeup is lost. Wakes are FIFO.
 *
 * The structs are public only so they can be embedded; touch them through the functions.
 */
#ifndef SCHED_SYNC_H
#define SCHED_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/platform.h"

struct sched_list {
    struct sched_list *prev, *next;
};

struct sched_waitq {
    struct sched_list waiters;
};

struct sched_mutex {
    struct sched_thread *owner;
    struct sched_waitq waiters;
};

struct sched_sem {
    unsigned long count;
    struct sched_waitq waiters;
};

struct sched_cond {
    struct sched_waitq waiters;
};

struct sched_spinlock {
    int locked;
    struct sched_thread *owner;
};

/* ---- wait queues ---------------------------------------------------------------------- */

void sched_waitq_init(struct sched_waitq *q);

/* Block until cond(arg) is true. cond is evaluated with interrupts masked (keep it short; it
 * must not block) before each sleep and after each wake. OK once it holds; TIMEDOUT if the
 * deadline passed with it still false. Thread context. */
SCHED_MUST_CHECK enum sched_status sched_wait_event(struct sched_waitq *q, bool (*cond)(void *),
                                                    void *arg, uint64_t deadline);

/* Wake the longest waiter; false if nobody waits. Any context, interrupt handlers included. */
bool sched_waitq_wake_one(struct sched_waitq *q);
/* Wake every waiter; returns how many. Any context. */
unsigned sched_waitq_wake_all(struct sched_waitq *q);

/* ---- mutex: sleeping, owned, handed directly to the longest waiter on unlock ---------- */

void sched_mutex_init(struct sched_mutex *m);
/* DEADLOCK if the caller already owns m (nothing changes). Thread context. */
SCHED_MUST_CHECK enum sched_status sched_mutex_lock(struct sched_mutex *m);
/* As lock, or TIMEDOUT when deadline passes first. */
SCHED_MUST_CHECK enum sched_status sched_mutex_lock_until(struct sched_mutex *m, uint64_t deadline);
/* OK, BUSY if someone else owns it, DEADLOCK if the caller does. Thread context. */
SCHED_MUST_CHECK enum sched_status sched_mutex_trylock(struct sched_mutex *m);
/* NOT_OWNER if the caller does not own m (nothing changes). Thread context. */
SCHED_MUST_CHECK enum sched_status sched_mutex_unlock(struct sched_mutex *m);
/* The owner, NULL if unlocked. Any context. */
struct sched_thread *sched_mutex_owner(const struct sched_mutex *m);

/* ---- counting semaphore: up hands its unit straight to the longest waiter ------------- */

void sched_sem_init(struct sched_sem *s, unsigned long count);
/* Take one unit, waiting for it. Thread context. */
SCHED_MUST_CHECK enum sched_status sched_sem_down(struct sched_sem *s);
SCHED_MUST_CHECK enum sched_status sched_sem_down_until(struct sched_sem *s, uint64_t deadline);
/* OK or BUSY (no unit). Any context. */
SCHED_MUST_CHECK enum sched_status sched_sem_trydown(struct sched_sem *s);
/* Give one unit. Any context, interrupt handlers included. */
void sched_sem_up(struct sched_sem *s);
/* Units available now. Any context. */
unsigned long sched_sem_count(const struct sched_sem *s);

/* ---- condition variable ---------------------------------------------------------------- */

void sched_cond_init(struct sched_cond *c);
/* Release m and wait for a signal as one step (a signal sent after this call released m is
 * never missed), then own m again before returning - also on TIMEDOUT. NOT_OWNER if the
 * caller does not own m. Wakeups may be spurious: re-check the predicate. Thread context. */
SCHED_MUST_CHECK enum sched_status sched_cond_wait(struct sched_cond *c, struct sched_mutex *m);
SCHED_MUST_CHECK enum sched_status sched_cond_wait_until(struct sched_cond *c,
                                                         struct sched_mutex *m, uint64_t deadline);
/* Wake one / every waiter. The caller usually owns the mutex, but need not. Any context. */
void sched_cond_signal(struct sched_cond *c);
void sched_cond_broadcast(struct sched_cond *c);

/* ---- spin locks: preemption is off while held, so a holder is never switched away -------
 * For data also touched by interrupt handlers use the _irqsave pair. Never block or sleep
 * while holding one. Taking a lock the caller already holds is a broken invariant (trap). */

void sched_spin_init(struct sched_spinlock *l);
void sched_spin_lock(struct sched_spinlock *l);
/* true if taken (preemption now off), false if held elsewhere (nothing changed). */
bool sched_spin_trylock(struct sched_spinlock *l);
void sched_spin_unlock(struct sched_spinlock *l);
/* Mask interrupts, then lock; returns whether interrupts were enabled before. */
bool sched_spin_lock_irqsave(struct sched_spinlock *l);
void sched_spin_unlock_irqrestore(struct sched_spinlock *l, bool enabled);

#endif /* SCHED_SYNC_H */
