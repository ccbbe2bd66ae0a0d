/*
 * sched_async.c - libsched threads and libasync tasks waiting for each other (sched_async.h).
 * Plain C on the two libraries' public APIs: the host tests build it with the real
 * scheduler and the real executor.
 */
#include "sched_async.h"

/* ---- the executor as a thread ------------------------------------------------------------ */

void ksa_idle_init(struct ksa_idle *w)
{
    sched_waitq_init(&w->q);
    w->kicked = false;
}

/* Evaluated with the scheduler's mask held: consumes the kick. */
static bool take_kick(void *arg)
{
    struct ksa_idle *w = arg;
    return __atomic_exchange_n(&w->kicked, false, __ATOMIC_ACQ_REL);
}

void ksa_idle(struct ksa_idle *w, uint64_t deadline_ns)
{
    /* Interrupts are masked (the executor checked its queue under the same mask): a kick
     * from an interrupt handler cannot land between that check and the sleep below, which
     * re-checks the kick flag under the mask before it queues the thread. */
    enum sched_status st = sched_wait_event(&w->q, take_kick, w, deadline_ns);
    (void)st; /* OK or TIMEDOUT: either way the executor looks again */
}

void ksa_kick(struct ksa_idle *w)
{
    __atomic_store_n(&w->kicked, true, __ATOMIC_RELEASE);
    (void)sched_waitq_wake_all(&w->q);
}

/* ---- a thread waits for a future ------------------------------------------------------------ */

/* On the waiting thread's stack. done is the wait's condition; released says the watcher
 * has stopped touching the record (the wake-up walks q): the waiter may wake - even without
 * sleeping, on another CPU - as soon as done is set, and must not return (its stack goes)
 * before released. */
struct block_wait {
    struct sched_waitq q;
    bool done, released;
    enum async_status status;
    intptr_t result;
};

/* The last store of whoever finished: nothing of the record is touched after it. */
static void release(bool *released)
{
    __atomic_store_n(released, true, __ATOMIC_RELEASE);
}

/* A waiter that saw "done" waits for that last store. Short and bounded: the finishing side
 * runs with preemption disabled from "done" to "released", so it is on a CPU (not this one)
 * the whole time. */
