/*
 * executor.c - tasks, task wakers, the woken-task queues and the run loop.
 *
 * The task's reference count and its "queued" bit share one atomic word (bit 0 = queued,
 * each reference = 2), so a wake from an unknown context decides "already queued?" and takes
 * the queue's reference in one compare-and-swap, and the executor clears the bit and drops
 * that reference in one fetch_sub before polling (a plain store when the executor's own
 * references are the only ones: then nobody can wake the task). Both are sequentially
 * consistent: the
 * executor's clear must be ordered before the poll reads the state the future waits on, and a
 * waker's set after the writer made that state true, so that one of them sees the other (no
 * lost wakeup). Invariant: "queued" is set exactly while the task sits in the shared queue
 * (or is on its way in), and the queue owns one reference for it.
 *
 * Wakes that the executor issues itself - a task waking itself through the borrowed waker of
 * its poll, a channel inside a poll handing over to another task of this executor, a timer
 * firing - go on the executor-only ready lists instead: no reference, no atomic. Invariant:
 * `local_queued` is set exactly while the task is linked in one of them, and only live
 * (running) tasks are linked (finishing unlinks). Such a wake never touches "queued", so it
 * cannot hide a wake from another context, and it needs no ordering: it runs on the thread
 * that will poll. A task can be in the shared queue and on a ready list at once (a wake from
 * each side); whichever entry is reached first polls it and the other is discarded, so every
 * wake is followed by a poll and no wake makes two.
 *
 * run() shortcut: a task that woke itself while nothing else is runnable would be the whole
 * next pass, so run() starts that pass at once and polls the task without linking it
 * anywhere (requeue_self). The checks between two such polls are the ones a pass boundary
 * makes - ready lists, a deferred shared-queue head, the shared queue, armed timers, the stop
 * flag - so fairness, timers and stop behave exactly as with separate passes.
 */
#include <limits.h>
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
    atomic_uchar state; /* enum async_task_state; written by the executor only */
    atomic_bool cancel_req;
    bool reclaim;           /* queued only so that the executor frees it */
    bool spawn_pending;     /* queued by spawn, not by a wake */
    bool seen;              /* linked in ex->tasks */
    atomic_bool has_joiner; /* a join future registered in `joiner` (any executor's) */
    bool local_queued;      /* linked in one of ex->ready[] */
    /* low bits of the pass of its last poll: a wrap only defers a task by one pass, and the
     * header stays at 128 bytes */
    uint32_t pass;
    /* 0 while no poll of this task runs; during one, 1 + the wakes through its borrowed
     * waker so far (saturating). Relaxed atomics: only the polling thread may use the
     * borrowed waker, but one kept against the rules must not be a data race. */
    atomic_uint in_poll;
    struct async_lnode lnode;
    struct async_task *prev, *next;
    struct async_executor *ex;
    uint64_t id;
    const char *name;
    size_t alloc_size;
    intptr_t result;
    struct async_waker_cell joiner;
};

#define TASK_HDR ((sizeof(struct async_task) + 15u) & ~(size_t)15u)
_Static_assert(sizeof(struct async_task) <= 128, "task header grew past 128 bytes");

static struct async_future *task_future(struct async_task *t)
{
    return (struct async_future *)((unsigned char *)t + TASK_HDR);
}

static struct async_task *lnode_task(struct async_lnode *n)
{
    return (struct async_task *)((unsigned char *)n - offsetof(struct async_task, lnode));
}

