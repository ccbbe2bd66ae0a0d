/*
 * executor.c - tasks, task wakers, the woken-task queue and the run loop.
 *
 * The task's reference count and its "queued" bit share one atomic word (bit 0 = queued,
 * each reference = 2), so a wake decides "already queued?" and takes the queue's reference
 * in one compare-and-swap, and the executor clears the bit and drops that reference in one
 * fetch_sub before polling. Both are sequentially consistent: the executor's clear must be
 * ordered before the poll reads the state the future waits on, and a waker's set after the
 * writer made that state true, so that one of them sees the other (no lost wakeup).
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include "async/executor.h"
#include "internal.h"

#define RC_QUEUED 1u
#define RC_REF 2u

struct async_task {
    struct async_qnode node; /* first: the queue hands back nodes */
    atomic_uint_fast64_t rc;
    atomic_uint state; /* enum async_task_state */
    atomic_bool cancel_req;
    bool reclaim;       /* queued only so that the executor frees it */
    bool spawn_pending; /* queued by spawn, not by a wake */
    bool seen;          /* linked in ex->tasks */
    bool has_joiner;    /* a join future registered in `joiner` (executor context) */
    struct async_task *prev, *next;
    struct async_executor *ex;
    uint64_t id;
    const char *name;
    size_t alloc_size;
    uint64_t pass;
    intptr_t result;
    struct async_waker_cell joiner;
};

#define TASK_HDR ((sizeof(struct async_task) + 15u) & ~(size_t)15u)

static struct async_future *task_future(struct async_task *t)
{
    return (struct async_future *)((unsigned char *)t + TASK_HDR);
}

const char *async_status_str(enum async_status s)
{
    switch (s) {
    case ASYNC_OK: return "ok";
    case ASYNC_ERR_INVALID: return "invalid argument";
    case ASYNC_ERR_NOMEM: return "out of memory";
    case ASYNC_ERR_PENDING: return "pending";
    case ASYNC_ERR_CANCELLED: return "cancelled";
    case ASYNC_ERR_FULL: return "full";
    case ASYNC_ERR_EMPTY: return "empty";
    case ASYNC_ERR_CLOSED: return "closed";
    case ASYNC_ERR_TIMEDOUT: return "timed out";
    case ASYNC_STATUS_COUNT: break;
    }
    return "unknown status";
}

/* --- the MPSC queue (Vyukov's intrusive node queue) -------------------------------------- */

/* Any context. The exchange makes n the new head at once; the link from the previous head
 * follows, and until it does the consumer sees the queue as momentarily cut short. */
