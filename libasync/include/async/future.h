/*
 * async/future.h - the core vocabulary: futures, wakers, contexts, and a waker cell.
 *
 * A future is a struct whose first member is `struct async_future`. The executor (or an
 * enclosing future) calls its poll function; poll either finishes (ASYNC_READY, with the
 * result in base.result) or returns ASYNC_PENDING after arranging for the waker in the
 * context to be woken when polling again could make progress. A future that returns PENDING
 * without arranging a wake is never polled again: that is the one rule of the whole library.
 *
 * Futures are plain memory: they are initialised by an *_init function, polled until READY,
 * and if abandoned before READY (cancellation, the losing branch of a select) they are
 * dropped with async_future_drop(), which releases whatever they registered (a timer, a
 * waiter in a channel, a stored waker). Every future of this library tolerates drop in any
 * state after init, including after READY and twice.
 */
#ifndef ASYNC_FUTURE_H
#define ASYNC_FUTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "async/platform.h"

enum async_poll { ASYNC_PENDING = 0, ASYNC_READY = 1 };

struct async_waker;
struct async_context;
struct async_future;
struct async_executor;
struct async_task;

/*
 * What a waker does. data is the waker's own (for task wakers: the task). Every operation
 * may be called from any context, interrupt handlers included, so implementations must not
 * take locks an interrupted context could hold nor allocate.
 *   clone        a second, independent waker for the same target
 *   wake         wake the target and consume (drop) this waker
 *   wake_by_ref  wake the target, keep this waker
 *   drop         release this waker without waking
 * One kind of waker may come with several tables (the executor's task waker has a cheap
 * borrowed variant for the context of a poll and an owning one): tables that share the same
 * clone function, with the same data, are the same waker to async_waker_will_wake(), so clone
 * must turn any of them into the same owning waker.
 */
struct async_waker_ops {
    struct async_waker (*clone)(const struct async_waker *w);
    void (*wake)(struct async_waker *w);
    void (*wake_by_ref)(const struct async_waker *w);
    void (*drop)(struct async_waker *w);
};

/* ops == NULL is the empty waker: every operation on it is a no-op. */
struct async_waker {
    void *data;
    const struct async_waker_ops *ops;
};

#define ASYNC_WAKER_NONE ((struct async_waker){0, 0})

/* What poll receives. waker is borrowed for the duration of the poll: use it only from the
 * code the poll runs (not from interrupt handlers or other threads, which it may not be
 * handed), and clone it to keep it or to give it to anyone else - the clone is an ordinary
 * waker usable from any context. executor and task are those running the poll (for timers, for
 * async_current_task, and so that wakes among tasks of that executor can skip atomics). */
struct async_context {
    struct async_waker waker;
    struct async_executor *executor;
    struct async_task *task;
};

typedef enum async_poll (*async_poll_fn)(struct async_future *self, struct async_context *cx);
typedef void (*async_drop_fn)(struct async_future *self);

/* The header every future starts with. drop may be NULL (nothing to release). result is
 * the future's output, meaningful once poll returned READY; a task's result is the result of
 * its top-level future. */
struct async_future {
    async_poll_fn poll;
    async_drop_fn drop;
    intptr_t result;
};

/* Fill in the header. Any context. */
static inline void async_future_init(struct async_future *f, async_poll_fn poll, async_drop_fn drop)
{
    f->poll = poll;
    f->drop = drop;
    f->result = 0;
}

/* Poll f once. Precondition: f was initialised; cx comes from the caller's own poll. */
static inline enum async_poll async_future_poll(struct async_future *f, struct async_context *cx)
{
    return f->poll(f, cx);
}

/* Abandon f: release what it registered. Safe on any initialised future of this library in
 * any state. Called in executor context (where f is polled). */
static inline void async_future_drop(struct async_future *f)
{
    if (f->drop)
        f->drop(f);
}

/* Waker helpers; all are no-ops on the empty waker and callable from any context. */
static inline struct async_waker async_waker_clone(const struct async_waker *w)
{
    return w->ops ? w->ops->clone(w) : ASYNC_WAKER_NONE;
}

/* Wake and consume: *w becomes the empty waker. */
static inline void async_waker_wake(struct async_waker *w)
{
    if (w->ops) {
        struct async_waker tmp = *w;
        *w = ASYNC_WAKER_NONE;
        tmp.ops->wake(&tmp);
    }
}

static inline void async_waker_wake_by_ref(const struct async_waker *w)
{
    if (w->ops)
        w->ops->wake_by_ref(w);
}

/* Release without waking: *w becomes the empty waker. */
static inline void async_waker_drop(struct async_waker *w)
{
    if (w->ops) {
        struct async_waker tmp = *w;
        *w = ASYNC_WAKER_NONE;
        tmp.ops->drop(&tmp);
    }
}

/* True if a and b wake the same target, so storing b in place of a can be skipped: same data
 * and the same table, or two tables of one waker kind (they share clone). */
static inline bool async_waker_will_wake(const struct async_waker *a, const struct async_waker *b)
{
    if (a->data != b->data)
        return false;
    return a->ops == b->ops || (a->ops && b->ops && a->ops->clone == b->ops->clone);
}

/* Store a clone of `from` in *slot unless *slot already wakes the same target (the common
 * case of a future polled again by the same task). Not for slots shared with other
 * contexts: use struct async_waker_cell for those. */
static inline void async_waker_set(struct async_waker *slot, const struct async_waker *from)
{
    if (!async_waker_will_wake(slot, from)) {
        async_waker_drop(slot);
        *slot = async_waker_clone(from);
    }
}

/*
 * A waker cell: one stored waker that a consumer registers (executor context) and a producer
 * wakes from any context, interrupt handlers and other CPUs included, lock-free. A wake that
 * lands while the consumer is registering is not lost: register notices it and wakes the new
 * waker itself. The consumer must register *before* checking its condition, and the producer
 * must make its condition true *before* waking.
 */
struct async_waker_cell {
    atomic_uint state;
    struct async_waker waker;
};

/* Empty cell. Any context (no one may use the cell concurrently). */
void async_waker_cell_init(struct async_waker_cell *c);

/* Store a clone of w (replacing the previous one). One registrant at a time; executor
 * context. */
void async_waker_cell_register(struct async_waker_cell *c, const struct async_waker *w);

/* Wake the stored waker, if any, and empty the cell. Idempotent until the next register.
 * Any context, interrupt handlers included. */
void async_waker_cell_wake(struct async_waker_cell *c);

/* Drop the stored waker without waking. Registrant's context. A wake racing with it (from
 * another CPU) either finds the cell being cleared and does nothing, or has taken the
 * waker already and wakes it: the waker is released once either way. */
void async_waker_cell_clear(struct async_waker_cell *c);

#endif /* ASYNC_FUTURE_H */