/* The executor's counters: written by its thread only, read from anywhere. */
static inline void stat_add(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t stat_get(const atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

const char *async_status_str(enum async_status s)
{
    switch (s) {
    case ASYNC_OK:
        return "ok";
    case ASYNC_ERR_INVALID:
        return "invalid argument";
    case ASYNC_ERR_NOMEM:
        return "out of memory";
    case ASYNC_ERR_PENDING:
        return "pending";
    case ASYNC_ERR_CANCELLED:
        return "cancelled";
    case ASYNC_ERR_FULL:
        return "full";
    case ASYNC_ERR_EMPTY:
        return "empty";
    case ASYNC_ERR_CLOSED:
        return "closed";
    case ASYNC_ERR_TIMEDOUT:
        return "timed out";
    case ASYNC_STATUS_COUNT:
        break;
    }
    return "unknown status";
}

/* --- the shared queue (Vyukov's intrusive MPSC node queue) -------------------------------- */

/* Any context. The exchange makes n the new head at once; the link from the previous head
 * follows, and until it does the consumer sees the queue as momentarily cut short. */
static void q_push(struct async_executor *ex, struct async_qnode *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    struct async_qnode *prev = atomic_exchange_explicit(&ex->q_head, n, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* Executor only. NULL when empty or when a producer is between its two steps. The stub is
 * pushed back only when the last node is taken, so a burst of wakes costs one stub push. */
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

/* Executor only. The oldest queued node without consuming it (a task deferred to the next
 * pass stays here, ahead of the queue). NULL when nothing is queued. */
static struct async_qnode *q_peek(struct async_executor *ex)
{
    if (!ex->carry)
        ex->carry = (struct async_task *)q_pop(ex);
    return (struct async_qnode *)ex->carry;
}

static void q_drop_head(struct async_executor *ex)
{
    ex->carry = NULL;
}

/* --- the executor-only ready lists ------------------------------------------------------ */

static void l_init(struct async_lnode *s)
{
    s->prev = s->next = s;
}

static bool l_empty(const struct async_lnode *s)
{
    return s->next == s;
}

/* The store to last->next sits between the two stores to n on purpose: written together,
 * compilers merge them into one 16-byte store, and a CPU cannot forward half of that to the
 * 8-byte loads of the unlink that soon follows (a store-to-load stall on every yield). */
static void l_append(struct async_lnode *s, struct async_lnode *n)
{
    struct async_lnode *last = s->prev;
    n->prev = last;
    last->next = n;
    n->next = s;
    s->prev = n;
}

static void l_unlink(struct async_lnode *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
}

/* Executor only. Nothing in the shared queue (carry aside). Both ends must be the stub: the
 * stub goes back in only when the last node is taken, so within a pass q_tail can be the
 * one node still queued, with q_head pointing at it too. A producer between its exchange
 * and its link already moved q_head, so it is never missed. */
static bool q_shared_empty(const struct async_executor *ex, memory_order mo)
{
    return ex->q_tail == &ex->q_stub && atomic_load_explicit(&ex->q_head, mo) == &ex->q_stub;
}

static bool q_empty(const struct async_executor *ex)
{
    return !ex->carry && l_empty(&ex->ready[0]) && l_empty(&ex->ready[1]) &&
           q_shared_empty(ex, memory_order_acquire);
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
    ASYNC_ASSERT(!t->local_queued);
    if (atomic_load_explicit(&t->has_joiner, memory_order_relaxed))
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
        /* once pushed, the executor (on another CPU) may free t at any moment */
        struct async_executor *ex = t->ex;
        t->reclaim = true;
        atomic_store_explicit(&t->rc, RC_QUEUED | RC_REF, memory_order_relaxed);
        q_push(ex, &t->node);
        kick(ex);
    }
}

/* Drop one reference in executor (or thread) context: free at once. When the caller's is the
 * only reference left nobody else can reach the task to take a new one (that needs a
 * reference), so the acquiring load is the whole decrement. */
static void task_unref_local(struct async_task *t)
{
    if (atomic_load_explicit(&t->rc, memory_order_acquire) == RC_REF) {
        task_free(t);
        return;
    }
    uint_fast64_t old = atomic_fetch_sub_explicit(&t->rc, RC_REF, memory_order_acq_rel);
    ASYNC_ASSERT(old >= RC_REF);
    if (old == RC_REF)
        task_free(t);
}

/*
 * Queue t on the shared queue unless it is queued already. Any context. If `transfer`, the
 * caller's reference becomes the queue's (or is dropped when not needed); otherwise the
 * queue takes a new one.
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
    uint_fast64_t old = atomic_load_explicit(&t->rc, memory_order_seq_cst);
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
                                                  memory_order_seq_cst))
            break;
    }
    q_push(ex, &t->node);
    kick(ex);
}

/*
 * Put t on the executor's ready list unless it is there already. Executor context of t->ex
 * only (its own thread, not an interrupt handler): the lists are not shared. A task already
 * polled in this pass, or woken between passes, goes to the next pass's list, so a task that
 * keeps waking itself cannot starve the others or the caller of run_once.
 */
static void task_wake_local(struct async_executor *ex, struct async_task *t)
{
    if (atomic_load_explicit(&t->state, memory_order_relaxed) != ASYNC_TASK_RUNNING) {
        atomic_fetch_add_explicit(&ex->wakes_after_done, 1, memory_order_relaxed);
        return;
    }
    if (t->local_queued) {
        stat_add(&ex->local_coalesced, 1);
        return;
    }
    t->local_queued = true;
    uint64_t p = ex->pass + (t->pass == (uint32_t)ex->pass || !ex->in_pass);
    l_append(&ex->ready[p & 1], &t->lnode);
}

/* t's entry on a ready list is no longer needed (t is being polled or has finished): the
 * wake it stood for is served by that poll. */
static void task_unlink_local(struct async_executor *ex, struct async_task *t)
{
    if (t->local_queued) {
        l_unlink(&t->lnode);
        t->local_queued = false;
        stat_add(&ex->local_coalesced, 1);
    }
}

/*
 * Two ops tables for one kind of waker. task_waker_ops is the ordinary waker: it holds a
 * reference and may be used anywhere. borrowed_waker_ops is what a poll gets in its context:
 * it holds no reference (the poll's own task cannot go away under it), and while its task's
 * poll runs - the only time it may be used - a wake is the executor waking its own task: it
 * is only counted in the task (in_poll), and once the poll returns PENDING the caller of
 * poll_task gives the task its next poll (requeue_self), so a task is queued once however
 * often it woke itself, and not at all if it returned READY. Both share clone, which always
 * makes an ordinary waker (a clone may be kept and woken from an interrupt handler); that
 * shared clone is also what makes async_waker_will_wake() treat the two as the same waker.
 */
static const struct async_waker_ops task_waker_ops;

static struct async_waker tw_clone(const struct async_waker *w)
{
    struct async_task *t = w->data;
    atomic_fetch_add_explicit(&t->rc, RC_REF, memory_order_relaxed);
    return (struct async_waker){.data = t, .ops = &task_waker_ops};
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

/* During its task's poll a wake only counts (poll_task requeues the task when the poll
 * returns): two loads and a store, all on the task's own header. A borrowed waker used
 * outside that poll (kept without cloning, against the rules) falls back to the shared
 * queue, which is safe from anywhere while the task exists. */
static void bw_wake_by_ref(const struct async_waker *w)
{
    struct async_task *t = w->data;
    unsigned v = atomic_load_explicit(&t->in_poll, memory_order_relaxed);
    if (v)
        atomic_store_explicit(&t->in_poll, v + (v != UINT_MAX), memory_order_relaxed);
    else
        task_wake(t, false);
}

/* Consuming a borrowed waker has no reference to give up. */
static void bw_wake(struct async_waker *w)
{
    bw_wake_by_ref(w);
}

static void bw_drop(struct async_waker *w)
{
    (void)w;
}

static const struct async_waker_ops borrowed_waker_ops = {
    .clone = tw_clone,
    .wake = bw_wake,
    .wake_by_ref = bw_wake_by_ref,
    .drop = bw_drop,
};

/* The task behind w if a wake of w may take the executor-only path of ex: w is a task waker
 * (either table) of a task of ex. NULL otherwise. */
static struct async_task *local_target(struct async_executor *ex, const struct async_waker *w)
{
    if (!ex || (w->ops != &task_waker_ops && w->ops != &borrowed_waker_ops))
        return NULL;
    struct async_task *t = w->data;
    return t->ex == ex ? t : NULL;
}

void async_waker_wake_by_ref_in(struct async_executor *ex, const struct async_waker *w)
{
    struct async_task *t = local_target(ex, w);
    if (t)
        task_wake_local(ex, t);
    else
        async_waker_wake_by_ref(w);
}

void async_waker_wake_in(struct async_executor *ex, struct async_waker *w)
{
    struct async_task *t = local_target(ex, w);
    if (!t) {
        async_waker_wake(w);
        return;
    }
    bool owned = w->ops == &task_waker_ops;
    *w = ASYNC_WAKER_NONE;
    task_wake_local(ex, t);
    if (owned)
        task_unref_local(t);
}

/* --- executor ---------------------------------------------------------------------------- */

enum async_status async_executor_init(struct async_executor *ex, const struct async_platform *plat)
{
    if (!ex || !plat || !plat->irq_save || !plat->irq_restore || !plat->idle || !plat->now ||
        !plat->alloc || !plat->free || plat->ticks_per_second == 0)
        return ASYNC_ERR_INVALID;
    __builtin_memset(ex, 0, sizeof(*ex));
    ex->plat = *plat;
    atomic_store_explicit(&ex->q_stub.next, NULL, memory_order_relaxed);
    atomic_store_explicit(&ex->q_head, &ex->q_stub, memory_order_relaxed);
    ex->q_tail = &ex->q_stub;
    ex->carry = NULL;
    l_init(&ex->ready[0]);
    l_init(&ex->ready[1]);
    ex->in_pass = false;
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

/* Live tasks: spawned (by anyone) minus finished (counted by the executor). Any context. */
static uint64_t live_tasks(const struct async_executor *ex)
{
    uint64_t done = stat_get(&ex->completed) + stat_get(&ex->cancelled);
    uint64_t spawned = atomic_load_explicit(&ex->spawned, memory_order_acquire);
    /* read from another CPU the two may be seen out of step: never report below zero */
    return spawned > done ? spawned - done : 0;
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
 * executor's live reference. The joiner may be a task of another executor registering right
 * now: the state store and the has_joiner load are sequentially consistent, as are its
 * has_joiner store and state load (join_poll), so either it sees the new state or this sees
 * it registering, and the waker cell orders the rest. */
static void task_finish(struct async_executor *ex, struct async_task *t, enum async_task_state how)
{
    atomic_store_explicit(&t->state, how, memory_order_seq_cst);
    task_unlink_local(ex, t); /* a wake during its last poll: nothing left to poll */
    list_unlink(ex, t);
    if (atomic_load_explicit(&t->has_joiner, memory_order_seq_cst))
        async_waker_cell_wake(&t->joiner);
    task_unref_local(t);
}

/* Poll a live task that came off either queue (or cancel it if asked). Returns true if the
 * poll returned PENDING after t woke itself through its borrowed waker: the caller then owes
 * t one more poll (requeue_self). */
static inline __attribute__((always_inline)) bool poll_task(struct async_executor *ex,
                                                            struct async_task *t)
{
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
        stat_add(&ex->cancelled, 1);
        task_finish(ex, t, ASYNC_TASK_CANCELLED);
        return false;
    }
    struct async_context cx = {
        .waker = {.data = t, .ops = &borrowed_waker_ops},
        .executor = ex,
        .task = t,
    };
    t->pass = (uint32_t)ex->pass;
    stat_add(&ex->polls, 1);
    atomic_store_explicit(&t->in_poll, 1, memory_order_relaxed);
    enum async_poll r = f->poll(f, &cx);
    unsigned self = atomic_load_explicit(&t->in_poll, memory_order_relaxed) - 1u;
    atomic_store_explicit(&t->in_poll, 0, memory_order_relaxed);
    bool again = false;
    if (self) {
        if (r == ASYNC_PENDING) {
            again = true; /* this wake is served by the poll the caller owes */
            self--;
        }
        stat_add(&ex->local_coalesced, self);
    }
    if (r == ASYNC_READY) {
        t->result = f->result;
        stat_add(&ex->completed, 1);
        task_finish(ex, t, ASYNC_TASK_COMPLETED);
    }
    return again;
}

/* True if a pass of run() that is about to end would be followed by one that polls only
 * the task that has just woken itself: nothing on either ready list or in the shared queue
 * (a relaxed look: a push it misses is seen after the next poll, as it would be by the
 * next pass), no timer that the next pass would have to check, and no stop request. */
static inline __attribute__((always_inline)) bool only_self_runnable(struct async_executor *ex)
{
    return l_empty(&ex->ready[0]) && l_empty(&ex->ready[1]) && !ex->carry && !ex->timers &&
           q_shared_empty(ex, memory_order_relaxed) &&
           !atomic_load_explicit(&ex->stop, memory_order_acquire);
}

/*
 * t woke itself during the poll that just returned PENDING: poll it once more in the next
 * pass. Under run() (chain), when that next pass would contain t alone, end this pass and
 * run the next one here, without linking t anywhere - the same polls in the same order, and
 * the loop leaves as soon as anything else becomes runnable, a timer is armed or a stop is
 * asked for. run_once (no chain) always ends its pass, so it never polls a task twice.
 */
static inline __attribute__((always_inline)) void requeue_self(struct async_executor *ex,
                                                               struct async_task *t, bool chain)
{
    if (chain) {
        while (only_self_runnable(ex)) {
            ex->pass++;
            stat_add(&ex->enqueues_seen, 1);
            if (!poll_task(ex, t))
                return;
        }
    }
    task_wake_local(ex, t);
}

/* Handle the oldest task of the shared queue. Returns false, leaving it queued, if it was
 * polled in this pass already (it is polled in the next one). */
static inline __attribute__((always_inline)) bool run_shared(struct async_executor *ex,
                                                             struct async_task *t, bool chain)
{
    if (t->reclaim) {
        q_drop_head(ex);
        task_free(t);
        return true;
    }
    bool running = atomic_load_explicit(&t->state, memory_order_acquire) == ASYNC_TASK_RUNNING;
    if (running && t->pass == (uint32_t)ex->pass)
        return false;
    q_drop_head(ex);
    if (t->spawn_pending)
        t->spawn_pending = false;
    else
        stat_add(&ex->enqueues_seen, 1); /* also a wake whose poll came first (run's chain) */
    /* Clear "queued" and drop the queue's reference at once. A running task keeps the live
     * reference, so this cannot free it. If the executor's references (live and queue) are
     * the only ones, nobody else can wake the task or take a reference, so there is no wake
     * to order against and a plain store does it. */
    uint_fast64_t old = atomic_load_explicit(&t->rc, memory_order_acquire);
    uint_fast64_t mine = running ? (RC_QUEUED | 2 * RC_REF) : (RC_QUEUED | RC_REF);
    if (old == mine)
        atomic_store_explicit(&t->rc, old - (RC_QUEUED | RC_REF), memory_order_relaxed);
    else
        old = atomic_fetch_sub_explicit(&t->rc, RC_QUEUED | RC_REF, memory_order_seq_cst);
    ASYNC_ASSERT((old & RC_QUEUED) && old >= (RC_QUEUED | RC_REF));
    if (!running) {
        if (old == (RC_QUEUED | RC_REF))
            task_free(t);
        return true;
    }
    task_unlink_local(ex, t); /* this poll serves a pending executor-side wake too */
    if (poll_task(ex, t))
        requeue_self(ex, t, chain);
    return true;
}

/* Handle the first task of the ready list. */
static inline __attribute__((always_inline)) void run_local(struct async_executor *ex,
                                                            struct async_task *t, bool chain)
{
    l_unlink(&t->lnode);
    t->local_queued = false;
    /* Also in the shared queue: that entry will poll it (and order the poll after the wakes
     * it stands for), so this one steps aside. */
    if (atomic_load_explicit(&t->rc, memory_order_relaxed) & RC_QUEUED) {
        stat_add(&ex->local_coalesced, 1);
        return;
    }
    stat_add(&ex->enqueues_seen, 1);
    if (poll_task(ex, t))
        requeue_self(ex, t, chain);
}

/* Wake every timer whose deadline is <= now, earliest first. The executor's own pass: a task
 * waker of ex goes on the ready list without atomics. */
static void fire_timers(struct async_executor *ex, uint64_t now)
{
    struct async_timer *t;

    while ((t = async_timers_pop_due(ex, now)) != NULL) {
        async_waker_wake_in(ex, &t->waker);
        stat_add(&ex->timers_fired, 1);
    }
}

/* One pass: due timers, then every task woken before or during it, each polled at most
 * once. The ready list of this pass always ends empty; the shared queue stops at the first
 * task polled in this pass already. With chain (run() only), a pass whose successor would
 * poll only the task that just woke itself runs that successor at once (requeue_self), so
 * one call may run several passes. Returns the number of polls. */
static inline __attribute__((always_inline)) size_t run_pass(struct async_executor *ex, bool chain)
{
    uint64_t polls_before = stat_get(&ex->polls);
    ex->pass++;
    ex->in_pass = true;
    if (ex->timers) /* the clock is read only when a timer could fire */
        fire_timers(ex, ex->plat.now(ex->plat.ctx));
    for (;;) {
        /* re-read each time: requeue_self may have moved on to later passes */
        struct async_lnode *ready = &ex->ready[ex->pass & 1];
        if (!l_empty(ready)) {
            run_local(ex, lnode_task(ready->next), chain);
            continue;
        }
        struct async_qnode *n = q_peek(ex);
        if (!n || !run_shared(ex, (struct async_task *)n, chain))
            break;
    }
    /* a task the shared queue deferred stays at its head for the next pass; the ready list
     * is empty here, since run_local never defers */
    ex->in_pass = false;
    return (size_t)(stat_get(&ex->polls) - polls_before);
}

size_t async_executor_run_once(struct async_executor *ex)
{
    return run_pass(ex, false);
}

/* run (until_stop false) and run_until_stop. */
static enum async_status run_loop(struct async_executor *ex, bool until_stop)
{
    for (;;) {
        if (atomic_load_explicit(&ex->stop, memory_order_acquire))
            break;
        run_pass(ex, true);
        if (!q_empty(ex))
            continue;
        if (!until_stop && live_tasks(ex) == 0)
            break;
        /* The lost-wakeup guard: with interrupts masked, nothing can queue a task (on this
         * CPU) between the re-check below and the idle hook's atomic unmask-and-wait. */
        unsigned long flags = ex->plat.irq_save(ex->plat.ctx);
        uint64_t deadline = async_timers_next(ex);
        if (q_empty(ex) && !atomic_load_explicit(&ex->stop, memory_order_acquire) &&
            deadline > ex->plat.now(ex->plat.ctx)) {
            stat_add(&ex->idles, 1);
            ex->plat.idle(ex->plat.ctx, deadline);
        }
        ex->plat.irq_restore(ex->plat.ctx, flags);
    }
    return ASYNC_OK;
}

enum async_status async_executor_run(struct async_executor *ex)
{
    return run_loop(ex, false);
}

enum async_status async_executor_run_until_stop(struct async_executor *ex)
{
    return run_loop(ex, true);
}

bool async_executor_has_work(struct async_executor *ex)
{
    atomic_thread_fence(memory_order_seq_cst);
    return !q_empty(ex) || atomic_load_explicit(&ex->stop, memory_order_seq_cst);
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
    uint64_t coalesced = atomic_load_explicit(&ex->wakes_coalesced, memory_order_relaxed) +
                         stat_get(&ex->local_coalesced);
    uint64_t after = atomic_load_explicit(&ex->wakes_after_done, memory_order_relaxed);
    out->spawned = atomic_load_explicit(&ex->spawned, memory_order_relaxed);
    out->completed = stat_get(&ex->completed);
    out->cancelled = stat_get(&ex->cancelled);
    out->live = live_tasks(ex);
    out->polls = stat_get(&ex->polls);
    out->wakes = stat_get(&ex->enqueues_seen) + coalesced + after;
    out->wakes_coalesced = coalesced;
    out->wakes_after_done = after;
    out->timers_fired = stat_get(&ex->timers_fired);
    out->idles = stat_get(&ex->idles);
    out->tasks_allocated = out->spawned - atomic_load_explicit(&ex->freed, memory_order_relaxed);
}

size_t async_executor_for_each_task(const struct async_executor *ex,
                                    bool (*fn)(void *ctx, const struct async_task *t), void *ctx)
{
    size_t n = 0;
    for (const struct async_task *t = ex->tasks; t; t = t->next) {
        n++;
        if (!fn(ctx, t))
            break;
    }
    return n;
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
        /* against task_finish, which may run on another CPU (see there) */
        atomic_store_explicit(&t->has_joiner, true, memory_order_seq_cst);
        async_waker_cell_register(&t->joiner, &cx->waker);
        if (atomic_load_explicit(&t->state, memory_order_seq_cst) == ASYNC_TASK_RUNNING)
            return ASYNC_PENDING;
        st = async_task_try_join(t, &f->result);
    }
    /* A waker registered after completion would hold this task forever: drop it. */
    if (atomic_load_explicit(&t->has_joiner, memory_order_relaxed))
        async_waker_cell_clear(&t->joiner);
    j->status = st;
    if (st != ASYNC_OK)
        f->result = 0;
    return ASYNC_READY;
}

static void join_drop(struct async_future *f)
{
    struct async_join *j = (struct async_join *)f;
    if (j->task && atomic_load_explicit(&j->task->has_joiner, memory_order_relaxed))
        async_waker_cell_clear(&j->task->joiner);
}

void async_join_init(struct async_join *j, struct async_task *t)
{
    async_future_init(&j->base, join_poll, join_drop);
    j->task = t;
    j->status = ASYNC_ERR_PENDING;
}