static void q_push(struct async_executor *ex, struct async_qnode *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    struct async_qnode *prev = atomic_exchange_explicit(&ex->q_head, n, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* Executor only. NULL when empty or when a producer is between its two steps. */
static struct async_qnode *q_pop(struct async_executor *ex)
{
    struct async_qnode *tail = ex->q_tail;
    struct async_qnode *next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (tail == &ex->q_stub) {
        if (!next)
            return NULL;
        ex->q_tail = next;
        tail = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next) {
        ex->q_tail = next;
        return tail;
    }
    if (tail != atomic_load_explicit(&ex->q_head, memory_order_acquire))
        return NULL;
    /* tail is the last node: put the stub behind it so that it can be detached */
    q_push(ex, &ex->q_stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next) {
        ex->q_tail = next;
        return tail;
    }
    return NULL;
}

static bool q_empty(const struct async_executor *ex)
{
    return !ex->carry &&
           atomic_load_explicit(&ex->q_head, memory_order_acquire) == ex->q_tail;
}

static void kick(struct async_executor *ex)
{
    if (ex->plat.kick)
        ex->plat.kick(ex->plat.ctx);
}

/* --- reference counts -------------------------------------------------------------------- */

static void task_free(struct async_task *t)
{
    struct async_executor *ex = t->ex;
    if (t->has_joiner)
        async_waker_cell_clear(&t->joiner);
    atomic_fetch_add_explicit(&ex->freed, 1, memory_order_relaxed);
    ex->plat.free(ex->plat.ctx, t, t->alloc_size);
}

/* Drop one reference, from any context: the last one queues the task for the executor to
 * free, since the free hook must not run in an interrupt handler. */
static void task_unref(struct async_task *t)
{
    uint_fast64_t old = atomic_fetch_sub_explicit(&t->rc, RC_REF, memory_order_acq_rel);
    ASYNC_ASSERT(old >= RC_REF);
    if (old == RC_REF) {
        t->reclaim = true;
        atomic_store_explicit(&t->rc, RC_QUEUED | RC_REF, memory_order_relaxed);
        q_push(t->ex, &t->node);
        kick(t->ex);
    }
}

/* Drop one reference in executor (or thread) context: free at once. */
static void task_unref_local(struct async_task *t)
{
    uint_fast64_t old = atomic_fetch_sub_explicit(&t->rc, RC_REF, memory_order_acq_rel);
    ASYNC_ASSERT(old >= RC_REF);
    if (old == RC_REF)
        task_free(t);
}

/*
 * Queue t unless it is queued already. If `transfer`, the caller's reference becomes the
 * queue's (or is dropped when not needed); otherwise the queue takes a new one.
 */
static void task_wake(struct async_task *t, bool transfer)
{
    struct async_executor *ex = t->ex;
    if (atomic_load_explicit(&t->state, memory_order_acquire) != ASYNC_TASK_RUNNING) {
        atomic_fetch_add_explicit(&ex->wakes_after_done, 1, memory_order_relaxed);
        if (transfer)
            task_unref(t);
        return;
    }
    uint_fast64_t old = atomic_load_explicit(&t->rc, memory_order_relaxed);
    for (;;) {
        if (old & RC_QUEUED) {
            atomic_fetch_add_explicit(&ex->wakes_coalesced, 1, memory_order_relaxed);
            if (transfer)
                task_unref(t);
            return;
        }
        uint_fast64_t want = old | RC_QUEUED;
        if (!transfer)
            want += RC_REF;
        if (atomic_compare_exchange_weak_explicit(&t->rc, &old, want, memory_order_seq_cst,
                                                  memory_order_relaxed))
            break;
    }
    q_push(ex, &t->node);
    kick(ex);
}

static struct async_waker tw_clone(const struct async_waker *w)
{
    struct async_task *t = w->data;
    atomic_fetch_add_explicit(&t->rc, RC_REF, memory_order_relaxed);
    return *w;
}

static void tw_wake(struct async_waker *w)
{
    task_wake(w->data, true);
}

static void tw_wake_by_ref(const struct async_waker *w)
{
    task_wake(w->data, false);
}

static void tw_drop(struct async_waker *w)
{
    task_unref(w->data);
}

static const struct async_waker_ops task_waker_ops = {
    .clone = tw_clone,
    .wake = tw_wake,
    .wake_by_ref = tw_wake_by_ref,
    .drop = tw_drop,
};

/* --- executor ---------------------------------------------------------------------------- */

enum async_status async_executor_init(struct async_executor *ex,
                                      const struct async_platform *plat)
{
    if (!ex || !plat || !plat->irq_save || !plat->irq_restore || !plat->idle || !plat->now ||
        !plat->alloc || !plat->free || plat->ticks_per_second == 0)
        return ASYNC_ERR_INVALID;
    __builtin_memset(ex, 0, sizeof(*ex));
    ex->plat = *plat;
    atomic_store_explicit(&ex->q_stub.next, NULL, memory_order_relaxed);
    atomic_store_explicit(&ex->q_head, &ex->q_stub, memory_order_relaxed);
    ex->q_tail = &ex->q_stub;
    atomic_store_explicit(&ex->stop, false, memory_order_relaxed);
    return ASYNC_OK;
}

enum async_status async_spawn(struct async_executor *ex, const struct async_future *fut,
                              size_t size, const char *name, struct async_task **out)
{
    if (out)
        *out = NULL;
    if (!ex || !fut || !fut->poll || size < sizeof(struct async_future) ||
        size > SIZE_MAX - TASK_HDR)
        return ASYNC_ERR_INVALID;
    size_t alloc_size = TASK_HDR + size;
    struct async_task *t = ex->plat.alloc(ex->plat.ctx, alloc_size);
    if (!t)
        return ASYNC_ERR_NOMEM;
    __builtin_memset(t, 0, sizeof(*t));
    __builtin_memcpy(task_future(t), fut, size);
    t->ex = ex;
    t->name = name ? name : "";
    t->alloc_size = alloc_size;
    t->spawn_pending = true;
    t->id = atomic_fetch_add_explicit(&ex->spawned, 1, memory_order_relaxed) + 1;
    async_waker_cell_init(&t->joiner);
    atomic_store_explicit(&t->state, ASYNC_TASK_RUNNING, memory_order_relaxed);
    atomic_store_explicit(&t->cancel_req, false, memory_order_relaxed);
    /* live reference + queue reference (+ the handle's) */
    atomic_store_explicit(&t->rc, RC_QUEUED | (out ? 3 * RC_REF : 2 * RC_REF),
                          memory_order_relaxed);
    if (out)
        *out = t;
    q_push(ex, &t->node);
    kick(ex);
    return ASYNC_OK;
}

/* Only the executor finishes tasks, so completed/cancelled need no atomics. */
static uint64_t live_tasks(const struct async_executor *ex)
{
    return atomic_load_explicit(&ex->spawned, memory_order_acquire) - ex->completed -
           ex->cancelled;
}

static void list_unlink(struct async_executor *ex, struct async_task *t)
{
    if (!t->seen)
        return;
    if (t->prev)
        t->prev->next = t->next;
    else
        ex->tasks = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->seen = false;
}

/* The task is finished (completed or cancelled): publish, wake the joiner, drop the
 * executor's live reference. */
static void task_finish(struct async_executor *ex, struct async_task *t,
                        enum async_task_state how)
{
    atomic_store_explicit(&t->state, how, memory_order_release);
    list_unlink(ex, t);
    if (t->has_joiner)
        async_waker_cell_wake(&t->joiner);
    task_unref_local(t);
}

/* Handle one dequeued task. Returns false if it was deferred to the next pass. */
static bool run_task(struct async_executor *ex, struct async_task *t, size_t *polled)
{
    if (t->reclaim) {
        task_free(t);
        return true;
    }
    bool running =
        atomic_load_explicit(&t->state, memory_order_acquire) == ASYNC_TASK_RUNNING;
    if (running && t->pass == ex->pass) {
        ex->carry = t;
        return false;
    }
    if (t->spawn_pending)
        t->spawn_pending = false;
    else if (running)
        ex->enqueues_seen++;
    /* Clear "queued" and drop the queue's reference at once. A running task keeps the live
     * reference, so this cannot free it. */
    uint_fast64_t old =
        atomic_fetch_sub_explicit(&t->rc, RC_QUEUED | RC_REF, memory_order_seq_cst);
    ASYNC_ASSERT((old & RC_QUEUED) && old >= (RC_QUEUED | RC_REF));
    if (!running) {
        if (old == (RC_QUEUED | RC_REF))
            task_free(t);
        return true;
    }
    if (!t->seen) {
        t->seen = true;
        t->prev = NULL;
        t->next = ex->tasks;
        if (ex->tasks)
            ex->tasks->prev = t;
        ex->tasks = t;
    }
    struct async_future *f = task_future(t);
    if (ex->shutting_down || atomic_load_explicit(&t->cancel_req, memory_order_acquire)) {
        async_future_drop(f);
        ex->cancelled++;
        task_finish(ex, t, ASYNC_TASK_CANCELLED);
        return true;
    }
    struct async_context cx = {
        .waker = {.data = t, .ops = &task_waker_ops},
        .executor = ex,
        .task = t,
    };
    t->pass = ex->pass;
    ex->polls++;
    (*polled)++;
    if (f->poll(f, &cx) == ASYNC_READY) {
        t->result = f->result;
        ex->completed++;
        task_finish(ex, t, ASYNC_TASK_COMPLETED);
    }
    return true;
}

size_t async_executor_run_once(struct async_executor *ex)
{
    size_t polled = 0;
    ex->pass++;
    if (ex->timers) /* the clock is read only when a timer could fire */
        ex->timers_fired += async_timers_fire(ex, ex->plat.now(ex->plat.ctx));
    if (ex->carry) {
        struct async_task *t = ex->carry;
        ex->carry = NULL;
        if (!run_task(ex, t, &polled))
            return polled;
    }
    struct async_qnode *n;
    while ((n = q_pop(ex)) != NULL) {
        if (!run_task(ex, (struct async_task *)n, &polled))
            break;
    }
    return polled;
}

enum async_status async_executor_run(struct async_executor *ex)
{
    for (;;) {
        if (atomic_load_explicit(&ex->stop, memory_order_acquire))
            break;
        async_executor_run_once(ex);
        if (!q_empty(ex))
            continue;
        if (live_tasks(ex) == 0)
            break;
        /* The lost-wakeup guard: with interrupts masked, nothing can queue a task (on this
         * CPU) between the re-check below and the idle hook's atomic unmask-and-wait. */
        unsigned long flags = ex->plat.irq_save(ex->plat.ctx);
        uint64_t deadline = async_timers_next(ex);
        if (q_empty(ex) && !atomic_load_explicit(&ex->stop, memory_order_acquire) &&
            deadline > ex->plat.now(ex->plat.ctx)) {
            ex->idles++;
            ex->plat.idle(ex->plat.ctx, deadline);
        }
        ex->plat.irq_restore(ex->plat.ctx, flags);
    }
    return ASYNC_OK;
}

void async_executor_stop(struct async_executor *ex)
{
    atomic_store_explicit(&ex->stop, true, memory_order_release);
    kick(ex);
}

void async_executor_clear_stop(struct async_executor *ex)
{
    atomic_store_explicit(&ex->stop, false, memory_order_release);
}

uint64_t async_executor_shutdown(struct async_executor *ex)
{
    ex->shutting_down = true;
    for (struct async_task *t = ex->tasks; t; t = t->next) {
        atomic_store_explicit(&t->cancel_req, true, memory_order_release);
        task_wake(t, false);
    }
    /* Cancelling drops futures, which may wake or free other tasks: loop until quiet. */
    while (!q_empty(ex))
        async_executor_run_once(ex);
    ex->shutting_down = false;
    return atomic_load_explicit(&ex->spawned, memory_order_acquire) -
           atomic_load_explicit(&ex->freed, memory_order_acquire);
}

void async_executor_stats(const struct async_executor *ex, struct async_stats *out)
{
    uint64_t coalesced = atomic_load_explicit(&ex->wakes_coalesced, memory_order_relaxed);
    uint64_t after = atomic_load_explicit(&ex->wakes_after_done, memory_order_relaxed);
    out->spawned = atomic_load_explicit(&ex->spawned, memory_order_relaxed);
    out->completed = ex->completed;
    out->cancelled = ex->cancelled;
    out->live = live_tasks(ex);
    out->polls = ex->polls;
    out->wakes = ex->enqueues_seen + coalesced + after;
    out->wakes_coalesced = coalesced;
    out->wakes_after_done = after;
    out->timers_fired = ex->timers_fired;
    out->idles = ex->idles;
    out->tasks_allocated = out->spawned - atomic_load_explicit(&ex->freed, memory_order_relaxed);
}

uint64_t async_now(const struct async_executor *ex)
{
    return ex->plat.now(ex->plat.ctx);
}

uint64_t async_ms_to_ticks(const struct async_executor *ex, uint64_t ms)
{
    uint64_t hz = ex->plat.ticks_per_second;
    /* split to avoid overflowing ms * hz for large ms */
    uint64_t whole = (ms / 1000u) * hz;
    uint64_t part = ((ms % 1000u) * hz + 999u) / 1000u;
    return whole + part;
}

/* --- task handles ------------------------------------------------------------------------ */

uint64_t async_task_id(const struct async_task *t)
{
    return t ? t->id : 0;
}

const char *async_task_name(const struct async_task *t)
{
    return t ? t->name : "";
}

enum async_task_state async_task_state(const struct async_task *t)
{
    return (enum async_task_state)atomic_load_explicit(&t->state, memory_order_acquire);
}

struct async_waker async_task_waker(struct async_task *t)
{
    if (!t)
        return ASYNC_WAKER_NONE;
    struct async_waker w = {.data = t, .ops = &task_waker_ops};
    return tw_clone(&w);
}

void async_task_cancel(struct async_task *t)
{
    if (!t)
        return;
    atomic_store_explicit(&t->cancel_req, true, memory_order_seq_cst);
    task_wake(t, false);
}

enum async_status async_task_try_join(const struct async_task *t, intptr_t *result)
{
    if (!t)
        return ASYNC_ERR_INVALID;
    switch (atomic_load_explicit(&t->state, memory_order_acquire)) {
    case ASYNC_TASK_COMPLETED:
        if (result)
            *result = t->result;
        return ASYNC_OK;
    case ASYNC_TASK_CANCELLED:
        return ASYNC_ERR_CANCELLED;
    default:
        return ASYNC_ERR_PENDING;
    }
}

void async_task_release(struct async_task *t)
{
    if (t)
        task_unref_local(t);
}

static enum async_poll join_poll(struct async_future *f, struct async_context *cx)
{
    struct async_join *j = (struct async_join *)f;
    struct async_task *t = j->task;
    if (!t) {
        j->status = ASYNC_ERR_INVALID;
        f->result = 0;
        return ASYNC_READY;
    }
    enum async_status st = async_task_try_join(t, &f->result);
    if (st == ASYNC_ERR_PENDING) {
        t->has_joiner = true;
        async_waker_cell_register(&t->joiner, &cx->waker);
        st = async_task_try_join(t, &f->result);
        if (st == ASYNC_ERR_PENDING)
            return ASYNC_PENDING;
    }
    /* A waker registered after completion would hold this task forever: drop it. */
    if (t->has_joiner)
        async_waker_cell_clear(&t->joiner);
    j->status = st;
    if (st != ASYNC_OK)
        f->result = 0;
    return ASYNC_READY;
}

static void join_drop(struct async_future *f)
{
    struct async_join *j = (struct async_join *)f;
    if (j->task && j->task->has_joiner)
        async_waker_cell_clear(&j->task->joiner);
}

void async_join_init(struct async_join *j, struct async_task *t)
{
    async_future_init(&j->base, join_poll, join_drop);
    j->task = t;
    j->status = ASYNC_ERR_PENDING;
}