static void wait_released(const bool *released)
{
    while (!__atomic_load_n(released, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause(); /* x86 here and in the host tests */
}

/* The watcher task: joins the spawned task, then hands the result to the thread. It owns
 * the task's join handle. */
struct watcher {
    struct async_future base;
    struct async_join join;
    struct block_wait *w;
};

static void watcher_finish(struct watcher *wt, enum async_status st, intptr_t result)
{
    struct block_wait *w = wt->w;
    async_task_release(wt->join.task);
    wt->join.task = NULL;
    /* The waiter returns (taking w with its stack) once released is set; until then this
     * CPU is kept, so that its wait for released stays short. */
    sched_preempt_disable();
    w->status = st;
    w->result = result;
    __atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
    (void)sched_waitq_wake_all(&w->q);
    release(&w->released);
    sched_preempt_enable();
}

static enum async_poll watcher_poll(struct async_future *self, struct async_context *cx)
{
    struct watcher *wt = (struct watcher *)self;
    if (async_future_poll(&wt->join.base, cx) == ASYNC_PENDING)
        return ASYNC_PENDING;
    watcher_finish(wt, wt->join.status, wt->join.base.result);
    return ASYNC_READY;
}

/* Dropped unfinished (the executor shut down): the thread learns it was cancelled. */
static void watcher_drop(struct async_future *self)
{
    struct watcher *wt = (struct watcher *)self;
    if (!wt->join.task)
        return;
    async_future_drop(&wt->join.base);
    watcher_finish(wt, ASYNC_ERR_CANCELLED, 0);
}

static bool block_done(void *arg)
{
    struct block_wait *w = arg;
    return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

enum async_status ksa_block_on(struct async_executor *ex, const struct async_future *fut,
                               size_t size, const char *name, intptr_t *result)
{
    struct block_wait w = {.status = ASYNC_ERR_PENDING};
    sched_waitq_init(&w.q);
    struct async_task *t;
    /* libasync's queue push is two stores that must not be split by a switch to a thread that
     * runs the same executor (docs/porting-async.md): no preemption while spawning. */
    sched_preempt_disable();
    enum async_status st = async_spawn(ex, fut, size, name, &t);
    if (st != ASYNC_OK) {
        sched_preempt_enable();
        return st;
    }
    struct watcher wt;
    async_future_init(&wt.base, watcher_poll, watcher_drop);
    async_join_init(&wt.join, t);
    wt.w = &w;
    st = async_spawn(ex, &wt.base, sizeof wt, "block_on", NULL);
    if (st != ASYNC_OK) {
        async_task_cancel(t);
        async_task_release(t);
        sched_preempt_enable();
        return st;
    }
    sched_preempt_enable();
    /* Sleeps; the watcher sets done before it wakes the queue, released after. */
    while (sched_wait_event(&w.q, block_done, &w, SCHED_NO_DEADLINE) != SCHED_OK) {
    }
    wait_released(&w.released);
    if (result)
        *result = w.result;
    return w.status;
}

/* ---- tasks wait for threads ------------------------------------------------------------------ */

void ksa_event_init(struct ksa_event *ev)
{
    sched_waitq_init(&ev->threads);
    async_waker_cell_init(&ev->task);
}

void ksa_event_notify(struct ksa_event *ev)
{
    sched_preempt_disable(); /* the task's wake-up pushes on an executor's queue (above) */
    (void)sched_waitq_wake_all(&ev->threads);
    async_waker_cell_wake(&ev->task);
    sched_preempt_enable();
}

enum sched_status ksa_event_wait_thread(struct ksa_event *ev, bool (*cond)(void *), void *arg,
                                        uint64_t deadline)
{
    return sched_wait_event(&ev->threads, cond, arg, deadline);
}

static enum async_poll event_wait_poll(struct async_future *self, struct async_context *cx)
{
    struct ksa_event_wait *f = (struct ksa_event_wait *)self;
    if (f->cond(f->arg))
        return ASYNC_READY;
    /* Register before the second check: a notify after it wakes the new waker. */
    async_waker_cell_register(&f->ev->task, &cx->waker);
    if (f->cond(f->arg)) {
        async_waker_cell_clear(&f->ev->task);
        return ASYNC_READY;
    }
    return ASYNC_PENDING;
}

static void event_wait_drop(struct async_future *self)
{
    struct ksa_event_wait *f = (struct ksa_event_wait *)self;
    async_waker_cell_clear(&f->ev->task);
}

void ksa_event_wait_init(struct ksa_event_wait *f, struct ksa_event *ev, bool (*cond)(void *),
                         void *arg)
{
    async_future_init(&f->base, event_wait_poll, event_wait_drop);
    f->ev = ev;
    f->cond = cond;
    f->arg = arg;
}

static void *ksa_thread_main(void *arg)
{
    struct ksa_thread *kt = arg;
    void *value = kt->fn(kt->arg);
    /* Waiters wake on done; kt may go away once released (ksa_thread_done): kept on this CPU
     * in between, so that a waiter's wait for released stays short. */
    sched_preempt_disable();
    kt->value = value;
    __atomic_store_n(&kt->done, true, __ATOMIC_RELEASE);
    ksa_event_notify(&kt->ev);
    release(&kt->released);
    sched_preempt_enable();
    return value;
}

enum sched_status ksa_thread_spawn(struct ksa_thread *kt, const struct sched_thread_attr *attr,
                                   sched_entry_fn fn, void *arg)
{
    if (!kt || !fn)
        return SCHED_ERR_INVALID;
    kt->fn = fn;
    kt->arg = arg;
    kt->value = NULL;
    kt->done = false;
    kt->released = false;
    ksa_event_init(&kt->ev);
    struct sched_thread_attr a = attr ? *attr : (struct sched_thread_attr){0};
    a.detached = true;
    struct sched_thread *t;
    return sched_thread_create(&t, &a, ksa_thread_main, kt);
}

bool ksa_thread_done(const struct ksa_thread *kt)
{
    return __atomic_load_n(&kt->released, __ATOMIC_ACQUIRE);
}

/* The wait's condition: the value is there (the wake-up comes after it). */
static bool thread_done_cond(void *arg)
{
    const struct ksa_thread *kt = arg;
    return __atomic_load_n(&kt->done, __ATOMIC_ACQUIRE);
}

static enum async_poll thread_join_poll(struct async_future *self, struct async_context *cx)
{
    struct ksa_thread_join *f = (struct ksa_thread_join *)self;
    if (event_wait_poll(&f->wait.base, cx) == ASYNC_PENDING)
        return ASYNC_PENDING;
    self->result = (intptr_t)f->kt->value;
    wait_released(&f->kt->released); /* READY lets the owner free kt */
    return ASYNC_READY;
}

static void thread_join_drop(struct async_future *self)
{
    struct ksa_thread_join *f = (struct ksa_thread_join *)self;
    event_wait_drop(&f->wait.base);
}

void ksa_thread_join_init(struct ksa_thread_join *f, struct ksa_thread *kt)
{
    ksa_event_wait_init(&f->wait, &kt->ev, thread_done_cond, kt);
    f->wait.base.poll = thread_join_poll;
    f->wait.base.drop = thread_join_drop;
    f->kt = kt;
}
