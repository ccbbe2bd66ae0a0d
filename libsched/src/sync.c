/*
 * Wait queues and what is built on them: mutex, semaphore, condition variable; and the spin
 * locks. Waiters queue themselves and wakers dequeue them under the scheduler lock with
 * interrupts masked (sched_lock), which is what makes a wake from an interrupt handler or
 * another CPU safe and lossless.
 * Mutex and semaphore hand ownership / the unit straight to the woken waiter, so a thread
 * that arrives later cannot take it first and a woken waiter never has to retry.
 */
#include "internal.h"
#include "x86_64/context.h"

static struct sched_thread *first_waiter(const struct sched_waitq *q)
{
    if (sched_list_empty(&q->waiters))
        return NULL;
    return SCHED_CONTAINER(q->waiters.next, struct sched_thread, q_link);
}

/* ---- wait queues ---- */

void sched_waitq_init(struct sched_waitq *q)
{
    sched_list_init(&q->waiters);
}

enum sched_status sched_wait_event(struct sched_waitq *q, bool (*cond)(void *), void *arg,
                                   uint64_t deadline)
{
    enum sched_status st = SCHED_OK;
    bool en = sched_lock();
    while (!cond(arg)) {
        if (sched_block_locked(q, deadline) == SCHED_ERR_TIMEDOUT) {
            st = cond(arg) ? SCHED_OK : SCHED_ERR_TIMEDOUT;
            break;
        }
    }
    sched_unlock(en);
    return st;
}

bool sched_waitq_wake_one(struct sched_waitq *q)
{
    bool en = sched_lock();
    struct sched_thread *t = first_waiter(q);
    if (t)
        sched_wake_locked(t, SCHED_OK);
    sched_unlock(en);
    return t != NULL;
}

unsigned sched_waitq_wake_all(struct sched_waitq *q)
{
    unsigned n = 0;
    bool en = sched_lock();
    for (struct sched_thread *t; (t = first_waiter(q)) != NULL; n++)
        sched_wake_locked(t, SCHED_OK);
    sched_unlock(en);
    return n;
}

/* ---- mutex ---- */

void sched_mutex_init(struct sched_mutex *m)
{
    m->owner = NULL;
    sched_waitq_init(&m->waiters);
}

/* Hand m to its longest waiter, or leave it unlocked. */
static void mutex_release_locked(struct sched_mutex *m)
{
    struct sched_thread *t = first_waiter(&m->waiters);
    m->owner = t;
    if (t)
        sched_wake_locked(t, SCHED_OK);
}

enum sched_status sched_mutex_lock_until(struct sched_mutex *m, uint64_t deadline)
{
    struct sched_thread *cur = sched_current();
    enum sched_status st = SCHED_OK;
    bool en = sched_lock();
    if (m->owner == NULL) {
        m->owner = cur;
    } else if (m->owner == cur) {
        st = SCHED_ERR_DEADLOCK;
    } else {
        st = sched_block_locked(&m->waiters, deadline);
        SCHED_ASSERT(st != SCHED_OK || m->owner == cur);
    }
    sched_unlock(en);
    return st;
}

enum sched_status sched_mutex_lock(struct sched_mutex *m)
{
    return sched_mutex_lock_until(m, SCHED_NO_DEADLINE);
}

enum sched_status sched_mutex_trylock(struct sched_mutex *m)
{
    struct sched_thread *cur = sched_current();
    enum sched_status st = SCHED_OK;
    bool en = sched_lock();
    if (m->owner == NULL)
        m->owner = cur;
    else
        st = m->owner == cur ? SCHED_ERR_DEADLOCK : SCHED_ERR_BUSY;
    sched_unlock(en);
    return st;
}

enum sched_status sched_mutex_unlock(struct sched_mutex *m)
{
    bool en = sched_lock();
    if (m->owner != sched_current()) {
        sched_unlock(en);
        return SCHED_ERR_NOT_OWNER;
    }
    mutex_release_locked(m);
    sched_unlock(en);
    return SCHED_OK;
}

struct sched_thread *sched_mutex_owner(const struct sched_mutex *m)
{
    return __atomic_load_n(&m->owner, __ATOMIC_RELAXED);
}

/* ---- semaphore ---- */

void sched_sem_init(struct sched_sem *s, unsigned long count)
{
    s->count = count;
    sched_waitq_init(&s->waiters);
}

enum sched_status sched_sem_down_until(struct sched_sem *s, uint64_t deadline)
{
    enum sched_status st = SCHED_OK;
    bool en = sched_lock();
    if (s->count > 0)
        s->count--;
    else
        st = sched_block_locked(&s->waiters, deadline); /* OK: sem_up handed us its unit */
    sched_unlock(en);
    return st;
}

enum sched_status sched_sem_down(struct sched_sem *s)
{
    return sched_sem_down_until(s, SCHED_NO_DEADLINE);
}

enum sched_status sched_sem_trydown(struct sched_sem *s)
{
    enum sched_status st = SCHED_ERR_BUSY;
    bool en = sched_lock();
    if (s->count > 0) {
        s->count--;
        st = SCHED_OK;
    }
    sched_unlock(en);
    return st;
}

void sched_sem_up(struct sched_sem *s)
{
    bool en = sched_lock();
    struct sched_thread *t = first_waiter(&s->waiters);
    if (t)
        sched_wake_locked(t, SCHED_OK);
    else
        s->count++;
    sched_unlock(en);
}

unsigned long sched_sem_count(const struct sched_sem *s)
{
    return __atomic_load_n(&s->count, __ATOMIC_RELAXED);
}

/* ---- condition variable ---- */

void sched_cond_init(struct sched_cond *c)
{
    sched_waitq_init(&c->waiters);
}

enum sched_status sched_cond_wait_until(struct sched_cond *c, struct sched_mutex *m,
                                        uint64_t deadline)
{
    struct sched_thread *cur = sched_current();
    bool en = sched_lock();
    if (m->owner != cur) {
        sched_unlock(en);
        return SCHED_ERR_NOT_OWNER;
    }
    enum sched_status st = SCHED_ERR_TIMEDOUT;
    /* Queued on c before m is released: a signal sent by the next owner of m finds us. */
    if (sched_enqueue_wait_locked(&c->waiters, deadline)) {
        mutex_release_locked(m);
        sched_schedule_locked();
        st = cur->wait_status;
        if (m->owner == NULL)
            m->owner = cur;
        else if (sched_block_locked(&m->waiters, SCHED_NO_DEADLINE) != SCHED_OK)
            SCHED_ASSERT(!"untimed mutex wait timed out");
        SCHED_ASSERT(m->owner == cur);
    }
    sched_unlock(en);
    return st;
}

enum sched_status sched_cond_wait(struct sched_cond *c, struct sched_mutex *m)
{
    return sched_cond_wait_until(c, m, SCHED_NO_DEADLINE);
}

void sched_cond_signal(struct sched_cond *c)
{
    (void)sched_waitq_wake_one(&c->waiters);
}

void sched_cond_broadcast(struct sched_cond *c)
{
    (void)sched_waitq_wake_all(&c->waiters);
}

/* ---- spin locks ---- */

void sched_spin_init(struct sched_spinlock *l)
{
    l->locked = 0;
    l->owner = NULL;
}

static bool spin_try(struct sched_spinlock *l)
{
    return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

void sched_spin_lock(struct sched_spinlock *l)
{
    sched_preempt_disable();
    /* Only the owner ever stores itself here, so this read cannot be fooled by a race. */
    SCHED_ASSERT(__atomic_load_n(&l->owner, __ATOMIC_RELAXED) != sched_current());
    while (!spin_try(l)) {
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            sched_arch_relax();
    }
    __atomic_store_n(&l->owner, sched_current(), __ATOMIC_RELAXED);
}

bool sched_spin_trylock(struct sched_spinlock *l)
{
    sched_preempt_disable();
    if (!spin_try(l)) {
        sched_preempt_enable();
        return false;
    }
    __atomic_store_n(&l->owner, sched_current(), __ATOMIC_RELAXED);
    return true;
}

void sched_spin_unlock(struct sched_spinlock *l)
{
    SCHED_ASSERT(l->locked && l->owner == sched_current());
    __atomic_store_n(&l->owner, NULL, __ATOMIC_RELAXED);
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    sched_preempt_enable();
}

bool sched_spin_lock_irqsave(struct sched_spinlock *l)
{
    bool en = sched_irq_save(); /* the calling CPU's mask only, not the scheduler lock */
    sched_spin_lock(l);
    return en;
}

void sched_spin_unlock_irqrestore(struct sched_spinlock *l, bool enabled)
{
    SCHED_ASSERT(l->locked && l->owner == sched_current());
    __atomic_store_n(&l->owner, NULL, __ATOMIC_RELAXED);
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    /* Interrupts first, so that the preempt_enable below can run a deferred reschedule. */
    sched_irq_restore(enabled);
    sched_preempt_enable();
}
